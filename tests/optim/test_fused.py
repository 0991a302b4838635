"""The fused (one-pass) kernels of CM and NAG, both the C++ one of CPU tensors and the
``torch.compile``d one of other devices (run here on CPU with the C++ kernels switched off): equal
to the single-tensor specification, no recompilation when μ or ε change, the default choice, and
the fallbacks where nothing can be built."""

from __future__ import annotations

import warnings

import pytest
import torch
from test_momentum import (  # the same directory: pytest puts it on sys.path
    make_problem,
    max_abs_diff,
    textbook,
    varying_lr,
    varying_momentum,
)
from torch import nn

from inertia.functional import _momentum
from inertia.optim import CM, NAG
from inertia.schedules import SutskeverMomentum

pytestmark = pytest.mark.skipif(
    not _momentum.fused_available(), reason="torch.compile is not supported here"
)


def _without_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send CPU tensors to the compiled kernels, as tensors of other devices go."""
    kernels = _momentum._CpuKernels()
    kernels.failure = "switched off by the test"
    monkeypatch.setattr(_momentum, "_CPU", kernels)


@pytest.fixture(params=["cpp", "compiled"])
def fused_path(request, monkeypatch):
    """Each test of the fused path runs with the C++ kernels and with the compiled ones."""
    if request.param == "compiled":
        _without_cpp(monkeypatch)
    elif _momentum._CPU.load() is None:
        pytest.skip(f"the C++ kernels cannot be built here: {_momentum._CPU.failure}")
    return request.param


def _train(optimizer_cls, kwargs, kernel, steps=40, dtype=torch.float32):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).to(dtype)
    groups = [
        {"params": model[0].parameters()},
        {"params": model[2].parameters(), "lr": kwargs["lr"] / 2},
    ]
    optimizer = optimizer_cls(groups, **kwargs, **kernel)
    data = torch.randn(32, 6, dtype=dtype, generator=torch.Generator().manual_seed(1))
    for _ in range(steps):
        optimizer.zero_grad()
        model(data).pow(2).mean().backward()
        optimizer.step()
    optimizer.eval()
    return [p.detach().clone() for p in model.parameters()], optimizer


@pytest.mark.parametrize(
    ("optimizer_cls", "kwargs"),
    [
        pytest.param(NAG, {"lr": 0.05, "momentum": SutskeverMomentum(0.99, period=5)}, id="nag"),
        pytest.param(CM, {"lr": 0.05, "momentum": SutskeverMomentum(0.99, period=5)}, id="cm"),
        pytest.param(NAG, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}, id="nag-wd"),
        pytest.param(CM, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}, id="cm-wd"),
    ],
)
def test_fused_matches_the_single_tensor_specification(optimizer_cls, kwargs, fused_path):
    single, _ = _train(optimizer_cls, kwargs, {"foreach": False, "fused": False})
    fused, optimizer = _train(optimizer_cls, kwargs, {"fused": True})
    assert all(group["fused"] for group in optimizer.param_groups)
    for a, b in zip(single, fused):
        # The same operations; a fused multiply-add may round once where the loop rounds twice.
        torch.testing.assert_close(b, a, rtol=2e-6, atol=1e-7)
    start, _ = _train(optimizer_cls, kwargs, {"fused": False}, steps=0)
    assert max_abs_diff(single, start) > 1e-2  # the runs moved


@pytest.mark.parametrize(("optimizer_cls", "method"), [(NAG, "nag"), (CM, "cm")])
def test_fused_matches_the_textbook_with_momentum_and_lr_changing_every_step(
    optimizer_cls, method, fused_path
):
    model, loss_of = make_problem(torch.float64)
    params = list(model.parameters())
    optimizer = optimizer_cls(params, lr=varying_lr(0), momentum=varying_momentum, fused=True)
    graphs = None
    for t in range(300):
        optimizer.param_groups[0]["lr"] = varying_lr(t)
        optimizer.zero_grad()
        loss_of(params).backward()
        optimizer.step()
        if t == 0:
            graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    # μ and ε changed at every step and entered as tensors: nothing was compiled again.
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs
    optimizer.eval()
    reference = textbook(method, 300, varying_momentum, varying_lr)
    assert max_abs_diff([p.detach() for p in params], reference) < 1e-6


def test_default_is_fused_for_large_cpu_buckets_only():
    small = [nn.Parameter(torch.zeros(10))]
    large = [nn.Parameter(torch.zeros(_momentum.FUSED_MIN_ELEMENTS))]
    group = NAG(small).param_groups[0]
    assert NAG._kernel(group, small) == {"foreach": False, "fused": False}
    assert NAG._kernel(group, large) == {"foreach": False, "fused": True}
    explicit = NAG(large, foreach=True).param_groups[0]
    assert NAG._kernel(explicit, large) == {"foreach": True, "fused": False}
    with pytest.raises(ValueError, match="foreach and fused cannot both be True"):
        NAG(small, foreach=True, fused=True)
    with pytest.raises(TypeError, match="fused in param group 0"):
        CM(small, fused="yes")


def test_without_a_compiler_one_warning_per_kernel_and_the_foreach_result(monkeypatch):
    def no_compiler(function, **kwargs):
        def fail(*args):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore")

        return fail

    def no_build(**kwargs):
        raise RuntimeError("Ninja is required to load C++ extensions\nmore")

    from torch.utils import cpp_extension

    monkeypatch.setattr(_momentum, "_FUSED", _momentum._FusedKernels())
    monkeypatch.setattr(_momentum, "_CPU", _momentum._CpuKernels())
    monkeypatch.setattr(torch, "compile", no_compiler)
    monkeypatch.setattr(cpp_extension, "load", no_build)
    kwargs = {"lr": 0.05, "momentum": SutskeverMomentum(0.99, period=5)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fused, _ = _train(NAG, kwargs, {"fused": True})
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 2  # once for each kernel, not once per step
    assert "inertia_momentum_cpu could not be built (RuntimeError: Ninja is required" in messages[0]
    assert "could not be compiled (RuntimeError: InvalidCxxCompiler" in messages[1]
    assert not _momentum.fused_available()
    foreach, _ = _train(NAG, kwargs, {"foreach": True})
    for a, b in zip(foreach, fused):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # Defaults no longer pick the path that cannot be built.
    large = [nn.Parameter(torch.zeros(_momentum.FUSED_MIN_ELEMENTS))]
    assert NAG._kernel(NAG(large).param_groups[0], large)["fused"] is False


def test_the_cpp_kernels_leave_tensors_they_do_not_take_to_the_compiled_ones(monkeypatch):
    """Non-contiguous parameters, float16, mismatched dtypes and shapes go to the compiled
    kernel, which still matches the specification; the C++ kernel bumps autograd's version
    counters as an in-place op does."""
    module = _momentum._CPU.load()
    if module is None:
        pytest.skip(f"the C++ kernels cannot be built here: {_momentum._CPU.failure}")
    base = torch.randn(8, 6, generator=torch.Generator().manual_seed(0))
    cases = (([base.t()], None, None), ([base.half()], None, None), ([base], torch.double, None),
             ([base], None, (6, 8)))  # fmt: skip
    for params, grad_dtype, grad_shape in cases:
        grads = [torch.ones_like(p, dtype=grad_dtype) for p in params]
        if grad_shape is not None:  # as many elements, another shape
            grads = [g.reshape(grad_shape) for g in grads]
        velocities = [torch.zeros_like(p) for p in params]
        assert module.nag_step(params, grads, velocities, 0.1, 0.9, 0.9, 0.0) is False
        assert all(v.abs().sum() == 0 for v in velocities)  # nothing written
    param = nn.Parameter(base.clone())
    velocity = torch.zeros_like(param)
    before = param._version
    with torch.no_grad():
        assert module.cm_step([param], [torch.ones_like(param)], [velocity], 0.1, 0.9, 0.0)
    assert param._version > before
    torch.testing.assert_close(param.detach(), base - 0.1)
    # Through the optimizer: a transposed (non-contiguous) parameter still steps correctly.
    weight = nn.Parameter(base.t())
    reference = nn.Parameter(base.t().clone())
    for p in (weight, reference):
        p.grad = torch.full_like(p, 0.5)
    NAG([weight], lr=0.1, momentum=0.9, fused=True).step()
    NAG([reference], lr=0.1, momentum=0.9, fused=False).step()
    torch.testing.assert_close(weight.detach(), reference.detach(), rtol=2e-6, atol=1e-7)


def test_fused_state_dict_resumes_bit_for_bit(fused_path):
    """A checkpoint taken between fused steps and loaded into a new optimizer continues exactly
    as the uninterrupted run (the sweeps' kill-and-resume guarantee)."""
    kwargs = {"lr": 0.05, "momentum": SutskeverMomentum(0.99, period=5)}
    straight, _ = _train(NAG, kwargs, {"fused": True}, steps=20)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    data = torch.randn(32, 6, generator=torch.Generator().manual_seed(1))
    groups = lambda: [  # noqa: E731
        {"params": model[0].parameters()},
        {"params": model[2].parameters(), "lr": kwargs["lr"] / 2},
    ]
    optimizer = NAG(groups(), **kwargs, fused=True)
    for step in range(20):
        if step == 10:  # a new optimizer from the checkpoint, as a resumed process builds it
            saved = optimizer.state_dict()
            optimizer = NAG(groups(), **kwargs, fused=True)
            optimizer.load_state_dict(saved)
        optimizer.zero_grad()
        model(data).pow(2).mean().backward()
        optimizer.step()
    optimizer.eval()
    for a, b in zip(straight, model.parameters()):
        torch.testing.assert_close(b.detach(), a, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["nag", "cm", "sgd"])
def test_a_run_config_chooses_the_kernel(name):
    from inertia.experiments import RunConfig, build_optimizer

    params = [nn.Parameter(torch.zeros(3))]
    for fused in (None, False, True):
        settings = {"name": name} if fused is None else {"name": name, "fused": fused}
        optimizer = build_optimizer(params, RunConfig(optimizer=settings))
        assert optimizer.param_groups[0]["fused"] is fused


@pytest.mark.subprocess
def test_processes_starting_at_once_load_the_cpp_kernels_past_a_killed_builds_lock():
    """A build killed halfway leaves torch's lock file behind, on which every later build would
    wait forever; two processes starting together still load the kernels, one at a time."""
    import subprocess
    import sys

    if _momentum._CPU.load() is None:
        pytest.skip(f"the C++ kernels cannot be built here: {_momentum._CPU.failure}")
    (_momentum._CPU.folder() / "lock").write_text("")  # as a killed build leaves it
    code = (
        "from inertia.functional._momentum import _CPU\n"
        "assert _CPU.load() is not None, _CPU.failure\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [process.wait(timeout=600) for process in processes] == [0, 0]
    assert not (_momentum._CPU.folder() / "lock").exists()


def test_one_process_keeps_a_compiled_step_for_each_of_ten_models(monkeypatch):
    """Issue 38: a compiled step is specialised on the parameters' structure, and dynamo keeps
    at most ``recompile_limit`` (8) graphs per code object; the ninth model or dtype made the
    whole process fall back to the foreach kernels. Each structure now compiles its own copy."""
    _without_cpp(monkeypatch)  # float32 too goes to the compiled kernels, as on a GPU
    monkeypatch.setattr(_momentum, "_FUSED", _momentum._FusedKernels())

    def no_fallback(*args, **kwargs):
        raise AssertionError("the foreach fallback ran: the fused path was not used")

    monkeypatch.setattr(_momentum, "_nag_multi_tensor", no_fallback)
    monkeypatch.setattr(_momentum, "_cm_multi_tensor", no_fallback)
    dtypes = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for index in range(10):
            model = nn.Sequential(*[nn.Linear(3 + index, 3 + index) for _ in range(1 + index % 3)])
            model = model.to(dtypes[index % 4])
            if index % 3 == 0:
                model[0].bias.requires_grad_(False)  # a frozen layer
            optimizer_cls = (NAG, CM)[index % 2]
            optimizer = optimizer_cls(model.parameters(), lr=0.01, momentum=0.9,
                                      weight_decay=0.01 * (index % 2), fused=True)  # fmt: skip
            before = [p.detach().clone() for p in model.parameters()]
            for _ in range(2):
                for parameter in model.parameters():
                    if parameter.requires_grad:
                        parameter.grad = torch.ones_like(parameter)
                optimizer.step()
            moved = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
            assert moved == [p.requires_grad for p in model.parameters()]
    assert len(_momentum._FUSED.compiled) > 8  # more structures than one code object may hold
    assert not _momentum._FUSED.failed
    codes = {id(function._torchdynamo_orig_callable.__code__)
             for function in _momentum._FUSED.compiled.values()}  # fmt: skip
    assert len(codes) == len(_momentum._FUSED.compiled)
