"""The pathological long-term-dependency problems (Hochreiter & Schmidhuber 1997), generated.

As used by Martens & Sutskever (2011) and Sutskever et al. (2013), section 4 and Table 5 (SPEC
section 4). Every minibatch is a fresh draw from a ``torch.Generator``; nothing is stored.

The problems under their plain names follow the authors' own generators (Sutskever's 2011 code
for Martens & Sutskever's HF-RNN experiments, which the 2013 paper reuses; SPEC 4.1). With T the
nominal length and f(x) = int(x T / 100):

- every sequence has its own length T' uniform in [f(100), f(110)) (XOR: [f(50), f(55))); the
  batch is padded with zeros after each sequence's end and the target sits at its last step T'
  (the ``step`` column of the targets), except for memorization and random permutation;
- ``addition`` / ``multiplication``: channel 0 is U[0,1] noise, channel 1 the markers: -1 at step
  0 (start) and at step T' - 3 ("predict soon"), +1 at the two operands, drawn in [f(1), f(10))
  and [f(10), f(50)) (an operand drawn at step 0 keeps its +1); the target is the SUM (the
  PRODUCT) of the two marked values; linear output, squared error, a case is wrong when off by
  more than 0.04;
- ``xor``: the same layout with binary values in channel 0, operands in [f(1), f(10)) and
  [f(15), f(25)); logistic output, wrong when the sign of the output disagrees with the bit;
- ``temporal-order`` (``-3``): 8 one-hot symbols: distractors 0-3 at every step, X/Y (4, 5) at
  the relevant positions [f(1), f(10)] and [f(40), f(50)] (three: [f(1), f(10)], [f(30), f(40)],
  [f(50), f(60)]), 6 at step T' - 1 ("predict"), 7 at step 0 (start; a relevant symbol drawn at
  step 0 replaces it); softmax over the 4 (8) orders at the end; the classes alternate within a
  minibatch (balanced);
- ``random-permutation``: length T; step 0 shows symbol 0 or 1, the others symbols 2-99; the
  target at every step is the next input, at the last step the first symbol; the loss counts
  every step, the error only the last;
- ``memorization-5bit`` / ``-20bit``: T is the whole length; k symbols of an alphabet of c at
  steps 0..k-1 (5-bit: k = 5, c = 2, the 32 patterns in turn within a minibatch; 20-bit: k = 10,
  c = 5), a blank input elsewhere, a cue at step T - k - 1; the targets are blank except at the
  last k steps, which reproduce the symbols; the loss counts every step, the error the wrongly
  recalled symbols per sequence (chance: 2.5 and 8, the published "biases" column).

Today's earlier variants stay under names that say how they differ: ``addition-mean`` (Pascanu
et al.'s code: the MEAN of the two values, no -1 signals, operands in [0, T'/10) and
[T'/10, T'/2), one length per minibatch), ``addition-sum-nosignals``,
``multiplication-nosignals``, ``xor-nosignals`` (the same layout), ``temporal-order-6symbols``
and ``temporal-order-3-6symbols`` (two relevant symbols A/B among 4 distractors, positions in the
10% windows after 10% and 50% of the length, no start or predict symbol),
``random-permutation-last`` (one target, at the end) and ``memorization-5bit-gap`` /
``memorization-20bit-gap`` (T blank steps between the symbols and the recall, a trigger, so the
whole length is T + 2k). ``noiseless-memorization`` is H&S (1997) experiment 2a: two classes
(x, a_1, ..., a_{T-1}) and (y, a_1, ..., a_{T-1}) with a fixed intermediate sequence.

A case (or a recall step) whose outputs are not all finite counts as wrong in every zero-one
error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal, get_args

import torch
from torch import Tensor
from torch.nn import functional

__all__ = [
    "LONG_TERM_PROBLEMS",
    "LOSS_REDUCTIONS",
    "RENAMED",
    "TOLERANCE",
    "LongTermProblem",
    "SequenceBatch",
]

Readout = Literal["last", "all"]
LossReduction = Literal["per-output", "per-sequence"]
LOSS_REDUCTIONS: tuple[str, ...] = get_args(LossReduction)
Output = Literal["linear", "logistic", "softmax"]
TOLERANCE = 0.04  # addition and multiplication: a case is wrong when off by more


@dataclasses.dataclass
class SequenceBatch:
    """A minibatch: ``inputs`` (batch, time, channels) float, zero after each sequence's end.

    ``targets`` for ``last`` read-out problems: (batch, 2), the target (a value, a bit or a
    class index) and the step at which it is scored; for ``all`` read-out: (batch, time) class
    indices."""

    inputs: Tensor
    targets: Tensor


def _scored(target: Tensor, step: Tensor | int) -> Tensor:
    """Targets with the step at which each is scored: (batch, 2), float or long like
    ``target``."""
    steps = torch.as_tensor(step).expand(target.shape[0]).to(target.dtype)
    return torch.stack([target, steps], dim=1)


def _f(length: int, percent: int) -> int:
    """f(x) = int(x T / 100) of the authors' generators."""
    return int(percent * length / 100)


def _between(low: int, high: int, size: int, generator: torch.Generator) -> Tensor:
    """Integers uniform in [low, high) (``low`` alone when the range is empty)."""
    return torch.randint(low, max(high, low + 1), (size,), generator=generator)


def _authors_marker(
    values: Literal["uniform", "binary"],
    combine: Callable[[Tensor, Tensor], Tensor],
    lengths: tuple[int, int] = (100, 110),
    first: tuple[int, int] = (1, 10),
    second: tuple[int, int] = (10, 50),
    scored_after_end: bool = True,
) -> Callable[[int, int, torch.Generator], SequenceBatch]:
    """The authors' ``op_cls``: T' drawn in [f(lengths[0]), f(lengths[1])), the target read at
    index T' (a sequence of T' + 1 steps) and the "predict soon" -1 at index T' - 3, three steps
    before it. ``scored_after_end=False`` is inertia 0.2's reading (the ``*-predict2`` problems):
    T' steps, the target at index T' - 1, two steps after the signal."""

    def sample(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        ends = _between(_f(length, lengths[0]), _f(length, lengths[1]), batch, generator)
        scored = ends if scored_after_end else ends - 1
        ends = scored + 1  # the steps of each sequence: 0 .. scored
        steps = int(ends.max())
        if values == "uniform":
            value = torch.rand(batch, steps, generator=generator)
        else:
            value = torch.randint(0, 2, (batch, steps), generator=generator).float()
        one = _between(_f(length, first[0]), _f(length, first[1]), batch, generator)
        two = _between(_f(length, second[0]), _f(length, second[1]), batch, generator)
        rows = torch.arange(batch)
        marker = torch.zeros(batch, steps)
        marker[:, 0] = -1.0  # start
        marker[rows, (ends - 4) if scored_after_end else (ends - 3)] = -1.0  # "predict soon"
        marker[rows, one] = 1.0
        marker[rows, two] = 1.0
        inside = torch.arange(steps) < ends.unsqueeze(1)
        inputs = torch.stack([value * inside, marker * inside], dim=2)
        target = combine(value[rows, one], value[rows, two])
        return SequenceBatch(inputs, _scored(target, scored))

    return sample


def _authors_temporal_order(
    windows: tuple[tuple[int, int], ...], predict_before_scored: int, scored_after_end: bool = True
) -> Callable[[int, int, torch.Generator], SequenceBatch]:
    """The authors' ``temporal2`` / ``temporal3``: T' drawn in [f(100), f(110)), the class read
    at index T' (T' + 1 steps), the predict symbol ``predict_before_scored`` steps before it
    (temporal2: 1, at T' - 1; temporal3: 0, on the scored step). inertia 0.2 scored
    ``temporal-order`` on its predict step at index T' - 1 (``scored_after_end=False``, the
    ``temporal-order-predict0`` problem)."""

    def sample(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        scored = _between(_f(length, 100), _f(length, 110), batch, generator)
        scored = scored if scored_after_end else scored - 1
        ends = scored + 1  # the steps of each sequence: 0 .. scored
        steps = int(ends.max())
        symbols = torch.randint(0, 4, (batch, steps), generator=generator)  # distractors
        symbols[:, 0] = 7  # start (a relevant symbol drawn at step 0 takes its place)
        rows = torch.arange(batch)
        classes = torch.arange(batch) % (2 ** len(windows))  # balanced: the orders in turn
        for index, (low, high) in enumerate(windows):
            position = _between(_f(length, low), _f(length, high) + 1, batch, generator)
            symbols[rows, position] = 4 + (classes >> index) % 2  # X or Y
        symbols[rows, scored - predict_before_scored] = 6  # predict
        inside = (torch.arange(steps) < ends.unsqueeze(1)).unsqueeze(2)
        inputs = functional.one_hot(symbols, 8).float() * inside
        return SequenceBatch(inputs, _scored(classes, scored))

    return sample


def _authors_random_permutation(
    batch: int, length: int, generator: torch.Generator
) -> SequenceBatch:
    symbols = torch.randint(2, 100, (batch, length), generator=generator)
    symbols[:, 0] = torch.randint(0, 2, (batch,), generator=generator)
    targets = torch.cat([symbols[:, 1:], symbols[:, :1]], dim=1)  # the next; at the end the first
    return SequenceBatch(functional.one_hot(symbols, 100).float(), targets)


def _authors_memorization(
    alphabet: int, symbols: int, every_pattern: bool
) -> Callable[[int, int, torch.Generator], SequenceBatch]:
    blank, cue = alphabet, alphabet + 1  # input channels: the symbols, blank, cue

    def sample(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        if length < 2 * symbols + 2:
            raise ValueError(f"memorization needs T >= {2 * symbols + 2}, got {length}")
        if every_pattern:  # every pattern once per alphabet**symbols sequences, shuffled
            patterns = alphabet**symbols
            codes = torch.arange(batch) % patterns
            codes = codes[torch.randperm(batch, generator=generator)]
            digits = alphabet ** torch.arange(symbols)
            shown = (codes.unsqueeze(1) // digits) % alphabet
        else:
            shown = torch.randint(0, alphabet, (batch, symbols), generator=generator)
        inputs = torch.full((batch, length), blank, dtype=torch.long)
        inputs[:, :symbols] = shown
        inputs[:, length - symbols - 1] = cue
        targets = torch.full((batch, length), alphabet, dtype=torch.long)  # class `alphabet` =
        targets[:, -symbols:] = shown  # blank
        return SequenceBatch(functional.one_hot(inputs, alphabet + 2).float(), targets)

    return sample


# --- earlier variants (Pascanu et al.'s layout; T = the gap for memorization) ------------------


def _uniform_int(low: int, high: int, size: int, generator: torch.Generator) -> Tensor:
    """Integers uniform in [low, high) (high > low)."""
    return torch.randint(low, max(high, low + 1), (size,), generator=generator)


def _sequence_length(length: int, generator: torch.Generator) -> int:
    return int(torch.randint(length, length + max(1, length // 10) + 1, (1,), generator=generator))


def _marker_problem(
    values: Literal["uniform", "binary"], combine: Callable[[Tensor, Tensor], Tensor]
) -> Callable[[int, int, torch.Generator], SequenceBatch]:
    def sample(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        steps = _sequence_length(length, generator)
        if values == "uniform":
            value = torch.rand(batch, steps, generator=generator)
        else:
            value = torch.randint(0, 2, (batch, steps), generator=generator).float()
        first = _uniform_int(0, steps // 10, batch, generator)
        second = _uniform_int(steps // 10, steps // 2, batch, generator)
        marker = torch.zeros(batch, steps)
        rows = torch.arange(batch)
        marker[rows, first] = 1.0
        marker[rows, second] = 1.0
        target = combine(value[rows, first], value[rows, second])
        return SequenceBatch(torch.stack([value, marker], dim=2), _scored(target, steps - 1))

    return sample


def _temporal_order(bits: int) -> Callable[[int, int, torch.Generator], SequenceBatch]:
    windows = {2: (0.1, 0.5), 3: (0.1, 0.3, 0.6)}[bits]

    def sample(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        steps = _sequence_length(length, generator)
        symbols = torch.randint(2, 6, (batch, steps), generator=generator)  # distractors c-f
        rows = torch.arange(batch)
        target = torch.zeros(batch, dtype=torch.long)
        for index, start in enumerate(windows):
            low = int(steps * start)
            position = _uniform_int(low, low + max(1, steps // 10), batch, generator)
            bit = torch.randint(0, 2, (batch,), generator=generator)
            symbols[rows, position] = bit  # A or B
            target += bit << index
        return SequenceBatch(functional.one_hot(symbols, 6).float(), _scored(target, steps - 1))

    return sample


def _random_permutation(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
    steps = _sequence_length(length, generator)
    symbols = torch.randint(2, 100, (batch, steps), generator=generator)
    first = torch.randint(0, 2, (batch,), generator=generator)
    symbols[:, 0] = first
    return SequenceBatch(functional.one_hot(symbols, 100).float(), _scored(first, steps - 1))


def _memorization(
    values: int, positions: int
) -> Callable[[int, int, torch.Generator], SequenceBatch]:
    blank, trigger = values, values + 1  # input channels: symbols, blank, trigger

    def sample(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        steps = length + 2 * positions
        symbols = torch.randint(0, values, (batch, positions), generator=generator)
        inputs = torch.full((batch, steps), blank, dtype=torch.long)
        inputs[:, :positions] = symbols
        inputs[:, length + positions] = trigger
        targets = torch.full((batch, steps), values, dtype=torch.long)  # class `values` = blank
        targets[:, -positions:] = symbols
        return SequenceBatch(functional.one_hot(inputs, values + 2).float(), targets)

    return sample


def _noiseless_memorization(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
    # Symbols 0 and 1 are x and y; a_1 ... a_{T-1} are the symbols 2 ... T, in order.
    first = torch.randint(0, 2, (batch,), generator=generator)
    sequence = torch.arange(1, length + 1).repeat(batch, 1)
    sequence[:, 0] = first
    inputs = functional.one_hot(sequence, length + 1).float()
    return SequenceBatch(inputs, _scored(first, length - 1))


@dataclasses.dataclass(frozen=True)
class LongTermProblem:
    """One problem: how to draw a minibatch, what the network outputs, and how it is scored.

    The network outputs every step, (batch, time, output_size); ``last`` read-out problems score
    the output at each sequence's target step, ``all`` read-out problems every step.

    Attributes:
        name: registry key.
        description: one line.
        input_size: input channels (a function of T for noiseless memorization).
        output_size: output channels.
        readout: ``last`` (one target per sequence) or ``all`` (a target at every step).
        output: ``linear`` (squared error), ``logistic`` (binary cross-entropy) or ``softmax``.
        sampler: ``sampler(batch, T, generator) -> SequenceBatch``.
        error_name: what :meth:`errors` counts, for tables.
        positions: the scored steps at the end of ``all`` read-out problems: the recall steps of
            memorization, 1 for random permutation (its loss counts every step, its error the
            last).
        source: where the definition comes from (for docs and reports).
    """

    name: str
    description: str
    input_size: Callable[[int], int]
    output_size: Callable[[int], int]
    readout: Readout
    output: Output
    sampler: Callable[[int, int, torch.Generator], SequenceBatch]
    error_name: str
    positions: int = 0
    source: str = ""

    def sample(self, batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        """Draw ``batch`` sequences of nominal length ``length``."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        if length < 10:
            raise ValueError(f"the {self.name} problem needs a length T >= 10, got {length}")
        return self.sampler(batch, length, generator)

    def _scored_outputs(self, outputs: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
        """``last`` read-out: each sequence's output at its target step, and the targets alone;
        ``all``: the outputs and targets as they are."""
        if self.readout == "all":
            return outputs, targets
        step = targets[:, 1].long()
        picked = outputs[torch.arange(outputs.shape[0], device=outputs.device), step]
        return picked, targets[:, 0]

    def loss(
        self, outputs: Tensor, targets: Tensor, reduction: LossReduction = "per-output"
    ) -> Tensor:
        """The training loss of a minibatch, reduced as ``reduction`` says:

        - ``"per-output"`` (the authors', SPEC 4.1): the matching loss of the output
          nonlinearity averaged over the scored outputs, as Sutskever's HF-RNN code divides its
          summed gradient by the mask's total: per sequence for the problems scored once, per
          scored step for memorization and random permutation (whose targets exist at every
          step); the squared error carries the 1/2 of a linear output's matching loss, whose
          gradient is the residual.
        - ``"per-sequence"`` (inertia 0.2): the loss summed over a sequence's scored steps and
          averaged over the sequences; squared error without the 1/2. At the same rate its steps
          are 2x (linear) and T x (a target at every step) those of ``"per-output"``.
        """
        if reduction not in LOSS_REDUCTIONS:
            raise ValueError(f"reduction must be one of {LOSS_REDUCTIONS}, got {reduction!r}")
        scored, target = self._scored_outputs(outputs, targets)
        count = target.numel() if reduction == "per-output" else outputs.shape[0]
        if self.output == "linear":
            squared = functional.mse_loss(scored[:, 0], target, reduction="sum")
            return (squared / 2 if reduction == "per-output" else squared) / count
        if self.output == "logistic":
            return (
                functional.binary_cross_entropy_with_logits(scored[:, 0], target, reduction="sum")
                / count
            )
        flat = scored.reshape(-1, scored.shape[-1])
        return functional.cross_entropy(flat, target.reshape(-1).long(), reduction="sum") / count

    def errors(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Sum over the batch of the zero-one error of Table 5 (see the module docstring); a
        case or recall step with any non-finite output is wrong."""
        scored, target = self._scored_outputs(outputs, targets)
        if self.readout == "all":
            scored = scored[:, -self.positions :]
            target = target[:, -self.positions :]
        finite = torch.isfinite(scored).all(-1)
        if self.output == "linear":
            right = (scored[..., 0] - target).abs() <= TOLERANCE
        elif self.output == "logistic":
            right = (scored[..., 0] > 0).to(target.dtype) == target
        elif self.readout == "last" or self.positions == 1:
            right = scored.argmax(-1) == target.long()
        else:  # memorization: the most likely symbol, the blank class left out
            right = scored[..., :-1].argmax(-1) == target.long()
        return (~(right & finite)).sum().float()

    def _targets(self, batch: SequenceBatch) -> Tensor:
        return batch.targets[:, 0] if self.readout == "last" else batch.targets

    def average_output(
        self, length: int, generator: torch.Generator, cases: int = 10_000
    ) -> Tensor:
        """The output-layer bias that predicts the average target (Table 4's output centering):
        the mean target (``linear``), its logit (``logistic``) or the log class frequencies."""
        targets = self._targets(self.sample(cases, length, generator))
        if self.output == "linear":
            return targets.float().mean().reshape(1)
        if self.output == "logistic":
            return torch.logit(targets.float().mean().clamp(1e-3, 1 - 1e-3)).reshape(1)
        counts = torch.bincount(targets.reshape(-1).long(), minlength=self.output_size(length))
        return (counts.float() / counts.sum()).clamp_min(1e-4).log()

    def input_mean(self, length: int, generator: torch.Generator, cases: int = 1000) -> Tensor:
        """Per-channel input mean over the steps of the sequences (padding left out): the
        input-centering shift."""
        batch = self.sample(cases, length, generator)
        if self.readout == "all":
            return batch.inputs.mean((0, 1))
        steps = batch.inputs.shape[1]
        inside = (torch.arange(steps) <= batch.targets[:, 1].long().unsqueeze(1)).float()
        return (batch.inputs * inside.unsqueeze(2)).sum((0, 1)) / inside.sum()

    def constant_errors(
        self,
        length: int,
        generator: torch.Generator,
        cases: int = 20_000,
        tolerance: float = TOLERANCE,
    ) -> dict[str, float]:
        """The error of predicting a constant: ``best``, the best constant for the zero-one
        error, and ``mean``, the constant a model that learns only its output biases converges
        to (the mean target for squared error, the class frequencies otherwise), which Table 5's
        "biases" column measures. Each constant is chosen on ``cases`` draws and scored on as
        many fresh ones (choosing and scoring on the same draws would flatter it).
        ``tolerance``: how far off a real-valued output may be and still count as right (the
        paper's 0.04; another value asks what a different tolerance would score)."""
        chosen_on = self._targets(self.sample(cases, length, generator)).double()
        scored_on = self._targets(self.sample(cases, length, generator)).double()
        if self.output == "linear":
            ordered = chosen_on.sort().values
            grid = torch.linspace(float(ordered[0]), float(ordered[-1]), 4001, dtype=torch.float64)
            inside = torch.searchsorted(ordered, grid + tolerance, right=True) - torch.searchsorted(
                ordered, grid - tolerance
            )  # cases within the tolerance of each constant
            best = grid[inside.argmax()]
            mean = chosen_on.mean()
            return {
                name: float(((scored_on - constant).abs() > tolerance).double().mean())
                for name, constant in (("best", best), ("mean", mean))
            }
        if self.readout == "all":
            chosen_on, scored_on = chosen_on[:, -self.positions :], scored_on[:, -self.positions :]
        if chosen_on.dim() == 1:
            chosen_on, scored_on = chosen_on.unsqueeze(1), scored_on.unsqueeze(1)
        classes = self.output_size(length)
        if self.readout == "all" and self.positions > 1:
            classes -= 1  # memorization: the recall is scored over the symbols, not the blank
        error = 0.0
        for step in range(chosen_on.shape[1]):
            counts = torch.bincount(chosen_on[:, step].long(), minlength=classes)[:classes]
            error += float((scored_on[:, step] != counts.argmax()).double().mean())
        return {"best": error, "mean": error}


def _constant(value: int) -> Callable[[int], int]:
    return lambda length: value


_marker_error = "fraction of sequences whose final output is off by more than 0.04"
_class_error = "fraction of misclassified sequences"
_recall_error = "wrongly recalled symbols per sequence"
_AUTHORS = "Sutskever's 2011 generators (Martens & Sutskever 2011; SPEC 4.1)"
_PASCANU = "Pascanu et al.'s layout (inertia 0.1's definition)"
_PREDICT2 = (
    "Sutskever's 2011 generators as inertia 0.2 read them: the target one step earlier than the "
    "authors' index T'"
)


def _problems() -> list[LongTermProblem]:
    two, one = _constant(2), _constant(1)
    authors_order = {2: ((1, 10), (40, 50)), 3: ((1, 10), (30, 40), (50, 60))}
    return [
        LongTermProblem("addition", "sum of the two marked values of a real sequence", two, one,
                        "last", "linear", _authors_marker("uniform", torch.add), _marker_error,
                        source=_AUTHORS),
        LongTermProblem("multiplication", "product of the two marked values", two, one, "last",
                        "linear", _authors_marker("uniform", torch.mul), _marker_error,
                        source=_AUTHORS),
        LongTermProblem("xor", "XOR of the two marked bits of a binary sequence", two, one, "last",
                        "logistic", _authors_marker("binary", lambda a, b: (a != b).float(),
                                                    (50, 55), (1, 10), (15, 25)),
                        _class_error, source=_AUTHORS),
        LongTermProblem("temporal-order", "order of two symbols among distractors (4 classes)",
                        _constant(8), _constant(4), "last", "softmax",
                        _authors_temporal_order(authors_order[2], 1), _class_error,
                        source=_AUTHORS),
        LongTermProblem("temporal-order-3", "order of three symbols among distractors (8 "
                        "classes)", _constant(8), _constant(8), "last", "softmax",
                        _authors_temporal_order(authors_order[3], 0), _class_error,
                        source=_AUTHORS),
        LongTermProblem("random-permutation", "predict the next of 100 symbols; at the end, the "
                        "first", _constant(100), _constant(100), "all", "softmax",
                        _authors_random_permutation, _class_error, positions=1, source=_AUTHORS),
        LongTermProblem("memorization-5bit", "recall 5 binary symbols at the end of T steps",
                        _constant(4), _constant(3), "all", "softmax",
                        _authors_memorization(2, 5, every_pattern=True), _recall_error,
                        positions=5, source=_AUTHORS),
        LongTermProblem("memorization-20bit", "recall 10 symbols of 5 at the end of T steps",
                        _constant(7), _constant(6), "all", "softmax",
                        _authors_memorization(5, 10, every_pattern=False), _recall_error,
                        positions=10, source=_AUTHORS),
        LongTermProblem("addition-predict2", "sum of the two marked values, scored two steps "
                        "after the predict signal (inertia 0.2's reading)", two, one, "last",
                        "linear", _authors_marker("uniform", torch.add, scored_after_end=False),
                        _marker_error, source=_PREDICT2),
        LongTermProblem("multiplication-predict2", "product of the two marked values, scored two "
                        "steps after the predict signal (inertia 0.2's reading)", two, one,
                        "last", "linear",
                        _authors_marker("uniform", torch.mul, scored_after_end=False),
                        _marker_error, source=_PREDICT2),
        LongTermProblem("xor-predict2", "XOR of the two marked bits, scored two steps after the "
                        "predict signal (inertia 0.2's reading)", two, one, "last", "logistic",
                        _authors_marker("binary", lambda a, b: (a != b).float(), (50, 55),
                                        (1, 10), (15, 25), scored_after_end=False),
                        _class_error, source=_PREDICT2),
        LongTermProblem("temporal-order-predict0", "order of two symbols, scored on the predict "
                        "step (inertia 0.2's reading)", _constant(8), _constant(4), "last",
                        "softmax", _authors_temporal_order(authors_order[2], 0, False),
                        _class_error, source=_PREDICT2),
        LongTermProblem("addition-mean", "mean of the two marked values (no start or predict "
                        "signal)", two, one, "last", "linear",
                        _marker_problem("uniform", lambda a, b: (a + b) / 2), _marker_error,
                        source=_PASCANU),
        LongTermProblem("addition-sum-nosignals", "sum of the two marked values (no start or "
                        "predict signal)", two, one, "last", "linear",
                        _marker_problem("uniform", torch.add), _marker_error, source=_PASCANU),
        LongTermProblem("multiplication-nosignals", "product of the two marked values (no start "
                        "or predict signal)", two, one, "last", "linear",
                        _marker_problem("uniform", torch.mul), _marker_error, source=_PASCANU),
        LongTermProblem("xor-nosignals", "XOR of the two marked bits (no start or predict "
                        "signal)", two, one, "last", "logistic",
                        _marker_problem("binary", lambda a, b: (a != b).float()), _class_error,
                        source=_PASCANU),
        LongTermProblem("temporal-order-6symbols", "order of two symbols among 4 distractors, no "
                        "start or predict symbol", _constant(6), _constant(4), "last", "softmax",
                        _temporal_order(2), _class_error, source=_PASCANU),
        LongTermProblem("temporal-order-3-6symbols", "order of three symbols among 4 "
                        "distractors, no start or predict symbol", _constant(6), _constant(8),
                        "last", "softmax", _temporal_order(3), _class_error, source=_PASCANU),
        LongTermProblem("random-permutation-last", "recall the first of 100 symbols at the end "
                        "(one target)", _constant(100), _constant(100), "last", "softmax",
                        _random_permutation, _class_error, source=_PASCANU),
        LongTermProblem("memorization-5bit-gap", "recall 5 binary symbols after T blanks",
                        _constant(4), _constant(3), "all", "softmax", _memorization(2, 5),
                        _recall_error, positions=5, source=_PASCANU),
        LongTermProblem("memorization-20bit-gap", "recall 10 symbols of 5 after T blanks",
                        _constant(7), _constant(6), "all", "softmax", _memorization(5, 10),
                        _recall_error, positions=10, source=_PASCANU),
        LongTermProblem("noiseless-memorization", "recall which of two symbols began a fixed "
                        "sequence of T symbols (H&S 1997, experiment 2a)",
                        lambda length: length + 1, _constant(2), "last", "softmax",
                        _noiseless_memorization, _class_error,
                        source="Hochreiter & Schmidhuber (1997), experiment 2a"),
    ]  # fmt: skip


LONG_TERM_PROBLEMS: dict[str, LongTermProblem] = {problem.name: problem for problem in _problems()}

# inertia 0.1's names of the variants that keep their definition under a new name.
RENAMED: dict[str, str] = {
    "addition": "addition-mean",
    "addition-sum": "addition-sum-nosignals",
    "multiplication": "multiplication-nosignals",
    "xor": "xor-nosignals",
    "temporal-order": "temporal-order-6symbols",
    "temporal-order-3": "temporal-order-3-6symbols",
    "random-permutation": "random-permutation-last",
    "memorization-5bit": "memorization-5bit-gap",
    "memorization-20bit": "memorization-20bit-gap",
}
