"""What each Hessian-free run of a report did, update by update, and where every column stood at
equal cost (issue 35: why HF-dag trails NAG at equal cost, and how HF's damping answers the CG
decay).

    python scripts/hf_diagnostics.py results/table1-equal-cost-cg \\
        --out results/table1-equal-cost-cg-hf

Reads a report folder written by ``inertia report ... --results`` (``table.json``: each cell,
its chosen setting and its curve against gradient cases; ``runs.json``: every run's learning
curve, whose HF evaluations carry ``hf_damping``, the latest λ, and over the updates since the
previous evaluation the mean CG iterations ``hf_cg_iterations``, the mean finite ρ
``hf_reduction_ratio`` and the updates that took no step, ``hf_rejected_updates``). Writes
``README.md`` with four tables, every HF run's CG, λ and ρ, every cell's error at fractions of
the budget's cost, the cost at which the best first-order cell reached each HF cell's final
error, and each HF cell's error after the same numbers of updates, and ``hf_diagnostics.png``
(error and λ against gradient cases), beside the record's provenance (``stamp``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from inertia.experiments import stamp, write_json, write_text

# The fractions of the budget's cost at which every cell's error is read.
COST_FRACTIONS = (0.125, 0.25, 0.5, 1.0)
# How many parts of a run the warm start's share is averaged over, start to end.
WARM_START_QUARTERS = 4
# How many update counts each HF cell is read at (the last ones that every HF run of its row
# reached, on the evaluation grid of the run evaluated least often): its progress per update,
# whatever an update cost.
UPDATE_POINTS = 3


def _fail(message: str) -> None:
    print(f"hf_diagnostics: {message}", file=sys.stderr)
    sys.exit(2)


def _read(path: Path) -> Any:
    if not path.is_file():
        _fail(f"{path}: missing; name a report folder written by `inertia report ... --results`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        _fail(f"{path}: not JSON ({error}); regenerate the report")


def load(report: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report's table and its HF runs, each with its cell (row, column) and seed."""
    table = _read(report / "table.json")
    runs = {entry["key"]: entry["result"] for entry in _read(report / "runs.json")["runs"]}
    cells = {run["key"]: run for run in table["provenance"]["runs"]}
    hf = []
    for key, result in runs.items():
        if result["config"]["optimizer"]["name"] != "hf" or key not in cells:
            continue
        cell = cells[key]
        hf.append({"row": cell["row"], "column": cell["column"], "seed": cell["seed"], **result})
    hf.sort(key=lambda run: (run["row"], run["column"], run["config"]["optimizer"]["lr"],
                             run["seed"]))  # fmt: skip
    return table, hf


def summarize(run: dict[str, Any]) -> dict[str, Any]:
    """One HF run's CG, λ and ρ over its evaluations (each evaluation's figures are means over
    the updates since the one before): the mean CG iterations and the share of evaluations whose
    updates all stopped at the cap, λ at the first evaluation, its largest value and its last,
    the mean ρ, the updates that took no step, and where the run ended."""
    optimizer = run["config"]["optimizer"]
    cap = optimizer["cg_max_iterations"]
    points = [point for point in run["curve"] if "hf_cg_iterations" in point]
    if not points:
        _fail(f"run {run['row']}/{run['column']} seed {run['seed']}: its curve has no HF "
              "figures (a run made before they were recorded); rerun it")  # fmt: skip
    iterations = [point["hf_cg_iterations"] for point in points]
    damping = [point["hf_damping"] for point in points]
    ratios = [point["hf_reduction_ratio"] for point in points if "hf_reduction_ratio" in point]
    shares = [p["hf_warm_start_share"] for p in points if "hf_warm_start_share" in p]
    last = run["curve"][-1]
    return {
        "row": run["row"], "column": run["column"], "seed": run["seed"], "lr": optimizer["lr"],
        "cg_cap": cap, "curvature_batch": optimizer["curvature_batch"],
        "batch_size": run["config"]["batch_size"], "updates": run["steps_done"],
        "gradient_cases": last.get("gradient_cases", 0.0),
        "final_error": run["final"]["train_error"] if run["final"] else float("nan"),
        "cg_iterations_mean": statistics.fmean(iterations),
        "at_cap": sum(value >= cap - 1e-9 for value in iterations) / len(iterations),
        "damping_first": damping[0], "damping_max": max(damping), "damping_last": damping[-1],
        "reduction_ratio_mean": statistics.fmean(ratios) if ratios else float("nan"),
        "warm_start_share_mean": statistics.fmean(shares) if shares else None,
        "warm_start_share_quarters": _quarter_means(shares),
        "rejected_updates": sum(point["hf_rejected_updates"] for point in points),
        "status": run["status"],
    }  # fmt: skip


def _quarter_means(values: list[float]) -> list[float] | None:
    """The means of ``values`` over each quarter of the list, in order (None: fewer than four
    values): how a run's figure moves between its start and its end."""
    if len(values) < WARM_START_QUARTERS:
        return None
    bounds = [i * len(values) // WARM_START_QUARTERS for i in range(WARM_START_QUARTERS + 1)]
    return [statistics.fmean(values[start:end]) for start, end in itertools.pairwise(bounds)]


def error_at(curve: list[list[float]], cost: float) -> float | None:
    """The error at ``cost`` gradient cases on a cell's ``cost_curve``, linear between its
    evaluations (None: the curve does not reach that cost)."""
    for (c0, e0), (c1, e1) in itertools.pairwise(curve):
        if c0 <= cost <= c1:
            return e0 if c1 == c0 else e0 + (e1 - e0) * (cost - c0) / (c1 - c0)
    return None


def at_equal_cost(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Every cell's mean error at fractions of its row's cost: the smallest cost at which a
    cell of the row ended (the first-order runs' budget; an HF run stops at the first update
    that reaches it, a little past it)."""
    cells = [cell for cell in table["cells"] if cell.get("cost_curve")]
    if not cells:
        _fail("the report has no curves against gradient cases: name a budget with cost_axis")
    row_cost: dict[str, float] = {}
    for cell in cells:
        end = cell["cost_curve"][-1][0]
        row_cost[cell["row"]] = min(end, row_cost.get(cell["row"], end))
    rows = []
    for cell in cells:
        cost = row_cost[cell["row"]]
        errors = [error_at(cell["cost_curve"], f * cost) for f in COST_FRACTIONS]
        rows.append({"row": cell["row"], "column": cell["column"], "chosen": cell.get("chosen"),
                     "seeds": len(cell.get("seeds") or []), "cost": cost,
                     "errors": errors})  # fmt: skip
    return rows


def cost_to_reach(curve: list[list[float]], error: float) -> float | None:
    """The fewest gradient cases at which a cell's ``cost_curve`` is down to ``error``, linear
    between its evaluations (None: it never gets there)."""
    for (c0, e0), (c1, e1) in itertools.pairwise(curve):
        if e1 <= error:
            return c1 if e0 == e1 or e0 <= error else c0 + (c1 - c0) * (e0 - error) / (e0 - e1)
    return None


def hf_cells(runs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (row, column) of every cell whose runs are Hessian-free."""
    return {(run["row"], run["column"]) for run in runs}


def first_order_match(table: dict[str, Any], hf: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each HF cell (``hf``) against its row's best first-order cell (the lowest final error,
    SGD and momentum alike): the gradient cases that cell needed to get down to the HF cell's
    final error, and how many times that the HF cell spent."""
    cells = [cell for cell in table["cells"] if cell.get("cost_curve")]
    matches = []
    for cell in cells:
        if (cell["row"], cell["column"]) not in hf:
            continue
        others = [c for c in cells if c["row"] == cell["row"] and (c["row"], c["column"]) not in hf]
        if not others:
            continue
        best = min(others, key=lambda c: c["cost_curve"][-1][1])
        hf_cost, hf_error = cell["cost_curve"][-1]
        needed = cost_to_reach(best["cost_curve"], hf_error)
        matches.append({"row": cell["row"], "column": cell["column"], "error": hf_error,
                        "cost": hf_cost, "first_order": best["column"], "first_order_cost": needed,
                        "ratio": hf_cost / needed if needed else None})  # fmt: skip
    return matches


def per_update(table: dict[str, Any], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each HF cell's mean error over its seeds (at the rate the report chose for it, where it
    ran several) after the same numbers of updates: the last ``UPDATE_POINTS`` evaluations,
    reached by every HF run of its row that did not diverge, of the run evaluated least often
    (the others are read linearly between their own, closer, evaluations; None past a diverged
    run's end)."""
    chosen_lr = {(cell["row"], cell["column"]): cell["chosen"].get("optimizer.lr")
                 for cell in table["cells"] if cell.get("chosen")}  # fmt: skip
    by_cell: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        key = (run["row"], run["column"])
        if key in chosen_lr and run["config"]["optimizer"]["lr"] != chosen_lr[key]:
            continue  # a rate the report did not choose
        by_cell.setdefault(key, []).append(run)
    grid: dict[str, list[int]] = {}
    for row in {run["row"] for run in runs}:
        row_runs = [run for run in runs if run["row"] == row]
        finished = [run for run in row_runs if run["status"] != "diverged"] or row_runs
        fewest = min(run["steps_done"] for run in finished)
        steps = [[p["step"] for p in run["curve"] if p["step"] > 0] for run in row_runs]
        coarsest = max((s for s in steps if s), key=lambda s: s[0], default=[])
        grid[row] = [step for step in coarsest if step <= fewest][-UPDATE_POINTS:]
    rows = []
    for (row, column), cell_runs in sorted(by_cell.items()):
        curves = [[[p["step"], p["train_error"]] for p in run["curve"]] for run in cell_runs]
        errors = []
        for update in grid[row]:
            values = [error_at(curve, update) for curve in curves]
            errors.append(None if None in values else statistics.fmean(v or 0.0 for v in values))
        rows.append({"row": row, "column": column, "lr": cell_runs[0]["config"]["optimizer"]["lr"],
                     "seeds": len(cell_runs), "updates": grid[row], "errors": errors})  # fmt: skip
    return rows


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _chosen(setting: dict[str, float] | None) -> str:
    """``{"optimizer.lr": 0.01}`` as ``lr 0.01``."""
    return ", ".join(f"{key.split('.')[-1]} {value:g}" for key, value in (setting or {}).items())


def drawn_cells(
    table: dict[str, Any], row: str, hf_keys: set[tuple[str, str]], first_order: int = 2
) -> list[dict[str, Any]]:
    """The cells of ``row`` the figure draws: every HF cell (``hf_keys``), SGD, and the
    ``first_order`` other cells that end lowest (a dozen momentum curves would hide the
    comparison)."""
    cells = [c for c in table["cells"] if c["row"] == row and c.get("cost_curve")]
    hf = [c for c in cells if (row, c["column"]) in hf_keys]
    others = sorted((c for c in cells if c not in hf and c["column"] != "SGD"),
                    key=lambda c: c["cost_curve"][-1][1])  # fmt: skip
    return hf + [c for c in cells if c["column"] == "SGD"] + others[:first_order]


def figure(table: dict[str, Any], runs: list[dict[str, Any]], path: Path) -> None:
    rows = sorted({run["row"] for run in runs})
    fig, axes = plt.subplots(len(rows), 2, figsize=(12, 4.2 * len(rows)), squeeze=False)
    hf_keys = hf_cells(runs)
    for (error_axis, damping_axis), row in zip(axes, rows):
        drawn = drawn_cells(table, row, hf_keys)
        for cell in drawn:
            cost, error = zip(*cell["cost_curve"][1:])
            style = "-" if (row, cell["column"]) in hf_keys else "--"
            error_axis.plot(cost, error, style, label=cell["column"])
        first_order = any((row, cell["column"]) not in hf_keys for cell in drawn)
        title = "HF, SGD, the two best other cells" if first_order else "every HF cell"
        error_axis.set(xlabel="gradient cases", ylabel="training error (mean over seeds)",
                       yscale="log", title=f"{row}: {title}")  # fmt: skip
        error_axis.legend(fontsize=7)
        for run in runs:
            if run["row"] != row:
                continue
            points = [p for p in run["curve"] if "hf_damping" in p]
            rate = "" if " lr " in run["column"] else f" lr {run['config']['optimizer']['lr']:g}"
            damping_axis.plot([p["gradient_cases"] for p in points],
                              [p["hf_damping"] for p in points],
                              label=f"{run['column']}{rate} seed {run['seed']}")  # fmt: skip
        damping_axis.set(xlabel="gradient cases", ylabel="damping λ", yscale="log",
                         title=f"{row}: λ of every HF run")  # fmt: skip
        damping_axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(report: Path, out: Path, command: str) -> str:
    table, runs = load(report)
    if not runs:
        _fail(f"{report}: the report has no Hessian-free run")
    summaries = [summarize(run) for run in runs]
    costs = at_equal_cost(table)
    matches = first_order_match(table, hf_cells(runs))
    updates = per_update(table, runs)
    out.mkdir(parents=True, exist_ok=True)
    provenance = stamp()
    record = {"command": command, "report": str(report), "provenance": provenance,
              "runs": summaries, "at_equal_cost": costs, "first_order_match": matches,
              "per_update": updates}  # fmt: skip
    write_json(record, out / "hf_diagnostics.json")
    figure(table, runs, out / "hf_diagnostics.png")
    fractions = " | ".join(f"{f:g}" for f in COST_FRACTIONS)
    lines = [
        f"# Hessian-free runs of `{table['protocol']}` / `{table['budget']}`: CG, λ and ρ",
        "",
        f"From [{report}](../{report.name}/table.md) by `{command}` (commit "
        f"{provenance['git_commit'][:10]}, {provenance['date']}). Each HF evaluation's figures "
        "are means over the updates since the one before; \"at the cap\" is the share of "
        "evaluations in which every update's CG run stopped at its iteration limit; \"warm "
        "start's share\" the mean of φ(x0) / φ(x_N), CG's quadratic model at its decayed warm "
        "start over its value at CG's answer (1: the start was the answer, 0: no better than "
        "zero, negative: worse; \"—\": a run made before it was recorded).",
        "",
        "| row | column | lr | seed | CG cap | curvature batch | updates | gradient cases | "
        "final error | mean CG iterations | at the cap | λ first / largest / last | mean ρ | "
        "warm start's share | no-step updates |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(f"| {s['row']} | {s['column']} | {s['lr']:g} | {s['seed']} | {s['cg_cap']} | "
          f"{s['curvature_batch']} | {s['updates']} | {s['gradient_cases'] / 1e6:.3g}M | "
          f"{_number(s['final_error'])} | {s['cg_iterations_mean']:.1f} | {s['at_cap']:.0%} | "
          f"{_number(s['damping_first'], 3)} / {_number(s['damping_max'], 3)} / "
          f"{_number(s['damping_last'], 3)} | {_number(s['reduction_ratio_mean'], 3)} | "
          f"{_number(s['warm_start_share_mean'], 3)} | "
          f"{s['rejected_updates']:g} |" for s in summaries),
        *_warm_start_section(summaries),
        "",
        "## Every cell at equal cost",
        "",
        "Mean training error over the seeds of each cell's chosen setting, at fractions of its "
        "row's cost in gradient cases (the first-order runs' budget; linear between "
        "evaluations; \"—\": the cell's runs do not reach it). A fine-tuned NAG cell's last "
        "1000 updates are at μ = 0.9.",
        "",
        f"| row | column | chosen | seeds | row's cost | {fractions} |",
        "|---|---|---|---|---|" + "---|" * len(COST_FRACTIONS),
        *(f"| {c['row']} | {c['column']} | {_chosen(c['chosen'])} | {c['seeds']} | "
          f"{c['cost'] / 1e6:.3g}M | " + " | ".join(_number(e) for e in c["errors"]) + " |"
          for c in costs),
        "",
        "## Each HF cell against the best first-order cell",
        "",
        "The gradient cases that the row's best first-order cell (lowest final error) needed to "
        "get down to the HF cell's final error (mean over seeds, linear between evaluations; "
        "\"—\": it never did), and how many times that the HF cell spent.",
        "",
        "| row | HF column | its final error | its cost | best first-order cell | "
        "its cost to that error | HF cost / first-order cost |",
        "|---|---|---|---|---|---|---|",
        *(f"| {m['row']} | {m['column']} | {_number(m['error'])} | {m['cost'] / 1e6:.3g}M | "
          f"{m['first_order']} | "
          + ("—" if m["first_order_cost"] is None else f"{m['first_order_cost'] / 1e6:.3g}M")
          + f" | {_number(m['ratio'], 3)} |" for m in matches),
        *([] if matches else ["", "(No first-order cell in this report.)"]),
        "",
        "## Each HF cell per update",
        "",
        "Mean training error over the seeds of each HF cell (at the rate its report chose) "
        "after the same numbers of updates (the last evaluations, reached by every "
        "HF run of its row that did not diverge, of the run evaluated least often; the others "
        "linear between their own evaluations; \"—\": past a diverged run's end): its progress "
        "per update, whatever an update cost.",
        "",
        "| row | HF column | lr | seeds | error (after updates) |",
        "|---|---|---|---|---|",
        *(f"| {u['row']} | {u['column']} | {u['lr']:g} | {u['seeds']} | " + ", ".join(
            f"{_number(e)} ({n})" for n, e in zip(u["updates"], u["errors"]))
          + ("" if u["updates"] else "— (no evaluation every HF run of the row reached)") + " |"
          for u in updates),
        "",
        "![error and λ against gradient cases](hf_diagnostics.png)",
    ]  # fmt: skip
    text = "\n".join(lines) + "\n"
    write_text(text, out / "README.md")
    return text


def _warm_start_section(summaries: list[dict[str, Any]]) -> list[str]:
    """The warm start's share of CG's answer quarter by quarter of each run that recorded it
    (none: no lines)."""
    recorded = [s for s in summaries if s["warm_start_share_quarters"] is not None]
    if not recorded:
        return []
    return [
        "",
        "## CG's warm start over the run",
        "",
        "Warm start's share (as above) averaged over each quarter of the run's evaluations, "
        "first to last: whether the decayed previous solution becomes a better or a worse "
        "start for CG as training goes on (a run whose CG starts from zero, CG decay 0, has 0 "
        "throughout).",
        "",
        "| row | column | lr | seed | first quarter | second | third | last | whole run |",
        "|---|---|---|---|---|---|---|---|---|",
        *(f"| {s['row']} | {s['column']} | {s['lr']:g} | {s['seed']} | "
          + " | ".join(_number(v, 3) for v in s["warm_start_share_quarters"])
          + f" | {_number(s['warm_start_share_mean'], 3)} |" for s in recorded),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="a report folder (table.json, runs.json)")
    parser.add_argument("--out", type=Path, required=True, help="results folder to write")
    args = parser.parse_args(argv)
    command = " ".join(["python scripts/hf_diagnostics.py",
                        *(sys.argv[1:] if argv is None else argv)])  # fmt: skip
    print(write(args.report, args.out, command))


if __name__ == "__main__":
    main()
