"""Associative memory with a continuous Hopfield network (Liao et al. 2018, section 5.1; SPEC
7.2): store 10 binarized MNIST digits (the first of each class) and recall each from a copy with
half of its on-pixels switched off.

Training cases: the 10 corrupted images (inputs) and their clean versions (targets); the test
cases are the same 10 digits under a second, independent corruption, so the test error measures
recall from corruptions never seen in training. The loss and the reported error are the mean
absolute difference per pixel between the output units' activities and the clean image (L1).
The ``gradient`` option is the gradient method (``bptt``, ``tbptt``, ``rbp``, ``cg_rbp``,
``neumann_rbp``).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

from inertia.data import load_mnist
from inertia.implicit import GRADIENT_METHODS
from inertia.nn import HopfieldNetwork
from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import SplitEvaluation, TensorBatches

__all__ = ["HopfieldMemory", "HopfieldOptions", "corrupt", "stored_digits"]


class HopfieldOptions(TaskConfig):
    """Attributes:
    gradient: how the fixed point is differentiated, one of ``inertia.implicit.GRADIENT_METHODS``.
    hidden: hidden units (1024).
    steps: forward steps (50).
    truncation: K (20).
    leak: a (1), gain: b (0.5).
    corruption: fraction of each image's on-pixels switched off (0.5).
    """

    name: Literal["hopfield"] = "hopfield"
    gradient: Literal[GRADIENT_METHODS] = "neumann_rbp"  # type: ignore[valid-type]
    hidden: int = Field(1024, ge=1)
    steps: int = Field(50, ge=1)
    truncation: int = Field(20, ge=1)
    leak: float = Field(1.0, gt=0, le=1)
    gain: float = 0.5
    corruption: float = Field(0.5, ge=0, lt=1)


def stored_digits(images: Tensor, labels: Tensor) -> Tensor:
    """The first image of each digit 0-9, binarized at 0.5: (10, 784) in {0, 1}."""
    firsts = [int(torch.nonzero(labels == digit)[0]) for digit in range(10)]
    return (images[firsts] > 0.5).float()


def corrupt(images: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """Switch off ``fraction`` of each image's on-pixels, chosen at random (rounded down)."""
    corrupted = images.clone()
    for row in corrupted:
        on = torch.nonzero(row > 0).squeeze(1)
        off = on[torch.randperm(len(on), generator=generator)[: int(fraction * len(on))]]
        row[off] = 0.0
    return corrupted


def _l1(outputs: Tensor, targets: Tensor) -> Tensor:
    return (outputs - targets).abs().mean()


def _metrics(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    per_case = (outputs - targets).abs().mean(dim=1)
    return {"error": per_case.sum(), "loss": per_case.sum()}


class HopfieldMemory(AbstractTask):
    """Recall of 10 stored MNIST digits by a Hopfield network trained through its dynamics."""

    name = "hopfield"
    description = (
        "Hopfield associative memory of 10 MNIST digits (Liao et al. 2018), trained through "
        "its dynamics by BPTT, TBPTT or a recurrent back-propagation method"
    )
    Options = HopfieldOptions

    def build(self, options, generator, data_dir):  # type: ignore[no-untyped-def]
        images, labels = load_mnist("train", data_dir)
        clean = stored_digits(images, labels)
        train_inputs = corrupt(clean, options.corruption, generator)
        test_inputs = corrupt(clean, options.corruption, generator)
        network = HopfieldNetwork(
            hidden=options.hidden, leak=options.leak, gain=options.gain, steps=options.steps,
            truncation=options.truncation,
            gradient=options.gradient,
        )  # fmt: skip
        splits = {"train": (train_inputs, clean), "test": (test_inputs, clean)}
        return Problem(
            model=network,
            loss=_l1,
            batches=TensorBatches(train_inputs, clean),
            evaluation=SplitEvaluation(
                splits, _metrics, "mean absolute error per pixel of the recalled digit"
            ),
            dataset="mnist (10 binarized digits)",
        )
