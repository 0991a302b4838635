"""The experiment engine: typed run configs, the generic training loop, checkpoints."""

from inertia.experiments._checkpoint import load_checkpoint as load_checkpoint
from inertia.experiments._checkpoint import save_checkpoint as save_checkpoint
from inertia.experiments._checkpoint import write_json as write_json
from inertia.experiments._config import ConfigError as ConfigError
from inertia.experiments._config import RunConfig as RunConfig
from inertia.experiments._config import from_mapping as from_mapping
from inertia.experiments._config import load_config as load_config
from inertia.experiments._config import merge as merge
from inertia.experiments._config import parse_overrides as parse_overrides
from inertia.experiments._optimizers import OPTIMIZERS as OPTIMIZERS
from inertia.experiments._optimizers import build_optimizer as build_optimizer
from inertia.experiments._optimizers import momentum_schedule as momentum_schedule
from inertia.experiments._trainer import RunResult as RunResult
from inertia.experiments._trainer import evaluate as evaluate
from inertia.experiments._trainer import load_result as load_result
from inertia.experiments._trainer import prepare as prepare
from inertia.experiments._trainer import train as train

__all__ = [
    "OPTIMIZERS",
    "ConfigError",
    "RunConfig",
    "RunResult",
    "build_optimizer",
    "evaluate",
    "from_mapping",
    "load_checkpoint",
    "load_config",
    "load_result",
    "merge",
    "momentum_schedule",
    "parse_overrides",
    "prepare",
    "save_checkpoint",
    "train",
    "write_json",
]
