"""scripts/table5_escape.py: the report of single long-term runs (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def escape(load_script):
    return load_script("table5_escape")


def _curve(losses: list[float]) -> list[dict]:
    return [{"step": 2500 * i, "train_loss": loss, "train_error": min(loss * 5, 1.0)}
            for i, loss in enumerate(losses)]  # fmt: skip


def test_escape_is_the_first_loss_below_half_the_plateau(escape):
    # plateau: median of 0.16, 0.17, 0.15, 0.16 = 0.16; half 0.08; 0.09 is not below it
    curve = _curve([0.3, 0.16, 0.17, 0.15, 0.16, 0.09, 0.079, 0.01])
    assert escape.escape_step(curve) == 6 * 2500
    assert escape.escape_step(_curve([0.3, 0.16, 0.17, 0.15, 0.16, 0.09])) is None
    assert escape.escape_step(_curve([0.3, 0.16, 0.01])) is None  # too short to know a plateau
    # with the constant predictor's loss as the plateau, an early escape is seen at once
    assert escape.escape_step(_curve([0.3, 0.06, 0.01]), constant_loss=1 / 6) == 2500
    assert escape.escape_step(_curve([0.3, 0.09, 0.01]), constant_loss=1 / 6) == 5000


def test_back_on_the_plateau_after_leaving_it(escape):
    # issue 39's mem-20 runs: the loss halves, then climbs back to the plateau
    curve = _curve([0.6, 0.56, 0.57, 0.55, 0.56, 0.2, 0.25, 0.51, 0.56])
    assert escape.escape_step(curve) == 5 * 2500
    assert escape.back_on_plateau(curve) == 7 * 2500  # 0.51 is within 10% of 0.56, 0.25 not
    assert escape.back_on_plateau(_curve([0.6, 0.56, 0.57, 0.55, 0.56, 0.2, 0.1])) is None
    assert escape.back_on_plateau(_curve([0.6, 0.56, 0.57, 0.55, 0.56, 0.5])) is None


def test_first_below_an_error(escape):
    curve = _curve([0.2, 0.12, 0.09, 0.05])  # errors 1.0, 0.6, 0.45, 0.25
    assert escape.first_below(curve, 0.5) == 5000
    assert escape.first_below(curve, 0.1) is None


def _result(folder: Path, lr: float, losses: list[float], radius: bool = False) -> Path:
    folder.mkdir()
    curve = _curve(losses)
    if radius:  # the diagnostics issue 39's runs record
        for index, point in enumerate(curve):
            point.update(spectral_radius_hh=1.1 + index, norm_ih=0.01 * (index + 1))
            point.update(saturation=0.1 * index)
            if index:  # per-update norms are counted between evaluations, not at update 0
                point.update(grad_norm_max=[300.0, 2.0, 1.0, 5.0, 1.5][index - 1])
    (folder / "result.json").write_text(json.dumps({
        "config": {"task": {"problem": "addition", "length": 80},
                   "optimizer": {"name": "nag", "momentum": 0.995, "lr": lr}, "seed": 1},
        "status": "completed", "final": {"train_error": 0.5, "train_loss": losses[-1]},
        "curve": curve, "diverged_at": None, "steps_done": 2500 * (len(losses) - 1),
        "error_name": "fraction off by more than 0.04", "wall_time_s": 600.0,
        "updates_per_s": 2500 * (len(losses) - 1) / 600.0, "peak_memory_mb": 300.0,
        "environment": {"git_commit": "0123456789abcdef", "hardware": "test cpu"},
    }))  # fmt: skip
    return folder


def test_report_table_png_and_runs(escape, tmp_path):
    fast = _result(tmp_path / "fast", 1e-4, [0.3, 0.16, 0.16, 0.16, 0.16, 0.05])
    slow = _result(tmp_path / "slow", 1e-5, [0.3, 0.16, 0.16, 0.16, 0.16, 0.15], radius=True)
    note = tmp_path / "note.md"
    note.write_text("What it shows.")
    out = tmp_path / "report"
    # given slowest first: the table lists the larger rate first
    escape.main([str(slow), str(fast), "--out", str(out), "--title", "T", "--note", str(note)])
    text = (out / "README.md").read_text()
    row = "| addition T=80 | 0.995N | {} | 1 | 12,500 | 0.5 | {} | {} | never | {} | {} | {} | "
    row += "{} | {} | 10 min |"
    fast_row = row.format("0.0001", "0.05", "update 12,500", "update 12,500", "—", "—", "—", "—")
    slow_row = row.format(
        "1e-05", "0.15", "never", "never", "1.1 / 6.1 / 6.1", "0.01 / 0.06 / 0.06",
        "300 / 300 / 1.5", "0 / 0.5 / 0.5",
    )  # fmt: skip
    assert fast_row in text
    assert slow_row in text
    assert text.index(fast_row) < text.index(slow_row)
    header = (
        "| back on it at | error < 0.5 at | spectral radius | ‖W_ih‖ | largest ‖g‖ | saturated "
        "| wall time |\n" + "|---" * 15 + "|\n"
    )
    assert header in text
    assert "below half of the run's plateau loss (the median" in text
    assert "What it shows." in text
    assert "`fast`: commit 0123456789, test cpu" in text
    assert (out / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert [r["folder"] for r in json.loads((out / "runs.json").read_text())] == ["fast", "slow"]


def test_runs_that_measure_different_errors_share_a_panel_that_names_each(escape, tmp_path):
    add = {"error_name": "fraction off by more than 0.04"}
    recall = {"error_name": "wrongly recalled symbols per sequence"}
    assert escape.error_panel([add, add]) == ("fraction off by more than 0.04", False)
    title, mixed = escape.error_panel([recall, add])
    assert mixed
    assert title == "fraction off by more than 0.04\nwrongly recalled symbols per sequence"
    runs = [_result(tmp_path / name, 1e-4, [0.3, 0.16, 0.05]) for name in ("add", "mem")]
    result = json.loads((runs[1] / "result.json").read_text())
    result["error_name"] = recall["error_name"]
    (runs[1] / "result.json").write_text(json.dumps(result))
    escape.main([str(run) for run in runs] + ["--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_unfinished_run_is_a_one_line_error(escape, tmp_path, capsys):
    (tmp_path / "unfinished").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        escape.main([str(tmp_path / "unfinished"), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert "unfinished/result.json: no result.json" in error
    assert "\n" not in error


def test_report_with_the_constant_predictors_loss(escape, tmp_path):
    early = _result(tmp_path / "early", 1e-3, [0.3, 0.05, 0.04, 0.03, 0.02, 0.01])
    out = tmp_path / "report"
    escape.main([str(early), "--out", str(out), "--constant-loss", "0.16667"])
    text = (out / "README.md").read_text()
    assert "below half of the constant predictor's loss, 0.1667;" in text
    assert "| 0.01 | update 2,500 | never | update 2,500 | — | — | — | — | 10 min |" in text


def test_a_run_with_its_own_data_seed_names_both_seeds(escape, tmp_path):
    folder = _result(tmp_path / "swap", 1e-5, [0.3, 0.16, 0.16, 0.16, 0.16, 0.05])
    result = json.loads((folder / "result.json").read_text())
    result["config"]["task"]["data_seed"] = 0
    (folder / "result.json").write_text(json.dumps(result))
    assert escape.describe(escape.load(folder))["seed"] == "1 (data 0)"
    plain = escape.load(_result(tmp_path / "plain", 1e-5, [0.3, 0.16]))
    assert escape.describe(plain)["seed"] == 1


def test_a_clipped_run_says_its_threshold_and_how_often_it_clipped(escape, tmp_path):
    """Issue 39's clipped runs beside the plain ones: the column names the threshold and how
    many updates clipping rescaled; a run recorded before the count names the threshold
    alone, and a plain run neither."""
    folder = _result(tmp_path / "clipped", 1e-4, [0.3, 0.16, 0.05])
    result = json.loads((folder / "result.json").read_text())
    result["config"]["clip_grad_norm"] = 10.0
    for point, clipped in zip(result["curve"][1:], (500.0, 250.0), strict=True):
        point["clipped_updates"] = clipped
    (folder / "result.json").write_text(json.dumps(result))
    steps = result["steps_done"]
    row = escape.describe(escape.load(folder))
    assert row["column"] == f"0.995N+clip 10 (750 of {steps:,} updates clipped)"
    for point in result["curve"]:
        point.pop("clipped_updates", None)
    (folder / "result.json").write_text(json.dumps(result))
    assert escape.describe(escape.load(folder))["column"] == "0.995N+clip 10"
    plain = escape.load(_result(tmp_path / "plain", 1e-4, [0.3, 0.16]))
    assert escape.describe(plain)["column"] == "0.995N"


def test_columns_are_named_as_table_5_names_them(escape, tmp_path):
    """NAG and CM as 0.995N / 0.9M, plain SGD (or momentum 0) as SGD, other optimizers by name."""
    folder = _result(tmp_path / "run", 1e-4, [0.3, 0.16])
    result = escape.load(folder)
    for name, momentum, column in (("nag", 0.995, "0.995N"), ("cm", 0.9, "0.9M"),
                                   ("sgd", 0.0, "SGD"), ("nag", 0.0, "SGD"),
                                   ("adam", 0.9, "adam")):  # fmt: skip
        result["config"]["optimizer"].update(name=name, momentum=momentum)
        assert escape.describe(result)["column"] == column, (name, momentum)


def _archive(report: Path, results: list[dict]) -> None:
    """A report folder as `inertia report` writes its runs: ``runs.json``, each run keyed."""
    report.mkdir()
    runs = [{"key": json.dumps({"n": index}), "result": r} for index, r in enumerate(results)]
    (report / "runs.json").write_text(
        json.dumps({"protocol": "table5", "budget": "b", "runs": runs})
    )


def test_a_reports_runs_filtered_and_summarised_by_seed(escape, tmp_path):
    """The runs of a sweep outlive their folders in the report's runs.json: read from there,
    kept by --only, and counted per seed (the biases baseline apart)."""
    results = []
    for seed, problem, losses in (
        (0, "addition", [0.3, 0.16, 0.16, 0.16, 0.16, 0.05]),  # leaves at 12,500
        (1, "addition", [0.3, 0.16, 0.16, 0.16, 0.16, 0.16]),
        (1, "multiplication", [0.3, 0.16, 0.16, 0.16, 0.16, 0.01]),
    ):
        folder = _result(tmp_path / f"{problem}{seed}", 1e-4, losses)
        result = json.loads((folder / "result.json").read_text())
        result["config"].update(seed=seed)
        result["config"]["task"].update(problem=problem, output_biases_only=False)
        result["final"]["train_error"] = losses[-1] * 5
        results.append(result)
    biases = json.loads(json.dumps(results[1]))
    biases["config"]["task"]["output_biases_only"] = True
    _archive(tmp_path / "report", [*results, biases])
    runs = escape.load_report(tmp_path / "report")
    assert [run["config"]["seed"] for run in runs] == [0, 1, 1, 1]
    assert runs[0]["folder"] == escape.cell_folder(json.dumps({"n": 0}))
    out = tmp_path / "out"
    escape.main([str(tmp_path / "report"), "--out", str(out), "--only", "task.problem=addition"])
    text = (out / "README.md").read_text()
    assert "3 finished runs" in text
    assert "whose settings match `task.problem=addition`" in text
    assert "| addition T=80 | biases | 0.0001 | 1 |" in text
    assert "multiplication" not in text.split("## Provenance")[0]
    assert "| addition T=80 | 0 | 1 | 1 | 1 | 0.25 | 0.25 |" in text  # left, below 0.5
    assert "| addition T=80 | 1 | 1 | 0 | 0 | 0.8 | 0.8 |" in text  # the biases run left out
    assert len(json.loads((out / "runs.json").read_text())) == 3
    escape.main([str(tmp_path / "report"), "--out", str(out)])  # seeds apart by problem
    text = (out / "README.md").read_text()
    assert "| multiplication T=80 | 1 | 1 | 1 | 1 | 0.05 | 0.05 |" in text
    assert "| addition T=80 | 1 | 1 | 0 | 0 | 0.8 | 0.8 |" in text
    assert len(json.loads((out / "runs.json").read_text())) == 4
    # settings as JSON or as Python writes them; numbers by value
    for only in ("task.output_biases_only=false", "task.output_biases_only=False"):
        escape.main([str(tmp_path / "report"), "--out", str(out), "--only", only])
        assert len(json.loads((out / "runs.json").read_text())) == 3
    escape.main([str(tmp_path / "report"), "--out", str(out), "--only", "optimizer.lr=0.0001",
                 "--only", "seed=1", "--only", "task.output_biases_only=true"])  # fmt: skip
    assert [r["folder"] for r in json.loads((out / "runs.json").read_text())] == [
        escape.cell_folder(json.dumps({"n": 3}))
    ]


def test_only_that_matches_nothing_or_is_malformed_is_a_one_line_error(escape, tmp_path, capsys):
    folder = _result(tmp_path / "run", 1e-4, [0.3, 0.16])
    for only, says in (("task.problem=mul", "no run of"), ("task.problem", "write KEY=VALUE")):
        with pytest.raises(SystemExit) as stopped:
            escape.main([str(folder), "--out", str(tmp_path / "out"), "--only", only])
        assert stopped.value.code == 2
        error = capsys.readouterr().err.strip()
        assert says in error
        assert "\n" not in error
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "runs.json").write_text("{}")
    with pytest.raises(SystemExit):
        escape.main([str(tmp_path / "report"), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert "report/runs.json is not a runs archive of `inertia report`" in error
    assert "\n" not in error.strip()
    assert not (tmp_path / "out").exists()
