from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch
from torch.nn import functional

from inertia.data import DataError, _curves, _faces
from inertia.data._curves import generate_curves, load_curves
from inertia.data._faces import generate_faces, load_faces, load_olivetti


def test_generated_curves_are_seeded_strokes_in_unit_range():
    images = generate_curves(300, seed=0)
    assert images.shape == (300, 784)
    assert images.min() >= 0.0
    assert images.max() <= 1.0
    assert torch.equal(images, generate_curves(300, seed=0))
    assert not torch.equal(images, generate_curves(300, seed=1))
    inked = (images > 0.5).sum(dim=1)
    assert (images.max(dim=1).values > 0.9).all()  # every image has a stroke through pixels
    assert inked.min() >= 3  # a curve, not a dot
    assert inked.max() < 200  # thin, not a blob
    # Smooth: the stroke crosses far fewer pixel boundaries than random ink would.
    grid = images.reshape(-1, 28, 28) > 0.5
    boundaries = (grid[:, 1:] != grid[:, :-1]).sum(dim=(1, 2)).float()
    assert (boundaries / inked).mean() < 1.0


def test_curves_fall_back_to_a_named_stand_in(tmp_path, monkeypatch):
    monkeypatch.setattr(_curves, "TRAIN_CASES", 50)
    images, name = load_curves("train", tmp_path, download=False)
    assert name == "curves-synth"
    assert images.shape == (50, 784)
    with pytest.raises(DataError, match=r"digs3pts_1\.mat not found"):
        load_curves("train", tmp_path, download=False, synthetic_fallback=False)


@pytest.mark.parametrize("transposed", [False, True])
def test_original_curves_file_is_read(tmp_path, transposed):
    train = np.random.default_rng(0).random((12, 784))
    test = np.random.default_rng(1).random((5, 784))
    (tmp_path / "curves").mkdir()
    scipy.io.savemat(
        tmp_path / "curves" / "digs3pts_1.mat",
        {"bdata": train.T if transposed else train, "bdatatest": test.T if transposed else test},
    )
    images, name = load_curves("train", tmp_path, download=False)
    assert name == "curves"
    torch.testing.assert_close(images, torch.as_tensor(train, dtype=torch.float32))
    assert load_curves("test", tmp_path, download=False)[0].shape == (5, 784)


def test_broken_curves_file_is_an_error_not_a_silent_fallback(tmp_path):
    (tmp_path / "curves").mkdir()
    scipy.io.savemat(tmp_path / "curves" / "digs3pts_1.mat", {"other": np.zeros((2, 784))})
    with pytest.raises(DataError, match="no array 'bdata'"):
        load_curves("train", tmp_path, download=False)


def test_olivetti_faces_match_scikit_learn(shared_data):
    faces = load_olivetti(shared_data, download=False)
    assert faces.shape == (400, 64, 64)
    # SOURCES.md: the values scikit-learn's fetch_olivetti_faces().images[0][0] gives.
    torch.testing.assert_close(faces[0, 0, :3], torch.tensor([0.30991736, 0.3677686, 0.41735536]))
    torch.testing.assert_close(faces[0, 0, -3:], torch.tensor([0.37190083, 0.3305785, 0.30578512]))


def test_faces_transform_without_rotation_or_zoom_is_plain_resampling():
    faces = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    images = generate_faces(faces, 20, seed=0, max_rotation_degrees=0.0, zoom=(1.0, 1.0))
    pooled = functional.avg_pool2d(faces.unsqueeze(1), 2)
    resized = functional.interpolate(pooled, size=(25, 25), mode="bilinear", align_corners=False)
    distances = torch.cdist(images, resized.reshape(3, -1))  # each image is one of the faces
    assert distances.min(dim=1).values.max() < 1e-4
    assert distances.max() > 1.0  # and the faces themselves differ


def test_generated_faces_are_seeded_rotated_crops(shared_data):
    faces = load_olivetti(shared_data, download=False)
    images = generate_faces(faces, 500, seed=0)
    assert images.shape == (500, 625)
    assert images.min() >= 0.0
    assert images.max() <= 1.0
    assert torch.equal(images, generate_faces(faces, 500, seed=0))
    assert images.std(dim=0).min() > 0.05  # rotations and zooms vary every pixel


def test_faces_fall_back_to_a_named_stand_in(shared_data, tmp_path, monkeypatch):
    monkeypatch.setattr(_faces, "TEST_CASES", 40)
    images, name = load_faces("test", shared_data, download=False)
    assert name == "faces-synth"
    assert images.shape == (40, 625)
    with pytest.raises(DataError, match=r"newfaces_rot_single\.mat not found"):
        load_faces("test", tmp_path, synthetic_fallback=False)


def test_prepared_faces_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(_faces, "TRAIN_CASES", 7)
    data = np.random.default_rng(0).random((625, 10))  # stored pixels x images
    (tmp_path / "faces").mkdir()
    scipy.io.savemat(tmp_path / "faces" / "newfaces_rot_single.mat", {"newfaces_single": data})
    train, name = load_faces("train", tmp_path)
    assert name == "faces"
    torch.testing.assert_close(train, torch.as_tensor(data.T[:7], dtype=torch.float32))
    assert load_faces("test", tmp_path)[0].shape == (3, 625)
