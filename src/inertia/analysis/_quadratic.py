r"""CM and NAG on quadratics: Sutskever et al. (2013), section 2.2 and Theorem 2 (appendix A.1).

On :math:`q(x) = \tfrac12 x^\top A x + b^\top x` both methods act independently on each
eigen-direction of A. For an eigenvalue λ with eigenvector u, the error
:math:`c_t = u^\top(θ_t - x^*)` and the velocity component :math:`w_t = u^\top v_t` obey
:math:`(c_{t+1}, w_{t+1}) = M (c_t, w_t)` with

.. math::
    M_{CM} = \begin{pmatrix} 1 - ελ & μ \\ -ελ & μ \end{pmatrix}, \qquad
    M_{NAG} = \begin{pmatrix} 1 - ελ & μ(1 - ελ) \\ -ελ & μ(1 - ελ) \end{pmatrix},

so NAG is CM with the effective momentum μ(1 − ελ) on that direction (Theorem 2): the two agree
where ελ is small, and NAG damps the high-curvature directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from inertia.optim import CM, NAG

__all__ = [
    "QuadraticTrajectory",
    "cm_iteration_matrix",
    "convergence_rate",
    "nag_effective_momentum",
    "nag_iteration_matrix",
    "run_on_quadratic",
]


def _as_tensor(value: Tensor | float) -> Tensor:
    return torch.as_tensor(value, dtype=torch.float64)


def cm_iteration_matrix(curvature: Tensor | float, lr: float, momentum: float) -> Tensor:
    """CM's 2x2 iteration matrix on (error, velocity) for each curvature λ.

    Args:
        curvature: eigenvalue(s) λ of A, any shape ``S``.
        lr: ε.
        momentum: μ.

    Returns:
        A float64 tensor of shape ``S + (2, 2)``.
    """
    step = lr * _as_tensor(curvature)
    mu = torch.full_like(step, float(momentum))
    return torch.stack(
        (torch.stack((1 - step, mu), dim=-1), torch.stack((-step, mu), dim=-1)), dim=-2
    )


def nag_effective_momentum(curvature: Tensor | float, lr: float, momentum: float) -> Tensor:
    """Theorem 2: NAG on eigen-direction λ is CM with momentum μ(1 − ελ)."""
    return momentum * (1 - lr * _as_tensor(curvature))


def nag_iteration_matrix(curvature: Tensor | float, lr: float, momentum: float) -> Tensor:
    """NAG's 2x2 iteration matrix on (error, velocity) for each curvature λ (shape ``S + (2, 2)``).

    Written from the NAG update itself, not from Theorem 2, so that the tests can check the theorem:
    v' = μ v − ελ(c + μ v) and c' = c + v'.
    """
    step = lr * _as_tensor(curvature)
    mu = float(momentum)
    velocity_row = torch.stack((-step, mu - step * mu), dim=-1)  # v' = -ελ c + μ(1 - ελ) v
    error_row = torch.stack((1 - step, mu - step * mu), dim=-1)  # c' = c + v'
    return torch.stack((error_row, velocity_row), dim=-2)


def convergence_rate(iteration_matrix: Tensor) -> Tensor:
    """Asymptotic rate per step: the spectral radius of each 2x2 iteration matrix."""
    return torch.linalg.eigvals(iteration_matrix).abs().amax(dim=-1)


@dataclass(frozen=True)
class QuadraticTrajectory:
    """Iterates on a quadratic: ``theta[t]`` and ``velocity[t]`` for t = 0..steps, and x*."""

    theta: Tensor
    velocity: Tensor
    minimizer: Tensor


def run_on_quadratic(
    method: str,
    A: Tensor,
    b: Tensor,
    x0: Tensor,
    lr: float,
    momentum: float,
    steps: int,
) -> QuadraticTrajectory:
    """Run :class:`inertia.optim.CM` or :class:`inertia.optim.NAG` on q(x) = x'Ax/2 + b'x.

    The real optimizer classes are used (gradients by autograd), and θ is read in eval mode, so
    the trajectory is what a user of the library gets.

    Args:
        method: ``"cm"`` or ``"nag"``.
        A: a symmetric positive definite ``(d, d)`` matrix.
        b: ``(d,)``.
        x0: the starting point θ_0.
        lr: ε.
        momentum: μ (constant).
        steps: number of updates.

    Returns:
        The float64 trajectory, with the minimizer x* = -A⁻¹b.
    """
    optimizers = {"cm": CM, "nag": NAG}
    if method not in optimizers:
        raise ValueError(f"method must be 'cm' or 'nag', got {method!r}")
    A, b = A.to(torch.float64), b.to(torch.float64)
    x = nn.Parameter(x0.to(torch.float64).clone())
    optimizer = optimizers[method]([x], lr=lr, momentum=momentum)
    thetas, velocities = [x.detach().clone()], [torch.zeros_like(x0, dtype=torch.float64)]
    for _ in range(steps):
        optimizer.zero_grad()
        (0.5 * x @ A @ x + b @ x).backward()
        optimizer.step()
        optimizer.eval()
        thetas.append(x.detach().clone())
        velocities.append(optimizer.state[x]["velocity"].clone())
        optimizer.train()
    return QuadraticTrajectory(
        theta=torch.stack(thetas),
        velocity=torch.stack(velocities),
        minimizer=torch.linalg.solve(A, -b),
    )
