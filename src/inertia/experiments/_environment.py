"""What produced a result: library version, git commit, hardware; and its peak memory."""

from __future__ import annotations

import datetime
import functools
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from inertia import __version__

__all__ = [
    "cpu_name",
    "environment",
    "git_commit",
    "hardware",
    "peak_memory_mb",
    "reset_peak_memory",
    "resident_memory_mb",
    "stamp",
]


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
    """The commit of the source tree in use (the package's, else the working directory's), read
    once per process when the engine is imported (below): the code a process runs is the code it
    imported, and a sweep worker that read HEAD only when its first run ended recorded commits
    made while it ran (issue 39's mem20-loss runs name eac214f for code of 81b31e4)."""
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


def stamp(device: torch.device | str = "cpu") -> dict[str, Any]:
    """The provenance a record written outside a sweep carries: :func:`environment` and the
    time it was made (UTC, to the second)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {**environment(device), "date": now.isoformat(timespec="seconds")}


_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def reset_peak_memory(device: torch.device | str = "cpu") -> bool:
    """Start a new peak-memory measurement for :func:`peak_memory_mb`: the CUDA allocator's peak
    statistics, or on the CPU the kernel's peak-RSS mark of this process (``5`` written to
    ``/proc/self/clear_refs``, Linux >= 4.0). Returns whether it could; where it could not, the
    CPU figure stays the process's lifetime peak (which, in a sweep worker, includes the runs
    before)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return True
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def resident_memory_mb() -> float | None:
    """This process's resident memory now (``VmRSS`` of ``/proc/self/status``), in MiB; None
    where that file is missing."""
    resident = _status_kib("VmRSS")
    return resident / 1024 if resident is not None else None


def peak_memory_mb(device: torch.device | str = "cpu") -> float:
    """The peak memory since :func:`reset_peak_memory`, in MiB: the CUDA allocator's peak
    allocation, or on the CPU the resident set's high-water mark (``VmHWM`` of
    ``/proc/self/status``); where that file is missing, ``ru_maxrss`` (the lifetime peak)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    high_water = _status_kib("VmHWM")
    if high_water is not None:
        return high_water / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


git_commit()  # the commit of the code this process imports, not of a later checkout
