from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from functools import partial

import pytest
import torch

from inertia.data import DataError, DataFile, DataNotFound, load_curves, load_mnist, locate


def test_mnist_from_shared_data(shared_data):
    images, labels = load_mnist("train", root=shared_data, download=False)
    assert images.shape == (60000, 784)
    assert images.dtype == torch.float32
    assert images.min() >= 0.0
    assert images.max() <= 1.0
    assert labels.bincount().tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert images.mean().item() == pytest.approx(0.1307, abs=1e-4)
    test_images, test_labels = load_mnist("test", root=shared_data, download=False)
    assert test_images.shape == (10000, 784)
    assert test_labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_missing_file_error_names_file_and_fix(tmp_path):
    with pytest.raises(DataNotFound, match=r"train-images-idx3-ubyte not found.*INERTIA_DATA"):
        load_mnist("train", root=tmp_path, download=False)


def test_corrupt_file_is_detected(tmp_path):
    spec = DataFile("thing.bin", "set", hashlib.sha256(b"good").hexdigest())
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "thing.bin").write_bytes(b"bad")
    with pytest.raises(DataError, match="corrupt") as raised:
        locate(spec, tmp_path, download=False)
    assert not isinstance(raised.value, DataNotFound)


@pytest.mark.parametrize(
    "content", [gzip.compress(b"content")[:-9], b"not gzip at all"], ids=["truncated", "not-gzip"]
)
def test_broken_gzip_copy_is_named(tmp_path, content):
    spec = DataFile("thing.bin", "set", hashlib.sha256(b"content").hexdigest())
    (tmp_path / "set").mkdir()
    path = tmp_path / "set" / "thing.bin.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=f"{path} is not a whole gzip file") as raised:
        locate(spec, tmp_path, download=False)
    assert not isinstance(raised.value, DataNotFound)


def test_truncated_idx_file_is_named(tmp_path):
    from inertia.data._mnist import MNIST_FILES

    (tmp_path / "mnist").mkdir()
    for (split, part), spec in MNIST_FILES.items():
        header = (2051 if part == "images" else 2049).to_bytes(4, "big")
        header += (60000 if split == "train" else 10000).to_bytes(4, "big")
        (tmp_path / "mnist" / spec.name).write_bytes(header + b"\0" * 10)
    unverified = {key: DataFile(f.name, f.subdir, "") for key, f in MNIST_FILES.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("inertia.data._mnist.MNIST_FILES", unverified)
        with pytest.raises(DataError, match="truncated or corrupt"):
            load_mnist("test", root=tmp_path, download=False)


def test_stand_in_is_used_only_when_the_original_is_missing(tmp_path):
    from inertia.data._curves import CURVES_FILE

    _, name = load_curves("test", root=tmp_path, download=False)
    assert name == "curves-synth"  # missing: the stand-in, named as such
    (tmp_path / CURVES_FILE.subdir).mkdir()
    (tmp_path / CURVES_FILE.subdir / CURVES_FILE.name).write_bytes(b"not a MATLAB file")
    with pytest.raises(DataError):  # present but broken: never silently replaced
        load_curves("test", root=tmp_path, download=False)


def test_gzipped_copy_is_accepted_and_env_variable_is_used(tmp_path, monkeypatch):
    spec = DataFile("thing.bin", "set", hashlib.sha256(b"content").hexdigest())
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "thing.bin.gz").write_bytes(gzip.compress(b"content"))
    monkeypatch.setenv("INERTIA_DATA", str(tmp_path))
    assert locate(spec) == b"content"


def test_download_over_loopback_is_verified_and_cached(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "thing.bin.gz").write_bytes(gzip.compress(b"payload"))
    (served / "wrong.bin.gz").write_bytes(gzip.compress(b"tampered"))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        digest = hashlib.sha256(b"payload").hexdigest()
        cache = tmp_path / "cache"
        good = DataFile("thing.bin", "set", digest, (base + "missing.gz", base + "thing.bin.gz"))
        assert locate(good, cache) == b"payload"
        assert (cache / "set" / "thing.bin").read_bytes() == b"payload"  # cached
        bad = DataFile("other.bin", "set", digest, (base + "wrong.bin.gz",))
        with pytest.raises(DataError, match="wrong SHA-256"):
            locate(bad, cache)
        assert not (cache / "set" / "other.bin").exists()
    finally:
        server.shutdown()
        server.server_close()
