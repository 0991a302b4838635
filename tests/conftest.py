from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch

torch.set_num_threads(2)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="session")
def load_script() -> Callable[[str], ModuleType]:
    """``load_script(name)``: ``scripts/<name>.py`` imported as a module (registered in
    ``sys.modules``, where dataclasses look their module up)."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def _extensions_dir(tmp_path_factory) -> str:
    """One folder for the session's C++ builds (the fused momentum kernels), shared by every
    test and the processes they start, so the kernels are built once per session."""
    return str(tmp_path_factory.mktemp("torch_extensions"))


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory, monkeypatch, _extensions_dir) -> None:
    """Nothing the suite runs writes to the user's cache (``inertia tasks`` keeps its listing
    there, torch its C++ builds)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", _extensions_dir)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's staged datasets (../shared/data beside the checkout), read via the loaders."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no staged datasets at {SHARED_DATA}")
    return SHARED_DATA


def _idx(array: torch.Tensor, magic: int) -> bytes:
    """``array`` (uint8) in LeCun's idx format."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.contiguous().numpy().tobytes()


@pytest.fixture
def tiny_mnist(tmp_path_factory, monkeypatch) -> Path:
    """A generated stand-in for MNIST in its own files (120 training and 40 test images of 28x28,
    each class a fixed blob plus noise, labels 0-9 in turn), so that the tasks built on MNIST run
    on a fresh clone without ../shared/data. The loaders' SHA-256 check is off for it."""
    from inertia.data import DataFile, _mnist

    root = tmp_path_factory.mktemp("tiny-mnist")
    (root / "mnist").mkdir()
    generator = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(10, 28, 28, generator=generator) > 0.7).float()
    for split, cases in (("train", 120), ("test", 40)):
        labels = torch.arange(cases) % 10
        noise = torch.rand(cases, 28, 28, generator=generator) < 0.1
        images = ((prototypes[labels] + noise.float()).clamp(max=1) * 255).to(torch.uint8)
        spec_images, spec_labels = (
            _mnist.MNIST_FILES[(split, "images")],
            _mnist.MNIST_FILES[(split, "labels")],
        )
        (root / "mnist" / spec_images.name).write_bytes(_idx(images, 2051))
        (root / "mnist" / spec_labels.name).write_bytes(_idx(labels.to(torch.uint8), 2049))
    unverified = {key: DataFile(f.name, f.subdir, "") for key, f in _mnist.MNIST_FILES.items()}
    monkeypatch.setattr(_mnist, "MNIST_FILES", unverified)
    return root
