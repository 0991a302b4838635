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
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import torch
from torch import Tensor

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
    "make_gradient",
    "relative",
]

Map = Callable[[Tensor], Tensor]


def relative(difference: Tensor, reference: Tensor) -> float:
    """‖difference‖ / max(‖reference‖, 1e-12)."""
    return float(difference.detach().norm() / reference.detach().norm().clamp_min(1e-12))


def _at_least_one(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


class GradientMethod(ABC):
    """How a fixed point (or an unrolled process) is differentiated."""

    name: ClassVar[str]


@dataclasses.dataclass(frozen=True)
class BPTT(GradientMethod):
    """Back-propagation through every step."""

    name: ClassVar[str] = "bptt"


@dataclasses.dataclass(frozen=True)
class TBPTT(GradientMethod):
    """Back-propagation through the last ``truncation`` steps (K)."""

    name: ClassVar[str] = "tbptt"
    truncation: int = 20

    def __post_init__(self) -> None:
        _at_least_one("truncation", self.truncation)


@dataclasses.dataclass(frozen=True)
class AdjointSolution:
    """z with (I − Jᵀ) z ≈ g, the products it took, and whether the method's own stopping rule
    was met."""

    z: Tensor
    steps: int
    solved: bool


class ImplicitGradient(GradientMethod):
    """A recurrent back-propagation method: solves the adjoint equation (I − Jᵀ) z = g at the
    fixed point instead of back-propagating through the forward steps."""

    @abstractmethod
    def solve(self, transpose: Map, forward: Callable[[], Map], g: Tensor) -> AdjointSolution:
        """z for the cotangent ``g``; ``transpose(v)`` is Jᵀv, ``forward()`` builds v ↦ Jv
        (only CG-RBP needs it)."""


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


GRADIENT_METHODS: tuple[str, ...] = ("bptt", "tbptt", "rbp", "cg_rbp", "neumann_rbp")
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
    """Finds h with F(h) = h from a starting state."""

    max_steps: int
    tolerance: float

    @abstractmethod
    def solve(self, update: Map, h0: Tensor, max_steps: int) -> tuple[Tensor, int, float]:
        """(h, applications of F, relative residual of the last step) after at most
        ``max_steps`` applications."""


@dataclasses.dataclass(frozen=True)
class FixedPointIteration(ForwardSolver):
    """Plain iteration h ← F(h) for ``max_steps`` steps, or until the relative change
    ‖F(h) − h‖ / ‖F(h)‖ is below ``tolerance`` (0: always ``max_steps``), tested every
    ``check_every`` steps (each test reads a norm back: a host synchronization on a GPU). With
    ``tolerance`` 0 nothing is tested and the returned residual is NaN."""

    max_steps: int = 100
    tolerance: float = 1e-5
    check_every: int = 1

    def __post_init__(self) -> None:
        _at_least_one("max_steps", self.max_steps)
        _non_negative("tolerance", self.tolerance)
        _at_least_one("check_every", self.check_every)

    def solve(self, update: Map, h0: Tensor, max_steps: int) -> tuple[Tensor, int, float]:
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
    memory: int = 5
    regularization: float = 1e-8
    mixing: float = 1.0

    def __post_init__(self) -> None:
        _at_least_one("max_steps", self.max_steps)
        _at_least_one("memory", self.memory)
        _non_negative("tolerance", self.tolerance)

    def solve(self, update: Map, h0: Tensor, max_steps: int) -> tuple[Tensor, int, float]:
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
