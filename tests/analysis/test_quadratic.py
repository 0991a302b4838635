from __future__ import annotations

import pytest
import torch

from inertia.analysis import (
    cm_iteration_matrix,
    convergence_rate,
    nag_effective_momentum,
    nag_iteration_matrix,
    plot_oblong_quadratic,
    run_on_quadratic,
)


def random_quadratic(seed: int, dim: int = 6):
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen, dtype=torch.float64))
    eigenvalues = torch.logspace(-2, 0, dim, dtype=torch.float64)
    A = q @ torch.diag(eigenvalues) @ q.T
    b = torch.randn(dim, generator=gen, dtype=torch.float64)
    x0 = torch.randn(dim, generator=gen, dtype=torch.float64)
    lr = float(torch.empty(1).uniform_(0.3, 1.0, generator=gen))
    mu = float(torch.empty(1).uniform_(0.5, 0.99, generator=gen))
    return A, b, x0, lr, mu


def per_direction(trajectory, A):
    eigenvalues, eigenvectors = torch.linalg.eigh(A)
    errors = (trajectory.theta - trajectory.minimizer) @ eigenvectors
    velocities = trajectory.velocity @ eigenvectors
    return eigenvalues, errors, velocities


def iterate(matrices, start, steps):
    """Apply each direction's 2x2 matrix ``steps`` times: returns (steps + 1, dim, 2)."""
    states = [start]
    for _ in range(steps):
        states.append((matrices @ states[-1].unsqueeze(-1)).squeeze(-1))
    return torch.stack(states)


@pytest.mark.parametrize("seed", range(5))
def test_theorem_2_nag_is_cm_with_effective_momentum_per_eigendirection(seed):
    A, b, x0, lr, mu = random_quadratic(seed)
    run = run_on_quadratic("nag", A, b, x0, lr, mu, steps=40)
    eigenvalues, errors, velocities = per_direction(run, A)
    # Each direction evolves on its own as CM with momentum μ(1 − ελ).
    effective = nag_effective_momentum(eigenvalues, lr, mu)
    matrices = torch.stack(
        [cm_iteration_matrix(lam, lr, m.item()) for lam, m in zip(eigenvalues, effective)]
    )
    predicted = iterate(matrices, torch.stack((errors[0], velocities[0]), dim=-1), 40)
    torch.testing.assert_close(predicted[..., 0], errors, rtol=0, atol=1e-10)
    torch.testing.assert_close(predicted[..., 1], velocities, rtol=0, atol=1e-10)
    assert errors[0].abs().max() > 0.1  # not a trivial start


@pytest.mark.parametrize("seed", range(3))
def test_cm_acts_independently_per_eigendirection(seed):
    A, b, x0, lr, mu = random_quadratic(seed)
    run = run_on_quadratic("cm", A, b, x0, lr, mu, steps=40)
    eigenvalues, errors, velocities = per_direction(run, A)
    predicted = iterate(
        cm_iteration_matrix(eigenvalues, lr, mu), torch.stack((errors[0], velocities[0]), -1), 40
    )
    torch.testing.assert_close(predicted[..., 0], errors, rtol=0, atol=1e-10)


def test_iteration_matrices_agree_with_theorem_2_on_a_grid():
    eps_lambda = torch.linspace(0.0, 1.9, 50, dtype=torch.float64)
    for mu in (0.0, 0.5, 0.9, 0.99):
        nag = nag_iteration_matrix(eps_lambda, 1.0, mu)
        cm_equivalent = torch.stack(
            [
                cm_iteration_matrix(x, 1.0, m.item())
                for x, m in zip(eps_lambda, nag_effective_momentum(eps_lambda, 1.0, mu))
            ]
        )
        torch.testing.assert_close(nag, cm_equivalent, rtol=0, atol=1e-15)


def test_convergence_rates():
    eps_lambda = torch.linspace(0.05, 1.0, 40, dtype=torch.float64)
    for mu in (0.9, 0.99):
        cm = convergence_rate(cm_iteration_matrix(eps_lambda, 1.0, mu))
        nag = convergence_rate(nag_iteration_matrix(eps_lambda, 1.0, mu))
        # Underdamped CM converges at sqrt(μ) whatever the curvature.
        underdamped = (1 + mu - eps_lambda) ** 2 < 4 * mu
        torch.testing.assert_close(cm[underdamped], torch.full_like(cm[underdamped], mu**0.5))
        # NAG damps high-curvature directions: never slower than CM here, much faster at ελ = 1.
        assert (nag <= cm + 1e-12).all()
        assert nag[-1] < 1e-6
    # Both agree where ελ is small.
    small = torch.tensor([1e-6], dtype=torch.float64)
    assert convergence_rate(cm_iteration_matrix(small, 1.0, 0.9)).item() == pytest.approx(
        convergence_rate(nag_iteration_matrix(small, 1.0, 0.9)).item(), abs=1e-6
    )


def test_oblong_quadratic_cm_oscillates_and_nag_does_not(tmp_path):
    A = torch.diag(torch.tensor([1.0, 0.02], dtype=torch.float64))
    b = torch.zeros(2, dtype=torch.float64)
    x0 = torch.tensor([0.5, 3.5], dtype=torch.float64)
    cm = run_on_quadratic("cm", A, b, x0, lr=0.9, momentum=0.95, steps=60)
    nag = run_on_quadratic("nag", A, b, x0, lr=0.9, momentum=0.95, steps=60)
    steep_cm, steep_nag = cm.theta[10:, 0].abs().max(), nag.theta[10:, 0].abs().max()
    assert steep_cm > 0.1
    assert steep_nag < 1e-3

    path = tmp_path / "figure.png"
    summary = plot_oblong_quadratic(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000
    assert summary["nag_rate"] < summary["cm_rate"] < 1.0
    assert summary["nag_final_error"] < summary["cm_final_error"]


def test_run_on_quadratic_rejects_unknown_method():
    with pytest.raises(ValueError, match="'adam'"):
        run_on_quadratic("adam", torch.eye(2), torch.zeros(2), torch.ones(2), 0.1, 0.9, 3)
