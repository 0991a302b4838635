"""Shared benchmark plumbing: interleaved timing, environment record, JSON output, tables."""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from inertia.experiments import environment as library_environment

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def environment() -> dict[str, Any]:
    """What produced the numbers: the library's record plus threads and the time."""
    return {
        **library_environment("cuda" if torch.cuda.is_available() else "cpu"),
        "torch_threads": torch.get_num_threads(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def interleaved_timings(
    candidates: Mapping[str, Callable[[], object]],
    rounds: int,
    calls_per_round: int,
    synchronize: Callable[[], None] = lambda: None,
    seed: int = 0,
    setup: Mapping[str, Callable[[], object]] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each candidate, one sample per round, candidates interleaved.

    Every round times each candidate once, in a freshly shuffled order, so that slow drifts of a
    noisy machine and position effects hit every candidate alike; sample ``r`` of every candidate
    comes from the same round, which :func:`paired_ratio` uses. ``setup[name]``, when given, runs
    untimed before each of that candidate's rounds (e.g. fresh gradients).
    """
    setup = setup or {}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for name, function in candidates.items():  # warm-up
        setup.get(name, lambda: None)()
        for _ in range(max(1, calls_per_round // 4)):
            function()
    synchronize()
    order = list(candidates)
    shuffler = random.Random(seed)
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            function = candidates[name]
            setup.get(name, lambda: None)()
            synchronize()
            start = time.perf_counter()
            for _ in range(calls_per_round):
                function()
            synchronize()
            samples[name].append((time.perf_counter() - start) / calls_per_round)
    return samples


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median over rounds of the per-round time ratio (both timed in the same round)."""
    return statistics.median(a / b for a, b in zip(numerator, denominator, strict=True))


def ratio_spread(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, float]:
    """Median, min and max over rounds of the per-round time ratio."""
    ratios = sorted(a / b for a, b in zip(numerator, denominator, strict=True))
    return {"median": statistics.median(ratios), "min": ratios[0], "max": ratios[-1]}


def summarize(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_s": statistics.median(ordered),
        "min_s": ordered[0],
        "max_s": ordered[-1],
        "p10_s": ordered[len(ordered) // 10],
        "p90_s": ordered[(9 * len(ordered)) // 10],
        "rounds": len(ordered),
    }


def write_result(name: str, payload: dict[str, Any], out_dir: Path | None = None) -> Path:
    """Write ``payload`` with the environment to ``out_dir/name.json`` atomically (default
    :data:`RESULTS_DIR`, read at call time so that ``benchmarks.run --record`` can move it)."""
    out_dir = RESULTS_DIR if out_dir is None else out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"environment": environment(), **payload}, indent=2))
    os.replace(temporary, path)
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
