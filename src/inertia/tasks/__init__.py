"""Registered tasks: each supplies a model, its loss and in-memory data to the generic runner.

The registry is explicit: a task is available by name once it is listed in :data:`TASKS`.
"""

from typing import Any

from inertia.tasks._autoencoder import ARCHITECTURES as ARCHITECTURES
from inertia.tasks._autoencoder import DeepAutoencoder as DeepAutoencoder
from inertia.tasks._autoencoder import autoencoder as autoencoder
from inertia.tasks._base import AbstractTask as AbstractTask
from inertia.tasks._base import Problem as Problem
from inertia.tasks._base import RecurrentCellOptions as RecurrentCellOptions
from inertia.tasks._base import TaskConfig as TaskConfig
from inertia.tasks._citation import CitationClassification as CitationClassification
from inertia.tasks._data import BatchSource as BatchSource
from inertia.tasks._data import Evaluation as Evaluation
from inertia.tasks._data import SampledBatches as SampledBatches
from inertia.tasks._data import SplitEvaluation as SplitEvaluation
from inertia.tasks._data import TensorBatches as TensorBatches
from inertia.tasks._hopfield import HopfieldMemory as HopfieldMemory
from inertia.tasks._hopfield import stored_digits as stored_digits
from inertia.tasks._hypergradient import HypergradientOptions as HypergradientOptions
from inertia.tasks._hypergradient import (
    HyperparameterOptimization as HyperparameterOptimization,
)
from inertia.tasks._hypergradient import UnrolledTraining as UnrolledTraining
from inertia.tasks._long_term import LongTermDependencies as LongTermDependencies
from inertia.tasks._long_term import LongTermOptions as LongTermOptions
from inertia.tasks._mnist_classification import MnistClassification as MnistClassification
from inertia.tasks._polyphonic import PolyphonicMusic as PolyphonicMusic
from inertia.tasks._text import PennTreebank as PennTreebank
from inertia.tasks._toy import ToyRegression as ToyRegression

TASKS: dict[str, AbstractTask[Any]] = {
    task.name: task
    for task in (
        ToyRegression(),
        MnistClassification(),
        DeepAutoencoder(),
        LongTermDependencies(),
        CitationClassification(),
        HopfieldMemory(),
        HyperparameterOptimization(),
        PolyphonicMusic(),
        PennTreebank(),
    )
}

__all__ = [
    "ARCHITECTURES",
    "TASKS",
    "AbstractTask",
    "BatchSource",
    "CitationClassification",
    "DeepAutoencoder",
    "Evaluation",
    "HopfieldMemory",
    "HypergradientOptions",
    "HyperparameterOptimization",
    "LongTermDependencies",
    "LongTermOptions",
    "MnistClassification",
    "PennTreebank",
    "PolyphonicMusic",
    "Problem",
    "RecurrentCellOptions",
    "SampledBatches",
    "SplitEvaluation",
    "TaskConfig",
    "TensorBatches",
    "ToyRegression",
    "UnrolledTraining",
    "autoencoder",
    "stored_digits",
]
