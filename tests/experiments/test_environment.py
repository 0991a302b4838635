"""The peak memory a run reports: its own, not the process's lifetime peak."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
import torch

from inertia.experiments import (
    RunConfig,
    _environment,
    from_mapping,
    merge,
    nest,
    peak_memory_mb,
    reset_peak_memory,
    resident_memory_mb,
    train,
)

RESETTABLE = Path("/proc/self/clear_refs").exists() and Path("/proc/self/status").exists()
BLOCK_MIB = 512


def _touch_a_block() -> float:
    """Allocate and write BLOCK_MIB MiB (mmap'ed by the allocator, so freeing it returns it to
    the kernel), free it, and return the peak memory just before the free."""
    before = resident_memory_mb()
    block = torch.ones(BLOCK_MIB * 2**18)
    block.add_(1.0)
    peak = peak_memory_mb()
    if before is not None:  # the block is resident while it lives
        assert resident_memory_mb() >= before + 0.9 * BLOCK_MIB
    del block
    return peak


@pytest.mark.skipif(not RESETTABLE, reason="needs Linux's /proc/self/clear_refs")
def test_the_peak_is_measured_from_the_last_reset():
    assert reset_peak_memory()
    with_block = _touch_a_block()
    assert peak_memory_mb() >= with_block - 1  # not reset: the freed block's peak stays
    assert reset_peak_memory()
    assert peak_memory_mb() < with_block - 0.8 * BLOCK_MIB


@pytest.mark.skipif(not RESETTABLE, reason="needs Linux's /proc/self/clear_refs")
def test_a_run_does_not_report_the_peak_of_what_the_process_did_before(tmp_path):
    """A sweep worker trains run after run in one process: each run's peak_memory_mb is its own
    (the lifetime peak, ru_maxrss, would carry the largest earlier run into every later one)."""
    reset_peak_memory()
    with_block = _touch_a_block()
    config = from_mapping(RunConfig, merge({"steps": 20, "eval_every": 10}, nest({})))
    result = train(config, tmp_path)
    assert 0 < result.peak_memory_mb < with_block - 0.8 * BLOCK_MIB


def test_without_proc_the_peak_is_the_lifetime_peak(monkeypatch, tmp_path):
    monkeypatch.setattr(_environment, "_CLEAR_REFS", tmp_path / "missing" / "clear_refs")
    monkeypatch.setattr(_environment, "_STATUS", tmp_path / "missing" / "status")
    assert reset_peak_memory() is False
    assert resident_memory_mb() is None
    lifetime = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_memory_mb() == pytest.approx(lifetime, rel=0.01)


def test_a_stamp_is_the_environment_and_the_time_it_was_made():
    """``stamp()`` is what a record written outside a sweep carries (the scripts' records): the
    commit, hardware and versions of ``environment()``, and a UTC time to the second."""
    import datetime

    from inertia.experiments import environment, stamp

    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    record = stamp()
    after = datetime.datetime.now(datetime.timezone.utc)
    made = datetime.datetime.fromisoformat(record.pop("date"))
    assert made.tzinfo is not None
    assert before <= made <= after
    assert record == environment()
