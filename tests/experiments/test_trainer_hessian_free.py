"""The runner drives Hessian-free through RunConfig (optimizer 'hf')."""

from __future__ import annotations

import pytest

from inertia.experiments import ConfigError, RunConfig, load_checkpoint, train
from inertia.experiments._optimizers import HessianFreeConfig, cg_decay_schedule

HF = {
    "optimizer": {"name": "hf", "lr": 1.0, "curvature_batch": 64, "cg_max_iterations": 20},
    "batch_size": 256,
    "steps": 12,
    "eval_every": 4,
    "checkpoint_every": 6,
}


RAMP = {"cg_decay_schedule": "sutskever", "cg_decay_period": 2, "cg_decay_floor": 0.5,
        "cg_decay": 0.95}  # fmt: skip


@pytest.mark.parametrize("ramp", [{}, RAMP], ids=["constant-cg-decay", "cg-decay-schedule"])
def test_hf_trains_the_toy_regression_and_resumes_exactly(tmp_path, ramp):
    config = RunConfig(**{**HF, "optimizer": {**HF["optimizer"], **ramp}})
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
        (
            {"optimizer": {"name": "hf", "cg_decay": 0.9, "cg_decay_schedule": "sutskever"}},
            r"'optimizer.cg_decay_floor' \(0.95\) must be at most 'optimizer.cg_decay' \(0.9\)",
        ),
        ({"clip_grad_norm": 1.0}, "clip_grad_norm"),
        ({"optimizer": {"name": "nag", "damping": 1.0}}, "optimizer 'nag' has no such setting"),
        ({"task": "long-term"}, "does not declare"),
    ],
)
def test_hf_configuration_errors_name_the_bad_value(changes, message):
    with pytest.raises(ConfigError, match=message):
        train(RunConfig(**{**HF, **changes}))


def test_cg_decay_schedule_rises_from_martens_value_like_eq_3():
    """From the floor (0.95) while eq. (3) is below it, then 1 - 1/(2(k+1)) on plateau k, capped."""
    schedule = cg_decay_schedule(
        HessianFreeConfig(cg_decay=0.995, cg_decay_schedule="sutskever", cg_decay_period=4)
    )
    assert schedule is not None
    assert [schedule(t) for t in (0, 39)] == [0.95, 0.95]  # plateau 9: 1 - 1/20 = 0.95
    assert schedule(40) == pytest.approx(1 - 1 / 22)
    assert schedule(396) == pytest.approx(0.995)  # plateau 99
    assert schedule(10_000) == 0.995
    assert cg_decay_schedule(HessianFreeConfig(cg_decay=0.995)) is None


def test_the_trainer_writes_the_scheduled_cg_decay_before_each_update(tmp_path):
    ramp = RunConfig(**{**HF, "optimizer": {**HF["optimizer"], **RAMP}})
    train(ramp, tmp_path / "ramp")
    saved = load_checkpoint(tmp_path / "ramp" / "checkpoint.pt")["optimizer"]["param_groups"][0]
    # After the last update (t = 11) the scheduler has written the value of the next one
    # (t = 12, plateau 6): min(max(0.5, 1 - 1/14), 0.95).
    assert saved["cg_decay"] == pytest.approx(1 - 1 / 14)
    constant = RunConfig(**{**HF, "optimizer": {**HF["optimizer"], "cg_decay": 0.95}})
    assert train(ramp).curve != train(constant).curve


def test_curves_count_the_cost_in_gradient_cases_for_hf_and_first_order_runs(tmp_path):
    """Issue 35: HF against NAG at an equal cost. A first-order update costs its minibatch of
    gradient cases; an HF update the sum of its parts at their measured cost per case
    (HessianFree.last_step). HF's curve also says what its updates did: λ, the mean CG
    iterations and ρ, and how many took no step."""
    from inertia.experiments import RunConfig, train

    base = {"task": {"name": "toy-regression"}, "batch_size": 32, "steps": 6, "eval_every": 3,
            "checkpoint_every": 0}  # fmt: skip
    nag = train(RunConfig(**base, optimizer={"name": "nag", "lr": 0.01}), tmp_path / "nag")
    assert [p["gradient_cases"] for p in nag.curve] == [0.0, 3 * 32, 6 * 32]
    hf = train(RunConfig(**base, optimizer={"name": "hf", "cg_max_iterations": 8}),
               tmp_path / "hf")  # fmt: skip
    cases = [p["gradient_cases"] for p in hf.curve]
    assert cases[0] == 0.0
    # an HF update solves a linear system with several Gauss-Newton products: it costs more
    # than one gradient of its batch
    assert cases[1] > 3 * 32
    assert cases[2] > cases[1]
    for point in hf.curve[1:]:
        assert point["hf_damping"] > 0
        assert 1 <= point["hf_cg_iterations"] <= 8
        assert point["hf_rejected_updates"] in (0.0, 1.0, 2.0, 3.0)
    assert "hf_damping" not in hf.curve[0]
    assert not any(key.startswith("hf_") for point in nag.curve for key in point)
    # CG's warm start, the decayed previous solution: its model value's share of CG's answer's
    # (CG only descends from it, so at most 1); from zero (no decay) the share is 0
    shares = [point["hf_warm_start_share"] for point in hf.curve[1:]]
    assert all(share <= 1 + 1e-9 for share in shares)
    assert shares[1] != 0.0  # updates 4-6 all start from the previous solution
    cold = train(RunConfig(**base, optimizer={"name": "hf", "cg_max_iterations": 8,
                                              "cg_decay": 0.0}), tmp_path / "cold")  # fmt: skip
    assert [point["hf_warm_start_share"] for point in cold.curve[1:]] == [0.0, 0.0]
