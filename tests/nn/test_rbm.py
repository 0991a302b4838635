"""RBM: exact partition function against brute force, AIS against exact, CD training that raises
the exact likelihood, and the RNN-RBM output model."""

from __future__ import annotations

import itertools

import pytest
import torch

import inertia.nn._rbm as rbm_module
from inertia.nn import RBM, PolyphonicRNN

_D = torch.float64


def _rbm(visible: int = 6, hidden: int = 5, seed: int = 0, **kwargs) -> RBM:
    torch.manual_seed(seed)
    rbm = RBM(visible, hidden, **kwargs).double()
    with torch.no_grad():
        for parameter in rbm.parameters():
            parameter.normal_(0.0, 1.0)
    return rbm


def _all_vectors(visible: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=visible)), dtype=_D)


def test_exact_log_partition_equals_the_sum_over_all_visible_vectors():
    rbm = _rbm()
    generator = torch.Generator().manual_seed(1)
    b = torch.randn(3, 6, generator=generator, dtype=_D)
    c = torch.randn(3, 5, generator=generator, dtype=_D)
    vectors = _all_vectors(6)
    with torch.no_grad():  # values only (the RBM's parameters require grad)
        exact = rbm.log_partition(b, c)
        for case in range(3):
            brute = torch.logsumexp(-rbm.free_energy(vectors, b[case], c[case]), dim=0)
            assert float(exact[case]) == pytest.approx(float(brute), abs=1e-10)
        probabilities = rbm.log_prob(vectors, b[0], c[0]).exp()
    assert float(probabilities.sum()) == pytest.approx(1.0, abs=1e-10)


def test_ais_estimates_the_log_partition(monkeypatch):
    rbm = _rbm(ais_chains=200, ais_temperatures=500)
    generator = torch.Generator().manual_seed(2)
    b = torch.randn(3, 6, generator=generator, dtype=_D)
    c = torch.randn(3, 5, generator=generator, dtype=_D)
    exact = rbm.log_partition(b, c)
    monkeypatch.setattr(rbm_module, "EXACT_HIDDEN_LIMIT", 0)  # force AIS on the same RBM
    estimate = rbm.log_partition(b, c, torch.Generator().manual_seed(3))
    torch.testing.assert_close(estimate, exact, atol=0.05, rtol=0)


def test_contrastive_divergence_training_raises_the_exact_likelihood():
    rbm = _rbm(visible=8, hidden=6, seed=4)
    with torch.no_grad():
        rbm.weight.mul_(0.01)
    patterns = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]], dtype=_D)
    data = patterns.repeat(16, 1)
    before = float(rbm.log_prob(data).mean())
    optimizer = torch.optim.SGD(rbm.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(5)
    for _ in range(300):
        optimizer.zero_grad()
        rbm.contrastive_divergence(data, 1, generator=generator).mean().backward()
        optimizer.step()
    after = float(rbm.log_prob(data).mean())
    assert after > before + 2.0  # from near-uniform (8 ln 2 = 5.5 nats) towards ln 2
    assert after > -2.0


def test_mean_field_prediction_is_binary():
    rbm = _rbm()
    prediction = rbm.mean_field(torch.randn(4, 6, dtype=_D), None)
    assert prediction.shape == (4, 6)
    assert set(prediction.unique().tolist()) <= {0.0, 1.0}


def test_rnn_rbm_trains_through_the_biases_and_evaluates_repeatably():
    torch.manual_seed(0)
    model = PolyphonicRNN(notes=8, hidden_size=6, output_model="rbm", rbm_hidden=4, cd_steps=2)
    frames = (torch.rand(2, 5, 8) < 0.3).float()
    readout = model(frames)
    model.training_nll(readout, frames).mean().backward()
    assert model.rnn.output.weight.grad.abs().sum() > 0  # CD reaches the RNN via the biases
    assert model.rbm.weight.grad.abs().sum() > 0
    with torch.no_grad():
        first = model.log_prob(readout, frames)
        second = model.log_prob(readout, frames)
    assert torch.equal(first, second)
    assert (first < 0).all()


def test_bad_rbm_settings_are_named():
    with pytest.raises(ValueError, match="RBM needs visible >= 1"):
        RBM(0, 3)
    with pytest.raises(ValueError, match="ais_temperatures >= 2"):
        RBM(3, 3, ais_temperatures=1)
    with pytest.raises(ValueError, match="cd_steps must be >= 1"):
        PolyphonicRNN(output_model="rbm", cd_steps=0)


def test_log_partition_is_exact_up_to_the_limit_and_estimated_above_it(monkeypatch):
    """Issue 17: the exact sum serves up to EXACT_HIDDEN_LIMIT (18) hidden units, where it is
    cheaper than AIS; at 14 (AIS before) it equals the brute-force sum over all visible vectors."""
    assert rbm_module.EXACT_HIDDEN_LIMIT == 18
    rbm = _rbm(visible=5, hidden=14, seed=5)
    with torch.no_grad():
        rbm.weight.mul_(0.3)
        b = torch.randn(2, 5, generator=torch.Generator().manual_seed(6), dtype=_D)
        c = torch.randn(2, 14, generator=torch.Generator().manual_seed(7), dtype=_D)
        exact = rbm.log_partition(b, c)
        vectors = _all_vectors(5)
        for case in range(2):
            brute = torch.logsumexp(-rbm.free_energy(vectors, b[case], c[case]), dim=0)
            assert float(exact[case]) == pytest.approx(float(brute), abs=1e-9)
        # Above the limit the same call is a (random) AIS estimate: two generators differ.
        monkeypatch.setattr(rbm_module, "EXACT_HIDDEN_LIMIT", 13)
        first = rbm.log_partition(b, c, torch.Generator().manual_seed(1))
        second = rbm.log_partition(b, c, torch.Generator().manual_seed(2))
    assert not torch.equal(first, second)
