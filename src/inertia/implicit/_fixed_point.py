"""Fixed points of recurrent maps and their gradients (Liao et al. 2018; SPEC section 7.1).

For a convergent map h = F(h, x; w) with fixed point h*, the implicit function theorem gives

    dL/dw = (∂F/∂w)ᵀ z,    dL/dx = (∂F/∂x)ᵀ z,    z = (I − Jᵀ)⁻¹ dL/dh*,    J = ∂F/∂h at h*.

:class:`FixedPoint` finds h* with a forward solver and differentiates it with a gradient method,
both strategy objects (:mod:`inertia.implicit._methods`). The RBP methods keep only h* and one
application of F: memory does not grow with K. Jᵀv is one vector-Jacobian product through
F(h*, x); J v (for CG-RBP) is the derivative of u ↦ Jᵀu along v.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from inertia.implicit._methods import (
    BPTT,
    TBPTT,
    Anderson,
    FixedPointIteration,
    ForwardSolver,
    GradientMethod,
    ImplicitGradient,
    make_gradient,
    relative,
)

__all__ = [
    "FixedPoint",
    "FixedPointStats",
    "FixedPointWarning",
    "attach_adjoint",
    "retained_vjp",
    "solve_adjoint",
]

Update = Callable[..., Tensor]
"""F(h, x, *args): the next state from the current state, the (clamped) input and any further
arguments."""


def _engine_backward() -> Callable[..., tuple[Tensor | None, ...]] | None:
    """The autograd engine's own entry point, the one ``torch.autograd.grad`` calls after its
    Python-side argument handling (None where this torch has none)."""
    engine = getattr(getattr(torch.autograd, "variable", None), "Variable", None)
    return getattr(getattr(engine, "_execution_engine", None), "run_backward", None)


_RUN_BACKWARD = _engine_backward()


def retained_vjp(output: Tensor, input: Tensor) -> Callable[[Tensor], Tensor]:
    """v ↦ (∂output/∂input)ᵀ v, as ``torch.autograd.grad(output, input, v, retain_graph=True)``,
    for many v on one graph.

    The RBP solves make one such product per iteration (K − 1 for Neumann-RBP). Measured on a
    64 x 64 state, ``torch.autograd.grad``'s Python-side handling of its arguments (tuples,
    shape checks, ``__torch_function__`` dispatch) cost about 30 µs per product, more than the
    product itself; it is done once here, and each product goes straight to the engine with the
    same arguments ``torch.autograd.grad`` would pass. Plain tensors only: a tensor subclass
    (``__torch_function__``) gets ``torch.autograd.grad`` itself.
    """
    plain = type(output) is Tensor and type(input) is Tensor
    if _RUN_BACKWARD is None or not plain:

        def through_grad(v: Tensor) -> Tensor:
            (product,) = torch.autograd.grad(output, input, v, retain_graph=True)
            return product

        return through_grad
    outputs, inputs, run_backward = (output,), (input,), _RUN_BACKWARD

    def product(v: Tensor) -> Tensor:
        if v.shape != output.shape:
            raise RuntimeError(
                f"vector-Jacobian product: v has shape {tuple(v.shape)}, the output "
                f"{tuple(output.shape)}"
            )
        # (tensors, grad_tensors, keep_graph, create_graph, inputs, allow_unreachable,
        #  accumulate_grad): torch.autograd.grad's call with retain_graph=True
        (result,) = run_backward(outputs, (v,), True, False, inputs, False, False)
        return result  # type: ignore[return-value]

    return product


class FixedPointWarning(RuntimeWarning):
    """The forward iteration or an RBP backward solve did not reach its tolerance."""


@dataclasses.dataclass
class FixedPointStats:
    """What the latest forward and backward pass did.

    Attributes:
        forward_steps: applications of F in the forward pass.
        forward_residual: with ``statistics``, ‖F(h) − h‖ / max(‖h‖, 1e-12) at the returned
            state; otherwise the forward solver's last convergence test (NaN when nothing was
            tested: ``tolerance`` 0).
        converged: the forward residual reached ``tolerance`` (always True when it is 0).
        backward_steps: Jᵀ (or J) products in the latest backward solve (0 before any backward).
        backward_residual: with ``statistics``, the relative residual of the adjoint equation
            (I − Jᵀ) z = g at the z used, ‖z − Jᵀz − g‖ / ‖g‖ (one more Jᵀ product); NaN
            otherwise and for ``bptt``/``tbptt``, whose z is implicit.
    """

    forward_steps: int = 0
    forward_residual: float = math.nan
    converged: bool = False
    backward_steps: int = 0
    backward_residual: float = math.nan


def solve_adjoint(
    method: ImplicitGradient,
    transpose: Callable[[Tensor], Tensor],
    output: Tensor,
    state: Tensor,
    g: Tensor,
    *,
    warn: bool = True,
    who: str = "FixedPoint",
    statistics: bool = True,
) -> tuple[Tensor, int, float]:
    """z with (I − Jᵀ) z ≈ g by an RBP ``method``, for ``output = F(state)`` built with a graph.

    ``transpose(v)`` is Jᵀv (one vector-Jacobian product through ``output``). Returns (z, the
    products used, the relative residual ‖z − Jᵀz − g‖ / ‖g‖, which costs one more product and
    is NaN without ``statistics``); warns with :class:`FixedPointWarning` when the solve missed
    its tolerance or the residual is not finite.
    """

    def forward() -> Callable[[Tensor], Tensor]:  # v ↦ J v: the derivative of u ↦ Jᵀu along v
        with torch.enable_grad():
            cotangent = torch.zeros_like(output, requires_grad=True)
            (transposed,) = torch.autograd.grad(output, state, cotangent, create_graph=True)

        return retained_vjp(transposed, cotangent)

    solution = method.solve(transpose, forward, g)
    z = solution.z
    residual = relative(z - transpose(z) - g, g) if statistics else math.nan
    if warn and (not solution.solved or (statistics and not math.isfinite(residual))):
        measured = f" (relative residual of (I - J^T) z = g: {residual:.3g})" if statistics else ""
        warnings.warn(
            f"{who}: the {method.name} backward solve did not converge in {solution.steps} steps"
            + measured,
            FixedPointWarning,
            stacklevel=3,
        )
    return z, solution.steps, residual


class _Adjoint(torch.autograd.Function):
    """The identity on ``output = F(state)``, whose backward replaces the arriving gradient g by
    ``solve(g)``. The Jᵀ products of the solve back-propagate through ``output``'s own graph,
    below this node, so they neither pass through it again nor call Python per product (a
    tensor hook on ``output`` did, once per product)."""

    @staticmethod
    def forward(ctx: Any, output: Tensor, solve: Callable[[Tensor], Tensor]) -> Tensor:
        ctx.solve = solve
        return output.view_as(output)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None]:
        return ctx.solve(g), None


def attach_adjoint(
    output: Tensor, state: Tensor, solve: Callable[[Callable[[Tensor], Tensor], Tensor], Tensor]
) -> Tensor:
    """``output = F(state)`` through a node that replaces the gradient arriving at it by
    ``solve(transpose, g)`` before it flows on through F to F's parameters and inputs; return
    the result in ``output``'s place."""

    transpose = retained_vjp(output, state)
    return _Adjoint.apply(output, lambda g: solve(transpose, g))


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
        if isinstance(self.solver, Anderson) and not isinstance(self.gradient, ImplicitGradient):
            raise ValueError(
                f"gradient {self.gradient.name!r} back-propagates through plain forward steps; "
                "use FixedPointIteration (or an RBP gradient with Anderson)"
            )
        self.update = update
        self.warn = warn
        self.stats = FixedPointStats()

    def extra_repr(self) -> str:
        return f"gradient={self.gradient}, solver={self.solver}"

    def _solve(self, step: Callable[[Tensor], Tensor], h0: Tensor, steps: int):  # type: ignore[no-untyped-def]
        return self.solver.solve(step, h0, steps)

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
        step: Callable[[Tensor], Tensor] = (
            (lambda h: update(h, x, *args)) if args else (lambda h: update(h, x))
        )

        if not torch.is_grad_enabled():
            with torch.no_grad():
                h, steps, residual = self._solve(step, h0, self.solver.max_steps)
            self._record_forward(h, steps, residual, lambda: step(h))
            return h
        if isinstance(self.gradient, (BPTT, TBPTT)):
            return self._unrolled(step, h0)
        return self._implicit(step, h0)

    def _unrolled(self, step: Callable[[Tensor], Tensor], h0: Tensor) -> Tensor:
        """BPTT: every step with a graph. TBPTT(K): steps without a graph until the last K of
        ``max_steps`` (or until converged), then K steps with a graph."""
        max_steps, tolerance = self.solver.max_steps, self.solver.tolerance
        bptt = isinstance(self.gradient, BPTT)
        tracked = max_steps if bptt else self.gradient.truncation  # type: ignore[attr-defined]
        untracked = max(max_steps - tracked, 0)
        h, steps, residual = h0, 0, math.nan
        if untracked:
            with torch.no_grad():
                h, steps, _ = self._solve(step, h0, untracked)
        for _ in range(tracked):
            nxt = step(h)
            steps += 1
            if bptt and tolerance > 0:
                residual = relative(nxt.detach() - h.detach(), nxt.detach())
                h = nxt
                if residual < tolerance:
                    break
            else:
                h = nxt
        last = h.detach()
        self._record_forward(last, steps, residual, lambda: step(last))
        return h

    def _implicit(self, step: Callable[[Tensor], Tensor], h0: Tensor) -> Tensor:
        with torch.no_grad():
            h_star, steps, residual = self._solve(step, h0, self.solver.max_steps)
        state = h_star.detach().requires_grad_(True)
        output = step(state)  # one more application: the graph to w, x and args
        self._record_forward(h_star, steps, residual, lambda: output)
        if not output.requires_grad:
            return output
        method: ImplicitGradient = self.gradient  # type: ignore[assignment]

        def solve(transpose: Callable[[Tensor], Tensor], g: Tensor) -> Tensor:
            z, self.stats.backward_steps, self.stats.backward_residual = solve_adjoint(
                method, transpose, output, state, g, warn=self.warn, who="FixedPoint",
                statistics=self.statistics,
            )  # fmt: skip
            return z

        return attach_adjoint(output, state, solve)
