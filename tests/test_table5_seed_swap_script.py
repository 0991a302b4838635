"""scripts/table5_seed_swap.py: the long-term task with the weights and the minibatch stream
drawn from different seeds (issue 20)."""

from __future__ import annotations

import json

import pytest

from inertia.experiments import RunConfig, from_mapping, merge, nest, train

SHORT = ["--set", "task.length=20", "--set", "task.eval_cases=200", "--set", "eval_every=10",
         "--set", "optimizer.lr=1e-3"]  # fmt: skip


@pytest.fixture(scope="module")
def swap(load_script):
    return load_script("table5_seed_swap")


def _curve(folder) -> list[tuple[int, float]]:
    result = json.loads((folder / "result.json").read_text())
    return [(point["step"], point["train_loss"]) for point in result["curve"]]


def test_equal_seeds_are_the_plain_task_run_for_run(swap, tmp_path):
    swap.main(["--init-seed", "0", "--data-seed", "0", "--steps", "20",
               "--run-dir", str(tmp_path / "swap"), *SHORT])  # fmt: skip
    plain = {**swap.DEFAULTS, "task.length": 20,
             "task.eval_cases": 200, "eval_every": 10, "optimizer.lr": 1e-3}  # fmt: skip
    config = from_mapping(RunConfig, merge(nest(plain), {"seed": 0, "steps": 20}))
    train(config, tmp_path / "plain")
    assert _curve(tmp_path / "swap") == _curve(tmp_path / "plain")


def test_the_data_seed_changes_the_stream_and_not_the_weights(swap, tmp_path):
    for data_seed in (0, 1):
        swap.main(["--init-seed", "0", "--data-seed", str(data_seed), "--steps", "20",
                   "--run-dir", str(tmp_path / f"data{data_seed}"), *SHORT])  # fmt: skip
    same, other = _curve(tmp_path / "data0"), _curve(tmp_path / "data1")
    assert same[0] == other[0]  # the same initial weights, scored on the same sequences
    assert same[1][1] != other[1][1]  # trained on other minibatches
    result = json.loads((tmp_path / "data1" / "result.json").read_text())
    assert result["config"]["task"]["data_seed"] == 1
    assert result["config"]["seed"] == 0
    # resuming a finished run returns its result instead of training again
    swap.main(["--init-seed", "0", "--data-seed", "1", "--steps", "20",
               "--run-dir", str(tmp_path / "data1"), *SHORT])  # fmt: skip
    assert _curve(tmp_path / "data1") == other


def test_a_bad_setting_is_one_line(swap, tmp_path):
    with pytest.raises(SystemExit, match=r"table5_seed_swap: .*task\.length"):
        swap.main(["--init-seed", "0", "--data-seed", "1", "--run-dir", str(tmp_path / "x"),
                   "--set", "task.length=-3"])  # fmt: skip
    with pytest.raises(SystemExit):
        swap.main(["--init-seed", "0", "--data-seed", "1", "--run-dir", str(tmp_path / "x"),
                   "--set", "no-equals-sign"])  # fmt: skip
