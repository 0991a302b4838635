"""Task ``ptb``: windows score every next token once, the metrics are per token (nats, bits,
perplexity) over the whole split, and training learns."""

from __future__ import annotations

import math

import pytest
import torch

from inertia.data import load_ptb
from inertia.experiments import ConfigError, RunConfig, evaluate, prepare, train
from inertia.tasks._text import scored_windows, training_windows


def test_scored_windows_predict_every_next_token_once_after_the_context():
    ids = torch.arange(10)
    inputs, targets = scored_windows(ids, chunk=4, context=3, pad=99)
    following, weights = targets[..., 0].long(), targets[..., 1]
    scored = following[weights > 0]
    assert scored.tolist() == list(range(1, 10))  # ids[1..9], each once, in order
    assert float(weights.sum()) == pytest.approx(inputs.shape[0])  # averages come out per token
    for case, position in torch.nonzero(weights > 0).tolist():
        assert position >= 3  # at least `context` inputs before every scored one
        assert int(following[case, position]) == int(inputs[case, position]) + 1


def test_training_windows_are_consecutive():
    inputs, targets = training_windows(torch.arange(25), chunk=6)
    assert inputs.tolist() == [list(range(i, i + 6)) for i in (0, 6, 12, 18)]
    assert torch.equal(targets[..., 0].long(), inputs + 1)
    assert float(targets[..., 1].sum()) == pytest.approx(4.0)


def test_metrics_are_cross_entropy_per_token_of_the_whole_split(shared_data):
    config = RunConfig(
        task={"name": "ptb", "level": "char", "hidden": 16, "chunk": 50, "context": 20,
              "train_evaluation_tokens": 5000},
        optimizer={"name": "sgd", "lr": 0.1}, batch_size=8, steps=1, data_dir=str(shared_data),
    )  # fmt: skip
    prepared = prepare(config)
    metrics = evaluate(prepared)
    corpus = load_ptb("char", "valid", shared_data, download=False)
    valid, pad = corpus.ids, corpus.vocabulary.index("<eos>")
    # By hand, the first window: 20 <eos> of context, then ids[0..49] predicting ids[1..50].
    model = prepared.model
    with torch.no_grad():
        sequence = torch.cat([torch.full((20,), pad), valid[:50]])
        logits = model(sequence.unsqueeze(0))[0, 20:]
        first = torch.nn.functional.cross_entropy(logits, valid[1:51], reduction="none")
        valid_inputs, valid_targets = prepared.problem.evaluation.splits["valid"]
        windows = model(valid_inputs[:1])[0]
        targets = valid_targets[0]
        scored = targets[:, 1] > 0
        mine = torch.nn.functional.cross_entropy(
            windows[scored], targets[scored, 0].long(), reduction="none"
        )
    torch.testing.assert_close(mine, first)
    assert metrics["valid_error"] == pytest.approx(metrics["valid_loss"] / math.log(2))
    assert metrics["valid_perplexity"] == pytest.approx(math.exp(metrics["valid_loss"]))
    assert metrics["valid_loss"] == pytest.approx(math.log(50), rel=0.05)  # untrained: ~uniform


def test_char_model_learns(shared_data, tmp_path):
    config = RunConfig(
        task={"name": "ptb", "level": "char", "hidden": 32, "chunk": 50, "context": 20,
              "train_evaluation_tokens": 20000},
        optimizer={"name": "sgd", "lr": 0.5}, batch_size=16, steps=60, eval_every=60,
        checkpoint_every=0, clip_grad_norm=5.0, data_dir=str(shared_data),
    )  # fmt: skip
    result = train(config, tmp_path)
    assert result.final["valid_error"] < result.curve[0]["valid_error"] - 1.0  # bits per char


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"level": "byte"}, "config key 'task.level' must be one of 'char' or 'word'"),
        ({"cell": "gru"}, "config key 'task.cell' must be one of"),
        ({"chunk": 0}, "config key 'task.chunk' must be >= 1, got 0"),
        ({"context": -1}, "config key 'task.context' must be >= 0, got -1"),
        ({"recurrent_radius": -0.5}, "option 'recurrent_radius' must be >= 0"),
    ],
)
def test_bad_text_options_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(task={"name": "ptb", **changes})
