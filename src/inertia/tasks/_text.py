"""Penn Treebank language modelling, characters or words (Bengio, Boulanger-Lewandowski &
Pascanu 2012, section 4): predict each token from the ones before it.

Training cases are consecutive windows of ``chunk`` tokens (input: the tokens, target: the next
ones; the RNN's state starts afresh in each window). Validation and test cases are windows of
``chunk`` scored tokens preceded by ``context`` unscored ones, so that every scored prediction
sees at least ``context`` tokens of history (``<eos>`` padding before a split's first token).
Target rows hold (next token id, weight): 0 on unscored positions, cases/scored tokens elsewhere,
so that the runner's per-case averages are per token:

- ``loss``: cross-entropy per token in nats; ``error``: the same in bits (bits per character
  at the character level); ``perplexity`` = exp(loss) (the word-level figure).

The recurrent cell is an option (``cell``).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor
from torch.nn import functional

from inertia.data import EOS, load_ptb
from inertia.nn import CellName, LanguageRNN
from inertia.tasks._base import AbstractTask, Problem, RecurrentCellOptions
from inertia.tasks._data import SplitEvaluation, TensorBatches

__all__ = ["PennTreebank", "TextOptions", "scored_windows", "training_windows"]


class TextOptions(RecurrentCellOptions):
    """Attributes (and those of :class:`RecurrentCellOptions`: cell, leak_low, leak_high,
    recurrent_radius):
    level: ``char`` or ``word``.
    hidden: recurrent units (200).
    embedding: input-layer width (0: min(vocabulary, hidden)).
    chunk: tokens per training window and scored tokens per evaluation window (100).
    context: unscored tokens before each evaluation window (100).
    train_evaluation_tokens: training tokens on which ``train_*`` metrics are measured (0: all;
        the word-level softmax makes a full pass over 929k tokens slow on a CPU).
    """

    name: Literal["ptb"] = "ptb"
    level: Literal["char", "word"] = "char"
    cell: CellName = "tanh"
    hidden: int = Field(200, ge=1)
    embedding: int = Field(0, ge=0)
    chunk: int = Field(100, ge=1)
    context: int = Field(100, ge=0)
    train_evaluation_tokens: int = Field(0, ge=0)


def _targets(ids: Tensor, weights: Tensor) -> Tensor:
    return torch.stack([ids.float(), weights], dim=-1)


def training_windows(ids: Tensor, chunk: int) -> tuple[Tensor, Tensor]:
    """Consecutive windows of ``chunk`` tokens: inputs ``(cases, chunk)`` int64 and targets
    ``(cases, chunk, 2)`` (next id, weight cases/tokens); a last incomplete window is dropped."""
    cases = (ids.numel() - 1) // chunk
    inputs = ids[: cases * chunk].view(cases, chunk)
    following = ids[1 : cases * chunk + 1].view(cases, chunk)
    return inputs, _targets(following, torch.full(following.shape, 1.0 / chunk))


def scored_windows(ids: Tensor, chunk: int, context: int, pad: int) -> tuple[Tensor, Tensor]:
    """Windows that score every next-token prediction of ``ids`` exactly once, each after
    ``context`` unscored tokens (``pad`` ids before the start). Returns inputs
    ``(cases, context + chunk)`` and targets ``(cases, context + chunk, 2)``."""
    padded = torch.cat([torch.full((context,), pad, dtype=ids.dtype), ids])
    predictions = ids.numel() - 1  # ids[t + 1] from ids[: t + 1]
    cases = math.ceil(predictions / chunk)
    length = context + chunk
    inputs = torch.full((cases, length), pad, dtype=ids.dtype)
    following = torch.full((cases, length), pad, dtype=ids.dtype)
    weights = torch.zeros(cases, length)
    for case in range(cases):
        start = case * chunk  # the first scored prediction is of ids[start + 1]
        end = min(start + chunk, predictions)
        window = padded[start : context + end]  # inputs up to ids[end - 1]
        inputs[case, : window.numel()] = window
        following[case, : window.numel()] = padded[start + 1 : context + end + 1]
        weights[case, context : context + end - start] = 1.0
    return inputs, _targets(following, weights * cases / predictions)


def _cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    ids, weights = targets[..., 0].long(), targets[..., 1]
    return functional.cross_entropy(logits.transpose(1, 2), ids, reduction="none") * weights


def _loss(logits: Tensor, targets: Tensor) -> Tensor:
    return _cross_entropy(logits, targets).sum() / targets[..., 1].sum()


def _metrics(logits: Tensor, targets: Tensor) -> dict[str, Tensor]:
    total = _cross_entropy(logits, targets).sum()
    return {"loss": total, "error": total / math.log(2)}


def _perplexity(averages: dict[str, float]) -> dict[str, float]:
    return {"perplexity": math.exp(min(averages["loss"], 700.0))}


class PennTreebank(AbstractTask[TextOptions]):
    """Next-token prediction on Penn Treebank with a recurrent softmax model."""

    name = "ptb"
    description = (
        "Penn Treebank language modelling (characters: bits per character; words: perplexity) "
        "with an RNN (Bengio et al. 2012)"
    )
    Options = TextOptions

    def build(
        self, options: TextOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        splits = {split: load_ptb(options.level, split, data_dir)
                  for split in ("train", "valid", "test")}  # fmt: skip
        vocabulary = splits["train"].vocabulary
        pad = vocabulary.index(EOS)
        inputs, targets = training_windows(splits["train"].ids, options.chunk)
        evaluated = {
            split: scored_windows(splits[split].ids, options.chunk, options.context, pad)
            for split in ("valid", "test")
        }
        network = LanguageRNN(
            len(vocabulary), options.hidden, options.embedding or None, cell=options.cell,
            leak_range=(options.leak_low, options.leak_high),
        )  # fmt: skip
        if options.recurrent_radius:
            network.rnn.rescale_recurrent_(options.recurrent_radius)
        length = options.context + options.chunk
        train_cases = options.train_evaluation_tokens // options.chunk or None
        evaluation = SplitEvaluation(
            {"train": (inputs, targets), **evaluated},
            _metrics,
            f"bits per {'character' if options.level == 'char' else 'word'}",
            derived=_perplexity,
            batch_size=max(1, 20_000_000 // (length * len(vocabulary))),  # logits <= 80 MB
            train_cases=train_cases,
        )
        return Problem(
            model=network,
            loss=_loss,
            batches=TensorBatches(inputs, targets),
            evaluation=evaluation,
            dataset=f"ptb-{options.level}",
        )
