"""NAG and CM registered as torch ``OptimizerInfo`` entries and put through the generic checks that
PyTorch's own optimizer tests (``test/test_optim.py``, driven by
``torch.testing._internal.common_optimizers``) make of every ``torch.optim`` optimizer (issue 38).

The checks are re-implemented here after the upstream ones (their names are kept; the upstream
file is not copied): printing, no-ops without gradients and for zero gradients, per-group lr and
weight decay, a deterministic and ``weights_only``-loadable state dict, deepcopy, step hooks,
the foreach and fused kernels against the for-loop, a tensor lr, mixed dtypes, GradScaler's
``found_inf``, LR schedulers, and the constructor's error inputs. Every input of every entry runs
through each check; the entries cover a constant μ, eq. (3)'s schedule, the RNN schedule, weight
decay, per-group settings and a tensor lr. Skips: none (CUDA-only checks are not part of this
file: the machines that run it have no GPU).
"""

from __future__ import annotations

import copy
import io
import itertools

import pytest
import torch
from torch import nn

pytest.importorskip("expecttest")  # torch's testing helpers import it
from torch.testing._internal.common_optimizers import (
    ErrorOptimizerInput,
    OptimizerErrorEnum,
    OptimizerInfo,
    OptimizerInput,
)

from inertia.optim import CM, NAG
from inertia.schedules import SutskeverMomentum, rnn_momentum


def _inputs(device: str, dtype: torch.dtype | None = None) -> list[OptimizerInput]:
    """The settings each check runs with (``params=None``: the check's own parameters; a list
    of two groups where per-group settings are tried)."""
    return [
        OptimizerInput(params=None, kwargs={}, desc="default"),
        OptimizerInput(params=None, kwargs={"lr": 0.01, "momentum": 0.9}, desc="momentum"),
        OptimizerInput(
            params=None,
            kwargs={"lr": 0.01, "momentum": SutskeverMomentum(0.99, period=2)},
            desc="eq. (3) schedule",
        ),
        OptimizerInput(
            params=None,
            kwargs={"lr": 0.01, "momentum": rnn_momentum(0.995, warmup_steps=3)},
            desc="RNN schedule",
        ),
        OptimizerInput(
            params=None,
            kwargs={"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1},
            desc="weight decay",
        ),
        OptimizerInput(
            params=None, kwargs={"lr": torch.tensor(0.01), "momentum": 0.9}, desc="tensor lr"
        ),
        OptimizerInput(params=None, kwargs={"lr": 0.0, "momentum": 0.9}, desc="lr 0"),
    ]


def _error_inputs(device: str, dtype: torch.dtype) -> list[ErrorOptimizerInput]:
    def bad(kwargs: dict, error: type[Exception], message: str) -> ErrorOptimizerInput:
        return ErrorOptimizerInput(
            OptimizerInput(params=None, kwargs=kwargs, desc=message),
            error_type=error,
            error_regex=message,
            error_on=OptimizerErrorEnum.CONSTRUCTION_ERROR,
        )

    return [
        bad({"lr": -0.1}, ValueError, "lr in param group 0 must be >= 0"),
        bad({"momentum": 1.0}, ValueError, r"momentum in param group 0 must lie in \[0, 1\)"),
        bad({"momentum": -0.5}, ValueError, r"must lie in \[0, 1\)"),
        bad({"weight_decay": -1.0}, ValueError, "weight_decay in param group 0 must be >= 0"),
        bad({"lr": torch.ones(2)}, ValueError, "0-d or 1-element tensor"),
        bad({"foreach": True, "fused": True}, ValueError, "foreach and fused cannot both be True"),
    ]


ENTRIES = [
    OptimizerInfo(
        optimizer,
        optim_inputs_func=_inputs,
        optim_error_inputs_func=_error_inputs,
        supported_impls=("foreach", "fused"),
        supports_fused_on=("cpu", "cuda"),
        supports_complex=False,
        supports_multiple_devices=True,
    )
    for optimizer in (NAG, CM)
]


def _cases() -> list:
    return [
        pytest.param(info, optim_input, id=f"{info.name}-{optim_input.desc}")
        for info in ENTRIES
        for optim_input in info.optim_inputs_func(device="cpu")
    ]


def _model(dtype: torch.dtype = torch.float32) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)


def _loss(model: nn.Module, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    inputs = torch.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4)
    return model(inputs).pow(2).sum()


def _kwargs(optim_input: OptimizerInput, **more) -> dict:
    kwargs = {key: (value.clone() if isinstance(value, torch.Tensor) else value)
              for key, value in optim_input.kwargs.items()}  # fmt: skip
    return {**kwargs, **more}


def _train(info, optim_input, steps=5, dtype=torch.float32, **more):
    model = _model(dtype)
    optimizer = info.optim_cls(model.parameters(), **_kwargs(optim_input, **more))
    for _ in range(steps):
        optimizer.zero_grad()
        _loss(model, dtype).backward()
        optimizer.step()
    return model, optimizer


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_optimizer_can_be_printed(info, optim_input):
    _, optimizer = _train(info, optim_input, steps=1)
    assert info.optim_cls.__name__ in repr(optimizer)


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_step_is_noop_when_params_have_no_grad(info, optim_input):
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = info.optim_cls(model.parameters(), **_kwargs(optim_input))
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_step_is_noop_for_zero_grads(info, optim_input):
    model = _model()
    before = [p.detach().clone() for p in model.parameters()]
    kwargs = _kwargs(optim_input)
    kwargs.pop("weight_decay", None)  # decay moves parameters whatever the gradient
    optimizer = info.optim_cls(model.parameters(), **kwargs)
    for parameter in model.parameters():
        parameter.grad = torch.zeros_like(parameter)
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
def test_param_groups_weight_decay_and_lr(info):
    model = _model()
    first, second = model[0], model[2]
    optimizer = info.optim_cls(
        [{"params": first.parameters(), "weight_decay": 0.1},
         {"params": second.parameters(), "lr": 0.001}],
        lr=0.01, momentum=0.9,
    )  # fmt: skip
    initial = float(_loss(model).detach())
    untouched = copy.deepcopy(model)
    for _ in range(10):
        optimizer.zero_grad()
        _loss(model).backward()
        optimizer.step()
    assert float(_loss(model).detach()) < initial
    # the second group's smaller rate moved its parameters less than the first group's
    moved = [(p - q).detach().abs().max() / max(float(q.detach().abs().max()), 1e-12)
             for p, q in zip(model.parameters(), untouched.parameters())]  # fmt: skip
    assert optimizer.param_groups[1]["lr"] == 0.001
    assert max(moved[2:]) < max(moved[:2])


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_forloop_goes_right_direction(info, optim_input):
    model = _model()
    initial = float(_loss(model).detach())
    optimizer = info.optim_cls(model.parameters(), **_kwargs(optim_input, foreach=False))
    for _ in range(5):
        optimizer.zero_grad()
        _loss(model).backward()
        optimizer.step()
    optimizer.eval()
    if float(optim_input.kwargs.get("lr", 1e-3)) == 0.0:  # a rate of 0: no step at all
        assert float(_loss(model).detach()) == initial
    else:
        assert float(_loss(model).detach()) < initial


@pytest.mark.parametrize(("info", "optim_input"), _cases())
@pytest.mark.parametrize("impl", ["foreach", "fused"])
def test_impl_matches_forloop(info, optim_input, impl):
    """test_foreach_matches_forloop and test_fused_matches_forloop, on float32 and float64."""
    for dtype in (torch.float32, torch.float64):
        loop, _ = _train(info, optim_input, dtype=dtype, foreach=False, fused=False)
        other, _ = _train(info, optim_input, dtype=dtype, **{impl: True})
        for a, b in zip(loop.parameters(), other.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_state_dict_deterministic(info, optim_input):
    model, optimizer = _train(info, optim_input)
    copy_model = copy.deepcopy(model)
    copied = info.optim_cls(copy_model.parameters(), **_kwargs(optim_input))
    saved = copy.deepcopy(optimizer.state_dict())
    copied.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    for _ in range(5):
        for net, opt in ((model, optimizer), (copy_model, copied)):
            opt.zero_grad()
            _loss(net).backward()
            opt.step()
        for a, b in zip(model.parameters(), copy_model.parameters()):
            assert torch.equal(a, b)
    assert str(optimizer.state_dict()) == str(copied.state_dict())
    assert str(saved) != ""  # the saved dict was not consumed by loading it


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_save_load_equality_with_weights_only(info, optim_input):
    model, optimizer = _train(info, optim_input)
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    fresh = info.optim_cls(copy.deepcopy(model).parameters(), **_kwargs(optim_input))
    fresh.load_state_dict(loaded)
    assert str(fresh.state_dict()) == str(optimizer.state_dict())


@pytest.mark.parametrize(("info", "optim_input"), _cases())
def test_deepcopy_copies_all_public_attrs(info, optim_input):
    _, optimizer = _train(info, optim_input, steps=2)
    public = lambda obj: {k for k in obj.__dict__ if not k.startswith("_")}  # noqa: E731
    assert public(optimizer) == public(copy.deepcopy(optimizer))


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
def test_step_all_hooks(info):
    calls: list[str] = []
    model = _model()
    optimizer = info.optim_cls(model.parameters(), lr=0.01, momentum=0.9)
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: calls.append("pre"))
    optimizer.register_step_post_hook(lambda opt, args, kwargs: calls.append("post"))
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    handle = register_optimizer_step_pre_hook(lambda *a: calls.append("global pre"))
    try:
        _loss(model).backward()
        optimizer.step()
    finally:
        handle.remove()
    assert calls == ["global pre", "pre", "post"]


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_tensor_lr(info, impl):
    kernel = {"for-loop": {"foreach": False}, "foreach": {"foreach": True},
              "fused": {"fused": True}}[impl]  # fmt: skip
    as_float, _ = _train(info, OptimizerInput(None, {"lr": 0.02, "momentum": 0.9}, ""), **kernel)
    for lr in (torch.tensor(0.02), torch.tensor([0.02])):
        as_tensor, _ = _train(info, OptimizerInput(None, {"lr": lr, "momentum": 0.9}, ""), **kernel)
        for a, b in zip(as_float.parameters(), as_tensor.parameters()):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
@pytest.mark.parametrize("impl", ["for-loop", "foreach", "fused"])
def test_mixed_device_dtype(info, impl):
    """Parameters of float32 and float64 in one group step like each alone."""
    kernel = {"for-loop": {"foreach": False}, "foreach": {"foreach": True},
              "fused": {"fused": True}}[impl]  # fmt: skip
    single = nn.Parameter(torch.ones(3, dtype=torch.float32))
    double = nn.Parameter(torch.ones(4, dtype=torch.float64))
    optimizer = info.optim_cls([single, double], lr=0.1, momentum=0.9, **kernel)
    alone = [nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(4, dtype=torch.float64))]
    references = [info.optim_cls([p], lr=0.1, momentum=0.9, foreach=False) for p in alone]
    for _ in range(3):
        for parameter in (single, double, *alone):
            parameter.grad = parameter.detach() * 2
        optimizer.step()
        for reference in references:
            reference.step()
    torch.testing.assert_close(single, alone[0])
    torch.testing.assert_close(double, alone[1])


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
def test_fused_does_not_step_if_foundinf(info):
    model = _model()
    optimizer = info.optim_cls(model.parameters(), lr=0.1, momentum=0.9, fused=True)
    before = [p.detach().clone() for p in model.parameters()]
    _loss(model).backward()
    optimizer.grad_scale = torch.ones(())
    optimizer.found_inf = torch.ones(())
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not optimizer.state or all(s["step"] == 0 for s in optimizer.state.values())


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
def test_scheduler_inputs(info):
    """Each of the entry's scheduler inputs (torch's defaults: StepLR and ReduceLROnPlateau)
    drives the lr, and the run still descends."""
    for make_scheduler in itertools.chain.from_iterable(info.scheduler_inputs):
        model = _model()
        optimizer = info.optim_cls(model.parameters(), lr=0.01, momentum=0.9)
        scheduler = make_scheduler(optimizer)
        initial = float(_loss(model).detach())
        for _ in range(10):
            optimizer.zero_grad()
            loss = _loss(model)
            loss.backward()
            optimizer.step()
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(float(loss.detach()))
            else:
                scheduler.step()
        assert float(_loss(model).detach()) < initial


@pytest.mark.parametrize("info", ENTRIES, ids=lambda info: info.name)
def test_errors(info):
    for error_input in info.optim_error_inputs_func(device="cpu", dtype=torch.float32):
        kwargs = error_input.optimizer_error_input.kwargs
        with pytest.raises(error_input.error_type, match=error_input.error_regex):
            info.optim_cls(_model().parameters(), **kwargs)
