"""The runner drives Hessian-free through RunConfig (optimizer 'hf')."""

from __future__ import annotations

import pytest

from inertia.experiments import ConfigError, RunConfig, train

HF = {
    "optimizer": {"name": "hf", "lr": 1.0, "curvature_batch": 64, "cg_max_iterations": 20},
    "batch_size": 256,
    "steps": 12,
    "eval_every": 4,
    "checkpoint_every": 6,
}


def test_hf_trains_the_toy_regression_and_resumes_exactly(tmp_path):
    config = RunConfig(**HF)
    result = train(config, tmp_path / "full")
    assert result.status == "completed"
    assert result.final["train_error"] < 0.2 * result.curve[0]["train_error"]
    # SGD with the same number of updates gets nowhere near.
    sgd = train(RunConfig(**{**HF, "optimizer": {"name": "sgd", "lr": 0.02}}))
    assert result.final["train_error"] < 0.5 * sgd.final["train_error"]

    # Stopped after the checkpoint at update 6, resumed: the same result (damping and the CG
    # warm start travel in the optimizer's state_dict).
    def stop(step, metrics):
        if step == 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "resumed", on_evaluation=stop)
    resumed = train(config, tmp_path / "resumed", resume=True)
    assert resumed.curve[:2] == result.curve[:2]
    assert resumed.final["train_error"] == pytest.approx(result.final["train_error"], rel=1e-5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"optimizer": {"name": "hf", "cg_iters": 5}}, "unknown config key 'optimizer.cg_iters'"),
        ({"optimizer": {"name": "hf", "curvature_batch": 1000}}, "curvature_batch"),
        ({"optimizer": {"name": "hf", "cg_decay": 2.0}}, "'optimizer.cg_decay' must be <= 1"),
        ({"clip_grad_norm": 1.0}, "clip_grad_norm"),
        ({"optimizer": {"name": "nag", "damping": 1.0}}, "optimizer 'nag' has no such setting"),
        ({"task": "long-term"}, "does not declare"),
    ],
)
def test_hf_configuration_errors_name_the_bad_value(changes, message):
    with pytest.raises(ConfigError, match=message):
        train(RunConfig(**{**HF, **changes}))
