"""HessianFree: Gauss-Newton products, CG, the update, structural damping, the preconditioner."""

from __future__ import annotations

import copy
import gc
import itertools
import warnings

import pytest
import torch
from torch import nn
from torch.func import functional_call

from inertia.linalg import conjugate_gradient
from inertia.optim import HessianFree, output_loss


def _network(outputs: int, generator: torch.Generator) -> nn.Sequential:
    network = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3), nn.Sigmoid(),
                            nn.Linear(3, outputs)).double()  # fmt: skip
    with torch.no_grad():
        for p in network.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64))
    return network


def _targets(kind: str, cases: int, outputs: int, generator: torch.Generator) -> torch.Tensor:
    if kind == "logistic-cross-entropy":
        return torch.rand(cases, outputs, generator=generator, dtype=torch.float64)
    if kind == "softmax-cross-entropy":
        return torch.randint(0, outputs, (cases,), generator=generator)
    return torch.randn(cases, outputs, generator=generator, dtype=torch.float64)


def _explicit_gauss_newton(network: nn.Module, inputs: torch.Tensor, kind: str) -> torch.Tensor:
    """G = Jᵀ H_L J built from the full Jacobian and the loss's Hessian in the outputs."""
    names = [name for name, _ in network.named_parameters()]
    shapes = [p.shape for p in network.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in network.parameters()])

    def outputs_of(vector: torch.Tensor) -> torch.Tensor:
        pieces = vector.split([s.numel() for s in shapes])
        params = {n: v.view(s) for n, v, s in zip(names, pieces, shapes, strict=True)}
        return functional_call(network, params, (inputs,)).reshape(-1)

    jacobian = torch.autograd.functional.jacobian(outputs_of, flat)  # (cases·outputs, params)
    outputs = outputs_of(flat).detach()
    cases = inputs.shape[0]
    targets = _targets(kind, cases, outputs.numel() // cases, torch.Generator().manual_seed(9))

    def loss_of_outputs(o: torch.Tensor) -> torch.Tensor:
        return output_loss(kind, o.view(cases, -1), targets)

    hessian = torch.autograd.functional.hessian(loss_of_outputs, outputs)
    return jacobian.T @ hessian @ jacobian


@pytest.mark.parametrize(
    "kind", ["logistic-cross-entropy", "softmax-cross-entropy", "squared-error"]
)
def test_gauss_newton_products_equal_the_explicit_matrix(kind):
    generator = torch.Generator().manual_seed(0)
    network = _network(3, generator)
    inputs = torch.randn(6, 4, generator=generator, dtype=torch.float64)
    targets = _targets(kind, 6, 3, torch.Generator().manual_seed(9))
    optimizer = HessianFree(network.parameters(), loss=kind, preconditioner="none")
    operator = optimizer.gauss_newton_operator((network(inputs), targets))
    explicit = _explicit_gauss_newton(network, inputs, kind)
    for _ in range(3):
        vector = torch.randn(explicit.shape[0], generator=generator, dtype=torch.float64)
        torch.testing.assert_close(operator(vector), explicit @ vector)
    # G is symmetric positive semi-definite for matching losses.
    assert torch.linalg.eigvalsh(explicit).min() > -1e-10


def test_structural_damping_term_is_the_gauss_newton_matrix_of_the_hidden_distance():
    generator = torch.Generator().manual_seed(1)
    rnn = nn.RNN(2, 4, batch_first=True).double()
    readout = nn.Linear(4, 1).double()
    params = [*rnn.parameters(), *readout.parameters()]
    inputs = torch.randn(3, 5, 2, generator=generator, dtype=torch.float64)
    targets = torch.randn(3, 1, generator=generator, dtype=torch.float64)

    def forward() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden, _ = rnn(inputs)
        return readout(hidden[:, -1]), targets, hidden

    optimizer = HessianFree(params, loss="squared-error", preconditioner="none")
    plain = optimizer.gauss_newton_operator(forward())
    damped = optimizer.gauss_newton_operator(forward(), structural=0.7)

    # J_h: the Jacobian of all hidden states with respect to all parameters.
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    sizes = [p.numel() for p in params]

    def hidden_of(vector: torch.Tensor) -> torch.Tensor:
        pieces = [v.view(p.shape) for v, p in zip(vector.split(sizes), params, strict=True)]
        names = [n for n, _ in rnn.named_parameters()]
        hidden, _ = functional_call(rnn, dict(zip(names, pieces[: len(names)])), (inputs,))
        return hidden.reshape(-1)

    jacobian = torch.autograd.functional.jacobian(hidden_of, flat)
    structural = 0.7 * jacobian.T @ jacobian / inputs.shape[0]
    vector = torch.randn(flat.numel(), generator=generator, dtype=torch.float64)
    torch.testing.assert_close(damped(vector) - plain(vector), structural @ vector)


def test_structural_damping_needs_hidden_states():
    layer = nn.Linear(2, 1)
    optimizer = HessianFree(layer.parameters(), loss="squared-error", structural_damping=0.3)
    inputs, targets = torch.randn(4, 2), torch.randn(4, 1)
    with pytest.raises(ValueError, match="hidden"):
        optimizer.step(lambda: (layer(inputs), targets))


@pytest.mark.parametrize("preconditioned", [False, True])
def test_conjugate_gradient_solves_random_spd_systems(preconditioned):
    generator = torch.Generator().manual_seed(2)
    n = 30
    basis = torch.randn(n, n, generator=generator, dtype=torch.float64)
    matrix = basis @ basis.T + 0.1 * torch.eye(n, dtype=torch.float64)
    b = torch.randn(n, generator=generator, dtype=torch.float64)
    result = conjugate_gradient(
        lambda v: matrix @ v, b,
        preconditioner=matrix.diagonal().clone() if preconditioned else None,
        max_iterations=200, tolerance=0.0,
    )  # fmt: skip
    torch.testing.assert_close(result.solution, torch.linalg.solve(matrix, b))
    assert result.residual_norm < 1e-8
    # φ(x) = ½xᵀAx − bᵀx is reported for the last iterate.
    x = result.solution
    assert result.objective == pytest.approx(float(0.5 * x @ matrix @ x - b @ x), rel=1e-8)
    # The saved iterates are at ⌈1.3^j⌉ and end with the last one.
    iterations = [i for i, _ in result.saved]
    assert iterations[:6] == [1, 2, 3, 4, 5, 7]
    assert iterations[-1] == result.iterations


def test_conjugate_gradient_stops_by_relative_progress():
    # A spectrum over 8 orders of magnitude whose low-curvature directions hardly matter to φ
    # (φ* = −Σ b_i²/(2λ_i) = −Σ λ_i/2): the progress rule stops CG long before n.
    n = 400
    eigenvalues = torch.logspace(-6, 2, n, dtype=torch.float64)
    b = eigenvalues.clone()
    stopped = conjugate_gradient(lambda v: eigenvalues * v, b, max_iterations=n, tolerance=5e-4)
    full = conjugate_gradient(lambda v: eigenvalues * v, b, max_iterations=n, tolerance=0.0)
    assert 10 < stopped.iterations < full.iterations
    # ... having made nearly all the progress the full run makes on φ.
    assert full.objective <= stopped.objective < 0.99 * full.objective


def test_one_step_on_a_convex_quadratic_lands_at_the_minimum():
    # Linear least squares: the Gauss-Newton matrix is the exact Hessian, so one undamped
    # Newton step (CG run to convergence) reaches the minimizer.
    generator = torch.Generator().manual_seed(3)
    inputs = torch.randn(50, 6, generator=generator, dtype=torch.float64)
    targets = torch.randn(50, 2, generator=generator, dtype=torch.float64)
    for preconditioner in ("none", "martens"):
        layer = nn.Linear(6, 2).double()
        optimizer = HessianFree(
            layer.parameters(), loss="squared-error", damping=0.0, cg_tolerance=0.0,
            cg_max_iterations=100, preconditioner=preconditioner, adapt_damping=False,
        )  # fmt: skip
        optimizer.step(lambda layer=layer: (layer(inputs), targets))
        design = torch.cat([inputs, torch.ones(50, 1, dtype=torch.float64)], dim=1)
        solution = torch.linalg.lstsq(design, targets).solution
        torch.testing.assert_close(layer.weight.detach(), solution[:6].T)
        torch.testing.assert_close(layer.bias.detach(), solution[6])


def test_martens_preconditioner_is_the_empirical_fisher_diagonal():
    generator = torch.Generator().manual_seed(4)
    network = _network(3, generator)
    inputs = torch.randn(7, 4, generator=generator, dtype=torch.float64)
    targets = _targets("logistic-cross-entropy", 7, 3, generator)
    optimizer = HessianFree(network.parameters(), loss="logistic-cross-entropy")
    recorded: dict[str, torch.Tensor] = {}
    original = conjugate_gradient

    def spy(*args, **kwargs):
        recorded["preconditioner"] = kwargs["preconditioner"]
        return original(*args, **kwargs)

    import inertia.optim._hessian_free as module

    module.conjugate_gradient = spy  # type: ignore[assignment]
    try:
        optimizer.step(lambda: (network(inputs), targets))
    finally:
        module.conjugate_gradient = original  # type: ignore[assignment]
    # Recompute at the starting point: the per-case gradients by a loop over cases.
    network_at_start = _network(3, torch.Generator().manual_seed(4))
    squares = None
    for case in range(7):
        network_at_start.zero_grad()
        case_loss = output_loss("logistic-cross-entropy", network_at_start(inputs[case : case + 1]),
                                targets[case : case + 1])  # fmt: skip
        case_loss.backward()
        flat = torch.cat([p.grad.reshape(-1) for p in network_at_start.parameters()])
        squares = flat.pow(2) if squares is None else squares + flat.pow(2)
    assert squares is not None
    expected = (squares / 7 + 1.0).pow(0.75)  # damping 1.0 initially
    torch.testing.assert_close(recorded["preconditioner"], expected)


def _logistic_problem(seed: int):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(200, 10, generator=generator)
    labels = (inputs @ torch.randn(10, 3, generator=generator)).argmax(dim=1)
    network = nn.Sequential(nn.Linear(10, 20), nn.Sigmoid(), nn.Linear(20, 3))
    return network, inputs, labels


def test_hessian_free_trains_a_classifier_and_adapts_damping():
    network, inputs, labels = _logistic_problem(5)
    optimizer = HessianFree(network.parameters(), loss="softmax-cross-entropy", damping=1.0)
    losses = [float(optimizer.step(lambda: (network(inputs), labels))) for _ in range(15)]
    assert losses[-1] < 0.3 * losses[0]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(losses))  # line search: monotone
    assert optimizer.param_groups[0]["damping"] != 1.0
    assert optimizer.last_step["cg_iterations"] >= 1


def test_curvature_batch_may_differ_from_gradient_batch():
    network, inputs, labels = _logistic_problem(6)
    optimizer = HessianFree(network.parameters(), loss="softmax-cross-entropy")
    for _ in range(5):
        loss = optimizer.step(
            lambda: (network(inputs), labels), lambda: (network(inputs[:50]), labels[:50])
        )
    assert float(loss) < 1.0


def _live_tensors() -> int:
    gc.collect()
    with warnings.catch_warnings():  # asking every object whether it is a tensor touches
        warnings.simplefilter("ignore", FutureWarning)  # torch.distributed's deprecated names
        return sum(1 for thing in gc.get_objects() if isinstance(thing, torch.Tensor))


@pytest.mark.parametrize("curvature", [False, True])
def test_nothing_of_an_update_outlives_the_network_and_its_optimizer(curvature):
    """Issue 35: the graphs kept for the Gauss-Newton products made reference cycles in C++
    that Python's collector cannot see, so every update leaked its batch, activations and graph;
    a sweep worker running HF runs one after another grew past 16 GB and was killed. Once the
    network and the optimizer are gone, no tensor of theirs may stay alive."""

    def train() -> None:
        network, inputs, labels = _logistic_problem(7)
        optimizer = HessianFree(network.parameters(), loss="softmax-cross-entropy",
                                cg_max_iterations=5)  # fmt: skip
        curvature_closure = (lambda: (network(inputs[:50]), labels[:50])) if curvature else None
        for _ in range(3):
            optimizer.step(lambda: (network(inputs), labels), curvature_closure)

    train()  # anything created once per process (caches) is created here
    before = _live_tensors()
    for _ in range(3):
        train()
    assert _live_tensors() == before


def test_momentum_like_variant_runs_few_cg_iterations_without_line_search():
    network, inputs, labels = _logistic_problem(7)
    optimizer = HessianFree(
        network.parameters(), loss="softmax-cross-entropy", cg_max_iterations=3,
        cg_decay=0.99, line_search=False, lr=0.5,
    )  # fmt: skip
    first = float(optimizer.step(lambda: (network(inputs), labels)))
    for _ in range(10):
        optimizer.step(lambda: (network(inputs), labels))
    assert optimizer.last_step["cg_iterations"] <= 3
    assert optimizer.last_step["lr"] == 0.5
    assert float(optimizer.step(lambda: (network(inputs), labels))) < first


def test_state_dict_round_trip_continues_the_same_trajectory():
    network, inputs, labels = _logistic_problem(8)
    optimizer = HessianFree(network.parameters(), loss="softmax-cross-entropy")
    for _ in range(3):
        optimizer.step(lambda: (network(inputs), labels))
    saved_model = {k: v.clone() for k, v in network.state_dict().items()}
    saved = copy.deepcopy(optimizer.state_dict())  # torch's state_dict holds live references
    optimizer.step(lambda: (network(inputs), labels))
    expected = [p.detach().clone() for p in network.parameters()]

    clone, _, _ = _logistic_problem(8)
    clone.load_state_dict(saved_model)
    restored = HessianFree(clone.parameters(), loss="softmax-cross-entropy")
    assert restored.updates == 0
    restored.load_state_dict(saved)
    assert (restored.updates, optimizer.updates) == (3, 4)
    assert restored.param_groups[0]["damping"] == saved["param_groups"][0]["damping"]
    restored.step(lambda: (clone(inputs), labels))
    for a, b in zip(clone.parameters(), expected, strict=True):
        torch.testing.assert_close(a.detach(), b)


def test_cg_decay_written_into_the_param_group_drives_the_warm_start():
    """A schedule writes ``cg_decay`` before each step, as torch schedulers write ``lr``: with 0
    the warm start is dropped (CG starts from zero), so the trajectory differs from 0.99's."""
    runs = []
    for decays in ([0.99] * 4, [0.99, 0.99, 0.0, 0.0]):
        network, inputs, labels = _logistic_problem(9)
        optimizer = HessianFree(
            network.parameters(), loss="softmax-cross-entropy", cg_max_iterations=3,
            line_search=False, lr=0.5,
        )  # fmt: skip
        for decay in decays:
            optimizer.param_groups[0]["cg_decay"] = decay
            optimizer.step(lambda: (network(inputs), labels))  # noqa: B023
            assert optimizer.last_step["cg_decay"] == decay
        runs.append(torch.cat([p.detach().reshape(-1) for p in network.parameters()]))
    assert not torch.allclose(runs[0], runs[1])


def test_bad_input_gets_clear_errors():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="loss must be one of"):
        HessianFree(layer.parameters(), loss="hinge")
    with pytest.raises(ValueError, match="cg_decay"):
        HessianFree(layer.parameters(), loss="squared-error", cg_decay=1.5)
    with pytest.raises(ValueError, match="one parameter group"):
        HessianFree([{"params": [layer.weight]}, {"params": [layer.bias]}], loss="squared-error")
    optimizer = HessianFree(layer.parameters(), loss="squared-error")
    with pytest.raises(TypeError, match=r"\(outputs, targets\)"):
        optimizer.step(lambda: layer(torch.randn(4, 3)))
    rnn = nn.RNN(3, 2, batch_first=True)
    recurrent = HessianFree(rnn.parameters(), loss="squared-error")
    with pytest.raises(ValueError, match="preconditioner='none'"):
        recurrent.step(lambda: (rnn(torch.randn(4, 5, 3))[0][:, -1], torch.randn(4, 2)))


@pytest.mark.parametrize("line_search", [False, True])
def test_a_step_to_a_non_finite_objective_is_rejected(line_search):
    layer = nn.Linear(3, 1)
    inputs, targets = torch.randn(8, 3), torch.randn(8, 1)
    before = [p.detach().clone() for p in layer.parameters()]

    def closure():
        outputs = layer(inputs)
        if not torch.is_grad_enabled():  # the trial points: the objective is NaN there
            outputs = outputs * float("nan")
        return outputs, targets

    optimizer = HessianFree(layer.parameters(), loss="squared-error", line_search=line_search)
    optimizer.step(closure)
    for p, q in zip(layer.parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), q)
    assert optimizer.last_step["lr"] == 0.0
    assert optimizer.param_groups[0]["damping"] == 1.5


def test_settings_are_one_typed_object_and_keywords_override_it():
    """Issue 37: HessianFree's settings are a HessianFreeSettings (checked on creation); the
    keywords of earlier versions still work, over it; an unknown one is refused by name."""
    from inertia.optim import HessianFreeSettings

    model = nn.Linear(3, 2)
    settings = HessianFreeSettings(cg_max_iterations=7, damping=3.0)
    by_object = HessianFree(model.parameters(), "squared-error", settings)
    by_keywords = HessianFree(model.parameters(), "squared-error", cg_max_iterations=7, damping=3.0)
    assert by_object.param_groups[0].keys() == by_keywords.param_groups[0].keys()
    for key, value in by_keywords.param_groups[0].items():
        if key != "params":
            assert by_object.param_groups[0][key] == value, key
    over = HessianFree(model.parameters(), "squared-error", settings, damping=0.5)
    assert (over.param_groups[0]["damping"], over.param_groups[0]["cg_max_iterations"]) == (0.5, 7)
    with pytest.raises(ValueError, match=r"cg_decay must be in \[0, 1\], got 1.5"):
        HessianFreeSettings(cg_decay=1.5)
    with pytest.raises(TypeError, match="no setting 'cg_iters'"):
        HessianFree(model.parameters(), "squared-error", cg_iters=5)


@pytest.mark.parametrize("line_search", [True, False])
@pytest.mark.parametrize("preconditioner", ["martens", "none"])
def test_an_update_counts_every_objective_value_and_product_in_its_cost(
    line_search, preconditioner
):
    """Issue 35: HF against first-order methods at an equal cost. Every call of the gradient
    closure after the first is an objective value (CG backtracking and the line search alike),
    the curvature closure runs once, and the cost in gradient cases adds each part at its
    measured cost per case."""
    import inertia.optim._hessian_free as module

    network, inputs, labels = _logistic_problem(6)
    # lr 30 makes the line search shrink the step several times
    optimizer = HessianFree(network.parameters(), loss="softmax-cross-entropy", lr=30.0,
                            line_search=line_search, preconditioner=preconditioner,
                            cg_max_iterations=12)  # fmt: skip
    calls = {"gradient": 0, "curvature": 0}

    def closure(name: str, cases: int):
        def run():
            calls[name] += 1
            return network(inputs[:cases]), labels[:cases]

        return run

    rates = []
    for _ in range(3):
        calls.update(gradient=0, curvature=0)
        optimizer.step(closure("gradient", 200), closure("curvature", 50))
        step = optimizer.last_step
        assert calls["curvature"] == 1
        assert step["evaluations"] == calls["gradient"] - 1
        assert step["gauss_newton_products"] == step["cg_iterations"] + 1
        fisher = module.FISHER_COST if preconditioner == "martens" else 0.0
        expected = (200 * (1 + fisher) + 50 * module.OPERATOR_COST
                    + step["gauss_newton_products"] * 50 * module.GAUSS_NEWTON_COST
                    + step["evaluations"] * 200 * module.EVALUATION_COST)  # fmt: skip
        assert step["gradient_cases"] == pytest.approx(expected)
        rates.append(step["lr"])
    if line_search:  # the line search's objective values are among those counted
        assert min(rates) < 30.0 * 0.8**3


def _first_step(rho_batch: str) -> tuple[dict, dict, dict, int]:
    """One HF update of the seeded logistic problem with curvature on its first 50 of 200
    cases: (last_step, objective before, after, by cases, curvature closure calls)."""
    torch.manual_seed(0)
    network, inputs, labels = _logistic_problem(7)
    optimizer = HessianFree(
        network.parameters(), loss="softmax-cross-entropy", rho_batch=rho_batch,
        line_search=False, cg_max_iterations=5,
    )  # fmt: skip
    calls = []

    def objective(cases: int) -> float:
        with torch.no_grad():
            return float(output_loss("softmax-cross-entropy", network(inputs[:cases]),
                                     labels[:cases]))  # fmt: skip

    def curvature():
        calls.append(1)
        return network(inputs[:50]), labels[:50]

    before = {cases: objective(cases) for cases in (200, 50)}
    optimizer.step(lambda: (network(inputs), labels), curvature)
    after = {cases: objective(cases) for cases in (200, 50)}
    return optimizer.last_step, before, after, len(calls)


def test_rho_on_the_curvature_batch_as_martens_code_measures_it():
    """``rho_batch="curvature"``: ρ's actual reduction f(θ + d) − f(θ) is measured on the
    curvature batch (nnet_train_2.m's targetchunk), with two more objective values there, each
    counted in the cost; the default keeps the gradient batch's values. Both runs take the same
    first step, so they share ρ's denominator."""
    import inertia.optim._hessian_free as module

    gradient_step, before, after, calls = _first_step("gradient")
    assert calls == 1
    predicted = (after[200] - before[200]) / gradient_step["reduction_ratio"]
    assert predicted < 0
    step, before, after, calls = _first_step("curvature")
    assert calls == 3
    assert step["reduction_ratio"] == pytest.approx((after[50] - before[50]) / predicted)
    assert step["reduction_ratio"] != pytest.approx(gradient_step["reduction_ratio"])
    assert step["evaluations"] == gradient_step["evaluations"] + 2
    expected_cost = (200 * (1 + module.FISHER_COST) + 50 * module.OPERATOR_COST
                     + step["gauss_newton_products"] * 50 * module.GAUSS_NEWTON_COST
                     + gradient_step["evaluations"] * 200 * module.EVALUATION_COST
                     + 2 * 50 * module.EVALUATION_COST)  # fmt: skip
    assert step["gradient_cases"] == pytest.approx(expected_cost)
    with pytest.raises(ValueError, match="rho_batch"):
        HessianFree(_network(3, torch.Generator()).parameters(), loss="squared-error",
                    rho_batch="test")  # fmt: skip
