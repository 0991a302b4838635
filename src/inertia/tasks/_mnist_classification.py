"""MNIST digit classification with an MLP or a LeNet-5-style convnet (LeCun et al. 1998)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from inertia.data import load_mnist
from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import SplitEvaluation, TensorBatches

__all__ = ["MnistClassification", "MnistClassificationOptions", "lenet5", "mlp"]


class MnistClassificationOptions(TaskConfig):
    """Attributes:
    network: ``mlp`` (784-300-100-10, ReLU) or ``lenet5`` (a LeNet-5-style convnet).
    """

    name: Literal["mnist-classification"] = "mnist-classification"
    network: Literal["mlp", "lenet5"] = "mlp"


def mlp() -> nn.Module:
    """784-300-100-10 with ReLU units (the LeCun et al. 1998 MLP sizes, today's units)."""
    return nn.Sequential(
        nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10)
    )


def lenet5() -> nn.Module:
    """A LeNet-5-style convnet: conv5x5(6)-pool-conv5x5(16)-pool-120-84-10, ReLU, max pooling."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 6, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def _classification_sums(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    return {
        "error": (outputs.argmax(dim=1) != targets).sum().to(outputs.dtype),
        "loss": nn.functional.cross_entropy(outputs, targets, reduction="sum"),
    }


class MnistClassification(AbstractTask[MnistClassificationOptions]):
    """Softmax classification of the 60,000 MNIST training digits; test error on the 10,000."""

    name = "mnist-classification"
    description = "MNIST digits, softmax + cross-entropy; an MLP (784-300-100-10) or LeNet-5"
    Options = MnistClassificationOptions

    def build(
        self, options: MnistClassificationOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        train_images, train_labels = load_mnist("train", data_dir or None)
        test_images, test_labels = load_mnist("test", data_dir or None)
        network = lenet5() if options.network == "lenet5" else mlp()
        splits = {"train": (train_images, train_labels), "test": (test_images, test_labels)}
        return Problem(
            model=network,
            loss=lambda out, target: nn.functional.cross_entropy(out, target),
            batches=TensorBatches(train_images, train_labels),
            evaluation=SplitEvaluation(
                splits, _classification_sums, "training classification error"
            ),
            dataset="mnist",
            output_loss="softmax-cross-entropy",
        )
