"""NADE and the polyphonic RNN: a normalized, autoregressive, exact likelihood; greedy decoding;
causal predictions."""

from __future__ import annotations

import itertools

import pytest
import torch

from inertia.nn import NADE, PolyphonicRNN


def _nade(visible: int = 5, hidden: int = 4, seed: int = 0) -> NADE:
    torch.manual_seed(seed)
    nade = NADE(visible, hidden).double()
    with torch.no_grad():
        for parameter in nade.parameters():
            parameter.normal_()
    return nade


def test_nade_probabilities_sum_to_one_for_any_conditioning():
    nade = _nade()
    vectors = torch.tensor(list(itertools.product([0.0, 1.0], repeat=5)), dtype=torch.float64)
    for seed in range(3):
        generator = torch.Generator().manual_seed(seed)
        b = torch.randn(5, generator=generator, dtype=torch.float64)
        c = torch.randn(4, generator=generator, dtype=torch.float64)
        total = nade.log_prob(vectors, b, c).detach().exp().sum()
        assert float(total) == pytest.approx(1.0, abs=1e-12)


def test_nade_is_autoregressive_and_matches_its_definition():
    nade = _nade()
    v = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0]], dtype=torch.float64)
    with torch.no_grad():  # values only
        logits = nade.conditional_logits(v)
        for i in range(5):
            h = torch.sigmoid(nade.hidden_bias + nade.weight[:, :i] @ v[0, :i])
            expected = nade.visible_bias[i] + nade.read[i] @ h
            assert float(logits[0, i]) == pytest.approx(float(expected))
            changed = v.clone()
            changed[0, i:] = 1 - changed[0, i:]  # dimensions i.. do not enter conditional i
            conditional = nade.conditional_logits(changed)[0, i]
            assert float(conditional) == pytest.approx(float(logits[0, i]))


def test_nade_likelihood_is_the_same_with_and_without_gradients():
    nade = _nade(visible=12, hidden=7)
    generator = torch.Generator().manual_seed(1)
    v = (torch.rand(30, 12, generator=generator) < 0.3).double()
    b = torch.randn(30, 12, generator=generator, dtype=torch.float64)
    c = torch.randn(30, 7, generator=generator, dtype=torch.float64)
    with_graph = nade.log_prob(v, b, c)
    with torch.no_grad():
        without = nade.log_prob(v, b, c)
    torch.testing.assert_close(with_graph.detach(), without, rtol=1e-12, atol=1e-12)


def test_nade_greedy_takes_each_more_likely_value_in_turn():
    nade = _nade(visible=6, hidden=3, seed=2)
    b = torch.randn(4, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    greedy = nade.greedy(b, None)
    for case in range(4):
        chosen = torch.zeros(1, 6, dtype=torch.float64)
        for i in range(6):
            logit = nade.conditional_logits(chosen, b[case : case + 1])[0, i]
            chosen[0, i] = float(logit > 0)
        assert torch.equal(greedy[case], chosen[0])


@pytest.mark.parametrize("output_model", ["logistic", "nade"])
def test_polyphonic_rnn_predictions_do_not_see_the_future(output_model):
    torch.manual_seed(0)
    model = PolyphonicRNN(notes=8, hidden_size=6, output_model=output_model, nade_hidden=5)
    inputs = (torch.rand(2, 10, 8) < 0.4).float()
    readout = model(inputs)
    changed = inputs.clone()
    changed[:, 6:] = 1 - changed[:, 6:]
    torch.testing.assert_close(model(changed)[:, :6], readout[:, :6])
    frames = (torch.rand(2, 10, 8) < 0.4).float()
    assert model.log_prob(readout, frames).shape == (2, 10)
    assert set(model.predict(readout).unique().tolist()) <= {0.0, 1.0}


def test_logistic_outputs_are_independent_bernoullis():
    torch.manual_seed(0)
    model = PolyphonicRNN(notes=8, hidden_size=6, output_model="logistic")
    readout = torch.randn(3, 4, 8)
    frames = (torch.rand(3, 4, 8) < 0.5).float()
    p = torch.sigmoid(readout)
    manual = (frames * p.log() + (1 - frames) * (1 - p).log()).sum(-1)
    torch.testing.assert_close(model.log_prob(readout, frames), manual, rtol=1e-5, atol=1e-5)
    assert torch.equal(model.predict(readout), (p > 0.5).float())


def test_bad_output_model_is_named():
    with pytest.raises(ValueError, match="output_model must be one of"):
        PolyphonicRNN(output_model="gaussian")
    with pytest.raises(ValueError, match="NADE needs visible >= 1"):
        NADE(0, 3)
