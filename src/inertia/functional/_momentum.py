"""Update kernels of classical momentum and Nesterov's accelerated gradient.

Each kernel has a single-tensor loop, which is the specification, and a multi-tensor path built on
``torch._foreach_*`` that must give the same numbers (tests/functional check this).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.optim.optimizer import Optimizer

__all__ = ["cm", "nag"]


def _check_lists(params: list[Tensor], grads: list[Tensor], velocities: list[Tensor]) -> None:
    if not len(params) == len(grads) == len(velocities):
        raise ValueError(
            f"params, grads and velocities must have equal lengths, got "
            f"{len(params)}, {len(grads)} and {len(velocities)}"
        )


def _per_device(
    params: list[Tensor], grads: list[Tensor], velocities: list[Tensor], weight_decay: float
) -> Iterator[tuple[list[Tensor], list[Tensor], list[Tensor]]]:
    """Split the lists by device and dtype for the foreach kernels; fold in weight decay."""
    grouped = Optimizer._group_tensors_by_device_and_dtype([params, grads, velocities])
    for (device_params, device_grads, device_velocities), _ in grouped.values():
        if weight_decay != 0.0:
            device_grads = torch._foreach_add(device_grads, device_params, alpha=weight_decay)
        yield device_params, device_grads, device_velocities


def cm(
    params: list[Tensor],
    grads: list[Tensor],
    velocities: list[Tensor],
    *,
    lr: float,
    momentum: float,
    weight_decay: float = 0.0,
    foreach: bool = False,
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

    References:
        Sutskever, Martens, Dahl & Hinton (2013), ICML, section 2, eq. (1); Polyak (1964).
    """
    _check_lists(params, grads, velocities)
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

    References:
        Sutskever et al. (2013), section 2, eq. (2); Bengio, Boulanger-Lewandowski & Pascanu (2012),
        section 3.5 ("simplified Nesterov momentum"); Nesterov (1983).
    """
    _check_lists(params, grads, velocities)
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
