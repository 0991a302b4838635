"""Task ``hypergradient``: the split, Maclaurin et al.'s inner update, exact BPTT hypergradients,
and meta-training that lowers the meta-objective."""

from __future__ import annotations

import math
import re

import pytest
import torch

from inertia.data import load_mnist
from inertia.experiments import ConfigError, RunConfig, train
from inertia.tasks import HyperparameterOptimization
from inertia.tasks._hypergradient import HypergradientOptions

_SMALL = {"steps": 6, "batch": 50, "truncation": 3, "width": 8, "depth": 1, "train_cases": 500}


def _build(shared_data, method: str, **changes):
    options = HypergradientOptions(**{**_SMALL, "gradient": method, **changes})
    problem = HyperparameterOptimization().build(
        options, torch.Generator().manual_seed(0), str(shared_data)
    )
    return problem, problem.model.double()


def test_splits_follow_maclaurin_and_the_order_covers_epochs(shared_data):
    problem, model = _build(shared_data, "bptt")
    images, labels = load_mnist("train", shared_data, download=False)
    assert torch.equal(model.train_images, images[:500].double())
    assert torch.equal(model.train_labels, labels[:500])
    assert model.validation_images.shape == (59_500, 784)
    assert torch.equal(model.validation_labels, labels[500:])
    assert model.test_images.shape == (10_000, 784)
    assert model.order.shape == (5, 50)  # steps - 1 minibatches; the last step uses all 500
    epoch = model.order[:5].reshape(-1)  # 10 minibatches per epoch: no repeats within one
    assert len(set(epoch.tolist())) == 250
    problem.batches.start(0, torch.device("cpu"), torch.float64)
    assert problem.batches.next(1) == ("train", None)  # the objective's split, every time
    row = model("train")
    assert row.shape == (4,)
    assert float(row[1].detach()) == float(
        (model.network(model.trained_weights(), model.train_images).argmax(1) != model.train_labels)
        .double()
        .mean()
    )


def test_one_inner_step_is_sgd_with_momentum_in_maclaurins_form(shared_data):
    _, model = _build(shared_data, "bptt")
    with torch.no_grad():
        model.log_lr.copy_(torch.linspace(-2, -1, 4, dtype=torch.float64))
        model.momentum_logit.copy_(torch.linspace(-1, 1, 4, dtype=torch.float64))
    w0 = model.initial_weights
    v0 = 0.01 * torch.randn(w0.shape, generator=torch.Generator().manual_seed(1), dtype=w0.dtype)
    state = model._step(torch.cat([w0, v0]), 0)
    leaf = w0.clone().requires_grad_(True)
    batch = model.order[0]
    loss = torch.nn.functional.cross_entropy(
        model.network(leaf, model.train_images[batch]), model.train_labels[batch]
    )
    (gradient,) = torch.autograd.grad(loss, leaf)
    expected_w, expected_v = [], []
    offset = 0
    for k, size in enumerate(model.numels):
        part = slice(offset, offset + size)
        alpha, beta = math.exp(-2 + k / 3), 1 / (1 + math.exp(-(-1 + 2 * k / 3)))
        velocity = beta * v0[part] - (1 - beta) * gradient[part]
        expected_v.append(velocity)
        expected_w.append(w0[part] + alpha * velocity)
        offset += size
    torch.testing.assert_close(state, torch.cat(expected_w + expected_v), rtol=1e-10, atol=1e-12)


def test_bptt_hypergradient_matches_finite_differences(shared_data):
    _, model = _build(shared_data, "bptt")
    objective = "train"
    model(objective)[0].backward()
    analytic = torch.cat([model.log_lr.grad, model.momentum_logit.grad])

    def meta(index: int, delta: float) -> float:
        hyper = torch.cat([model.log_lr.data, model.momentum_logit.data])
        hyper[index] += delta
        with torch.no_grad():
            model.log_lr.copy_(hyper[:4])
            model.momentum_logit.copy_(hyper[4:])
            value = float(model(objective)[0])
            hyper[index] -= delta
            model.log_lr.copy_(hyper[:4])
            model.momentum_logit.copy_(hyper[4:])
        return value

    eps = 1e-5
    numeric = torch.tensor([(meta(i, eps) - meta(i, -eps)) / (2 * eps) for i in range(8)])
    torch.testing.assert_close(analytic, numeric.double(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("method", ["tbptt", "rbp", "cg_rbp", "neumann_rbp"])
def test_every_method_gives_a_finite_hypergradient_and_records_its_solve(shared_data, method):
    _, model = _build(shared_data, method)
    model.unrolled.statistics = True
    model("train")[0].backward()
    assert torch.isfinite(model.log_lr.grad).all()
    assert model.log_lr.grad.abs().sum() > 0
    stats = model.unrolled.stats
    assert stats.forward_steps == 6
    if method != "tbptt":
        assert stats.backward_steps >= 1
        assert math.isfinite(stats.backward_residual)


def test_meta_training_lowers_the_meta_objective(shared_data, tmp_path):
    config = RunConfig(
        task={"name": "hypergradient", "gradient": "bptt", **_SMALL},
        optimizer={"name": "adam", "lr": 0.05, "lr_decay_steps": [4]},
        batch_size=1, steps=6, eval_every=3, checkpoint_every=0, data_dir=str(shared_data),
    )  # fmt: skip
    result = train(config, tmp_path / "run")
    assert result.status == "completed"
    # The MNIST splits live in non-persistent buffers: checkpoints hold hyperparameters, the
    # initial weights and the minibatch order only.
    assert (tmp_path / "run" / "checkpoint.pt").stat().st_size < 1_000_000
    losses = [point["train_loss"] for point in result.curve]
    assert losses[-1] < losses[0] - 0.01
    assert result.final["train_mean_lr"] != pytest.approx(math.exp(-1))  # the lr moved
    assert 0 < result.final["test_error"] < 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": 0}, "config key 'task.steps' must be >= 1, got 0"),
        ({"train_cases": 60_000}, "config key 'task.train_cases' must be < 60000, got 60000"),
        ({"batch": 600}, "hypergradient option 'batch' (600) exceeds train_cases (500)"),
    ],
)
def test_bad_options_are_named(changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        RunConfig(task={"name": "hypergradient", **_SMALL, **changes})
