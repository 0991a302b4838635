"""Protocols: a paper's table as data — a grid of runs per budget and a rule to fill each cell."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from inertia.experiments._config import ConfigError, RunConfig

__all__ = ["Budget", "Protocol", "cell_key"]


def cell_key(overrides: Mapping[str, Any]) -> str:
    """A run's identity inside a sweep: its overrides as canonical JSON."""
    return json.dumps(dict(overrides), sort_keys=True, separators=(",", ":"))


def cell_label(key: str, base: Mapping[str, Any]) -> str:
    """The settings that set a run apart from its budget's shared ones, e.g. ``lr=0.01 seed=1``."""
    overrides = json.loads(key)
    return " ".join(f"{k}={v}" for k, v in overrides.items() if base.get(k) != v) or "base"


def cell_folder(key: str) -> str:
    """A short, stable folder name for a cell."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Budget:
    """One budget of a protocol (``quick``: minutes on 2 CPU cores; ``paper``: the published one).

    Attributes:
        description: what the budget is, in words (shown in reports).
        base: config fields shared by every run of the budget (e.g. ``steps``).
        blocks: each block maps config fields to lists of values; the runs are the union of the
            blocks' Cartesian products (so SGD need not be crossed with momentum values).
    """

    description: str
    base: Mapping[str, Any]
    blocks: Sequence[Mapping[str, Sequence[Any]]]

    def runs(self) -> dict[str, RunConfig]:
        """The runs, keyed by :func:`cell_key` of their overrides, in a stable order."""
        runs: dict[str, RunConfig] = {}
        for block in self.blocks:
            fields = sorted(block)
            for values in itertools.product(*(block[f] for f in fields)):
                overrides = {**self.base, **dict(zip(fields, values))}
                key = cell_key(overrides)
                if key not in runs:
                    runs[key] = RunConfig(**overrides)
        return runs


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A table of a paper (or of ours) and the grid of runs that fills it.

    Each run lands in table cell ``(row(config), column(config))``. Within a cell, the metric
    (final training error at θ) is averaged over seeds for each setting of ``select`` fields (the
    learning rate), and the best average is reported — the papers' rule ("best final training
    error over lr"). With a ``select_metric`` (e.g. ``valid_error``), the setting with the best
    average of that is chosen and its ``metric`` (e.g. ``test_error``) reported.

    Attributes:
        name: the registry name (``inertia sweep NAME``).
        title: the table's caption.
        budgets: ``{"quick": Budget, "paper": Budget}``.
        row: maps a run to its row label.
        column: maps a run to its column label.
        rows: row labels in display order.
        columns: column labels in display order.
        published: ``{(row, column): number}`` from the paper; cells absent are "n/a".
        select: fields to pick the best over (after averaging over seeds).
        metric: the key of ``RunResult.final`` reported.
        metric_label: what ``metric`` is, for captions and axes (default: the task's
            ``error_name``, which describes ``train_error``).
        select_metric: the key that picks the setting (default: ``metric``).
        notes: shown under the table (sources, what is unconfirmed, deviations).
    """

    name: str
    title: str
    budgets: Mapping[str, Budget]
    row: Callable[[RunConfig], str]
    column: Callable[[RunConfig], str]
    rows: Sequence[str]
    columns: Sequence[str]
    published: Mapping[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    select: Sequence[str] = ("lr",)
    metric: str = "train_error"
    metric_label: str = ""
    select_metric: str = ""
    notes: str = ""

    def budget(self, name: str) -> Budget:
        if name not in self.budgets:
            raise ConfigError(
                f"protocol {self.name!r} has budgets {sorted(self.budgets)}, got {name!r}"
            )
        return self.budgets[name]


def optimizer_column(config: RunConfig) -> str:
    """Sutskever et al.'s column names: SGD, 0.99N (NAG), 0.9M (CM), Adam, and the Hessian-free
    columns: HF-star (Martens 2010, with its line search) and HF-dag (the momentum-like HF of
    Sutskever et al. section 5: no line search)."""
    if config.optimizer == "hf":
        return "HF-dag" if config.optimizer_options.get("line_search") is False else "HF-star"
    if config.optimizer == "sgd" or (config.optimizer in ("cm", "nag") and config.momentum == 0):
        return "SGD"
    if config.optimizer == "adam":
        return "Adam"
    return f"{config.momentum:g}{'N' if config.optimizer == 'nag' else 'M'}"
