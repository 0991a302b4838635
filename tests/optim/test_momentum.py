"""CM and NAG against their textbook definitions, torch.optim.SGD, and the torch.optim contract."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from inertia.optim import CM, NAG
from inertia.schedules import SutskeverMomentum

# One table drives the parametrised tests (optax's _OPTIMIZERS_UNDER_TEST, torch's OptimizerInfo).
OPTIMIZERS_UNDER_TEST = [
    pytest.param(CM, {"lr": 0.05, "momentum": 0.9}, id="cm"),
    pytest.param(NAG, {"lr": 0.05, "momentum": 0.9}, id="nag"),
    pytest.param(CM, {"lr": 0.05, "momentum": SutskeverMomentum(0.99, period=5)}, id="cm-sched"),
    pytest.param(NAG, {"lr": 0.05, "momentum": SutskeverMomentum(0.99, period=5)}, id="nag-sched"),
    pytest.param(NAG, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}, id="nag-wd"),
    pytest.param(CM, {"lr": 0.15, "momentum": 0.0}, id="sgd"),
]


def varying_momentum(step: int) -> float:
    """A momentum that changes at every step, within [0.3, 0.98)."""
    return 0.3 + 0.6 * math.sin(0.37 * step + 0.2) ** 2


def varying_lr(step: int) -> float:
    return 0.02 * (1.0 + 0.5 * math.cos(0.11 * step))


def make_problem(dtype: torch.dtype = torch.float64, seed: int = 0):
    """A small nonconvex problem: a tanh MLP regression on fixed random data."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(64, 5, generator=gen, dtype=dtype)
    targets = torch.sin(inputs.sum(dim=1, keepdim=True))
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1)).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype) * 0.5)

    def loss_of(params: list[torch.Tensor]) -> torch.Tensor:
        w1, b1, w2, b2 = params
        hidden = torch.tanh(inputs @ w1.T + b1)
        return ((hidden @ w2.T + b2 - targets) ** 2).mean()

    return model, loss_of


def grads_at(loss_of: Callable, point: list[torch.Tensor]) -> list[torch.Tensor]:
    point = [p.detach().requires_grad_(True) for p in point]
    return list(torch.autograd.grad(loss_of(point), point))


def run_optimizer(
    optimizer_cls, steps: int, momentum, lr_at, *, foreach=False, dtype=torch.float64
):
    model, loss_of = make_problem(dtype)
    params = list(model.parameters())
    optimizer = optimizer_cls(params, lr=lr_at(0), momentum=momentum, foreach=foreach)
    for t in range(steps):
        optimizer.param_groups[0]["lr"] = lr_at(t)
        optimizer.zero_grad()
        loss_of(params).backward()
        optimizer.step()
    optimizer.eval()
    return [p.detach().clone() for p in params], optimizer


def textbook(method: str, steps: int, momentum_at, lr_at, dtype=torch.float64):
    """Eqs. (1) and (2) of Sutskever et al. (2013) with two points per NAG step, as written."""
    model, loss_of = make_problem(dtype)
    theta = [p.detach().clone() for p in model.parameters()]
    velocity = [torch.zeros_like(p) for p in theta]
    for t in range(steps):
        mu, eps = momentum_at(t), lr_at(t)
        if method == "nag":
            lookahead = [th + mu * v for th, v in zip(theta, velocity)]
            grads = grads_at(loss_of, lookahead)
        else:
            grads = grads_at(loss_of, theta)
        velocity = [mu * v - eps * g for v, g in zip(velocity, grads)]
        theta = [th + v for th, v in zip(theta, velocity)]
    return theta


def train(model: nn.Module, optimizer, loss_of: Callable, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(list(model.parameters())).backward()
        optimizer.step()


def max_abs_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b))


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize(("optimizer_cls", "method"), [(NAG, "nag"), (CM, "cm")])
def test_matches_textbook_with_momentum_and_lr_changing_every_step(optimizer_cls, method, foreach):
    ours, _ = run_optimizer(optimizer_cls, 300, varying_momentum, varying_lr, foreach=foreach)
    reference = textbook(method, 300, varying_momentum, varying_lr)
    assert max_abs_diff(ours, reference) < 1e-6
    # The trajectory moved far from the start, so the comparison is not trivially satisfied.
    model, _ = make_problem()
    assert max_abs_diff(reference, [p.detach() for p in model.parameters()]) > 0.1


def test_torch_nesterov_is_not_exact_when_momentum_changes():
    """The documented deviation: torch's nesterov=True uses μ_t where μ_{t+1} belongs."""
    model, loss_of = make_problem()
    params = list(model.parameters())
    sgd = torch.optim.SGD(params, lr=0.02, momentum=varying_momentum(0), nesterov=True)
    for t in range(300):
        sgd.param_groups[0]["momentum"] = varying_momentum(t)
        sgd.zero_grad()
        loss_of(params).backward()
        sgd.step()
    reference = textbook("nag", 300, varying_momentum, lambda t: 0.02)
    # torch's parameters are φ; compare θ = φ - μ v would need its v, so compare against φ and θ.
    assert max_abs_diff([p.detach() for p in params], reference) > 1e-3


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize(("optimizer_cls", "nesterov"), [(CM, False), (NAG, True)])
def test_constant_momentum_matches_torch_sgd(optimizer_cls, nesterov, foreach):
    lr, mu = 0.03, 0.9
    model_a, loss_of = make_problem()
    model_b, _ = make_problem()
    ours = optimizer_cls(model_a.parameters(), lr=lr, momentum=mu, foreach=foreach)
    reference = torch.optim.SGD(
        model_b.parameters(), lr=lr, momentum=mu, nesterov=nesterov, foreach=foreach
    )
    for _ in range(100):
        for model, opt in ((model_a, ours), (model_b, reference)):
            opt.zero_grad()
            loss_of(list(model.parameters())).backward()
            opt.step()
    for p_a, p_b in zip(model_a.parameters(), model_b.parameters()):
        # Same point: torch's nesterov parameters are the look-ahead φ, like ours in train mode.
        torch.testing.assert_close(p_a, p_b, rtol=0, atol=1e-12)
        # The known rescaling of the velocity: v = -ε b.
        torch.testing.assert_close(
            ours.state[p_a]["velocity"],
            -lr * reference.state[p_b]["momentum_buffer"],
            rtol=0,
            atol=1e-12,
        )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("optimizer_cls", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_foreach_matches_single_tensor(optimizer_cls, kwargs, dtype):
    results = []
    for foreach in (False, True):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).to(dtype)
        groups = [
            {"params": model[0].parameters()},
            {"params": model[2].parameters(), "lr": kwargs["lr"] / 2},
        ]
        opt = optimizer_cls(groups, **kwargs, foreach=foreach)
        data = torch.randn(32, 4, dtype=dtype, generator=torch.Generator().manual_seed(1))
        for _ in range(30):
            opt.zero_grad()
            model(data).pow(2).mean().backward()
            opt.step()
        results.append([p.detach().clone() for p in model.parameters()])
    for single, multi in zip(*results):
        # Same operations in the same order: equal up to the last bit on CPU.
        torch.testing.assert_close(single, multi, rtol=0, atol=0)


def rosenbrock(xy: torch.Tensor) -> torch.Tensor:
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("optimizer_cls", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_converges_on_quadratic(optimizer_cls, kwargs, dtype):
    gen = torch.Generator().manual_seed(3)
    q, _ = torch.linalg.qr(torch.randn(10, 10, generator=gen, dtype=torch.float64))
    A = (q @ torch.diag(torch.logspace(-1, 1, 10, dtype=torch.float64)) @ q.T).to(dtype)
    b = torch.randn(10, generator=gen, dtype=torch.float64).to(dtype)
    minimizer = torch.linalg.solve(A.double(), -b.double())
    x = nn.Parameter(torch.zeros(10, dtype=dtype))
    opt = optimizer_cls([x], **kwargs)
    for _ in range(1500):
        opt.zero_grad()
        (0.5 * x @ A @ x + b @ x).backward()
        opt.step()
    opt.eval()
    if kwargs.get("weight_decay"):
        minimizer = torch.linalg.solve(
            A.double() + kwargs["weight_decay"] * torch.eye(10), -b.double()
        )
    assert (x.detach().double() - minimizer).norm() < 1e-3


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("optimizer_cls", [pytest.param(CM, id="cm"), pytest.param(NAG, id="nag")])
def test_converges_on_rosenbrock(optimizer_cls, dtype):
    xy = nn.Parameter(torch.tensor([-1.2, 1.0], dtype=dtype))
    opt = optimizer_cls([xy], lr=1e-3, momentum=SutskeverMomentum(0.9, period=100))
    for _ in range(10000):
        opt.zero_grad()
        rosenbrock(xy).backward()
        opt.step()
    opt.eval()
    assert rosenbrock(xy).item() < 1e-4
    assert torch.allclose(xy.detach(), torch.ones(2, dtype=dtype), atol=2e-2)


def save_and_load(state_dict: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize(("optimizer_cls", "kwargs"), OPTIMIZERS_UNDER_TEST)
def test_state_dict_round_trip_mid_run(optimizer_cls, kwargs):
    model, loss_of = make_problem()
    opt = optimizer_cls(model.parameters(), **kwargs)
    train(model, opt, loss_of, 23)
    model_state = save_and_load(model.state_dict())
    opt_state = save_and_load(opt.state_dict())
    train(model, opt, loss_of, 40)

    resumed_model, _ = make_problem(seed=5)  # different weights, replaced by the checkpoint
    resumed_model.load_state_dict(model_state)
    resumed = optimizer_cls(resumed_model.parameters(), **kwargs)
    resumed.load_state_dict(opt_state)
    train(resumed_model, resumed, loss_of, 40)
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_schedule_is_not_pickled_and_must_be_supplied_on_load():
    model, loss_of = make_problem()
    opt = NAG(model.parameters(), lr=0.01, momentum=SutskeverMomentum(0.99))
    loss_of(list(model.parameters())).backward()
    opt.step()
    state = save_and_load(opt.state_dict())  # weights_only load: no code in the checkpoint
    assert state["param_groups"][0]["momentum"] == {"schedule": repr(SutskeverMomentum(0.99))}
    with pytest.raises(ValueError, match="SutskeverMomentum"):
        NAG(model.parameters(), lr=0.01, momentum=0.9).load_state_dict(state)


def test_per_group_overrides():
    a = nn.Parameter(torch.ones(3))
    b = nn.Parameter(torch.ones(3))
    c = nn.Parameter(torch.ones(3))
    opt = NAG(
        [{"params": [a]}, {"params": [b], "lr": 0.0}, {"params": [c], "momentum": 0.0}],
        lr=0.1,
        momentum=0.9,
    )
    for _ in range(3):
        opt.zero_grad()
        (a.sum() + b.sum() + c.sum()).backward()
        opt.step()
    opt.eval()
    assert torch.equal(b.detach(), torch.ones(3))  # lr 0: never moves
    torch.testing.assert_close(c.detach(), torch.full((3,), 1 - 0.3))  # plain SGD
    # NAG with μ = 0.9 on a linear function: v = -0.1, -0.19, -0.271, θ = 1 - 0.561.
    torch.testing.assert_close(a.detach(), torch.full((3,), 1 - 0.561))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "-0.1"),
        ({"momentum": 1.0}, "1.0"),
        ({"momentum": -0.2}, "-0.2"),
        ({"weight_decay": -1e-4}, "-0.0001"),
        ({"lr": "0.1"}, "'0.1'"),
    ],
)
@pytest.mark.parametrize("optimizer_cls", [CM, NAG])
def test_invalid_hyperparameters_name_the_value(optimizer_cls, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        optimizer_cls([nn.Parameter(torch.ones(1))], **{"lr": 0.1, **kwargs})


def test_invalid_group_override_names_group():
    p, q = nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))
    with pytest.raises(ValueError, match=r"param group 1.*1\.5"):
        NAG([{"params": [p]}, {"params": [q], "momentum": 1.5}], lr=0.1)


def test_schedule_returning_bad_value_is_reported_with_step():
    p = nn.Parameter(torch.ones(1))
    opt = NAG([p], lr=0.1, momentum=lambda t: 0.5 if t < 2 else 1.2)
    p.sum().backward()
    opt.step()  # uses μ_0, μ_1
    with pytest.raises(ValueError, match=r"step 2.*1\.2"):
        opt.step()


def test_eval_train_swap_is_idempotent_and_exact():
    model, loss_of = make_problem(torch.float32)
    params = list(model.parameters())
    opt = NAG(params, lr=0.05, momentum=0.9)
    for _ in range(5):
        opt.zero_grad()
        loss_of(params).backward()
        opt.step()
    phi = [p.detach().clone() for p in params]
    expected_theta = [
        f - opt.state[p]["momentum"] * opt.state[p]["velocity"] for f, p in zip(phi, params)
    ]
    opt.eval()
    opt.eval()
    for p, theta in zip(params, expected_theta):
        torch.testing.assert_close(p.detach(), theta)
    with pytest.raises(RuntimeError, match=r"optimizer\.train\(\)"):
        opt.step()
    opt.train()
    opt.train()
    for p, original in zip(params, phi):
        assert torch.equal(p.detach(), original)  # bit for bit, not θ + μ v recomputed


def test_train_recomputes_lookahead_when_parameters_were_replaced_in_eval_mode():
    p = nn.Parameter(torch.zeros(2))
    opt = NAG([p], lr=1.0, momentum=0.5)
    p.sum().backward()
    opt.step()  # v_1 = -1, μ_1 = 0.5, θ_1 = -1, φ_1 = -1.5
    opt.eval()
    torch.testing.assert_close(p.detach(), torch.full((2,), -1.0))
    with torch.no_grad():
        p.copy_(torch.full((2,), 3.0))  # e.g. a checkpoint loaded while in eval mode
    opt.train()
    torch.testing.assert_close(p.detach(), torch.full((2,), 2.5))  # 3 + 0.5 * (-1)


def test_editing_momentum_by_hand_is_exact_nag_for_the_edited_sequence():
    """Documented: a float written between steps becomes μ_{t+1}; the next step uses stored μ_t."""
    new_value_from = 7
    sequence = [0.8 if t < new_value_from + 1 else 0.3 for t in range(20)]
    model, loss_of = make_problem()
    params = list(model.parameters())
    opt = NAG(params, lr=0.02, momentum=0.8)
    for t in range(20):
        if t == new_value_from:
            opt.param_groups[0]["momentum"] = 0.3
        opt.zero_grad()
        loss_of(params).backward()
        opt.step()
    opt.eval()
    reference = textbook("nag", 20, lambda t: sequence[t], lambda t: 0.02)
    assert max_abs_diff([p.detach() for p in params], reference) < 1e-12


def test_weight_decay_is_gradient_of_l2_term():
    model, loss_of = make_problem()
    params = list(model.parameters())
    wd = 0.1
    opt = CM(params, lr=0.02, momentum=0.9, weight_decay=wd)
    for _ in range(50):
        opt.zero_grad()
        loss_of(params).backward()
        opt.step()
    model_ref, _ = make_problem()
    params_ref = list(model_ref.parameters())
    ref = CM(params_ref, lr=0.02, momentum=0.9)
    for _ in range(50):
        ref.zero_grad()
        (loss_of(params_ref) + 0.5 * wd * sum((p**2).sum() for p in params_ref)).backward()
        ref.step()
    assert max_abs_diff(params, params_ref) < 1e-12


@pytest.mark.parametrize("optimizer_cls", [CM, NAG])
def test_closure_is_evaluated_and_returned(optimizer_cls):
    p = nn.Parameter(torch.tensor([2.0]))
    opt = optimizer_cls([p], lr=0.1, momentum=0.5)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(4.0)
    opt.eval()
    assert p.item() == pytest.approx(2.0 - 0.1 * 4.0)


def test_parameters_without_gradient_are_left_alone():
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    opt = NAG([a, b], lr=0.1, momentum=0.9)
    a.sum().backward()
    opt.step()
    assert torch.equal(b.detach(), torch.ones(2))
    assert b not in opt.state or not opt.state[b]


def test_sparse_gradients_are_rejected():
    embedding = nn.Embedding(5, 3, sparse=True)
    opt = CM(embedding.parameters(), lr=0.1)
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_checkpoint_saved_in_eval_mode_resumes_from_theta():
    """Model weights saved at θ plus the optimizer state restore φ = θ + μ v on train()."""

    model, loss_of = make_problem()
    opt = NAG(model.parameters(), lr=0.05, momentum=SutskeverMomentum(0.99, period=3))
    train(model, opt, loss_of, 20)
    opt.eval()
    model_state = save_and_load(model.state_dict())  # θ
    opt_state = save_and_load(opt.state_dict())
    opt.train()
    train(model, opt, loss_of, 30)

    resumed_model, _ = make_problem(seed=9)
    resumed_model.load_state_dict(model_state)
    resumed = NAG(resumed_model.parameters(), lr=0.05, momentum=SutskeverMomentum(0.99, period=3))
    resumed.load_state_dict(opt_state)
    assert not resumed.param_groups[0]["train_mode"]  # it knows the weights are θ
    resumed.train()
    train(resumed_model, resumed, loss_of, 30)
    for a, b in zip(model.parameters(), resumed_model.parameters()):
        # φ was recomputed as θ + μ v, so equal up to rounding, not bit for bit.
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("optimizer_cls", [CM, NAG])
@pytest.mark.parametrize("shape", [(), (1,)])
def test_a_tensor_lr_steps_as_its_value_and_follows_a_scheduler(optimizer_cls, shape):
    """Issue 38: torch's optimizers take a 0-d or 1-element tensor lr (a scheduler fills it in
    place); ours refused it with a TypeError."""
    import torch.optim.lr_scheduler as schedulers

    w_tensor = torch.nn.Parameter(torch.ones(3))
    w_float = torch.nn.Parameter(torch.ones(3))
    tensor_opt = optimizer_cls([w_tensor], lr=torch.full(shape, 0.1), momentum=0.9)
    float_opt = optimizer_cls([w_float], lr=0.1, momentum=0.9)
    tensor_schedule = schedulers.StepLR(tensor_opt, step_size=2, gamma=0.5)
    float_schedule = schedulers.StepLR(float_opt, step_size=2, gamma=0.5)
    for _ in range(5):
        for weight, optimizer in ((w_tensor, tensor_opt), (w_float, float_opt)):
            weight.grad = weight.detach() * 2 + 1
            optimizer.step()
        tensor_schedule.step()
        float_schedule.step()
    assert isinstance(tensor_opt.param_groups[0]["lr"], torch.Tensor)
    torch.testing.assert_close(w_tensor.detach(), w_float.detach())
    with pytest.raises(ValueError, match="0-d or 1-element tensor"):
        optimizer_cls([torch.nn.Parameter(torch.ones(2))], lr=torch.full((2,), 0.1))
    with pytest.raises(ValueError, match="must be >= 0"):
        optimizer_cls([torch.nn.Parameter(torch.ones(2))], lr=torch.tensor(-0.1))


@pytest.mark.parametrize("optimizer_cls", [CM, NAG])
def test_fused_refuses_devices_and_dtypes_it_does_not_run_on(optimizer_cls):
    meta = torch.nn.Parameter(torch.ones(2, device="meta"))
    with pytest.raises(RuntimeError, match=r"fused=True .* requires floating point parameters"):
        optimizer_cls([meta], lr=0.1, fused=True)
    optimizer_cls([meta], lr=0.1)  # the default picks a kernel that runs there
    integer = torch.ones(2, dtype=torch.int64)
    with pytest.raises(RuntimeError, match=r"got torch\.int64 on cpu"):
        optimizer_cls([integer], lr=0.1, fused=True)


@pytest.mark.parametrize("optimizer_cls", [CM, NAG])
def test_fused_takes_gradscalers_scale_and_skips_a_step_with_infs(optimizer_cls):
    """Issue 38: torch.amp.GradScaler gives a fused optimizer its scale and inf flag
    (``_step_supports_amp_scaling``) instead of unscaling; the fused path ignored them."""
    torch.manual_seed(0)
    model, reference = torch.nn.Linear(4, 1), torch.nn.Linear(4, 1)
    reference.load_state_dict(model.state_dict())
    fused = optimizer_cls(model.parameters(), lr=0.1, momentum=0.9, fused=True)
    plain = optimizer_cls(reference.parameters(), lr=0.1, momentum=0.9, fused=False)
    assert fused._step_supports_amp_scaling
    assert not getattr(plain, "_step_supports_amp_scaling", False)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    inputs = torch.randn(8, 4)
    for _ in range(3):
        fused.zero_grad()
        scaler.scale(model(inputs).pow(2).mean()).backward()
        scaler.step(fused)
        scaler.update()
        plain.zero_grad()
        reference(inputs).pow(2).mean().backward()
        plain.step()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, theirs)
    before = [p.detach().clone() for p in model.parameters()]
    step = fused.state[model.weight]["step"]
    fused.zero_grad()
    scaler.scale(model(inputs).pow(2).mean() * float("inf")).backward()
    scaler.step(fused)  # skipped: found_inf
    scaler.update()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert fused.state[model.weight]["step"] == step
    assert scaler.get_scale() == 512.0
    # unscale_ first (to clip), then step: grad_scale is None and the gradients are used as are
    fused.zero_grad()
    plain.zero_grad()
    scaler.scale(model(inputs).pow(2).mean()).backward()
    reference(inputs).pow(2).mean().backward()
    scaler.unscale_(fused)
    scaler.step(fused)
    scaler.update()
    plain.step()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, theirs)
