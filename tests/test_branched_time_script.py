"""scripts/branched_time.py: the twin's time in fine-tuned results written before the field."""

from __future__ import annotations

import json

import pytest

from inertia.experiments import RunConfig, from_mapping, load_checkpoint, train
from inertia.experiments._trainer import branch_step, snapshot_name


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("branched_time")


def _toy(finetune: int, seed: int = 0) -> RunConfig:
    return from_mapping(RunConfig, {
        "steps": 40, "eval_every": 10, "checkpoint_every": 0, "batch_size": 64, "seed": seed,
        "optimizer": {"name": "nag", "lr": 0.02, "momentum": 0.99,
                      "momentum_schedule": "sutskever", "momentum_period": 5,
                      "finetune_steps": finetune},
    })  # fmt: skip


def _as_written_before_the_field(path) -> dict:
    """Rewrite a result as an older inertia wrote it (without the field); the result."""
    result = json.loads(path.read_text())
    del result["branched_wall_time_s"]
    path.write_text(json.dumps(result))
    return result


def test_fills_the_inherited_time_from_the_twins_snapshot_once(script, tmp_path, capsys):
    sweep = tmp_path / "pairs-quick"
    tuned = _toy(15)
    step = branch_step(tuned)
    train(_toy(0), sweep / "plain", snapshots=[step])
    snapshot = sweep / "plain" / snapshot_name(step)
    branched = train(tuned, sweep / "tuned", branch_from=snapshot)
    inherited = load_checkpoint(snapshot)["elapsed_s"]
    assert branched.branched_wall_time_s == inherited > 0
    path = sweep / "tuned" / "result.json"
    old = _as_written_before_the_field(path)
    # A fine-tuned run whose twin is not in the sweep is named and left alone.
    train(_toy(15, seed=1), sweep / "orphan")
    _as_written_before_the_field(sweep / "orphan" / "result.json")
    # A result whose settings no longer validate is named and left alone too.
    (sweep / "stale").mkdir()
    stale = {**old, "config": {**old["config"], "optimizer": {"name": "no-such-optimizer"}}}
    (sweep / "stale" / "result.json").write_text(json.dumps(stale))

    script.main([str(sweep)])
    assert json.loads(path.read_text()) == {**old, "branched_wall_time_s": inherited}
    assert "branched_wall_time_s" not in json.loads((sweep / "orphan" / "result.json").read_text())
    out = capsys.readouterr().out
    assert "1 result(s) filled" in out
    assert "orphan" in out
    assert "stale (its settings no longer validate)" in out
    assert json.loads((sweep / "stale" / "result.json").read_text()) == stale
    script.main([str(sweep)])  # a second pass changes nothing
    assert "0 result(s) filled" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not a folder"):
        script.main([str(tmp_path / "missing")])
