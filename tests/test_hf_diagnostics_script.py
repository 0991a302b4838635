"""scripts/hf_diagnostics.py: each HF run's CG, λ and ρ and every cell at equal cost, read from a
report folder (issue 35: why HF-dag trails NAG at equal cost)."""

from __future__ import annotations

import json

import pytest


def _hf_run(key: str, seed: int, cap: int = 20) -> dict:
    curve = [
        {"step": 0, "train_error": 100.0, "train_loss": 1.0, "gradient_cases": 0.0},
        {"step": 10, "train_error": 20.0, "train_loss": 1.0, "gradient_cases": 2.0e5,
         "hf_damping": 0.5, "hf_cg_iterations": 12.0, "hf_rejected_updates": 1.0,
         "hf_reduction_ratio": 0.8},
        {"step": 20, "train_error": 10.0, "train_loss": 1.0, "gradient_cases": 4.1e5,
         "hf_damping": 2.0, "hf_cg_iterations": float(cap), "hf_rejected_updates": 0.0,
         "hf_reduction_ratio": 0.4, "hf_warm_start_share": 0.2},
        {"step": 30, "train_error": 8.0, "train_loss": 1.0, "gradient_cases": 6.2e5,
         "hf_damping": 1.0, "hf_cg_iterations": float(cap), "hf_rejected_updates": 0.0,
         "hf_warm_start_share": -0.4},
    ]  # fmt: skip
    config = {"batch_size": 1000, "seed": seed,
              "optimizer": {"name": "hf", "lr": 0.3, "cg_max_iterations": cap,
                            "curvature_batch": 250}}  # fmt: skip
    return {"key": key, "result": {"config": config, "status": "completed", "curve": curve,
                                   "final": {"train_error": 8.0}, "steps_done": 30}}  # fmt: skip


def _report(folder):
    folder.mkdir()
    runs = [_hf_run("a", 0), _hf_run("b", 1),
            {"key": "n", "result": {"config": {"optimizer": {"name": "nag"}}}}]  # fmt: skip
    cells = [
        {"row": "curves", "column": "HF-dag", "chosen": {"optimizer.lr": 0.3},
         "seeds": [[0, 8.0], [1, 8.0]],
         "cost_curve": [[0.0, 100.0], [2.0e5, 20.0], [4.1e5, 10.0], [6.2e5, 8.0]]},
        {"row": "curves", "column": "0.99N", "chosen": {"optimizer.lr": 0.01},
         "seeds": [[0, 5.0], [1, 7.0]],
         "cost_curve": [[0.0, 100.0], [3.0e5, 12.0], [6.0e5, 6.0]]},
    ]  # fmt: skip
    provenance = [{"key": "a", "row": "curves", "column": "HF-dag", "seed": 0},
                  {"key": "b", "row": "curves", "column": "HF-dag", "seed": 1},
                  {"key": "n", "row": "curves", "column": "0.99N", "seed": 0}]  # fmt: skip
    table = {"protocol": "table1", "budget": "equal-cost", "cells": cells,
             "provenance": {"runs": provenance}}  # fmt: skip
    (folder / "table.json").write_text(json.dumps(table))
    (folder / "runs.json").write_text(json.dumps({"runs": runs}))


def test_each_hf_run_is_summarized_and_every_cell_read_at_equal_cost(load_script, tmp_path):
    script = load_script("hf_diagnostics")
    _report(tmp_path / "report")
    text = script.write(tmp_path / "report", tmp_path / "out", "python scripts/hf_diagnostics.py")
    record = json.loads((tmp_path / "out" / "hf_diagnostics.json").read_text())
    (first, second) = record["runs"]
    assert (first["seed"], second["seed"]) == (0, 1)  # the NAG run is not an HF run
    assert first["cg_iterations_mean"] == pytest.approx((12 + 20 + 20) / 3)
    assert first["at_cap"] == pytest.approx(2 / 3)  # two evaluations of three at the cap
    assert (first["damping_first"], first["damping_max"], first["damping_last"]) == (0.5, 2, 1)
    assert first["reduction_ratio_mean"] == pytest.approx(0.6)  # where ρ was recorded
    assert first["rejected_updates"] == 1
    assert first["warm_start_share_mean"] == pytest.approx(-0.1)  # where it was recorded
    # the row's cost is where its first cell ended (0.6M: NAG), the HF run a little past it
    costs = {cell["column"]: cell for cell in record["at_equal_cost"]}
    assert costs["HF-dag"]["cost"] == costs["0.99N"]["cost"] == 6.0e5
    assert costs["0.99N"]["errors"][-1] == pytest.approx(6.0)
    assert costs["0.99N"]["errors"][-2] == pytest.approx(12.0)  # at 0.3M, an evaluation
    assert costs["HF-dag"]["errors"][-1] == pytest.approx(10.0 + (8.0 - 10.0) * 1.9 / 2.1)
    assert "| curves | HF-dag | 0.3 | 0 | 20 | 250 | 30 | 0.62M | 8 | 17.3 | 67% |" in text
    assert "| 0.6 | -0.1 | 1 |" in text  # mean ρ, the warm start's share, no-step updates
    # 0.99N gets down to HF-dag's final 8.0 between 0.3M (12) and 0.6M (6): at 0.5M
    (match,) = record["first_order_match"]
    assert (match["column"], match["first_order"]) == ("HF-dag", "0.99N")
    assert match["first_order_cost"] == pytest.approx(5.0e5)
    assert match["ratio"] == pytest.approx(6.2e5 / 5.0e5)
    (progress,) = record["per_update"]  # one HF cell: both seeds at lr 0.3
    assert progress["updates"] == [10, 20, 30]
    assert progress["errors"] == pytest.approx([20.0, 10.0, 8.0])
    assert (tmp_path / "out" / "hf_diagnostics.png").stat().st_size > 0
    assert record["provenance"]["git_commit"]


def test_error_between_evaluations_is_linear_and_absent_past_the_curve(load_script):
    script = load_script("hf_diagnostics")
    curve = [[0.0, 10.0], [2.0, 6.0], [4.0, 2.0]]
    assert script.error_at(curve, 1.0) == pytest.approx(8.0)
    assert script.error_at(curve, 4.0) == pytest.approx(2.0)
    assert script.error_at(curve, 4.5) is None


def test_cost_to_reach_an_error_is_linear_and_absent_if_never_reached(load_script):
    script = load_script("hf_diagnostics")
    curve = [[0.0, 10.0], [2.0, 6.0], [4.0, 2.0]]
    assert script.cost_to_reach(curve, 8.0) == pytest.approx(1.0)
    assert script.cost_to_reach(curve, 6.0) == pytest.approx(2.0)
    assert script.cost_to_reach(curve, 1.0) is None


def test_runs_are_compared_per_update_on_the_coarsest_evaluation_grid(load_script):
    script = load_script("hf_diagnostics")

    def run(column, lr, seed, points, status="completed"):
        curve = [{"step": step, "train_error": error} for step, error in points]
        return {"row": "curves", "column": column, "seed": seed, "steps_done": points[-1][0],
                "status": status, "config": {"optimizer": {"lr": lr}}, "curve": curve}  # fmt: skip

    runs = [
        run("HF-dag", 0.3, 0, [(0, 100), (50, 20), (100, 10), (150, 9)]),
        run("HF-dag", 1.0, 0, [(0, 100), (50, 80), (100, 70), (150, 60)]),  # not chosen
        run("HF-star", 1.0, 0, [(0, 100), (30, 40), (60, 30), (90, 25), (120, 20)]),
        run("HF-dag full", 1.0, 0, [(0, 100), (10, 50), (20, 1e9)], status="diverged"),
    ]  # fmt: skip
    table = {"cells": [{"row": "curves", "column": "HF-dag", "chosen": {"optimizer.lr": 0.3}}]}
    rows = {row["column"]: row for row in script.per_update(table, runs)}
    # HF-dag is evaluated least often (first at 50), HF-star made the fewest updates (120) of
    # the runs that did not diverge
    assert rows["HF-dag"]["updates"] == rows["HF-star"]["updates"] == [50, 100]
    assert rows["HF-dag"]["lr"] == 0.3
    assert rows["HF-dag"]["errors"] == pytest.approx([20.0, 10.0])
    assert rows["HF-star"]["errors"] == pytest.approx([40 + (30 - 40) * 20 / 30, 25 - 5 / 3])
    assert rows["HF-dag full"]["errors"] == [None, None]  # past its end


def test_a_folder_without_a_report_is_refused_in_one_line(load_script, tmp_path, capsys):
    script = load_script("hf_diagnostics")
    with pytest.raises(SystemExit) as exit_:
        script.main([str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message
    assert "table.json: missing" in message


def test_the_warm_start_is_read_quarter_by_quarter_where_a_run_recorded_enough(load_script):
    """The CG-decay explanation reads how the warm start's share moves over a run: the mean of
    each quarter of its evaluations, in order; a run with fewer evaluations than quarters (or
    none: made before the share was recorded) gets no row."""
    script = load_script("hf_diagnostics")
    assert script._quarter_means([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]) == [1.5, 3.5, 5.5, 7.5]
    assert script._quarter_means([0.0, 1.0, 2.0, 3.0, 4.0]) == [0.0, 1.0, 2.0, 3.5]
    assert script._quarter_means([0.2, -0.4]) is None
    recorded = {"row": "curves", "column": "0.999", "lr": 0.3, "seed": 1,
                "warm_start_share_quarters": [-0.5, -1.0, -2.0, -2.5],
                "warm_start_share_mean": -1.5}  # fmt: skip
    lines = script._warm_start_section([recorded, {**recorded, "warm_start_share_quarters": None}])
    assert "| curves | 0.999 | 0.3 | 1 | -0.5 | -1 | -2 | -2.5 | -1.5 |" in lines
    assert len([line for line in lines if line.startswith("| curves")]) == 1
    assert script._warm_start_section([{**recorded, "warm_start_share_quarters": None}]) == []


def test_a_report_without_enough_warm_starts_has_no_quarter_table(load_script, tmp_path):
    script = load_script("hf_diagnostics")
    _report(tmp_path / "report")
    text = script.write(tmp_path / "report", tmp_path / "out", "python scripts/hf_diagnostics.py")
    assert "## CG's warm start over the run" not in text  # two recorded evaluations per run
