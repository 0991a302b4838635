"""How the hypergradient methods differ on the task ``hypergradient`` (issue 17: why CG-RBP's
meta-training ran away): at the initial hyperparameters of SPEC 7.4 (and optionally others),
each method's hypergradient against BPTT's (the exact gradient of the unrolled objective), and the
residual of the adjoint equation (I − Jᵀ) z = g that the RBP methods solve.

    python scripts/cg_rbp_hypergradient.py --data-dir ../shared/data

Prints one JSON line per method: the norm ratio and cosine to BPTT's hypergradient, the adjoint
residual ‖z − Jᵀz − g‖ / ‖g‖, the forward residual ‖h_T − h_{T−1}‖ / ‖h_T‖ and the wall time.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from inertia.tasks import HypergradientOptions, HyperparameterOptimization

METHODS = (("bptt", 50), ("rbp", 50), ("neumann_rbp", 50), ("cg_rbp", 50), ("cg_rbp", 200))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--log-lr", type=float, default=-1.0, help="h_lr of every tensor")
    parser.add_argument("--momentum-logit", type=float, default=0.0, help="h_mu of every tensor")
    args = parser.parse_args()
    torch.set_num_threads(1)
    gradients, rows = {}, []
    for method, truncation in METHODS:
        options = HypergradientOptions(gradient=method, truncation=truncation,
                                       initial_log_lr=args.log_lr,
                                       initial_momentum_logit=args.momentum_logit)  # fmt: skip
        problem = HyperparameterOptimization().build(
            options, torch.Generator().manual_seed(0), args.data_dir
        )
        model = problem.model
        model.unrolled.statistics = True
        start = time.perf_counter()
        objective = model("train")[0]
        objective.backward()
        seconds = time.perf_counter() - start
        gradient = torch.cat([model.log_lr.grad, model.momentum_logit.grad]).double()
        gradients[(method, truncation)] = gradient
        stats = model.unrolled.stats
        rows.append({"method": method, "K": truncation, "objective": float(objective.detach()),
                     "forward_residual": stats.forward_residual,
                     "adjoint_residual": stats.backward_residual,
                     "seconds": round(seconds, 1)})  # fmt: skip
    exact = gradients[("bptt", 50)]
    for row in rows:
        gradient = gradients[(row["method"], row["K"])]
        row["norm_ratio_to_bptt"] = float(gradient.norm() / exact.norm())
        row["cosine_with_bptt"] = float(gradient @ exact / (gradient.norm() * exact.norm()))
        print(json.dumps(row))


if __name__ == "__main__":
    main()
