"""Polyphonic music prediction (Bengio, Boulanger-Lewandowski & Pascanu 2012, section 4;
Boulanger-Lewandowski, Bengio & Vincent 2012): predict each 88-note frame of a piano roll from
the frames before it.

Training cases are subsequences of ``chunk`` steps (the RNN's state starts afresh in each, as in
Boulanger-Lewandowski's code; each step's input is the true previous frame, zero before a
sequence's first), padded at the end; validation and test cases are whole sequences of the
standard ``valid`` and ``test`` splits (metrics ``valid_*`` and ``test_*``), padded within groups
of similar length. Every target row carries a weight: 0 on padding,
cases/steps of its split elsewhere, so that the runner's per-case averages come out per time step:

- ``loss``/``error``: negative log-likelihood per time step, in nats (exact for both output
  models);
- ``tp``, ``fp``, ``fn`` per step, and ``accuracy`` = TP / (TP + FP + FN) summed over all frames
  (Bay et al. 2009's frame-level accuracy), of the predicted frame: notes with probability above
  ½ (logistic outputs) or NADE's greedy vector.

The ``output`` option is the output model (``logistic``: independent notes, ``nade``: RNN-NADE,
``rbm``: RNN-RBM trained by CD-k, its NLL exact up to 18 hidden units, else AIS); the recurrent
cell and its sizes are options (:class:`inertia.nn.PolyphonicRNN`).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

from inertia.data import MusicDatasetName, load_music
from inertia.nn import CellName, PolyphonicRNN
from inertia.tasks._base import AbstractTask, Problem, RecurrentCellOptions
from inertia.tasks._data import Data, SplitEvaluation, TensorBatches

__all__ = ["PolyphonicMusic", "PolyphonicOptions", "chunk_sequences", "group_sequences"]

_GROUP_FRAMES = 20_000  # padded frames per evaluation group


class PolyphonicOptions(RecurrentCellOptions):
    """Attributes (and those of :class:`RecurrentCellOptions`: cell, leak_low, leak_high,
    recurrent_radius):
    output: the output model: ``logistic`` (independent notes), ``nade`` (RNN-NADE) or ``rbm``
        (RNN-RBM).
    dataset: ``jsb``, ``nottingham``, ``musedata`` or ``piano-midi``.
    hidden: recurrent units (200).
    nade_hidden: the NADE's hidden units (100).
    rbm_hidden: the RBM's hidden units (10; the likelihood is exact up to
        :data:`inertia.nn.EXACT_HIDDEN_LIMIT`, 18, above that an AIS estimate).
    cd_steps: k of the RBM's CD-k training (10).
    chunk: steps per training subsequence (100).
    """

    name: Literal["polyphonic"] = "polyphonic"
    output: Literal["logistic", "nade", "rbm"] = "logistic"
    dataset: MusicDatasetName = "jsb"
    cell: CellName = "tanh"
    hidden: int = Field(200, ge=1)
    nade_hidden: int = Field(100, ge=1)
    rbm_hidden: int = Field(10, ge=1)
    cd_steps: int = Field(10, ge=1)
    chunk: int = Field(100, ge=1)


def _shifted(roll: Tensor) -> Tensor:
    """Inputs of a sequence: the previous frame at every step, zeros before the first."""
    return torch.cat([torch.zeros(1, roll.shape[1]), roll[:-1]])


def _weighted(frames: Tensor, valid: Tensor, weight: float) -> Tensor:
    return torch.cat([frames, (valid * weight).unsqueeze(-1)], dim=-1)


def chunk_sequences(rolls: list[Tensor], chunk: int) -> tuple[Tensor, Tensor]:
    """Training cases: every sequence cut into ``chunk``-step pieces, the last one padded.
    Returns inputs ``(cases, chunk, D)`` and targets ``(cases, chunk, D + 1)`` whose last
    column weights the steps (0 on padding, cases/steps elsewhere)."""
    inputs, frames, valid = [], [], []
    for roll in rolls:
        shifted = _shifted(roll)
        for start in range(0, roll.shape[0], chunk):
            piece = roll[start : start + chunk]
            pad = chunk - piece.shape[0]
            inputs.append(torch.nn.functional.pad(shifted[start : start + chunk], (0, 0, 0, pad)))
            frames.append(torch.nn.functional.pad(piece, (0, 0, 0, pad)))
            valid.append(torch.arange(chunk) < piece.shape[0])
    steps = sum(roll.shape[0] for roll in rolls)
    weight = len(inputs) / steps
    mask = torch.stack(valid).float()
    return torch.stack(inputs), _weighted(torch.stack(frames), mask, weight)


def group_sequences(rolls: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    """Evaluation cases: whole sequences, sorted by length and padded within groups of about
    ``_GROUP_FRAMES`` padded frames. Returns lists of inputs ``(n, T, D)`` and weighted targets
    ``(n, T, D + 1)`` (weight cases/steps of the whole split on real steps)."""
    order = sorted(range(len(rolls)), key=lambda i: rolls[i].shape[0])
    weight = len(rolls) / sum(roll.shape[0] for roll in rolls)
    groups: list[list[int]] = [[]]
    for index in order:
        longest = rolls[index].shape[0]  # sorted: the newest member is the longest
        if groups[-1] and (len(groups[-1]) + 1) * longest > _GROUP_FRAMES:
            groups.append([])
        groups[-1].append(index)
    inputs, targets = [], []
    for group in groups:
        length = max(rolls[i].shape[0] for i in group)
        pad = [length - rolls[i].shape[0] for i in group]
        inputs.append(torch.stack([
            torch.nn.functional.pad(_shifted(rolls[i]), (0, 0, 0, p)) for i, p in zip(group, pad)
        ]))  # fmt: skip
        frames = torch.stack([torch.nn.functional.pad(rolls[i], (0, 0, 0, p))
                              for i, p in zip(group, pad)])  # fmt: skip
        mask = torch.stack([(torch.arange(length) < rolls[i].shape[0]).float() for i in group])
        targets.append(_weighted(frames, mask, weight))
    return inputs, targets


class _Objective:
    """Loss and metrics of a :class:`PolyphonicRNN` on weighted targets."""

    def __init__(self, model: PolyphonicRNN) -> None:
        self.model = model

    def loss(self, readout: Tensor, targets: Tensor) -> Tensor:
        frames, weight = targets[..., :-1], targets[..., -1]
        objective = self.model.training_nll(readout, frames)
        return (objective * weight).sum() / weight.sum()

    def metrics(self, readout: Tensor, targets: Tensor) -> dict[str, Tensor]:
        frames, weight = targets[..., :-1], targets[..., -1]
        nll = -self.model.log_prob(readout, frames)
        predicted = self.model.predict(readout)
        tp = (predicted * frames).sum(-1)
        fp = (predicted * (1 - frames)).sum(-1)
        fn = ((1 - predicted) * frames).sum(-1)
        total = (nll * weight).sum()
        return {
            "loss": total,
            "error": total,
            "tp": (tp * weight).sum(),
            "fp": (fp * weight).sum(),
            "fn": (fn * weight).sum(),
        }


def _accuracy(averages: dict[str, float]) -> dict[str, float]:
    denominator = averages["tp"] + averages["fp"] + averages["fn"]
    return {"accuracy": averages["tp"] / denominator if denominator > 0 else 0.0}


class PolyphonicMusic(AbstractTask[PolyphonicOptions]):
    """Next-frame prediction on a polyphonic music dataset with an RNN and an output model."""

    name = "polyphonic"
    description = (
        "polyphonic music (JSB, Nottingham, MuseData, Piano-midi.de) next-frame NLL per step "
        "(Bengio et al. 2012) with independent-logistic, RNN-NADE or RNN-RBM outputs"
    )
    Options = PolyphonicOptions

    def build(
        self, options: PolyphonicOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        train_rolls = load_music(options.dataset, "train", data_dir)
        inputs, targets = chunk_sequences(train_rolls, options.chunk)
        valid_inputs, valid_targets = group_sequences(
            load_music(options.dataset, "valid", data_dir)
        )
        test_inputs, test_targets = group_sequences(load_music(options.dataset, "test", data_dir))
        network = PolyphonicRNN(
            notes=inputs.shape[-1],
            hidden_size=options.hidden,
            output_model=options.output,
            nade_hidden=options.nade_hidden,
            rbm_hidden=options.rbm_hidden,
            cd_steps=options.cd_steps,
            cell=options.cell,
            leak_range=(options.leak_low, options.leak_high),
        )
        if options.recurrent_radius:
            network.rnn.rescale_recurrent_(options.recurrent_radius)
        objective = _Objective(network)
        splits: dict[str, tuple[Data, Data]] = {
            "train": (inputs, targets),
            "valid": (valid_inputs, valid_targets),
            "test": (test_inputs, test_targets),
        }
        return Problem(
            model=network,
            loss=objective.loss,
            batches=TensorBatches(inputs, targets),
            evaluation=SplitEvaluation(
                splits,
                objective.metrics,
                "negative log-likelihood per time step (nats)",
                derived=_accuracy,
            ),
            dataset=options.dataset,
            sparse_init_nonlinearity="tanh",
        )
