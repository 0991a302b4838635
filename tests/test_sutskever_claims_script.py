"""scripts/sutskever_claims.py: the autoencoder claims read from report tables (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def claims(load_script):
    return load_script("sutskever_claims")


def _cell(row: str, column: str, *seeds: float | None) -> dict:
    done = [value for value in seeds if value is not None]
    return {"row": row, "column": column, "ours": sum(done) / len(done) if done else None,
            "seeds": [[i, value] for i, value in enumerate(done)]}  # fmt: skip


def _write(folder: Path, cells: list[dict]) -> None:
    folder.mkdir(parents=True)
    (folder / "table.json").write_text(json.dumps({"cells": cells}))


def test_verdicts_separate_every_seed_from_the_mean_only(claims):
    def cell(mean: float, values: tuple[float, ...]) -> object:
        return claims.Cell(mean, tuple(enumerate(values)) if len(values) > 1 else ())

    assert claims.verdict(cell(1.5, (1.0, 2.0)), cell(3.5, (3.0, 4.0))) == "holds (every seed)"
    assert claims.verdict(cell(2.0, (1.0, 3.0)), cell(2.5, (2.0, 3.0))) == "holds (mean only)"
    assert claims.verdict(cell(3.0, (3.0,)), cell(2.0, (2.0,))) == "does not hold"
    assert claims.verdict(cell(1.0, (1.0,)), cell(2.0, (2.0,))) == "holds (one seed)"


def test_a_fine_tuned_cell_is_compared_with_its_twin_seed_by_seed(claims):
    def cell(*values: float, lr: float = 0.01) -> object:
        return claims.Cell(sum(values) / len(values), tuple(enumerate(values)),
                           (("optimizer.lr", lr),))  # fmt: skip

    # FACES-like: each seed improves, but seed 0 after (90) is above seed 1 before (83)
    after, before = cell(90.0, 82.0), cell(92.0, 83.0)
    assert claims.verdict(after, before) == "holds (mean only)"
    assert claims.verdict(after, before, twins=True) == "holds (each seed against its twin)"
    # one seed worse after fine-tuning: only the mean is in order
    assert claims.verdict(cell(90.0, 80.0), cell(89.0, 83.0), twins=True) == "holds (mean only)"
    # the two cells chose different settings: their seeds are not twins
    assert claims.verdict(after, cell(92.0, 83.0, lr=0.001), twins=True) == "holds (mean only)"
    # different seeds
    other_seeds = claims.Cell(87.5, ((3, 92.0), (4, 83.0)), (("optimizer.lr", 0.01),))
    assert claims.verdict(after, other_seeds, twins=True) == "holds (mean only)"


def test_the_claims_of_tables_1_to_3_from_their_reports(claims, tmp_path):
    table1 = [
        _cell("curves", "SGD", 20.0, 22.0),
        _cell("curves", "0.9N before FT", 10.0, 11.0),
        _cell("curves", "0.999N before FT", 4.0, 5.0),
        _cell("curves", "0.999N", 3.0, 3.5),
        _cell("curves", "0.9N", 9.0, 11.5),
        _cell("curves", "0.9M", 8.0, 9.0),
        _cell("curves", "0.999M", 4.6, 8.5),
        _cell("curves", "0.995M", None),  # not run: left out
        _cell("curves", "HF-star", 3.2, 3.4),
        _cell("curves", "HF-dag", 3.3, 3.6),
    ]
    _write(tmp_path / "table1-medium", table1)
    partial = {**_cell("curves", "before", 3.0), "runs_done": 3, "runs_planned": 10}
    _write(tmp_path / "table2-medium", [_cell("mnist", "before", 2.0, 2.2),
                                        _cell("mnist", "after", 1.9, 2.1),
                                        partial, _cell("curves", "after", 4.0)])  # fmt: skip
    _write(tmp_path / "table3-medium", [_cell("curves", s, v, v + 1) for s, v in
                                        (("0.25", 16), ("1", 1), ("4", 0.5))])  # fmt: skip
    out = tmp_path / "claims"
    claims.main(["--results", str(tmp_path), "--out", str(out)])
    readme = (out / "README.md").read_text()
    lines = [line for line in readme.splitlines() if line.startswith("| ") and "---" not in line]
    rows = {" | ".join(line.split(" | ")[:2]): line for line in lines}
    momentum = rows["| momentum >> SGD | curves"]
    assert "0.999N 3.25 (3, 3.5)" in momentum
    assert "SGD 21 (20, 22)" in momentum
    assert momentum.endswith("| 6.46 | holds (every seed) |")
    assert rows["| μ_max ≥ 0.99 >> 0.9 (NAG) | curves"].endswith("holds (every seed) |")
    assert rows["| μ_max ≥ 0.99 >> 0.9 (CM) | curves"].endswith("holds (mean only) |")
    assert rows["| NAG > CM at μ_max 0.999 | curves"].endswith("holds (mean only) |")
    assert "| NAG > CM at μ_max 0.995 | curves" not in rows  # its CM cell was not run
    # at μ_max 0.9 the fine-tuning μ = 0.9 is the μ the run already has: no claim there
    assert "| fine-tuning gain at μ_max 0.9 | curves" not in rows
    assert rows["| fine-tuning gain at μ_max 0.999 | curves"].endswith("holds (every seed) |")
    # 1.9 < 2.0 and 2.1 < 2.2 seed by seed, though 2.1 > 2.0
    assert rows["| fine-tuning gain (table2) | mnist"].endswith(
        "holds (each seed against its twin) |"
    )
    assert "| fine-tuning gain (table2) | curves" not in rows  # its before cell: 3 of 10 runs
    assert rows["| HF-dag > HF-star | curves"].endswith("does not hold |")  # 3.45 vs 3.3
    nag_hf = rows["| NAG ≥ HF-star | curves"]
    assert "0.999N 3.25 (3, 3.5)" in nag_hf
    assert nag_hf.endswith("holds (mean only) |")
    hf_nag = rows["| HF-dag > NAG | curves"]  # HF-dag 3.45 against the best NAG, 0.999N 3.25
    assert "HF-dag 3.45 (3.3, 3.6)" in hf_nag
    assert hf_nag.endswith("does not hold |")
    assert rows["| SI scale 1 best (vs 0.25) | curves"].endswith("holds (every seed) |")
    assert rows["| SI scale 1 best (vs 4) | curves"].endswith("does not hold |")
    assert (out / "claims.png").stat().st_size > 10_000
    # The HF columns from their own budget's report (table1 medium-hf) before table1 medium has
    # them all: its cells join table1's; table1 medium's own cells take precedence.
    _write(tmp_path / "table1-medium-hf", [_cell("curves", "HF-star", 5.0, 5.5),
                                           _cell("curves", "HF-dag", 2.0, 2.5)])  # fmt: skip
    claims.main(["--results", str(tmp_path), "--out", str(out)])
    readme = (out / "README.md").read_text()
    assert "[table1-medium-hf](../table1-medium-hf/table.md)" in readme
    assert "| HF-dag > HF-star | curves | HF-dag 3.45 (3.3, 3.6) |" in readme
    (tmp_path / "table1-medium" / "table.json").unlink()
    claims.main(["--results", str(tmp_path), "--out", str(out)])
    assert "| HF-dag > HF-star | curves | HF-dag 2.25 (2, 2.5) |" in (out / "README.md").read_text()


def test_without_reports_it_says_what_to_run(claims, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        claims.main(["--results", str(tmp_path), "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert "inertia report" in capsys.readouterr().err
