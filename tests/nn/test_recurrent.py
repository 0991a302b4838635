from __future__ import annotations

import pytest
import torch

from inertia import _extensions
from inertia.init import spectral_radius
from inertia.nn import CELLS, RecurrentNetwork, _leaky_rnn, leaky_rnn


@pytest.fixture(params=["cpp", "python"])
def loops(request, monkeypatch):
    """leaky_rnn's time loops: the C++ ones of CPU tensors, and the Python ones that run where
    those cannot be built."""
    if request.param == "python":
        off = _extensions.CppExtension("off", _leaky_rnn._LOOPS.source, "the Python loops")
        off.failure = "switched off by the test"
        monkeypatch.setattr(_leaky_rnn, "_LOOPS", off)
    elif _leaky_rnn._LOOPS.load() is None:
        pytest.skip(f"the C++ loops cannot be built here: {_leaky_rnn._LOOPS.failure}")
    return request.param


def reference(x, w_ih, w_hh, b, leak, h0, nonlinearity):
    """The recurrence written out step by step, differentiated by autograd."""
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    h, states = h0, []
    for t in range(x.shape[0]):
        h = leak * h + (1 - leak) * f(x[t] @ w_ih.T + b + h @ w_hh.T)
        states.append(h)
    return torch.stack(states)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("leaky", ["none", "zeros", "spread"])
def test_leaky_rnn_matches_autograd_and_passes_gradcheck(nonlinearity, leaky, loops):
    g = torch.Generator().manual_seed(0)
    d = torch.float64
    x = torch.randn(7, 3, 2, dtype=d, generator=g, requires_grad=True)
    w_ih = torch.randn(4, 2, dtype=d, generator=g, requires_grad=True)
    w_hh = (0.6 * torch.randn(4, 4, dtype=d, generator=g)).requires_grad_()
    b = torch.randn(4, dtype=d, generator=g, requires_grad=True)
    h0 = torch.randn(3, 4, dtype=d, generator=g, requires_grad=True)
    leak = {"none": None, "zeros": torch.zeros(4, dtype=d),
            "spread": torch.linspace(0, 0.9, 4, dtype=d)}[leaky]  # fmt: skip
    ours = leaky_rnn(x, w_ih, w_hh, b, leak, h0, nonlinearity)
    as_zero = torch.zeros(4, dtype=d) if leak is None else leak
    torch.testing.assert_close(ours, reference(x, w_ih, w_hh, b, as_zero, h0, nonlinearity))
    assert torch.autograd.gradcheck(
        lambda *args: leaky_rnn(*args[:4], leak, args[4], nonlinearity), (x, w_ih, w_hh, b, h0)
    )


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("leaky", [False, True])
def test_the_cpp_and_python_loops_agree_in_float32_with_any_incoming_gradient_layout(
    nonlinearity, leaky, monkeypatch
):
    """The same operations in the same order: states and gradients equal up to the rounding of
    a fused multiply-add, also when the gradient arriving from above is not contiguous."""
    if _leaky_rnn._LOOPS.load() is None:
        pytest.skip(f"the C++ loops cannot be built here: {_leaky_rnn._LOOPS.failure}")
    g = torch.Generator().manual_seed(1)
    x = torch.randn(30, 8, 5, generator=g)
    w_ih, w_hh = torch.randn(16, 5, generator=g), 0.3 * torch.randn(16, 16, generator=g)
    b, leak = torch.randn(16, generator=g), (torch.rand(16, generator=g) * 0.9 if leaky else None)
    readout = torch.randn(16, 30, 8, generator=g)

    def run() -> list[torch.Tensor]:
        params = [t.clone().requires_grad_() for t in (x, w_ih, w_hh, b)]
        states = leaky_rnn(*params, leak=leak, nonlinearity=nonlinearity)
        # A transposed cotangent: the backward pass receives a non-contiguous gradient.
        (states * readout.permute(1, 2, 0)).sum().backward()
        return [states.detach(), *(p.grad for p in params)]

    compiled = run()
    off = _extensions.CppExtension("off", _leaky_rnn._LOOPS.source, "the Python loops")
    off.failure = "switched off by the test"
    monkeypatch.setattr(_leaky_rnn, "_LOOPS", off)
    python = run()
    for a, b_ in zip(compiled, python):
        torch.testing.assert_close(a, b_, rtol=1e-5, atol=1e-5)


def test_leaky_rnn_rejects_bad_arguments():
    x, w = torch.randn(3, 2, 2), torch.randn(2, 2)
    with pytest.raises(ValueError, match=r"leak \(α\) must lie in \[0, 1\)"):
        leaky_rnn(x, w, w, torch.zeros(2), leak=torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="nonlinearity must be"):
        leaky_rnn(x, w, w, torch.zeros(2), nonlinearity="sigmoid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="inputs must be"):
        leaky_rnn(torch.randn(3, 2), w, w, torch.zeros(2))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("readout", ["last", "all"])
def test_every_cell_runs_and_learns_a_step(cell, readout):
    torch.manual_seed(0)
    net = RecurrentNetwork(3, 16, 2, cell=cell, readout=readout)
    x = torch.randn(5, 9, 3)
    y = net(x)
    assert y.shape == ((5, 2) if readout == "last" else (5, 9, 2))
    y.pow(2).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_echo_state_init_follows_table_4():
    g = torch.Generator().manual_seed(0)
    net = RecurrentNetwork(2, 100, 1).echo_state_init_(input_scale=0.001, generator=g)
    w_ih, w_hh, biases = net.recurrent_weights()
    assert spectral_radius(w_hh) == pytest.approx(1.1, rel=1e-4)
    assert ((w_hh != 0).sum(1) == 15).all()
    assert w_ih.std().item() == pytest.approx(0.001, rel=0.2)
    assert net.output.weight.std().item() == pytest.approx(0.1, rel=0.2)
    assert all((b == 0).all() for b in biases)


def test_input_shift_centers_the_inputs():
    net = RecurrentNetwork(2, 8, 1, input_shift=torch.tensor([0.5, 0.1]))
    x = torch.rand(4, 6, 2)
    same = RecurrentNetwork(2, 8, 1)
    same.load_state_dict({**net.state_dict(), "input_shift": torch.zeros(2)})
    torch.testing.assert_close(net(x), same(x - torch.tensor([0.5, 0.1])))
    with pytest.raises(ValueError, match="input_shift must have shape"):
        RecurrentNetwork(2, 8, 1, input_shift=torch.zeros(3))


@pytest.mark.parametrize("cell", ["tanh", "relu", "leaky-relu"])
def test_rescale_recurrent_sets_the_spectral_radius(cell):
    torch.manual_seed(0)
    network = RecurrentNetwork(3, 20, 2, cell=cell).rescale_recurrent_(0.5)
    _, weight_hh, _ = network.recurrent_weights()
    radius = torch.linalg.eigvals(weight_hh.detach().double()).abs().max()
    assert float(radius) == pytest.approx(0.5, rel=1e-6)
    with pytest.raises(ValueError, match="not lstm"):
        RecurrentNetwork(3, 20, 2, cell="lstm").rescale_recurrent_(0.5)
