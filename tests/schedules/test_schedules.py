from __future__ import annotations

import math
import pickle

import pytest
import torch
from torch import nn

from inertia.optim import NAG
from inertia.schedules import (
    Clip,
    Constant,
    ExponentialDecay,
    HyperparameterScheduler,
    Join,
    Linear,
    LowMomentumFinetuning,
    PiecewiseConstant,
    SutskeverMomentum,
    rnn_momentum,
)


def test_sutskever_schedule_values_from_the_paper():
    schedule = SutskeverMomentum(mu_max=0.999)
    assert schedule(0) == 0.5
    assert schedule(249) == 0.5
    assert schedule(250) == 0.75
    assert schedule(500) == pytest.approx(1 - 1 / 6)
    # The closed form 1 - 2^(-1 - log2(floor(t/250) + 1)) of eq. (3), at many steps.
    for t in range(0, 200_000, 977):
        expected = min(1 - 2 ** (-1 - math.log2(t // 250 + 1)), 0.999)
        assert schedule(t) == pytest.approx(expected, abs=1e-15)
    # It reaches 0.99 at t = 12,250 and 0.999 at t = 124,750 (SPEC section 1).
    assert schedule(12_249) < 0.99 <= schedule(12_250) + 1e-15
    assert schedule(124_749) < 0.999
    assert schedule(124_750) == 0.999


@pytest.mark.parametrize("mu_max", [0.0, 0.9, 0.99, 0.995])
def test_sutskever_schedule_is_capped(mu_max):
    schedule = SutskeverMomentum(mu_max=mu_max)
    assert max(schedule(t) for t in range(0, 1_000_000, 1000)) == mu_max
    assert schedule(0) == min(0.5, mu_max)


def test_rnn_schedule():
    schedule = rnn_momentum(0.995)
    assert [schedule(t) for t in (0, 999, 1000, 50_000)] == [0.9, 0.9, 0.995, 0.995]
    assert rnn_momentum(0.0)(1000) == 0.0


def test_low_momentum_finetuning():
    budget = 750_000
    tuned = LowMomentumFinetuning(SutskeverMomentum(0.999), total_steps=budget)
    assert tuned(budget - 1001) == 0.999
    assert tuned(budget - 1000) == 0.9
    assert tuned(budget - 1) == 0.9
    # μ_max = 0 (plain SGD) keeps μ = 0, as the paper says.
    sgd = LowMomentumFinetuning(SutskeverMomentum(0.0), total_steps=budget)
    assert sgd(budget - 1) == 0.0


def test_combinators():
    assert PiecewiseConstant((10, 20), (1.0, 2.0, 3.0))(15) == 2.0
    assert PiecewiseConstant((10, 20), (1.0, 2.0, 3.0))(20) == 3.0
    assert Linear(1.0, 3.0, steps=4)(1) == 1.5
    assert Linear(1.0, 3.0, steps=4)(100) == 3.0
    assert ExponentialDecay(2.0, rate=0.1, steps=10)(5) == pytest.approx(2.0 * 0.1**0.5)
    assert ExponentialDecay(2.0, rate=0.1, steps=10, staircase=True)(15) == pytest.approx(0.2)
    joined = Join((Constant(1.0), Linear(0.0, 1.0, steps=10)), boundaries=(5,))
    assert [joined(t) for t in (4, 5, 10)] == [1.0, 0.0, 0.5]
    assert Clip(Linear(0.0, 10.0, steps=10), lower=2.0, upper=5.0)(1) == 2.0
    assert Clip(Linear(0.0, 10.0, steps=10), lower=2.0, upper=5.0)(9) == 5.0


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: SutskeverMomentum(mu_max=1.0), "mu_max.*1.0"),
        (lambda: SutskeverMomentum(mu_max=0.9, period=0), "period.*0"),
        (lambda: PiecewiseConstant((10,), (1.0,)), "one more value"),
        (lambda: PiecewiseConstant((10, 5), (1.0, 2.0, 3.0)), "increase"),
        (lambda: Join((Constant(1.0),), boundaries=(3,)), "one more schedule"),
        (lambda: LowMomentumFinetuning(Constant(0.9), total_steps=10, steps=20), "exceed"),
        (lambda: rnn_momentum(1.2), "mu_0.*1.2"),
        (lambda: ExponentialDecay(1.0, rate=-1.0, steps=3), "rate.*-1.0"),
    ],
)
def test_invalid_schedule_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


@pytest.mark.parametrize("step", [-1, 1.5, True])
def test_invalid_step(step):
    with pytest.raises(ValueError, match="step"):
        SutskeverMomentum(0.9)(step)


def test_schedules_are_pure_picklable_values():
    schedule = LowMomentumFinetuning(SutskeverMomentum(0.99), total_steps=5000)
    clone = pickle.loads(pickle.dumps(schedule))
    assert clone == schedule
    assert repr(clone) == repr(schedule)
    assert [schedule(t) for t in range(0, 5000, 37)] == [clone(t) for t in range(0, 5000, 37)]
    # No hidden state: evaluating the steps in reverse order gives the same values.
    steps = list(range(0, 5000, 37))
    forward = [schedule(t) for t in steps]
    backward = [schedule(t) for t in reversed(steps)]
    assert forward == backward[::-1]


def test_scheduler_drives_torch_sgd():
    w = nn.Parameter(torch.zeros(3))
    sgd = torch.optim.SGD([w], lr=1.0, momentum=0.0)
    lr = ExponentialDecay(0.1, rate=0.5, steps=10)
    mu = SutskeverMomentum(0.99, period=3)
    scheduler = HyperparameterScheduler(sgd, lr=lr, momentum=mu)
    for t in range(25):
        assert sgd.param_groups[0]["lr"] == lr(t)
        assert sgd.param_groups[0]["momentum"] == mu(t)
        w.grad = torch.ones(3)
        sgd.step()
        scheduler.step()
    state = scheduler.state_dict()
    fresh = HyperparameterScheduler(sgd, lr=lr, momentum=mu)
    fresh.load_state_dict(state)
    assert sgd.param_groups[0]["momentum"] == mu(25)


def test_scheduler_drives_any_named_hyperparameter_of_the_groups():
    """Keys other than lr and momentum (Hessian-free's cg_decay, SGD's weight_decay) go through
    the same mechanism; a key the groups lack is refused by name."""
    w = nn.Parameter(torch.zeros(3))
    sgd = torch.optim.SGD([w], lr=0.1, weight_decay=0.0)
    decay = ExponentialDecay(1e-2, rate=0.5, steps=4)
    scheduler = HyperparameterScheduler(sgd, weight_decay=decay)
    for t in range(10):
        assert sgd.param_groups[0]["weight_decay"] == decay(t)
        scheduler.step()
    with pytest.raises(ValueError, match="has no 'cg_decay' hyperparameter"):
        HyperparameterScheduler(sgd, cg_decay=decay)


def test_scheduler_hands_the_schedule_to_nag():
    """NAG driven through the scheduler equals NAG constructed with the schedule."""
    mu = SutskeverMomentum(0.99, period=2)

    def run(use_scheduler: bool) -> torch.Tensor:
        torch.manual_seed(0)
        w = nn.Parameter(torch.randn(4))
        if use_scheduler:
            opt = NAG([w], lr=0.1, momentum=0.0)
            scheduler = HyperparameterScheduler(opt, momentum=mu)
        else:
            opt = NAG([w], lr=0.1, momentum=mu)
        for _ in range(20):
            opt.zero_grad()
            torch.cosh(w).sum().backward()
            opt.step()
            if use_scheduler:
                scheduler.step()
        return w.detach()

    result = run(True)
    assert torch.isfinite(result).all()
    assert result.abs().max() < 0.5  # it moved towards the minimum at 0
    assert torch.equal(result, run(False))


def test_scheduler_per_group_and_errors():
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([{"params": [a]}, {"params": [b]}], lr=1.0)
    HyperparameterScheduler(sgd, lr=[Constant(0.1), Constant(0.2)])
    assert [g["lr"] for g in sgd.param_groups] == [0.1, 0.2]
    with pytest.raises(ValueError, match="2 schedules"):
        HyperparameterScheduler(sgd, lr=[Constant(0.1)])
    adam = torch.optim.Adam([a], lr=1e-3)
    with pytest.raises(ValueError, match=r"'momentum'.*betas"):
        HyperparameterScheduler(adam, momentum=Constant(0.9))
