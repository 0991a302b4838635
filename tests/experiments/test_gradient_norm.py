"""The engine's gradient norm and clipping (``gradient_norm``, ``clip_gradients_``): the values
of ``torch.nn.utils.get_total_norm`` and ``clip_grads_with_norm_`` to the bit, so that runs
clipped before they took this shortcut continue identically."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inertia.experiments._optimizers import _parameters_of, clip_gradients_, gradient_norm


def _model_with_gradients(dtype: torch.dtype | None = None) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(7, 33), nn.Tanh(), nn.Linear(33, 5), nn.Linear(5, 1))
    if dtype is not None:  # one layer in another dtype: the norm must group by dtype
        model[2].to(dtype)
    inputs = torch.randn(50, 7)
    hidden = model[1](model[0](inputs))
    hidden = model[2](hidden.to(model[2].weight.dtype)).float()
    (model[3](hidden) ** 3).sum().backward()
    model[3].bias.grad = None  # a parameter without a gradient is left out
    return model


@pytest.mark.parametrize("dtype", [None, torch.float64])
def test_the_norm_is_torchs_to_the_bit(dtype):
    model = _model_with_gradients(dtype)
    parameters, uniform = _parameters_of(model)
    assert uniform is (dtype is None)
    assert parameters == list(model.parameters())
    gradients = [p.grad for p in parameters if p.grad is not None]
    ours = gradient_norm(gradients, uniform)
    theirs = nn.utils.get_total_norm(gradients)
    assert ours.dtype == theirs.dtype
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("dtype", [None, torch.float64])
@pytest.mark.parametrize("fraction", [0.3, 2.0])  # clipped, and left as it is
def test_clipping_is_torchs_to_the_bit(dtype, fraction):
    ours, theirs = _model_with_gradients(dtype), _model_with_gradients(dtype)
    parameters, uniform = _parameters_of(ours)
    gradients = [p.grad for p in parameters if p.grad is not None]
    norm = gradient_norm(gradients, uniform)
    clip_gradients_(gradients, fraction * float(norm), norm, uniform)
    nn.utils.clip_grad_norm_(theirs.parameters(), fraction * float(norm))
    for mine, torchs in zip(ours.parameters(), theirs.parameters()):
        assert (mine.grad is None) == (torchs.grad is None)
        if mine.grad is not None:
            assert torch.equal(mine.grad, torchs.grad)
    changed = torch.equal(gradients[0], _model_with_gradients(dtype)[0].weight.grad)
    assert changed is (fraction >= 1)


def test_the_parameter_list_is_read_once_per_model():
    model = _model_with_gradients()
    first = _parameters_of(model)
    assert _parameters_of(model) is first
    assert _parameters_of(_model_with_gradients()) is not first
