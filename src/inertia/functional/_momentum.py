"""Update kernels of classical momentum and Nesterov's accelerated gradient.

Each kernel has a single-tensor loop, which is the specification, a multi-tensor path built on
``torch._foreach_*`` that must give the same numbers, and a fused path: one pass over parameter,
gradient and velocity per tensor, equal to the specification up to the rounding of a fused
multiply-add (tests/functional check all three). On CPU (float32 and float64, contiguous tensors)
the fused path is a C++ loop (``_momentum_cpu.cpp``) that ``torch.utils.cpp_extension`` builds
once per machine and caches; elsewhere it is ``torch.compile``d, with ε, μ_t and μ_{t+1} passed
as 0-d tensors so that a schedule never recompiles. Where neither can be built, one warning says
so and the foreach kernels take over.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.optim.optimizer import Optimizer

from inertia import _extensions

__all__ = ["cm", "fused_available", "nag"]

# Bucket size (elements) from which ``fused=None`` picks the fused path on CPU. The C++ kernel is
# the fastest path at every size (benchmarks/bench_optim_step.py --sizes), but its first use on a
# machine builds it (30-55 s on two cores): below this size the step is a small part of an update
# and that wait would surprise the user of a small model, who can still pass ``fused=True``.
FUSED_MIN_ELEMENTS = 1 << 20


def _check_lists(params: list[Tensor], grads: list[Tensor], velocities: list[Tensor]) -> None:
    if not len(params) == len(grads) == len(velocities):
        raise ValueError(
            f"params, grads and velocities must have equal lengths, got "
            f"{len(params)}, {len(grads)} and {len(velocities)}"
        )


def _check_paths(foreach: bool, fused: bool) -> None:
    if foreach and fused:
        raise ValueError("foreach and fused cannot both be True; choose one kernel")


def _per_device(
    params: list[Tensor], grads: list[Tensor], velocities: list[Tensor], weight_decay: float
) -> Iterator[tuple[list[Tensor], list[Tensor], list[Tensor]]]:
    """Split the lists by device and dtype for the foreach kernels; fold in weight decay."""
    tensors: list[list[Tensor | None]] = [list(params), list(grads), list(velocities)]
    grouped = Optimizer._group_tensors_by_device_and_dtype(tensors)
    for lists, _ in grouped.values():
        device_params, device_grads, device_velocities = (
            [tensor for tensor in tensor_list if tensor is not None] for tensor_list in lists
        )  # none is None: every list above holds tensors only
        if weight_decay != 0.0:
            device_grads = list(torch._foreach_add(device_grads, device_params, alpha=weight_decay))
        yield device_params, device_grads, device_velocities


def _cm_fused_step(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    lr: Tensor,
    momentum: Tensor,
    weight_decay: Tensor | None,
) -> None:
    """Eq. (1) in one pass per tensor (traced by ``torch.compile``; ``weight_decay`` None
    leaves the gradient as it is, so a non-finite parameter never enters it as 0 · inf)."""
    for theta, grad, velocity in zip(params, grads, velocities):
        if weight_decay is not None:
            grad = grad + theta * weight_decay
        new_velocity = velocity * momentum - grad * lr
        theta.copy_(theta + new_velocity)
        velocity.copy_(new_velocity)


def _nag_fused_step(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    lr: Tensor,
    momentum: Tensor,
    next_momentum: Tensor,
    weight_decay: Tensor | None,
) -> None:
    """The one-gradient form of eq. (2) in one pass per tensor (see :func:`nag`)."""
    for phi, grad, velocity in zip(params, grads, velocities):
        if weight_decay is not None:
            grad = grad + phi * weight_decay
        new_velocity = velocity * momentum - grad * lr
        phi.copy_(phi - grad * lr + new_velocity * next_momentum)
        velocity.copy_(new_velocity)


def _structure(name: str, arguments: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a compiled step specialises on besides shapes: the kernel, how many tensors, and
    each list's dtypes and devices (and whether weight decay is present)."""
    lists = [argument for argument in arguments if isinstance(argument, list)]
    tensors = tuple((t.dtype, t.device.type, t.dim()) for tensors in lists for t in tensors)
    return (name, len(lists[0]) if lists else 0, tensors, arguments[-1] is None)


def _own_code(kernel: Callable[..., None], number: int) -> Callable[..., None]:
    """``kernel`` with a code object of its own. Dynamo keeps its compiled graphs, and counts
    them against ``recompile_limit`` (8), per code object: one code object for every
    parameter structure a process meets would reach the limit after eight models or dtypes."""
    code = kernel.__code__.replace(co_name=f"{kernel.__name__}_{number}")
    own = types.FunctionType(code, kernel.__globals__, code.co_name, kernel.__defaults__)
    own.__doc__ = kernel.__doc__
    return own


class _FusedKernels:
    """The compiled steps, built on first use, one per parameter structure
    (:func:`_structure`), each from its own copy of the kernel's code (:func:`_own_code`), so
    that a process that steps many models keeps a graph for each. If compiling fails (no C++
    compiler, a platform ``torch.compile`` does not support), one warning says so and the
    foreach kernels take over: for that structure, or for the rest of the process where
    ``torch.compile`` cannot work at all."""

    def __init__(self) -> None:
        self.compiled: dict[tuple[Any, ...], Callable[..., None]] = {}
        self.failed: dict[tuple[Any, ...], str] = {}
        self.failure: str | None = None
        self._checked = False

    def available(self) -> bool:
        if not self._checked:  # once: the check itself costs microseconds every step
            self._checked = True
            if not torch._dynamo.is_dynamo_supported():
                self.failure = "torch.compile does not support this Python or platform"
        return self.failure is None

    def run(self, name: str, kernel: Callable[..., None], *arguments: Any) -> bool:
        """Run the compiled ``kernel`` for these arguments' structure; False (after one warning)
        if it cannot be compiled."""
        if not self.available():
            return False
        key = _structure(name, arguments)
        if key in self.failed:
            return False
        if key not in self.compiled:
            own = _own_code(kernel, len(self.compiled))
            self.compiled[key] = torch.compile(own, fullgraph=True)
        try:
            self.compiled[key](*arguments)
        except Exception as error:  # a compiler error surfaces at the first call, before any write
            reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
            self.failed[key] = reason
            if len(self.failed) == 1 and len(self.compiled) == 1:
                self.failure = reason  # the very first compile failed: torch.compile cannot work
            what, instead = (
                ("kernels", "instead")
                if self.failure
                else ("kernel for these parameters", "for them")
            )
            warnings.warn(
                f"inertia: the fused momentum {what} could not be compiled ({reason}); using "
                f"the foreach kernels {instead} (pass fused=False to skip the attempt)",
                RuntimeWarning,
                stacklevel=4,
            )
            return False
        return True


_FUSED = _FusedKernels()


class _CpuKernels(_extensions.CppExtension):
    """The C++ fused kernels for CPU tensors (``_momentum_cpu.cpp``), built on first use
    (:class:`inertia._extensions.CppExtension`: once per machine, 30-55 s on two cores); where
    they cannot be built, one warning and the compiled kernels."""

    def __init__(self) -> None:
        super().__init__(
            "inertia_momentum_cpu",
            Path(__file__).with_name("_momentum_cpu.cpp"),
            "the torch.compile'd momentum kernels",
        )

    def run(self, name: str, tensors: tuple[list[Tensor], ...], *coefficients: float) -> bool:
        """Step with the C++ kernel ``name`` (``cm_step`` or ``nag_step``); False, writing
        nothing, where it is unavailable or a tensor is not one it takes."""
        module = self.load()
        return module is not None and getattr(module, name)(*tensors, *coefficients)


_CPU = _CpuKernels()


def fused_available() -> bool:
    """Whether the fused kernels can be used here (False once building the C++ kernels and
    compiling the others both failed); it builds nothing."""
    return _CPU.failure is None or _FUSED.available()


_SCALARS: dict[tuple[torch.device, torch.dtype, int], list[Tensor]] = {}


def _scalars(like: Tensor, *values: float) -> list[Tensor]:
    """``values`` as 0-d tensors of ``like``'s device and dtype, the kernels' inputs (so that
    a new μ or ε is a new value, not a new graph). The tensors are kept and refilled: a fill
    costs a fraction of a ``torch.tensor`` call, and a step makes four."""
    key = (like.device, like.dtype, len(values))
    if key not in _SCALARS:
        _SCALARS[key] = [torch.zeros((), dtype=like.dtype, device=like.device) for _ in values]
    tensors = _SCALARS[key]
    for tensor, value in zip(tensors, values):
        tensor.fill_(value)
    return tensors


def _fused(
    name: str,
    kernel: Callable[..., None],
    fallback: Callable[..., None],
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    weight_decay: float,
    *coefficients: float,
) -> None:
    """Per device and dtype: on CPU the C++ kernel ``{name}_step``; elsewhere (or where the C++
    kernels cannot be built or do not take the tensors) the compiled ``kernel``
    (``_cm_fused_step`` or ``_nag_fused_step``), the ``coefficients`` (ε, μ_t[, μ_{t+1}]) and
    the weight decay entering as 0-d tensors; where that cannot be compiled either, the
    multi-tensor ``fallback`` with the same arguments."""
    for device_params, device_grads, device_velocities in _per_device(
        params,
        grads,
        velocities,
        weight_decay=0.0,  # the kernel adds it in its own pass
    ):
        tensors = (device_params, device_grads, device_velocities)
        if device_params[0].device.type == "cpu" and _CPU.run(
            f"{name}_step", tensors, *coefficients, weight_decay
        ):
            continue
        *scalars, decay = _scalars(device_params[0], *coefficients, weight_decay)
        if not _FUSED.run(name, kernel, *tensors, *scalars, decay if weight_decay else None):
            fallback(*tensors, *coefficients, weight_decay)


def cm(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    *,
    lr: float,
    momentum: float,
    weight_decay: float = 0.0,
    foreach: bool = False,
    fused: bool = False,
) -> None:
    r"""One step of classical momentum, Sutskever et al. (2013) eq. (1), in place.

    .. math::
        v_{t+1} = μ_t v_t - ε ∇f(θ_t), \qquad θ_{t+1} = θ_t + v_{t+1}

    Args:
        params: the parameters θ_t, updated in place to θ_{t+1}.
        grads: ∇f(θ_t), one per parameter (not modified).
        velocities: v_t, updated in place to v_{t+1}.
        lr: ε.
        momentum: μ_t.
        weight_decay: λ; the gradient becomes ∇f(θ_t) + λ θ_t.
        foreach: use the multi-tensor kernels.
        fused: use the one-pass kernel (C++ on CPU, ``torch.compile``d elsewhere; the foreach
            kernels, after one warning, where neither can be built).

    References:
        Sutskever, Martens, Dahl & Hinton (2013), ICML, section 2, eq. (1); Polyak (1964).
    """
    _check_lists(params, grads, velocities)
    _check_paths(foreach, fused)
    if fused:
        _fused("cm", _cm_fused_step, _cm_multi_tensor, params, grads, velocities,
               weight_decay, lr, momentum)  # fmt: skip
        return
    if foreach:
        _cm_multi_tensor(params, grads, velocities, lr, momentum, weight_decay)
        return
    for theta, grad, velocity in zip(params, grads, velocities):
        if weight_decay != 0.0:
            grad = grad.add(theta, alpha=weight_decay)
        velocity.mul_(momentum).add_(grad, alpha=-lr)  # v_{t+1} = μ_t v_t - ε g
        theta.add_(velocity)  # θ_{t+1} = θ_t + v_{t+1}


def _cm_multi_tensor(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    lr: float,
    momentum: float,
    weight_decay: float,
) -> None:
    for device_params, device_grads, device_velocities in _per_device(
        params, grads, velocities, weight_decay
    ):
        torch._foreach_mul_(device_velocities, momentum)
        torch._foreach_add_(device_velocities, device_grads, alpha=-lr)
        torch._foreach_add_(device_params, device_velocities)


def nag(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    *,
    lr: float,
    momentum: float,
    next_momentum: float,
    weight_decay: float = 0.0,
    foreach: bool = False,
    fused: bool = False,
) -> None:
    r"""One step of Nesterov's accelerated gradient in its one-gradient form, in place.

    Sutskever et al. (2013) eq. (2) reads

    .. math::
        v_{t+1} = μ_t v_t - ε ∇f(θ_t + μ_t v_t), \qquad θ_{t+1} = θ_t + v_{t+1}.

    The parameters hold the look-ahead point φ_t = θ_t + μ_t v_t, where the gradient is taken, so a
    step needs one gradient. Substituting gives the update applied here, exact for any sequence μ_t:

    .. math::
        v_{t+1} = μ_t v_t - ε ∇f(φ_t), \qquad
        φ_{t+1} = φ_t + μ_{t+1} μ_t v_t - (1 + μ_{t+1}) ε ∇f(φ_t).

    It is computed as θ_{t+1} = φ_t - ε ∇f(φ_t) (a gradient step from the look-ahead point) plus
    μ_{t+1} v_{t+1}: four in-place passes, as many as ``torch.optim.SGD(nesterov=True)`` makes.

    Args:
        params: φ_t, updated in place to φ_{t+1}.
        grads: ∇f(φ_t), one per parameter (not modified).
        velocities: v_t, updated in place to v_{t+1}.
        lr: ε.
        momentum: μ_t, the coefficient φ_t was formed with.
        next_momentum: μ_{t+1}, the coefficient φ_{t+1} is formed with.
        weight_decay: λ; the gradient becomes ∇f(φ_t) + λ φ_t.
        foreach: use the multi-tensor kernels.
        fused: use the compiled one-pass kernel (as in :func:`cm`).

    References:
        Sutskever et al. (2013), section 2, eq. (2); Bengio, Boulanger-Lewandowski & Pascanu (2012),
        section 3.5 ("simplified Nesterov momentum"); Nesterov (1983).
    """
    _check_lists(params, grads, velocities)
    _check_paths(foreach, fused)
    if fused:
        _fused("nag", _nag_fused_step, _nag_multi_tensor, params, grads, velocities,
               weight_decay, lr, momentum, next_momentum)  # fmt: skip
        return
    if foreach:
        _nag_multi_tensor(params, grads, velocities, lr, momentum, next_momentum, weight_decay)
        return
    for phi, grad, velocity in zip(params, grads, velocities):
        if weight_decay != 0.0:
            grad = grad.add(phi, alpha=weight_decay)
        velocity.mul_(momentum).add_(grad, alpha=-lr)  # v_{t+1} = μ_t v_t - ε g
        phi.add_(grad, alpha=-lr)  # θ_{t+1} = φ_t - ε g
        phi.add_(velocity, alpha=next_momentum)  # φ_{t+1} = θ_{t+1} + μ_{t+1} v_{t+1}


def _nag_multi_tensor(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    lr: float,
    momentum: float,
    next_momentum: float,
    weight_decay: float,
) -> None:
    for device_params, device_grads, device_velocities in _per_device(
        params, grads, velocities, weight_decay
    ):
        torch._foreach_mul_(device_velocities, momentum)
        torch._foreach_add_(device_velocities, device_grads, alpha=-lr)
        torch._foreach_add_(device_params, device_grads, alpha=-lr)
        torch._foreach_add_(device_params, device_velocities, alpha=next_momentum)
