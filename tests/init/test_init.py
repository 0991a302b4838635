from __future__ import annotations

import pytest
import torch
from torch import nn

from inertia.init import echo_state_, echo_state_rnn_, sparse_, sparse_init_, spectral_radius


@pytest.mark.parametrize(("fan_out", "fan_in"), [(1000, 784), (30, 250), (7, 15), (3, 4)])
def test_sparse_has_exactly_k_nonzeros_per_unit(fan_out, fan_in):
    w = torch.full((fan_out, fan_in), 7.0)
    sparse_(w, num_connections=15, generator=torch.Generator().manual_seed(0))
    assert ((w != 0).sum(dim=1) == min(15, fan_in)).all()


def test_sparse_values_are_standard_normal_times_scale():
    w = torch.empty(2000, 500)
    sparse_(w, scale=2.0, generator=torch.Generator().manual_seed(1))
    values = w[w != 0] / 2.0
    assert values.numel() == 2000 * 15
    assert abs(values.mean().item()) < 0.03
    assert abs(values.std().item() - 1.0) < 0.02


def test_sparse_connections_are_spread_uniformly():
    w = torch.empty(5000, 50)
    sparse_(w, generator=torch.Generator().manual_seed(2))
    counts = (w != 0).sum(dim=0).double()  # expected 5000 * 15 / 50 = 1500 per input
    assert (counts - 1500).abs().max() < 150


def test_sparse_is_deterministic_under_generator_and_works_for_conv():
    a, b = torch.empty(8, 3, 5, 5), torch.empty(8, 3, 5, 5)
    sparse_(a, generator=torch.Generator().manual_seed(3))
    sparse_(b, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert ((a.flatten(1) != 0).sum(dim=1) == 15).all()


def test_sparse_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(5,\)"):
        sparse_(torch.empty(5))
    with pytest.raises(ValueError, match=r"num_connections.*0"):
        sparse_(torch.empty(5, 5), num_connections=0)


@pytest.mark.parametrize(
    ("nonlinearity", "factor", "bias"), [("sigmoid", 1.0, 0.0), ("tanh", 0.25, 0.5)]
)
def test_sparse_init_module(nonlinearity, factor, bias):
    model = nn.Sequential(nn.Linear(100, 40), nn.Sigmoid(), nn.Linear(40, 20))
    sparse_init_(model, nonlinearity=nonlinearity, generator=torch.Generator().manual_seed(4))
    reference = torch.empty(40, 100)
    sparse_(reference, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(model[0].weight.detach(), reference * factor)
    assert ((model[2].weight != 0).sum(dim=1) == 15).all()
    assert (model[0].bias == bias).all()
    assert (model[2].bias == bias).all()


@pytest.mark.parametrize("target", [1.1, 0.9, 1.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_echo_state_spectral_radius_is_exact(target, dtype):
    w = torch.empty(100, 100, dtype=dtype)
    echo_state_(w, spectral_radius=target, generator=torch.Generator().manual_seed(5))
    assert abs(spectral_radius(w) - target) < 1e-4
    assert ((w != 0).sum(dim=1) == 15).all()


def test_echo_state_rnn_scales():
    gen = torch.Generator().manual_seed(6)
    w_ih, w_hh, w_ho = torch.empty(100, 2), torch.empty(100, 100), torch.empty(1, 100)
    echo_state_rnn_(w_ih, w_hh, w_ho, input_scale=0.1, generator=gen)
    big_ih = torch.empty(1000, 50)
    echo_state_rnn_(big_ih, torch.empty(10, 10), input_scale=0.1, generator=gen)
    assert abs(big_ih.std().item() - 0.1) < 0.005
    assert abs(spectral_radius(w_hh) - 1.1) < 1e-4
    assert 0.05 < w_ho.std().item() < 0.15


def test_echo_state_rejects_non_square():
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        echo_state_(torch.empty(3, 4))
