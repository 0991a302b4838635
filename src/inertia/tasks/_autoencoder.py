"""Deep autoencoders of Hinton & Salakhutdinov (2006), as trained by Sutskever et al. (2013).

Architectures (Sutskever et al. Table 6; the decoder mirrors the encoder):

- CURVES 784-400-200-100-50-25-6, MNIST 784-1000-500-250-30, FACES 625-2000-1000-500-30;
- logistic hidden units, a linear code layer;
- logistic outputs trained with cross-entropy (CURVES, MNIST), linear outputs trained with
  squared error (FACES);
- sparse initialization (Martens 2010) by default.

The reported figure is the training squared reconstruction error per case (summed over pixels,
averaged over cases), computed from the logistic outputs where there are some.
"""

from __future__ import annotations

import itertools
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from inertia.data import load_curves, load_faces, load_mnist
from inertia.init import sparse_init_
from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import SplitEvaluation, TensorBatches

__all__ = ["ARCHITECTURES", "AutoencoderOptions", "DeepAutoencoder", "autoencoder"]

ARCHITECTURES: dict[str, tuple[int, ...]] = {
    "curves": (784, 400, 200, 100, 50, 25, 6),
    "mnist": (784, 1000, 500, 250, 30),
    "faces": (625, 2000, 1000, 500, 30),
}


def autoencoder(encoder: tuple[int, ...]) -> nn.Sequential:
    """Encoder ``encoder`` (logistic hidden units, linear code) and its mirror image as decoder
    (logistic hidden units); the output layer is linear (the loss applies the output unit)."""
    sizes = encoder + encoder[-2::-1]
    layers: list[nn.Module] = []
    code_layer = len(encoder) - 2
    last = len(sizes) - 2
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(fan_in, fan_out))
        if index not in (code_layer, last):
            layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class AutoencoderOptions(TaskConfig):
    """Attributes:
    dataset: ``curves``, ``mnist`` or ``faces`` (Table 6's architecture for each).
    cases: use only the first N training cases (0 = all), for quick budgets.
    test_cases: evaluate the first N test cases (0 = no test evaluation, -1 = all); the
        papers report training error, and FACES has 62,100 test images.
    synthetic_fallback: use the named stand-in (curves-synth, faces-synth) when the original
        CURVES or FACES file is missing; otherwise a missing file is an error.
    """

    name: Literal["autoencoder"] = "autoencoder"
    dataset: Literal["curves", "mnist", "faces"] = "mnist"
    cases: int = Field(0, ge=0)
    test_cases: int = Field(10_000, ge=-1)
    synthetic_fallback: bool = True


def _logistic_sums(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    return {
        "error": (torch.sigmoid(outputs) - targets).pow(2).sum(),
        "loss": nn.functional.binary_cross_entropy_with_logits(outputs, targets, reduction="sum"),
    }


def _linear_sums(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    squared = (outputs - targets).pow(2).sum()
    return {"error": squared, "loss": squared}


def _cross_entropy_per_case(outputs: Tensor, targets: Tensor) -> Tensor:
    losses = nn.functional.binary_cross_entropy_with_logits(outputs, targets, reduction="sum")
    return losses / outputs.shape[0]


def _squared_error_per_case(outputs: Tensor, targets: Tensor) -> Tensor:
    return (outputs - targets).pow(2).sum() / outputs.shape[0]


class DeepAutoencoder(AbstractTask[AutoencoderOptions]):
    """The CURVES, MNIST and FACES autoencoders; the ``dataset`` option picks the data and the
    architecture.

    FACES pixels are standardized per pixel (zero mean, unit variance over the training set,
    the same shift and scale applied to the test set), our reading of H&S's Gaussian visible
    units; CURVES and MNIST stay in [0, 1].
    """

    name = "autoencoder"
    description = (
        "deep autoencoders of Hinton & Salakhutdinov 2006 (Sutskever et al. Tables 1-3) on "
        "CURVES, MNIST or FACES"
    )
    Options = AutoencoderOptions

    def build(
        self, options: AutoencoderOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        dataset = options.dataset
        if dataset == "mnist":
            train, _ = load_mnist("train", data_dir)
            test, _ = load_mnist("test", data_dir)
            name = "mnist"
        elif dataset == "curves":
            train, name = load_curves(
                "train", data_dir, synthetic_fallback=options.synthetic_fallback
            )
            test, _ = load_curves("test", data_dir, synthetic_fallback=options.synthetic_fallback)
        else:
            train, name = load_faces(
                "train", data_dir, synthetic_fallback=options.synthetic_fallback
            )
            test, _ = load_faces("test", data_dir, synthetic_fallback=options.synthetic_fallback)
            mean, std = train.mean(dim=0), train.std(dim=0).clamp_min(1e-6)
            train, test = (train - mean) / std, (test - mean) / std
        if options.cases:
            train = train[: options.cases]
        if options.test_cases >= 0:
            test = test[: options.test_cases]
        network = sparse_init_(autoencoder(ARCHITECTURES[dataset]), generator=generator)
        logistic = dataset != "faces"
        splits = {"train": (train, train), **({"test": (test, test)} if len(test) else {})}
        return Problem(
            model=network,
            loss=_cross_entropy_per_case if logistic else _squared_error_per_case,
            batches=TensorBatches(train, train),
            evaluation=SplitEvaluation(
                splits,
                _logistic_sums if logistic else _linear_sums,
                "training squared error per case",
            ),
            dataset=name,
            output_loss="logistic-cross-entropy" if logistic else "squared-error",
        )
