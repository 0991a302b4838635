from __future__ import annotations

import pytest

from inertia.experiments import RunConfig, train


@pytest.mark.parametrize(("model", "steps"), [("mlp", 60), ("lenet5", 100)])
def test_mnist_models_learn_from_the_real_data(shared_data, model, steps):
    config = RunConfig(
        task={"name": "mnist-classification", "network": model},
        optimizer={"name": "nag", "lr": 0.05, "momentum": 0.9},
        batch_size=128,
        steps=steps,
        eval_every=steps,
        data_dir=str(shared_data),
    )
    result = train(config)
    start, end = result.curve[0], result.curve[-1]
    assert start["train_error"] > 0.8  # chance level before training
    assert end["train_error"] < 0.5
    assert end["test_error"] < 0.5
    assert end["train_loss"] < start["train_loss"]
