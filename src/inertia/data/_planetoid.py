"""The Planetoid citation networks Cora, Citeseer and Pubmed (Sen et al. 2008, as preprocessed by
Yang, Cohen & Salakhutdinov 2016), used by Liao et al. (2018, section 5.2; SPEC section 7.3).

Files ``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}`` as distributed with Planetoid (and
with Kipf & Welling's GCN code): Python 2 pickles of SciPy CSR matrices, NumPy arrays and a
``defaultdict`` adjacency list. They are verified by SHA-256 and then read by an unpickler that
only builds those types, so a tampered file cannot run code.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import importlib
import io
import os
import pickle
from typing import Any, Literal, get_args

import torch
from torch import Tensor

from inertia.data._files import DataError, DataFile, data_root, locate, require

__all__ = ["PLANETOID_DATASETS", "PLANETOID_FILES", "CitationGraph", "load_planetoid"]

PlanetoidName = Literal["cora", "citeseer", "pubmed"]
PLANETOID_DATASETS: tuple[str, ...] = get_args(PlanetoidName)
_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/"

_SHA256 = {
    "cora": {
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    },
    "citeseer": {
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    },
    "pubmed": {
        "x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
        "y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
        "tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
        "ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
        # No checksum of ind.pubmed.allx could be obtained (the file was not available when this
        # table was made); it is read unverified, through the restricted unpickler.
        "allx": "",
        "ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
        "graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
        "test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    },
}

PLANETOID_FILES: dict[tuple[str, str], DataFile] = {
    (name, part): DataFile(f"ind.{name}.{part}", "planetoid", sha, (f"{_URL}ind.{name}.{part}",))
    for name, parts in _SHA256.items()
    for part, sha in parts.items()
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds NumPy arrays, SciPy CSR matrices, lists and defaultdicts, and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        np = require("numpy", "reading Planetoid files")
        sparse = require("scipy.sparse", "reading Planetoid files")

        try:
            multiarray = importlib.import_module("numpy._core.multiarray")
        except ImportError:  # NumPy 1
            multiarray = importlib.import_module("numpy.core.multiarray")
        _reconstruct = multiarray._reconstruct

        allowed = {
            ("numpy", "dtype"): np.dtype,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
            ("scipy.sparse.csr", "csr_matrix"): sparse.csr_matrix,
            ("__builtin__", "list"): list,
            ("builtins", "list"): list,
            ("collections", "defaultdict"): collections.defaultdict,
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"a Planetoid file refers to {module}.{name}, which is not a NumPy, SciPy or "
                "container type; the file is not the published one"
            )
        return allowed[(module, name)]


def _unpickle(content: bytes, name: str) -> Any:
    try:
        return _RestrictedUnpickler(io.BytesIO(content), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise DataError(f"{name}: not a readable Planetoid pickle ({error})") from None


@dataclasses.dataclass(frozen=True)
class CitationGraph:
    """A citation network as tensors.

    Attributes:
        name: ``cora``, ``citeseer`` or ``pubmed``.
        features: (nodes, features) float32 bag-of-words (TF-IDF for Pubmed), row order =
            node id.
        labels: (nodes,) int64 class of each node (-1 for the Citeseer test ids that have no
            paper in the data, as in Kipf & Welling's loader).
        edges: (2, directed edges) int64, both directions of every undirected citation, without
            self-loops or duplicates.
        train, validation, test: node ids of the standard Planetoid split: the first 20 labeled
            nodes per class (x/y), the next 500 nodes, and the 1000 test ids.
    """

    name: str
    features: Tensor
    labels: Tensor
    edges: Tensor
    train: Tensor
    validation: Tensor
    test: Tensor

    @property
    def num_classes(self) -> int:
        return int(self.labels.max()) + 1

    def random_split(
        self, train_fraction: float, validation_fraction: float, seed: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        """A random split of the labeled nodes (Liao et al.: 1% train, 49% validation, the
        rest test), seeded."""
        total = train_fraction + validation_fraction
        if train_fraction <= 0 or validation_fraction < 0 or total >= 1:
            raise ValueError(
                f"split fractions must be positive and sum to less than 1, got train "
                f"{train_fraction} and validation {validation_fraction}"
            )
        labeled = torch.nonzero(self.labels >= 0).squeeze(1)
        order = labeled[torch.randperm(len(labeled), generator=torch.Generator().manual_seed(seed))]
        n_train = max(1, round(train_fraction * len(order)))
        n_validation = round(validation_fraction * len(order))
        return (
            order[:n_train],
            order[n_train : n_train + n_validation],
            order[n_train + n_validation :],
        )


@functools.lru_cache(maxsize=3)
def _load(name: str, root: str, download: bool) -> CitationGraph:
    np = require("numpy", "reading Planetoid files")
    parts: dict[str, Any] = {}
    for part in _PARTS:
        spec = PLANETOID_FILES[(name, part)]
        content = locate(spec, root, download)
        parts[part] = (
            np.array([int(line) for line in content.decode().split()], dtype=np.int64)
            if part == "test.index"
            else _unpickle(content, spec.name)
        )
    allx, tx = parts["allx"].toarray(), parts["tx"].toarray()
    ally, ty = np.asarray(parts["ally"]), np.asarray(parts["ty"])
    test_ids = parts["test.index"]
    ordered = np.sort(test_ids)
    nodes = max(len(parts["graph"]), len(allx) + int(ordered.max() - ordered.min()) + 1)
    features = np.zeros((nodes, allx.shape[1]), dtype=np.float32)
    labels = np.full(nodes, -1, dtype=np.int64)
    features[: len(allx)] = allx
    labels[: len(ally)] = ally.argmax(axis=1)
    # tx/ty hold the test nodes in sorted-id order; Citeseer's ids have gaps (isolated papers
    # absent from the data), which stay zero-featured and unlabeled.
    features[ordered] = tx
    labels[ordered] = np.where(ty.sum(axis=1) > 0, ty.argmax(axis=1), -1)
    pairs = {
        (min(a, b), max(a, b))
        for a, neighbours in parts["graph"].items()
        for b in neighbours
        if a != b and a < nodes and b < nodes
    }
    undirected = torch.tensor(sorted(pairs), dtype=torch.int64).T
    edges = torch.cat([undirected, undirected.flip(0)], dim=1)
    train_count = len(parts["y"])
    return CitationGraph(
        name=name,
        features=torch.from_numpy(features),
        labels=torch.from_numpy(labels),
        edges=edges,
        train=torch.arange(train_count),
        validation=torch.arange(train_count, train_count + 500),
        test=torch.from_numpy(test_ids[np.isin(test_ids, np.nonzero(labels >= 0)[0])]),
    )


def load_planetoid(
    name: str, root: str | os.PathLike[str] | None = None, download: bool = True
) -> CitationGraph:
    """Cora (2708 nodes, 5278 citations, 7 classes), Citeseer (3327, 4552, 6) or Pubmed (19717,
    44324, 3) with the standard Planetoid split.

    Files are read from ``<data root>/planetoid/``, verified by SHA-256 and, where a network
    exists and ``download`` is true, downloaded when missing. The result is cached in memory;
    treat it as read-only.

    Raises:
        DataError: a file is missing or corrupt (the message names it and where to put it).
        ValueError: an unknown dataset name.
    """
    if name not in PLANETOID_DATASETS:
        raise ValueError(f"Planetoid dataset must be one of {PLANETOID_DATASETS}, got {name!r}")
    return _load(name, str(data_root(root).resolve()), download)
