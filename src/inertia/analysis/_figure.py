"""The CM-versus-NAG figure of Sutskever et al. (2013), section 2.2, drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path

import torch

from inertia.analysis._quadratic import (
    cm_iteration_matrix,
    convergence_rate,
    nag_iteration_matrix,
    run_on_quadratic,
)
from inertia.optim import CM, NAG, MomentumLike
from inertia.schedules import SutskeverMomentum

__all__ = ["plot_oblong_quadratic", "plot_quadratic_learning_curves"]


def plot_oblong_quadratic(
    path: str | Path,
    curvatures: tuple[float, float] = (1.0, 0.02),
    lr: float = 0.9,
    momentum: float = 0.95,
    steps: int = 60,
) -> dict[str, float]:
    """Draw CM and NAG, same μ and ε, on a 2-D oblong quadratic, and their rates versus ελ.

    Left: contours of q(x) = (λ₁x₁² + λ₂x₂²)/2 with both trajectories from the same start: CM
    oscillates across the steep direction, NAG does not. Right: the per-direction convergence rate
    (spectral radius of the iteration matrix) against ελ for the chosen μ.

    Args:
        path: where to write the PNG.
        curvatures: (steep, shallow) eigenvalues.
        lr: ε, shared by both methods.
        momentum: μ, shared by both methods.
        steps: number of updates drawn.

    Returns:
        The steep-direction rates ``{"cm_rate": ..., "nag_rate": ...}`` and the final distances
        to the minimum ``{"cm_final_error": ..., "nag_final_error": ...}``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    A = torch.diag(torch.tensor(curvatures, dtype=torch.float64))
    b = torch.zeros(2, dtype=torch.float64)
    x0 = torch.tensor([1.0, 1.0], dtype=torch.float64) * torch.tensor(
        [0.5 / curvatures[0] ** 0.5, 0.5 / curvatures[1] ** 0.5], dtype=torch.float64
    )
    runs = {m: run_on_quadratic(m, A, b, x0, lr, momentum, steps) for m in ("cm", "nag")}

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    extent = 1.15 * x0.abs()
    grid_x = torch.linspace(-extent[1].item(), extent[1].item(), 200, dtype=torch.float64)
    grid_y = torch.linspace(-extent[0].item(), extent[0].item(), 200, dtype=torch.float64)
    X, Y = torch.meshgrid(grid_x, grid_y, indexing="xy")
    Z = 0.5 * (curvatures[1] * X**2 + curvatures[0] * Y**2)
    left.contour(X.numpy(), Y.numpy(), Z.numpy(), levels=15, colors="0.8", linewidths=0.8)
    styles = {"cm": ("tab:red", "CM"), "nag": ("tab:blue", "NAG")}
    for method, run in runs.items():
        color, label = styles[method]
        # Shallow direction on the horizontal axis, steep direction on the vertical one.
        left.plot(run.theta[:, 1], run.theta[:, 0], "o-", color=color, ms=2.5, lw=1.2, label=label)
    left.plot([0], [0], "k*", ms=10)
    left.set_xlabel(f"shallow direction (λ = {curvatures[1]:g})")
    left.set_ylabel(f"steep direction (λ = {curvatures[0]:g})")
    left.set_title(f"{steps} updates, μ = {momentum:g}, ε = {lr:g}")
    left.legend()

    eps_lambda = torch.linspace(1e-4, 1.99, 400, dtype=torch.float64)
    for method, builder in (("cm", cm_iteration_matrix), ("nag", nag_iteration_matrix)):
        color, label = styles[method]
        rates = convergence_rate(builder(eps_lambda, 1.0, momentum))
        right.plot(eps_lambda, rates, color=color, label=label)
    right.axhline(1.0, color="0.5", lw=0.8, ls="--")
    for curvature in curvatures:
        right.axvline(lr * curvature, color="0.7", lw=0.8, ls=":")
    right.set_xlabel("ελ (step size times curvature)")
    right.set_ylabel("convergence rate per update (spectral radius)")
    right.set_title(f"Theorem 2: NAG is CM with μ(1 - ελ), μ = {momentum:g}")
    right.set_ylim(0, 1.3)
    right.legend()
    figure.suptitle("Classical momentum vs Nesterov's accelerated gradient on an oblong quadratic")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)

    steep = torch.tensor(curvatures[0], dtype=torch.float64)
    return {
        "cm_rate": convergence_rate(cm_iteration_matrix(steep, lr, momentum)).item(),
        "nag_rate": convergence_rate(nag_iteration_matrix(steep, lr, momentum)).item(),
        "cm_final_error": (runs["cm"].theta[-1] - runs["cm"].minimizer).norm().item(),
        "nag_final_error": (runs["nag"].theta[-1] - runs["nag"].minimizer).norm().item(),
    }


def plot_quadratic_learning_curves(
    path: str | Path,
    dim: int = 100,
    condition: float = 1e4,
    lr: float = 1.0,
    mu_max: float = 0.99,
    steps: int = 3000,
    seed: int = 0,
) -> dict[str, float]:
    """SGD, CM and NAG with the momentum schedule of eq. (3) on an ill-conditioned quadratic.

    The quadratic has eigenvalues log-spaced from 1/condition to 1 in a random basis; ε = lr is the
    same for all methods. Draws q(θ_t) - q(x*) against t (log scale) into ``path``.

    Returns:
        The final suboptimality of each method.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    eigenvalues = torch.logspace(-torch.log10(torch.tensor(condition)).item(), 0, dim)
    A = basis @ torch.diag(eigenvalues.to(torch.float64)) @ basis.T
    b = torch.randn(dim, generator=generator, dtype=torch.float64)
    x0 = torch.zeros(dim, dtype=torch.float64)
    minimizer = torch.linalg.solve(A, -b)

    runs: dict[str, tuple[str, MomentumLike]] = {
        "SGD (μ = 0)": ("cm", 0.0),
        f"CM, eq. (3) schedule, μ_max = {mu_max:g}": ("cm", SutskeverMomentum(mu_max, period=25)),
        f"NAG, eq. (3) schedule, μ_max = {mu_max:g}": ("nag", SutskeverMomentum(mu_max, period=25)),
    }
    figure, axis = plt.subplots(figsize=(7, 4.5))
    finals: dict[str, float] = {}
    for label, (method, momentum) in runs.items():
        x = torch.nn.Parameter(x0.clone())
        optimizer = (NAG if method == "nag" else CM)([x], lr=lr, momentum=momentum)
        gaps = []
        for _ in range(steps):
            optimizer.zero_grad()
            (0.5 * x @ A @ x + b @ x).backward()
            optimizer.step()
            optimizer.eval()
            with torch.no_grad():
                error = x - minimizer  # q(θ) - q(x*) = e'Ae/2, without cancellation
                gaps.append((0.5 * error @ A @ error).item())
            optimizer.train()
        finals[label] = gaps[-1]
        axis.semilogy(range(1, steps + 1), gaps, label=label)
    axis.set_xlabel("update t")
    axis.set_ylabel("q(θ_t) - q(x*)")
    axis.set_title(f"{dim}-D quadratic, condition number {condition:g}, ε = {lr:g}")
    axis.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return finals
