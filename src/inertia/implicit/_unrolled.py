"""Gradients through an unrolled iterative process, such as training (Liao et al. 2018,
section 5.3; Maclaurin et al. 2015).

An inner optimizer is a dynamical system h_{t+1} = Φ_t(h_t; λ) whose state h holds the weights
(and velocities) and whose parameters λ are the hyperparameters. After T steps, a meta-objective
L(h_T) has the hypergradient dL/dλ. The gradient methods are those of :class:`FixedPoint`:

- :class:`BPTT`: back-propagate through all T steps (memory grows with T).
- :class:`TBPTT`: through the last K steps only (the first T − K run without a graph).
- :class:`RBP`, :class:`CGRBP`, :class:`NeumannRBP`: treat h_T as a fixed point of the last map
  Φ_{T−1}
  and use dL/dλ ≈ (∂Φ_{T−1}/∂λ)ᵀ z with (I − Jᵀ) z = dL/dh_T, J = ∂Φ_{T−1}/∂h at h_{T−1}
  (SPEC 7.1). Only the last step keeps a graph: memory does not depend on T or K. The
  approximation is exact in the limit where training has converged to a fixed point of Φ; it
  is Liao et al.'s, stated here so that no one mistakes it for the exact hypergradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from inertia.implicit._adjoint import FixedPointStats, relative
from inertia.implicit._methods import GradientMethod, Recurrence, make_gradient

__all__ = ["Unrolled"]

Step = Callable[[Tensor, int], Tensor]
"""Φ_t(h): the state after step t (0-based) from the state before it."""


class Unrolled(nn.Module):
    """T steps of a step-dependent map h_{t+1} = Φ_t(h_t), differentiable by any gradient
    method of :class:`FixedPoint`.

    ``step(h, t)`` may use autograd inside (an inner optimizer computes gradients of its own
    loss): steps whose result is not differentiated run under :func:`torch.no_grad`, so read
    :func:`torch.is_grad_enabled` on entry, compute the inner gradient under
    :func:`torch.enable_grad` and pass ``create_graph`` = that flag (the inner gradient depends
    on hyperparameters even where h does not require grad). Hyperparameters are whatever tensors
    ``step`` closes over.

    Args:
        step: Φ_t(h, t).
        steps: T.
        gradient: a :class:`GradientMethod` or one of their names (with default settings).
        tolerance: the relative size of the last step below which h_T counts as a fixed point
            (``stats.converged``; 0: always).
        warn: emit :class:`FixedPointWarning` when an RBP solve misses its tolerance.
        statistics: measure the forward residual even with ``tolerance`` 0, and the backward
            residual (one more Jᵀ product), for :attr:`stats`.

    After each forward pass :attr:`stats` holds T as ``forward_steps`` and, with a
    ``tolerance`` or ``statistics``, the relative size of the last step,
    ‖h_T − h_{T−1}‖ / ‖h_T‖, as ``forward_residual`` (how far h_T is from a fixed point of the
    last map: the RBP methods' assumption; NaN when not measured); ``converged`` is true when
    that is below ``tolerance`` (or ``tolerance`` is 0). The backward fields are as in
    :class:`FixedPoint`.

    Examples:
        >>> import torch
        >>> from inertia.implicit import BPTT, Unrolled
        >>> rate = torch.tensor(0.1, requires_grad=True)
        >>> target = torch.tensor([1.0, -2.0])
        >>> descent = Unrolled(lambda w, t: w - rate * (w - target), steps=50, gradient=BPTT())
        >>> w_final = descent(torch.zeros(2))
        >>> ((w_final - target) ** 2).sum().backward()
        >>> rate.grad < 0  # a larger rate would have come closer
        tensor(True)
    """

    def __init__(
        self,
        step: Step,
        steps: int,
        gradient: GradientMethod | str = "bptt",
        tolerance: float = 0.0,
        warn: bool = True,
        statistics: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
        self.step = step
        self.steps = steps
        self.gradient = make_gradient(gradient) if isinstance(gradient, str) else gradient
        self.tolerance = tolerance
        self.warn = warn
        self.statistics = statistics
        self.stats = FixedPointStats()

    def extra_repr(self) -> str:
        return f"steps={self.steps}, gradient={self.gradient}"

    def _run_untracked(self, h: Tensor, start: int, stop: int) -> Tensor:
        with torch.no_grad():
            for t in range(start, stop):
                h = self.step(h.detach(), t).detach()
        return h

    def _record(self, before: Tensor, after: Tensor) -> None:
        residual = math.nan
        if self.statistics or self.tolerance > 0:  # a norm read back: a host sync on a GPU
            residual = relative(after.detach() - before.detach(), after.detach())
        self.stats = FixedPointStats(
            forward_steps=self.steps,
            forward_residual=residual,
            converged=self.tolerance == 0 or residual < self.tolerance,
        )

    def forward(self, h0: Tensor) -> Tensor:
        """h_T from h_0, with the graph the gradient method needs."""
        if not torch.is_grad_enabled():
            before = self._run_untracked(h0, 0, self.steps - 1)
            after = self._run_untracked(before, self.steps - 1, self.steps)
            self._record(before, after)
            return after
        differentiated = self.gradient.differentiate(_Trajectory(self), h0)
        self._record(differentiated.before, differentiated.output)
        return differentiated.output


class _Trajectory(Recurrence):
    """An :class:`Unrolled` process as its gradient method sees it: T step-dependent maps,
    never stopped early."""

    def __init__(self, process: Unrolled) -> None:
        self.process = process
        self.length, self.settled, self.early_stop = process.steps, process.steps - 1, 0.0
        self.warn, self.statistics, self.who = process.warn, process.statistics, "Unrolled"

    @property
    def stats(self) -> FixedPointStats:
        return self.process.stats

    def run(self, h: Tensor, start: int, stop: int) -> tuple[Tensor, int, float]:
        return self.process._run_untracked(h, start, stop), stop - start, math.nan

    def step(self, h: Tensor, t: int) -> Tensor:
        return self.process.step(h, t)
