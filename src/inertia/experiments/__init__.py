"""The experiment engine: typed run configs, the generic training loop, checkpoints, protocols,
sweeps, tuning and reports (``pip install 'inertia[experiments]'``).

Sweeps, tuning and reports are imported on first use (they bring Optuna and matplotlib).
"""

from typing import Any

from inertia.experiments._checkpoint import load_checkpoint as load_checkpoint
from inertia.experiments._checkpoint import save_checkpoint as save_checkpoint
from inertia.experiments._checkpoint import write_json as write_json
from inertia.experiments._checkpoint import write_text as write_text
from inertia.experiments._config import ConfigError as ConfigError
from inertia.experiments._config import RunConfig as RunConfig
from inertia.experiments._config import from_mapping as from_mapping
from inertia.experiments._config import load_config as load_config
from inertia.experiments._config import merge as merge
from inertia.experiments._config import nest as nest
from inertia.experiments._config import parse_overrides as parse_overrides
from inertia.experiments._config import settings_help as settings_help
from inertia.experiments._environment import environment as environment
from inertia.experiments._environment import peak_memory_mb as peak_memory_mb
from inertia.experiments._environment import reset_peak_memory as reset_peak_memory
from inertia.experiments._environment import resident_memory_mb as resident_memory_mb
from inertia.experiments._environment import stamp as stamp
from inertia.experiments._optimizers import OPTIMIZERS as OPTIMIZERS
from inertia.experiments._optimizers import build_optimizer as build_optimizer
from inertia.experiments._optimizers import momentum_schedule as momentum_schedule
from inertia.experiments._protocol import Block as Block
from inertia.experiments._protocol import Budget as Budget
from inertia.experiments._protocol import PlannedRun as PlannedRun
from inertia.experiments._protocol import Protocol as Protocol
from inertia.experiments._protocol import cell_folder as cell_folder
from inertia.experiments._protocol import cell_key as cell_key
from inertia.experiments._trainer import RESULT as RESULT
from inertia.experiments._trainer import RunResult as RunResult
from inertia.experiments._trainer import branch_step as branch_step
from inertia.experiments._trainer import clipped_fraction as clipped_fraction
from inertia.experiments._trainer import clipped_updates as clipped_updates
from inertia.experiments._trainer import evaluate as evaluate
from inertia.experiments._trainer import flush_denormals as flush_denormals
from inertia.experiments._trainer import load_result as load_result
from inertia.experiments._trainer import prepare as prepare
from inertia.experiments._trainer import saved_config as saved_config
from inertia.experiments._trainer import snapshot_name as snapshot_name
from inertia.experiments._trainer import train as train
from inertia.experiments._trainer import without_finetuning as without_finetuning

_LAZY = {
    "SweepSettings": "_sweep",
    "completed_results": "_sweep",
    "default_storage": "_sweep",
    "open_study": "_sweep",
    "require_study": "_sweep",
    "run_sweep": "_sweep",
    "sweep_status": "_sweep",
    "build_table": "_report",
    "write_report": "_report",
    "index_results": "_report",
    "provenance": "_report",
    "Tuning": "_tune",
    "migrate_store": "_migrate",
    "parse_search": "_tune",
    "run_tuning": "_tune",
    "best_trial": "_tune",
    "load_keyed_runs_archive": "_archive",
    "load_report_archive": "_archive",
    "load_runs_archive": "_archive",
}


def __getattr__(name: str) -> Any:
    """The sweep, tuning and report functions, imported when first asked for (PEP 562)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"inertia.experiments.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'inertia.experiments' has no attribute {name!r}")


__all__ = [
    "OPTIMIZERS",
    "RESULT",
    "Block",
    "Budget",
    "ConfigError",
    "PlannedRun",
    "Protocol",
    "RunConfig",
    "RunResult",
    "SweepSettings",
    "Tuning",
    "best_trial",
    "branch_step",
    "build_optimizer",
    "build_table",
    "cell_folder",
    "cell_key",
    "clipped_fraction",
    "clipped_updates",
    "completed_results",
    "default_storage",
    "environment",
    "evaluate",
    "flush_denormals",
    "from_mapping",
    "index_results",
    "load_checkpoint",
    "load_config",
    "load_keyed_runs_archive",
    "load_report_archive",
    "load_result",
    "load_runs_archive",
    "merge",
    "migrate_store",
    "momentum_schedule",
    "nest",
    "open_study",
    "parse_overrides",
    "parse_search",
    "peak_memory_mb",
    "prepare",
    "provenance",
    "require_study",
    "reset_peak_memory",
    "resident_memory_mb",
    "run_sweep",
    "run_tuning",
    "save_checkpoint",
    "saved_config",
    "settings_help",
    "snapshot_name",
    "stamp",
    "sweep_status",
    "train",
    "without_finetuning",
    "write_json",
    "write_report",
    "write_text",
]
