"""Protocols: a paper's table as data — per budget, blocks of runs that each fill one labelled cell.

A :class:`Block` names its table cell (row and column labels, as the paper prints them) and the
grid of runs that fill it; a :class:`Budget` is a list of blocks over shared settings; a
:class:`Protocol` adds the published numbers, the display order and the rule that picks each
cell's reported value. Everything is plain data (no callables), so a protocol pickles to sweep
workers as it is, and the engine needs no registry of protocols. The engine knows no paper
vocabulary: labels such as ``0.99N`` or ``HF-dag`` are written where the protocol is declared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from inertia.experiments._config import ConfigError, RunConfig, merge, nest

__all__ = ["Block", "Budget", "PlannedRun", "Protocol", "cell_key", "flatten", "setting"]


def cell_key(overrides: Mapping[str, Any]) -> str:
    """A run's identity inside a sweep: its overrides as canonical JSON."""
    return json.dumps(dict(overrides), sort_keys=True, separators=(",", ":"))


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted keys: ``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr":
    0.1}``."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def setting(config: Mapping[str, Any], key: str) -> Any:
    """The value at dotted ``key`` of a nested config mapping (None where it is absent)."""
    value: Any = config
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def cell_folder(key: str) -> str:
    """A short, stable folder name for a run."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Block:
    """The runs of one table cell: every combination of the ``grid``'s values.

    Attributes:
        row: the cell's row label (e.g. ``curves``, ``add T=80``).
        column: the cell's column label (e.g. ``0.99N``).
        grid: config keys (dotted for section keys, e.g. ``optimizer.lr``) mapped to the values
            to try; the runs are the Cartesian product (e.g. ``{"optimizer.lr": [0.05, 0.01],
            "seed": [0, 1]}``: four runs).
    """

    row: str
    column: str
    grid: Mapping[str, Sequence[Any]]


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One run of a budget: its key (identity in a sweep), settings and table cell."""

    key: str
    overrides: dict[str, Any]
    row: str
    column: str

    def config(self) -> RunConfig:
        return RunConfig(**self.overrides)

    def label(self, base: Mapping[str, Any]) -> str:
        """``row / column`` and the settings that set the run apart from the budget's shared
        ones, e.g. ``curves / 0.99N: optimizer.lr=0.01 seed=1``."""
        shared = flatten(nest(base))
        own = " ".join(
            f"{k}={_value(v)}" for k, v in flatten(self.overrides).items() if shared.get(k) != v
        )
        return f"{self.row} / {self.column}: {own or 'base'}"


def _values(values: Sequence[Any]) -> str:
    return ", ".join(_value(v) for v in values)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _expanded(grid: Mapping[str, Sequence[Any]]) -> dict[str, Sequence[Any]]:
    """A grid with its single mapping values spelled out as dotted keys (for descriptions)."""
    expanded: dict[str, Sequence[Any]] = {}
    for key, values in grid.items():
        if len(values) == 1 and isinstance(values[0], Mapping):
            expanded.update({k: [v] for k, v in flatten(values[0], f"{key}.").items()})
        else:
            expanded[key] = values
    return expanded


@dataclasses.dataclass(frozen=True)
class Budget:
    """One budget of a protocol (``quick``: minutes on 2 CPU cores; ``paper``: the published one).

    Attributes:
        about: what the budget is for and why its settings were chosen, in words; the settings
            themselves are listed by :meth:`describe` from the blocks, so they cannot drift.
        base: config keys shared by every run of the budget (e.g. ``steps``; dotted or nested
            for sections, e.g. ``{"task": {"name": "autoencoder"}}``).
        blocks: the cells' grids; a block's settings are merged over ``base`` (a different
            ``optimizer.name`` replaces the base's optimizer section).
        select_metric: the key that picks each cell's setting in this budget, where it differs
            from the protocol's :attr:`Protocol.select_metric` (e.g. the paper's rule, the
            final error, in a budget that runs the paper's whole protocol).
        cost_axis: the budget compares methods at an equal cost (issue 35: Hessian-free
            against first-order methods): its report also draws the curves against the cost in
            gradient cases (``cost_curves.png``) and keeps them in ``table.json``.
    """

    about: str
    base: Mapping[str, Any]
    blocks: Sequence[Block]
    select_metric: str = ""
    cost_axis: bool = False

    def plan(self) -> dict[str, PlannedRun]:
        """The runs, keyed by :func:`cell_key` of their overrides, in a stable order.

        Raises:
            ConfigError: one run is declared in two different cells.
        """
        runs: dict[str, PlannedRun] = {}
        base = nest(self.base)
        for block in self.blocks:
            fields = sorted(block.grid)
            for values in itertools.product(*(block.grid[f] for f in fields)):
                overrides = merge(base, nest(dict(zip(fields, values))))
                key = cell_key(overrides)
                known = runs.get(key)
                if known is not None and (known.row, known.column) != (block.row, block.column):
                    raise ConfigError(
                        f"run {key} is declared in cell ({known.row}, {known.column}) and in "
                        f"({block.row}, {block.column})"
                    )
                runs.setdefault(key, PlannedRun(key, overrides, block.row, block.column))
        return runs

    def runs(self) -> dict[str, RunConfig]:
        """The runs as validated configs, keyed like :meth:`plan`."""
        return {key: run.config() for key, run in self.plan().items()}

    def describe(self) -> str:
        """The budget in words: ``about``, the shared settings, and per group of cells the
        settings that vary, generated from the blocks."""
        plan = self.plan()
        seeds = sorted({run.overrides.get("seed", 0) for run in plan.values()})
        shared = ", ".join(
            f"{k}={_value(v)}" for k, v in flatten(nest(self.base)).items() if k != "seed"
        )
        groups: dict[str, list[str]] = {}
        for block in self.blocks:
            settings = "; ".join(
                f"{key} in {{{_values(values)}}}"
                if len(values) > 1
                else f"{key}={_value(values[0])}"
                for key, values in _expanded(block.grid).items()
                if key != "seed"
            )
            groups.setdefault(settings or "shared settings", []).append(
                f"{block.row} / {block.column}"
            )
        lines = [
            f"{self.about.rstrip('.')}. {len(plan)} runs, seed(s) {_values(seeds)}; "
            f"all runs: {shared}."
        ]
        for settings, cells in groups.items():
            named = list(dict.fromkeys(cells))
            shown = ", ".join(named[:6]) + (f" and {len(named) - 6} more" if len(named) > 6 else "")
            lines.append(f"- {shown}: {settings}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A table of a paper (or of ours) and the runs that fill it, per budget.

    Within a cell, the metric (final training error at θ) is averaged over seeds for each setting
    of the ``select`` fields (the learning rate), and the best average is reported — the papers'
    rule ("best final training error over lr"). With a ``select_metric`` (e.g. ``valid_error``),
    the setting with the best average of that is chosen and its ``metric`` (e.g.
    ``test_error``) reported.

    Attributes:
        name: the registry name (``inertia sweep NAME``).
        title: the table's caption.
        budgets: ``{"quick": Budget, "paper": Budget, ...}``.
        rows: row labels in display order (every block's row must be one).
        columns: column labels in display order (every block's column must be one).
        published: ``{(row, column): number}`` from the paper; cells absent are "n/a".
        select: config keys (dotted) to pick the best over, after averaging over seeds.
        metric: the key of ``RunResult.final`` reported.
        metric_label: what ``metric`` is, for captions and axes (default: the task's
            ``error_name``, which describes ``train_error``).
        select_metric: the key that picks the setting (default: ``metric``).
        notes: shown under the table (sources, what is unconfirmed, deviations).
    """

    name: str
    title: str
    budgets: Mapping[str, Budget]
    rows: Sequence[str]
    columns: Sequence[str]
    published: Mapping[tuple[str, str], float] = dataclasses.field(default_factory=dict)
    select: Sequence[str] = ("optimizer.lr",)
    metric: str = "train_error"
    metric_label: str = ""
    select_metric: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        for budget_name, budget in self.budgets.items():
            for block in budget.blocks:
                if block.row not in self.rows or block.column not in self.columns:
                    raise ConfigError(
                        f"protocol {self.name!r} budget {budget_name!r}: block cell "
                        f"({block.row!r}, {block.column!r}) is not among its rows and columns"
                    )

    def chooser(self, budget: str) -> str:
        """The key that picks a cell's setting in ``budget``: the budget's ``select_metric``,
        else the protocol's, else ``metric``."""
        return self.budget(budget).select_metric or self.select_metric or self.metric

    def budget(self, name: str) -> Budget:
        if name not in self.budgets:
            raise ConfigError(
                f"protocol {self.name!r} has budgets {sorted(self.budgets)}, got {name!r}"
            )
        return self.budgets[name]
