"""How the hypergradient methods differ on the task ``hypergradient`` (issue 17: why CG-RBP's
meta-training ran away): at the initial hyperparameters of SPEC 7.4 (and optionally others),
each method's hypergradient against BPTT's (the exact gradient of the unrolled objective), and the
residual of the adjoint equation (I − Jᵀ) z = g that the RBP methods solve.

    python scripts/cg_rbp_hypergradient.py --data-dir ../shared/data \
        --out results/liao2018-cg-rbp-hypergradient

Prints one JSON line per method: the norm ratio and cosine to BPTT's hypergradient, the adjoint
residual ‖z − Jᵀz − g‖ / ‖g‖, the forward residual ‖h_T − h_{T−1}‖ / ‖h_T‖, the meta-objective
(the training cross-entropy after the unrolled steps) and the wall time. With ``--out`` it also
writes them, as a table with the command and provenance, to ``README.md`` and ``rows.json``
there (evidence for docs/rbp.md). Rerunning at other hyperparameters (``--log-lr``,
``--momentum-logit``) adds a section to the same folder.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

from inertia.experiments import stamp, write_json, write_text
from inertia.implicit import Unrolled
from inertia.tasks import HypergradientOptions, HyperparameterOptimization, UnrolledTraining

METHODS = (("bptt", 50), ("rbp", 50), ("neumann_rbp", 50), ("cg_rbp", 50), ("cg_rbp", 200))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--log-lr", type=float, default=-1.0, help="h_lr of every tensor")
    parser.add_argument("--momentum-logit", type=float, default=0.0, help="h_mu of every tensor")
    parser.add_argument("--out", type=Path, help="results folder for README.md and rows.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    gradients: dict[tuple[str, int], torch.Tensor] = {}
    rows: list[dict[str, Any]] = []
    for method, truncation in METHODS:
        options = HypergradientOptions(gradient=method, truncation=truncation,
                                       initial_log_lr=args.log_lr,
                                       initial_momentum_logit=args.momentum_logit)  # fmt: skip
        problem = HyperparameterOptimization().build(
            options, torch.Generator().manual_seed(0), args.data_dir
        )
        model = problem.model
        assert isinstance(model, UnrolledTraining)  # the task's model
        unrolled = model.unrolled
        assert isinstance(unrolled, Unrolled)
        unrolled.statistics = True
        start = time.perf_counter()
        objective = model("train")[0]
        objective.backward()
        seconds = time.perf_counter() - start
        log_lr_grad, momentum_grad = model.log_lr.grad, model.momentum_logit.grad
        assert log_lr_grad is not None  # both hyperparameters reach the objective
        assert momentum_grad is not None
        gradient = torch.cat([log_lr_grad, momentum_grad]).double()
        gradients[(method, truncation)] = gradient
        stats = unrolled.stats
        adjoint = stats.backward_residual  # NaN where there is no adjoint equation (BPTT)
        rows.append({"method": method, "K": truncation, "objective": float(objective.detach()),
                     "forward_residual": stats.forward_residual,
                     "adjoint_residual": None if math.isnan(adjoint) else adjoint,
                     "seconds": round(seconds, 1)})  # fmt: skip
    exact = gradients[("bptt", 50)]
    for row in rows:
        gradient = gradients[(row["method"], row["K"])]
        row["norm_ratio_to_bptt"] = float(gradient.norm() / exact.norm())
        row["cosine_with_bptt"] = float(gradient @ exact / (gradient.norm() * exact.norm()))
        print(json.dumps(row))
    if args.out is not None:
        record(args.out, rows, args.log_lr, args.momentum_logit, argv)


_COLUMNS = (("method", "method"), ("K", "K"), ("norm_ratio_to_bptt", "‖hypergradient‖ / BPTT's"),
            ("cosine_with_bptt", "cosine with BPTT's"),
            ("adjoint_residual", "adjoint residual ‖z − Jᵀz − g‖/‖g‖"),
            ("forward_residual", "forward residual"), ("objective", "meta-objective"),
            ("seconds", "seconds"))  # fmt: skip


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def record(out: Path, rows: list[dict], log_lr: float, momentum_logit: float,
           argv: list[str] | None) -> None:  # fmt: skip
    """Add this measurement (one per pair of hyperparameters) to ``out``'s ``rows.json`` and
    rewrite its ``README.md`` from all of them."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / "rows.json"
    measurements = json.loads(store.read_text())["measurements"] if store.exists() else []
    measurements = [m for m in measurements
                    if (m["log_lr"], m["momentum_logit"]) != (log_lr, momentum_logit)]  # fmt: skip
    command = " ".join(["python scripts/cg_rbp_hypergradient.py",
                        *(sys.argv[1:] if argv is None else argv)])  # fmt: skip
    measurements.append({
        "log_lr": log_lr, "momentum_logit": momentum_logit, "rows": rows, "command": command,
        "provenance": stamp(),
    })  # fmt: skip
    write_json({"measurements": measurements}, store)
    lines = [
        "# Liao et al. (2018) hypergradients: each method against BPTT's (issue 17)",
        "",
        "Task `hypergradient` (SPEC 7.4: MNIST MLP, 100 unrolled steps of SGD with momentum) at "
        "fixed hyperparameters, seed 0, one thread, float32: each method's hypergradient of the "
        "meta-objective with respect to the 16 learning rates and momenta, against BPTT's (the "
        "exact gradient of the unrolled objective). RBP and CG-RBP run K iterations, Neumann-RBP "
        "K terms. Produced by `scripts/cg_rbp_hypergradient.py`; the numbers are in `rows.json`.",
    ]
    for measurement in measurements:
        provenance = measurement["provenance"]
        lines += [
            "",
            f"## log lr {measurement['log_lr']:g}, momentum logit "
            f"{measurement['momentum_logit']:g}",
            "",
            f"`{measurement['command']}` (commit {provenance['git_commit'][:10]}, "
            f"{provenance['hardware']}, torch {provenance['torch']}, {provenance['date']})",
            "",
            "| " + " | ".join(title for _, title in _COLUMNS) + " |",
            "|" + "---|" * len(_COLUMNS),
            *("| " + " | ".join(_cell(row.get(key)) for key, _ in _COLUMNS) + " |"
              for row in measurement["rows"]),
        ]  # fmt: skip
    write_text("\n".join(lines) + "\n", out / "README.md")


if __name__ == "__main__":
    main()
