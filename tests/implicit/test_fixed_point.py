"""FixedPoint: every gradient method against the implicit-function-theorem gradient."""

from __future__ import annotations

import math
import warnings
from typing import ClassVar

import pytest
import torch
from torch import nn

from inertia.implicit import (
    BPTT,
    CGRBP,
    GRADIENT_METHODS,
    AdjointSolution,
    Anderson,
    FixedPoint,
    FixedPointIteration,
    FixedPointWarning,
    ImplicitGradient,
    NeumannRBP,
    Unrolled,
    make_gradient,
)


def layer_of(
    update, gradient: str = "rbp", truncation: int = 20, max_steps: int = 100,
    tolerance: float = 1e-5, anderson_memory: int = 0,
) -> FixedPoint:  # fmt: skip
    """A FixedPoint with Liao et al.'s single K and one tolerance for both passes."""
    solver = (
        Anderson(max_steps, tolerance, memory=anderson_memory)
        if anderson_memory
        else FixedPointIteration(max_steps, tolerance)
    )
    return FixedPoint(
        update, make_gradient(gradient, truncation, tolerance), solver, statistics=True
    )


class _Contractive(nn.Module):
    """F(h, x) = tanh(W h + U x + b) with ‖W‖₂ = 0.8: a contraction, so the fixed point is
    unique and plain iteration converges."""

    def __init__(self, size: int = 5, inputs: int = 3, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        weight = torch.randn(size, size, generator=generator, dtype=torch.float64)
        self.weight = nn.Parameter(0.8 * weight / torch.linalg.matrix_norm(weight, ord=2))
        self.input_weight = nn.Parameter(
            torch.randn(size, inputs, generator=generator, dtype=torch.float64)
        )
        self.bias = nn.Parameter(0.1 * torch.randn(size, generator=generator, dtype=torch.float64))

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(h @ self.weight.T + x @ self.input_weight.T + self.bias)


def _problem(seed: int = 0):
    update = _Contractive(seed=seed)
    generator = torch.Generator().manual_seed(seed + 10)
    x = torch.randn(2, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    readout = torch.randn(2, 5, generator=generator, dtype=torch.float64)
    return update, x, readout


def _gradients(layer: FixedPoint, update: nn.Module, x: torch.Tensor, readout: torch.Tensor):
    for p in update.parameters():
        p.grad = None
    x.grad = None
    h = layer(x, torch.zeros(2, 5, dtype=torch.float64))
    (h * readout).sum().backward()
    return [p.grad.clone() for p in update.parameters()] + [x.grad.clone()]


def _exact(update: nn.Module, x: torch.Tensor, readout: torch.Tensor):
    """dL/dw = (∂F/∂w)ᵀ (I − Jᵀ)⁻¹ g with the Jacobian J formed explicitly, per case."""
    with torch.no_grad():
        h = torch.zeros(2, 5, dtype=torch.float64)
        for _ in range(500):
            h = update(h, x)
    zs = []
    for case in range(2):
        jacobian = torch.func.jacrev(lambda s, c=case: update(s, x[c].detach()))(h[case])
        jacobian = jacobian.detach()  # z is a constant of the final backward
        zs.append(torch.linalg.solve(torch.eye(5, dtype=torch.float64) - jacobian.T, readout[case]))
    z = torch.stack(zs)
    for p in update.parameters():
        p.grad = None
    x.grad = None
    (update(h, x) * z).sum().backward()
    return [p.grad.clone() for p in update.parameters()] + [x.grad.clone()]


def _error(got, expected) -> float:
    return max(float((a - b).norm() / b.norm()) for a, b in zip(got, expected, strict=True))


@pytest.mark.filterwarnings("ignore::inertia.implicit.FixedPointWarning")  # small K misses
@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_every_method_tends_to_the_implicit_gradient_as_k_grows(method):
    update, x, readout = _problem()
    exact = _exact(update, x, readout)
    errors = []
    for truncation in (2, 5, 60):
        layer = layer_of(update, method, truncation, max_steps=200, tolerance=1e-12)
        errors.append(_error(_gradients(layer, update, x, readout), exact))
        assert layer.stats.converged
    assert errors[-1] < 1e-7
    if method in ("tbptt", "neumann_rbp"):  # truncation is their approximation
        assert errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize("truncation", [1, 3, 7])
def test_neumann_rbp_equals_tbptt_when_the_forward_has_converged(truncation):
    update, x, readout = _problem(seed=1)
    common = {"truncation": truncation, "max_steps": 300, "tolerance": 1e-13}
    neumann = _gradients(layer_of(update, "neumann_rbp", **common), update, x, readout)
    tbptt = _gradients(layer_of(update, "tbptt", **common), update, x, readout)
    for a, b in zip(neumann, tbptt, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)


def _unstable_linear_map():
    """F(h, x) = A h + x with an eigenvalue 1.3 of A: the fixed point h* = (I − A)⁻¹x exists,
    plain iteration and RBP diverge, Anderson (forward) and CG-RBP (backward) do not."""
    generator = torch.Generator().manual_seed(3)
    basis = torch.randn(4, 4, generator=generator, dtype=torch.float64)
    eigenvalues = torch.tensor([1.3, 0.5, -0.4, 0.2], dtype=torch.float64)
    matrix = nn.Parameter(basis @ torch.diag(eigenvalues) @ torch.linalg.inv(basis))
    x = torch.randn(1, 4, generator=generator, dtype=torch.float64)
    readout = torch.randn(1, 4, generator=generator, dtype=torch.float64)
    return matrix, x, readout


def test_rbp_diverges_beyond_spectral_radius_one_and_cg_rbp_does_not():
    matrix, x, readout = _unstable_linear_map()
    identity = torch.eye(4, dtype=torch.float64)
    h_star = torch.linalg.solve(identity - matrix.detach(), x[0])
    z = torch.linalg.solve(identity - matrix.detach().T, readout[0])
    exact = torch.outer(z, h_star)  # dL/dA = z h*ᵀ

    def run(gradient: str) -> tuple[torch.Tensor, FixedPoint]:
        settings = {"truncation": 60, "max_steps": 50, "tolerance": 1e-12}
        layer = layer_of(lambda h, inp: h @ matrix.T + inp, gradient, **settings,
                         anderson_memory=6)  # fmt: skip
        matrix.grad = None
        h = layer(x, torch.zeros(1, 4, dtype=torch.float64))
        torch.testing.assert_close(h[0], h_star)  # Anderson found the fixed point
        (h * readout).sum().backward()
        return matrix.grad.clone(), layer

    with pytest.warns(FixedPointWarning, match="rbp backward solve did not converge"):
        diverged, layer = run("rbp")
    assert layer.stats.backward_residual > 1e3
    assert float((diverged - exact).norm() / exact.norm()) > 1e3

    with warnings.catch_warnings():
        warnings.simplefilter("error", FixedPointWarning)
        solved, layer = run("cg_rbp")
    torch.testing.assert_close(solved, exact)
    assert layer.stats.backward_residual < 1e-8
    # Plain iteration does not even find the forward fixed point.
    with pytest.warns(FixedPointWarning, match="forward pass did not converge"):
        layer_of(lambda h, inp: h @ matrix.T + inp, "rbp", max_steps=50)(
            x, torch.zeros(1, 4, dtype=torch.float64)
        )


def test_anderson_solves_a_contraction_in_fewer_steps_than_iteration():
    update, x, _ = _problem(seed=2)
    with torch.no_grad():
        plain = layer_of(update, "rbp", max_steps=500, tolerance=1e-10)
        accelerated = layer_of(update, "rbp", max_steps=500, tolerance=1e-10, anderson_memory=5)
        h0 = torch.zeros(2, 5, dtype=torch.float64)
        torch.testing.assert_close(plain(x, h0), accelerated(x, h0))
    assert accelerated.stats.forward_steps < plain.stats.forward_steps
    _, steps, residual = Anderson(500, 1e-10).solve(lambda h: update(h, x.detach()), h0, 500)
    assert residual < 1e-10
    assert steps == accelerated.stats.forward_steps


def test_statistics_and_non_convergence_are_reported():
    update, x, readout = _problem()
    layer = layer_of(update, "rbp", max_steps=3, tolerance=1e-10)
    with pytest.warns(FixedPointWarning, match="did not converge in 3 steps"):
        h = layer(x, torch.zeros(2, 5, dtype=torch.float64))
    assert not layer.stats.converged
    assert layer.stats.forward_steps == 3
    assert layer.stats.forward_residual > 1e-10
    quiet = layer_of(update, "rbp", truncation=100, max_steps=200, tolerance=1e-10)
    h = quiet(x, torch.zeros(2, 5, dtype=torch.float64))
    (h * readout).sum().backward()
    assert quiet.stats.backward_steps > 1
    assert quiet.stats.backward_residual < 1e-8


def test_bad_settings_are_refused_with_the_value():
    update, _, _ = _problem()
    with pytest.raises(ValueError, match="gradient must be one of"):
        FixedPoint(update, gradient="adjoint")
    with pytest.raises(ValueError, match="use FixedPointIteration"):
        FixedPoint(update, gradient=BPTT(), solver=Anderson())
    with pytest.raises(ValueError, match="truncation must be an integer >= 1, got 0"):
        NeumannRBP(truncation=0)
    with pytest.raises(ValueError, match="tolerance must be >= 0, got -1"):
        CGRBP(tolerance=-1)
    with pytest.raises(TypeError, match="GradientMethod"):
        FixedPoint(update, gradient=3)  # type: ignore[arg-type]


def test_the_map_takes_further_arguments_and_they_get_gradients():
    """F(h, x, *args): a tensor argument (here a scale) receives its gradient through every
    method, equal to finite differences."""
    update, x, readout = _problem()
    scale = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)

    def scaled(h, inp, factor):
        return update(h, inp) * factor

    def loss(layer: FixedPoint, value: float) -> float:
        factor = torch.tensor(value, dtype=torch.float64)
        return float((layer(x, torch.zeros(2, 5, dtype=torch.float64), factor) * readout).sum())

    for method in GRADIENT_METHODS:
        layer = layer_of(scaled, method, truncation=200, max_steps=300, tolerance=1e-13)
        scale.grad = None
        h = layer(x, torch.zeros(2, 5, dtype=torch.float64), scale)
        (h * readout).sum().backward()
        with torch.no_grad():
            numeric = (loss(layer, 0.7 + 1e-6) - loss(layer, 0.7 - 1e-6)) / 2e-6
        assert float(scale.grad) == pytest.approx(numeric, rel=1e-5), method


class _Counted(torch.autograd.Function):
    """The identity on h that counts F's applications (forward) and Jᵀ products (backward)."""

    calls: ClassVar[dict[str, int]] = {"forward": 0, "backward": 0}

    @staticmethod
    def forward(ctx, h):  # type: ignore[no-untyped-def]
        _Counted.calls["forward"] += 1
        return h.view_as(h)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[no-untyped-def]
        _Counted.calls["backward"] += 1
        return grad


@pytest.mark.parametrize("statistics", [False, True])
def test_without_statistics_no_extra_application_or_product(statistics):
    """Issue 19: with tolerance 0 the forward pass is K applications of F and Neumann-RBP's
    backward K − 1 Jᵀ products, as in a bare loop and a hand-written series; statistics cost
    one more application (no-grad) and one more product (the adjoint residual)."""
    update, x, readout = _problem()

    def counted(h, inputs):  # type: ignore[no-untyped-def]
        return update(_Counted.apply(h), inputs)

    solver = FixedPointIteration(max_steps=30, tolerance=0.0)
    layer = FixedPoint(counted, NeumannRBP(truncation=5), solver, statistics=statistics)
    h0 = torch.zeros(2, 5, dtype=torch.float64)
    _Counted.calls.update(forward=0, backward=0)
    with torch.no_grad():
        layer(x, h0)
    assert _Counted.calls["forward"] == 30 + statistics
    assert layer.stats.converged
    _Counted.calls.update(forward=0, backward=0)
    (layer(x, h0) * readout).sum().backward()
    assert _Counted.calls["forward"] == 30 + 1  # K steps, then F(h*) with its graph
    # 4 products for the series, 1 carrying z on to w and x, 1 more for the residual.
    assert _Counted.calls["backward"] == 4 + 1 + statistics
    assert math.isnan(layer.stats.backward_residual) != statistics
    assert math.isnan(layer.stats.forward_residual) != statistics


def _map_and_point(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(6, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    state = torch.randn(3, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    return torch.tanh(state @ weight.T), state, generator


@pytest.mark.parametrize("engine", [True, False], ids=["engine", "autograd.grad"])
def test_retained_vjp_equals_autograd_grad_many_times(monkeypatch, engine):
    from inertia.implicit import _adjoint

    if not engine:
        monkeypatch.setattr(_adjoint, "_RUN_BACKWARD", None)
    output, state, generator = _map_and_point()
    product = _adjoint.retained_vjp(output, state)
    for _ in range(3):  # the graph is kept between products
        v = torch.randn(3, 6, generator=generator, dtype=torch.float64)
        (expected,) = torch.autograd.grad(output, state, v, retain_graph=True)
        assert torch.equal(product(v), expected)


def test_retained_vjp_refuses_a_vector_of_another_shape():
    from inertia.implicit._adjoint import retained_vjp

    output, state, _ = _map_and_point()
    with pytest.raises(RuntimeError, match=r"v has shape \(6, 3\), the output \(3, 6\)"):
        retained_vjp(output, state)(torch.zeros(6, 3, dtype=torch.float64))


def test_retained_vjp_gives_tensor_subclasses_to_autograd_grad(monkeypatch):
    from inertia.implicit import _adjoint

    class Marked(torch.Tensor):
        pass

    def engine_must_not_run(*args):
        raise AssertionError("a tensor subclass reached the engine directly")

    monkeypatch.setattr(_adjoint, "_RUN_BACKWARD", engine_must_not_run)
    output, state, _ = _map_and_point()
    marked = output.as_subclass(Marked)
    v = torch.ones(3, 6, dtype=torch.float64)
    (expected,) = torch.autograd.grad(output, state, v, retain_graph=True)
    assert torch.equal(_adjoint.retained_vjp(marked, state)(v), expected)
    with pytest.raises(AssertionError, match="reached the engine"):  # plain tensors do
        _adjoint.retained_vjp(output, state)(v)


class _DenseAdjoint(ImplicitGradient):
    """A method the layers have never heard of: z = (I − Jᵀ)⁻¹ g with Jᵀ formed column by column
    from the products the layer hands over (exact, for small states)."""

    name = "dense"

    def solve(self, transpose, forward, g):
        flat = g.reshape(-1)
        columns = [
            transpose(basis.reshape(g.shape)).reshape(-1)
            for basis in torch.eye(flat.numel(), dtype=g.dtype)
        ]
        transposed = torch.stack(columns, dim=1)
        identity = torch.eye(flat.numel(), dtype=g.dtype)
        z = torch.linalg.solve(identity - transposed, flat).reshape(g.shape)
        return AdjointSolution(z, flat.numel(), True)


def test_a_gradient_method_of_ones_own_differentiates_both_layers():
    """The method does the differentiation: FixedPoint and Unrolled run a method they do not
    know, and it gives the implicit-function-theorem gradient."""
    update, x, readout = _problem()
    layer = FixedPoint(update, _DenseAdjoint(), FixedPointIteration(500, 1e-14))
    assert _error(_gradients(layer, update, x, readout), _exact(update, x, readout)) < 1e-10
    assert layer.stats.backward_steps == 10  # one product per entry of the state

    steps = Unrolled(lambda h, t: update(h, x), steps=500, gradient=_DenseAdjoint())
    for p in update.parameters():
        p.grad = None
    x.grad = None
    (steps(torch.zeros(2, 5, dtype=torch.float64)) * readout).sum().backward()
    unrolled = [p.grad.clone() for p in update.parameters()] + [x.grad.clone()]
    assert _error(unrolled, _exact(update, x, readout)) < 1e-10
