from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from inertia.experiments import RunConfig, from_mapping, merge, nest
from inertia.experiments._protocol import Block, Budget, Protocol, cell_key
from inertia.experiments._report import (
    build_table,
    diverged_columns,
    index_results,
    plotted_rows,
    provenance,
    render_markdown,
    write_report,
)
from inertia.experiments._trainer import RunResult

NAG = {"name": "nag", "momentum": 0.9}
SGD = {"name": "sgd"}
CM = {"name": "cm", "momentum": 0.99}
BASE = {"task": "toy-regression", "steps": 10}

PROTOCOL = Protocol(
    name="unit",
    title="unit",
    budgets={
        "quick": Budget(
            about="test",
            base=BASE,
            blocks=[
                Block(
                    "toy-regression",
                    "0.9N",
                    {"optimizer": [NAG], "optimizer.lr": [0.1, 0.01], "seed": [0, 1]},
                ),
                Block(
                    "toy-regression",
                    "SGD",
                    {"optimizer": [SGD], "optimizer.lr": [0.1], "seed": [0, 1]},
                ),
                Block(
                    "toy-regression",
                    "0.99M",
                    {"optimizer": [CM], "optimizer.lr": [0.1], "seed": [0]},
                ),
            ],
        )
    },
    rows=["toy-regression"],
    columns=["SGD", "0.9N", "0.99M", "Adam"],
    published={("toy-regression", "0.9N"): 0.5},
)


def run(optimizer: dict, lr: float, seed: int) -> dict:
    """A run's settings as a budget's plan writes them."""
    return merge(nest(BASE), {"optimizer": {**optimizer, "lr": lr}, "seed": seed})


def result(error: float, settings: dict, status: str = "completed") -> RunResult:
    config = from_mapping(RunConfig, settings)
    return RunResult(
        config=config.to_dict(),
        status=status,  # type: ignore[arg-type]
        final={"train_error": error, "train_loss": error},
        curve=[
            {"step": 0, "train_error": 1.0, "train_loss": 1.0},
            {"step": 10, "train_error": error, "train_loss": error},
        ],
        diverged_at=5 if status == "diverged" else None,
        steps_done=10,
        error_name="error",
        wall_time_s=1.0,
        updates_per_s=10.0,
        peak_memory_mb=1.0,
        environment={},
        dataset="toy-synth",
    )


def key(settings: dict) -> str:
    return cell_key(settings)


def test_mean_over_seeds_then_best_over_lr():
    results = {}
    for lr, errors in ((0.1, (0.2, 0.4)), (0.01, (0.25, 0.27))):
        for seed, error in enumerate(errors):
            settings = run(NAG, lr, seed)
            results[key(settings)] = result(error, settings)
    # SGD: one seed diverged, one not: its mean is inf, so the cell reports diverged.
    results[key(run(SGD, 0.1, 0))] = result(math.inf, run(SGD, 0.1, 0), "diverged")
    results[key(run(SGD, 0.1, 1))] = result(0.3, run(SGD, 0.1, 1))
    table = build_table(PROTOCOL, "quick", results)
    nag = table[("toy-regression", "0.9N")]
    assert nag.ours == 0.26  # lr 0.01: mean(0.25, 0.27) beats lr 0.1: mean(0.2, 0.4) = 0.3
    assert nag.chosen == {"optimizer.lr": 0.01}
    assert nag.published == 0.5
    assert (nag.runs_done, nag.runs_planned) == (4, 4)
    assert nag.curve == [(0, 1.0), (10, 0.26)]
    assert nag.seeds == [(0, 0.25), (1, 0.27)]  # the chosen setting's runs, one per seed
    assert nag.seed_curves == [(0, [(0, 1.0), (10, 0.25)]), (1, [(0, 1.0), (10, 0.27)])]
    assert table[("toy-regression", "SGD")].seed_curves == []  # one complete run: no spread
    assert math.isinf(table[("toy-regression", "SGD")].ours)
    # its learning-curve panel names it rather than leaving it out silently
    assert diverged_columns(table, "toy-regression", ["SGD", "0.9N", "0.99M"]) == ["SGD"]
    assert table[("toy-regression", "0.99M")].ours is None  # planned, not run
    assert table[("toy-regression", "Adam")].runs_planned == 0  # not in this budget

    markdown = render_markdown(PROTOCOL, "quick", table, "error")
    assert "| | SGD | 0.9N | 0.99M |\n" in markdown  # Adam has no run in this budget: not shown
    # the row names the data its runs used; a cell of several seeds shows each after the mean
    row = (
        "| toy-regression (toy-synth) | diverged (seeds diverged, 0.3) / n/a "
        "| 0.26 (seeds 0.25, 0.27) / 0.5 | not run / n/a |"
    )
    assert row + "\n" in markdown


def test_protocol_without_published_numbers_shows_ours_alone(tmp_path):
    unpublished = dataclasses.replace(PROTOCOL, published={}, rows=["toy-regression", "other"])
    settings = run(NAG, 0.1, 0)
    markdown = write_report(unpublished, "quick", {key(settings): result(0.4, settings)}, tmp_path)
    assert "/ n/a" not in markdown
    assert "ours / published" not in markdown
    assert "no published numbers are shown" in markdown
    assert "| toy-regression (toy-synth) | not run | 0.4 (1/4 runs) | not run |\n" in markdown
    assert "| other |" not in markdown  # no run planned and nothing published: left out
    table = build_table(unpublished, "quick", {})
    assert plotted_rows(unpublished, table) == ["toy-regression"]  # 'other' has no run planned
    html_text = (tmp_path / "index.html").read_text()
    assert 'class="paper"' not in html_text.split("<table>")[1]
    assert "<th>toy-regression (toy-synth)</th>" in html_text
    assert "<th>other</th>" not in html_text
    assert (tmp_path / "learning_curves.png").exists()


def test_rows_without_runs_or_published_numbers_are_left_out(tmp_path):
    """Beside published numbers, a row is shown if it has runs in this budget or a published
    number in a shown column (a reader sees what the paper has that we did not run); a row with
    neither (our variant, outside this budget) would be all dashes and is left out."""
    protocol = dataclasses.replace(
        PROTOCOL,
        rows=["toy-regression", "published only", "ours, other budget", "published elsewhere"],
        published={
            ("toy-regression", "0.9N"): 0.5,
            ("published only", "SGD"): 0.7,
            ("published elsewhere", "Adam"): 0.1,  # Adam has no run here: not a shown column
        },
    )
    settings = run(NAG, 0.1, 0)
    markdown = write_report(protocol, "quick", {key(settings): result(0.4, settings)}, tmp_path)
    assert "| published only | — / 0.7 | — / n/a | — / n/a |\n" in markdown
    assert "'—': no run of this cell in this budget" in markdown  # the legend says what — is
    assert "| ours, other budget |" not in markdown
    assert "| published elsewhere |" not in markdown
    assert "<th>published only</th>" in (tmp_path / "index.html").read_text()


def test_budget_of_our_own_columns_shows_ours_alone(tmp_path):
    """The protocol publishes a number for 0.9N only; a budget that runs only SGD shows ours
    alone, without a column of 'n/a'."""
    sgd_only = dataclasses.replace(
        PROTOCOL,
        budgets={
            "ours": Budget(
                about="SGD only",
                base=BASE,
                blocks=[
                    Block(
                        "toy-regression",
                        "SGD",
                        {"optimizer": [SGD], "optimizer.lr": [0.1], "seed": [0]},
                    )
                ],
            )
        },
    )
    settings = run(SGD, 0.1, 0)
    markdown = write_report(sgd_only, "ours", {key(settings): result(0.3, settings)}, tmp_path)
    assert "| | SGD |\n" in markdown
    assert "| toy-regression (toy-synth) | 0.3 |\n" in markdown
    assert "n/a" not in markdown
    assert 'class="paper"' not in (tmp_path / "index.html").read_text().split("<table>")[1]


def test_partial_cells_are_marked(tmp_path):
    settings = run(NAG, 0.1, 0)
    markdown = write_report(PROTOCOL, "quick", {key(settings): result(0.4, settings)}, tmp_path)
    assert "0.4 (1/4 runs) / 0.5" in markdown
    assert (tmp_path / "learning_curves.png").exists()
    assert (tmp_path / "table.json").exists()


def test_provenance_counts_cpu_time_only_of_the_runs_that_record_it(tmp_path):
    """Wall time is what a run took beside whatever else shared the cores, CPU time what it
    cost; runs written before CPU time was counted (None) are left out of its sum, and the
    report says by how many runs it was counted. A branch counts its twin's part once."""
    settings = [run(NAG, 0.1, 0), run(NAG, 0.1, 1), run(NAG, 0.01, 0)]
    results = {
        key(settings[0]): dataclasses.replace(result(0.4, settings[0]), cpu_time_s=1800.0),
        key(settings[1]): dataclasses.replace(
            result(0.4, settings[1]), cpu_time_s=5400.0, branched_cpu_time_s=3600.0
        ),
        key(settings[2]): result(0.4, settings[2]),  # cpu_time_s None: not counted
    }
    facts = provenance(PROTOCOL, "quick", results)
    assert (facts["cpu_time_s"], facts["runs_with_cpu_time"], facts["runs_trained"]) == (
        3600.0,
        2,
        3,
    )
    markdown = write_report(PROTOCOL, "quick", results, tmp_path)
    assert "(wall time per run in table.json; 1.00 CPU-hours by the 2 runs that count it)" in (
        markdown
    )
    alone = {**results, key(settings[1]): result(0.4, settings[1])}
    assert "0.50 CPU-hours by the run that counts it)" in write_report(
        PROTOCOL, "quick", alone, tmp_path
    )
    del results[key(settings[2])]
    assert "table.json; 1.00 CPU-hours); code" in write_report(PROTOCOL, "quick", results, tmp_path)
    none = {key(settings[2]): result(0.4, settings[2])}
    assert "(wall time per run in table.json); code" in write_report(
        PROTOCOL, "quick", none, tmp_path
    )


def test_metric_label_names_a_metric_other_than_train_error(tmp_path, monkeypatch):
    """The label names the metric in the table and on the curves' axis (not the runs'
    error_name, which describes another quantity)."""
    import matplotlib.figure

    labels: list[str] = []

    def record(figure, path, **kwargs):
        labels.append(figure.axes[0].get_ylabel())

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    settings = run(NAG, 0.1, 0)
    results = {key(settings): result(0.4, settings)}
    default = write_report(PROTOCOL, "quick", results, tmp_path / "default")
    assert "Ours: error, `quick` budget" in default  # the task's error_name
    labelled = dataclasses.replace(PROTOCOL, metric="train_loss", metric_label="meta-objective")
    markdown = write_report(labelled, "quick", results, tmp_path / "labelled")
    assert "Ours: meta-objective, `quick` budget" in markdown
    assert labels == ["error", "meta-objective"]


def test_select_metric_picks_the_setting_and_metric_is_reported():
    results = {}
    # lr 0.1 is better on validation, lr 0.01 on test: the table must report lr 0.1's test value.
    for lr, valid, test in ((0.1, 0.2, 0.5), (0.01, 0.3, 0.4)):
        settings = run(NAG, lr, 0)
        outcome = result(0.1, settings)
        outcome.final.update({"valid_error": valid, "test_error": test})
        outcome.curve = [{"step": 0, "test_error": 1.0}, {"step": 10, "test_error": test}]
        results[key(settings)] = outcome
    protocol = dataclasses.replace(PROTOCOL, metric="test_error", select_metric="valid_error")
    cell = build_table(protocol, "quick", results)[("toy-regression", "0.9N")]
    assert cell.chosen == {"optimizer.lr": 0.1}
    assert cell.ours == 0.5
    table = build_table(protocol, "quick", results)
    assert "best over optimizer.lr by valid_error" in render_markdown(
        protocol, "quick", table, "error"
    )


def test_a_budget_may_pick_by_its_own_metric():
    """Table 5's paper budgets pick each cell's rate by the final error (the paper's rule) where
    the protocol's earlier budgets picked by the loss."""
    results = {}
    for lr, error, loss in ((0.1, 0.2, 0.9), (0.01, 0.4, 0.1)):
        settings = run(NAG, lr, 0)
        outcome = result(error, settings)
        outcome.final["train_loss"] = loss
        results[key(settings)] = outcome
    by_loss = dataclasses.replace(PROTOCOL, select_metric="train_loss")
    assert build_table(by_loss, "quick", results)[("toy-regression", "0.9N")].ours == 0.4
    budget = dataclasses.replace(PROTOCOL.budget("quick"), select_metric="train_error")
    by_error = dataclasses.replace(by_loss, budgets={"quick": budget})
    assert by_error.chooser("quick") == "train_error"
    table = build_table(by_error, "quick", results)
    assert table[("toy-regression", "0.9N")].ours == 0.2
    assert "by train_loss" not in render_markdown(by_error, "quick", table, "error")


def test_a_result_outside_the_budget_is_left_out():
    settings = run(NAG, 0.3, 0)  # lr 0.3 is not planned
    table = build_table(PROTOCOL, "quick", {key(settings): result(0.01, settings)})
    assert table[("toy-regression", "0.9N")].ours is None


def test_budget_description_is_generated_from_its_blocks():
    text = PROTOCOL.budget("quick").describe()
    first, *cells = text.split("\n")
    assert first == "test. 7 runs, seed(s) 0, 1; all runs: task.name=toy-regression, steps=10."
    assert cells == [
        "- toy-regression / 0.9N: optimizer.name=nag; optimizer.momentum=0.9; "
        "optimizer.lr in {0.1, 0.01}",
        "- toy-regression / SGD: optimizer.name=sgd; optimizer.lr=0.1",
        "- toy-regression / 0.99M: optimizer.name=cm; optimizer.momentum=0.99; optimizer.lr=0.1",
    ]
    markdown = render_markdown(PROTOCOL, "quick", build_table(PROTOCOL, "quick", {}), "error")
    assert "Budget `quick`: " + text in markdown


def test_a_run_in_two_cells_or_outside_the_table_is_rejected():
    import pytest

    from inertia.experiments import ConfigError

    twice = Budget(
        about="twice",
        base={"task": "toy-regression"},
        blocks=[Block("toy-regression", "0.9N", {"optimizer.lr": [0.1]}),
                Block("toy-regression", "SGD", {"optimizer.lr": [0.1, 0.2]})],
    )  # fmt: skip
    with pytest.raises(ConfigError, match="declared in cell"):
        twice.plan()
    with pytest.raises(ConfigError, match="not among its rows and columns"):
        dataclasses.replace(PROTOCOL, columns=["SGD", "0.9N"])


def test_rows_that_measure_different_things_are_labelled_each_by_its_own(tmp_path, monkeypatch):
    """table5's memorization rows count wrongly recalled symbols while its arithmetic rows count
    sequences: the caption names each row's measure, and each panel its own y label."""
    from inertia.experiments import _report

    two_rows = dataclasses.replace(
        PROTOCOL,
        budgets={"quick": Budget(about="test", base=BASE, blocks=[
            Block("toy-regression", "0.9N", {"optimizer": [NAG], "optimizer.lr": [0.1],
                                             "seed": [0]}),
            Block("other", "0.9N", {"optimizer": [NAG], "optimizer.lr": [0.01], "seed": [0]}),
        ])},
        rows=["toy-regression", "other"],
    )  # fmt: skip
    first, second = run(NAG, 0.1, 0), run(NAG, 0.01, 0)
    results = {
        key(first): result(0.4, first),
        key(second): dataclasses.replace(result(2.5, second), error_name="symbols per sequence"),
    }
    labels = {}

    def spy(protocol, table, path, error_name, row_error_names=None):  # type: ignore[no-untyped-def]
        labels.update(row_error_names or {})

    monkeypatch.setattr(_report, "plot_curves", spy)
    markdown = write_report(two_rows, "quick", results, tmp_path)
    assert "Ours: toy-regression: error; other: symbols per sequence," in markdown
    assert labels == {"toy-regression": "error", "other": "symbols per sequence"}


def test_results_index_lists_reports_then_other_evidence(tmp_path):
    report = tmp_path / "unit-quick"
    report.mkdir()
    provenance = {"runs_complete": 2, "runs_planned": 4, "wall_time_s": 7200.0,
                  "commits": ["0123456789abcdef"], "generated": "2026-11-30T10:00:00"}  # fmt: skip
    (report / "table.json").write_text(
        json.dumps({"title": "Unit table", "budget": "quick", "provenance": provenance})
    )
    (report / "README.md").write_text("# not evidence of its own: the report's folder\n")
    escape = tmp_path / "table5-add80-escape"
    escape.mkdir()
    (escape / "README.md").write_text("Generated by a script.\n\n# Add T=80: single runs\n")
    run = tmp_path / "benchmarks" / "2026-11-30-run1"
    run.mkdir(parents=True)
    (run / "README.md").write_text("# Benchmark record\n")
    (tmp_path / "benchmarks" / "loose.json").write_text("{}")

    text = index_results(tmp_path)

    assert text == (tmp_path / "README.md").read_text()
    assert "| [Unit table](unit-quick/table.md) ([curves](unit-quick/learning_curves.png)) | " \
        "`quick` | 2/4 | 2.00 h | 0123456789 | 2026-11-30 |" in text  # fmt: skip
    assert text.index("Unit table") < text.index("Other evidence")
    assert "- [Benchmark record](benchmarks/2026-11-30-run1/README.md)" in text
    assert "- [Add T=80: single runs](table5-add80-escape/README.md)" in text
    assert "unit-quick/README.md" not in text


def test_results_index_without_other_evidence_has_no_such_section(tmp_path):
    assert "Other evidence" not in index_results(tmp_path)


def test_learning_curves_draw_each_seed_beside_the_mean(tmp_path, monkeypatch):
    """A cell of several seeds draws its mean (with markers) and each seed (thin, same colour);
    a cell of one run only its curve."""
    import matplotlib.figure

    results = {}
    for seed, error in ((0, 0.2), (1, 0.3)):
        settings = run(NAG, 0.1, seed)
        results[key(settings)] = result(error, settings)
    settings = run(CM, 0.1, 0)
    results[key(settings)] = result(0.5, settings)
    drawn = {}

    def record(figure, path, **kwargs):
        axis = figure.axes[0]
        drawn["lines"] = [(tuple(line.get_ydata()), line.get_color(), line.get_marker())
                          for line in axis.get_lines()]  # fmt: skip
        drawn["title"] = figure.texts[0].get_text() if figure.texts else ""

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    write_report(PROTOCOL, "quick", results, tmp_path)
    lines = drawn["lines"]
    assert len(lines) == 4  # NAG: mean and two seeds; CM: one run
    mean, *seeds = [line for line in lines if line[0][-1] in (0.25, 0.2, 0.3)]
    assert mean[0] == (1.0, 0.25)
    assert mean[2] == "o"
    assert sorted(s[0] for s in seeds) == [(1.0, 0.2), (1.0, 0.3)]
    assert {s[1] for s in seeds} == {mean[1]}  # the seeds in the mean's colour
    assert "thin lines: each seed" in drawn["title"]


def test_learning_curves_of_more_columns_than_colors_all_differ(tmp_path, monkeypatch):
    """A table of more columns than the color cycle (table1 draws 15) gives each column its own
    color and line style, and a column's seeds the style of its mean."""
    import matplotlib.figure

    columns = [f"{lr}N" for lr in range(1, 13)]
    blocks = [
        Block("toy-regression", column, {"optimizer": [NAG], "optimizer.lr": [0.01 * lr],
                                         "seed": [0, 1]})
        for lr, column in enumerate(columns, start=1)
    ]  # fmt: skip
    quick = Budget(about="test", base=BASE, blocks=blocks)
    protocol = Protocol(
        name="many", title="many", budgets={"quick": quick}, rows=["toy-regression"],
        columns=columns,
    )  # fmt: skip
    results = {}
    for lr in range(1, 13):
        for seed in (0, 1):
            settings = run(NAG, 0.01 * lr, seed)
            results[key(settings)] = result(0.1 * lr + 0.01 * seed, settings)
    drawn = {}

    def record(figure, path, **kwargs):
        axis = figure.axes[0]
        drawn["lines"] = [(line.get_label(), line.get_color(), line.get_linestyle())
                          for line in axis.get_lines()]  # fmt: skip

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    write_report(protocol, "quick", results, tmp_path)
    means = [line for line in drawn["lines"] if not line[0].startswith("_")]
    assert [label for label, _, _ in means] == columns
    assert len({(color, style) for _, color, style in means}) == len(columns)
    styles = {label: (color, style) for label, color, style in means}
    seeds = [line for line in drawn["lines"] if line[0].startswith("_")]
    assert len(seeds) == 2 * len(columns)
    assert {(color, style) for _, color, style in seeds} == set(styles.values())


def test_a_clipping_cell_says_how_often_clipping_fired():
    """Issue 35: each clipping run's share of clipped updates beside its number; nothing where
    the runs do not clip or did not count it (runs recorded before the count existed)."""
    clipping = Protocol(
        name="clip", title="clip", rows=["toy-regression"], columns=["SGD+C"],
        budgets={"quick": Budget(about="test", base={**BASE, "clip_grad_norm": 1.0}, blocks=[
            Block("toy-regression", "SGD+C", {"optimizer": [SGD], "optimizer.lr": [0.1],
                                              "seed": [0, 1]})])},
    )  # fmt: skip
    results = {}
    for seed, clipped in ((0, 3.0), (1, 0.0)):
        settings = merge(run(SGD, 0.1, seed), {"clip_grad_norm": 1.0})
        counted = result(0.2, settings)
        counted.curve[1]["clipped_updates"] = clipped
        results[key(settings)] = counted
    table = build_table(clipping, "quick", results)
    assert table[("toy-regression", "SGD+C")].clipped == [(0, 3, 10), (1, 0, 10)]
    assert "0.2 (seeds 0.2, 0.2) (clipped 3, 0 of 10 updates)" in render_markdown(
        clipping, "quick", table, "error"
    )
    # one clip in 50,000 updates is a count, not a share rounded to "0.0%"
    rare = counted  # seed 1's run
    rare.curve[1]["clipped_updates"], rare.steps_done = 1.0, 50_000
    table = build_table(clipping, "quick", results)
    assert "(clipped 3 of 10, 1 of 50,000 updates)" in render_markdown(
        clipping, "quick", table, "error"
    )
    for counted in results.values():  # recorded before the count: nothing is claimed
        del counted.curve[1]["clipped_updates"]
    assert build_table(clipping, "quick", results)[("toy-regression", "SGD+C")].clipped == []
    plain = {key(run(SGD, 0.1, 0)): result(0.2, run(SGD, 0.1, 0))}
    assert build_table(PROTOCOL, "quick", plain)[("toy-regression", "SGD")].clipped == []


def test_a_budget_at_equal_cost_draws_and_keeps_the_curves_against_gradient_cases(
    tmp_path, monkeypatch
):
    """Issue 35: HF and first-order methods on one axis. A first-order run recorded before the
    count costs its updates times its minibatch; an HF run its recorded count (mean over seeds
    of cost and value at each evaluation); an HF run without the count has no cost curve; a
    budget without ``cost_axis`` keeps none and draws no cost plot."""
    import matplotlib.figure

    hf = {"name": "hf"}
    blocks = [
        Block("toy-regression", "SGD", {"optimizer": [SGD], "optimizer.lr": [0.1],
                                        "seed": [0]}),
        Block("toy-regression", "HF", {"optimizer": [hf], "optimizer.lr": [1.0],
                                       "seed": [0, 1]}),
    ]  # fmt: skip
    budgets = {
        "cost": Budget(about="test", base={**BASE, "batch_size": 8}, blocks=blocks, cost_axis=True),
        "plain": Budget(about="test", base={**BASE, "batch_size": 8}, blocks=blocks),
    }
    protocol = Protocol(name="cost", title="cost", budgets=budgets, rows=["toy-regression"],
                        columns=["SGD", "HF"])  # fmt: skip
    results = {}
    sgd = merge(run(SGD, 0.1, 0), {"batch_size": 8})
    results[key(sgd)] = result(0.4, sgd)
    for seed, cases in ((0, 100.0), (1, 300.0)):
        settings = merge(run(hf, 1.0, seed), {"batch_size": 8})
        counted = result(0.1 * (seed + 1), settings)
        counted.curve[0]["gradient_cases"] = 0.0
        counted.curve[1]["gradient_cases"] = cases
        results[key(settings)] = counted
    table = build_table(protocol, "cost", results)
    assert table[("toy-regression", "SGD")].cost_curve == [(0.0, 1.0), (80.0, 0.4)]
    assert table[("toy-regression", "HF")].cost_curve == [(0.0, 1.0), (200.0, pytest.approx(0.15))]
    assert build_table(protocol, "plain", results)[("toy-regression", "HF")].cost_curve == []
    without = {k: dataclasses.replace(r, curve=[{k2: v for k2, v in p.items()
                                                 if k2 != "gradient_cases"} for p in r.curve])
               for k, r in results.items()}  # fmt: skip
    assert build_table(protocol, "cost", without)[("toy-regression", "HF")].cost_curve == []

    drawn: dict[str, list] = {}

    def record(figure, path, **kwargs):
        axis = figure.axes[0]
        drawn[Path(path).name] = [(tuple(line.get_xdata()), axis.get_xlabel())
                                  for line in axis.get_lines()]  # fmt: skip

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    markdown = write_report(protocol, "cost", results, tmp_path / "cost")
    assert (0.0, 200.0) in [xs for xs, _ in drawn["cost_curves.png"]]
    assert "gradient cases" in drawn["cost_curves.png"][0][1]
    assert "toy-regression/HF: 200" in markdown
    assert "cost_curves.png" in markdown
    saved = json.loads((tmp_path / "cost" / "table.json").read_text())
    assert {c["column"]: c["cost_curve"][-1][0] for c in saved["cells"]} == {
        "SGD": 80.0,
        "HF": 200.0,
    }
    drawn.clear()
    write_report(protocol, "plain", results, tmp_path / "plain")
    assert list(drawn) == ["learning_curves.png"]
    saved = json.loads((tmp_path / "plain" / "table.json").read_text())
    assert all("cost_curve" not in cell for cell in saved["cells"])


def test_a_cost_curve_ends_at_the_runs_last_points_when_they_stop_at_different_updates():
    """HF runs stopped by a cost end at different updates: the cell's cost curve keeps the
    evaluations they share and ends with the mean of their last points."""
    hf = {"name": "hf"}
    blocks = [Block("toy-regression", "HF", {"optimizer": [hf], "optimizer.lr": [1.0],
                                             "seed": [0, 1]})]  # fmt: skip
    budget = Budget(about="test", base=BASE, blocks=blocks, cost_axis=True)
    protocol = Protocol(name="cost", title="cost", budgets={"cost": budget},
                        rows=["toy-regression"], columns=["HF"])  # fmt: skip
    results = {}
    for seed, last in ((0, 9), (1, 11)):
        settings = run(hf, 1.0, seed)
        done = result(0.1 * (seed + 1), settings)
        done.curve = [
            {"step": 0, "train_error": 1.0, "gradient_cases": 0.0},
            {"step": 5, "train_error": 0.5, "gradient_cases": 50.0 + seed},
            {"step": last, "train_error": 0.1 * (seed + 1), "gradient_cases": 100.0 + seed},
        ]
        results[key(settings)] = done
    cell = build_table(protocol, "cost", results)[("toy-regression", "HF")]
    assert cell.cost_curve == [(0.0, 1.0), (50.5, 0.5), (100.5, pytest.approx(0.15))]
    assert cell.curve == [(0, 1.0), (5, 0.5), (10, pytest.approx(0.15))]  # against updates too
