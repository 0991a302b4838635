"""MNIST (LeCun, Cortes & Burges): 60,000 training and 10,000 test 28x28 digits, idx format."""

from __future__ import annotations

import functools
import math
import os

import torch
from torch import Tensor

from inertia.data._files import DataError, DataFile, data_root, locate

__all__ = ["MNIST_FILES", "load_mnist"]

_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def _file(name: str, sha256: str) -> DataFile:
    return DataFile(name, "mnist", sha256, tuple(m + name + ".gz" for m in _MIRRORS))


# SHA-256 of the uncompressed idx files (their MD5s are the published MNIST checksums).
MNIST_FILES = {
    ("train", "images"): _file(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    ("train", "labels"): _file(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    ("test", "images"): _file(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    ("test", "labels"): _file(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}


def _parse_idx(content: bytes, name: str, magic: int) -> Tensor:
    """The unsigned bytes of an idx file (LeCun's format: big-endian magic, dimensions, data)."""
    if len(content) < 4:
        raise DataError(f"{name}: {len(content)} bytes, too short for an idx file")
    header = int.from_bytes(content[:4], "big")
    if header != magic:
        raise DataError(f"{name}: not an idx file with magic {magic} (found {header})")
    dims = int(content[3])
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    offset = 4 + 4 * dims
    if len(content) != offset + math.prod(shape):
        raise DataError(
            f"{name}: {len(content) - offset} data bytes where its header says {shape}; the "
            "file is truncated or corrupt: delete it to download it again"
        )
    return torch.frombuffer(bytearray(content[offset:]), dtype=torch.uint8).reshape(shape)


@functools.lru_cache(maxsize=4)
def _load(split: str, root: str, download: bool) -> tuple[Tensor, Tensor]:
    images_spec, labels_spec = MNIST_FILES[(split, "images")], MNIST_FILES[(split, "labels")]
    images = _parse_idx(locate(images_spec, root, download), images_spec.name, 2051)
    labels = _parse_idx(locate(labels_spec, root, download), labels_spec.name, 2049)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    pixels = images.reshape(images.shape[0], -1).to(torch.float32) / 255.0
    return pixels, labels.to(torch.int64)


def load_mnist(
    split: str = "train", root: str | os.PathLike[str] | None = None, download: bool = True
) -> tuple[Tensor, Tensor]:
    """MNIST as tensors: images ``(N, 784)`` float32 in [0, 1] and labels ``(N,)`` int64.

    Files are read from ``<data root>/mnist/`` (``.gz`` or raw idx), verified by SHA-256 and,
    where a network exists and ``download`` is true, downloaded when missing. The result is
    cached in memory; treat it as read-only.

    Args:
        split: ``"train"`` (60,000) or ``"test"`` (10,000).
        root: the data directory (default ``$INERTIA_DATA`` or ``~/.cache/inertia``).
        download: allow downloading missing files.

    Raises:
        DataError: a file is missing or corrupt (the message names it and where to put it).
        ValueError: an unknown split.
    """
    if split not in ("train", "test"):
        raise ValueError(f"MNIST split must be 'train' or 'test', got {split!r}")
    return _load(split, str(data_root(root).resolve()), download)
