"""Reports: a protocol's table, ours beside the published numbers, and learning-curve plots."""

from __future__ import annotations

import dataclasses
import datetime
import html
import json
import math
import statistics
import textwrap
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from inertia import __version__
from inertia.experiments._archive import RUNS_ARCHIVE, runs_archive
from inertia.experiments._checkpoint import write_json, write_text
from inertia.experiments._environment import git_commit
from inertia.experiments._protocol import Protocol
from inertia.experiments._protocol import setting as setting_of
from inertia.experiments._trainer import RunResult, clipped_updates

__all__ = [
    "Cell",
    "build_table",
    "index_results",
    "provenance",
    "render_html",
    "render_markdown",
    "write_report",
]

_PANELS_PER_LINE = 4  # learning-curve panels side by side; more rows of a table wrap
COST_CURVES = "cost_curves.png"
"""The learning curves against the cost in gradient cases, in budgets with ``cost_axis``."""
_CURVE_COLORS = 10  # matplotlib's default cycle (tab10): the colors of the first ten columns
_CURVE_DASHES = ("-", "--", ":", "-.")  # the 11th-20th column dashed, and so on


@dataclasses.dataclass
class Cell:
    """One table cell: our number (best over ``select`` of the mean over seeds) and the paper's.

    Attributes:
        ours: the reported value; None if no run of the cell is complete; inf if all diverged.
        published: the paper's number, or None.
        chosen: the ``select`` setting that gave ``ours`` (e.g. ``{"lr": 0.01}``).
        runs_done: complete runs in the cell; runs_planned: runs the budget has for it.
        curve: the chosen setting's learning curve, averaged over seeds ``[(step, value)]``.
        datasets: the data the cell's runs used (e.g. ``["curves-synth"]``).
        seeds: the chosen setting's runs one by one, ``[(seed, value)]`` by seed (``ours`` is
            their mean).
        seed_curves: where the chosen setting has several complete runs, each one's learning
            curve, ``[(seed, [(step, value)])]`` by seed (``curve`` is their mean), so that a
            plot shows where the seeds part.
        clipped: where the chosen setting clips gradients (``clip_grad_norm`` or
            ``clip_relative``) and its runs counted it, how many of each run's updates
            clipping rescaled, ``[(seed, clipped updates, updates)]`` (issue 35: a clipping
            ablation means nothing unless clipping fired; a count, since one clip in 50,000
            updates is not "0.0%").
        cost_curve: the chosen setting's curve against its cost in gradient cases (one case's
            forward and backward pass; HF counts its other work at its measured cost per case,
            ``HessianFree.last_step``), mean over seeds of both ``[(cases, value)]``: the axis on
            which Hessian-free and first-order methods compare at an equal cost (issue 35).
            Empty where a run's curve has no cost (HF runs recorded before the count).
    """

    ours: float | None
    published: float | None
    chosen: dict[str, Any]
    runs_done: int
    runs_planned: int
    curve: list[tuple[int, float]]
    datasets: list[str] = dataclasses.field(default_factory=list)
    seeds: list[tuple[int, float]] = dataclasses.field(default_factory=list)
    seed_curves: list[tuple[int, list[tuple[int, float]]]] = dataclasses.field(default_factory=list)
    clipped: list[tuple[int, int, int]] = dataclasses.field(default_factory=list)
    cost_curve: list[tuple[float, float]] = dataclasses.field(default_factory=list)


def _costs(result: RunResult) -> list[float] | None:
    """The run's cost in gradient cases at each point of its curve: as recorded, or, for a
    first-order run recorded before the count, its updates times its minibatch (what the
    engine counts for it); None for an HF run without the count."""
    if all("gradient_cases" in point for point in result.curve):
        return [float(point["gradient_cases"]) for point in result.curve]
    if setting_of(result.config, "optimizer.name") == "hf":
        return None
    batch = float(result.config.get("batch_size", 0))
    return [float(point["step"]) * batch for point in result.curve]


def _cost_curve(results: list[RunResult], metric: str) -> list[tuple[float, float]]:
    """Mean over the finished runs of (cost, value) at each evaluation they share, ending with
    the mean of their last points: runs stopped by a cost (``max_gradient_cases``) end at
    slightly different updates but at about the same cost."""
    finished = [r for r in results if r.status == "completed"]
    costs = [_costs(r) for r in finished]
    if not finished or any(c is None for c in costs):
        return []
    return [
        (statistics.fmean(c[i] for c in costs if c is not None),
         statistics.fmean(r.curve[i][metric] for r in finished))
        for i in [*_shared_evaluations(finished), -1]
    ]  # fmt: skip


def _shared_evaluations(finished: list[RunResult]) -> list[int]:
    """The curve indices, before the runs' last points, at which every run evaluated at the
    same update (the last points are averaged on their own: runs stopped by a cost end at
    different updates)."""
    points = min(len(r.curve) for r in finished) - 1
    steps = [int(point["step"]) for point in finished[0].curve[:points]]
    return [i for i, step in enumerate(steps) if all(r.curve[i]["step"] == step for r in finished)]


def _clipped(results: list[RunResult]) -> list[tuple[int, int, int]]:
    """Each run's clipped updates and updates, by seed; empty unless every run clips and its
    curve counted the clipped updates (runs recorded before issue 35 did not)."""
    counts = [(int(r.config.get("seed", 0)), clipped_updates(r.config, r.curve), r.steps_done)
              for r in results]  # fmt: skip
    if not counts or any(count is None for _, count, _ in counts):
        return []
    return sorted((seed, count, steps) for seed, count, steps in counts if count is not None)


def _clipped_text(clipped: list[tuple[int, int, int]]) -> str:
    """The clipped updates of each seed's run as counts, so that a rare clip does not read as
    none: ``clipped 3, 0 of 50,000 updates`` (one total, said once) or ``clipped 3 of 50,000,
    0 of 40,000 updates``."""
    if len({steps for _, _, steps in clipped}) == 1:
        counts = ", ".join(f"{count:,}" for _, count, _ in clipped)
        return f"clipped {counts} of {clipped[0][2]:,} updates"
    counts = ", ".join(f"{count:,} of {steps:,}" for _, count, steps in clipped)
    return f"clipped {counts} updates"


def _cell_record(row: str, column: str, cell: Cell) -> dict[str, Any]:
    """A cell as table.json holds it (``clipped`` only where there is a count, ``cost_curve``
    only in budgets that compare at an equal cost)."""
    record = {"row": row, "column": column, **dataclasses.asdict(cell)}
    for optional in ("clipped", "cost_curve"):
        if not record[optional]:
            del record[optional]
    return record


def _per_seed(results: list[RunResult], metric: str) -> list[tuple[int, float]]:
    return sorted((int(r.config.get("seed", 0)), r.final[metric]) for r in results)


def _seed_curves(
    results: list[RunResult], metric: str
) -> list[tuple[int, list[tuple[int, float]]]]:
    finished = [r for r in results if r.status == "completed"]
    if len(finished) < 2:
        return []
    return sorted(
        (int(r.config.get("seed", 0)), [(int(point["step"]), point[metric]) for point in r.curve])
        for r in finished
    )


def _mean_curve(results: list[RunResult], metric: str) -> list[tuple[int, float]]:
    """Mean over the finished runs at each evaluation they share, ending with the mean of their
    last points at their mean last update (the last update itself where they end together)."""
    finished = [r for r in results if r.status == "completed"]
    if not finished:
        return []
    end = round(statistics.fmean(int(r.curve[-1]["step"]) for r in finished))
    return [
        (int(finished[0].curve[i]["step"]) if i >= 0 else end,
         statistics.fmean(r.curve[i][metric] for r in finished))
        for i in [*_shared_evaluations(finished), -1]
    ]  # fmt: skip


def build_table(
    protocol: Protocol, budget: str, results: dict[str, RunResult]
) -> dict[tuple[str, str], Cell]:
    """Fill every (row, column) of the protocol from the complete runs in ``results`` (keyed
    by run key; runs that the budget does not plan are left out)."""
    plan = protocol.budget(budget).plan()
    planned: dict[tuple[str, str], int] = defaultdict(int)
    for run in plan.values():
        planned[(run.row, run.column)] += 1
    groups: dict[tuple[str, str], dict[tuple, list[RunResult]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for key, result in results.items():
        if key not in plan:
            continue
        setting = tuple((field, setting_of(result.config, field)) for field in protocol.select)
        groups[(plan[key].row, plan[key].column)][setting].append(result)
    metric = protocol.metric
    chooser = protocol.chooser(budget)
    cost_axis = protocol.budget(budget).cost_axis
    table: dict[tuple[str, str], Cell] = {}
    for row in protocol.rows:
        for column in protocol.columns:
            cell = (row, column)
            settings = groups.get(cell, {})
            best: tuple[float, tuple, list[RunResult]] | None = None
            for setting, runs in settings.items():
                value = statistics.fmean(r.final[chooser] for r in runs)
                if (
                    best is None
                    or value < best[0]
                    or (math.isinf(best[0]) and not math.isinf(value))
                ):
                    best = (value, setting, runs)
            table[cell] = Cell(
                ours=statistics.fmean(r.final[metric] for r in best[2]) if best else None,
                published=protocol.published.get(cell),
                chosen=dict(best[1]) if best else {},
                runs_done=sum(len(runs) for runs in settings.values()),
                runs_planned=planned.get(cell, 0),
                curve=_mean_curve(best[2], metric) if best else [],
                datasets=sorted(
                    {r.dataset for runs in settings.values() for r in runs if r.dataset}
                ),
                seeds=_per_seed(best[2], metric) if best else [],
                seed_curves=_seed_curves(best[2], metric) if best else [],
                clipped=_clipped(best[2]) if best else [],
                cost_curve=_cost_curve(best[2], metric) if best and cost_axis else [],
            )
    return table


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "diverged"
    return f"{value:.4g}"


def _with_runs(
    names: Sequence[str], others: Sequence[str], runs_planned: Callable[[str, str], int]
) -> list[str]:
    """The ``names`` (rows or columns) with a run planned against any of ``others``; all of
    them if none has one. ``runs_planned(name, other)`` counts the runs of that cell."""
    planned = [name for name in names if any(runs_planned(name, other) for other in others)]
    return planned or list(names)


def shown_columns(protocol: Protocol, table: dict[tuple[str, str], Cell]) -> list[str]:
    """The protocol's columns that have runs in this budget (all of them if none has)."""
    return _with_runs(protocol.columns, protocol.rows, lambda c, r: table[(r, c)].runs_planned)


def plotted_rows(protocol: Protocol, table: dict[tuple[str, str], Cell]) -> list[str]:
    """The protocol's rows that have runs in this budget (all of them if none has): the rows
    the learning curves draw, and the table's rows where no published numbers are shown
    (:func:`shown_rows`)."""
    return _with_runs(protocol.rows, protocol.columns, lambda r, c: table[(r, c)].runs_planned)


def shown_rows(
    protocol: Protocol, table: dict[tuple[str, str], Cell], with_published: bool
) -> list[str]:
    """The rows with runs in this budget, and where published numbers are shown beside ours,
    the rows with a published number in a shown column too (a row with neither would be all
    dashes: e.g. table5's ``add-mean T=80``, our variant of a published row, outside its
    ``medium`` budget)."""
    if not with_published:
        return plotted_rows(protocol, table)
    columns = shown_columns(protocol, table)
    return [
        row
        for row in protocol.rows
        if any(
            table[(row, c)].runs_planned or table[(row, c)].published is not None for c in columns
        )
    ] or list(protocol.rows)


def diverged_columns(
    table: dict[tuple[str, str], Cell], row: str, columns: Sequence[str]
) -> list[str]:
    """The columns whose cell in ``row`` reports diverged (every setting has a diverged run):
    they have no curve to draw, so the learning-curve panel names them instead."""
    return [c for c in columns if math.isinf(table[(row, c)].ours or 0.0)]


def row_label(protocol: Protocol, row: str, table: dict[tuple[str, str], Cell]) -> str:
    """The row's name, plus the data its runs used where neither the row nor a column names it
    (``curves (curves-synth)``; a ``jsb RNN`` column already says ``jsb``)."""
    columns = shown_columns(protocol, table)
    used = sorted({name for column in columns for name in table[(row, column)].datasets})
    unnamed = [name for name in used if name not in row and not any(name in c for c in columns)]
    return f"{row} ({', '.join(unnamed)})" if unnamed else row


def _ours_text(cell: Cell) -> str:
    if cell.runs_planned == 0:
        return "—"
    if cell.ours is None:
        return "not run"
    ours = _number(cell.ours)
    if len(cell.seeds) > 1:  # the mean, then each seed's run
        ours += " (seeds " + ", ".join(_number(value) for _, value in cell.seeds) + ")"
    if cell.runs_done < cell.runs_planned:
        ours += f" ({cell.runs_done}/{cell.runs_planned} runs)"
    if cell.clipped:
        ours += f" ({_clipped_text(cell.clipped)})"
    return ours


def shows_published(table: dict[tuple[str, str], Cell], columns: list[str]) -> bool:
    """Whether any shown cell has a published number (a protocol without any, or a budget whose
    columns are all our additions, shows ours alone)."""
    return any(cell.published is not None for (_, c), cell in table.items() if c in columns)


def _cell_text(cell: Cell, published: bool) -> str:
    """``ours / published``, or ours alone where the table shows no published numbers."""
    if not published:
        return _ours_text(cell)
    return f"{_ours_text(cell)} / {_number(cell.published)}"


def _legend(published: bool) -> tuple[str, str]:
    """What a cell holds, and what its markers mean, for the table's caption."""
    absent = "'—': no run of this cell in this budget"
    if not published:
        return "Each cell: **ours** (no published numbers are shown; see the notes below)", (
            f"'not run': no complete run yet; {absent}."
        )
    return "Each cell: **ours / published**", (
        f"'not run': no complete run yet; {absent}; 'n/a': no published number."
    )


def _chosen_by(protocol: Protocol, budget: str) -> str:
    chooser = protocol.chooser(budget)
    return f" by {chooser}" if chooser != protocol.metric else ""


def render_markdown(
    protocol: Protocol, budget: str, table: dict[tuple[str, str], Cell], error_name: str
) -> str:
    columns = shown_columns(protocol, table)
    published = shows_published(table, columns)
    legend, markers = _legend(published)
    lines = [
        f"## {protocol.title}",
        "",
        f"{legend}. Ours: {error_name}, `{budget}` budget (below); "
        f"mean over seeds (each seed's value after it, where there are several), best over "
        f"{', '.join(protocol.select)}{_chosen_by(protocol, budget)}. "
        f"{markers}",
        "",
        "| | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for row in shown_rows(protocol, table, published):
        cells = [_cell_text(table[(row, column)], published) for column in columns]
        lines.append(f"| {row_label(protocol, row, table)} | " + " | ".join(cells) + " |")
    chosen = [
        f"{row}/{column}: " + ", ".join(f"{k}={v}" for k, v in cell.chosen.items())
        for (row, column), cell in table.items()
        if cell.chosen
    ]
    if chosen:
        lines += ["", "Chosen settings: " + "; ".join(chosen) + "."]
    costs = [
        f"{row}/{column}: {cell.cost_curve[-1][0]:.3g}"
        for (row, column), cell in table.items()
        if cell.cost_curve
    ]
    if costs:
        lines += ["", "Cost of each cell's chosen runs at their end, in gradient cases (mean "
                  f"over seeds; curves against it in [{COST_CURVES}]({COST_CURVES})): "
                  + "; ".join(costs) + "."]  # fmt: skip
    if protocol.notes:
        lines += ["", protocol.notes]
    lines += ["", f"Budget `{budget}`: {protocol.budget(budget).describe()}"]
    return "\n".join(lines) + "\n"


def render_html(
    protocol: Protocol, budget: str, table: dict[tuple[str, str], Cell], error_name: str
) -> str:
    columns = shown_columns(protocol, table)
    with_published = shows_published(table, columns)
    header = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = []
    for row in shown_rows(protocol, table, with_published):
        cells = []
        for column in columns:
            cell = table[(row, column)]
            published = (
                f'<br><span class="paper">{html.escape(_number(cell.published))}</span>'
                if with_published
                else ""
            )
            cls = "missing" if cell.ours is None else ""
            cells.append(
                f'<td class="{cls}"><b>{html.escape(_ours_text(cell))}</b>{published}</td>'
            )
        label = html.escape(row_label(protocol, row, table))
        rows.append(f"<tr><th>{label}</th>{''.join(cells)}</tr>")
    about, *settings = protocol.budget(budget).describe().split("\n")
    items = "".join(f"<li>{html.escape(line.removeprefix('- '))}</li>" for line in settings)
    description = f"<p>Budget <code>{html.escape(budget)}</code>: {html.escape(about)}</p>"
    description += f"<ul>{items}</ul>"
    cost_image = (
        f'<img src="{COST_CURVES}" alt="learning curves against the cost" '
        'style="max-width: 100%">\n'
        if protocol.budget(budget).cost_axis
        else ""
    )
    caption = (
        "Each cell: <b>ours</b> (top) and the published number (grey)."
        if with_published
        else "Each cell: <b>ours</b> (no published numbers are shown; see the notes below)."
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(protocol.title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #bbb; padding: 0.4em 0.7em; text-align: center; }}
.paper {{ color: #666; font-size: 0.9em; }}
.missing {{ background: #f4f4f4; color: #999; }}
</style></head><body>
<h2>{html.escape(protocol.title)}</h2>
<p>{caption} Ours: {html.escape(error_name)},
<code>{html.escape(budget)}</code> budget (below); mean over seeds (each seed's value after
it, where there are several), best over
{html.escape(", ".join(protocol.select) + _chosen_by(protocol, budget))}.</p>
<table><tr><th></th>{header}</tr>
{chr(10).join(rows)}
</table>
<p>{html.escape(protocol.notes)}</p>
{description}
<img src="learning_curves.png" alt="learning curves" style="max-width: 100%">
{cost_image}</body></html>
"""


def curve_style(index: int) -> tuple[str, str]:
    """Color and line style of the ``index``-th column's curve: the default color cycle, then the
    same colors dashed, dotted, dash-dotted, so up to 40 columns (table1 draws 15) all differ."""
    color = f"C{index % _CURVE_COLORS}"
    return color, _CURVE_DASHES[(index // _CURVE_COLORS) % len(_CURVE_DASHES)]


def plot_curves(
    protocol: Protocol, table: dict[tuple[str, str], Cell], path: Path, error_name: str,
    row_error_names: dict[str, str] | None = None, cost: bool = False,
) -> None:  # fmt: skip
    """The learning curves, one panel per row; a row's y label is what its runs measure
    (``row_error_names``, e.g. table5's memorization rows count symbols, not sequences), else
    ``error_name``. Against updates, or with ``cost`` against each cell's cost in gradient cases
    (:attr:`Cell.cost_curve`; the seeds' mean only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import EngFormatter

    rows = plotted_rows(protocol, table)
    columns = shown_columns(protocol, table)
    across = min(len(rows), _PANELS_PER_LINE)
    down = -(-len(rows) // across)
    figure, axes = plt.subplots(
        down, across, figsize=(5.5 * across, 4.2 * down + 0.6), squeeze=False
    )
    for axis in axes.flat[len(rows) :]:
        axis.set_visible(False)

    def curves_of(cell: Cell) -> tuple[list[tuple[float, float]], list[list[tuple[int, float]]]]:
        if cost:
            return list(cell.cost_curve), []
        return list(cell.curve), [seed_curve for _, seed_curve in cell.seed_curves]

    for axis, row in zip(axes.flat, rows):
        drawn = False
        shown: list[float] = []
        for index, column in enumerate(columns):
            curve, seed_curves = curves_of(table[(row, column)])
            if curve:
                color, dashes = curve_style(index)
                steps, values = zip(*curve)
                axis.plot(steps, values, color=color, ls=dashes, marker="o", ms=3, label=column)
                for seed_curve in seed_curves:  # each seed, thin
                    seed_steps, seed_values = zip(*seed_curve)
                    axis.plot(seed_steps, seed_values, color=color, ls=dashes, lw=0.8,
                              alpha=0.35)  # fmt: skip
                shown += [*values, *(v for sc in seed_curves for _, v in sc)]
                drawn = True
        diverged = diverged_columns(table, row, columns)
        title = textwrap.fill(row_label(protocol, row, table), 50)
        if diverged and drawn:
            title += "\n" + textwrap.fill("diverged: " + ", ".join(diverged), 60)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("cost: gradient cases (forward + backward passes of one case)"
                        if cost else "update")  # fmt: skip
        if cost:  # 400k, 1.5M rather than an offset exponent over the label
            axis.xaxis.set_major_formatter(EngFormatter(sep=""))
        label = (row_error_names or {}).get(row, error_name)
        axis.set_ylabel(textwrap.fill(label, 45), fontsize=9)
        if drawn:
            if all(v > 0 for v in shown):
                axis.set_yscale("log")
            axis.legend(fontsize=8)
        else:
            note = "diverged" if diverged else "not run"
            axis.text(0.5, 0.5, note, ha="center", va="center", transform=axis.transAxes)
    title = textwrap.fill(protocol.title, max(60, 55 * across))
    seeds_note = (
        "; thin lines: each seed"
        if not cost
        and any(cell.seed_curves for (_, column), cell in table.items() if column in columns)
        else ""
    )
    figure.suptitle(f"{title}\n(best setting per column, mean over seeds{seeds_note})", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def provenance(protocol: Protocol, budget: str, results: dict[str, RunResult]) -> dict[str, Any]:
    """What produced a report: when, from which code, on which hardware, which seeds, how long,
    and every run of the budget that is complete (its cell, settings key, outcome, time).

    ``wall_time_s`` is the training this budget's own sweep did; the results it copied from
    identical runs of other sweeps (``runs_reused``, see ``adopt_identical_result``) are counted
    apart, in ``reused_wall_time_s``, since their time was spent, and is reported, there. A
    fine-tuned run that branched from its twin counts only the updates after the branch (its
    ``branched_wall_time_s`` is the twin's, counted with the twin)."""
    plan = protocol.budget(budget).plan()
    runs = []
    for key, run in plan.items():
        result = results.get(key)
        if result is None:
            continue
        environment = result.environment
        runs.append({
            "key": key, "row": run.row, "column": run.column,
            "seed": result.config.get("seed", 0), "status": result.status,
            "final": result.final, "diverged_at": result.diverged_at,
            "steps_done": result.steps_done, "wall_time_s": result.wall_time_s,
            "branched_wall_time_s": result.branched_wall_time_s,
            "cpu_time_s": result.cpu_time_s,
            "branched_cpu_time_s": result.branched_cpu_time_s,
            "updates_per_s": result.updates_per_s, "peak_memory_mb": result.peak_memory_mb,
            "dataset": result.dataset, "commit": environment.get("git_commit", "unknown"),
            "hardware": environment.get("hardware", "unknown"),
            "torch": environment.get("torch", "unknown"), "reused_from": result.reused_from,
        })  # fmt: skip
    trained = [run for run in runs if not run["reused_from"]]
    reused = [run for run in runs if run["reused_from"]]
    counted = [run for run in trained if run["cpu_time_s"] is not None]
    return {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "inertia": __version__,
        "report_commit": git_commit(),
        "budget": budget,
        "runs_planned": len(plan),
        "runs_complete": len(runs),
        "seeds": sorted({run["seed"] for run in runs}),
        "commits": sorted({run["commit"] for run in runs}),
        "hardware": sorted({run["hardware"] for run in runs}),
        "torch": sorted({run["torch"] for run in runs}),
        "wall_time_s": sum(_own_time(run) for run in trained),
        "cpu_time_s": sum(_own_cpu_time(run) for run in counted),
        "runs_with_cpu_time": len(counted),
        "runs_trained": len(trained),
        "runs_reused": len(reused),
        "reused_wall_time_s": sum(_own_time(run) for run in reused),
        "runs": runs,
    }


def _own_time(run: dict[str, Any]) -> float:
    """A run's training time without the part its twin spent before the branch."""
    return run["wall_time_s"] - run["branched_wall_time_s"]


def _own_cpu_time(run: dict[str, Any]) -> float:
    """A run's CPU time of training without the part counted before its branch."""
    return float(run["cpu_time_s"]) - float(run["branched_cpu_time_s"] or 0.0)


def _cpu_note(facts: dict[str, Any]) -> str:
    """The CPU time of the runs that counted it (since 2026-12-07), or '' where none did.

    Wall time is what a run took beside whatever else shared the cores; CPU time is what it
    cost."""
    counted = facts.get("runs_with_cpu_time", 0)
    if not counted:
        return ""
    runs = "the run that counts it" if counted == 1 else f"the {counted} runs that count it"
    which = "" if counted == facts["runs_trained"] else f" by {runs}"
    return f"{facts['cpu_time_s'] / 3600:.2f} CPU-hours{which}"


def _reused_note(facts: dict[str, Any]) -> str:
    """How many results a report copied from other sweeps, and their training time, or ''."""
    count = facts.get("runs_reused", 0)
    if not count:
        return ""
    return (
        f"{count} of the runs are identical runs of other sweeps whose results were reused "
        f"({facts['reused_wall_time_s'] / 3600:.2f} h of training, counted there)"
    )


def _provenance_markdown(facts: dict[str, Any]) -> str:
    hours = facts["wall_time_s"] / 3600
    reused = _reused_note(facts)
    cpu = _cpu_note(facts)
    return (
        f"Provenance: {facts['runs_complete']} of {facts['runs_planned']} runs complete, seeds "
        f"{', '.join(map(str, facts['seeds'])) or '-'}; {hours:.2f} h of training in total "
        f"{f'by this sweep; {reused} ' if reused else ''}"
        f"(wall time per run in table.json{f'; {cpu}' if cpu else ''}); "
        f"code {', '.join(c[:10] for c in facts['commits'])}; "
        f"{'; '.join(facts['hardware'])}; torch {', '.join(facts['torch'])}; report generated "
        f"{facts['generated']}."
    )


def write_report(
    protocol: Protocol, budget: str, results: dict[str, RunResult], out_dir: str | Path
) -> str:
    """Write ``table.md``, ``index.html``, ``learning_curves.png`` (and :data:`COST_CURVES`
    where the budget compares at an equal cost), ``table.json`` (the
    cells and :func:`provenance`) and ``runs.json`` (every complete run's result, from which
    ``inertia sweep --restore-from`` rebuilds a lost runs folder); return the Markdown."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = build_table(protocol, budget, results)
    plan = protocol.budget(budget).plan()
    row_error_names = {plan[key].row: r.error_name for key, r in results.items() if key in plan}
    error_name = protocol.metric_label or (
        next(iter(results.values())).error_name if results else protocol.metric
    )
    if not protocol.metric_label and len(set(row_error_names.values())) > 1:
        rows_by_name: dict[str, list[str]] = {}
        for row in protocol.rows:
            if row in row_error_names:
                rows_by_name.setdefault(row_error_names[row], []).append(row)
        error_name = "; ".join(f"{', '.join(rows)}: {name}" for name, rows in rows_by_name.items())
    facts = provenance(protocol, budget, results)
    markdown = render_markdown(protocol, budget, table, error_name)
    markdown += "\n" + _provenance_markdown(facts) + "\n"
    write_text(markdown, out / "table.md")
    write_text(render_html(protocol, budget, table, error_name), out / "index.html")
    # a protocol's metric_label names what its curves show (hypergradient's: the meta-objective,
    # where its runs' error_name describes their classification error)
    axis_names = {} if protocol.metric_label else row_error_names
    plot_curves(protocol, table, out / "learning_curves.png", error_name, axis_names)
    if protocol.budget(budget).cost_axis:
        plot_curves(protocol, table, out / COST_CURVES, error_name, axis_names, cost=True)
    write_json(
        {
            "protocol": protocol.name,
            "title": protocol.title,
            "budget": budget,
            "metric": protocol.metric,
            "error_name": error_name,
            "cells": [_cell_record(row, column, cell) for (row, column), cell in table.items()],
            "provenance": facts,
        },
        out / "table.json",
    )
    write_json(runs_archive(protocol.name, budget, plan, results), out / RUNS_ARCHIVE)
    return markdown


def index_results(folder: str | Path) -> str:
    """Write ``README.md`` in a results folder: one line per report in it (from each
    ``table.json``), linking its table and learning curves, then a link to every other
    evidence folder (one with a README.md of its own, up to two levels down). Returns the
    text."""
    folder = Path(folder)
    lines = [
        "# Results",
        "",
        "Reports written by `inertia report PROTOCOL --budget BUDGET --results` from the runs of "
        "a sweep; each folder holds the table (ours beside the published numbers), the learning "
        "curves and `table.json` with every run's settings, outcome, time, code commit and "
        "hardware; those written since 2026-12-01 also hold `runs.json`, every run's full "
        "result, from which `inertia sweep PROTOCOL --budget BUDGET --restore-from "
        "results/PROTOCOL-BUDGET` rebuilds a lost runs folder and trains only the missing runs. "
        "Regenerate one with the same command after its sweep.",
        "",
        "| report | budget | runs | training time | code | generated |",
        "|---|---|---|---|---|---|",
    ]
    for path in sorted(folder.glob("*/table.json")):
        report = json.loads(path.read_text())
        facts = report["provenance"]
        name = path.parent.name
        lines.append(
            f"| [{report['title']}]({name}/table.md) ([curves]({name}/learning_curves.png)) | "
            f"`{report['budget']}` | {facts['runs_complete']}/{facts['runs_planned']} | "
            f"{facts['wall_time_s'] / 3600:.2f} h"
            f"{f' (+{n} runs reused)' if (n := facts.get('runs_reused', 0)) else ''} | "
            f"{', '.join(c[:10] for c in facts['commits'])} | {facts['generated'][:10]} |"
        )
    others = _other_evidence(folder)
    if others:
        lines += [
            "",
            "Other evidence, each folder with its own README (what produced it, when, on which "
            "code and hardware): single runs reported by a script, benchmark records "
            "(`python -m benchmarks.run --record`).",
            "",
        ]
        lines += [f"- [{title}]({link})" for link, title in others]
    text = "\n".join(lines) + "\n"
    write_text(text, folder / "README.md")
    return text


def _other_evidence(folder: Path) -> list[tuple[str, str]]:
    """(link, title) of every README.md one or two levels below ``folder`` that is not a
    report's folder (no ``table.json``); the title is its first heading."""
    found = []
    for readme in sorted([*folder.glob("*/README.md"), *folder.glob("*/*/README.md")]):
        if (readme.parent / "table.json").exists():
            continue
        headings = [line for line in readme.read_text().splitlines() if line.startswith("# ")]
        title = headings[0][2:].strip() if headings else readme.parent.name
        found.append((readme.relative_to(folder).as_posix(), title))
    return found
