"""A small synthetic regression task: fast, needs no data files (tests, benchmarks, examples)."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import SplitEvaluation, TensorBatches

__all__ = ["ToyRegression", "ToyRegressionOptions"]


class ToyRegressionOptions(TaskConfig):
    """Attributes:
    cases: number of training cases.
    inputs: input dimension.
    hidden: width of the two tanh hidden layers.
    """

    name: Literal["toy-regression"] = "toy-regression"
    cases: int = Field(1024, ge=1)
    inputs: int = Field(8, ge=1)
    hidden: int = Field(32, ge=1)


def _squared_error_sums(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    per_case = (outputs - targets).pow(2).sum(dim=1)
    return {"error": per_case.sum(), "loss": per_case.sum()}


class ToyRegression(AbstractTask[ToyRegressionOptions]):
    """Regress y = sin(x·w₁) + 0.5 cos(x·w₂) from x ~ N(0, I) with a tanh MLP.

    The data are fixed (seed 1234) whatever the run's seed; the run's seed sets the weights.
    """

    name = "toy-regression"
    description = "synthetic regression with a small tanh MLP (no data files; for tests)"
    Options = ToyRegressionOptions

    def build(
        self, options: ToyRegressionOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        data_generator = torch.Generator().manual_seed(1234)
        x = torch.randn(options.cases, options.inputs, generator=data_generator)
        w = torch.randn(options.inputs, 2, generator=data_generator) / options.inputs**0.5
        y = torch.sin(x @ w[:, :1]) + 0.5 * torch.cos(x @ w[:, 1:])
        network = nn.Sequential(
            nn.Linear(options.inputs, options.hidden),
            nn.Tanh(),
            nn.Linear(options.hidden, options.hidden),
            nn.Tanh(),
            nn.Linear(options.hidden, 1),
        )
        return Problem(
            model=network,
            loss=lambda out, target: (out - target).pow(2).sum(dim=1).mean(),
            batches=TensorBatches(x, y),
            evaluation=SplitEvaluation(
                {"train": (x, y)}, _squared_error_sums, "training squared error per case"
            ),
            dataset="toy-regression",
            output_loss="squared-error",
            sparse_init_nonlinearity="tanh",
        )
