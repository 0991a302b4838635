"""Autoencoder training throughput vs the FLOP bound (issue 4).

For each autoencoder of Sutskever et al. Table 6, measures updates/s of a NAG step at batch 200
(forward, backward, optimizer) and compares it with the FLOP-bound estimate
``matmul_rate / (6 x parameters x batch)``, where ``matmul_rate`` is the FLOP/s this machine
reaches on a large float32 matrix product (measured here, not a datasheet number). On a CUDA
device each network is also timed with its forward and backward passes replayed as CUDA graphs
(the trainer's ``cuda_graphs`` option).
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks._harness import print_table, write_result
from inertia.optim import NAG
from inertia.tasks._autoencoder import ARCHITECTURES, autoencoder

BATCH = 200


def matmul_flops_per_s(device: torch.device, size: int = 2048, repeats: int = 20) -> float:
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    for _ in range(3):
        a @ b
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def updates_per_s(
    name: str, device: torch.device, steps: int, cuda_graphs: bool = False
) -> tuple[float, int]:
    model = autoencoder(ARCHITECTURES[name]).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = NAG(model.parameters(), lr=1e-3, momentum=0.9)
    data = torch.rand(BATCH, ARCHITECTURES[name][0], device=device)
    if cuda_graphs:
        torch.cuda.make_graphed_callables(model, (data.clone(),))
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(data), data, reduction="sum").backward()
        optimizer.step()

    for _ in range(5):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return steps / (time.perf_counter() - start), parameters


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    rate = matmul_flops_per_s(device)
    rows, cases = [], {}
    modes = (False, True) if device.type == "cuda" else (False,)
    for name in ARCHITECTURES:
        for cuda_graphs in modes:
            measured, parameters = updates_per_s(name, device, args.steps, cuda_graphs)
            bound = rate / (6 * parameters * BATCH)
            label = f"{name} (CUDA graphs)" if cuda_graphs else name
            cases[label] = {
                "parameters": parameters,
                "updates_per_s": measured,
                "flop_bound_updates_per_s": bound,
                "fraction_of_bound": measured / bound,
            }
            rows.append(
                (label, f"{parameters:,}", f"{measured:.1f}", f"{bound:.1f}",
                 f"{measured / bound:.2f}")
            )  # fmt: skip
    matmul = f"{rate / 1e9:.0f} GFLOP/s"
    print(f"NAG training step, batch {BATCH}, {device}; measured matmul rate {matmul}")
    print_table(
        ("autoencoder", "parameters", "updates/s", "FLOP-bound updates/s", "fraction"), rows
    )
    payload = {
        "benchmark": "autoencoders",
        "matmul_flops_per_s": rate,
        "batch": BATCH,
        "cases": cases,
    }
    path = write_result(f"autoencoders_{device.type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
