"""FACES (Hinton & Salakhutdinov 2006): 25x25 faces made from the Olivetti faces.

H&S built FACES from the 400 Olivetti (ORL) faces by random rotation, scaling, cropping and
subsampling to 25x25 (Table 6 of Sutskever et al.: 103,500 training cases). Their prepared file
(``newfaces_rot_single.mat``) is used when it is in ``<data root>/faces/``; otherwise
:func:`generate_faces` builds a seeded stand-in from ``olivetti_faces/olivettifaces.mat``,
reported as ``faces-synth``. The transformation ranges (rotation within ±90°, zoom 1.4-2.0) are
recalled from H&S's supporting material and were not re-checked here.
"""

from __future__ import annotations

import functools
import math
import os

import torch
from torch import Tensor
from torch.nn import functional

from inertia.data._files import DataError, DataFile, DataNotFound, data_root, locate, read_mat

__all__ = ["FACES_FILE", "OLIVETTI_FILE", "generate_faces", "load_faces", "load_olivetti"]

OLIVETTI_FILE = DataFile(
    "olivettifaces.mat",
    "olivetti_faces",
    "",  # re-saved copies differ in their bytes; the content is checked in load_olivetti
    ("https://ndownloader.figshare.com/files/5976027",),
)
FACES_FILE = DataFile("newfaces_rot_single.mat", "faces", "", ())
SIDE = 25
TRAIN_CASES, TEST_CASES = 103_500, 62_100  # H&S made 165,600 in all


@functools.lru_cache(maxsize=2)
def _olivetti(root: str, download: bool) -> Tensor:
    arrays = read_mat(locate(OLIVETTI_FILE, root, download), OLIVETTI_FILE.name)
    faces = arrays.get("faces")
    if faces is None or faces.shape != (4096, 400):
        raise DataError(
            f"{OLIVETTI_FILE.name}: expected an array 'faces' of shape (4096, 400), found "
            f"{ {k: v.shape for k, v in arrays.items()} }"
        )
    # scikit-learn's processing: 400 images of 64x64, upright, scaled to [0, 1].
    images = torch.as_tensor(faces.T.reshape(400, 64, 64).transpose(0, 2, 1), dtype=torch.float32)
    images = images - images.min()
    return images / images.max()


def load_olivetti(root: str | os.PathLike[str] | None = None, download: bool = True) -> Tensor:
    """The 400 Olivetti faces, ``(400, 64, 64)`` float32 in [0, 1] (scikit-learn's orientation)."""
    return _olivetti(str(data_root(root).resolve()), download)


def generate_faces(
    faces: Tensor,
    cases: int,
    seed: int,
    *,
    max_rotation_degrees: float = 90.0,
    zoom: tuple[float, float] = (1.4, 2.0),
    max_shift: float = 0.25,
    chunk: int = 4096,
) -> Tensor:
    """Seeded stand-in for FACES: ``(cases, 625)`` float32 in [0, 1].

    Each image takes a random face, rotates it by an angle uniform in ±``max_rotation_degrees``,
    zooms by a factor uniform in ``zoom`` around a centre moved at most ``max_shift`` of the
    room that keeps the crop inside the image (so the crop shows the middle of the face), and
    samples 25x25 pixels bilinearly from the face average-pooled to 32x32 (against
    aliasing).

    Args:
        faces: ``(F, 64, 64)`` source faces (:func:`load_olivetti`).
        cases: number of images.
        seed: the generator seed.
    """
    if cases < 1:
        raise ValueError(f"cases must be >= 1, got {cases}")
    generator = torch.Generator().manual_seed(seed)
    source = functional.avg_pool2d(faces.unsqueeze(1), 2)  # (F, 1, 32, 32)
    which = torch.randint(0, faces.shape[0], (cases,), generator=generator)
    angle = (torch.rand(cases, generator=generator) * 2 - 1) * math.radians(max_rotation_degrees)
    scale = zoom[0] + (zoom[1] - zoom[0]) * torch.rand(cases, generator=generator)
    room = max_shift * (1.0 - 1.0 / scale)  # 1 - 1/scale would keep the crop just inside
    shift = (torch.rand(cases, 2, generator=generator) * 2 - 1) * room.unsqueeze(1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        (torch.stack((cos, -sin, shift[:, 0]), 1), torch.stack((sin, cos, shift[:, 1]), 1)), 1
    )
    images = torch.empty(cases, SIDE * SIDE)
    for start in range(0, cases, chunk):
        stop = min(start + chunk, cases)
        grid = functional.affine_grid(
            theta[start:stop], [stop - start, 1, SIDE, SIDE], align_corners=False
        )
        sampled = functional.grid_sample(
            source[which[start:stop]], grid, mode="bilinear", padding_mode="border",
            align_corners=False,
        )  # fmt: skip
        images[start:stop] = sampled.reshape(stop - start, -1)
    return images.clamp_(0.0, 1.0)


def _from_prepared(content: bytes, split: str) -> Tensor:
    arrays = read_mat(content, FACES_FILE.name)
    candidates = [a for a in arrays.values() if a.ndim == 2 and SIDE * SIDE in a.shape]
    if len(candidates) != 1:
        raise DataError(
            f"{FACES_FILE.name}: expected one 2-D array with {SIDE * SIDE} pixels per image, "
            f"found { {k: v.shape for k, v in arrays.items()} }"
        )
    data = torch.as_tensor(candidates[0], dtype=torch.float32)
    if data.shape[1] != SIDE * SIDE:
        data = data.T
    return (data[:TRAIN_CASES] if split == "train" else data[TRAIN_CASES:]).contiguous()


def load_faces(
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    synthetic_fallback: bool = True,
    seed: int = 2006,
) -> tuple[Tensor, str]:
    """FACES as ``(images (N, 625), name)``: ``"faces"`` for H&S's file (first 103,500 images
    for training, the rest for test), else ``"faces-synth"`` built by :func:`generate_faces`
    (103,500 training and 62,100 test images, seeds ``seed`` and ``seed + 1``)."""
    if split not in ("train", "test"):
        raise ValueError(f"FACES split must be 'train' or 'test', got {split!r}")
    try:
        return _from_prepared(locate(FACES_FILE, root, download=False), split), "faces"
    except DataError as error:
        if not synthetic_fallback or not isinstance(error, DataNotFound):
            raise
    cases = TRAIN_CASES if split == "train" else TEST_CASES
    return _cached_faces(
        str(data_root(root).resolve()), download, cases, seed if split == "train" else seed + 1
    ), "faces-synth"


@functools.lru_cache(maxsize=2)
def _cached_faces(root: str, download: bool, cases: int, seed: int) -> Tensor:
    """The stand-in is deterministic, so a process builds each split once (treat read-only)."""
    return generate_faces(load_olivetti(root, download), cases, seed)
