"""CURVES (Hinton & Salakhutdinov 2006): 28x28 images of curves through three random points.

The original file (``digs3pts_1.mat``, arrays ``bdata`` 20,000 x 784 and ``bdatatest``
10,000 x 784) is used when it is in ``<data root>/curves/`` or can be downloaded. Otherwise
:func:`generate_curves` draws a seeded stand-in that follows H&S's description (a smooth curve
through three random 2-D points, rendered into 28x28 intensities in [0, 1]). Its exact generator
was not published, so numbers on the stand-in are reported as ``curves-synth``, never as CURVES.
"""

from __future__ import annotations

import functools
import os

import torch
from torch import Tensor

from inertia.data._files import DataError, DataFile, DataNotFound, locate, read_mat

__all__ = ["CURVES_FILE", "generate_curves", "load_curves"]

CURVES_FILE = DataFile(
    "digs3pts_1.mat", "curves", "", ("http://www.cs.toronto.edu/~jmartens/digs3pts_1.mat",)
)
SIDE = 28
TRAIN_CASES, TEST_CASES = 20_000, 10_000


def generate_curves(
    cases: int, seed: int, *, stroke_width: float = 0.8, samples: int = 96, chunk: int = 500
) -> Tensor:
    """Seeded stand-in for CURVES: ``(cases, 784)`` float32 in [0, 1].

    Each image: three points uniform in the central 20x20 pixels; the quadratic through them
    (Lagrange interpolation with nodes t = 0, 1/2, 1, so the curve passes through all three);
    ``samples`` points along it; each pixel's intensity is the largest Gaussian stroke profile
    ``exp(-d² / (2 w²))`` over the samples, d its distance in pixels, w = ``stroke_width``.

    Args:
        cases: number of images.
        seed: the generator seed (train and test use different seeds).
        stroke_width: w, in pixels.
        samples: points per curve.
        chunk: images rendered at once (memory: chunk x samples x 784 floats).
    """
    if cases < 1:
        raise ValueError(f"cases must be >= 1, got {cases}")
    generator = torch.Generator().manual_seed(seed)
    points = 4.0 + 20.0 * torch.rand(cases, 3, 2, generator=generator)  # pixel coordinates
    t = torch.linspace(0.0, 1.0, samples)
    # Lagrange basis for nodes 0, 1/2, 1: the curve passes through the three points.
    basis = torch.stack(
        (2 * (t - 0.5) * (t - 1.0), -4 * t * (t - 1.0), 2 * t * (t - 0.5)), dim=1
    )  # (samples, 3)
    rows, columns = torch.meshgrid(torch.arange(SIDE), torch.arange(SIDE), indexing="ij")
    pixels = torch.stack((rows, columns), dim=-1).reshape(-1, 2).float() + 0.5  # (784, 2)
    images = torch.empty(cases, SIDE * SIDE)
    # One thread: with two, torch's exp gave one thread's share of the first call of a process
    # other last bits than later calls, so the same seed did not always give the same images.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for start in range(0, cases, chunk):
            curve = torch.einsum("sk,nkd->nsd", basis, points[start : start + chunk])
            squared = torch.cdist(  # elementwise: the matmul form varies in the last bits
                curve,
                pixels.expand(curve.shape[0], -1, -1),
                compute_mode="donot_use_mm_for_euclid_dist",
            ).pow(2)
            images[start : start + chunk] = torch.exp(
                -squared.min(dim=1).values / (2 * stroke_width**2)
            )
    finally:
        torch.set_num_threads(threads)
    return images


def _from_mat(content: bytes, split: str) -> Tensor:
    arrays = read_mat(content, CURVES_FILE.name)
    key = "bdata" if split == "train" else "bdatatest"
    if key not in arrays:
        raise DataError(f"{CURVES_FILE.name} has no array {key!r} (found {sorted(arrays)})")
    data = torch.as_tensor(arrays[key], dtype=torch.float32)
    if data.shape[1] != SIDE * SIDE and data.shape[0] == SIDE * SIDE:
        data = data.T  # some copies are stored 784 x N
    if data.shape[1] != SIDE * SIDE:
        raise DataError(f"{CURVES_FILE.name}: {key} has shape {tuple(data.shape)}, not N x 784")
    return data.contiguous()


def load_curves(
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    synthetic_fallback: bool = True,
    seed: int = 2006,
) -> tuple[Tensor, str]:
    """CURVES as ``(images (N, 784) in [0, 1], name)``.

    ``name`` is ``"curves"`` for the original data and ``"curves-synth"`` for the stand-in
    (20,000 training and 10,000 test images from :func:`generate_curves`, seeds ``seed`` and
    ``seed + 1``).

    Raises:
        DataError: the original is missing and ``synthetic_fallback`` is false, or it is corrupt.
    """
    if split not in ("train", "test"):
        raise ValueError(f"CURVES split must be 'train' or 'test', got {split!r}")
    try:
        return _from_mat(locate(CURVES_FILE, root, download), split), "curves"
    except DataError as error:
        if not synthetic_fallback or not isinstance(error, DataNotFound):
            raise
    cases = TRAIN_CASES if split == "train" else TEST_CASES
    return _cached_curves(cases, seed if split == "train" else seed + 1), "curves-synth"


@functools.lru_cache(maxsize=2)
def _cached_curves(cases: int, seed: int) -> Tensor:
    """The stand-in is deterministic, so a process generates each split once (treat read-only)."""
    return generate_curves(cases, seed)
