"""scripts/cg_rbp_hypergradient.py: each method's hypergradient against BPTT's, and the record
it writes for docs/rbp.md (one section per pair of hyperparameters)."""

from __future__ import annotations

import json

import pytest


def _rows(scale: float) -> list[dict]:
    return [
        {"method": "bptt", "K": 50, "objective": 0.5, "forward_residual": 0.026,
         "adjoint_residual": None, "seconds": 0.6, "norm_ratio_to_bptt": 1.0,
         "cosine_with_bptt": 1.0},
        {"method": "cg_rbp", "K": 200, "objective": 0.5, "forward_residual": 0.026,
         "adjoint_residual": 0.2415 * scale, "seconds": 16.6, "norm_ratio_to_bptt": 0.3152,
         "cosine_with_bptt": 0.7843},
    ]  # fmt: skip


def test_the_record_keeps_one_section_per_pair_of_hyperparameters(load_script, tmp_path):
    script = load_script("cg_rbp_hypergradient")
    script.record(tmp_path, _rows(1.0), -1.0, 0.0, ["--data-dir", "d", "--out", "o"])
    script.record(tmp_path, _rows(3.0), 0.85, -0.36, ["--log-lr", "0.85"])
    script.record(tmp_path, _rows(2.0), -1.0, 0.0, ["--data-dir", "d"])  # measured again
    stored = json.loads((tmp_path / "rows.json").read_text())["measurements"]
    assert [(m["log_lr"], m["momentum_logit"]) for m in stored] == [(0.85, -0.36), (-1.0, 0.0)]
    assert stored[1]["rows"][1]["adjoint_residual"] == pytest.approx(0.483)
    assert stored[1]["command"] == "python scripts/cg_rbp_hypergradient.py --data-dir d"
    text = (tmp_path / "README.md").read_text()
    assert text.count("## log lr") == 2
    assert "| bptt | 50 | 1 | 1 | — | 0.026 | 0.5 | 0.6 |" in text
    assert "| cg_rbp | 200 | 0.3152 | 0.7843 | 0.483 | 0.026 | 0.5 | 16.6 |" in text
    assert "0.2415" not in text  # the replaced measurement is gone
    assert stored[0]["provenance"]["git_commit"]
