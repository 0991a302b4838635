"""Gradient methods and forward solvers for fixed points, as small strategy objects (the style of
optimistix's ``adjoint=`` and ``solver=``): each holds its own settings and does one thing.

Gradient methods (Liao et al. 2018; SPEC section 7.1), for a map h = F(h) with fixed point h*
and J = ∂F/∂h at h*, where the gradient needs z = (I − Jᵀ)⁻¹ g with g = dL/dh*:

- :class:`BPTT`: back-propagation through every forward step (memory grows with the steps).
- :class:`TBPTT`: through the last ``truncation`` steps only.
- :class:`RBP` (Almeida 1987; Pineda 1987): iterate z ← Jᵀz + g from z = g until the change is
  below ``tolerance`` (or ``max_iterations``); unstable when J has eigenvalues of modulus ≥ 1.
- :class:`CGRBP`: conjugate gradient on the normal equations (I − J)(I − Jᵀ) z = (I − J) g,
  which converges whenever I − J is nonsingular.
- :class:`NeumannRBP`: the truncated Neumann series z = Σ_{k<K} (Jᵀ)^k g; equal to TBPTT with K
  steps when the forward pass has converged (Liao et al., Proposition 3).

Forward solvers: :class:`FixedPointIteration` (h ← F(h)) and :class:`Anderson` (Anderson
acceleration).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Literal, get_args

import torch
from torch import Tensor

from inertia.implicit._adjoint import (
    FixedPointStats,
    FixedPointWarning,
    attach_adjoint,
    relative,
    retained_vjp,
)
from inertia.linalg import conjugate_gradient

__all__ = [
    "BPTT",
    "CGRBP",
    "GRADIENT_METHODS",
    "RBP",
    "TBPTT",
    "Anderson",
    "FixedPointIteration",
    "ForwardSolver",
    "GradientMethod",
    "ImplicitGradient",
    "NeumannRBP",
    "Pass",
    "Recurrence",
    "make_gradient",
    "relative",
]

Map = Callable[[Tensor], Tensor]


def _at_least_one(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Pass:
    """A forward pass as a gradient method ran it.

    Attributes:
        output: the returned state, with the graph the method needs.
        before: the state before the last application of Φ (detached).
        steps: applications of Φ (for an implicit method, those before its last one).
        residual: the relative size of the last tracked step where the method measured it, or
            the forward solver's last test; NaN where nothing was measured.
        implicit: ``output`` = Φ(``before``) with the gradient arriving at it replaced by an
            adjoint solve (the RBP methods); otherwise back-propagation goes through the
            tracked steps.
    """

    output: Tensor
    before: Tensor
    steps: int
    residual: float
    implicit: bool


class Recurrence(ABC):
    """What a gradient method differentiates: h_{t+1} = Φ_t(h_t) for t = 0, ..., ``length`` − 1
    (:class:`~inertia.implicit.FixedPoint`: Φ_t = F at every t, for up to its solver's
    ``max_steps``; :class:`~inertia.implicit.Unrolled`: T step-dependent maps).

    Attributes:
        length: the steps of a whole pass.
        settled: the steps run without a graph before an implicit method's one tracked
            application (FixedPoint: the whole solve; Unrolled: T − 1).
        early_stop: back-propagation through every step stops tracking once a step's relative
            size is below it (0: never).
        warn, statistics: as the layer's arguments.
        who: the layer's name, for warnings.
    """

    length: int
    settled: int
    early_stop: float
    warn: bool
    statistics: bool
    who: str

    @property
    @abstractmethod
    def stats(self) -> FixedPointStats:
        """The layer's statistics now, where an adjoint solve records its products and
        residual when the backward pass runs."""

    @abstractmethod
    def run(self, h: Tensor, start: int, stop: int) -> tuple[Tensor, int, float]:
        """Steps ``start`` to ``stop`` − 1 without a graph: (the state, the applications of Φ
        made, which a solver's tolerance may make fewer, and the residual of its last test, NaN
        where none)."""

    @abstractmethod
    def step(self, h: Tensor, t: int) -> Tensor:
        """Φ_t(h), with a graph."""


def unroll(recurrence: Recurrence, h0: Tensor, tracked: int, *, stop_early: bool) -> Pass:
    """The truncated unroll that BPTT and TBPTT share: the first ``length − tracked`` steps
    without a graph, the last ``tracked`` with one; with ``stop_early``, tracking ends at the
    first step whose relative size is below the recurrence's ``early_stop``."""
    untracked = max(recurrence.length - tracked, 0)
    h, steps, residual = h0, 0, math.nan
    if untracked:
        h, steps, _ = recurrence.run(h0, 0, untracked)
    before = h
    test = stop_early and recurrence.early_stop > 0
    for t in range(untracked, untracked + tracked):
        before = h
        h = recurrence.step(h, t)
        steps += 1
        if test:
            residual = relative(h.detach() - before.detach(), h.detach())
            if residual < recurrence.early_stop:
                break
    return Pass(h, before.detach(), steps, residual, implicit=False)


class GradientMethod(ABC):
    """How a fixed point (or an unrolled process) is differentiated: :meth:`differentiate` runs
    the forward pass of a :class:`Recurrence` and builds the graph that gives its gradient.

    Attributes:
        name: the method's name in configurations (:data:`GRADIENT_METHODS`).
        unrolls: back-propagates through plain forward steps (so it needs a forward solver
            whose steps are applications of Φ, not Anderson's mixtures).
    """

    name: ClassVar[str]
    unrolls: ClassVar[bool]

    @abstractmethod
    def differentiate(self, recurrence: Recurrence, h0: Tensor) -> Pass:
        """The forward pass of ``recurrence`` from ``h0``, differentiable by this method."""


@dataclasses.dataclass(frozen=True)
class BPTT(GradientMethod):
    """Back-propagation through every step (stopping where a FixedPoint's forward tolerance is
    met)."""

    name: ClassVar[str] = "bptt"
    unrolls: ClassVar[bool] = True

    def differentiate(self, recurrence: Recurrence, h0: Tensor) -> Pass:
        return unroll(recurrence, h0, recurrence.length, stop_early=True)


@dataclasses.dataclass(frozen=True)
class TBPTT(GradientMethod):
    """Back-propagation through the last ``truncation`` steps (K)."""

    name: ClassVar[str] = "tbptt"
    unrolls: ClassVar[bool] = True
    truncation: int = 20

    def __post_init__(self) -> None:
        _at_least_one("truncation", self.truncation)

    def differentiate(self, recurrence: Recurrence, h0: Tensor) -> Pass:
        return unroll(recurrence, h0, min(self.truncation, recurrence.length), stop_early=False)


@dataclasses.dataclass(frozen=True)
class AdjointSolution:
    """z with (I − Jᵀ) z ≈ g, the products it took, and whether the method's own stopping rule
    was met."""

    z: Tensor
    steps: int
    solved: bool


class ImplicitGradient(GradientMethod):
    """A recurrent back-propagation method: solves the adjoint equation (I − Jᵀ) z = g at the
    fixed point instead of back-propagating through the forward steps. Only the last
    application of Φ keeps a graph, so memory does not grow with the steps."""

    unrolls: ClassVar[bool] = False

    def differentiate(self, recurrence: Recurrence, h0: Tensor) -> Pass:
        before, steps, residual = recurrence.run(h0, 0, recurrence.settled)
        state = before.detach().requires_grad_(True)
        image = recurrence.step(state, recurrence.settled)  # the graph to w, x and args
        if not image.requires_grad:
            return Pass(image, before, steps, residual, implicit=True)

        def solve(transpose: Map, g: Tensor) -> Tensor:
            z, products, backward_residual = _solve_adjoint(
                self, transpose, image, state, g, warn=recurrence.warn, who=recurrence.who,
                statistics=recurrence.statistics,
            )  # fmt: skip
            recurrence.stats.backward_steps = products
            recurrence.stats.backward_residual = backward_residual
            return z

        output = attach_adjoint(image, state, solve)
        return Pass(output, before, steps, residual, implicit=True)

    @abstractmethod
    def solve(self, transpose: Map, forward: Callable[[], Map], g: Tensor) -> AdjointSolution:
        """z for the cotangent ``g``; ``transpose(v)`` is Jᵀv, ``forward()`` builds v ↦ Jv
        (only CG-RBP needs it)."""


def _solve_adjoint(
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


@dataclasses.dataclass(frozen=True)
class _IterativeSolve(ImplicitGradient):
    """An adjoint solve that iterates until a relative ``tolerance`` (0: always
    ``max_iterations``)."""

    max_iterations: int = 20
    tolerance: float = 1e-5

    def __post_init__(self) -> None:
        _at_least_one("max_iterations", self.max_iterations)
        _non_negative("tolerance", self.tolerance)


@dataclasses.dataclass(frozen=True)
class RBP(_IterativeSolve):
    """z ← Jᵀz + g from z = g, until the relative change is below ``tolerance`` (0: always
    ``max_iterations``)."""

    name: ClassVar[str] = "rbp"

    def solve(self, transpose: Map, forward: Callable[[], Map], g: Tensor) -> AdjointSolution:
        z, solved, steps = g.clone(), self.tolerance == 0, 0
        for _ in range(self.max_iterations):
            nxt = transpose(z) + g
            steps += 1
            if self.tolerance == 0:  # no test, so no host synchronization per iteration
                z = nxt
                continue
            change = relative(nxt - z, nxt)
            z = nxt
            if not math.isfinite(change):
                break
            if change < self.tolerance:
                solved = True
                break
        return AdjointSolution(z, steps, solved)


@dataclasses.dataclass(frozen=True)
class CGRBP(_IterativeSolve):
    """Conjugate gradient (:func:`inertia.linalg.conjugate_gradient`) on the normal equations
    (I − J)(I − Jᵀ) z = (I − J) g, started at z = g (the Neumann series' first term), until
    the relative residual is below ``tolerance`` (0: always ``max_iterations``)."""

    name: ClassVar[str] = "cg_rbp"

    def solve(self, transpose: Map, forward: Callable[[], Map], g: Tensor) -> AdjointSolution:
        jacobian = forward()

        def normal(v: Tensor) -> Tensor:
            w = v - transpose(v)
            return w - jacobian(w)

        result = conjugate_gradient(
            normal, g - jacobian(g), g, max_iterations=self.max_iterations, tolerance=0.0,
            residual_tolerance=self.tolerance,
        )  # fmt: skip
        solved = self.tolerance == 0 or result.converged
        return AdjointSolution(result.solution, result.iterations, solved)


@dataclasses.dataclass(frozen=True)
class NeumannRBP(ImplicitGradient):
    """z = Σ_{k<K} (Jᵀ)^k g with K = ``truncation`` terms (K − 1 products)."""

    name: ClassVar[str] = "neumann_rbp"
    truncation: int = 20

    def __post_init__(self) -> None:
        _at_least_one("truncation", self.truncation)

    def solve(self, transpose: Map, forward: Callable[[], Map], g: Tensor) -> AdjointSolution:
        term, z = g, g.clone()
        for _ in range(self.truncation - 1):
            term = transpose(term)
            z = z + term
        return AdjointSolution(z, self.truncation - 1, True)


GradientName = Literal["bptt", "tbptt", "rbp", "cg_rbp", "neumann_rbp"]
GRADIENT_METHODS: tuple[str, ...] = get_args(GradientName)
_BY_NAME: dict[str, Callable[[int, float], GradientMethod]] = {
    "bptt": lambda truncation, tolerance: BPTT(),
    "tbptt": lambda truncation, tolerance: TBPTT(truncation),
    "rbp": lambda truncation, tolerance: RBP(truncation, tolerance),
    "cg_rbp": lambda truncation, tolerance: CGRBP(truncation, tolerance),
    "neumann_rbp": lambda truncation, tolerance: NeumannRBP(truncation),
}


def make_gradient(name: str, truncation: int = 20, tolerance: float = 1e-5) -> GradientMethod:
    """The method ``name`` (one of :data:`GRADIENT_METHODS`) with Liao et al.'s single K:
    TBPTT's and Neumann-RBP's ``truncation``, RBP's and CG-RBP's ``max_iterations`` (with their
    ``tolerance``)."""
    if name not in _BY_NAME:
        raise ValueError(f"gradient must be one of {GRADIENT_METHODS}, got {name!r}")
    return _BY_NAME[name](truncation, tolerance)


class ForwardSolver(ABC):
    """Finds h with F(h) = h from a starting state.

    Attributes:
        plain_steps: each step is one application of F (so BPTT and TBPTT can back-propagate
            through the same steps); Anderson's mixtures are not.
    """

    max_steps: int
    tolerance: float
    plain_steps: ClassVar[bool]

    @abstractmethod
    def solve(
        self, update: Map, h0: Tensor, max_steps: int | None = None
    ) -> tuple[Tensor, int, float]:
        """(h, applications of F, relative residual of the last step) after at most
        ``max_steps`` applications (the solver's own ``max_steps`` unless given: a truncated
        unroll solves only the steps before its tracked ones)."""


@dataclasses.dataclass(frozen=True)
class FixedPointIteration(ForwardSolver):
    """Plain iteration h ← F(h) for ``max_steps`` steps, or until the relative change
    ‖F(h) − h‖ / ‖F(h)‖ is below ``tolerance`` (0: always ``max_steps``), tested every
    ``check_every`` steps (each test reads a norm back: a host synchronization on a GPU). With
    ``tolerance`` 0 nothing is tested and the returned residual is NaN."""

    max_steps: int = 100
    tolerance: float = 1e-5
    check_every: int = 1
    plain_steps: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _at_least_one("max_steps", self.max_steps)
        _non_negative("tolerance", self.tolerance)
        _at_least_one("check_every", self.check_every)

    def solve(
        self, update: Map, h0: Tensor, max_steps: int | None = None
    ) -> tuple[Tensor, int, float]:
        max_steps = self.max_steps if max_steps is None else max_steps
        h = h0
        if self.tolerance == 0:
            for _ in range(max_steps):
                h = update(h)
            return h, max_steps, math.nan
        residual = math.inf
        for step in range(1, max_steps + 1):
            nxt = update(h)
            if step % self.check_every == 0 or step == max_steps:
                residual = relative(nxt - h, nxt)
                if residual < self.tolerance:
                    return nxt, step, residual
            h = nxt
        return h, max_steps, residual


@dataclasses.dataclass(frozen=True)
class Anderson(ForwardSolver):
    """Anderson acceleration (type II) of h ← F(h), over the whole state as one vector:
    h_{k+1} = Σ_i α_i (β F(h_i) + (1 − β) h_i) over the last ``memory`` iterates, with α the
    least-squares combination (Σα = 1) of their residuals F(h_i) − h_i (β = ``mixing``)."""

    max_steps: int = 100
    tolerance: float = 1e-5
    plain_steps: ClassVar[bool] = False
    memory: int = 5
    regularization: float = 1e-8
    mixing: float = 1.0

    def __post_init__(self) -> None:
        _at_least_one("max_steps", self.max_steps)
        _at_least_one("memory", self.memory)
        _non_negative("tolerance", self.tolerance)

    def solve(
        self, update: Map, h0: Tensor, max_steps: int | None = None
    ) -> tuple[Tensor, int, float]:
        max_steps = self.max_steps if max_steps is None else max_steps
        shape = h0.shape
        states: list[Tensor] = [h0.reshape(-1)]
        images: list[Tensor] = [update(h0).reshape(-1)]
        residual = relative(images[0] - states[0], images[0])
        h = images[0]
        steps = 1
        while steps < max_steps and not (self.tolerance > 0 and residual < self.tolerance):
            count = len(states)
            residuals = torch.stack([f - x for f, x in zip(images, states, strict=True)])
            gram = residuals @ residuals.T
            scale = self.regularization * gram.diagonal().mean().clamp_min(1e-30)
            gram = gram + scale * torch.eye(count, dtype=gram.dtype, device=gram.device)
            ones = torch.ones(count, 1, dtype=gram.dtype, device=gram.device)
            try:
                weights = torch.linalg.solve(gram, ones).squeeze(1)
                weights = weights / weights.sum()
            except RuntimeError:  # singular: fall back to the plain step
                weights = torch.zeros(count, dtype=gram.dtype, device=gram.device)
                weights[-1] = 1.0
            mixed = self.mixing * torch.stack(images) + (1 - self.mixing) * torch.stack(states)
            h = weights @ mixed
            image = update(h.view(shape)).reshape(-1)
            steps += 1
            residual = relative(image - h, image)
            states.append(h)
            images.append(image)
            if len(states) > self.memory:
                states.pop(0)
                images.pop(0)
        return h.view(shape), steps, residual
