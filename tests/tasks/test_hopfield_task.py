"""Task ``hopfield``: stored digits, corruption, the symmetric network and its training."""

from __future__ import annotations

import re

import pytest
import torch

from inertia.data import load_mnist
from inertia.experiments import ConfigError, RunConfig, train
from inertia.implicit import make_gradient
from inertia.nn import HopfieldNetwork
from inertia.tasks._hopfield import corrupt, stored_digits


def test_stored_digits_are_the_first_of_each_class_binarized(shared_data):
    images, labels = load_mnist("train", shared_data, download=False)
    digits = stored_digits(images, labels)
    assert digits.shape == (10, 784)
    assert set(digits.unique().tolist()) == {0.0, 1.0}
    official = stored_digits(images, labels, threshold=0.0)  # lrjconan/RBP: pixel > 0
    for digit in range(10):
        first = int(torch.nonzero(labels == digit)[0])
        torch.testing.assert_close(digits[digit], (images[first] > 0.5).float())
        torch.testing.assert_close(official[digit], (images[first] > 0).float())
    assert official.sum() > digits.sum()  # the faint edge pixels count as ink there


def test_corruption_switches_off_half_of_the_on_pixels():
    images = (torch.rand(5, 784, generator=torch.Generator().manual_seed(0)) > 0.7).float()
    corrupted = corrupt(images, 0.5, torch.Generator().manual_seed(1))
    assert torch.all(corrupted <= images)  # only on-pixels are switched off
    on = images.sum(dim=1)
    assert torch.equal(corrupted.sum(dim=1), on - torch.floor(0.5 * on))


@pytest.mark.parametrize(("variant", "scale"), [("official", 1.0), ("inertia-0.1", 0.5)])
def test_hopfield_weights_are_symmetric_without_self_loops(variant, scale):
    torch.manual_seed(0)
    network = HopfieldNetwork(inputs=6, hidden=5, outputs=6, init_std=0.1, variant=variant)
    weight = network.weight
    torch.testing.assert_close(weight, weight.T)
    assert torch.all(weight.diagonal() == 0)
    raw = network.raw_weight.detach()
    expected = scale * (raw + raw.T) * (1 - torch.eye(17))
    torch.testing.assert_close(weight.detach(), expected)  # official: R + Rᵀ, not halved
    x = torch.rand(3, 6)
    out = network(x)
    assert out.shape == (3, 6)
    with torch.no_grad():  # one update from h = 0 (a = 1): W_free · σ(b [x; 0]) or [x; σ(0)]
        free = network.weight[6:]
        clamped = torch.sigmoid(0.5 * x) if variant == "official" else x
        h = torch.cat([clamped, torch.full((3, 11), 0.5)], dim=1) @ free.T
        for _ in range(network.propagation.solver.max_steps - 1):
            h = torch.cat([clamped, torch.sigmoid(0.5 * h)], dim=1) @ free.T
        outputs = h[:, 5:] if variant == "official" else torch.sigmoid(0.5 * h[:, 5:])
    torch.testing.assert_close(out.detach(), outputs)


def test_gradient_methods_agree_on_a_small_contractive_hopfield_network():
    x = (torch.rand(2, 8, generator=torch.Generator().manual_seed(2)) > 0.5).double()
    target = (torch.rand(2, 8, generator=torch.Generator().manual_seed(3)) > 0.5).double()
    gradients = {}
    for method in ("bptt", "tbptt", "neumann_rbp", "cg_rbp"):
        torch.manual_seed(4)
        network = HopfieldNetwork(8, 6, 8, steps=60, gradient=make_gradient(method, 30, 0.0),
                                  init_std=0.05).double()  # fmt: skip
        (network(x) - target).abs().mean().backward()
        gradients[method] = network.raw_weight.grad
    for method in ("tbptt", "neumann_rbp", "cg_rbp"):
        torch.testing.assert_close(gradients[method], gradients["bptt"], rtol=1e-6, atol=1e-9)


def test_hopfield_runs_learn_to_recall(shared_data):
    config = RunConfig(
        task={"name": "hopfield", "gradient": "neumann_rbp", "hidden": 64, "steps": 20,
              "truncation": 10, "variant": "inertia-0.1"},
        optimizer={"name": "adam", "lr": 1e-3}, batch_size=1, steps=60, eval_every=60,
        checkpoint_every=0, data_dir=str(shared_data),
    )  # fmt: skip
    result = train(config)
    assert result.curve[0]["train_error"] == pytest.approx(0.5, abs=1e-4)  # σ(≈0) everywhere
    assert result.final["train_error"] < 0.2
    assert result.final["test_error"] < 0.2


def test_official_hopfield_trains_on_clean_digits_and_scores_binarized_recall(shared_data):
    images, labels = load_mnist("train", shared_data, download=False)
    ink = float(stored_digits(images, labels, threshold=0.0).mean())
    config = RunConfig(
        task={"name": "hopfield", "gradient": "neumann_rbp", "hidden": 64, "steps": 20,
              "truncation": 10},  # the official variant is the default
        optimizer={"name": "adam", "lr": 1e-4}, batch_size=1, steps=100, eval_every=100,
        checkpoint_every=0, data_dir=str(shared_data),
    )  # fmt: skip
    result = train(config)
    first, last = result.curve[0], result.final
    # Raw output states start near 0, binarized to 0 everywhere: the error is the ink fraction.
    assert first["train_error"] == pytest.approx(ink, abs=1e-6)
    assert first["test_error"] == pytest.approx(ink, abs=1e-6)
    assert last["train_loss"] < 0.8 * first["train_loss"]  # the raw L1 that training fits
    assert last["train_error"] < first["train_error"]
    assert last["test_error"] < first["test_error"]  # recall from half-erased digits


def test_bad_hopfield_options_name_the_value():
    with pytest.raises(ConfigError, match=re.escape("'task.corruption' must be < 1, got 1.0")):
        RunConfig(task={"name": "hopfield", "corruption": 1.0})
    with pytest.raises(ConfigError, match=re.escape("'task.steps' must be >= 1, got 0")):
        RunConfig(task={"name": "hopfield", "steps": 0})
