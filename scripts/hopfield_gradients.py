"""Where the gradient methods part on the Hopfield memory (issue 17; Liao et al. 2018, SPEC 7.2).

For each official row of ``liao2018-hopfield`` (T forward steps, truncation K), at the network's
initialization and at the weights each method's run of that row reached, this measures on the ten
clean digits:

- the forward residual ‖F(h_T) − h_T‖ / ‖F(h_T)‖ (RBP's premise: h_T is a fixed point),
- the spectral radius ρ(J) of J = ∂F/∂h at h_T (power iteration on Jᵀ, 300 steps; plain RBP's
  iteration z ← Jᵀz + g converges only when ρ(J) < 1),
- each method's full-batch gradient of the training L1 with respect to R, against BPTT's (the
  exact gradient of what the T-step network computes) and against the implicit gradient at the
  converged fixed point (``cg_rbp`` after 2000 forward steps and 2000 CG iterations): cosine and
  norm ratio.

    python scripts/hopfield_gradients.py --data-dir ../shared/data --runs-dir runs \\
        --out results/liao2018-hopfield-gradients

Writes ``README.md`` (the table, the weights used, provenance), ``gradients.json`` and
``training_loss.png`` (the rows' training L1 per method, from the runs' curves).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch import Tensor

from inertia.data import load_mnist
from inertia.experiments import stamp, write_json, write_text
from inertia.implicit import GRADIENT_METHODS, make_gradient
from inertia.nn import HopfieldNetwork
from inertia.tasks import stored_digits

# The official rows of the protocol (src/inertia/protocols/_liao2018.py): (T, K).
ROWS = ((50, 20), (50, 5), (10, 10))
REFERENCE_STEPS = 2000  # forward steps and CG iterations of the implicit reference gradient
POWER_STEPS = 300


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


Run = tuple[str, int, dict, Path]  # method, seed, result.json's content, run folder


def official_runs(runs_dir: Path) -> dict[tuple[int, int], list[Run]]:
    """The completed runs of the quick budget's official rows by (T, K), each row's in the
    protocol's method order, then by seed; every result.json read once."""
    rows: dict[tuple[int, int], list[Run]] = {row: [] for row in ROWS}
    for result_file in sorted((runs_dir / "liao2018-hopfield-quick").glob("*/result.json")):
        result = json.loads(result_file.read_text())
        task = result["config"]["task"]
        row = (task.get("steps"), task.get("truncation"))
        official = result.get("status") == "completed" and task.get("variant") == "official"
        if official and row in rows:
            seed = result["config"]["seed"]
            rows[row].append((task["gradient"], seed, result, result_file.parent))
    for runs in rows.values():
        runs.sort(key=lambda run: (GRADIENT_METHODS.index(run[0]), run[1]))
    return rows


def trained_weights(runs: list[Run]) -> list[tuple[str, Tensor, str]]:
    """R from the checkpoint of each of a row's runs: (which method and seed trained it, R, the
    run folder's name)."""
    weights = []
    for method, seed, _, folder in runs:
        checkpoint = torch.load(folder / "checkpoint.pt", weights_only=False)
        weights.append((f"{method}, seed {seed}", checkpoint["model"]["raw_weight"], folder.name))
    return weights


def plot_training_loss(runs: dict[tuple[int, int], list[Run]], path: Path) -> None:
    """Each official row's training L1 (raw output states, what the methods minimize) against
    the update, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(ROWS), figsize=(5 * len(ROWS), 4.8), sharey=True)
    for axis, (steps, truncation) in zip(axes, ROWS, strict=True):
        colours: dict[str, str] = {}
        for method, seed, result, _ in runs[(steps, truncation)]:
            curve = [point for point in result["curve"] if "train_loss" in point]
            line = axis.plot([p["step"] for p in curve], [p["train_loss"] for p in curve],
                             marker=".", linestyle="-" if seed == 0 else "--",
                             color=colours.get(method), label=f"{method}, seed {seed}")  # fmt: skip
            colours.setdefault(method, line[0].get_color())
        axis.set_title(f"T={steps} K={truncation}")
        axis.set_xlabel("update")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
    # one legend below the panels, from the panel with the most runs
    handles, labels = max((axis.get_legend_handles_labels() for axis in axes),
                          key=lambda pair: len(pair[1]))  # fmt: skip
    figure.legend(handles, labels, loc="lower center", ncol=5, fontsize="small")
    axes[0].set_ylabel("training L1 of the raw output states (clean digits)")
    figure.suptitle("Liao et al. (2018) Hopfield memory, official definition, quick budget: "
                    "training loss per gradient method")  # fmt: skip
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)


def network(raw_weight: Tensor, steps: int, truncation: int, gradient: str) -> HopfieldNetwork:
    net = HopfieldNetwork(steps=steps, gradient=make_gradient(gradient, truncation, 0.0))
    net.load_state_dict({"raw_weight": raw_weight})
    return net


def gradient_of(net: HopfieldNetwork, digits: Tensor) -> tuple[Tensor, float]:
    """The training loss's gradient with respect to R (all ten digits at once) and the loss."""
    net.zero_grad()
    loss = (net(digits) - digits).abs().mean()
    loss.backward()
    assert net.raw_weight.grad is not None
    return net.raw_weight.grad.detach().double().clone(), float(loss.detach())


@torch.no_grad()
def forward_state(net: HopfieldNetwork, digits: Tensor, steps: int) -> tuple[Tensor, Tensor]:
    """h_T and the clamped input, as the network's forward pass forms them."""
    net._free = net.weight[net.inputs :]
    clamped = torch.sigmoid(net.gain * digits)
    h = digits.new_zeros(digits.shape[0], net.hidden + net.outputs)
    for _ in range(steps):
        h = net._update(h, clamped)
    return h, clamped


def residual_and_radius(net: HopfieldNetwork, digits: Tensor, steps: int) -> tuple[float, float]:
    """‖F(h_T) − h_T‖ / ‖F(h_T)‖ and ρ(J) at h_T, the largest over the ten digits (J is
    block-diagonal over them; power iteration on the stacked vector finds the largest block's)."""
    h, clamped = forward_state(net, digits, steps)
    h = h.requires_grad_(True)
    with torch.enable_grad():
        image = net._update(h, clamped)
    residual = float((image - h).detach().norm() / image.detach().norm())
    v = torch.randn(h.shape, generator=torch.Generator().manual_seed(0))
    radius = 0.0
    for _ in range(POWER_STEPS):
        v = v / v.norm()
        (w,) = torch.autograd.grad(image, h, v, retain_graph=True)
        radius = float(w.norm())
        v = w
    net._free = None
    return residual, radius


def cosine(a: Tensor, b: Tensor) -> float:
    return float(a @ b / (a.norm() * b.norm()).clamp_min(1e-300))


def measure(
    raw_weight: Tensor,
    digits: Tensor,
    steps: int,
    truncation: int,
    reference_steps: int = REFERENCE_STEPS,
) -> dict:
    """The forward residual and ρ(J) at h_T, and each method's gradient against BPTT's and the
    implicit one (CG-RBP after ``reference_steps`` forward steps and CG iterations)."""
    residual, radius = residual_and_radius(network(raw_weight, steps, 1, "bptt"), digits, steps)
    reference_net = network(raw_weight, reference_steps, reference_steps, "cg_rbp")
    implicit, _ = gradient_of(reference_net, digits)
    gradients, losses = {}, {}
    for method in GRADIENT_METHODS:
        gradients[method], losses[method] = gradient_of(
            network(raw_weight, steps, truncation, method), digits
        )
    bptt = gradients["bptt"].flatten()
    methods = {
        method: {
            "cosine_with_bptt": cosine(gradient.flatten(), bptt),
            "norm_ratio_to_bptt": float(gradient.norm() / bptt.norm()),
            "cosine_with_implicit": cosine(gradient.flatten(), implicit.flatten()),
            "norm_ratio_to_implicit": float(gradient.norm() / implicit.norm()),
        }
        for method, gradient in gradients.items()
    }
    return {
        "T": steps,
        "K": truncation,
        "train_l1": losses["bptt"],
        "forward_residual": residual,
        "spectral_radius": radius,
        "methods": methods,
    }


def _cosine_text(value: float) -> str:
    """Four decimals, or 1 − ε where four decimals would round to 1."""
    return f"1 − {1 - value:.0e}" if value > 0.99995 and value < 1 else f"{value:.4f}"


def table(measurements: list[dict], key: str) -> list[str]:
    lines = [
        "| weights | T | K | residual | ρ(J) | " + " | ".join(GRADIENT_METHODS) + " |",
        "|---|---|---|---|---|" + "---|" * len(GRADIENT_METHODS),
    ]
    for m in measurements:
        cells = [
            f"{_cosine_text(m['methods'][method][f'cosine_with_{key}'])} "
            f"({m['methods'][method][f'norm_ratio_to_{key}']:.3g})"
            for method in GRADIENT_METHODS
        ]
        lines.append(
            f"| {m['weights']} | {m['T']} | {m['K']} | {m['forward_residual']:.2e} | "
            f"{m['spectral_radius']:.3f} | " + " | ".join(cells) + " |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="folder holding MNIST")
    parser.add_argument("--runs-dir", required=True, type=Path, help="the sweeps' runs folder")
    parser.add_argument("--out", required=True, type=Path, help="folder for README.md and JSON")
    args = parser.parse_args(argv)
    if not (args.runs_dir / "liao2018-hopfield-quick").is_dir():
        _fail(f"{args.runs_dir}/liao2018-hopfield-quick is missing: run "
              "`inertia sweep liao2018-hopfield --budget quick` first")  # fmt: skip
    torch.set_num_threads(1)
    started = time.perf_counter()
    images, labels = load_mnist("train", args.data_dir)
    digits = stored_digits(images, labels, threshold=0.0)
    torch.manual_seed(0)  # the trainer's seed 0 draws R the same way
    initial = HopfieldNetwork().raw_weight.detach().clone()
    runs = official_runs(args.runs_dir)
    measurements = []
    for steps, truncation in ROWS:
        weights: list[tuple[str, Tensor, str | None]] = [("initial (seed 0)", initial, None)]
        for trained_by, raw, folder in trained_weights(runs[(steps, truncation)]):
            weights.append((f"trained by {trained_by}", raw, folder))
        for name, raw, run_folder in weights:
            print(f"T={steps} K={truncation}: {name}", flush=True)
            measurement = measure(raw, digits, steps, truncation)
            measurements.append({"weights": name, "run": run_folder, **measurement})
    args.out.mkdir(parents=True, exist_ok=True)
    provenance = {**stamp(), "wall_time_s": round(time.perf_counter() - started, 1)}
    write_json(
        {"provenance": provenance, "measurements": measurements}, args.out / "gradients.json"
    )
    plot_training_loss(runs, args.out / "training_loss.png")
    folders = ", ".join(sorted({m["run"] for m in measurements if m["run"]})) or "none"
    lines = [
        "# Liao et al. (2018) Hopfield memory: where the gradient methods part",
        "",
        "Issue 17. Each method's gradient of the training L1 (the ten clean digits, official "
        "definition) with respect to R, at the network's initialization and at the weights that "
        "each method's run of the row in the `quick` budget reached after 1000 updates. Cells: "
        "cosine with the reference (norm ratio to it). `residual`: ‖F(h_T) − h_T‖ / ‖F(h_T)‖; "
        "`ρ(J)`: spectral radius of ∂F/∂h at h_T, largest over the digits (plain RBP's "
        "iteration diverges when it is ≥ 1). RBP and CG-RBP run K iterations, Neumann-RBP K "
        "terms, TBPTT the last K steps (the protocol's single K, "
        "`inertia.implicit.make_gradient`).",
        "",
        "## Against BPTT (the exact gradient of the T-step network that is trained)",
        "",
        *table(measurements, "bptt"),
        "",
        f"## Against the implicit gradient at the fixed point (CG-RBP after {REFERENCE_STEPS} "
        f"forward steps and {REFERENCE_STEPS} CG iterations)",
        "",
        *table(measurements, "implicit"),
        "",
        "Training loss of the same runs: `training_loss.png` (at T = 10, BPTT's curves lie "
        "under TBPTT's: with K = T they are the same computation).",
        "",
        f"Trained weights: run folders {folders} of `liao2018-hopfield-quick`.",
        "",
        f"Provenance: commit {provenance['git_commit'][:10]}, {provenance['hardware']}, torch "
        f"{provenance['torch']}, {provenance['date']}, {provenance['wall_time_s']} s. Produced "
        "by `scripts/hopfield_gradients.py`; the numbers are in `gradients.json`.",
    ]
    write_text("\n".join(lines) + "\n", args.out / "README.md")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
