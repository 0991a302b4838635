"""Planetoid citation networks: counts, split, edges, checksums, the restricted unpickler."""

from __future__ import annotations

import pickle
import shutil

import pytest
import torch

from inertia.data import DataError, load_planetoid
from inertia.data._planetoid import _unpickle


@pytest.mark.parametrize(
    ("name", "nodes", "edges", "classes", "train"),
    [("cora", 2708, 10556, 7, 140), ("citeseer", 3327, 9104, 6, 120)],
)
def test_planetoid_graphs_match_the_published_statistics(
    shared_data, name, nodes, edges, classes, train
):
    graph = load_planetoid(name, shared_data, download=False)
    assert graph.features.shape[0] == nodes
    assert graph.edges.shape == (2, edges)  # both directions of every citation
    assert graph.num_classes == classes
    # Symmetric, no self-loops, no duplicates.
    pairs = set(map(tuple, graph.edges.T.tolist()))
    assert len(pairs) == edges
    assert all((b, a) in pairs for a, b in pairs)
    assert all(a != b for a, b in pairs)
    # The standard split: 20 per class for training, 500 validation, 1000 test.
    assert len(graph.train) == train
    assert graph.labels[graph.train].bincount().tolist() == [20] * classes
    assert len(graph.validation) == 500
    assert len(graph.test) == 1000
    assert not set(graph.test.tolist()) & set(graph.train.tolist())


def test_cora_class_counts(shared_data):
    labels = load_planetoid("cora", shared_data, download=False).labels
    assert labels.bincount().tolist() == [351, 217, 418, 818, 426, 298, 180]


def test_citeseer_missing_test_papers_are_unlabeled_and_featureless(shared_data):
    graph = load_planetoid("citeseer", shared_data, download=False)
    missing = torch.nonzero(graph.labels < 0).squeeze(1)
    assert len(missing) == 15
    assert graph.features[missing].abs().sum() == 0


def test_random_split_is_seeded_and_sized(shared_data):
    graph = load_planetoid("cora", shared_data, download=False)
    train, validation, test = graph.random_split(0.01, 0.49, seed=3)
    assert (len(train), len(validation), len(test)) == (27, 1327, 1354)
    again = graph.random_split(0.01, 0.49, seed=3)
    assert torch.equal(train, again[0])
    assert len(set(train.tolist()) | set(validation.tolist()) | set(test.tolist())) == 2708
    with pytest.raises(ValueError, match="fractions"):
        graph.random_split(0.6, 0.5, seed=0)


def test_missing_and_corrupt_files_are_named(shared_data, tmp_path):
    with pytest.raises(DataError, match=r"ind\.citeseer\.x not found.*planetoid"):
        load_planetoid("citeseer", tmp_path / "empty", download=False)
    folder = tmp_path / "copy" / "planetoid"
    shutil.copytree(shared_data / "planetoid", folder)
    (folder / "ind.citeseer.graph").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match=r"ind\.citeseer\.graph is corrupt"):
        load_planetoid("citeseer", tmp_path / "copy", download=False)
    with pytest.raises(ValueError, match="one of"):
        load_planetoid("arxiv")


def test_the_unpickler_builds_only_data_types():
    hostile = pickle.dumps(print, protocol=2)  # a reference to a callable
    with pytest.raises(DataError, match="not a NumPy, SciPy or container type"):
        _unpickle(hostile, "ind.test.x")
