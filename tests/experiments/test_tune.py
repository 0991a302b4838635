from __future__ import annotations

import subprocess
import sys

import optuna
import pytest

from inertia.experiments import ConfigError, RunConfig
from inertia.experiments._sweep import SweepSettings, default_storage
from inertia.experiments._tune import SearchDimension, Tuning, parse_search, run_tuning

BASE = RunConfig(steps=150, eval_every=50, checkpoint_every=0, batch_size=64)


def settings_for(tmp_path) -> SweepSettings:
    return SweepSettings(storage=default_storage(tmp_path), runs_dir=str(tmp_path), progress=False)


def test_parse_search():
    assert parse_search("optimizer.lr=log:1e-4:1e-1") == SearchDimension(
        "optimizer.lr", "log", 1e-4, 0.1
    )
    assert parse_search("batch_size=int:32:256") == SearchDimension("batch_size", "int", 32, 256)
    assert parse_search("optimizer.name=choice:cm,nag").choices == ("cm", "nag")
    for bad, message in [
        ("lr", "must look like"),
        ("lr=log:0:1", "LOW > 0"),
        ("lr=float:2:1", "LOW < HIGH"),
        ("lr=beta:1:2", "kind must be"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_search(bad)


def test_tuning_samples_within_ranges_stores_results_and_stops(tmp_path):
    tuning = Tuning(
        study_name="t",
        base=BASE,
        space=(
            parse_search("optimizer.lr=log:1e-3:1e-1"),
            parse_search("optimizer.momentum=float:0.5:0.95"),
        ),
        trials=5,
        sampler="random",
    )
    study = run_tuning(tuning, settings_for(tmp_path))
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 5
    for trial in complete:
        assert 1e-3 <= trial.params["optimizer.lr"] <= 1e-1
        assert 0.5 <= trial.params["optimizer.momentum"] <= 0.95
        stored = trial.user_attrs["result"]
        assert stored["config"]["optimizer"]["lr"] == trial.params["optimizer.lr"]
        assert stored["final"]["train_error"] == trial.value
        assert [point["step"] for point in stored["curve"]] == [0, 50, 100, 150]
    assert len(run_tuning(tuning, settings_for(tmp_path)).trials) == 5  # nothing more to do


def test_tuning_rejects_a_key_the_run_does_not_have_when_made():
    # checked when the study is described, before any store is opened (issue 36)
    with pytest.raises(ConfigError, match=r"'optimizer.lrr'.*did you mean 'optimizer.lr'"):
        Tuning(study_name="t", base=BASE, trials=1,
               space=(parse_search("optimizer.lrr=log:1e-3:1e-1"),))  # fmt: skip
    with pytest.raises(ConfigError, match=r"--sampler must be 'tpe' or 'random'"):
        Tuning(study_name="t", base=BASE, trials=1, sampler="grid",
               space=(parse_search("optimizer.lr=log:1e-3:1e-1"),))  # fmt: skip


def test_median_pruning_stops_poor_trials(tmp_path):
    tuning = Tuning(
        study_name="p",
        base=BASE,
        space=(parse_search("optimizer.lr=log:1e-6:1e-1"),),
        trials=10,
        sampler="random",
        prune=True,
        seed=3,
    )
    study = run_tuning(tuning, settings_for(tmp_path))
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.PRUNED) >= 1
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # What was pruned had a small learning rate compared with the best complete trial.
    assert max(t.params["optimizer.lr"] for t in pruned) < study.best_trial.params["optimizer.lr"]
    assert len(pruned) + len(complete) == 10


def test_cli_tune(tmp_path):
    command = [
        sys.executable, "-m", "inertia.cli", "tune", "--runs-dir", str(tmp_path),
        "--search", "optimizer.lr=log:1e-3:1e-1", "--trials", "3", "--quiet", "--steps=60",
        "--eval_every=30", "--batch_size=64",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "best trial" in done.stdout
    bad = subprocess.run([*command[:-3], "--optimizer.lr=-1"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "config key 'optimizer.lr' must be >= 0, got -1" in bad.stderr
