"""The pathological long-term-dependency problems (Hochreiter & Schmidhuber 1997), generated.

As used by Martens & Sutskever (2011) and Sutskever et al. (2013), section 4 and Table 5 (SPEC
section 4). Every minibatch is a fresh draw from a ``torch.Generator``; nothing is stored. ``T``
is the minimum length: sequences of the marker problems have a length drawn uniformly from
[T, 1.1 T] once per minibatch; the memorization problems have T blank steps between the symbols
and the recall.

Conventions (where the papers leave a choice):

- addition: the target is the *mean* of the two marked values (as in Pascanu et al.'s
  implementation of these problems); ``addition-sum`` is the same problem with the sum. A case is
  wrong when the absolute error of the final output exceeds 0.04.
- memorization: symbols are one-hot; the output at each step is a softmax over the symbols and a
  blank. The error of a sequence is the number of recall steps whose most likely *symbol* is wrong,
  so a model that knows nothing scores 2.5 on 5-bit and 8 on 20-bit memorization, the "biases"
  column of Table 5. The loss counts every step (blank targets included).
- noiseless memorization: H&S (1997) experiment 2a, two classes (x, a_1, ..., a_{T-1}) and
  (y, a_1, ..., a_{T-1}) with a fixed intermediate sequence; the last output names the class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor
from torch.nn import functional

__all__ = ["LONG_TERM_PROBLEMS", "LongTermProblem", "SequenceBatch"]

Readout = Literal["last", "all"]
Output = Literal["linear", "logistic", "softmax"]


@dataclasses.dataclass
class SequenceBatch:
    """A minibatch: ``inputs`` (batch, time, channels) float; ``targets`` per the problem's output:
    ``linear``/``logistic`` (batch, 1) float, ``softmax`` with ``last`` read-out (batch,) class
    indices, ``softmax`` with ``all`` read-out (batch, time) class indices."""

    inputs: Tensor
    targets: Tensor


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
        target = combine(value[rows, first], value[rows, second]).unsqueeze(1)
        return SequenceBatch(torch.stack([value, marker], dim=2), target)

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
        return SequenceBatch(functional.one_hot(symbols, 6).float(), target)

    return sample


def _random_permutation(batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
    steps = _sequence_length(length, generator)
    symbols = torch.randint(2, 100, (batch, steps), generator=generator)
    first = torch.randint(0, 2, (batch,), generator=generator)
    symbols[:, 0] = first
    return SequenceBatch(functional.one_hot(symbols, 100).float(), first)


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
    return SequenceBatch(functional.one_hot(sequence, length + 1).float(), first)


@dataclasses.dataclass(frozen=True)
class LongTermProblem:
    """One problem: how to draw a minibatch, what the network outputs, and how it is scored.

    Attributes:
        name: registry key.
        description: one line.
        input_size: input channels (a function of T for noiseless memorization).
        output_size: output channels.
        readout: ``last`` (predict at the final step) or ``all`` (every step).
        output: ``linear`` (squared error), ``logistic`` (binary cross-entropy) or ``softmax``.
        sampler: ``sampler(batch, T, generator) -> SequenceBatch``.
        error_name: what :meth:`errors` counts, for tables.
        positions: recall steps of the memorization problems (0 otherwise).
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

    def sample(self, batch: int, length: int, generator: torch.Generator) -> SequenceBatch:
        """Draw ``batch`` sequences of minimum length ``length``."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        if length < 10:
            raise ValueError(f"the {self.name} problem needs a length T >= 10, got {length}")
        return self.sampler(batch, length, generator)

    def loss(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Per-sequence loss averaged over the batch (summed over steps for ``all`` read-out)."""
        batch = outputs.shape[0]
        if self.output == "linear":
            return functional.mse_loss(outputs, targets, reduction="sum") / batch
        if self.output == "logistic":
            return (
                functional.binary_cross_entropy_with_logits(outputs, targets, reduction="sum")
                / batch
            )
        flat = outputs.reshape(-1, outputs.shape[-1])
        return functional.cross_entropy(flat, targets.reshape(-1), reduction="sum") / batch

    def errors(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Sum over the batch of the zero-one error of Table 5 (see the module docstring)."""
        if self.output == "linear":
            return ((outputs - targets).abs() > 0.04).sum().float()
        if self.output == "logistic":
            return ((outputs > 0).float() != targets).sum().float()
        if self.readout == "last":
            return (outputs.argmax(-1) != targets).sum().float()
        recall = outputs[:, -self.positions :, :-1]  # the symbol classes, without the blank
        return (recall.argmax(-1) != targets[:, -self.positions :]).sum().float()

    def average_output(
        self, length: int, generator: torch.Generator, cases: int = 10_000
    ) -> Tensor:
        """The output-layer bias that predicts the average target (Table 4's output centering):
        the mean target (``linear``), its logit (``logistic``) or the log class frequencies."""
        batch = self.sample(cases, length, generator)
        if self.output == "linear":
            return batch.targets.float().mean(0)
        if self.output == "logistic":
            return torch.logit(batch.targets.float().mean(0).clamp(1e-3, 1 - 1e-3))
        counts = torch.bincount(batch.targets.reshape(-1), minlength=self.output_size(length))
        return (counts.float() / counts.sum()).clamp_min(1e-4).log()

    def input_mean(self, length: int, generator: torch.Generator, cases: int = 1000) -> Tensor:
        """Per-channel input mean over steps and sequences (the input-centering shift)."""
        return self.sample(cases, length, generator).inputs.mean((0, 1))


def _constant(value: int) -> Callable[[int], int]:
    return lambda length: value


_marker_error = "fraction of sequences whose final output is off by more than 0.04"
_class_error = "fraction of misclassified sequences"
_recall_error = "wrongly recalled symbols per sequence"

LONG_TERM_PROBLEMS: dict[str, LongTermProblem] = {
    problem.name: problem
    for problem in (
        LongTermProblem("addition", "mean of the two marked values of a real sequence",
                        _constant(2), _constant(1), "last", "linear",
                        _marker_problem("uniform", lambda a, b: (a + b) / 2), _marker_error),
        LongTermProblem("addition-sum", "sum of the two marked values of a real sequence",
                        _constant(2), _constant(1), "last", "linear",
                        _marker_problem("uniform", torch.add), _marker_error),
        LongTermProblem("multiplication", "product of the two marked values",
                        _constant(2), _constant(1), "last", "linear",
                        _marker_problem("uniform", torch.mul), _marker_error),
        LongTermProblem("xor", "XOR of the two marked bits of a binary sequence",
                        _constant(2), _constant(1), "last", "logistic",
                        _marker_problem("binary", lambda a, b: (a != b).float()), _class_error),
        LongTermProblem("temporal-order", "order of two symbols among distractors (4 classes)",
                        _constant(6), _constant(4), "last", "softmax", _temporal_order(2),
                        _class_error),
        LongTermProblem("temporal-order-3", "order of three symbols among distractors (8 classes)",
                        _constant(6), _constant(8), "last", "softmax", _temporal_order(3),
                        _class_error),
        LongTermProblem("random-permutation", "recall the first of 100 symbols at the end",
                        _constant(100), _constant(100), "last", "softmax", _random_permutation,
                        _class_error),
        LongTermProblem("memorization-5bit", "recall 5 binary symbols after T blanks",
                        _constant(4), _constant(3), "all", "softmax", _memorization(2, 5),
                        _recall_error, positions=5),
        LongTermProblem("memorization-20bit", "recall 10 symbols of 5 after T blanks",
                        _constant(7), _constant(6), "all", "softmax", _memorization(5, 10),
                        _recall_error, positions=10),
        LongTermProblem("noiseless-memorization", "recall which of two symbols began a fixed "
                        "sequence of T symbols (H&S 1997, experiment 2a)",
                        lambda length: length + 1, _constant(2), "last", "softmax",
                        _noiseless_memorization, _class_error),
    )
}  # fmt: skip
