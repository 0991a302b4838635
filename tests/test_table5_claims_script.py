"""scripts/table5_claims.py: Table 5's section-4 claims per seed, beside the paper's (issue 39)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def claims(load_script):
    return load_script("table5_claims")


def _cell(row, column, seeds, published=None, done=4, planned=4):
    values = [value for _, value in seeds]
    return {
        "row": row, "column": column, "ours": sum(values) / len(values), "published": published,
        "chosen": {"optimizer.lr": 0.001}, "runs_done": done, "runs_planned": planned,
        "seeds": [list(pair) for pair in seeds],
    }  # fmt: skip


def _report(tmp_path, cells, protocol="table5"):
    folder = tmp_path / "table5-paper-core"
    folder.mkdir()
    report = {"protocol": protocol, "budget": "paper-core", "cells": cells}
    (folder / "table.json").write_text(json.dumps(report))
    return folder


def test_verdicts_per_seed_and_at_the_constant_predictor(claims):
    cell = claims.Cell
    low = cell(0.1, ((0, 0.05), (1, 0.15)))
    high = cell(0.5, ((0, 0.4), (1, 0.6)))
    assert claims.verdict(low, high, 0.9) == "holds (every seed)"
    # seed 1 of the better cell is above seed 0 of the other, but below its own seed 1
    crossed = cell(0.35, ((0, 0.2), (1, 0.5)))
    assert claims.verdict(crossed, cell(0.5, ((0, 0.3), (1, 0.7))), 0.9) == (
        "holds (each seed against the same seed)"
    )
    # one seed on the plateau (0.9 of 0.92): beats nothing, even if below the other seed
    plateau = cell(0.6, ((0, 0.3), (1, 0.9)))
    assert claims.verdict(plateau, cell(0.915, ((0, 0.91), (1, 0.92))), 0.92) == "holds (mean only)"
    both = cell(0.91, ((0, 0.9), (1, 0.92)))
    assert claims.verdict(both, cell(0.92, ((0, 0.92), (1, 0.92))), 0.92) == (
        "does not hold (at the constant predictor)"
    )
    assert claims.verdict(high, low, 0.9) == "does not hold"
    assert claims.solved_verdict(cell(0.001, ((0, 0.0), (1, 0.002))), 0.92) == "holds (every seed)"
    assert claims.solved_verdict(cell(0.3, ((0, 0.0), (1, 0.6))), 0.92) == "holds in 1 of 2 seeds"
    assert claims.solved_verdict(cell(0.3, ((0, 0.2), (1, 0.4))), 0.92) == "does not hold"


def test_report_with_the_papers_verdicts_beside_ours(claims, tmp_path):
    seeds = lambda *values: list(enumerate(values))  # noqa: E731
    cells = [
        _cell("add T=80", "biases", seeds(0.92, 0.93, 0.92, 0.93), 0.82),
        _cell("add T=80", "0.9N", seeds(0.91, 0.92, 0.93, 0.92), 0.02),
        _cell("add T=80", "0.995N", seeds(0.0, 0.001, 0.0, 0.002), 0.00025),
        _cell("add T=80", "0.995M", seeds(0.1, 0.0, 0.3, 0.2), 0.036),
        _cell("mem-5 T=200", "biases", seeds(2.5, 2.5, 2.5, 2.5), 2.5),
        _cell("mem-5 T=200", "0.995N", seeds(0.6, 0.7, 0.5, 0.6), 0.63),
        # a cell still running is left out
        _cell("mem-5 T=200", "0.995M", seeds(0.1, 0.1), 0.92, done=2),
    ]
    out = tmp_path / "claims"
    claims.main(["--report", str(_report(tmp_path, cells)), "--out", str(out)])
    text = (out / "README.md").read_text()
    assert (
        "| NAG at 0.995 solves it | add T=80 | 0.995N 0.00075 (0, 0.001, 0, 0.002) | "
        "< 0.00925 (1% of the constant predictor's 0.925) | holds (every seed) | holds |"
    ) in text
    assert "| 0.995 beats 0.9 (NAG) | add T=80 |" in text
    # seed 1 of CM (0.0) is below seed 1 of NAG (0.001): neither every seed nor each seed
    assert "| NAG beats CM at 0.995 | add T=80 | 0.995N 0.00075 (0, 0.001, 0, 0.002) | " in text
    assert "0.995M 0.15 (0.1, 0, 0.3, 0.2) | holds (mean only) | holds |" in text
    # the paper's own mem-5 0.995N (0.63) is not below 1% of its biases value either
    assert "< 0.025 (1% of the constant predictor's 2.5) | does not hold | does not hold |" in text
    assert "mem-5 T=200 | 0.995N" in text
    assert "mem-5 T=200 | 0.995N 0.6 (0.6, 0.7, 0.5, 0.6) | 0.995M" not in text
    assert "- add T=80 / 0.9N: 0.92 (0.91, 0.92, 0.93, 0.92)" in text
    assert (out / "claims.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is missing: write it with `inertia report table5"),
        ("{not json", "not JSON"),
        ('{"protocol": "table1", "cells": []}', "not a report of table5"),
        ('{"protocol": "table5", "budget": "x", "cells": []}', "no finished 0.995N cell"),
    ],
)
def test_bad_reports_are_one_line_errors(claims, tmp_path, capsys, content, message):
    folder = tmp_path / "report"
    folder.mkdir()
    if content is not None:
        (folder / "table.json").write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        claims.main(["--report", str(folder), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert message in error
    assert "\n" not in error
