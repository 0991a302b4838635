"""Associative memory with a continuous Hopfield network (Liao et al. 2018, section 5.1; SPEC
7.2): store 10 binarized MNIST digits (the first of each class) and recall each from a copy with
half of its on-pixels switched off.

Two variants (``variant``):

- ``official``, as lrjconan/RBP runs it (model/hopfield_net.py, runner/hopfield_runner.py):
  pixels binarized at > 0; training clamps the CLEAN digits and fits the output units' raw
  states to them (L1); the test clamps the digits with half their on-pixels off and scores the
  output states binarized at 0.5 (L1 per pixel). W = R + Rᵀ, the clamped units enter the update
  through σ(b x) like the free ones.
- ``inertia-0.1``, this library's first reading: pixels binarized at 0.5; training on one
  corruption of each digit and testing on a second one, both scored by the L1 between σ(b h)
  of the output units and the clean digit; W = (R + Rᵀ)/2, clamped inputs enter unsquashed.

The reported error is the L1 per pixel (``official``: of the binarized recall). The
``gradient`` option is the gradient method (``bptt``, ``tbptt``, ``rbp``, ``cg_rbp``,
``neumann_rbp``).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

from inertia.data import load_mnist
from inertia.implicit import GradientName, make_gradient
from inertia.nn import HopfieldNetwork, HopfieldVariant
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
    variant: ``official`` (lrjconan/RBP's definition) or ``inertia-0.1`` (the module docstring
        says how they differ).
    """

    name: Literal["hopfield"] = "hopfield"
    gradient: GradientName = "neumann_rbp"
    hidden: int = Field(1024, ge=1)
    steps: int = Field(50, ge=1)
    truncation: int = Field(20, ge=1)
    leak: float = Field(1.0, gt=0, le=1)
    gain: float = 0.5
    corruption: float = Field(0.5, ge=0, lt=1)
    variant: HopfieldVariant = "official"


def stored_digits(images: Tensor, labels: Tensor, threshold: float = 0.5) -> Tensor:
    """The first image of each digit 0-9, binarized (pixel > ``threshold``; the official code
    uses 0): (10, 784) in {0, 1}."""
    firsts = [int(torch.nonzero(labels == digit)[0]) for digit in range(10)]
    return (images[firsts] > threshold).float()


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


def _binarized_metrics(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    """The official code's validation: the L1 of the output states binarized at 0.5; the loss
    stays the L1 of the raw states that training minimizes."""
    recalled = (outputs > 0.5).to(outputs.dtype)
    return {
        "error": (recalled - targets).abs().mean(dim=1).sum(),
        "loss": (outputs - targets).abs().mean(dim=1).sum(),
    }


class HopfieldMemory(AbstractTask[HopfieldOptions]):
    """Recall of 10 stored MNIST digits by a Hopfield network trained through its dynamics."""

    name = "hopfield"
    description = (
        "Hopfield associative memory of 10 MNIST digits (Liao et al. 2018), trained through "
        "its dynamics by BPTT, TBPTT or a recurrent back-propagation method"
    )
    Options = HopfieldOptions

    def build(
        self, options: HopfieldOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        images, labels = load_mnist("train", data_dir)
        official = options.variant == "official"
        clean = stored_digits(images, labels, threshold=0.0 if official else 0.5)
        if official:  # train on the clean digits, test on corrupted ones
            train_inputs = clean
            test_inputs = corrupt(clean, options.corruption, generator)
        else:
            train_inputs = corrupt(clean, options.corruption, generator)
            test_inputs = corrupt(clean, options.corruption, generator)
        network = HopfieldNetwork(
            hidden=options.hidden, leak=options.leak, gain=options.gain, steps=options.steps,
            gradient=make_gradient(options.gradient, options.truncation, 0.0),
            variant=options.variant,
        )  # fmt: skip
        splits = {"train": (train_inputs, clean), "test": (test_inputs, clean)}
        error_name = (
            "mean absolute error per pixel of the recalled digit, binarized at 0.5"
            if official
            else "mean absolute error per pixel of the recalled digit"
        )
        return Problem(
            model=network,
            loss=_l1,
            batches=TensorBatches(train_inputs, clean),
            evaluation=SplitEvaluation(
                splits, _binarized_metrics if official else _metrics, error_name
            ),
            dataset=f"mnist (10 digits binarized at > {0 if official else 0.5})",
        )
