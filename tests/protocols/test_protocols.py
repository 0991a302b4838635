from __future__ import annotations

import json

import pytest

from inertia.experiments._protocol import optimizer_column
from inertia.protocols import PROTOCOLS
from inertia.tasks import TASKS


def test_table1_published_numbers_are_spec_table_1():
    published = PROTOCOLS["table1"].published
    assert published[("curves", "SGD")] == 0.48
    assert published[("curves", "0.999N")] == 0.074
    assert published[("mnist", "0.99N")] == 0.73
    assert published[("mnist", "0.99M")] == 0.77
    assert published[("faces", "0.999N")] == 7.7
    assert published[("faces", "HF-dag")] == 7.5
    assert ("faces", "SGD_C") not in published  # NA in the paper
    assert len(published) == 3 * 12 - 1


def test_table1_paper_budget_is_the_published_protocol():
    runs = PROTOCOLS["table1"].budget("paper").runs().values()
    assert len(runs) == 3 * (6 + 2 * 4 * 6 + 3 + 3)
    hf = [r for r in runs if r.optimizer == "hf"]
    assert sorted(optimizer_column(r) for r in hf) == ["HF-dag"] * 6 + ["HF-star"] * 3
    for run in hf:
        options = run.optimizer_options
        assert 0 < options["curvature_batch"] < run.batch_size
        if optimizer_column(run) == "HF-star":
            assert options["cg_max_iterations"] == 250
            assert options["line_search"] is True
        else:
            assert options["cg_decay"] > 0.95
            assert options["line_search"] is False
    momentum_runs = [r for r in runs if r.optimizer in ("nag", "cm")]
    assert {r.momentum for r in momentum_runs} == {0.9, 0.99, 0.995, 0.999}
    assert {r.lr for r in momentum_runs} == {0.05, 0.01, 0.005, 0.001, 0.0005, 0.0001}
    for run in momentum_runs:
        assert (run.steps, run.batch_size, run.init) == (750_000, 200, "default")
        assert (run.momentum_schedule, run.momentum_period) == ("sutskever", 250)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_run_of_every_protocol_is_valid(name):
    protocol = PROTOCOLS[name]
    for budget in protocol.budgets.values():
        for config in budget.runs().values():
            task = TASKS[config.task]
            assert config.model in task.models
            task.Options(**config.task_options)  # options the task accepts
            assert protocol.row(config) in protocol.rows
            assert protocol.column(config) in protocol.columns


def test_table1_quick_sgd_grid_extends_above_the_paper_rates():
    runs = PROTOCOLS["table1"].budget("quick").runs().values()
    sgd = {(r.model, r.lr) for r in runs if r.optimizer == "sgd"}
    momentum = {(r.model, r.lr) for r in runs if r.optimizer == "nag"}
    assert momentum < sgd
    assert {lr for model, lr in sgd if model == "curves"} == {0.2, 0.1, 0.05, 0.01}
    assert {lr for model, lr in sgd if model == "faces"} == {0.005, 0.002, 0.001, 0.0005}


def test_optimizer_columns():
    from inertia.experiments import RunConfig

    assert optimizer_column(RunConfig(optimizer="sgd", momentum=0.0)) == "SGD"
    assert optimizer_column(RunConfig(optimizer="nag", momentum=0.995)) == "0.995N"
    assert optimizer_column(RunConfig(optimizer="cm", momentum=0.9)) == "0.9M"
    assert optimizer_column(RunConfig(optimizer="adam")) == "Adam"


def test_table2_pairs_every_nag_run_with_its_fine_tuned_twin():
    protocol = PROTOCOLS["table2"]
    assert protocol.published[("mnist", "before")] == 1.2
    assert protocol.published[("faces", "after")] == 7.7
    runs = list(protocol.budget("paper").runs().values())
    assert len(runs) == 3 * 4 * 6 * 2

    def canonical(config) -> str:
        return json.dumps(config.to_dict(), sort_keys=True)

    for budget in ("paper", "quick"):
        runs = list(protocol.budget(budget).runs().values())
        twins = sorted(canonical(r.replace(finetune_steps=0)) for r in runs if r.finetune_steps)
        assert twins == sorted(canonical(r) for r in runs if r.finetune_steps == 0)
    assert {r.steps for r in protocol.budget("paper").runs().values()} == {750_000}
    quick = protocol.budget("quick").runs().values()
    # the quick runs reach μ_max = 0.995 (after 99 plateaus) well before fine-tuning starts
    assert all(99 * r.momentum_period < r.steps - r.finetune_steps for r in quick)


def test_table3_scales_and_published_numbers():
    protocol = PROTOCOLS["table3"]
    assert protocol.columns == ("0.25", "0.5", "1", "2", "4")
    assert [protocol.published[("curves", c)] for c in protocol.columns] == [
        16.0, 16.0, 0.074, 0.083, 0.35,
    ]  # fmt: skip
    runs = protocol.budget("paper").runs().values()
    assert {(r.init, r.model, r.optimizer) for r in runs} == {("sparse", "curves", "nag")}
    assert {r.init_scale for r in runs} == {0.25, 0.5, 1.0, 2.0, 4.0}


def test_table5_published_numbers_and_columns():
    protocol = PROTOCOLS["table5"]
    assert protocol.published[("add T=80", "0.995N")] == 0.00025
    assert protocol.published[("mem-20 T=80", "biases")] == 8
    assert protocol.published[("mul T=80", "0.9M")] == 0.029
    runs = protocol.budget("paper").runs().values()
    assert {r.steps for r in runs} == {50_000}
    assert {r.batch_size for r in runs} == {100}
    tanh = [r for r in runs if r.model == "tanh" and r.optimizer in ("nag", "cm")]
    assert {r.lr for r in tanh} == {1e-3, 1e-4, 1e-5, 1e-6}
    assert {r.momentum for r in tanh} == {0.0, 0.9, 0.98, 0.995}
    assert {r.seed for r in runs} == {0, 1, 2, 3}
    assert {r.momentum_schedule for r in runs} == {"rnn"}


def test_table5_baselines_sit_beside_the_paper_columns():
    """Issue 7: Adam and LSTM baselines in a budget of their own and in the paper budget; the
    LSTM cell holds NAG and Adam runs, so the table picks over (optimizer, lr), never averaging
    the two optimizers together."""
    from inertia.experiments._report import build_table
    from inertia.experiments._trainer import RunResult

    protocol = PROTOCOLS["table5"]
    baselines = list(protocol.budget("baselines").runs().values())
    assert {protocol.row(r) for r in baselines} == {"add T=80"}
    assert {protocol.column(r) for r in baselines} == {"Adam", "LSTM"}
    assert {r.optimizer for r in baselines} == {"adam"}
    paper = protocol.budget("paper").runs().values()
    lstm = {(r.optimizer, r.lr) for r in paper if r.model == "lstm"}
    assert {optimizer for optimizer, _ in lstm} == {"nag", "adam"}
    assert protocol.select == ("optimizer", "lr")

    def finished(error: float, **config) -> RunResult:
        return RunResult(
            config=config, status="completed", final={"train_error": error},
            curve=[{"step": 0, "train_error": error}], diverged_at=None, steps_done=1,
            error_name="error", wall_time_s=1.0, updates_per_s=1.0, peak_memory_mb=1.0,
            environment={},
        )  # fmt: skip

    common = {"task": "long-term", "model": "lstm", "lr": 1e-3, "seed": 0,
              "task_options": {"problem": "addition", "length": 80}}  # fmt: skip
    results = {
        "nag": finished(0.8, optimizer="nag", momentum=0.995, **common),
        "adam": finished(0.1, optimizer="adam", momentum=0.0, **common),
    }
    cell = build_table(protocol, "paper", results)[("add T=80", "LSTM")]
    assert cell.ours == 0.1  # the better optimizer, not the mean 0.45 of the two
    assert cell.chosen == {"optimizer": "adam", "lr": 1e-3}


def test_long_term_columns():
    from inertia.experiments import RunConfig
    from inertia.protocols._long_term import clipping_column, problem_row, table5_column

    def run(**changes):
        return RunConfig(task="long-term", **changes)

    assert table5_column(run(optimizer="nag", momentum=0.995)) == "0.995N"
    assert table5_column(run(optimizer="cm", momentum=0.9)) == "0.9M"
    assert table5_column(run(optimizer="nag", momentum=0.0)) == "0"
    assert table5_column(run(model="biases")) == "biases"
    assert table5_column(run(model="lstm", optimizer="nag", momentum=0.995)) == "LSTM"
    assert table5_column(run(model="lstm", optimizer="adam")) == "LSTM"
    assert table5_column(run(optimizer="adam")) == "Adam"
    small = run(optimizer="sgd", task_options={"initialization": "small-random"})
    assert table5_column(small) == "SGD small"
    options = {"problem": "memorization-5bit", "length": 200}
    assert problem_row(run(task_options=options)) == "mem-5 T=200"
    assert clipping_column(run(optimizer="sgd", clip_grad_norm=1.0)) == "SGD+clip"
    assert clipping_column(run(model="leaky-tanh", clip_grad_norm=1.0)) == "leaky NAG+clip"


def test_hf_momentum_varies_only_the_cg_decay():
    protocol = PROTOCOLS["hf-momentum"]
    runs = list(protocol.budget("quick").runs().values())
    assert sorted(protocol.column(r) for r in runs) == ["0.95", "0.99", "0.995", "0.999"]
    others = [{k: v for k, v in r.optimizer_options.items() if k != "cg_decay"} for r in runs]
    assert all(o == others[0] for o in others)
    assert others[0]["line_search"] is False


def test_citation_protocol_runs_every_gradient_method():
    protocol = PROTOCOLS["liao2018-citation"]
    quick = protocol.budget("quick").runs().values()
    assert sorted(r.model for r in quick) == sorted(protocol.columns)
    paper = protocol.budget("paper").runs().values()
    assert {(r.lr, r.steps, r.momentum, r.weight_decay) for r in paper} == {(1e-3, 2000, 0.9, 5e-4)}


@pytest.mark.parametrize("name", ["bengio2012", "bengio2012-text"])
def test_bengio2012_quick_budget_switches_every_technique_on_and_off(name):
    protocol = PROTOCOLS[name]
    runs = list(protocol.budget("quick").runs().values())
    rows = {protocol.row(run) for run in runs}
    assert rows == set(protocol.rows)
    for technique in "CLRN":
        without = "SGD+" + "".join(t for t in "CLRN" if t != technique)
        assert {"SGD+CLRN", without} <= rows
        for run in runs:
            row = protocol.row(run)
            if row == without:  # the full set minus one technique, the others as in SGD+CLRN
                cell = run.task_options["cell"]
                assert (run.clip_grad_norm > 0) == (technique != "C")
                assert cell.startswith("leaky") == (technique != "L")
                assert cell.endswith("relu") == (technique != "R")
                assert (run.optimizer == "nag") == (technique != "N")
    if name == "bengio2012":
        rbm = {protocol.row(run) for run in runs if run.model == "rbm"}
        assert rbm == {"SGD+CLRN"}
        for row in rows:
            models = {run.model for run in runs if protocol.row(run) == row}
            assert {"logistic", "nade"} <= models


def test_bengio2012_sets_budget_runs_each_cumulative_cell_once_at_a_quick_grid_rate():
    protocol = PROTOCOLS["bengio2012"]
    quick = protocol.budget("quick").runs().values()
    grid = {(protocol.row(r), r.model): set() for r in quick}
    for run in quick:
        grid[(protocol.row(run), run.model)].add(run.lr)
    sets = list(protocol.budget("sets").runs().values())
    cells = [(r.task_options["dataset"], protocol.row(r), r.model) for r in sets]
    assert len(cells) == len(set(cells))  # one run per cell: no lr grid
    assert {d for d, _, _ in cells} == {"nottingham", "musedata", "piano-midi"}
    assert {row for _, row, _ in cells} == {"SGD", "SGD+C", "SGD+CL", "SGD+CLR", "SGD+CLRN"}
    for run in sets:
        assert run.lr in grid[(protocol.row(run), run.model)]
        twin = next(q for q in quick if protocol.row(q) == protocol.row(run))
        assert {**run.task_options, "dataset": "jsb"} == twin.task_options


def test_bengio2012_words_budget_runs_each_row_once_at_the_character_level_rate():
    protocol = PROTOCOLS["bengio2012-text"]
    quick = list(protocol.budget("quick").runs().values())
    words = list(protocol.budget("words").runs().values())
    rows = [protocol.row(r) for r in words]
    assert sorted(rows) == sorted(protocol.rows)  # every row once: no lr grid
    for run in words:
        assert run.task_options["level"] == "word"
        assert protocol.column(run) == "ptb-word"
        twins = [q for q in quick if protocol.row(q) == protocol.row(run)]
        assert run.lr in {q.lr for q in twins}
        assert {(q.optimizer, q.momentum, q.clip_grad_norm) for q in twins} == {
            (run.optimizer, run.momentum, run.clip_grad_norm)
        }
        char_cell = {k: twins[0].task_options.get(k) for k in ("cell", "recurrent_radius")}
        assert {k: run.task_options.get(k) for k in char_cell} == char_cell
