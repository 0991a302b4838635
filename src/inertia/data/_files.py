"""Finding, verifying and downloading data files.

Every dataset file has a name, a SHA-256 of its *uncompressed* content (so a user's own gzip or
raw copy is accepted) and optional download URLs. Files are looked for under the data directory,
which is, in order: the ``root`` argument, the ``INERTIA_DATA`` environment variable,
``~/.cache/inertia``. A missing or corrupt file is a :class:`DataError` that names the file, the
places searched and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DataError", "DataFile", "DataNotFound", "data_root", "locate", "read_mat", "require"]

ENVIRONMENT_VARIABLE = "INERTIA_DATA"


class DataError(FileNotFoundError):
    """A data file is missing, corrupt or could not be downloaded."""


class DataNotFound(DataError):  # noqa: N818 (named like FileNotFoundError, its base)
    """A data file is in none of the places searched and could not be downloaded (as opposed
    to present but corrupt): loaders with a stand-in fall back on this error alone."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset.

    Attributes:
        name: the file name without ``.gz`` (e.g. ``train-images-idx3-ubyte``).
        subdir: the folder under the data root where it belongs (e.g. ``mnist``).
        sha256: SHA-256 of the uncompressed bytes; empty to skip verification.
        urls: where to download it from (``.gz`` URLs are decompressed on arrival).
    """

    name: str
    subdir: str
    sha256: str = ""
    urls: tuple[str, ...] = field(default=())


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: ``root``, else ``$INERTIA_DATA``, else ``~/.cache/inertia``."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(ENVIRONMENT_VARIABLE):
        return Path(os.environ[ENVIRONMENT_VARIABLE]).expanduser()
    return Path.home() / ".cache" / "inertia"


def _candidates(root: Path, spec: DataFile) -> list[Path]:
    folders = [root / spec.subdir, root]
    return [folder / (spec.name + suffix) for folder in folders for suffix in ("", ".gz")]


def _read(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise DataError(
            f"{path} is not a whole gzip file ({error}); delete it to download it again, or "
            "replace it with a good copy"
        ) from None
    except OSError as error:
        raise DataError(f"{path} cannot be read: {error.strerror or error}") from None


def _verify(path: Path, content: bytes, spec: DataFile) -> None:
    if spec.sha256 and hashlib.sha256(content).hexdigest() != spec.sha256:
        raise DataError(
            f"{path} is corrupt: SHA-256 of its content is {hashlib.sha256(content).hexdigest()}, "
            f"expected {spec.sha256}. Delete it and download it again, or replace it with a "
            f"good copy of {spec.name}."
        )


def _download(spec: DataFile, destination: Path) -> str | None:
    """Try each URL; write ``destination`` (uncompressed) atomically. Returns an error or None."""
    errors = []
    for url in spec.urls:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                payload = response.read()
            if url.endswith(".gz"):
                payload = gzip.decompress(payload)
        except (urllib.error.URLError, OSError, EOFError) as error:
            errors.append(f"{url}: {error}")
            continue
        if spec.sha256 and hashlib.sha256(payload).hexdigest() != spec.sha256:
            errors.append(f"{url}: downloaded content has the wrong SHA-256")
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False) as handle:
            handle.write(payload)
        os.replace(handle.name, destination)
        return None
    return "; ".join(errors) if errors else "no download URL is known for it"


def locate(
    spec: DataFile, root: str | os.PathLike[str] | None = None, download: bool = True
) -> bytes:
    """The verified, uncompressed content of ``spec``, downloading it if allowed and needed.

    Raises:
        DataError: the file is missing (and could not be downloaded) or corrupt.
    """
    base = data_root(root)
    candidates = _candidates(base, spec)
    for path in candidates:
        if path.is_file():
            content = _read(path)
            _verify(path, content, spec)
            return content
    problem = "downloading is switched off"
    if download:
        destination = base / spec.subdir / spec.name
        problem = _download(spec, destination) or ""
        if not problem:
            return _read(destination)
    searched = ", ".join(str(p) for p in candidates)
    raise DataNotFound(
        f"{spec.name} not found (looked for {searched}); {problem}. Put the file (or its .gz) "
        f"in {base / spec.subdir}, or point {ENVIRONMENT_VARIABLE} (or the data_dir setting) at "
        f"a folder that holds {spec.subdir}/{spec.name}."
    )


def require(module: str, purpose: str) -> Any:
    """Import ``module``, an optional dependency (NumPy, SciPy) that only some file formats need;
    without it, an ``ImportError`` that says how to install it.

    Args:
        module: the module to import, e.g. ``"scipy.io"``.
        purpose: what needs it, for the message (e.g. ``"reading MATLAB files"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{purpose} needs {module.split('.')[0]}, which the core install leaves out: "
            "pip install 'inertia[experiments]'"
        ) from None


def read_mat(content: bytes, name: str) -> dict[str, Any]:
    """The arrays of a MATLAB v5 file's bytes (scipy), without its ``__header__``-style keys."""
    scipy_io = require("scipy.io", "reading MATLAB files")  # only some loaders need it

    try:
        arrays = scipy_io.loadmat(io.BytesIO(content))
    except (ValueError, NotImplementedError, scipy_io.matlab.MatReadError) as error:
        raise DataError(f"{name}: not a MATLAB v5 file scipy can read ({error})") from None
    return {key: value for key, value in arrays.items() if not key.startswith("__")}
