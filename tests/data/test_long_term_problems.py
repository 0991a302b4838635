from __future__ import annotations

import pytest
import torch

from inertia.data import LONG_TERM_PROBLEMS


def draw(name: str, batch: int = 64, length: int = 50, seed: int = 0):
    return LONG_TERM_PROBLEMS[name].sample(batch, length, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", ["addition", "addition-sum", "multiplication", "xor"])
def test_marker_problems_place_one_marker_in_each_window_and_combine_the_marked_values(name):
    batch = draw(name, batch=256, length=100)
    steps = batch.inputs.shape[1]
    assert 100 <= steps <= 110
    value, marker = batch.inputs[..., 0], batch.inputs[..., 1]
    assert (marker.sum(1) == 2).all()
    positions = marker.nonzero()[:, 1].view(-1, 2)
    assert (positions[:, 0] < steps // 10).all()
    assert ((positions[:, 1] >= steps // 10) & (positions[:, 1] < steps // 2)).all()
    rows = torch.arange(256)
    a, b = value[rows, positions[:, 0]], value[rows, positions[:, 1]]
    expected = {
        "addition": (a + b) / 2,
        "addition-sum": a + b,
        "multiplication": a * b,
        "xor": (a != b).float(),
    }[name]
    torch.testing.assert_close(batch.targets.squeeze(1), expected)
    if name == "xor":
        assert set(value.unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize(("name", "bits"), [("temporal-order", 2), ("temporal-order-3", 3)])
def test_temporal_order_target_encodes_the_relevant_symbols_in_order(name, bits):
    batch = draw(name, batch=128, length=60)
    symbols = batch.inputs.argmax(-1)
    assert (batch.inputs.sum(-1) == 1).all()  # one-hot
    relevant = symbols < 2
    assert (relevant.sum(1) == bits).all()
    for row in range(128):
        values = symbols[row][relevant[row]]
        code = sum(int(v) << i for i, v in enumerate(values))
        assert code == batch.targets[row]


def test_random_permutation_target_is_the_first_symbol():
    batch = draw("random-permutation", batch=64)
    symbols = batch.inputs.argmax(-1)
    assert (symbols[:, 0] == batch.targets).all()
    assert (symbols[:, 1:] >= 2).all()


@pytest.mark.parametrize(("name", "values", "positions"),
                         [("memorization-5bit", 2, 5), ("memorization-20bit", 5, 10)])  # fmt: skip
def test_memorization_recalls_the_symbols_after_the_trigger(name, values, positions):
    gap = 30
    batch = draw(name, batch=32, length=gap)
    symbols = batch.inputs.argmax(-1)
    assert batch.inputs.shape[1] == gap + 2 * positions
    assert (symbols[:, positions + gap] == values + 1).all()  # the trigger
    assert (batch.targets[:, -positions:] == symbols[:, :positions]).all()
    assert (batch.targets[:, :-positions] == values).all()  # blank elsewhere


def test_a_model_that_knows_nothing_scores_the_published_biases_column():
    """Chance recall: 2.5 of 5 binary symbols, 8 of 10 five-way symbols (Table 5, 'biases')."""
    for name, chance in [("memorization-5bit", 2.5), ("memorization-20bit", 8.0)]:
        problem = LONG_TERM_PROBLEMS[name]
        batch = draw(name, batch=4000, length=20)
        constant = torch.zeros(*batch.targets.shape, problem.output_size(20))
        constant[..., 0] = 1.0  # always the first symbol
        per_sequence = problem.errors(constant, batch.targets) / 4000
        assert per_sequence == pytest.approx(chance, rel=0.03)
    addition = LONG_TERM_PROBLEMS["addition"]
    batch = draw("addition", batch=20000)
    mean = torch.full_like(batch.targets, 0.5)
    assert addition.errors(mean, batch.targets) / 20000 == pytest.approx(0.846, abs=0.01)


def test_noiseless_memorization_has_a_fixed_middle():
    batch = draw("noiseless-memorization", batch=16, length=20)
    symbols = batch.inputs.argmax(-1)
    assert (symbols[:, 1:] == torch.arange(2, 21)).all()
    assert (symbols[:, 0] == batch.targets).all()


def test_draws_are_reproducible_and_bad_sizes_are_refused():
    a, b = draw("addition", seed=3), draw("addition", seed=3)
    assert torch.equal(a.inputs, b.inputs)
    with pytest.raises(ValueError, match="length T >= 10"):
        LONG_TERM_PROBLEMS["addition"].sample(4, 5, torch.Generator())
    with pytest.raises(ValueError, match="batch must be >= 1"):
        LONG_TERM_PROBLEMS["addition"].sample(0, 50, torch.Generator())
