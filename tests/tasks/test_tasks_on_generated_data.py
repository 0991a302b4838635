"""Every task built on MNIST trains end to end through the engine on generated MNIST-format files
(no ../shared/data needed): building, the batch source, the step, the evaluation, the result."""

from __future__ import annotations

import math

import pytest

from inertia.experiments import RunConfig, train

TASKS = {
    "mnist-classification": {"name": "mnist-classification", "network": "lenet5"},
    "autoencoder": {"name": "autoencoder", "dataset": "mnist", "test_cases": 40},
    "hopfield": {"name": "hopfield", "gradient": "neumann_rbp", "hidden": 32, "steps": 10,
                 "truncation": 5},
    "hypergradient": {"name": "hypergradient", "gradient": "cg_rbp", "steps": 4, "batch": 20,
                      "truncation": 3, "width": 8, "depth": 1, "train_cases": 60},
}  # fmt: skip
BATCH = {"mnist-classification": 40, "autoencoder": 40, "hopfield": 1, "hypergradient": 1}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_the_task_trains_and_reports_on_generated_mnist(tiny_mnist, tmp_path, task):
    config = RunConfig(
        task=TASKS[task],
        optimizer={"name": "adam", "lr": 1e-3},
        batch_size=BATCH[task],
        steps=6,
        eval_every=3,
        checkpoint_every=3,
        data_dir=str(tiny_mnist),
    )
    result = train(config, tmp_path)
    assert result.status == "completed"
    assert [point["step"] for point in result.curve] == [0, 3, 6]
    assert all(math.isfinite(value) for value in result.final.values())
    assert {"train_error", "train_loss", "test_error"} <= set(result.final)
    assert (tmp_path / "result.json").exists()
    assert train(config, tmp_path, resume=True) == result  # finished: not run again
