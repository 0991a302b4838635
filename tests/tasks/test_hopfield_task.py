"""Task ``hopfield``: stored digits, corruption, the symmetric network and its training."""

from __future__ import annotations

import re

import pytest
import torch

from inertia.data import load_mnist
from inertia.experiments import ConfigError, RunConfig, train
from inertia.nn import HopfieldNetwork
from inertia.tasks._hopfield import corrupt, stored_digits


def test_stored_digits_are_the_first_of_each_class_binarized(shared_data):
    images, labels = load_mnist("train", shared_data, download=False)
    digits = stored_digits(images, labels)
    assert digits.shape == (10, 784)
    assert set(digits.unique().tolist()) == {0.0, 1.0}
    for digit in range(10):
        first = int(torch.nonzero(labels == digit)[0])
        torch.testing.assert_close(digits[digit], (images[first] > 0.5).float())


def test_corruption_switches_off_half_of_the_on_pixels():
    images = (torch.rand(5, 784, generator=torch.Generator().manual_seed(0)) > 0.7).float()
    corrupted = corrupt(images, 0.5, torch.Generator().manual_seed(1))
    assert torch.all(corrupted <= images)  # only on-pixels are switched off
    on = images.sum(dim=1)
    assert torch.equal(corrupted.sum(dim=1), on - torch.floor(0.5 * on))


def test_hopfield_weights_are_symmetric_without_self_loops():
    torch.manual_seed(0)
    network = HopfieldNetwork(inputs=6, hidden=5, outputs=6, init_std=0.1)
    weight = network.weight
    torch.testing.assert_close(weight, weight.T)
    assert torch.all(weight.diagonal() == 0)
    out = network(torch.rand(3, 6))
    assert out.shape == (3, 6)
    assert torch.all((out > 0) & (out < 1))


def test_gradient_methods_agree_on_a_small_contractive_hopfield_network():
    x = (torch.rand(2, 8, generator=torch.Generator().manual_seed(2)) > 0.5).double()
    target = (torch.rand(2, 8, generator=torch.Generator().manual_seed(3)) > 0.5).double()
    gradients = {}
    for method in ("bptt", "tbptt", "neumann_rbp", "cg_rbp"):
        torch.manual_seed(4)
        network = HopfieldNetwork(8, 6, 8, steps=60, truncation=30, gradient=method,
                                  init_std=0.05).double()  # fmt: skip
        (network(x) - target).abs().mean().backward()
        gradients[method] = network.raw_weight.grad
    for method in ("tbptt", "neumann_rbp", "cg_rbp"):
        torch.testing.assert_close(gradients[method], gradients["bptt"], rtol=1e-6, atol=1e-9)


def test_hopfield_runs_learn_to_recall(shared_data):
    config = RunConfig(
        task={"name": "hopfield", "gradient": "neumann_rbp", "hidden": 64, "steps": 20,
              "truncation": 10},
        optimizer={"name": "adam", "lr": 1e-3}, batch_size=1, steps=60, eval_every=60,
        checkpoint_every=0, data_dir=str(shared_data),
    )  # fmt: skip
    result = train(config)
    assert result.curve[0]["train_error"] == pytest.approx(0.5, abs=1e-4)  # σ(≈0) everywhere
    assert result.final["train_error"] < 0.2
    assert result.final["test_error"] < 0.2


def test_bad_hopfield_options_name_the_value():
    with pytest.raises(ConfigError, match=re.escape("'task.corruption' must be < 1, got 1.0")):
        RunConfig(task={"name": "hopfield", "corruption": 1.0})
    with pytest.raises(ConfigError, match=re.escape("'task.steps' must be >= 1, got 0")):
        RunConfig(task={"name": "hopfield", "steps": 0})
