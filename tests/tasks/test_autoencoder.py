from __future__ import annotations

import pytest
import torch
from torch import nn

from inertia.experiments import RunConfig, prepare, train
from inertia.tasks._autoencoder import ARCHITECTURES, autoencoder


@pytest.mark.parametrize(
    ("name", "parameters"),
    [("curves", 842_340), ("mnist", 2_837_314), ("faces", 7_537_655)],
)
def test_architectures_of_table_6(name, parameters):
    model = autoencoder(ARCHITECTURES[name])
    linears = [m for m in model if isinstance(m, nn.Linear)]
    sizes = ARCHITECTURES[name]
    assert [m.in_features for m in linears] == [*sizes[:-1], *sizes[::-1][:-1]]
    assert sum(p.numel() for p in model.parameters()) == parameters
    # Logistic units everywhere except after the code layer and the output layer.
    kinds = [type(m).__name__ for m in model]
    code = 2 * (len(sizes) - 2)
    assert kinds[code] == "Linear"
    assert kinds[code + 1] == "Linear"
    assert kinds[-1] == "Linear"
    assert kinds.count("Sigmoid") == 2 * (len(sizes) - 2)


def test_mnist_autoencoder_loss_metric_and_sparse_init(shared_data):
    config = RunConfig(task={"name": "autoencoder", "dataset": "mnist"}, data_dir=str(shared_data))
    prepared = prepare(config)
    first = prepared.model[0].weight
    assert ((first != 0).sum(dim=1) == 15).all()  # SI by default
    assert (prepared.model[0].bias == 0).all()
    batch = prepared.problem.batches.inputs[:32]
    outputs = prepared.model(batch)
    loss = prepared.problem.loss(outputs, batch)
    expected = (
        -(
            batch * torch.log(torch.sigmoid(outputs))
            + (1 - batch) * torch.log(1 - torch.sigmoid(outputs))
        ).sum()
        / 32
    )
    torch.testing.assert_close(loss, expected, rtol=1e-4, atol=1e-3)
    error = prepared.problem.evaluation.metrics(outputs, batch)["error"]
    torch.testing.assert_close(error, (torch.sigmoid(outputs) - batch).pow(2).sum())


def test_short_training_lowers_the_reconstruction_error(shared_data):
    config = RunConfig(
        task={"name": "autoencoder", "dataset": "mnist", "cases": 2000},
        optimizer={
            "name": "nag",
            "lr": 0.01,
            "momentum": 0.99,
            "momentum_schedule": "sutskever",
            "momentum_period": 10,
        },
        batch_size=200,
        steps=60,
        eval_every=60,
        data_dir=str(shared_data),
    )
    result = train(config)
    assert result.dataset == "mnist"
    assert "test_error" in result.final
    without_test = train(config.replace(steps=1, eval_every=1, **{"task.test_cases": 0}))
    assert "test_error" not in without_test.final
    assert result.curve[-1]["train_error"] < 0.8 * result.curve[0]["train_error"]


def test_synthetic_curves_are_named_in_the_result(tmp_path, monkeypatch):
    from inertia.data import _curves

    monkeypatch.setattr(_curves, "TRAIN_CASES", 400)
    monkeypatch.setattr(_curves, "TEST_CASES", 100)
    config = RunConfig(
        task={"name": "autoencoder", "dataset": "curves"},
        steps=5,
        eval_every=5,
        data_dir=str(tmp_path),
    )
    result = train(config)
    assert result.dataset == "curves-synth"
    strict = config.replace(**{"task.synthetic_fallback": False})
    with pytest.raises(FileNotFoundError, match=r"digs3pts_1\.mat"):
        train(strict)
