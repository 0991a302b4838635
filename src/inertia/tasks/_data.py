"""Where a run's minibatches come from and how it is scored: the two data halves of a task.

A :class:`BatchSource` hands out training minibatches and owns the random state that orders
them (so a checkpoint holds it and a resumed run draws the same batches); an
:class:`Evaluation` scores a model on whole splits (training, validation, test).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "BatchSource",
    "Evaluation",
    "SampledBatches",
    "SplitEvaluation",
    "TensorBatches",
    "place",
]

Data = Tensor | list[Tensor]


def place(data: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """``data`` (a tensor, a list of tensors, or anything else, left alone) on ``device``;
    floating-point tensors cast to ``dtype``."""
    if isinstance(data, list):
        return [place(part, device, dtype) for part in data]
    if isinstance(data, Tensor):
        return data.to(device, dtype) if data.is_floating_point() else data.to(device)
    return data


def _count(data: Data) -> int:
    return sum(part.shape[0] for part in data) if isinstance(data, list) else data.shape[0]


class BatchSource(ABC):
    """Training minibatches, drawn with a generator the source owns.

    :meth:`start` seeds it, :meth:`next` draws, :meth:`state_dict` / :meth:`load_state_dict`
    carry the position through a checkpoint.
    """

    cases: int | None = None
    """Training cases (None: unlimited, drawn fresh)."""

    @abstractmethod
    def start(self, seed: int, device: torch.device, dtype: torch.dtype) -> None:
        """Seed the order and move the data to where the model trains."""

    @abstractmethod
    def next(self, batch_size: int) -> tuple[Any, Any]:
        """The next minibatch ``(inputs, targets)``, on the device."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """The random state and position (for checkpoints)."""

    @abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict`'s output."""


class TensorBatches(BatchSource):
    """Minibatches of a dataset held in memory: a fresh random permutation per epoch, consecutive
    slices of it (the last, incomplete slice of an epoch is skipped)."""

    def __init__(self, inputs: Tensor, targets: Tensor) -> None:
        self.inputs, self.targets = inputs, targets
        self.size: int = inputs.shape[0]
        self.cases = self.size
        self.generator = torch.Generator()
        self.permutation: Tensor | None = None  # on the CPU, as stored
        self.position = 0
        self._on_device: Tensor | None = None

    def start(self, seed: int, device: torch.device, dtype: torch.dtype) -> None:
        self.generator.manual_seed(seed)
        self.inputs = place(self.inputs, device, dtype)
        self.targets = place(self.targets, device, dtype)
        self.device = device
        self.permutation, self._on_device, self.position = None, None, 0

    def next(self, batch_size: int) -> tuple[Tensor, Tensor]:
        if self._on_device is None or self.position + batch_size > self.size:  # a new epoch
            self.permutation = torch.randperm(self.size, generator=self.generator)
            self._on_device = self.permutation.to(self.device)
            self.position = 0
        batch = self._on_device[self.position : self.position + batch_size]
        self.position += batch_size
        return self.inputs[batch], self.targets[batch]

    def state_dict(self) -> dict[str, Any]:
        return {
            "permutation": self.permutation,
            "position": self.position,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.permutation, self.position = state["permutation"], state["position"]
        self.generator.set_state(state["generator"])
        permutation = self.permutation
        self._on_device = permutation.to(self.device) if permutation is not None else None


class SampledBatches(BatchSource):
    """Minibatches drawn fresh from a distribution: ``sample(batch_size, generator) -> (inputs,
    targets)`` on the CPU (generated sequences, unlimited data). The stream starts from the
    run's seed, or from ``seed`` where one is given (the weights and the data then come from
    different seeds)."""

    cases = None

    def __init__(
        self,
        sample: Callable[[int, torch.Generator], tuple[Tensor, Tensor]],
        seed: int | None = None,
    ) -> None:
        self.sample = sample
        self.seed = seed
        self.generator = torch.Generator()

    def start(self, seed: int, device: torch.device, dtype: torch.dtype) -> None:
        self.generator.manual_seed(seed if self.seed is None else self.seed)
        self.device, self.dtype = device, dtype

    def next(self, batch_size: int) -> tuple[Tensor, Tensor]:
        inputs, targets = self.sample(batch_size, self.generator)
        return place(inputs, self.device, self.dtype), place(targets, self.device, self.dtype)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.set_state(state["generator"])


class Evaluation(ABC):
    """Scores a model on whole splits: ``evaluation(model) -> {"train_error": ..., ...}``.

    Attributes:
        error_name: what ``*_error`` measures, for tables (e.g. "training squared error per
            case").
    """

    error_name: str

    @abstractmethod
    def to(self, device: torch.device, dtype: torch.dtype) -> None:
        """Move the evaluation data to where the model is."""

    @abstractmethod
    def __call__(self, model: nn.Module) -> dict[str, float]:
        """Metrics of ``model`` (in eval mode, without gradients) per split, prefixed
        ``train_``, ``valid_``, ``test_``."""


class SplitEvaluation(Evaluation):
    """Averages of per-batch metric sums over each split's cases.

    Args:
        splits: ``{"train": (inputs, targets), "valid": ..., "test": ...}``; inputs a tensor
            (first dimension = cases) or a list of such tensors (chunks of different shapes,
            e.g. sequences of different lengths), targets alike.
        metrics: ``metrics(outputs, targets)``: per-batch *sums* of the reported quantities
            (divided here by the split's number of cases), including ``"error"``, the figure
            the papers report.
        error_name: what ``"error"`` means.
        derived: ``derived(averages) -> more``: quantities that are not averages over cases
            (e.g. a ratio of two sums), computed from one split's averages.
        batch_size: cases per evaluation batch (smaller where a batch's outputs would not fit
            in memory, e.g. a 10,000-way softmax at every step).
        train_cases: measure the ``train_*`` metrics on the first this many training cases only
            (None: all), where a full pass would dominate the run's time.
        diagnostics: ``diagnostics(model) -> {name: value}``: quantities of the model itself
            (e.g. a weight matrix's spectral radius), recorded under their own names beside the
            split metrics at every evaluation.
    """

    def __init__(
        self,
        splits: Mapping[str, tuple[Data, Data]],
        metrics: Callable[[Tensor, Tensor], dict[str, Tensor]],
        error_name: str,
        derived: Callable[[dict[str, float]], dict[str, float]] | None = None,
        batch_size: int = 5000,
        train_cases: int | None = None,
        diagnostics: Callable[[nn.Module], dict[str, float]] | None = None,
    ) -> None:
        self.diagnostics = diagnostics
        self.splits = dict(splits)
        self.metrics = metrics
        self.error_name = error_name
        self.derived = derived
        self.batch_size = batch_size
        self.train_cases = train_cases

    def to(self, device: torch.device, dtype: torch.dtype) -> None:
        self.splits = {
            name: (place(inputs, device, dtype), place(targets, device, dtype))
            for name, (inputs, targets) in self.splits.items()
        }

    def _chunks(self, inputs: Data, targets: Data) -> Iterator[tuple[Tensor, Tensor]]:
        if isinstance(inputs, list) or isinstance(targets, list):
            if not (isinstance(inputs, list) and isinstance(targets, list)):
                raise TypeError("a split's inputs and targets must both be lists or tensors")
            yield from zip(inputs, targets, strict=True)
            return
        for start in range(0, inputs.shape[0], self.batch_size):
            yield inputs[start : start + self.batch_size], targets[start : start + self.batch_size]

    def split(self, model: nn.Module, inputs: Data, targets: Data) -> dict[str, float]:
        """The averaged (and derived) metrics of one split."""
        sums: dict[str, Tensor] = {}
        for chunk_inputs, chunk_targets in self._chunks(inputs, targets):
            for key, value in self.metrics(model(chunk_inputs), chunk_targets).items():
                sums[key] = sums[key] + value.double() if key in sums else value.double()
        averages = {key: value.item() / _count(inputs) for key, value in sums.items()}
        if self.derived is not None:
            averages.update(self.derived(averages))
        return averages

    @torch.no_grad()
    def __call__(self, model: nn.Module) -> dict[str, float]:
        results: dict[str, float] = {}
        for name, (inputs, targets) in self.splits.items():
            if name == "train" and self.train_cases is not None and not isinstance(inputs, list):
                inputs, targets = inputs[: self.train_cases], targets[: self.train_cases]
            for key, value in self.split(model, inputs, targets).items():
                results[f"{name}_{key}"] = value
        if self.diagnostics is not None:
            results.update(self.diagnostics(model))
        return results
