"""Which of Sutskever et al.'s (2013) section-4 claims hold in a Table 5 report (issue 39).

Reads a committed report ``<report>/table.json`` (written by ``inertia report table5 --budget
BUDGET --results``) and, per published row (add T=80, mul T=80, mem-5 T=200, mem-20 T=80),
checks:

- **NAG at μ_0 = 0.995 solves the problem**: its zero-one error is below 1% of the constant
  predictor's (the row's ``biases`` cell where the report has it, else the published biases
  value). The paper's own number is checked the same way (its mem-5 0.995N, 0.63, is not
  "solved" by this rule either).
- **0.995 beats 0.9** (NAG): 0.995N against 0.9N.
- **NAG beats CM at 0.995**: 0.995N against 0.995M.
- **off the constant predictor**: a cell every seed of which is within 5% of the biases cell
  (or above it) is named as sitting at the constant predictor.

A comparison "holds (every seed)" when every seed of the cell claimed better is below every seed
of the other and off the constant predictor (two seeds on the plateau differ by noise), "holds
(each seed against the same seed)" when each seed is below the same seed of
the other cell (a seed fixes the initial weights, the minibatches and the evaluation sequences,
so the two runs differ only by the setting), "holds (mean only)" when only the means are in that
order, "does not hold" otherwise. Each verdict stands beside the paper's (from its published
means, 4 seeds). Cells whose runs are not all finished are left out. Writes ``README.md`` and
``claims.png`` (each row's error per column, every seed a dot, the published value a cross).

    python scripts/table5_claims.py --report results/table5-paper-core \\
        --out results/table5-claims-paper-core
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROWS = ("add T=80", "mul T=80", "mem-5 T=200", "mem-20 T=80")
COLUMNS = ("biases", "0", "0.9N", "0.98N", "0.995N", "0.9M", "0.98M", "0.995M")
SOLVED = 0.01  # solved: below this fraction of the constant predictor's error
AT_CONSTANT = 0.95  # at the constant predictor: every seed at least this fraction of it


@dataclass(frozen=True)
class Cell:
    """One report cell: the mean over seeds, each seed's value and the published mean."""

    mean: float
    by_seed: tuple[tuple[int, float], ...] = ()
    published: float | None = None
    chosen: str = ""

    @property
    def seeds(self) -> tuple[float, ...]:
        return tuple(value for _, value in self.by_seed) or (self.mean,)

    @property
    def label(self) -> str:
        values = ", ".join(f"{v:.4g}" for v in self.seeds)
        return f"{self.mean:.4g}" + (f" ({values})" if len(self.seeds) > 1 else "")


def _fail(message: str) -> None:
    print(f"table5_claims: {message}", file=sys.stderr)
    raise SystemExit(2)


def read_report(path: Path) -> dict:
    """A table5 report's table.json (a one-line error where it is missing or is not one)."""
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        _fail(f"{path} is missing: write it with `inertia report table5 --results ...` first")
    except json.JSONDecodeError as error:
        _fail(f"{path}: not JSON ({error}); name a report written by `inertia report`")
    if not isinstance(report, dict) or report.get("protocol") != "table5":
        _fail(f"{path}: not a report of table5; name a folder written by `inertia report table5`")
    return report


def load_cells(report: dict) -> dict[tuple[str, str], Cell]:
    """The finished cells of a table5 report, by (row, column)."""
    cells = {}
    for cell in report["cells"]:
        if cell["ours"] is None or cell.get("runs_done", 1) < cell.get("runs_planned", 1):
            continue
        by_seed = tuple((int(seed), float(value)) for seed, value in cell.get("seeds") or [])
        chosen = ", ".join(f"{k.split('.')[-1]} {v}" for k, v in (cell.get("chosen") or {}).items())
        cells[(cell["row"], cell["column"])] = Cell(
            float(cell["ours"]), by_seed, cell.get("published"), chosen
        )
    return cells


def verdict(better: Cell, worse: Cell, constant: float | None = None) -> str:
    """Whether ``better`` is below ``worse``: every seed, each seed against the same seed, the
    mean only, or not. With the constant predictor's error ``constant``, a seed of ``better``
    that sits at it (within 5%) beats nothing: two runs on the plateau differ by noise."""
    limit = AT_CONSTANT * constant if constant else math.inf
    if max(better.seeds) < min(min(worse.seeds), limit):
        return "holds (every seed)" if min(len(better.seeds), len(worse.seeds)) > 1 else "holds"
    ours, theirs = dict(better.by_seed), dict(worse.by_seed)
    shared = sorted(set(ours) & set(theirs))
    if len(shared) > 1 and all(ours[seed] < min(theirs[seed], limit) for seed in shared):
        return "holds (each seed against the same seed)"
    if better.mean < min(worse.mean, limit):
        return "holds (mean only)"
    if better.mean >= limit:
        return "does not hold (at the constant predictor)"
    return "does not hold"


def _paper(better: float | None, worse: float | None) -> str:
    if better is None or worse is None:
        return "n/a"
    return "holds" if better < worse else "does not hold"


def solved_verdict(cell: Cell, constant: float) -> str:
    threshold = SOLVED * constant
    solved = sum(value < threshold for value in cell.seeds)
    if solved == len(cell.seeds):
        return "holds (every seed)" if len(cell.seeds) > 1 else "holds"
    if solved:
        return f"holds in {solved} of {len(cell.seeds)} seeds"
    return "does not hold"


def claims(cells: dict[tuple[str, str], Cell]) -> tuple[list[dict], list[str]]:
    """The claims per row, and the cells that sit at the constant predictor."""
    rows, at_constant = [], []
    for row in ROWS:
        biases = cells.get((row, "biases"))
        nag = cells.get((row, "0.995N"))
        published_constant = next(
            (c.published for (r, col), c in cells.items() if r == row and col == "biases"), None
        )
        constant = biases.mean if biases is not None else published_constant
        if nag is not None and constant:
            published = "n/a"
            if nag.published is not None and published_constant:
                published = _paper(nag.published, SOLVED * published_constant)
            rows.append({
                "claim": "NAG at 0.995 solves it", "row": row, "better": f"0.995N {nag.label}",
                "worse": f"< {SOLVED * constant:.3g} ({SOLVED:.0%} of the constant predictor's "
                f"{constant:.3g})", "verdict": solved_verdict(nag, constant), "paper": published,
            })  # fmt: skip
        for claim, better, worse in (
            ("0.995 beats 0.9 (NAG)", "0.995N", "0.9N"),
            ("NAG beats CM at 0.995", "0.995N", "0.995M"),
        ):
            if (row, better) in cells and (row, worse) in cells:
                b, w = cells[(row, better)], cells[(row, worse)]
                rows.append({
                    "claim": claim, "row": row, "better": f"{better} {b.label}",
                    "worse": f"{worse} {w.label}", "verdict": verdict(b, w, constant),
                    "paper": _paper(b.published, w.published),
                })  # fmt: skip
        if biases is not None:
            for column in COLUMNS[1:]:
                cell = cells.get((row, column))
                if cell is not None and min(cell.seeds) >= AT_CONSTANT * biases.mean:
                    at_constant.append(f"{row} / {column}: {cell.label} (biases {biases.label})")
    return rows, at_constant


def plot(cells: dict[tuple[str, str], Cell], path: Path, title: str) -> None:
    """Each row's error per column: every seed a dot, the mean a bar, the published a cross."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in ROWS if any(r == row for r, _ in cells)]
    if not rows:
        return
    figure, axes = plt.subplots(1, len(rows), figsize=(4.8 * len(rows), 4.4), squeeze=False)
    for axis, row in zip(axes[0], rows):
        columns = [column for column in COLUMNS if (row, column) in cells]
        for x, column in enumerate(columns):
            cell = cells[(row, column)]
            floor = 1e-5  # a zero error drawn at the bottom of the log axis
            axis.scatter([x] * len(cell.seeds), [max(v, floor) for v in cell.seeds], color="C0",
                         s=18, alpha=0.7, label="each seed" if x == 0 else None)  # fmt: skip
            axis.plot([x - 0.3, x + 0.3], [max(cell.mean, floor)] * 2, color="C0")
            if cell.published is not None:
                axis.scatter([x], [max(cell.published, floor)], marker="x", color="C3", s=40,
                             label="published (4 seeds)" if x == 0 else None)  # fmt: skip
        axis.set_xticks(range(len(columns)), columns)
        axis.set_yscale("log")
        axis.set_title(row)
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("zero-one error (mem: wrong recalls)")
    axes[0][0].legend(fontsize="small")
    figure.suptitle(title)
    figure.tight_layout()
    temporary = path.with_name(path.stem + ".tmp.png")
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", required=True, type=Path, help="a table5 report's folder")
    parser.add_argument("--out", required=True, type=Path, help="folder for README.md and PNG")
    args = parser.parse_args(argv)
    report = read_report(args.report / "table.json")
    cells = load_cells(report)
    budget = report.get("budget", "?")
    found, at_constant = claims(cells)
    if not found:
        _fail(f"{args.report}: no finished 0.995N cell with a 0.9N, 0.995M or biases cell "
              "beside it; finish the budget's runs first")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    title = f"Sutskever et al. (2013) Table 5, `{budget}` budget"
    plot(cells, args.out / "claims.png", title + " (dots: seeds; x: published)")
    lines = [
        f"# {title}: which section-4 claims hold",
        "",
        f"From [{args.report.name}](../{args.report.name}/table.md) (each cell: the mean over "
        "seeds at the rate the report chose, each seed after it). A claim 'holds (every "
        "seed)' when every seed of the cell claimed better is below every seed of the other, "
        "'holds (each seed against the same seed)' when each seed is below the same seed of "
        "the other cell (the same initial weights, minibatches and evaluation sequences), "
        "'holds (mean only)' when only the means are in order; a seed within 5% of the "
        "constant predictor's error beats nothing. 'Solves it': every seed below "
        f"{SOLVED:.0%} of the constant predictor's error (the biases cell). 'Paper': the same "
        "test on the published means (4 seeds). Produced by `scripts/table5_claims.py` on "
        f"{datetime.now(timezone.utc).date().isoformat()}; figure `claims.png`.",
        "",
        "| claim | row | claimed better | claimed worse | verdict | paper |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c['claim']} | {c['row']} | {c['better']} | {c['worse']} | {c['verdict']} | "
        f"{c['paper']} |"
        for c in found
    ]
    lines += ["", "Cells at the constant predictor (every seed within 5% of the biases cell):", ""]
    lines += [f"- {entry}" for entry in at_constant] or ["- none"]
    text = "\n".join(lines) + "\n"
    temporary = args.out / ".README.md.tmp"
    temporary.write_text(text)
    os.replace(temporary, args.out / "README.md")
    print(text, end="")


if __name__ == "__main__":
    main()
