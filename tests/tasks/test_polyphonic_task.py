"""Task ``polyphonic``: chunks and groups cover every frame once, the weighted metrics are the
NLL per time step and Bay et al.'s frame accuracy over whole sequences, and training learns."""

from __future__ import annotations

import pytest
import torch

from inertia.data import load_music
from inertia.experiments import ConfigError, RunConfig, evaluate, prepare, train
from inertia.tasks._polyphonic import chunk_sequences, group_sequences


def _rolls(lengths: list[int], seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(n, 88, generator=generator) < 0.05).float() for n in lengths]


def test_chunks_cover_every_frame_once_with_the_previous_frame_as_input():
    rolls = _rolls([7, 3, 10])
    inputs, targets = chunk_sequences(rolls, chunk=4)
    assert inputs.shape == (2 + 1 + 3, 4, 88)  # ceil(7/4) + ceil(3/4) + ceil(10/4)
    weight = targets[..., -1]
    assert int((weight > 0).sum()) == 20  # every real step, no padding
    assert float(weight.sum()) == pytest.approx(6.0)  # cases: averages come out per step
    # The first sequence: chunk 0 starts from a zero frame, chunk 1 from the true frame 3.
    assert torch.equal(inputs[0, 0], torch.zeros(88))
    assert torch.equal(inputs[0, 1:], rolls[0][:3])
    assert torch.equal(inputs[1, 0], rolls[0][3])
    assert torch.equal(targets[1, :3, :88], rolls[0][4:7])
    assert torch.equal(targets[1, 3], torch.zeros(89))  # padding: no frame, no weight


def test_groups_hold_whole_sequences_sorted_and_padded():
    rolls = _rolls([5, 12, 3, 9])
    inputs, targets = group_sequences(rolls)
    assert sum(part.shape[0] for part in inputs) == 4
    weights = torch.cat([t[..., -1].reshape(-1) for t in targets])
    assert int((weights > 0).sum()) == 29
    assert float(weights.sum()) == pytest.approx(4.0)
    lengths = [int(n) for t in targets for n in (t[..., -1] > 0).sum(dim=1)]
    assert lengths == [3, 5, 9, 12]  # sorted by length
    for part, target in zip(inputs, targets, strict=True):
        assert part.shape[1] == int((target[..., -1] > 0).sum(dim=1).max())  # padded to the group


def _manual(prepared, rolls: list[torch.Tensor]) -> tuple[float, float]:
    """NLL per step and frame accuracy over whole sequences, one sequence at a time."""
    model = prepared.model
    nll, steps, tp, fp, fn = 0.0, 0, 0.0, 0.0, 0.0
    with torch.no_grad():
        for roll in rolls:
            inputs = torch.cat([torch.zeros(1, 88), roll[:-1]]).unsqueeze(0)
            readout = model(inputs)
            nll -= float(model.log_prob(readout, roll.unsqueeze(0)).sum())
            steps += roll.shape[0]
            predicted = model.predict(readout)[0]
            tp += float((predicted * roll).sum())
            fp += float((predicted * (1 - roll)).sum())
            fn += float(((1 - predicted) * roll).sum())
    return nll / steps, tp / (tp + fp + fn)


@pytest.mark.parametrize("model", ["logistic", "nade", "rbm"])
def test_metrics_are_per_time_step_and_frame_accuracy_over_whole_sequences(shared_data, model):
    config = RunConfig(
        task={"name": "polyphonic", "output": model, "hidden": 16, "nade_hidden": 8},
        optimizer={"name": "adam", "lr": 0.01}, batch_size=20, steps=30, eval_every=30,
        checkpoint_every=0, data_dir=str(shared_data), precision="float64",
    )  # fmt: skip
    prepared = prepare(config)
    with torch.no_grad():  # a model whose predictions are not all silence
        prepared.model.rnn.output.bias[:88] += 3.0 * (torch.arange(88) % 9 == 0).double()
    metrics = evaluate(prepared)
    for split in ("valid", "test"):
        rolls = [roll.double() for roll in load_music("jsb", split, shared_data, download=False)]
        nll, accuracy = _manual(prepared, rolls)
        # The step weights are stored in float32 like the frames: agreement to float32 precision.
        assert metrics[f"{split}_error"] == pytest.approx(nll, rel=1e-6)
        assert metrics[f"{split}_accuracy"] == pytest.approx(accuracy, rel=1e-6)
        assert 0 < accuracy < 1


def test_training_lowers_the_test_nll(shared_data, tmp_path):
    config = RunConfig(
        task={"name": "polyphonic", "output": "nade", "hidden": 32, "nade_hidden": 16},
        optimizer={"name": "adam", "lr": 0.01}, batch_size=20, steps=40, eval_every=40,
        checkpoint_every=0, data_dir=str(shared_data),
    )  # fmt: skip
    result = train(config, tmp_path)
    assert result.curve[0]["test_error"] == pytest.approx(88 * torch.log(torch.tensor(2.0)).item(),
                                                          rel=0.05)  # fmt: skip
    assert result.final["test_error"] < 20.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": "bach"}, "config key 'task.dataset' must be one of"),
        ({"cell": "gru"}, "config key 'task.cell' must be one of"),
        ({"chunk": 0}, "config key 'task.chunk' must be >= 1, got 0"),
        ({"output": "gaussian"}, "config key 'task.output' must be one of"),
        ({"leak_low": 0.5, "leak_high": 0.2}, "must lie in"),
        ({"recurrent_radius": -1.0}, "option 'recurrent_radius' must be >= 0"),
        ({"cell": "lstm", "recurrent_radius": 0.5}, "and 0 for the lstm cell"),
    ],
)
def test_bad_polyphonic_options_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(task={"name": "polyphonic", **changes})
