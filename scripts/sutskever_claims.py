"""Which of Sutskever et al.'s (2013) autoencoder claims hold in our reports (issue 21).

Reads the committed reports ``<results>/table1-<budget>/table.json``, ``table2-<budget>`` and
``table3-<budget>`` (written by ``inertia report ... --results``; table1's HF cells also from
``table1-<budget>-hf``, the HF runs alone, where present), and for each claim compares
the cells it names, per dataset:

- momentum >> SGD: the best momentum cell (NAG, NAG before fine-tuning, CM) against SGD;
- μ_max ≥ 0.99 >> 0.9: the best of 0.99, 0.995, 0.999 against 0.9, for NAG before fine-tuning and
  for CM;
- NAG > CM at high μ: NAG before fine-tuning against CM at 0.995 and at 0.999 (neither fine-tuned);
- fine-tuning gain: each NAG cell from μ_max 0.99 up against its twin before fine-tuning
  (table1; at μ_max 0.9 the fine-tuning μ = 0.9 changes nothing) and table2's after against
  before;
- HF-dag > HF-star (section 5: the momentum-like HF beats Martens's), NAG ≥ HF-star (the best
  NAG cell, fine-tuned or not, against HF-star) and HF-dag > NAG (Table 1: HF-dag below the best
  NAG cell on every dataset; issue 35 asks it at an equal cost, table1's ``equal-cost``
  budget), where table1 has the HF columns;
- SI scale 1 best (table3): scale 1 against each other scale.

A comparison "holds (every seed)" when every seed of the cell claimed better is below every seed
of the other ("holds (one seed)" where a cell has one), "holds (each seed against its twin)" for
the fine-tuning gain when the two cells chose the same setting and every seed's fine-tuned run is
below its own twin before fine-tuning (the pair shares everything up to the fine-tuning phase, so
the seeds are compared pairwise: seeds that differ more from each other than fine-tuning changes
either would otherwise hide a gain every seed shows), "holds (mean only)" when only the means
are in the claimed order, and "does not hold" otherwise. Writes ``README.md`` (the verdicts with
their numbers) and ``claims.png`` (error against μ_max per dataset, each seed a dot; table3's
error against the SI scale).

    python scripts/sutskever_claims.py --results results --budget medium \\
        --out results/sutskever2013-claims-medium
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MUS = ("0.9", "0.99", "0.995", "0.999")
SCALES = ("0.25", "0.5", "1", "2", "4")


@dataclass(frozen=True)
class Cell:
    """One report cell: the mean, ``by_seed`` pairing each seed with its value (empty for a
    one-run cell, whose report lists no seeds) and ``chosen``, the setting the report chose."""

    mean: float
    by_seed: tuple[tuple[int, float], ...] = ()
    chosen: tuple[tuple[str, Any], ...] = ()

    @property
    def seeds(self) -> tuple[float, ...]:
        """Each seed's value; the mean alone for a one-run cell."""
        return tuple(value for _, value in self.by_seed) or (self.mean,)

    @property
    def label(self) -> str:
        values = ", ".join(f"{v:.4g}" for v in self.seeds)
        return f"{self.mean:.4g}" + (f" ({values})" if len(self.seeds) > 1 else "")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def load_cells(path: Path) -> dict[tuple[str, str], Cell]:
    """The complete cells of a report's table.json, by (row, column): a cell some of whose
    runs are missing (a budget still being run) is left out, as its best-over-settings value
    would compare different settings and seeds."""
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        _fail(f"{path} is missing: write it with `inertia report <table> --results ...` first")
    cells = {}
    for cell in report["cells"]:
        if cell["ours"] is None or cell.get("runs_done", 1) < cell.get("runs_planned", 1):
            continue
        by_seed = tuple((int(seed), value) for seed, value in cell.get("seeds") or [])
        chosen = tuple(sorted((cell.get("chosen") or {}).items()))
        cells[(cell["row"], cell["column"])] = Cell(cell["ours"], by_seed, chosen)
    return cells


def verdict(better: Cell, worse: Cell, twins: bool = False) -> str:
    """Whether ``better`` is below ``worse``: in every seed, in the mean only, or not;
    ``twins``: the cells are a fine-tuned run and its twin, compared seed by seed where both
    chose the same setting and have the same seeds."""
    if max(better.seeds) < min(worse.seeds):
        seeds = min(len(better.seeds), len(worse.seeds))
        return "holds (every seed)" if seeds > 1 else "holds (one seed)"
    paired = (
        twins
        and better.chosen == worse.chosen
        and len(better.by_seed) > 1
        and [seed for seed, _ in better.by_seed] == [seed for seed, _ in worse.by_seed]
    )
    if paired and all(b < w for (_, b), (_, w) in zip(better.by_seed, worse.by_seed)):
        return "holds (each seed against its twin)"
    if better.mean < worse.mean:
        return "holds (mean only)"
    return "does not hold"


def compare(
    claim: str,
    dataset: str,
    better: tuple[str, Cell],
    worse: tuple[str, Cell],
    twins: bool = False,
) -> dict:
    (better_name, better_cell), (worse_name, worse_cell) = better, worse
    ratio = worse_cell.mean / better_cell.mean if better_cell.mean > 0 else math.inf
    return {
        "claim": claim,
        "dataset": dataset,
        "better": f"{better_name} {better_cell.label}",
        "worse": f"{worse_name} {worse_cell.label}",
        "ratio": ratio,
        "verdict": verdict(better_cell, worse_cell, twins),
    }


def _best(cells: dict[tuple[str, str], Cell], row: str, columns: list[str]) -> tuple[str, Cell]:
    present = [(column, cells[(row, column)]) for column in columns if (row, column) in cells]
    return min(present, key=lambda pair: pair[1].mean)


def table1_claims(cells: dict[tuple[str, str], Cell]) -> list[dict]:
    claims = []
    for dataset in sorted({row for row, _ in cells}):

        def has(column: str, dataset: str = dataset) -> bool:
            return (dataset, column) in cells

        def named(column: str, dataset: str = dataset) -> tuple[str, Cell]:
            return column, cells[(dataset, column)]

        momentum = [f"{mu}{kind}" for mu in MUS for kind in ("N", "N before FT", "M")]
        if has("SGD") and any(has(column) for column in momentum):
            claims.append(compare("momentum >> SGD", dataset, _best(cells, dataset, momentum),
                                  named("SGD")))  # fmt: skip
        for kind, name in (("N before FT", "NAG"), ("M", "CM")):
            high = [f"{mu}{kind}" for mu in MUS[1:]]
            if has(f"0.9{kind}") and any(has(column) for column in high):
                best = _best(cells, dataset, high)
                claims.append(compare(f"μ_max ≥ 0.99 >> 0.9 ({name})", dataset, best,
                                      named(f"0.9{kind}")))  # fmt: skip
        for mu in MUS[2:]:
            if has(f"{mu}N before FT") and has(f"{mu}M"):
                claims.append(compare(f"NAG > CM at μ_max {mu}", dataset,
                                      named(f"{mu}N before FT"), named(f"{mu}M")))  # fmt: skip
        # Fine-tuning lowers μ to 0.9, the value a μ_max = 0.9 run already has by then in every
        # budget (eq. (3) reaches 0.9 after four plateaus): its two runs are the same run.
        for mu in MUS[1:]:
            if has(f"{mu}N") and has(f"{mu}N before FT"):
                claims.append(compare(f"fine-tuning gain at μ_max {mu}", dataset,
                                      named(f"{mu}N"), named(f"{mu}N before FT"),
                                      twins=True))  # fmt: skip
        # Section 5 / Table 1: the momentum-like HF (HF-dag) beats Martens' HF (HF-star: CURVES
        # 0.058 vs 0.11), and NAG reaches HF-star's results (CURVES 0.074 vs 0.11).
        if has("HF-dag") and has("HF-star"):
            claims.append(compare("HF-dag > HF-star", dataset, named("HF-dag"), named("HF-star")))
        nag = [f"{mu}N" for mu in MUS] + [f"{mu}N before FT" for mu in MUS]
        if has("HF-star") and any(has(column) for column in nag):
            claims.append(compare("NAG ≥ HF-star", dataset, _best(cells, dataset, nag),
                                  named("HF-star")))  # fmt: skip
        if has("HF-dag") and any(has(column) for column in nag):
            claims.append(compare("HF-dag > NAG", dataset, named("HF-dag"),
                                  _best(cells, dataset, nag)))  # fmt: skip
    return claims


def table2_claims(cells: dict[tuple[str, str], Cell]) -> list[dict]:
    claims = []
    for row in sorted({row for row, _ in cells}):
        if (row, "after") in cells and (row, "before") in cells:
            after, before = ("after", cells[(row, "after")]), ("before", cells[(row, "before")])
            claims.append(compare("fine-tuning gain (table2)", row, after, before, twins=True))
    return claims


def table3_claims(cells: dict[tuple[str, str], Cell]) -> list[dict]:
    claims = []
    for row in sorted({row for row, _ in cells}):
        if (row, "1") not in cells:
            continue
        for scale in SCALES:
            if scale != "1" and (row, scale) in cells:
                claims.append(compare(f"SI scale 1 best (vs {scale})", row,
                                      ("scale 1", cells[(row, "1")]),
                                      (f"scale {scale}", cells[(row, scale)])))  # fmt: skip
    return claims


def _mean_and_seeds(axis: Any, points: Sequence[tuple[float, Cell]], label: str) -> None:
    """The cells' means as a line over x, each seed a dot of the line's colour."""
    line = axis.plot([x for x, _ in points], [c.mean for _, c in points], marker="o", label=label)
    for x, cell in points:
        axis.scatter([x] * len(cell.seeds), cell.seeds, s=12, color=line[0].get_color(), alpha=0.6)


def plot(tables: dict[str, dict[tuple[str, str], Cell]], path: Path, budget: str) -> None:
    """Error against μ_max per table1 dataset (NAG, NAG before fine-tuning, CM; SGD and HF as
    lines), and table3's error against the SI scale; every seed a dot, the mean a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table1, table3 = tables.get("table1", {}), tables.get("table3", {})
    datasets = sorted({row for row, _ in table1})
    panels = len(datasets) + (1 if table3 else 0)
    if panels == 0:
        return
    figure, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.6), squeeze=False)
    for axis, dataset in zip(axes[0], datasets, strict=False):
        for kind, label in (("N", "NAG (fine-tuned)"), ("N before FT", "NAG before FT"),
                            ("M", "CM")):  # fmt: skip
            points = [(i, table1[(dataset, f"{mu}{kind}")]) for i, mu in enumerate(MUS)
                      if (dataset, f"{mu}{kind}") in table1]  # fmt: skip
            if not points:
                continue
            _mean_and_seeds(axis, points, label)
        for column, style in (("SGD", "--"), ("HF-star", ":"), ("HF-dag", "-.")):
            if (dataset, column) in table1:
                axis.axhline(table1[(dataset, column)].mean, linestyle=style, color="grey",
                             label=column)  # fmt: skip
        axis.set_xticks(range(len(MUS)), MUS)
        axis.set_xlabel("μ_max")
        axis.set_yscale("log")
        axis.set_title(f"table1 {dataset}")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    if table3:
        axis = axes[0][-1]
        for row in sorted({row for row, _ in table3}):
            by_scale = [(float(s), table3[(row, s)]) for s in SCALES if (row, s) in table3]
            _mean_and_seeds(axis, by_scale, row)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("SI scale multiplier")
        axis.set_title("table3 curves")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    axes[0][0].set_ylabel("training squared error per case")
    figure.suptitle(f"Sutskever et al. (2013) autoencoder claims, `{budget}` budget "
                    "(line: mean over seeds; dots: each seed)")  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, type=Path, help="the results folder")
    parser.add_argument("--budget", default="medium", help="the reports' budget (medium)")
    parser.add_argument("--out", required=True, type=Path, help="folder for README.md and PNG")
    args = parser.parse_args(argv)
    tables: dict[str, dict[tuple[str, str], Cell]] = {}
    sources: list[str] = []
    # table1's HF columns may come from their own budget (medium-hf: the same runs as medium's).
    for table, name in (
        ("table1", f"table1-{args.budget}-hf"),
        ("table1", f"table1-{args.budget}"),
        ("table2", f"table2-{args.budget}"),
        ("table3", f"table3-{args.budget}"),
    ):
        path = args.results / name / "table.json"
        if path.exists():
            tables[table] = {**tables.get(table, {}), **load_cells(path)}
            sources.append(f"[{name}](../{name}/table.md)")
    if not tables:
        _fail(f"no table1/2/3 report of budget {args.budget!r} in {args.results}: write them "
              "with `inertia report <table> --budget ... --results ...` first")  # fmt: skip
    claims = [
        *table1_claims(tables.get("table1", {})),
        *table2_claims(tables.get("table2", {})),
        *table3_claims(tables.get("table3", {})),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    plot(tables, args.out / "claims.png", args.budget)
    lines = [
        f"# Sutskever et al. (2013): which autoencoder claims hold, `{args.budget}` budget",
        "",
        f"From the reports {', '.join(sources)} (training squared error per case; a cell is "
        "the mean over seeds, each seed after it). A claim 'holds (every seed)' when every "
        "seed of the cell claimed better is below every seed of the other, 'holds (each "
        "seed against its twin)' when a fine-tuned cell and its twin before fine-tuning chose "
        "the same setting and each seed's fine-tuned run is below that seed's twin (the two "
        "share every update before the fine-tuning phase), 'holds (mean only)' when only the "
        "means are in that order. Ratio: worse mean / better mean. "
        "The fine-tuning gain is not claimed at μ_max 0.9: fine-tuning sets μ = 0.9, the μ "
        "such a run already has, so its two runs are the same. "
        "Cells some of whose runs are missing (a budget still being run) are left out. "
        "Figure: `claims.png`. Produced by `scripts/sutskever_claims.py` on "
        f"{datetime.now(timezone.utc).date().isoformat()}.",
        "",
        "| claim | data | claimed better | claimed worse | ratio | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for c in claims:
        lines.append(f"| {c['claim']} | {c['dataset']} | {c['better']} | {c['worse']} | "
                     f"{c['ratio']:.3g} | {c['verdict']} |")  # fmt: skip
    (args.out / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
