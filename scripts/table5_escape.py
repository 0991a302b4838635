"""Report single `inertia train` runs on the long-term problems as committed evidence: when (if
ever) each left the constant predictor's plateau, and where it ended (issue 20's add T=80
question).

    python scripts/table5_escape.py RUN_DIR [RUN_DIR ...] --out results/table5-add80-escape \
        --title "..." [--note FILE] [--only KEY=VALUE ...]

Reads each folder's ``result.json`` (written by the trainer: config, learning curve, wall time,
commit, hardware), or every run of a report folder's ``runs.json`` (``inertia report``'s archive
of a sweep, which outlives the run folders), keeps those whose settings match every ``--only``
(e.g. ``--only task.problem=multiplication``), and writes ``README.md`` (a table, a summary by
seed, the provenance of every run and the note), ``learning_curves.png`` and ``runs.json`` (the
results it read, unchanged). A run "leaves the plateau" at the first evaluation whose training
loss is below half of the plateau's loss: the constant predictor's (``--constant-loss``, e.g.
1/6 for the sum of two U[0, 1] under squared error), else the median of the run's losses at its
first four evaluations after update 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import NoReturn

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from inertia.experiments import (
    ConfigError,
    cell_folder,
    clipped_updates,
    load_keyed_runs_archive,
    write_text,
)
from inertia.protocols import momentum_column


def _fail(message: str) -> NoReturn:
    print(f"table5_escape: {message}", file=sys.stderr)
    sys.exit(2)


def load(folder: Path) -> dict:
    path = folder / "result.json"
    if not path.is_file():
        _fail(f"{path}: no result.json (is the run finished?); name finished run folders")
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        _fail(f"{path}: not JSON ({error}); name a folder written by `inertia train`")
    result["folder"] = folder.name
    return result


def load_report(path: Path) -> list[dict]:
    """Every run of a report's ``runs.json`` (``path``: the file or the report folder), each
    result with ``folder`` set to its run folder's name in the sweep."""
    try:
        runs = load_keyed_runs_archive(path)
    except ConfigError as error:
        _fail(f"{error}")
    return [{**result.to_dict(), "folder": cell_folder(key)} for key, result in runs]


def load_any(path: Path) -> list[dict]:
    """A run folder's result, or a report's runs (a folder with ``runs.json`` and no
    ``result.json``, or the file itself)."""
    if path.is_file() or (path.is_dir() and not (path / "result.json").exists()
                          and (path / "runs.json").is_file()):  # fmt: skip
        return load_report(path)
    return [load(path)]


def setting(config: dict, key: str) -> object:
    """The value of a dotted setting (``task.problem``) in a saved config (None: absent)."""
    value: object = config
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def parse_value(text: str) -> object:
    """A ``--only`` value as the saved config holds it: JSON (``1e-05``, ``false``, ``null``),
    Python's ``True`` / ``False`` / ``None``, else the text itself."""
    python = {"True": True, "False": False, "None": None}
    if text in python:
        return python[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def matches(config: dict, wanted: list[tuple[str, object]]) -> bool:
    """Whether every ``(key, value)`` of ``--only`` holds in ``config`` (a setting a run did
    not save, e.g. an option newer than the run, matches only ``None``); ``1`` and ``1.0`` are
    the same value, ``True`` and ``1`` are not."""

    def same(saved: object, value: object) -> bool:
        if isinstance(saved, bool) or isinstance(value, bool):
            return saved is value
        return saved == value

    return all(same(setting(config, key), value) for key, value in wanted)


def escape_step(curve: list[dict], constant_loss: float | None = None) -> int | None:
    """The first evaluated update whose loss is below half the plateau loss (None: never):
    ``constant_loss`` if given, else the median of the first four evaluations after update 0."""
    losses = [point["train_loss"] for point in curve if point["step"] > 0]
    if constant_loss is None and len(losses) < 5:
        return None
    plateau = constant_loss if constant_loss is not None else statistics.median(losses[:4])
    for point in curve:
        if point["step"] > 0 and point["train_loss"] < plateau / 2:
            return point["step"]
    return None


def back_on_plateau(curve: list[dict], constant_loss: float | None = None) -> int | None:
    """The first evaluated update after the escape (:func:`escape_step`) whose loss is back
    within 10% of the plateau loss (None: it never left, or never went back): a run that learns
    part of a problem and then loses it (issue 39, mem-20 T=80)."""
    left = escape_step(curve, constant_loss)
    if left is None:
        return None
    losses = [point["train_loss"] for point in curve if point["step"] > 0]
    plateau = constant_loss if constant_loss is not None else statistics.median(losses[:4])
    return next(
        (p["step"] for p in curve if p["step"] > left and p["train_loss"] >= 0.9 * plateau), None
    )


def _track(curve: list[dict], key: str) -> tuple[float, float, float] | None:
    """(first, largest, last) of a diagnostic recorded on the curve (None: not recorded)."""
    values = [point[key] for point in curve if key in point]
    return (values[0], max(values), values[-1]) if values else None


def first_below(curve: list[dict], error: float) -> int | None:
    """The first evaluated update whose zero-one error is below ``error`` (None: never)."""
    return next((p["step"] for p in curve if p["train_error"] < error), None)


def _seed(config: dict) -> int | str:
    """The run's seed; a run of ``scripts/table5_seed_swap.py`` that draws its minibatches from
    another seed names both (``"1 (data 0)"``)."""
    data_seed = config["task"].get("data_seed")
    data_seed = config["seed"] if data_seed is None else data_seed  # none: the run's own
    return config["seed"] if data_seed == config["seed"] else f"{config['seed']} (data {data_seed})"


def _clipping(config: dict) -> str:
    """How the run clips its gradient ('' if it does not): ``+clip 10`` at a fixed norm,
    ``+clip 2x`` at a multiple of its first updates' average norm."""
    if config.get("clip_relative", 0):
        return f"+clip {config['clip_relative']:g}x"
    return f"+clip {config['clip_grad_norm']:g}" if config.get("clip_grad_norm", 0) else ""


def describe(result: dict, constant_loss: float | None = None) -> dict:
    config = result["config"]
    task, optimizer = config["task"], config["optimizer"]
    mu, name = optimizer.get("momentum", 0.0), optimizer["name"]
    # Table 5's column names (0.995N, 0.9M, SGD) for the momentum methods, the name otherwise
    column = momentum_column(name, mu) if name in ("nag", "cm", "sgd") else name
    if task.get("output_biases_only"):  # Table 5's baseline: the output biases trained alone
        column = "biases"
    column += _clipping(config)
    clipped = clipped_updates(result["config"], result["curve"])
    if clipped is not None:  # a count, not a percentage: one clip in 50,000 is not "0.00%"
        column += f" ({clipped:,} of {result['steps_done']:,} updates clipped)"
    return {
        "run": result["folder"],
        "problem": f"{task['problem']} T={task['length']}",
        "column": column,
        "lr": optimizer["lr"],
        "seed": _seed(config),
        "updates": result["steps_done"],
        "error": result["final"]["train_error"],
        "loss": result["final"]["train_loss"],
        "escape": escape_step(result["curve"], constant_loss),
        "back": back_on_plateau(result["curve"], constant_loss),
        "half_right": first_below(result["curve"], 0.5),
        "radius": _track(result["curve"], "spectral_radius_hh"),
        "norm_ih": _track(result["curve"], "norm_ih"),
        "grad_max": _track(result["curve"][1:], "grad_norm_max"),
        "saturation": _track(result["curve"], "saturation"),
        "wall_s": result["wall_time_s"],
        "commit": result["environment"]["git_commit"][:10],
        "hardware": result["environment"]["hardware"],
    }


_PANELS = (
    ("train_loss", "training loss", "the run's loss (its task.loss_reduction)"),
    ("train_error", "zero-one error", ""),
    ("spectral_radius_hh", "spectral radius of W_hh", "hidden-to-hidden matrix (Table 4: 1.1)"),
    ("norm_ih", "‖W_ih‖ (Frobenius)", "input-to-hidden matrix"),
    ("grad_norm_max", "largest ‖g‖ per interval", "minibatch gradient norms between evaluations"),
    ("saturation", "saturated hidden states", "fraction of tanh states beyond ±0.95"),
)


def _order(result: dict) -> tuple:
    """Runs in table order: problem, optimizer, μ, rate (largest first), clipping, seed,
    updates."""
    config = result["config"]
    optimizer = config["optimizer"]
    return (
        config["task"]["problem"], config["task"]["length"], optimizer["name"],
        optimizer.get("momentum", 0.0), -optimizer["lr"], _clipping(config),
        str(_seed(config)), result["steps_done"],
    )  # fmt: skip


def _triple(values: tuple[float, float, float] | None) -> str:
    return "—" if values is None else " / ".join(f"{v:.3g}" for v in values)


def error_panel(results: list[dict]) -> tuple[str, bool]:
    """The error panel's title and whether its runs measure different things (the fraction of
    wrong cases of add/mul beside the wrong recalls per sequence of memorization)."""
    names = sorted({result["error_name"] for result in results})
    if len(names) <= 1:
        return (names[0] if names else ""), False
    return "\n".join(names), True


def plot(results: list[dict], rows: list[dict], path: Path, title: str) -> None:
    """Loss and error against updates; the recurrent weights' spectral radius and input norm
    too where the runs recorded them."""
    tracked = any(row["radius"] is not None for row in rows)
    updates = any(row["grad_max"] is not None for row in rows)
    panels = _PANELS if updates else _PANELS[:4] if tracked else _PANELS[:2]
    columns = 2
    figure, grid = plt.subplots(len(panels) // columns, columns, figsize=(12, 2.3 * len(panels)))
    axes = list(grid.flat)
    for index, (result, row) in enumerate(zip(results, rows, strict=True)):
        label = (
            f"{row['problem']}, {row['column']}, lr {row['lr']:g}, seed {row['seed']}, "
            f"{row['updates'] // 1000}k updates"
        )
        style = {
            "marker": ".",
            "label": label,
            "linestyle": ("-", "--", ":", "-.")[(index // 10) % 4],
            "color": f"C{index % 10}",
        }
        for axis, (key, _, _) in zip(axes, panels):
            points = [(p["step"], p[key]) for p in result["curve"] if key in p]
            axis.plot([s for s, _ in points], [v for _, v in points], **style)
    error_title, mixed = error_panel(results)
    for axis, (_, ylabel, subtitle) in zip(axes, panels):
        axis.set_ylabel(ylabel)
        axis.set_title(subtitle or error_title, fontsize=9)
        axis.set_xlabel("update")
        axis.grid(alpha=0.3)
    if mixed:  # fractions beside symbols per sequence: both readable on one axis
        axes[1].set_yscale("symlog", linthresh=0.01)
    axes[0].set_yscale("log")
    if updates:
        axes[4].set_yscale("log")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    figure.suptitle(title)
    height = 4.6 * len(panels) / 2  # inches; a legend line takes about 0.19 of them
    legend = 0.19 * ((len(rows) + 1) // 2) / height
    figure.tight_layout(rect=(0, 0.02 + legend, 1, 1))
    temporary = path.with_name(path.stem + ".tmp.png")
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    os.replace(temporary, path)


def by_seed(rows: list[dict]) -> list[str]:
    """Markdown lines: for each problem and initial draw (seed), how many of its runs left the
    plateau and how far they got, over every column and rate but the biases baseline (issue 39:
    on add T=80 the initial weights decided which runs leave). Empty where no problem has two
    seeds."""
    trained = [row for row in rows if row["column"] != "biases"]
    problems = sorted({row["problem"] for row in trained})
    groups = {
        (problem, seed): [r for r in trained if r["problem"] == problem and r["seed"] == seed]
        for problem in problems
        for seed in sorted({r["seed"] for r in trained if r["problem"] == problem}, key=str)
    }
    if len(groups) == len(problems):  # one seed per problem: nothing to compare
        return []
    lines = [
        "By problem and seed (every run above but the biases baseline):",
        "",
        "| problem | seed | runs | left the plateau | error < 0.5 | mean final error "
        "| lowest final error |",
        "|---|---|---|---|---|---|---|",
    ]
    for (problem, seed), own in groups.items():
        errors = [row["error"] for row in own]
        left = sum(row["escape"] is not None for row in own)
        half = sum(row["half_right"] is not None for row in own)
        lines.append(
            f"| {problem} | {seed} | {len(own)} | {left} | {half} | "
            f"{statistics.fmean(errors):.4g} | {min(errors):.4g} |"
        )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run folders")
    parser.add_argument("--out", type=Path, required=True, help="folder for the report")
    parser.add_argument("--title", default="Long-term problems: single runs")
    parser.add_argument("--note", type=Path, help="Markdown to put under the table")
    parser.add_argument(
        "--constant-loss", type=float, default=None,
        help="the constant predictor's training loss (the plateau); default: each run's own "
        "median loss at its first four evaluations",
    )  # fmt: skip
    parser.add_argument(
        "--only", action="append", default=[], metavar="KEY=VALUE",
        help="keep the runs whose setting KEY (dotted, e.g. task.problem) is VALUE; repeatable",
    )  # fmt: skip
    args = parser.parse_args(argv)
    wanted = []
    for item in args.only:
        key, equals, text = item.partition("=")
        if not equals or not key:
            _fail(f"--only {item!r}: write KEY=VALUE, e.g. --only task.problem=addition")
        wanted.append((key, parse_value(text)))
    results = [
        result
        for path in args.runs
        for result in load_any(path)
        if matches(result["config"], wanted)
    ]
    if not results:
        _fail(f"no run of {' '.join(map(str, args.runs))} matches {' '.join(args.only)}")
    results.sort(key=_order)
    rows = [describe(result, args.constant_loss) for result in results]
    args.out.mkdir(parents=True, exist_ok=True)
    plateau = (
        f"the constant predictor's loss, {args.constant_loss:.4g}"
        if args.constant_loss is not None
        else "the run's plateau loss (the median of its first four evaluations after update 0)"
    )
    lines = [
        f"# {args.title}",
        "",
        f"Generated by `scripts/table5_escape.py` on {time.strftime('%Y-%m-%d')} from "
        f"{len(rows)} finished runs (each run folder's result.json, or a report's runs.json)"
        + (
            f" whose settings match {', '.join(f'`{item}`' for item in args.only)}"
            if args.only
            else ""
        )
        + '. "Left the plateau": the first '
        f'evaluation whose training loss is below half of {plateau}; "back on it": the first '
        'evaluation after that whose loss is within 10% of the plateau\'s again; "error < 0.5": '
        "the first whose zero-one error is below 0.5. The spectral radius of the "
        "hidden-to-hidden matrix, the norm of the input-to-hidden matrix, the largest minibatch "
        "gradient norm between two evaluations (every update counted: exploding gradients show "
        "here) and the fraction of saturated tanh states: first / largest / last evaluation "
        "('—': not recorded by the run).",
        "",
        "| problem | column | lr | seed | updates | final error | final loss | left the plateau at "
        "| back on it at | error < 0.5 at | spectral radius | ‖W_ih‖ | largest ‖g‖ | saturated "
        "| wall time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        escape, back, half = (
            "never" if step is None else f"update {step:,}"
            for step in (row["escape"], row["back"], row["half_right"])
        )
        lines.append(
            f"| {row['problem']} | {row['column']} | {row['lr']:g} | {row['seed']} | "
            f"{row['updates']:,} | {row['error']:.4g} | {row['loss']:.4g} | {escape} | "
            f"{back} | {half} | {_triple(row['radius'])} | {_triple(row['norm_ih'])} | "
            f"{_triple(row['grad_max'])} | {_triple(row['saturation'])} | "
            f"{row['wall_s'] / 60:.0f} min |"
        )
    lines += ["", *by_seed(rows), "![learning curves](learning_curves.png)", ""]
    if args.note is not None:
        lines += [args.note.read_text().strip(), ""]
    lines += ["## Provenance", ""]
    lines += [f"- `{row['run']}`: commit {row['commit']}, {row['hardware']}" for row in rows]
    lines += ["", "Every run's result (config, learning curve, environment): `runs.json`."]
    plot(results, rows, args.out / "learning_curves.png", args.title)
    write_text("\n".join(lines) + "\n", args.out / "README.md")
    write_text(json.dumps(results, indent=1) + "\n", args.out / "runs.json")
    print(f"wrote {args.out / 'README.md'}")


if __name__ == "__main__":
    main()
