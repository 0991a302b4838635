from __future__ import annotations

import json
import re

import pytest
import torch

from inertia.experiments import ConfigError, RunConfig, from_mapping, merge, nest, prepare, train
from inertia.tasks import TASKS


def config(**changes) -> RunConfig:
    base = {
        "task": {"name": "long-term", "problem": "addition", "length": 12, "eval_cases": 600},
        "optimizer": {"name": "nag", "momentum_schedule": "rnn", "lr": 1e-3},
        "batch_size": 20,
        "steps": 30,
        "eval_every": 30,
        "checkpoint_every": 0,
    }
    return from_mapping(RunConfig, merge(base, nest(changes)))


def test_the_evaluation_sample_is_fixed_by_the_seed_not_by_the_model():
    a = prepare(config(task={"cell": "tanh"}))
    b = prepare(config(task={"cell": "lstm"}))
    c = prepare(config(seed=1))
    a_inputs, b_inputs, c_inputs = (p.problem.evaluation.splits["train"][0] for p in (a, b, c))
    assert [x.shape[0] for x in a_inputs] == [500, 100]
    assert all(torch.equal(x, y) for x, y in zip(a_inputs, b_inputs))
    assert not torch.equal(a_inputs[0], c_inputs[0])


def test_centering_shifts_inputs_and_starts_the_output_bias_at_the_mean_target():
    network = prepare(config()).model  # the authors' addition at T = 12: T' = 12, 13 steps
    shift = network.input_shift  # (the target at index T'), the first operand at step 0
    assert shift[1].item() == pytest.approx(1 / 13, abs=1e-6)  # replaces the start: +1, +1, -1
    assert shift[0].item() == pytest.approx(0.5, abs=0.02)  # over the real steps only
    assert network.output.bias.item() == pytest.approx(1.0, abs=0.01)  # the mean SUM
    mean = prepare(config(task={"problem": "addition-mean"})).model
    assert mean.input_shift[1].item() == pytest.approx(2 / 13, abs=0.02)  # two markers in ~13
    assert mean.output.bias.item() == pytest.approx(0.5, abs=0.01)
    plain = prepare(config(task={"centering": False}))
    assert (plain.model.input_shift == 0).all()
    assert plain.model.output.bias.item() == 0


def test_biases_model_learns_only_the_output_bias(tmp_path):
    prepared = prepare(config(task={"output_biases_only": True}))
    trainable = [n for n, p in prepared.model.named_parameters() if p.requires_grad]
    assert trainable == ["output.bias"]
    result = train(config(task={"output_biases_only": True}), tmp_path)
    # the mean predictor of a sum of two U[0, 1]: within 0.04 with probability 2(0.04) - 0.04²
    assert result.final["train_error"] == pytest.approx(0.9216, abs=0.03)


def test_readout_only_trains_the_output_layer_on_the_initial_states(tmp_path):
    """An echo-state network: the recurrent layer keeps Table 4's initialization, the output
    layer learns (on memorization at T = 20 it recalls better than chance, 2.5, within 300
    updates)."""
    task = {"problem": "memorization-5bit", "length": 20, "readout_only": True}
    run = config(task=task, optimizer={"name": "adam", "lr": 0.01}, steps=300, eval_every=300)
    before = prepare(run).model
    trainable = [n for n, p in before.named_parameters() if p.requires_grad]
    assert trainable == ["output.weight", "output.bias"]
    train(run, tmp_path)
    after = prepare(run).model
    after.load_state_dict(torch.load(tmp_path / "checkpoint.pt", weights_only=False)["model"])
    for name, parameter in before.named_parameters():
        moved = not torch.equal(parameter, after.get_parameter(name))
        assert moved == name.startswith("output."), name
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["final"]["train_error"] < 1.0 < result["curve"][0]["train_error"]
    with pytest.raises(ConfigError, match="'output_biases_only' and 'readout_only'"):
        config(task={"output_biases_only": True, "readout_only": True})


def test_small_random_initialization():
    network = prepare(config(task={"initialization": "small-random"})).model
    weight_ih, weight_hh, _ = network.recurrent_weights()
    assert weight_hh.std().item() == pytest.approx(0.01, rel=0.1)
    assert weight_ih.std().item() == pytest.approx(0.01, rel=0.5)


@pytest.mark.parametrize("model", ["tanh", "leaky-relu"])
def test_temporal_order_is_learned_at_a_short_length(tmp_path, model):
    """T = 10: far below chance (0.75) after 400 Adam updates, for every cell."""
    options = {"problem": "temporal-order", "length": 10, "eval_cases": 500, "cell": model}
    run = config(optimizer={"name": "adam", "lr": 0.01}, steps=400, eval_every=400,
                 batch_size=50, task=options)  # fmt: skip
    result = train(run, tmp_path)
    assert result.curve[0]["train_error"] > 0.6
    assert result.final["train_error"] < 0.2


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match=re.escape("'task.problem' must be one of")):
        config(task={"problem": "division"})
    with pytest.raises(ConfigError, match=re.escape("'task.length' must be >= 10")):
        config(task={"length": 3})
    with pytest.raises(ConfigError, match=re.escape("'task.initialization' must be one of")):
        config(task={"initialization": "xavier"})
    assert "long-term" in TASKS


def test_one_hidden_bias_by_default_and_torchs_two_by_name(tmp_path):
    """The authors' RNN has one hidden bias; nn.RNN has two, whose sum moves twice as far per
    update (issue 39). hidden_biases=1 keeps bias_hh at zero and out of training."""
    one = prepare(config()).model
    assert not one.rnn.bias_hh_l0.requires_grad
    assert (one.rnn.bias_hh_l0 == 0).all()
    assert one.rnn.bias_ih_l0.requires_grad
    two = prepare(config(task={"hidden_biases": 2})).model
    assert two.rnn.bias_hh_l0.requires_grad
    assert two.rnn.bias_ih_l0.requires_grad
    result = train(config(steps=5, eval_every=5), tmp_path / "one")
    assert result.steps_done == 5
    trained = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=False)
    state = trained["model"]
    assert (state["rnn.bias_hh_l0"] == 0).all()
    assert (state["rnn.bias_ih_l0"] != 0).any()


def test_the_curve_follows_the_recurrent_weights(tmp_path):
    result = train(config(steps=20, eval_every=10), tmp_path)
    first, last = result.curve[0], result.curve[-1]
    assert first["spectral_radius_hh"] == pytest.approx(1.1, rel=1e-4)  # Table 4's start
    # Table 4: input weights 0.001 N(0, 1) for addition, 100 x 2 of them
    assert first["norm_ih"] == pytest.approx(0.001 * (200**0.5), rel=0.2)
    assert last["norm_ih"] > first["norm_ih"]
    assert {"norm_hh", "train_error", "train_loss"} <= set(last)
    assert first["grad_norm"] >= first["grad_norm_ih"] > 0
    assert first["grad_norm"] >= first["grad_norm_hh"] > 0
    assert 0 <= first["saturation"] <= 1


def test_gradient_diagnostics_are_the_losss_gradient_and_leave_grad_alone():
    from inertia.tasks._long_term import gradient_diagnostics

    prepared = prepare(config())
    model, problem = prepared.model, prepared.problem
    inputs, targets = (split[0][:7] for split in problem.evaluation.splits["train"])
    model.rnn.weight_ih_l0.grad = torch.full_like(model.rnn.weight_ih_l0, 3.0)
    found = gradient_diagnostics(model, inputs, targets, problem.loss)
    assert (model.rnn.weight_ih_l0.grad == 3.0).all()
    model.zero_grad(set_to_none=True)
    problem.loss(model(inputs), targets).backward()
    assert found["grad_norm_ih"] == pytest.approx(model.rnn.weight_ih_l0.grad.norm().item())
    assert found["grad_norm_hh"] == pytest.approx(model.rnn.weight_hh_l0.grad.norm().item())
    every = torch.stack([p.grad.norm() for p in model.parameters() if p.grad is not None])
    assert found["grad_norm"] == pytest.approx(every.norm().item(), rel=1e-5)
    states = model.hidden_states(inputs)
    assert found["saturation"] == pytest.approx((states.abs() > 0.95).float().mean().item())
