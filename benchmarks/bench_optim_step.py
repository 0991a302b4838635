"""Optimizer step time on the parameters of the MNIST autoencoder: 784-1000-500-250-30 and mirror.

Compares inertia's NAG and CM (fused, foreach and single-tensor kernels; constant μ and the
eq. (3) schedule) with the fastest peers: ``torch.optim.SGD(momentum=0.9, nesterov=...)`` with
``fused=True`` (one pass per tensor, CPU and CUDA), its foreach and single-tensor paths, and
heavyball's ``SGD`` (heavy-ball momentum, multi-tensor) when heavyball is installed. Each
candidate has its own parameters, velocities and gradients. Every timed step first hands the
parameters their gradient tensors (heavyball sets ``p.grad`` to None after each step, so without
this its later steps would do nothing), the same 16 attribute writes for every candidate; the
gradients' values are restored before every round (untimed), since torch's nesterov foreach path
adds its buffer into them.

Targets (issue 19): NAG fused / SGD nesterov fused <= 1.0 and CM fused / SGD momentum fused
<= 1.0 (median of per-round ratios, with constant μ and with the schedule).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from benchmarks._harness import (
    interleaved_timings,
    print_table,
    ratio_spread,
    summarize,
    write_result,
)
from inertia.optim import CM, NAG
from inertia.schedules import SutskeverMomentum

MNIST_AUTOENCODER = (784, 1000, 500, 250, 30, 250, 500, 1000, 784)
TARGET_RATIO = 1.0
Factory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]


def autoencoder_parameters(device: torch.device) -> list[nn.Parameter]:
    layers = [
        nn.Linear(fan_in, fan_out, device=device)
        for fan_in, fan_out in itertools.pairwise(MNIST_AUTOENCODER)
    ]
    return [p for layer in layers for p in layer.parameters()]


def fresh_gradients(params: list[nn.Parameter]) -> list[torch.Tensor]:
    generator = torch.Generator(device=params[0].device).manual_seed(0)
    return [torch.randn(p.shape, device=p.device, generator=generator) * 1e-3 for p in params]


def factories() -> dict[str, Factory]:
    schedule = SutskeverMomentum(0.99)

    def sgd(**kwargs: object) -> Factory:
        return lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, **kwargs)  # type: ignore[arg-type]

    candidates: dict[str, Factory] = {
        "torch SGD nesterov fused": sgd(nesterov=True, fused=True),
        "torch SGD nesterov foreach": sgd(nesterov=True, foreach=True),
        "torch SGD nesterov single-tensor": sgd(nesterov=True, foreach=False),
        "torch SGD momentum fused": sgd(fused=True),
        "torch SGD momentum foreach": sgd(foreach=True),
        "inertia NAG fused": lambda p: NAG(p, lr=1e-3, momentum=0.9, fused=True),
        "inertia NAG fused, schedule": lambda p: NAG(p, lr=1e-3, momentum=schedule, fused=True),
        "inertia NAG foreach": lambda p: NAG(p, lr=1e-3, momentum=0.9, foreach=True),
        "inertia NAG single-tensor": lambda p: NAG(p, lr=1e-3, momentum=0.9, fused=False),
        "inertia CM fused": lambda p: CM(p, lr=1e-3, momentum=0.9, fused=True),
        "inertia CM fused, schedule": lambda p: CM(p, lr=1e-3, momentum=schedule, fused=True),
        "inertia CM foreach": lambda p: CM(p, lr=1e-3, momentum=0.9, foreach=True),
    }
    try:
        import heavyball
    except ImportError:
        print("heavyball is not installed (pip install heavyball): its row is left out")
    else:
        candidates["heavyball SGD (heavy-ball momentum)"] = lambda p: heavyball.SGD(
            p, lr=1e-3, beta=0.9
        )
    return candidates


RATIOS = {
    "NAG fused / SGD nesterov fused": ("inertia NAG fused", "torch SGD nesterov fused"),
    "NAG fused schedule / SGD nesterov fused": (
        "inertia NAG fused, schedule",
        "torch SGD nesterov fused",
    ),
    "CM fused / SGD momentum fused": ("inertia CM fused", "torch SGD momentum fused"),
    "CM fused schedule / SGD momentum fused": (
        "inertia CM fused, schedule",
        "torch SGD momentum fused",
    ),
    "NAG foreach / SGD nesterov foreach": ("inertia NAG foreach", "torch SGD nesterov foreach"),
    "NAG single / SGD nesterov single": (
        "inertia NAG single-tensor",
        "torch SGD nesterov single-tensor",
    ),
    "heavyball SGD / SGD momentum fused": (
        "heavyball SGD (heavy-ball momentum)",
        "torch SGD momentum fused",
    ),
}
HEADLINES = (
    "NAG fused / SGD nesterov fused",
    "NAG fused schedule / SGD nesterov fused",
    "CM fused / SGD momentum fused",
    "CM fused schedule / SGD momentum fused",
)


SIZES = (2**12, 2**14, 2**16, 2**18, 2**20, 2**22)


def _restore_gradient(param: nn.Parameter, gradient: torch.Tensor) -> Callable[[], None]:
    """Put ``gradient`` back into ``param.grad`` before a timed step (a step may change it)."""

    def restore() -> None:
        assert param.grad is not None
        param.grad.copy_(gradient)

    return restore


def size_sweep(device: torch.device, rounds: int, steps: int, sync: Callable[[], None]) -> dict:
    """NAG's kernels on one parameter of each size (the default's threshold): per-step time of
    the fused and the foreach kernels against the single-tensor loop, compilation excluded."""
    table: dict[str, dict[str, Any]] = {}
    for size in SIZES:
        steps_by_kernel: dict[str, Callable[[], None]] = {}
        setup: dict[str, Callable[[], None]] = {}
        for kernel, flags in (("single-tensor", {"fused": False}), ("foreach", {"foreach": True}),
                              ("fused", {"fused": True})):  # fmt: skip
            param = nn.Parameter(torch.zeros(size, device=device))
            gradient = torch.randn(size, device=device) * 1e-3
            param.grad = gradient.clone()
            steps_by_kernel[kernel] = NAG([param], lr=1e-3, momentum=0.9, **flags).step
            setup[kernel] = _restore_gradient(param, gradient)
        samples = interleaved_timings(steps_by_kernel, rounds, steps, sync, setup=setup)
        table[str(size)] = {
            kernel: ratio_spread(samples[kernel], samples["single-tensor"])
            for kernel in ("foreach", "fused")
        }
        table[str(size)]["single_tensor_median_s"] = summarize(samples["single-tensor"])["median_s"]
    return table


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per timed round")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--sizes", action="store_true", help="also time one tensor per size")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    steps: dict[str, Callable[[], None]] = {}
    setup: dict[str, Callable[[], None]] = {}
    for name, factory in factories().items():
        params = autoencoder_parameters(device)
        gradients = fresh_gradients(params)

        current = [g.clone() for g in gradients]

        def rewrite(current: list = current, grads: list = gradients) -> None:
            for c, g in zip(current, grads):
                c.copy_(g)  # torch's nesterov foreach path adds its buffer into the gradients

        optimizer = factory(params)

        def step(
            optimizer: torch.optim.Optimizer = optimizer,
            params: list[nn.Parameter] = params,
            current: list = current,
        ) -> None:
            for p, g in zip(params, current):  # heavyball sets p.grad to None after its step
                p.grad = g
            optimizer.step()

        steps[name] = step
        setup[name] = rewrite
    samples = interleaved_timings(steps, args.rounds, args.steps, synchronize, setup=setup)
    stats = {name: summarize(values) for name, values in samples.items()}
    n_params = sum(p.numel() for p in autoencoder_parameters(device))
    ratios = {
        label: ratio_spread(samples[a], samples[b])
        for label, (a, b) in RATIOS.items()
        if a in samples and b in samples
    }
    rows = [
        (name, f"{s['median_s'] * 1e3:.3f}", f"{s['min_s'] * 1e3:.3f}", f"{s['max_s'] * 1e3:.3f}")
        for name, s in stats.items()
    ]
    print(f"optimizer step, MNIST autoencoder parameters ({n_params:,} in 16 tensors), {device}")
    print_table(("optimizer", "median ms/step", "min", "max"), rows)
    print()
    print_table(
        ("per-round time ratio", "median", "min", "max"),
        [
            (k, f"{v['median']:.3f}", f"{v['min']:.3f}", f"{v['max']:.3f}")
            for k, v in ratios.items()
        ],
    )
    for label in HEADLINES:
        value = ratios[label]["median"]
        verdict = "meets" if value <= TARGET_RATIO else "MISSES"
        print(f"{label} = {value:.3f}: {verdict} the target <= {TARGET_RATIO}")
    sizes = {}
    if args.sizes:
        sizes = size_sweep(device, args.rounds // 2, args.steps, synchronize)
        print()
        print_table(
            ("elements", "single-tensor us/step", "foreach / single", "fused / single"),
            [(size, f"{row['single_tensor_median_s'] * 1e6:.1f}", f"{row['foreach']['median']:.3f}",
              f"{row['fused']['median']:.3f}") for size, row in sizes.items()],
        )  # fmt: skip
    payload = {
        "benchmark": "optim_step",
        "sizes": sizes,
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
