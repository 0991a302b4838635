"""Autoencoder training throughput vs the FLOP bound (issues 4 and 19).

For each autoencoder of Sutskever et al. Table 6, measures updates/s of a NAG step at batch 200
(forward, backward, optimizer) and compares it with the FLOP-bound estimate
``matmul_rate / (6 x parameters x batch)``, where ``matmul_rate`` is the FLOP/s this machine
reaches on a large float32 matrix product, measured in the same interleaved rounds as the
networks (a rate measured once, apart, can catch the machine in another state). The fraction of
the bound is taken per round (network and matmul timed in that round) and reported as the median
with min and max over rounds. On a CUDA device each network is also timed with its forward and
backward passes replayed as CUDA graphs (the trainer's ``cuda_graphs`` option).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import torch

from benchmarks._harness import interleaved_timings, print_table, write_result
from inertia.optim import NAG
from inertia.tasks import ARCHITECTURES, autoencoder

BATCH = 200
MATMUL = "matmul 2048x2048"
MATMUL_SIZE = 2048


def matmul_call(device: torch.device) -> Callable[[], object]:
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device)
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device)
    return lambda: a @ b


def training_step(
    name: str, device: torch.device, cuda_graphs: bool
) -> tuple[Callable[[], None], int]:
    model = autoencoder(ARCHITECTURES[name]).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = NAG(model.parameters(), lr=1e-3, momentum=0.9)
    data = torch.rand(BATCH, ARCHITECTURES[name][0], device=device)
    if cuda_graphs:
        torch.cuda.make_graphed_callables(model, (data.clone(),))
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(data), data, reduction="sum").backward()
        optimizer.step()

    return step, parameters


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10, help="updates per timed round")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    functions: dict[str, Callable[[], object]] = {MATMUL: matmul_call(device)}
    parameters: dict[str, int] = {}
    modes = (False, True) if device.type == "cuda" else (False,)
    for name in ARCHITECTURES:
        for cuda_graphs in modes:
            label = f"{name} (CUDA graphs)" if cuda_graphs else name
            functions[label], parameters[label] = training_step(name, device, cuda_graphs)
    samples = interleaved_timings(functions, args.rounds, args.steps, sync)
    matmul_rates = [2 * MATMUL_SIZE**3 / seconds for seconds in samples[MATMUL]]
    rate = statistics.median(matmul_rates)
    rows, cases = [], {}
    for label, count in parameters.items():
        flops = 6 * count * BATCH
        fractions = sorted(flops / seconds / matmul for seconds, matmul
                           in zip(samples[label], matmul_rates, strict=True))  # fmt: skip
        measured = 1 / statistics.median(samples[label])
        cases[label] = {
            "parameters": count,
            "updates_per_s": measured,
            "flop_bound_updates_per_s": rate / flops,
            "fraction_of_bound": statistics.median(fractions),
            "fraction_min": fractions[0],
            "fraction_max": fractions[-1],
        }
        rows.append((label, f"{count:,}", f"{measured:.1f}", f"{rate / flops:.1f}",
                     f"{statistics.median(fractions):.2f}",
                     f"{fractions[0]:.2f}-{fractions[-1]:.2f}"))  # fmt: skip
    spread = f"{min(matmul_rates) / 1e9:.0f}-{max(matmul_rates) / 1e9:.0f}"
    print(f"NAG training step, batch {BATCH}, {device}; matmul rate {rate / 1e9:.0f} GFLOP/s "
          f"(median over rounds; {spread})")  # fmt: skip
    print_table(("autoencoder", "parameters", "updates/s", "FLOP-bound updates/s",
                 "fraction (median)", "min-max"), rows)  # fmt: skip
    payload = {
        "benchmark": "autoencoders",
        "matmul_flops_per_s": rate,
        "matmul_flops_per_s_min": min(matmul_rates),
        "matmul_flops_per_s_max": max(matmul_rates),
        "batch": BATCH,
        "rounds": args.rounds,
        "cases": cases,
    }
    path = write_result(f"autoencoders_{device.type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
