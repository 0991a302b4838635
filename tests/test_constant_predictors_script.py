"""scripts/constant_predictors.py: what a constant scores on each long-term problem, the record
behind docs/rnn.md's table beside Table 5's "biases" column."""

from __future__ import annotations

import json

import pytest


def test_the_record_holds_each_problems_constant_errors(load_script, tmp_path):
    script = load_script("constant_predictors")
    rows = script.measure(("memorization-5bit", "temporal-order", "addition"), cases=4000)
    by_name = {row["problem"]: row for row in rows}
    assert by_name["memorization-5bit"]["length"] == 200  # Table 5's length for it
    assert by_name["memorization-5bit"]["best"] == pytest.approx(2.5, abs=0.05)  # chance of 4
    assert by_name["temporal-order"]["mean"] == pytest.approx(0.75, abs=0.02)  # 1 of 4 classes
    assert 0.88 < by_name["addition"]["best"] < 0.96  # the sum of two U[0, 1]: about 0.92
    assert 0.88 < by_name["addition"]["mean"] < 0.96
    assert by_name["addition"]["published_biases"] == 0.82
    assert by_name["temporal-order"]["published_biases"] is None
    script.write(tmp_path, rows, "python scripts/constant_predictors.py --out x", 4000, 0)
    text = (tmp_path / "README.md").read_text()
    assert "| `temporal-order` | 80 |" in text
    assert f"| {by_name['memorization-5bit']['best']:.3f} |" in text
    stored = json.loads((tmp_path / "constants.json").read_text())
    assert stored["rows"] == rows
    assert stored["provenance"]["git_commit"]
