"""What a task supplies to the generic runner: a model, its loss, its batches and its evaluation."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Generic, Literal, TypeVar

import torch
from pydantic import model_validator
from torch import Tensor, nn

from inertia.config import Section
from inertia.tasks._data import BatchSource, Evaluation

__all__ = ["AbstractTask", "Problem", "RecurrentCellOptions", "TaskConfig"]


class TaskConfig(Section):
    """A task's section of a run config: its registry name and its typed options (each task
    subclasses this with ``name: Literal["its-name"]`` and its fields). Unknown keys, booleans
    given for numbers and non-finite numbers are rejected; the values are frozen."""

    name: str


@dataclasses.dataclass
class Problem:
    """One instantiated task, what the generic runner trains: a model, its loss, where its
    minibatches come from and how it is scored.

    Attributes:
        model: the network, already initialized (the task's default initialization).
        loss: ``loss(model(inputs), targets)``, the training objective averaged over the batch.
        batches: the training minibatches (:class:`TensorBatches` of data in memory,
            :class:`SampledBatches` of generated data).
        evaluation: scores the model on whole splits (``train_error`` is the papers' figure).
        dataset: the name of the data actually used (e.g. ``curves-synth`` for the stand-in),
            recorded with every result so that no one mistakes it for the original.
        output_loss: the output nonlinearity and matching loss that ``loss`` computes, one of
            ``inertia.optim.OUTPUT_LOSSES`` (what Hessian-free needs for its Gauss-Newton
            products); None where the loss is not one of them.
        sparse_init_nonlinearity: the unit type ``init=sparse`` assumes (``"sigmoid"`` or
            ``"tanh"``, Sutskever et al. section 3.2).

    Tensors may be on the CPU in float32; the runner moves and casts them (``batches.start``,
    ``evaluation.to``).
    """

    model: nn.Module
    loss: Callable[[Tensor, Tensor], Tensor]
    batches: BatchSource
    evaluation: Evaluation
    dataset: str
    output_loss: str | None = None
    sparse_init_nonlinearity: Literal["sigmoid", "tanh"] = "sigmoid"


OptionsT = TypeVar("OptionsT", bound="TaskConfig")


class AbstractTask(ABC, Generic[OptionsT]):
    """A registered task, generic in its options class. Subclasses set the class attributes and
    implement :meth:`build`.

    Attributes:
        name: the registry name (the ``task.name`` of a run).
        description: one line for ``inertia tasks``.
        Options: the task's section of a run config, a :class:`TaskConfig` subclass.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Options: type[OptionsT]

    @abstractmethod
    def build(self, options: OptionsT, generator: torch.Generator, data_dir: str | None) -> Problem:
        """Create the model (initialized with ``generator``) and load or generate the data.

        Tensors may be returned on the CPU in float32; the runner moves and casts them.
        """

    def missing_data(self, options: OptionsT, data_dir: str | None) -> str | None:
        """Why a run with ``options`` cannot get its data here (a one-line message naming the
        file and where to put it), or None when it can. A sweep skips such runs instead of
        failing on them. Tasks whose data are generated or always present keep the default."""
        return None


class RecurrentCellOptions(TaskConfig):
    """Options of the tasks whose model is a recurrent network of :mod:`inertia.nn` cells.

    Attributes:
        cell: the recurrent cell, one of ``inertia.nn.CELLS``.
        leak_low, leak_high: the per-unit α range of the leaky cells (0 <= low <= high < 1).
        recurrent_radius: rescale the initial hidden-to-hidden matrix to this spectral radius
            (0: keep torch's uniform initialization, radius about 0.6 at 200 units; must be 0
            for the LSTM).
    """

    cell: str = "tanh"
    leak_low: float = 0.0
    leak_high: float = 0.9
    recurrent_radius: float = 0.0

    @model_validator(mode="after")
    def _recurrent(self) -> RecurrentCellOptions:
        if not 0 <= self.leak_low <= self.leak_high < 1:
            raise ValueError(
                f"{self.name} options 'leak_low' <= 'leak_high' must lie in [0, 1), got "
                f"{self.leak_low}, {self.leak_high}"
            )
        if self.recurrent_radius < 0 or (self.recurrent_radius > 0 and self.cell == "lstm"):
            raise ValueError(
                f"{self.name} option 'recurrent_radius' must be >= 0 (and 0 for the lstm cell), "
                f"got {self.recurrent_radius}"
            )
        return self
