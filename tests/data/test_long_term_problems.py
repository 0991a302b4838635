"""The long-term-dependency problems: the authors' generators (SPEC 4.1), inertia 0.1's variants
under their new names, the constant predictors' errors and non-finite outputs."""

from __future__ import annotations

import math

import pytest
import torch

from inertia.data import LONG_TERM_PROBLEMS


def draw(name: str, batch: int = 64, length: int = 50, seed: int = 0):
    return LONG_TERM_PROBLEMS[name].sample(batch, length, torch.Generator().manual_seed(seed))


def f(length: int, percent: int) -> int:
    return int(percent * length / 100)


@pytest.mark.parametrize(
    ("name", "lengths", "first", "second"),
    [
        ("addition", (100, 110), (1, 10), (10, 50)),
        ("multiplication", (100, 110), (1, 10), (10, 50)),
        ("xor", (50, 55), (1, 10), (15, 25)),
        ("addition-predict2", (100, 110), (1, 10), (10, 50)),
        ("multiplication-predict2", (100, 110), (1, 10), (10, 50)),
        ("xor-predict2", (50, 55), (1, 10), (15, 25)),
    ],
)
@pytest.mark.parametrize("length", [80, 200])
def test_authors_marker_problems(name, lengths, first, second, length):
    batch = draw(name, batch=2000, length=length)
    value, marker = batch.inputs[..., 0], batch.inputs[..., 1]
    target, step = batch.targets[:, 0], batch.targets[:, 1].long()
    # The authors' op_cls draws T' in [f(low), f(high)) and reads the target at index T' (a
    # sequence of T' + 1 steps), the "predict soon" -1 at T' - 3; inertia 0.2 (*-predict2) read
    # it at T' - 1, two steps after the signal.
    authors = not name.endswith("-predict2")
    drawn = step if authors else step + 1  # T'
    assert f(length, lengths[0]) <= int(drawn.min())
    assert int(drawn.max()) < f(length, lengths[1])
    assert len(drawn.unique()) > 1  # a length per sequence, not per minibatch
    ends = step + 1  # the steps of each sequence
    assert batch.inputs.shape[1] == int(ends.max())
    steps = torch.arange(batch.inputs.shape[1])
    assert (batch.inputs[steps >= ends.unsqueeze(1)] == 0).all()  # padding after the end
    rows = torch.arange(2000)
    assert (marker[rows, drawn - 3] == -1).all()  # "predict soon"
    assert (marker[rows, step - (3 if authors else 2)] == -1).all()
    plus = (marker == 1).nonzero()
    assert (marker == 1).sum(1).tolist() == [2] * 2000
    one, two = plus[:, 1].view(-1, 2).T
    assert f(length, first[0]) <= int(one.min())
    assert int(one.max()) < f(length, first[1])
    assert f(length, second[0]) <= int(two.min())
    assert int(two.max()) < f(length, second[1])
    assert ((marker[:, 0] == -1) | (one == 0)).all()  # the start signal unless an operand is there
    a, b = value[rows, one], value[rows, two]
    combined = {"addition": a + b, "multiplication": a * b, "xor": (a != b).float()}
    expected = combined[name.removesuffix("-predict2")]
    torch.testing.assert_close(target, expected)
    if name.startswith("xor"):
        assert set(value.unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize(("name", "windows", "predict_before", "first_scored"), [
    ("temporal-order", ((1, 10), (40, 50)), 1, 100),  # temporal2: predict at T' - 1, scored T'
    ("temporal-order-3", ((1, 10), (30, 40), (50, 60)), 0, 100),  # temporal3: both at T'
    ("temporal-order-predict0", ((1, 10), (40, 50)), 0, 99),  # inertia 0.2: both at T' - 1
])  # fmt: skip
def test_authors_temporal_order(name, windows, predict_before, first_scored):
    length = 100
    batch = draw(name, batch=64, length=length)
    symbols = batch.inputs.argmax(-1)
    classes, step = batch.targets[:, 0], batch.targets[:, 1]
    assert classes.tolist() == [i % 2 ** len(windows) for i in range(64)]  # balanced
    rows = torch.arange(64)
    assert ((symbols[:, 0] == 7) | (symbols[:, 0] >= 4)).all()  # start, unless X/Y is there
    assert (symbols[rows, step - predict_before] == 6).all()
    assert first_scored <= int(step.min())
    assert int(step.max()) < first_scored + 10
    assert batch.inputs.shape[1] == int(step.max()) + 1
    for row in range(64):
        relevant = ((symbols[row] == 4) | (symbols[row] == 5)).nonzero().squeeze(1)
        assert len(relevant) == len(windows)
        for index, (position, (low, high)) in enumerate(zip(relevant, windows)):
            assert f(length, low) <= int(position) <= f(length, high)
            assert int(symbols[row, position]) - 4 == (int(classes[row]) >> index) & 1


def test_authors_random_permutation_predicts_the_next_symbol_and_at_the_end_the_first():
    batch = draw("random-permutation", batch=32, length=40)
    symbols = batch.inputs.argmax(-1)
    assert batch.inputs.shape[1] == 40
    assert (symbols[:, 0] < 2).all()
    assert (symbols[:, 1:] >= 2).all()
    assert (batch.targets[:, :-1] == symbols[:, 1:]).all()
    assert (batch.targets[:, -1] == symbols[:, 0]).all()


@pytest.mark.parametrize(("name", "alphabet", "symbols"),
                         [("memorization-5bit", 2, 5), ("memorization-20bit", 5, 10)])  # fmt: skip
def test_authors_memorization_t_is_the_whole_length(name, alphabet, symbols):
    length = 60
    batch = draw(name, batch=64, length=length)
    shown = batch.inputs.argmax(-1)
    assert batch.inputs.shape[1] == length
    assert (shown[:, length - symbols - 1] == alphabet + 1).all()  # the cue
    assert (batch.targets[:, -symbols:] == shown[:, :symbols]).all()
    assert (batch.targets[:, :-symbols] == alphabet).all()  # blank elsewhere
    if name == "memorization-5bit":
        codes = (shown[:, :5] * 2 ** torch.arange(5)).sum(1)
        assert sorted(codes.tolist()) == sorted(list(range(32)) * 2)  # each pattern twice in 64


@pytest.mark.parametrize("name", ["addition-mean", "addition-sum-nosignals",
                                  "multiplication-nosignals", "xor-nosignals"])  # fmt: skip
def test_0_1_marker_variants_keep_their_definition(name):
    batch = draw(name, batch=256, length=100)
    steps = batch.inputs.shape[1]
    assert 100 <= steps <= 110
    value, marker = batch.inputs[..., 0], batch.inputs[..., 1]
    assert (marker.sum(1) == 2).all()  # no -1 signals
    positions = marker.nonzero()[:, 1].view(-1, 2)
    assert (positions[:, 0] < steps // 10).all()
    assert ((positions[:, 1] >= steps // 10) & (positions[:, 1] < steps // 2)).all()
    rows = torch.arange(256)
    a, b = value[rows, positions[:, 0]], value[rows, positions[:, 1]]
    expected = {
        "addition-mean": (a + b) / 2,
        "addition-sum-nosignals": a + b,
        "multiplication-nosignals": a * b,
        "xor-nosignals": (a != b).float(),
    }[name]
    torch.testing.assert_close(batch.targets[:, 0], expected)
    assert (batch.targets[:, 1] == steps - 1).all()


@pytest.mark.parametrize(
    ("name", "bits"), [("temporal-order-6symbols", 2), ("temporal-order-3-6symbols", 3)]
)
def test_0_1_temporal_order_variants(name, bits):
    batch = draw(name, batch=128, length=60)
    symbols = batch.inputs.argmax(-1)
    relevant = symbols < 2
    assert (relevant.sum(1) == bits).all()
    for row in range(128):
        values = symbols[row][relevant[row]]
        assert sum(int(v) << i for i, v in enumerate(values)) == batch.targets[row, 0]


@pytest.mark.parametrize(
    ("name", "values", "positions"),
    [("memorization-5bit-gap", 2, 5), ("memorization-20bit-gap", 5, 10)],
)
def test_0_1_memorization_variants_have_t_blank_steps(name, values, positions):
    gap = 30
    batch = draw(name, batch=32, length=gap)
    symbols = batch.inputs.argmax(-1)
    assert batch.inputs.shape[1] == gap + 2 * positions
    assert (symbols[:, positions + gap] == values + 1).all()  # the trigger
    assert (batch.targets[:, -positions:] == symbols[:, :positions]).all()


def test_random_permutation_last_and_noiseless_memorization():
    batch = draw("random-permutation-last", batch=64)
    symbols = batch.inputs.argmax(-1)
    assert (symbols[:, 0] == batch.targets[:, 0]).all()
    batch = draw("noiseless-memorization", batch=16, length=20)
    symbols = batch.inputs.argmax(-1)
    assert (symbols[:, 1:] == torch.arange(2, 21)).all()
    assert (symbols[:, 0] == batch.targets[:, 0]).all()


def _triangle_hit(delta: float) -> float:
    """P(|S − 1| ≤ δ) for S the sum of two U[0, 1] (a triangular density on [0, 2])."""
    return 2 * delta - delta**2


def _product_hit(low: float, high: float) -> float:
    """P(low ≤ XY ≤ high) for X, Y ~ U[0, 1] (density −ln p on (0, 1])."""

    def cdf(p: float) -> float:
        return 0.0 if p <= 0 else p - p * math.log(p)

    return cdf(high) - cdf(max(low, 0.0))


@pytest.mark.parametrize(
    ("name", "best", "mean"),
    [
        ("addition", 1 - _triangle_hit(0.04), 1 - _triangle_hit(0.04)),
        ("addition-mean", 1 - _triangle_hit(0.08), 1 - _triangle_hit(0.08)),
        ("multiplication", 1 - _product_hit(0.0, 0.08), 1 - _product_hit(0.21, 0.29)),
        ("xor", 0.5, 0.5),
        ("temporal-order", 0.75, 0.75),
        ("temporal-order-3", 0.875, 0.875),
        ("random-permutation", 0.5, 0.5),
        ("memorization-5bit", 2.5, 2.5),
        ("memorization-20bit", 8.0, 8.0),
    ],
)
def test_constant_predictor_errors_match_their_closed_forms(name, best, mean):
    """The best constant (for the zero-one error) and the mean predictor (what a model that
    learns only its output biases reaches): e.g. the sum of two U[0, 1] is triangular on [0, 2],
    so a constant is within 0.04 of it with probability 2(0.04) − 0.04²."""
    errors = LONG_TERM_PROBLEMS[name].constant_errors(80, torch.Generator().manual_seed(1))
    assert errors["best"] == pytest.approx(best, abs=0.02)
    assert errors["mean"] == pytest.approx(mean, abs=0.02)


def _perfect(problem, batch, length: int) -> torch.Tensor:
    """Outputs that answer every scored step right."""
    steps = batch.inputs.shape[1]
    outputs = torch.zeros(batch.inputs.shape[0], steps, problem.output_size(length))
    rows = torch.arange(batch.inputs.shape[0])
    if problem.readout == "last":
        target, step = batch.targets[:, 0], batch.targets[:, 1].long()
        if problem.output == "linear":
            outputs[rows, step, 0] = target.float()
        elif problem.output == "logistic":
            outputs[rows, step, 0] = 10 * (2 * target.float() - 1)
        else:
            outputs[rows, step, target.long()] = 10.0
    else:
        outputs.scatter_(2, batch.targets.long().unsqueeze(2), 10.0)
    return outputs


@pytest.mark.parametrize("name", sorted(LONG_TERM_PROBLEMS))
def test_non_finite_outputs_are_wrong_in_every_problem(name):
    problem = LONG_TERM_PROBLEMS[name]
    batch = problem.sample(32, 30, torch.Generator().manual_seed(0))
    steps = batch.inputs.shape[1]
    scored = 32 * (problem.positions if problem.readout == "all" else 1)
    for bad in (math.nan, math.inf, -math.inf):
        outputs = torch.full((32, steps, problem.output_size(30)), bad)
        assert problem.errors(outputs, batch.targets) == scored, bad
    perfect = _perfect(problem, batch, 30)
    assert problem.errors(perfect, batch.targets) == 0
    step = int(batch.targets[0, 1]) if problem.readout == "last" else steps - 1
    perfect[0, step, 0] = math.nan  # one non-finite entry spoils its case (its step) alone
    assert problem.errors(perfect, batch.targets) == 1


def test_draws_are_reproducible_and_bad_sizes_are_refused():
    a, b = draw("addition", seed=3), draw("addition", seed=3)
    assert torch.equal(a.inputs, b.inputs)
    with pytest.raises(ValueError, match="length T >= 10"):
        LONG_TERM_PROBLEMS["addition"].sample(4, 5, torch.Generator())
    with pytest.raises(ValueError, match="batch must be >= 1"):
        LONG_TERM_PROBLEMS["addition"].sample(0, 50, torch.Generator())


@pytest.mark.parametrize(
    ("name", "length"),
    [("addition", 30), ("xor", 30), ("temporal-order", 30), ("memorization-20bit", 40)],
)
def test_the_authors_loss_averages_over_the_scored_outputs(name, length):
    """SPEC 4.1: the authors divide the summed loss by the mask's total (per sequence where one
    step is scored, per step for memorization) and a linear output's loss carries its 1/2;
    inertia 0.2 summed over a sequence's steps and averaged over sequences, without the 1/2."""
    problem = LONG_TERM_PROBLEMS[name]
    batch = draw(name, batch=16, length=length)
    outputs = torch.randn(*batch.inputs.shape[:2], problem.output_size(length))
    per_output = problem.loss(outputs, batch.targets, "per-output")
    per_sequence = problem.loss(outputs, batch.targets, "per-sequence")
    assert problem.loss(outputs, batch.targets) == per_output  # the authors' by default
    steps = batch.inputs.shape[1] if problem.readout == "all" else 1
    half = 2 if problem.output == "linear" else 1
    torch.testing.assert_close(per_sequence, per_output * steps * half)
    scored = outputs[torch.arange(16), batch.targets[:, 1].long(), 0]
    if name == "addition":  # written out: 1/2 (y - t)^2 averaged over the 16 scored outputs
        expected = ((scored - batch.targets[:, 0]) ** 2 / 2).mean()
        torch.testing.assert_close(per_output, expected)
    with pytest.raises(ValueError, match="reduction must be one of"):
        problem.loss(outputs, batch.targets, "sum")
