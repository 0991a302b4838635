"""What produced a result: library version, git commit, hardware."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch

from inertia import __version__

__all__ = ["cpu_name", "environment", "git_commit", "hardware"]


@functools.lru_cache(maxsize=1)
def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the source tree in use (the package's, else the working directory's)."""
    for folder in (Path(__file__).resolve().parent, Path.cwd()):
        try:
            result = subprocess.run(
                ["git", "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                cwd=folder,
                check=False,
            )
        except OSError:
            return "unknown"
        if result.returncode == 0:
            return result.stdout.strip()
    return "unknown"


def hardware(device: torch.device | str = "cpu") -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA), host {cpu_name()}"
    return f"{cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def environment(device: torch.device | str = "cpu") -> dict[str, Any]:
    return {
        "inertia": __version__,
        "git_commit": git_commit(),
        "hardware": hardware(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
