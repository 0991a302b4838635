"""Fixed points of recurrent maps and their gradients (Liao et al. 2018; SPEC section 7.1).

For a convergent map h = F(h, x; w) with fixed point h*, the implicit function theorem gives

    dL/dw = (∂F/∂w)ᵀ z,    dL/dx = (∂F/∂x)ᵀ z,    z = (I − Jᵀ)⁻¹ dL/dh*,    J = ∂F/∂h at h*.

:class:`FixedPoint` finds h* with a forward solver and differentiates it with a gradient method,
both strategy objects (:mod:`inertia.implicit._methods`). The RBP methods keep only h* and one
application of F: memory does not grow with K. Jᵀv is one vector-Jacobian product through
F(h*, x); J v (for CG-RBP) is the derivative of u ↦ Jᵀu along v.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from inertia.implicit._adjoint import FixedPointStats, FixedPointWarning, relative
from inertia.implicit._methods import (
    FixedPointIteration,
    ForwardSolver,
    GradientMethod,
    Map,
    Recurrence,
    make_gradient,
)

__all__ = ["FixedPoint", "FixedPointStats", "FixedPointWarning"]

Update = Callable[..., Tensor]
"""F(h, x, *args): the next state from the current state, the (clamped) input and any further
arguments."""


class FixedPoint(nn.Module):
    """h* = F(h*, x, *args; w) as a differentiable layer, with the gradient method of your
    choice.

    ``update`` is any callable or module ``F(h, x, *args) -> h`` (its parameters are found by
    autograd, so a module's own parameters, tensors it closes over and tensor ``args`` all
    receive gradients). Batched states are fine: the fixed point is solved for the whole state
    tensor at once, and the residuals are relative norms over the whole batch.

    Args:
        update: F(h, x, *args).
        gradient: a :class:`GradientMethod` (:class:`BPTT`, :class:`TBPTT`, :class:`RBP`,
            :class:`CGRBP`, :class:`NeumannRBP`), or one of their names (with default settings).
        solver: the forward :class:`ForwardSolver` (:class:`FixedPointIteration` or
            :class:`Anderson`; ``bptt`` and ``tbptt`` differentiate plain steps, so they need
            :class:`FixedPointIteration`). Its ``max_steps`` and ``tolerance`` govern the
            forward pass and decide :attr:`FixedPointStats.converged`.
        warn: emit :class:`FixedPointWarning` when the forward pass or an RBP solve misses its
            tolerance (the numbers are in :attr:`stats` either way).
        statistics: measure the forward residual at the returned state (one more application
            of F where the gradient method does not make it anyway) and the backward residual
            (one more Jᵀ product) for :attr:`stats`. Off by default: the forward pass then costs
            what a bare loop of F costs, and with ``tolerance`` 0 it never waits for a number
            from the device.

    Examples:
        >>> import torch
        >>> from inertia.implicit import FixedPoint, FixedPointIteration, NeumannRBP
        >>> _ = torch.manual_seed(0)
        >>> weight = torch.nn.Parameter(0.3 * torch.randn(4, 4) / 2)
        >>> layer = FixedPoint(lambda h, x: torch.tanh(h @ weight.T + x),
        ...                    gradient=NeumannRBP(truncation=50),
        ...                    solver=FixedPointIteration(max_steps=100, tolerance=1e-10))
        >>> h_star = layer(torch.randn(2, 4), torch.zeros(2, 4))
        >>> layer.stats.converged
        True
        >>> h_star.sum().backward()
        >>> weight.grad.shape
        torch.Size([4, 4])
    """

    def __init__(
        self,
        update: Update,
        gradient: GradientMethod | str = "rbp",
        solver: ForwardSolver | None = None,
        warn: bool = True,
        statistics: bool = False,
    ) -> None:
        super().__init__()
        self.statistics = statistics
        self.gradient = make_gradient(gradient) if isinstance(gradient, str) else gradient
        self.solver = solver if solver is not None else FixedPointIteration()
        if not isinstance(self.gradient, GradientMethod):
            raise TypeError(f"gradient must be a GradientMethod or a name, got {gradient!r}")
        if self.gradient.unrolls and not self.solver.plain_steps:
            raise ValueError(
                f"gradient {self.gradient.name!r} back-propagates through plain forward steps; "
                "use FixedPointIteration (or an RBP gradient with Anderson)"
            )
        self.update = update
        self.warn = warn
        self.stats = FixedPointStats()

    def extra_repr(self) -> str:
        return f"gradient={self.gradient}, solver={self.solver}"

    def _record_forward(
        self, h: Tensor, steps: int, residual: float, image: Callable[[], Tensor]
    ) -> None:
        """Stats of the forward pass: ``residual`` is the solver's last test (NaN: none),
        ``image()`` gives F(h), called only for ``statistics`` or to test a tolerance that the
        solver did not test."""
        tolerance = self.solver.tolerance
        if self.statistics or (tolerance > 0 and math.isnan(residual)):
            with torch.no_grad():
                residual = relative(image().detach() - h, h)
        converged = tolerance == 0 or residual < tolerance
        self.stats = FixedPointStats(forward_steps=steps, forward_residual=residual,
                                     converged=converged)  # fmt: skip
        if not converged and self.warn:
            warnings.warn(
                f"FixedPoint: the forward pass did not converge in {steps} steps (relative "
                f"residual {residual:.3g} > tolerance {tolerance:g})",
                FixedPointWarning,
                stacklevel=3,
            )

    def forward(self, x: Tensor, h0: Tensor, *args: Any) -> Tensor:
        """The fixed point reached from ``h0`` with input ``x`` (and ``args``, passed on to F),
        differentiable by the gradient method."""

        update = self.update  # one frame per application of F, as in a bare loop
        step: Map = (lambda h: update(h, x, *args)) if args else (lambda h: update(h, x))

        if not torch.is_grad_enabled():
            with torch.no_grad():
                h, steps, residual = self.solver.solve(step, h0)
            self._record_forward(h, steps, residual, lambda: step(h))
            return h
        differentiated = self.gradient.differentiate(_Iteration(self, step), h0)
        if differentiated.implicit:  # the state is h*, its image the tracked application
            self._record_forward(
                differentiated.before, differentiated.steps, differentiated.residual,
                lambda: differentiated.output,
            )  # fmt: skip
        else:
            last = differentiated.output.detach()
            self._record_forward(
                last, differentiated.steps, differentiated.residual, lambda: step(last)
            )
        return differentiated.output


class _Iteration(Recurrence):
    """A :class:`FixedPoint`'s forward pass for one input, as its gradient method sees it: F at
    every step, untracked steps by the layer's forward solver."""

    def __init__(self, layer: FixedPoint, step: Map) -> None:
        self.layer, self.update = layer, step
        self.length = self.settled = layer.solver.max_steps
        self.early_stop = layer.solver.tolerance
        self.warn, self.statistics, self.who = layer.warn, layer.statistics, "FixedPoint"

    @property
    def stats(self) -> FixedPointStats:
        return self.layer.stats

    def run(self, h: Tensor, start: int, stop: int) -> tuple[Tensor, int, float]:
        with torch.no_grad():
            return self.layer.solver.solve(self.update, h, stop - start)

    def step(self, h: Tensor, t: int) -> Tensor:
        return self.update(h)
