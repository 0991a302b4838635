"""Preconditioned linear conjugate gradient, matrix-free (``solve(matvec, b)``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["CGResult", "conjugate_gradient"]


@dataclass
class CGResult:
    """Attributes:
    solution: the last iterate x.
    iterations: CG iterations run.
    saved: ``(iteration, x)`` pairs saved for backtracking (Martens 2010, section 4.6: the
        iterates at ⌈γ^j⌉), the last iterate included.
    objective: φ(x) = ½ xᵀAx − bᵀx at the last iterate.
    residual_norm: ‖b − Ax‖ at the last iterate (‖M⁻¹...‖ not applied).
    converged: the relative residual ‖b − Ax‖ / ‖b‖ reached ``residual_tolerance`` (False
        when that tolerance is 0 or the run stopped for another reason).
    initial_objective: φ(x0) at the starting point (0 from zero): what a warm start is worth
        before any iteration (issue 35: Hessian-free's decayed previous solution).
    """

    solution: Tensor
    iterations: int
    saved: list[tuple[int, Tensor]]
    objective: float
    residual_norm: float
    converged: bool = False
    initial_objective: float = 0.0


def _dot(a: Tensor, b: Tensor) -> Tensor:
    return torch.dot(a.reshape(-1), b.reshape(-1))


def _save_points(max_iterations: int, factor: float) -> set[int]:
    """The iterations whose iterates CG backtracking may return to: ⌈γ^j⌉ (Martens 2010,
    section 4.6)."""
    points: set[int] = set()
    point = 1.0
    while point <= max_iterations:
        points.add(math.ceil(point))
        point *= factor
    return points


def _stalled(objectives: list[float], iteration: int, tolerance: float) -> bool:
    """Martens's relative-progress rule (2010, section 4.4): with k = max(10, ⌈0.1 i⌉), stop at
    iteration i > k when φ_i < 0 and (φ_i − φ_{i−k}) / φ_i < k · ``tolerance``."""
    k = max(10, math.ceil(0.1 * iteration))
    current = objectives[-1]
    if iteration <= k or current >= 0:
        return False
    return (current - objectives[-1 - k]) / current < k * tolerance


def conjugate_gradient(
    matvec: Callable[[Tensor], Tensor],
    b: Tensor,
    x0: Tensor | None = None,
    *,
    preconditioner: Tensor | None = None,
    max_iterations: int = 250,
    min_iterations: int = 1,
    tolerance: float = 5e-4,
    residual_tolerance: float = 0.0,
    save_factor: float = 1.3,
) -> CGResult:
    """Preconditioned linear CG on A x = b for symmetric positive-definite A (Martens 2010,
    Algorithm 2), i.e. minimization of φ(x) = ½ xᵀAx − bᵀx. ``b`` and x may have any shape (the
    inner products are over all entries).

    Stops after ``max_iterations``; when the residual vanishes or A shows non-positive
    curvature along a search direction; when ‖b − Ax‖ ≤ ``residual_tolerance`` · ‖b‖ (CG-RBP's
    rule; 0 disables it); or by Martens' relative-progress rule (section 4.4): at iteration
    i > k = max(10, ⌈0.1 i⌉) with φ_i < 0, when (φ_i − φ_{i−k}) / φ_i < k · ``tolerance``
    (Hessian-free's rule; 0 disables it).

    Args:
        matvec: v ↦ A v.
        b: the right-hand side.
        x0: the starting point (zero if None).
        preconditioner: the diagonal of M (CG runs on M⁻¹A); None = no preconditioning.
        max_iterations: the iteration limit.
        min_iterations: never stop by the progress rule before this many iterations.
        tolerance: the relative-progress tolerance.
        residual_tolerance: the relative-residual tolerance.
        save_factor: γ of the saved iterates ⌈γ^j⌉.
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
    if save_factor <= 1:
        raise ValueError(f"save_factor must be > 1, got {save_factor}")
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    residual = b - matvec(x) if x0 is not None else b.clone()
    preconditioned = residual / preconditioner if preconditioner is not None else residual
    direction = preconditioned.clone()
    rz = _dot(residual, preconditioned)
    progress_rule = tolerance > 0
    initial_objective = float(-0.5 * _dot(x, b + residual)) if x0 is not None else 0.0
    objectives = [initial_objective] if progress_rule else []
    target = residual_tolerance * float(b.norm()) if residual_tolerance > 0 else -1.0
    save_points = _save_points(max_iterations, save_factor)
    saved: list[tuple[int, Tensor]] = []
    iteration = 0
    converged = False
    while iteration < max_iterations:
        if target >= 0 and float(residual.norm()) <= target:
            converged = True
            break
        if float(rz) <= 0.0 or not math.isfinite(float(rz)):
            break
        product = matvec(direction)
        curvature = _dot(direction, product)
        if float(curvature) <= 0.0:  # A is not positive definite along this direction
            break
        alpha = rz / curvature
        x = x + alpha * direction
        residual = residual - alpha * product
        preconditioned = residual / preconditioner if preconditioner is not None else residual
        rz_next = _dot(residual, preconditioned)
        direction = preconditioned + (rz_next / rz) * direction
        rz = rz_next
        iteration += 1
        if iteration in save_points:
            saved.append((iteration, x))
        if progress_rule:
            objectives.append(float(-0.5 * _dot(x, b + residual)))
            if iteration >= min_iterations and _stalled(objectives, iteration, tolerance):
                break
    if not converged and target >= 0:
        converged = float(residual.norm()) <= target
    return _finished(x, b, residual, iteration, saved, objectives, converged, initial_objective)


def _finished(
    x: Tensor, b: Tensor, residual: Tensor, iteration: int, saved: list[tuple[int, Tensor]],
    objectives: list[float], converged: bool, initial_objective: float,
) -> CGResult:  # fmt: skip
    """The result, with the last iterate among the saved ones and φ at it."""
    if not saved or saved[-1][0] != iteration:
        saved.append((iteration, x))
    objective = objectives[-1] if objectives else float(-0.5 * _dot(x, b + residual))
    return CGResult(
        solution=x,
        iterations=iteration,
        saved=saved,
        objective=objective,
        residual_norm=float(residual.norm()),
        converged=converged,
        initial_objective=initial_objective,
    )
