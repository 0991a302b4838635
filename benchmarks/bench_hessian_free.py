"""Cost of Hessian-free on the MNIST autoencoder (issue 5).

Measures, on one curvature batch of the MNIST autoencoder (784-1000-500-250-30, mirrored):

- one gradient (forward + backward of the cross-entropy objective), the reference;
- one Gauss-Newton product G v with the operator already set up (the R-operator product J v and
  the product Jᵀ(H_L J v)); target: at most 2.5x one gradient;
- setting up the operator (the graph of u ↦ Jᵀu, once per HF update);
- the wall time of whole HF updates with the settings of the ``table1`` HF columns.

Gradient and G v are timed interleaved; the ratio is the median of per-round ratios. The data
are random images (timing does not depend on pixel values).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch

from benchmarks._harness import (
    interleaved_timings,
    paired_ratio,
    print_table,
    summarize,
    write_result,
)
from inertia.init import sparse_init_
from inertia.optim import HessianFree, output_loss
from inertia.tasks import ARCHITECTURES, autoencoder

TARGET = 2.5


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=1000, help="curvature batch")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--updates", type=int, default=3, help="HF updates timed")
    parser.add_argument("--cg-iterations", type=int, default=50)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    generator = torch.Generator().manual_seed(0)
    model = sparse_init_(autoencoder(ARCHITECTURES["mnist"]), generator=generator).to(device)
    params = list(model.parameters())
    inputs = torch.rand(args.batch, 784, generator=generator).to(device)
    kind = "logistic-cross-entropy"
    optimizer = HessianFree(params, loss=kind, preconditioner="none")

    def gradient() -> None:
        loss = output_loss(kind, model(inputs), inputs)
        torch.autograd.grad(loss, params)

    operator = optimizer.gauss_newton_operator((model(inputs), inputs))
    vector = torch.randn(sum(p.numel() for p in params), generator=generator).to(device)

    def product() -> None:
        operator(vector)

    def setup() -> None:
        optimizer.gauss_newton_operator((model(inputs), inputs))

    candidates: dict[str, Callable[[], None]] = {
        "gradient": gradient,
        "G v product": product,
        "operator set-up": setup,
    }
    samples = interleaved_timings(candidates, args.rounds, args.calls, sync)
    base = samples["gradient"]
    results = {}
    rows = []
    for name, timings in samples.items():
        ratio = paired_ratio(timings, base)
        results[name] = {**summarize(timings), "ratio_to_gradient": ratio}
        rows.append((name, f"{results[name]['median_s'] * 1e3:.1f}", f"{ratio:.2f}"))

    # Whole HF updates: gradient batch 4x the curvature batch, Martens' settings otherwise.
    big = torch.rand(4 * args.batch, 784, generator=generator).to(device)
    hf = HessianFree(params, loss=kind, cg_max_iterations=args.cg_iterations)
    update_times, iterations = [], []
    for _ in range(args.updates):
        sync()
        start = time.perf_counter()
        hf.step(lambda: (model(big), big), lambda: (model(inputs), inputs))
        sync()
        update_times.append(time.perf_counter() - start)
        iterations.append(hf.last_step["cg_iterations"])
    update: dict[str, Any] = {**summarize(update_times), "cg_iterations": iterations}
    rows.append(
        (
            f"HF update ({4 * args.batch} / {args.batch} cases, CG <= {args.cg_iterations})",
            f"{update['median_s'] * 1e3:.0f}",
            "",
        )
    )
    payload = {
        "benchmark": "hessian_free",
        "model": "mnist autoencoder",
        "curvature_batch": args.batch,
        "parameters": sum(p.numel() for p in params),
        "candidates": results,
        "hf_update": update,
        "target_product_max_ratio": TARGET,
    }
    print(f"Hessian-free on the MNIST autoencoder, curvature batch {args.batch}, {device}")
    print_table(("what", "median ms", "time / gradient"), rows)
    ratio = results["G v product"]["ratio_to_gradient"]
    print(f"G v product costs {ratio:.2f} gradients (target <= {TARGET})")
    path = write_result(f"hessian_free_{device.type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
