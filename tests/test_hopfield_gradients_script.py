"""scripts/hopfield_gradients.py: where the gradient methods part on the Hopfield memory (issue
17). Synthetic binary 'digits' stand in for MNIST; the network is the paper's size."""

from __future__ import annotations

import pytest
import torch

UNITS = 784 + 1024 + 784


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("hopfield_gradients")


@pytest.fixture(scope="module")
def digits():
    return (torch.rand(10, 784, generator=torch.Generator().manual_seed(0)) < 0.15).float()


def _raw_weight(std: float) -> torch.Tensor:
    return std * torch.randn(UNITS, UNITS, generator=torch.Generator().manual_seed(1))


def test_near_a_contracting_fixed_point_every_method_computes_bptts_gradient(script, digits):
    measured = script.measure(_raw_weight(1e-3), digits, steps=50, truncation=5,
                              reference_steps=100)  # fmt: skip
    assert measured["forward_residual"] < 1e-6
    assert measured["spectral_radius"] < 0.1
    for method, cell in measured["methods"].items():
        assert cell["cosine_with_bptt"] > 1 - 1e-9, method
        assert cell["norm_ratio_to_bptt"] == pytest.approx(1.0, abs=1e-6), method
        assert cell["cosine_with_implicit"] > 1 - 1e-9, method


def test_far_from_a_fixed_point_the_rbp_methods_part_from_bptt(script, digits):
    """Large weights: ten steps do not reach a fixed point (ρ(J) > 1 at h_10), so the methods
    that assume one compute another gradient than BPTT's (cosines 0.72-0.80 here); TBPTT with
    K = T is BPTT."""
    measured = script.measure(_raw_weight(0.2), digits, steps=10, truncation=10,
                              reference_steps=100)  # fmt: skip
    assert measured["forward_residual"] > 1e-2
    assert measured["spectral_radius"] > 1
    cells = measured["methods"]
    assert cells["tbptt"]["cosine_with_bptt"] > 1 - 1e-9
    for method in ("rbp", "cg_rbp", "neumann_rbp"):
        assert cells[method]["cosine_with_bptt"] < 0.9, method


def test_the_spectral_radius_is_that_of_the_explicit_jacobian(script, digits):
    """Power iteration on Jᵀ against the eigenvalues of J = W_ff · diag(b σ'(b h)), formed
    explicitly at h_T for each digit."""
    raw = _raw_weight(0.01)
    net = script.network(raw, 10, 1, "bptt")
    _, radius = script.residual_and_radius(net, digits, 10)
    h, _ = script.forward_state(net, digits, 10)
    free = net.weight[784:, 784:].detach()
    slope = net.gain * torch.sigmoid(net.gain * h) * (1 - torch.sigmoid(net.gain * h))
    explicit = max(
        float(torch.linalg.eigvals(free * slope[i][None, :]).abs().max()) for i in range(10)
    )
    assert radius == pytest.approx(explicit, rel=1e-3)
