"""RNN training throughput on the addition problem (issue 7).

One update = draw-free forward, backward and optimizer step on a fixed batch of 100 addition
sequences of length T (80 and 200), 100 hidden units. Reference: ``nn.RNN`` + ``nn.Linear`` +
``torch.optim.SGD(momentum=0.9, nesterov=True)``, what a user would write. Ours:
:class:`inertia.nn.RecurrentNetwork` with :class:`inertia.optim.NAG` for each cell. Candidates are
timed interleaved; ratios are medians of per-round ratios. Target: the custom cells (``relu``,
``leaky-tanh``, ``leaky-relu``: hand-written BPTT) at most 0.9x the time per update of the
reference.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from torch import nn

from benchmarks._harness import (
    interleaved_timings,
    print_table,
    ratio_spread,
    summarize,
    write_result,
)
from inertia.data import LONG_TERM_PROBLEMS
from inertia.nn import CELLS, RecurrentNetwork
from inertia.optim import NAG

TARGET = 0.9
BATCH, HIDDEN = 100, 100


class _Reference(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(2, HIDDEN, nonlinearity="tanh", batch_first=True)
        self.output = nn.Linear(HIDDEN, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.rnn(inputs)
        return self.output(hidden[:, -1])


def _update(
    model: nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor, targets: torch.Tensor
) -> Callable[[], None]:
    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        ((model(inputs) - targets) ** 2).mean().backward()
        optimizer.step()

    return step


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument(
        "--keep-denormals", action="store_true",
        help="do not flush denormal floats to zero (the default flushes them for every "
        "candidate: on the fixed batch, repeated, states and gradients drift into the "
        "denormal range and the times then measure denormal arithmetic, e.g. nn.RNN at "
        "T = 200 fell from 22 to 9 updates/s)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormals)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    problem = LONG_TERM_PROBLEMS["addition"]
    payload: dict = {"benchmark": "rnn", "batch": BATCH, "hidden": HIDDEN, "lengths": {}}
    rows = []
    for length in (80, 200):
        batch = problem.sample(BATCH, length, torch.Generator().manual_seed(0))
        inputs, targets = batch.inputs.to(device), batch.targets[:, :1].to(device)  # the values
        torch.manual_seed(0)
        reference = _Reference().to(device)
        candidates = {
            "nn.RNN + torch SGD": _update(
                reference,
                torch.optim.SGD(reference.parameters(), lr=1e-4, momentum=0.9, nesterov=True),
                inputs,
                targets,
            )
        }
        for cell in CELLS:
            model = RecurrentNetwork(2, HIDDEN, 1, cell=cell).to(device)
            optimizer = NAG(model.parameters(), lr=1e-4, momentum=0.9)
            candidates[f"ours {cell} + NAG"] = _update(model, optimizer, inputs, targets)
        samples = interleaved_timings(candidates, args.rounds, args.calls, sync)
        base = samples["nn.RNN + torch SGD"]
        results = {}
        for name, timings in samples.items():
            spread = ratio_spread(timings, base)
            results[name] = {**summarize(timings), "ratio_to_reference": spread["median"],
                             "ratio_min": spread["min"], "ratio_max": spread["max"]}  # fmt: skip
            median = results[name]["median_s"]
            rows.append((f"T={length}", name, f"{1 / median:.1f}", f"{spread['median']:.3f}",
                         f"{spread['min']:.3f}-{spread['max']:.3f}"))  # fmt: skip
        payload["lengths"][str(length)] = results
    print(f"RNN update (batch {BATCH}, {HIDDEN} units, addition problem), {device}")
    print_table(("length", "candidate", "updates/s", "time / reference", "min-max"), rows)
    custom = [
        payload["lengths"][str(length)][f"ours {cell} + NAG"]["ratio_to_reference"]
        for length in (80, 200)
        for cell in ("relu", "leaky-tanh", "leaky-relu")
    ]
    payload["target_custom_cells_max_ratio"] = TARGET
    payload["custom_cells_worst_ratio"] = max(custom)
    print(f"custom cells, worst time ratio {max(custom):.3f} (target <= {TARGET})")
    path = write_result(f"rnn_{device.type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
