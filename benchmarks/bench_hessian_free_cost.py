"""What each part of a Hessian-free update costs, in gradients, on Table 1's autoencoders.

Issue 35: HF and first-order methods are compared at an equal cost (``max_gradient_cases``),
counted in per-case gradients: one case's forward and backward pass. An HF update does other
work, and ``inertia.optim.HessianFree`` counts each part at a cost per case relative to a
gradient (``GAUSS_NEWTON_COST`` and its siblings). This benchmark measures those ratios on the
CURVES, MNIST and FACES autoencoders (SPEC 3.1) with the networks' own losses, on one batch of
``--batch`` random cases (timing does not depend on pixel values):

- ``gradient``: the objective's forward and backward pass, the reference;
- ``evaluation``: the objective alone, without a graph (CG backtracking, the line search);
- ``operator set-up``: the forward pass on the curvature batch with a graph and the graph of
  u ↦ Jᵀu built from it (once per update);
- ``G v product``: one Gauss-Newton product with the operator set up (each CG iteration, ρ);
- ``Fisher diagonal``: what Martens's preconditioner adds to the gradient (the per-case squares
  of the gradient batch): whole HF updates of one CG iteration with the preconditioner minus the
  same updates without it.

Candidates are timed interleaved; each ratio is the median of per-round ratios to the gradient
of the same round. Run it on otherwise idle cores, at the thread count the sweeps use
(``--threads 1``).
"""

from __future__ import annotations

import argparse
import copy
import statistics
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from benchmarks._harness import interleaved_timings, paired_ratio, print_table, write_result
from inertia.init import sparse_init_
from inertia.optim import HessianFree, output_loss
from inertia.tasks import ARCHITECTURES, autoencoder

# The loss each network trains with (SPEC 3.1): logistic outputs with cross-entropy for CURVES
# and MNIST, linear outputs with squared error for FACES.
LOSSES = {
    "curves": "logistic-cross-entropy",
    "mnist": "logistic-cross-entropy",
    "faces": "squared-error",
}
PARTS = ("evaluation", "operator set-up", "G v product", "Fisher diagonal")


def _hf_update(
    model: nn.Module, kind: str, inputs: torch.Tensor, preconditioner: str
) -> Callable[[], None]:
    """One HF update of a single CG iteration, no backtracking and no line search, at a tiny
    fixed step (the parameters barely move across rounds), on a copy of ``model`` (the update
    moves its parameters in place, which would invalidate the other candidates' graphs)."""
    model = copy.deepcopy(model)
    params = list(model.parameters())
    optimizer = HessianFree(
        params, loss=kind, preconditioner=preconditioner, cg_max_iterations=1,
        cg_backtracking=False, line_search=False, lr=1e-6,
    )  # fmt: skip

    def update() -> None:
        optimizer.step(lambda: (model(inputs), inputs), lambda: (model(inputs), inputs))

    return update


def measure(
    network: str, batch: int, rounds: int, calls: int, device: torch.device
) -> dict[str, Any]:
    """The time per call of each part on ``network`` and its ratio to the gradient."""
    generator = torch.Generator().manual_seed(0)
    model = sparse_init_(autoencoder(ARCHITECTURES[network]), generator=generator).to(device)
    params = list(model.parameters())
    kind = LOSSES[network]
    inputs = torch.rand(batch, ARCHITECTURES[network][0], generator=generator).to(device)
    optimizer = HessianFree(params, loss=kind, preconditioner="none")
    operator = optimizer.gauss_newton_operator((model(inputs), inputs))
    vector = torch.randn(sum(p.numel() for p in params), generator=generator).to(device)

    def gradient() -> None:
        torch.autograd.grad(output_loss(kind, model(inputs), inputs), params)

    def evaluation() -> None:
        with torch.no_grad():
            output_loss(kind, model(inputs), inputs)

    def setup() -> None:
        optimizer.gauss_newton_operator((model(inputs), inputs))

    candidates: dict[str, Callable[[], object]] = {
        "gradient": gradient,
        "evaluation": evaluation,
        "operator set-up": setup,
        "G v product": lambda: operator(vector),
        "update (martens)": _hf_update(model, kind, inputs, "martens"),
        "update (none)": _hf_update(model, kind, inputs, "none"),
    }
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    samples = interleaved_timings(candidates, rounds, calls, sync)
    base = samples["gradient"]
    fisher = [
        (with_m - without) / grad
        for with_m, without, grad in zip(
            samples["update (martens)"], samples["update (none)"], base, strict=True
        )
    ]
    ratios = {name: paired_ratio(samples[name], base) for name in PARTS if name in samples}
    ratios["Fisher diagonal"] = statistics.median(fisher)
    return {
        "parameters": sum(p.numel() for p in params),
        "loss": kind,
        "gradient_median_s": statistics.median(base),
        "ratio_to_gradient": ratios,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=1000, help="cases per call")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--networks", default="curves,mnist,faces")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    networks = [name.strip() for name in args.networks.split(",") if name.strip()]
    unknown = sorted(set(networks) - set(LOSSES))
    if unknown:
        parser.error(f"--networks: unknown {', '.join(unknown)}; choose from {', '.join(LOSSES)}")
    device = torch.device(args.device)
    measured = {
        name: measure(name, args.batch, args.rounds, args.calls, device) for name in networks
    }
    rows = [
        (name, f"{entry['gradient_median_s'] * 1e3:.1f}",
         *(f"{entry['ratio_to_gradient'][part]:.2f}" for part in PARTS))
        for name, entry in measured.items()
    ]  # fmt: skip
    print(f"Hessian-free costs per case, in gradients ({args.batch} cases, {device})")
    print_table(("network", "gradient ms", *PARTS), rows)
    payload = {"benchmark": "hessian_free_cost", "batch": args.batch, "networks": measured}
    path = write_result(f"hessian_free_cost_{device.type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
