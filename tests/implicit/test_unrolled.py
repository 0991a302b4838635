"""Unrolled: hypergradients through an inner optimizer, against closed forms and each other."""

from __future__ import annotations

import math

import pytest
import torch

from inertia.implicit import GRADIENT_METHODS, TBPTT, Unrolled, make_gradient

_D = torch.float64


def _ridge(seed: int = 0):
    """Inner problem: gradient descent on ½‖A w − b‖² + ½ e^λ ‖w‖² from w = 0, with λ the
    hyperparameter; meta-objective ‖w − c‖². Its fixed point w*(λ) = (AᵀA + e^λ I)⁻¹ Aᵀb."""
    generator = torch.Generator().manual_seed(seed)
    a = torch.randn(8, 4, generator=generator, dtype=_D)
    b = torch.randn(8, generator=generator, dtype=_D)
    c = torch.randn(4, generator=generator, dtype=_D)
    decay = torch.tensor(-1.0, dtype=_D, requires_grad=True)
    rate = 0.5 / float(torch.linalg.matrix_norm(a, ord=2) ** 2 + 1)

    def step(w: torch.Tensor, t: int) -> torch.Tensor:
        tracked = torch.is_grad_enabled()
        with torch.enable_grad():
            leaf = w if w.requires_grad else w.detach().requires_grad_(True)
            loss = 0.5 * ((a @ leaf - b) ** 2).sum() + 0.5 * decay.exp() * (leaf**2).sum()
            (gradient,) = torch.autograd.grad(loss, leaf, create_graph=tracked)
        return w - rate * gradient

    def exact() -> torch.Tensor:
        # d/dλ ‖w* − c‖² with dw*/dλ = −(AᵀA + e^λ I)⁻¹ e^λ w*.
        lam = decay.detach().exp()
        hessian = a.T @ a + lam * torch.eye(4, dtype=_D)
        w_star = torch.linalg.solve(hessian, a.T @ b)
        return 2 * (w_star - c) @ torch.linalg.solve(hessian, -lam * w_star)

    return step, decay, c, exact


def _hypergradient(unrolled: Unrolled, decay: torch.Tensor, c: torch.Tensor) -> float:
    decay.grad = None
    w = unrolled(torch.zeros(4, dtype=_D))
    ((w - c) ** 2).sum().backward()
    return float(decay.grad)


@pytest.mark.parametrize("gradient", GRADIENT_METHODS)
def test_every_method_reaches_the_implicit_hypergradient_after_converged_training(gradient):
    step, decay, c, exact = _ridge()
    method = make_gradient(gradient, truncation=1000, tolerance=1e-12)
    unrolled = Unrolled(step, steps=1000, gradient=method, tolerance=1e-12)
    value = _hypergradient(unrolled, decay, c)
    assert unrolled.stats.forward_residual < 1e-10  # the inner training has converged
    assert value == pytest.approx(float(exact()), rel=1e-6)


def test_bptt_is_the_exact_gradient_of_the_unrolled_objective_before_convergence():
    step, decay, c, _ = _ridge(seed=1)
    unrolled = Unrolled(step, steps=7, gradient="bptt")
    value = _hypergradient(unrolled, decay, c)

    def objective(lam: float) -> float:
        with torch.no_grad():
            decay.fill_(lam)
            w = unrolled(torch.zeros(4, dtype=_D))
            decay.fill_(-1.0)
        return float(((w - c) ** 2).sum())

    eps = 1e-6
    assert value == pytest.approx((objective(-1 + eps) - objective(-1 - eps)) / (2 * eps), rel=1e-6)


def test_tbptt_back_propagates_through_the_last_k_steps_only():
    step, decay, c, _ = _ridge(seed=2)
    unrolled = Unrolled(step, steps=9, gradient=TBPTT(truncation=3))
    value = _hypergradient(unrolled, decay, c)
    # By hand: six steps without a graph, then three with one.
    decay.grad = None
    w = torch.zeros(4, dtype=_D)
    with torch.no_grad():
        for t in range(6):
            w = step(w, t)
    for t in range(6, 9):
        w = step(w.requires_grad_(True) if t == 6 else w, t)
    ((w - c) ** 2).sum().backward()
    assert value == pytest.approx(float(decay.grad), rel=1e-12)
    full = _hypergradient(Unrolled(step, steps=9, gradient="bptt"), decay, c)
    assert abs(value - full) > 1e-3 * abs(full)  # the truncation matters this early


@pytest.mark.parametrize("k", [1, 4, 10])
def test_neumann_rbp_equals_tbptt_once_converged(k):
    step, decay, c, _ = _ridge(seed=3)
    tbptt = _hypergradient(Unrolled(step, steps=400, gradient=TBPTT(k)), decay, c)
    neumann = Unrolled(step, steps=400, gradient=make_gradient("neumann_rbp", k))
    assert _hypergradient(neumann, decay, c) == pytest.approx(tbptt, rel=1e-9)
    assert neumann.stats.backward_steps == k - 1


@pytest.mark.parametrize("gradient", ["rbp", "cg_rbp", "neumann_rbp", "tbptt"])
def test_graph_kept_for_the_tracked_steps_only(gradient):
    step, decay, c, _ = _ridge()
    tracked: list[int] = []

    def recording(w: torch.Tensor, t: int) -> torch.Tensor:
        if torch.is_grad_enabled():
            tracked.append(t)
        return step(w, t)

    _hypergradient(Unrolled(recording, steps=30, gradient=make_gradient(gradient, 5)), decay, c)
    assert tracked == (list(range(25, 30)) if gradient == "tbptt" else [29])


def test_no_grad_forward_keeps_no_graph_and_reports_the_last_step():
    step, _, _, _ = _ridge()
    unrolled = Unrolled(step, steps=5, gradient="bptt", statistics=True)
    with torch.no_grad():
        w = unrolled(torch.zeros(4, dtype=_D))
    assert not w.requires_grad
    assert unrolled.stats.forward_steps == 5
    assert unrolled.stats.forward_residual > 1e-3  # five steps are far from converged
    unrolled.statistics = False  # and without a tolerance, nothing is measured
    with torch.no_grad():
        unrolled(torch.zeros(4, dtype=_D))
    assert math.isnan(unrolled.stats.forward_residual)
    assert unrolled.stats.converged


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gradient": "adjoint"}, "gradient must be one of"),
        ({"steps": 0}, "steps must be an integer >= 1, got 0"),
        ({"tolerance": -1.0}, "tolerance must be >= 0, got -1.0"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    arguments = {"step": lambda w, t: w, "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        Unrolled(**arguments)
    with pytest.raises(ValueError, match=r"truncation must be an integer >= 1, got 2\.5"):
        TBPTT(truncation=2.5)  # type: ignore[arg-type]


def test_cg_rbp_solves_the_fixed_point_equation_exactly_which_is_not_the_unrolled_gradient():
    """Issue 17 (CG-RBP's runaway hypergradient): CG-RBP is not wrong about its own equation.
    Before the inner training converges it returns, to solver precision, the implicit formula
    (∂Φ/∂λ)ᵀ (I − Jᵀ)⁻¹ g evaluated at the last step, a different quantity from the gradient of
    the unrolled objective (BPTT, and TBPTT through all T steps). On the ridge problem
    J = I − ε H is symmetric; the normal equations square its condition number, which is why
    CG-RBP converges slowly on the ill-conditioned MNIST inner problem."""
    step, decay, c, _ = _ridge(seed=2)
    steps = 5
    cg = Unrolled(step, steps=steps, gradient=make_gradient("cg_rbp", 200, 1e-14))
    value = _hypergradient(cg, decay, c)
    with torch.no_grad():  # the implicit formula at w_{T−1}, densely
        w = torch.zeros(4, dtype=_D)
        for t in range(steps - 1):
            w = step(w, t)
        before, after = w, step(w, steps - 1)
    generator = torch.Generator().manual_seed(2)
    a = torch.randn(8, 4, generator=generator, dtype=_D)
    lam = decay.detach().exp()
    hessian = a.T @ a + lam * torch.eye(4, dtype=_D)
    rate = 0.5 / float(torch.linalg.matrix_norm(a, ord=2) ** 2 + 1)
    z = torch.linalg.solve(rate * hessian, 2 * (after - c))  # (I − Jᵀ) z = g, I − J = ε H
    implicit = float((-rate * lam * before) @ z)  # ∂Φ/∂λ = −ε e^λ w_{T−1}
    assert value == pytest.approx(implicit, rel=1e-8)
    unrolled = _hypergradient(Unrolled(step, steps=steps, gradient="bptt"), decay, c)
    neumann = _hypergradient(Unrolled(step, steps=steps, gradient=TBPTT(steps)), decay, c)
    assert abs(value - unrolled) > 0.5 * abs(unrolled)  # a different quantity, not a rounding
    assert neumann == pytest.approx(unrolled, rel=1e-12)  # K = T: the whole unrolled gradient
