"""Optimizer step time on the parameters of the MNIST autoencoder: 784-1000-500-250-30 and mirror.

Compares inertia's NAG and CM with ``torch.optim.SGD(momentum=0.9, nesterov=...)``, each with and
without the multi-tensor (foreach) kernels. Target (issue 2): NAG(foreach) / SGD-nesterov(foreach)
step time <= 1.10.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable

import torch
from torch import nn

from benchmarks._harness import (
    interleaved_timings,
    paired_ratio,
    print_table,
    summarize,
    write_result,
)
from inertia.optim import CM, NAG
from inertia.schedules import SutskeverMomentum

MNIST_AUTOENCODER = (784, 1000, 500, 250, 30, 250, 500, 1000, 784)
TARGET_RATIO = 1.10


def autoencoder_parameters(device: torch.device) -> list[nn.Parameter]:
    layers = [
        nn.Linear(fan_in, fan_out, device=device)
        for fan_in, fan_out in itertools.pairwise(MNIST_AUTOENCODER)
    ]
    params = [p for layer in layers for p in layer.parameters()]
    generator = torch.Generator(device=device).manual_seed(0)
    for p in params:
        p.grad = torch.randn(p.shape, device=device, generator=generator) * 1e-3
    return params


def make_candidates(device: torch.device) -> dict[str, Callable[[], None]]:
    factories: dict[str, Callable[[list[nn.Parameter]], torch.optim.Optimizer]] = {
        "torch SGD nesterov foreach": lambda p: torch.optim.SGD(
            p, lr=1e-3, momentum=0.9, nesterov=True, foreach=True
        ),
        "inertia NAG foreach": lambda p: NAG(p, lr=1e-3, momentum=0.9, foreach=True),
        "inertia NAG foreach, schedule": lambda p: NAG(
            p, lr=1e-3, momentum=SutskeverMomentum(0.99), foreach=True
        ),
        "torch SGD momentum foreach": lambda p: torch.optim.SGD(
            p, lr=1e-3, momentum=0.9, foreach=True
        ),
        "inertia CM foreach": lambda p: CM(p, lr=1e-3, momentum=0.9, foreach=True),
        "torch SGD nesterov single-tensor": lambda p: torch.optim.SGD(
            p, lr=1e-3, momentum=0.9, nesterov=True, foreach=False
        ),
        "inertia NAG single-tensor": lambda p: NAG(p, lr=1e-3, momentum=0.9, foreach=False),
    }
    return {
        name: factory(autoencoder_parameters(device)).step for name, factory in factories.items()
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per timed round")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    candidates = make_candidates(device)
    samples = interleaved_timings(candidates, args.rounds, args.steps, synchronize)
    stats = {name: summarize(values) for name, values in samples.items()}
    n_params = sum(p.numel() for p in autoencoder_parameters(device))

    def ratio(a: str, b: str) -> float:
        return paired_ratio(samples[a], samples[b])

    ratios = {
        "NAG foreach / SGD nesterov foreach": ratio(
            "inertia NAG foreach", "torch SGD nesterov foreach"
        ),
        "NAG foreach schedule / SGD nesterov foreach": ratio(
            "inertia NAG foreach, schedule", "torch SGD nesterov foreach"
        ),
        "CM foreach / SGD momentum foreach": ratio(
            "inertia CM foreach", "torch SGD momentum foreach"
        ),
        "NAG single / SGD nesterov single": ratio(
            "inertia NAG single-tensor", "torch SGD nesterov single-tensor"
        ),
    }
    rows = [
        (name, f"{s['median_s'] * 1e3:.3f}", f"{s['p10_s'] * 1e3:.3f}", f"{s['p90_s'] * 1e3:.3f}")
        for name, s in stats.items()
    ]
    print(f"optimizer step, MNIST autoencoder parameters ({n_params:,} in 16 tensors), {device}")
    print_table(("optimizer", "median ms/step", "p10", "p90"), rows)
    print()
    print_table(
        ("median of per-round ratios", "value"), [(k, f"{v:.3f}") for k, v in ratios.items()]
    )
    headline = ratios["NAG foreach / SGD nesterov foreach"]
    verdict = "meets" if headline <= TARGET_RATIO else "MISSES"
    print(f"\nNAG/SGD-nesterov (foreach) = {headline:.3f}: {verdict} the target <= {TARGET_RATIO}")
    payload = {
        "benchmark": "optim_step",
        "parameters": n_params,
        "device": str(device),
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "stats": stats,
        "ratios": ratios,
        "target_ratio": TARGET_RATIO,
    }
    path = write_result(f"optim_step_{device.type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
