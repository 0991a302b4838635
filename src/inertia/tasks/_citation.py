"""Semi-supervised node classification on citation networks with a recurrent graph network
trained by BPTT, TBPTT or recurrent back-propagation (Liao et al. 2018, section 5.2; SPEC 7.3).

The whole graph is one case: the input is the (1, nodes, features) feature matrix, the model
(:class:`inertia.nn.GatedGraphNetwork` around the graph's edges) returns (1, nodes, classes)
logits, and the targets are the labels of the split's nodes with -1 elsewhere (ignored). The
training set's targets are the training nodes, the test set's the test nodes, so the runner's
``train_error`` and ``test_error`` are the misclassified fractions of those nodes. The
``gradient`` option picks the gradient method: ``bptt``, ``tbptt``, ``rbp``, ``cg_rbp``,
``neumann_rbp``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from inertia.data import DataError, PlanetoidName, load_planetoid
from inertia.implicit import GradientName, make_gradient
from inertia.nn import GatedGraphNetwork, adjacency
from inertia.tasks._base import AbstractTask, Problem, TaskConfig
from inertia.tasks._data import SplitEvaluation, TensorBatches

__all__ = ["CitationClassification", "CitationOptions", "pca_features"]


class CitationOptions(TaskConfig):
    """Attributes:
    gradient: how the fixed point is differentiated, one of ``inertia.implicit.GRADIENT_METHODS``
        (Liao et al. 2018: BPTT, TBPTT, RBP, CG-RBP, Neumann-RBP).
    dataset: ``cora``, ``citeseer`` or ``pubmed``.
    split: ``liao`` (a seeded random 1% / 49% / 50% split of the labeled nodes, Liao et al.)
        or ``planetoid`` (the standard 20 per class / 500 / 1000).
    split_seed: the seed of the ``liao`` split.
    pca: reduce the features to this many principal components (Liao et al.: 64 for Cora,
        16 for Pubmed; 0 = the raw bag of words).
    hidden: state units per node.
    steps: propagation steps (100 in the paper).
    truncation: K of the gradient method (5 in the paper).
    """

    name: Literal["citation"] = "citation"
    gradient: GradientName = "neumann_rbp"
    dataset: PlanetoidName = "cora"
    split: Literal["liao", "planetoid"] = "liao"
    split_seed: int = Field(0, ge=0)
    pca: int = Field(64, ge=0)
    hidden: int = Field(64, ge=1)
    steps: int = Field(100, ge=1)
    truncation: int = Field(5, ge=1)


def pca_features(features: Tensor, components: int) -> Tensor:
    """The first ``components`` principal components of the centered features, scaled to unit
    overall standard deviation (deterministic: an SVD, signs fixed by the largest entry)."""
    centered = features - features.mean(dim=0)
    _, _, right = torch.linalg.svd(centered.double(), full_matrices=False)
    basis = right[:components]
    signs = torch.sign(basis.gather(1, basis.abs().argmax(dim=1, keepdim=True)))
    projected = (centered.double() @ (basis * signs).T).float()
    return projected / projected.std()


@functools.lru_cache(maxsize=4)
def _reduced_features(dataset: str, data_dir: str | None, components: int) -> Tensor:
    """:func:`pca_features` of a dataset, computed once per process: a sweep worker trains run
    after run on the same graph, and the SVD of Citeseer's 3327 x 3703 features takes minutes on
    one core."""
    return pca_features(load_planetoid(dataset, data_dir).features, components)


class _GraphClassifier(nn.Module):
    """A GatedGraphNetwork bound to one graph: (1, nodes, features) -> (1, nodes, classes)."""

    edges: Tensor  # a buffer, for the type checker

    def __init__(self, network: GatedGraphNetwork, edges: Tensor, nodes: int) -> None:
        super().__init__()
        self.network = network
        self.nodes = nodes
        self.register_buffer("edges", edges)

    def forward(self, inputs: Tensor) -> Tensor:
        matrix = adjacency(self.edges, self.nodes).to(inputs.dtype)
        return torch.stack([self.network(graph, matrix) for graph in inputs])


def _masked(labels: Tensor, nodes: Tensor) -> Tensor:
    targets = torch.full_like(labels, -1)
    targets[nodes] = labels[nodes]
    return targets[None]


def _loss(outputs: Tensor, targets: Tensor) -> Tensor:
    return nn.functional.cross_entropy(
        outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1), ignore_index=-1
    )


def _metrics(outputs: Tensor, targets: Tensor) -> dict[str, Tensor]:
    flat_outputs, flat_targets = outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1)
    labeled = flat_targets >= 0
    count = labeled.sum().clamp_min(1).to(outputs.dtype)
    wrong = (flat_outputs[labeled].argmax(dim=1) != flat_targets[labeled]).sum()
    loss = nn.functional.cross_entropy(flat_outputs[labeled], flat_targets[labeled],
                                       reduction="sum")  # fmt: skip
    # One case per graph: the runner divides by the number of graphs, so these are fractions.
    return {"error": wrong.to(outputs.dtype) / count, "loss": loss / count}


class CitationClassification(AbstractTask[CitationOptions]):
    """Cora, Citeseer or Pubmed node classification by a GRU graph network at its fixed point."""

    name = "citation"
    description = (
        "citation-network node classification with a recurrent GNN (Liao et al. 2018), "
        "differentiated by BPTT, TBPTT or a recurrent back-propagation method"
    )
    Options = CitationOptions

    def missing_data(self, options: CitationOptions, data_dir: str | None) -> str | None:
        """The Planetoid files of ``options.dataset`` cannot be read or downloaded (e.g.
        ``ind.pubmed.allx``, absent from the shared data)."""
        try:
            load_planetoid(options.dataset, data_dir)
        except DataError as error:
            return str(error)
        return None

    def build(
        self, options: CitationOptions, generator: torch.Generator, data_dir: str | None
    ) -> Problem:
        graph = load_planetoid(options.dataset, data_dir)
        if options.pca:
            folder = str(Path(data_dir).resolve()) if data_dir is not None else None
            features = _reduced_features(options.dataset, folder, options.pca).clone()
        else:
            features = graph.features
        if options.split == "liao":
            train, _, test = graph.random_split(0.01, 0.49, options.split_seed)
        else:
            train, test = graph.train, graph.test
        network = GatedGraphNetwork(
            features.shape[1], options.hidden, graph.num_classes, steps=options.steps,
            gradient=make_gradient(options.gradient, options.truncation, 0.0),
        )  # fmt: skip
        inputs = features[None]  # one case: the whole graph
        train_targets, test_targets = _masked(graph.labels, train), _masked(graph.labels, test)
        splits = {"train": (inputs, train_targets), "test": (inputs, test_targets)}
        return Problem(
            model=_GraphClassifier(network, graph.edges, features.shape[0]),
            loss=_loss,
            batches=TensorBatches(inputs, train_targets),
            evaluation=SplitEvaluation(
                splits, _metrics, "classification error on the split's nodes"
            ),
            dataset=f"{options.dataset} ({options.split} split)",
        )
