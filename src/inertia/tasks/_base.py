"""What a task supplies to the generic runner: a model, its loss, and in-memory data."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import torch
from pydantic import BaseModel, ConfigDict, model_validator
from torch import Tensor, nn

__all__ = ["AbstractTask", "Problem", "RecurrentCellOptions", "TaskConfig"]


class TaskConfig(BaseModel):
    """A task's section of a run config: its registry name and its typed options (each task
    subclasses this with ``name: Literal["its-name"]`` and its fields). Unknown keys are
    rejected; the values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str


@dataclasses.dataclass
class Problem:
    """One instantiated task: a model and the data it is trained on, all as tensors.

    Attributes:
        model: the network, already initialized (the task's default initialization).
        train_inputs: all training inputs, first dimension = cases; or a list of such tensors
            (chunks of different shapes, e.g. sequences of different lengths).
        train_targets: the matching targets (a list where ``train_inputs`` is one).
        loss: ``loss(outputs, targets)``, the training objective averaged over the batch.
        metrics: ``metrics(outputs, targets)``: per-batch *sums* of the reported quantities
            (the runner divides by the number of cases), including ``"error"``, the figure the
            papers report.
        error_name: what ``"error"`` means, for tables (e.g. "training squared error per case").
        test_inputs: optional held-out inputs, evaluated with the same metrics.
        test_targets: their targets.
        validation_inputs: optional inputs for model selection (``valid_*`` metrics; a
            protocol's ``select_metric`` can pick settings by them), evaluated like the test set.
        validation_targets: their targets.
        evaluation_batch: cases per evaluation batch where the default (5000) would not fit in
            memory (e.g. a 10,000-way softmax at every step).
        train_evaluation_cases: measure the ``train_*`` metrics on the first this many training
            cases only (None: all), where a full pass would dominate the run's time.
        sparse_init_nonlinearity: the unit type ``init=sparse`` assumes (``"sigmoid"`` or
            ``"tanh"``, Sutskever et al. section 3.2).
        dataset: the name of the data actually used (e.g. ``curves-synth`` for the stand-in),
            recorded with every result so that no one mistakes it for the original.
        derived_metrics: ``derived_metrics(averages) -> more``: quantities that are not averages
            over cases (e.g. a ratio of two sums, which equals the ratio of their averages),
            computed from one split's averaged metrics and reported beside them.
        output_loss: the output nonlinearity and matching loss that ``loss`` computes, one of
            ``inertia.optim.OUTPUT_LOSSES`` (what Hessian-free needs for its Gauss-Newton
            products); None where the loss is not one of them.
        sample_batch: for problems with unlimited data (generated sequences),
            ``sample_batch(batch_size, generator) -> (inputs, targets)`` draws a fresh minibatch on
            the CPU; the runner then trains on draws, and ``train_inputs``/``train_targets`` are a
            fixed sample of the same distribution on which the training error is measured.
    """

    model: nn.Module
    train_inputs: Tensor | list[Tensor]
    train_targets: Tensor | list[Tensor]
    loss: Callable[[Tensor, Tensor], Tensor]
    metrics: Callable[[Tensor, Tensor], dict[str, Tensor]]
    error_name: str
    test_inputs: Tensor | None = None
    test_targets: Tensor | None = None
    sparse_init_nonlinearity: str = "sigmoid"
    dataset: str = ""
    sample_batch: Callable[[int, torch.Generator], tuple[Tensor, Tensor]] | None = None
    output_loss: str | None = None
    derived_metrics: Callable[[dict[str, float]], dict[str, float]] | None = None
    validation_inputs: Tensor | list[Tensor] | None = None
    validation_targets: Tensor | list[Tensor] | None = None
    evaluation_batch: int | None = None
    train_evaluation_cases: int | None = None


class AbstractTask(ABC):
    """A registered task. Subclasses set the class attributes and implement :meth:`build`.

    Attributes:
        name: the registry name (the ``task.name`` of a run).
        description: one line for ``inertia tasks``.
        Options: the task's section of a run config, a :class:`TaskConfig` subclass.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Options: ClassVar[type[TaskConfig]]

    @abstractmethod
    def build(
        self, options: TaskConfig, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        """Create the model (initialized with ``generator``) and load or generate the data.

        Tensors may be returned on the CPU in float32; the runner moves and casts them.
        """


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
