"""C++ kernels built on first use with ``torch.utils.cpp_extension`` (the fused momentum step,
the recurrence loops of ``leaky_rnn``).

Each extension is built once per machine, torch version and CPU capability, into the extensions
folder (``TORCH_EXTENSIONS_DIR``, else ``$XDG_CACHE_HOME/torch_extensions``, ``~/.cache``
without it), and later processes load the build. Where it cannot be built (no C++ compiler or
ninja, a read-only or full disk) one warning names the cause and the caller takes its Python
path. Processes that start at once build one at a time under an ``flock`` that dies with its
holder; torch's own lock file, which a build killed halfway leaves behind (every later build would
wait on it forever), is removed by whoever holds the ``flock``.
"""

from __future__ import annotations

import os
import types
import warnings
from pathlib import Path
from types import ModuleType

import torch

fcntl: types.ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: builds are not serialized there
    fcntl = None

__all__ = ["CppExtension", "extensions_root"]

# Instruction-set flags per torch's CPU capability (the capability is part of the build folder,
# so a cache shared between machines never hands one a build it cannot run).
_ISA_FLAGS = {
    "AVX512": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mfma"],
    "AVX2": ["-mavx2", "-mfma"],
}


def extensions_root() -> Path:
    """Where torch keeps its C++ extension builds: ``TORCH_EXTENSIONS_DIR``, else
    ``$XDG_CACHE_HOME/torch_extensions`` (``~/.cache`` without it)."""
    if os.environ.get("TORCH_EXTENSIONS_DIR"):
        return Path(os.environ["TORCH_EXTENSIONS_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "torch_extensions"


class CppExtension:
    """One C++ source file, built and loaded on the first :meth:`load`.

    Args:
        stem: the module's name without the capability suffix (``inertia_momentum_cpu``).
        source: the ``.cpp`` file.
        fallback: what takes over where it cannot be built, for the warning.
    """

    def __init__(self, stem: str, source: Path, fallback: str) -> None:
        self.stem = stem
        self.source = source
        self.fallback = fallback
        self.module: ModuleType | None = None
        self.failure: str | None = None

    def folder(self) -> Path:
        """The build folder: per torch version and CPU capability."""
        capability = torch.backends.cpu.get_cpu_capability().lower()
        version = torch.__version__.replace("+", "_")
        return extensions_root() / f"torch{version}" / f"{self.stem}_{capability}"

    def load(self) -> ModuleType | None:
        """The built module; None (after one warning) where it cannot be built."""
        if self.module is None and self.failure is None:
            try:
                self.module = self._build()
            except Exception as error:  # no compiler, no ninja, a failed build, no disk
                lines = str(error).strip().splitlines() or [""]
                self.failure = f"{type(error).__name__}: {lines[0]}"
                warnings.warn(
                    f"inertia: the C++ kernels {self.stem} could not be built ({self.failure}); "
                    f"using {self.fallback} instead",
                    RuntimeWarning,
                    stacklevel=4,
                )
        return self.module

    def _build(self) -> ModuleType:
        from torch.utils import cpp_extension

        capability = torch.backends.cpu.get_cpu_capability()
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "inertia.lock", "a") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when this process ends, however
            (folder / "lock").unlink(missing_ok=True)  # torch's lock: stale while we hold ours
            return cpp_extension.load(
                name=folder.name,
                sources=[str(self.source)],
                extra_cflags=["-O3", "-fopenmp", *_ISA_FLAGS.get(capability, [])],
                extra_ldflags=["-fopenmp"],
                build_directory=str(folder),
            )
