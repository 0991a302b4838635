"""GatedGraphNetwork: sum aggregation; TBPTT and Neumann-RBP gradients agree at the fixed point."""

from __future__ import annotations

import pytest
import torch

from inertia.implicit import NeumannRBP, make_gradient
from inertia.nn import GatedGraphNetwork, adjacency


def _ring(nodes: int) -> torch.Tensor:
    source = torch.arange(nodes)
    target = (source + 1) % nodes
    return torch.cat([torch.stack([source, target]), torch.stack([target, source])], dim=1)


def test_adjacency_sums_the_neighbours_rows():
    edges = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])  # 0→1, 1→2, 2→0, 2→1
    matrix = adjacency(edges, 3)
    h = torch.tensor([[1.0], [10.0], [100.0]])
    # Node 0 hears 2; node 1 hears 0 and 2; node 2 hears 1.
    assert torch.sparse.mm(matrix, h).squeeze(1).tolist() == [100.0, 101.0, 10.0]
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        adjacency(torch.zeros(3, 4, dtype=torch.long), 3)


@pytest.mark.parametrize("truncation", [2, 5])
def test_neumann_rbp_and_tbptt_give_the_same_gradient_on_a_graph(truncation):
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(12, 6, generator=generator)
    labels = torch.randint(0, 3, (12,), generator=generator)
    matrix = adjacency(_ring(12), 12)
    gradients = {}
    for method in ("tbptt", "neumann_rbp"):
        torch.manual_seed(1)
        gradient = make_gradient(method, truncation, 0.0)
        model = GatedGraphNetwork(6, 8, 3, steps=200, gradient=gradient, message_scale=0.1).double()
        model.propagation.statistics = True
        loss = torch.nn.functional.cross_entropy(model(features.double(), matrix.double()), labels)
        loss.backward()
        assert model.propagation.stats.forward_residual < 1e-10  # converged
        gradients[method] = [p.grad for p in model.parameters()]
    for a, b in zip(gradients["tbptt"], gradients["neumann_rbp"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-10)


def test_graph_network_learns_to_classify_a_small_graph():
    generator = torch.Generator().manual_seed(2)
    labels = torch.arange(20) % 2
    features = torch.randn(20, 4, generator=generator) + 2.0 * labels[:, None]
    matrix = adjacency(_ring(20), 20)
    torch.manual_seed(0)
    model = GatedGraphNetwork(4, 8, 2, steps=30, gradient=NeumannRBP(truncation=5))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(features, matrix), labels)
        loss.backward()
        optimizer.step()
    accuracy = (model(features, matrix).argmax(dim=1) == labels).float().mean()
    assert accuracy >= 0.9


@pytest.mark.parametrize("method", ["bptt", "tbptt", "rbp", "cg_rbp", "neumann_rbp"])
def test_propagation_is_the_gru_cell_on_messages_and_features(method):
    """The step with the input's gates computed once per pass is nn.GRUCell on [A W h, x]: the
    same fixed point, and the same gradients for every method."""
    generator = torch.Generator().manual_seed(3)
    features = torch.randn(10, 5, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 3, (10,), generator=generator)
    matrix = adjacency(_ring(10), 10).double()
    torch.manual_seed(4)
    model = GatedGraphNetwork(5, 6, 3, steps=60, gradient=make_gradient(method, 4, 0.0),
                              message_scale=0.3).double()  # fmt: skip

    def reference_update(h, x, a):
        return model.cell(torch.cat([torch.sparse.mm(a, model.message(h)), x], dim=1), h)

    reference = type(model.propagation)(
        reference_update, gradient=model.propagation.gradient, solver=model.propagation.solver
    )
    h0 = features.new_zeros(10, 6)
    outputs = {
        "network": model(features, matrix),
        "gru_cell": model.readout(reference(features, h0, matrix)),
    }
    gradients = {}
    for name, logits in outputs.items():
        model.zero_grad()
        torch.nn.functional.cross_entropy(logits, labels).backward()
        gradients[name] = [p.grad.clone() for p in model.parameters()]
    torch.testing.assert_close(outputs["network"], outputs["gru_cell"], rtol=1e-12, atol=1e-12)
    assert any(g.abs().max() > 0 for g in gradients["network"])
    for a, b in zip(gradients["network"], gradients["gru_cell"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
