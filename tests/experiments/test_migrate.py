"""``inertia migrate``: a sweep written by inertia 0.1 (flat run settings) keeps its completed
runs and resumes its unfinished ones under today's run keys."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

import optuna
import pytest
import torch

from inertia.cli import main
from inertia.experiments import (
    SweepSettings,
    cell_folder,
    cell_key,
    completed_results,
    default_storage,
    migrate_store,
    open_study,
    run_sweep,
)
from inertia.experiments._legacy import upgrade_config
from inertia.protocols import PROTOCOLS

TOY = PROTOCOLS["toy"]
RUN_KEYS = Path(__file__).parents[1] / "protocols" / "run_keys.json.gz"


def legacy_keys() -> list[str]:
    with gzip.open(RUN_KEYS, "rt") as file:
        return list(json.load(file)["toy/quick"])


def test_a_0_1_sweep_keeps_its_finished_runs_and_resumes_the_rest(tmp_path, capsys):
    settings = SweepSettings(storage=default_storage(tmp_path), runs_dir=str(tmp_path),
                             progress=False, heartbeat_s=1, grace_s=3)  # fmt: skip
    old_keys = legacy_keys()
    old_config = {**json.loads(old_keys[0]), "lr_decay_steps": [], "model": "default"}
    storage = optuna.storages.RDBStorage(settings.storage)
    old_study = optuna.create_study(study_name="toy-quick", storage=storage)
    result = {"config": old_config, "status": "completed", "final": {"train_error": 0.123},
              "curve": [], "diverged_at": None, "steps_done": 100, "error_name": "error",
              "wall_time_s": 1.0, "updates_per_s": 1.0, "peak_memory_mb": 1.0,
              "environment": {}}  # fmt: skip
    old_study.add_trial(
        optuna.trial.create_trial(
            params={"cell": old_keys[0]},
            distributions={"cell": optuna.distributions.CategoricalDistribution(old_keys)},
            value=0.123,
            user_attrs={"result": result},
        )
    )
    old_study.add_trial(  # a run killed mid-way: its trial failed, its checkpoint is on disk
        optuna.trial.create_trial(
            params={"cell": old_keys[1]},
            distributions={"cell": optuna.distributions.CategoricalDistribution(old_keys)},
            state=optuna.trial.TrialState.FAIL,
        )
    )
    unfinished = tmp_path / "toy-quick" / cell_folder(old_keys[1])
    unfinished.mkdir(parents=True)
    (unfinished / "marker").write_text("checkpoint would be here")

    assert main(["migrate", "--runs-dir", str(tmp_path)]) == 0
    assert "1 completed runs carried over, 1 run folders renamed" in capsys.readouterr().out
    new_key = cell_key(upgrade_config(json.loads(old_keys[0])))
    results = completed_results(open_study(TOY, "quick", settings))
    assert list(results) == [new_key]
    assert results[new_key].config["optimizer"]["name"] == "nag"  # translated
    assert results[new_key].final["train_error"] == 0.123
    moved = tmp_path / "toy-quick" / cell_folder(cell_key(upgrade_config(json.loads(old_keys[1]))))
    assert (moved / "marker").exists()
    backup = optuna.load_study(study_name="toy-quick@0.1", storage=settings.storage)
    assert len(backup.trials) == 2

    assert migrate_store({"toy": TOY}, settings)[0].skipped == "migrated before"
    status = run_sweep(TOY, "quick", settings)  # the finished run is not trained again
    assert status.done
    study = open_study(TOY, "quick", settings)
    assert len([t for t in study.trials if t.state.name == "COMPLETE"]) == 4


def test_a_long_term_run_stored_before_issue_39_keeps_its_meaning():
    """A stored long-term run without ``loss_reduction`` trained with inertia 0.2's loss, both
    hidden biases and (marker problems) the earlier target index: it must match the config
    that says so, never today's defaults, which mean the authors' protocol."""
    from inertia.experiments import RunConfig
    from inertia.experiments._trainer import saved_config

    stored = {"task": {"name": "long-term", "problem": "addition", "length": 80},
              "optimizer": {"name": "nag", "lr": 1e-4}, "steps": 50_000}  # fmt: skip
    then = RunConfig(task={"name": "long-term", "problem": "addition-predict2", "length": 80,
                           "loss_reduction": "per-sequence", "hidden_biases": 2},
                     optimizer={"name": "nag", "lr": 1e-4}, steps=50_000)  # fmt: skip
    today = RunConfig(task={"name": "long-term", "problem": "addition", "length": 80},
                      optimizer={"name": "nag", "lr": 1e-4}, steps=50_000)  # fmt: skip
    assert saved_config(stored) == then.to_dict()
    assert saved_config(stored) != today.to_dict()
    assert saved_config(today.to_dict()) == today.to_dict()  # stored since: as it is
    memorization = {**stored, "task": {"name": "long-term", "problem": "memorization-20bit"}}
    assert saved_config(memorization)["task"]["problem"] == "memorization-20bit"
    assert saved_config(memorization)["task"]["loss_reduction"] == "per-sequence"
    other = {"task": {"name": "toy-regression"}, "optimizer": {"name": "nag"}}
    assert "loss_reduction" not in saved_config(other)["task"]
    assert saved_config(5) == {"config": 5}  # not settings: matches nothing


def test_a_0_1_checkpoint_resumes_bit_exact_and_warns_of_its_removal(tmp_path):
    """Format 1 (inertia 0.1) kept the batch order in three keys of its own; read through
    upgrade_checkpoint it resumes as format 2 does, with a LegacyFormatWarning that names the
    version that stops reading it."""
    from test_trainer import CrashError, config, crash_at, final_state  # the same directory

    from inertia.experiments import load_checkpoint, train
    from inertia.experiments._legacy import REMOVED_IN, LegacyFormatWarning

    cfg = config(optimizer={"name": "nag", "momentum": 0.99, "momentum_schedule": "sutskever"})
    whole = train(cfg, tmp_path / "whole")
    crashed = tmp_path / "crashed"
    with pytest.raises(CrashError):
        train(cfg, crashed, on_evaluation=crash_at(80))
    saved = load_checkpoint(crashed / "checkpoint.pt")
    batches = saved.pop("batches")
    saved.update(format=1, permutation=batches["permutation"], position=batches["position"],
                 order_generator=batches["generator"])  # fmt: skip
    torch.save(saved, crashed / "checkpoint.pt")
    with pytest.warns(LegacyFormatWarning, match=f"removed in inertia {REMOVED_IN}"):
        resumed = train(cfg, crashed, resume=True)
    assert resumed.curve == whole.curve
    for key, value in final_state(tmp_path / "whole").items():
        assert torch.equal(value, final_state(crashed)[key]), key


def test_reading_0_1_settings_warns_and_todays_do_not():
    from inertia.experiments import saved_config
    from inertia.experiments._legacy import LegacyFormatWarning

    old = {"task": "toy-regression", "optimizer": "nag", "lr": 0.01, "momentum": 0.9}
    with pytest.warns(LegacyFormatWarning, match="run settings in inertia 0.1's format"):
        today = saved_config(old)
    assert today["optimizer"]["lr"] == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert saved_config(today) == today
