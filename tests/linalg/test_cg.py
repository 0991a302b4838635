"""inertia.linalg.conjugate_gradient: the CG shared by Hessian-free and CG-RBP."""

from __future__ import annotations

import pytest
import torch

from inertia.linalg import conjugate_gradient


def _spd(n: int, seed: int, condition: float = 100.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    eigenvalues = torch.logspace(0, torch.log10(torch.tensor(condition)), n, dtype=torch.float64)
    return basis @ torch.diag(eigenvalues) @ basis.T


@pytest.mark.parametrize("shape", [(12,), (3, 4)])
def test_residual_tolerance_stops_at_the_requested_accuracy_for_any_shape(shape):
    matrix = _spd(12, seed=1)
    b = torch.randn(shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)

    def matvec(v: torch.Tensor) -> torch.Tensor:
        return (matrix @ v.reshape(-1)).reshape(shape)

    exact = torch.linalg.solve(matrix, b.reshape(-1)).reshape(shape)
    loose = conjugate_gradient(matvec, b, max_iterations=100, tolerance=0.0,
                               residual_tolerance=1e-3)  # fmt: skip
    tight = conjugate_gradient(matvec, b, max_iterations=100, tolerance=0.0,
                               residual_tolerance=1e-12)  # fmt: skip
    assert loose.converged
    assert tight.converged
    assert loose.residual_norm <= 1e-3 * float(b.norm())
    assert loose.iterations < tight.iterations <= 2 * 12  # n in exact arithmetic
    torch.testing.assert_close(tight.solution, exact, rtol=1e-9, atol=1e-10)
    assert tight.solution.shape == shape


def test_a_warm_start_at_the_solution_needs_no_iteration():
    matrix = _spd(6, seed=3)
    b = torch.randn(6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    exact = torch.linalg.solve(matrix, b)
    result = conjugate_gradient(lambda v: matrix @ v, b, exact, tolerance=0.0,
                                residual_tolerance=1e-8)  # fmt: skip
    assert (result.iterations, result.converged) == (0, True)


def test_not_converged_is_reported():
    matrix = _spd(30, seed=5, condition=1e6)
    b = torch.randn(30, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    result = conjugate_gradient(lambda v: matrix @ v, b, max_iterations=3, tolerance=0.0,
                                residual_tolerance=1e-10)  # fmt: skip
    assert result.iterations == 3
    assert not result.converged


def test_the_value_of_a_warm_start_is_the_quadratic_at_it():
    """φ(x0) = ½ x0ᵀ A x0 − bᵀ x0 at the starting point (0 from zero): the model value a
    decayed previous solution gives CG before any iteration (issue 35)."""
    matrix = _spd(8, seed=7)
    b = torch.randn(8, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    start = torch.randn(8, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    warm = conjugate_gradient(lambda v: matrix @ v, b, start, max_iterations=2)
    expected = 0.5 * float(start @ matrix @ start) - float(b @ start)
    assert warm.initial_objective == pytest.approx(expected, rel=1e-12)
    cold = conjugate_gradient(lambda v: matrix @ v, b, max_iterations=2)
    assert cold.initial_objective == 0.0
    assert warm.objective < warm.initial_objective  # CG descends on φ from there
