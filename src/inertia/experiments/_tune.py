"""Tuning: Optuna's samplers (TPE, random) over ranges of run settings, with optional pruning.

Shares the sweep machinery: the same storage (SQLite or PostgreSQL), heartbeats and retry of
killed trials (a retry resumes its run from the checkpoint), and local worker processes.
With several workers, up to ``workers - 1`` trials beyond the requested number may finish.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import optuna
import torch

from inertia.experiments._config import ConfigError, RunConfig, parse_value
from inertia.experiments._protocol import cell_folder, cell_key, flatten
from inertia.experiments._sweep import SweepSettings, run_workers, storage_for
from inertia.experiments._trainer import flush_denormals, train

__all__ = [
    "SAMPLERS",
    "SearchDimension",
    "Tuning",
    "best_trial",
    "open_tuning_study",
    "parse_search",
    "run_tuning",
]

_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


_NUMERIC_KINDS: dict[str, Literal["float", "log", "int"]] = {
    "float": "float", "log": "log", "int": "int"
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class SearchDimension:
    """One searched setting: ``float``/``log`` (uniform / log-uniform), ``int`` or ``choice``."""

    name: str
    kind: Literal["float", "log", "int", "choice"]
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high))
        return trial.suggest_float(self.name, self.low, self.high, log=self.kind == "log")


def parse_search(spec: str) -> SearchDimension:
    """Parse ``optimizer.lr=log:1e-4:1e-1``, ``optimizer.momentum=float:0.5:0.999``,
    ``batch_size=int:32:256`` or ``optimizer.name=choice:cm,nag`` (the key is checked against
    the run's settings by :func:`run_tuning`)."""
    try:
        name, rest = spec.split("=", 1)
        kind, arguments = rest.split(":", 1)
    except ValueError:
        raise ConfigError(
            f"search {spec!r} must look like KEY=log:LOW:HIGH, KEY=float:LOW:HIGH, "
            "KEY=int:LOW:HIGH or KEY=choice:A,B,..."
        ) from None
    if kind == "choice":
        choices = tuple(parse_value(value) for value in arguments.split(","))
        return SearchDimension(name, "choice", choices=choices)
    numeric = _NUMERIC_KINDS.get(kind)
    if numeric is None:
        raise ConfigError(f"search {spec!r}: kind must be log, float, int or choice, got {kind!r}")
    try:
        low, high = (float(value) for value in arguments.split(":"))
    except ValueError:
        raise ConfigError(f"search {spec!r}: bounds must be two numbers LOW:HIGH") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"search {spec!r}: bounds must be finite numbers")
    if not low < high or (kind == "log" and low <= 0):
        raise ConfigError(f"search {spec!r}: need LOW < HIGH (and LOW > 0 for log)")
    if kind == "int" and not (low.is_integer() and high.is_integer()):
        raise ConfigError(f"search {spec!r}: an int range needs whole-number bounds, e.g. int:2:4")
    return SearchDimension(name, numeric, low, high)


SAMPLERS = ("tpe", "random")


def _sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ConfigError(f"--sampler must be 'tpe' or 'random', got {name!r}")


@dataclasses.dataclass(frozen=True)
class Tuning:
    """A tuning study: what is searched, how, and how many finished trials it needs. Checked
    when made (trials, sampler, searched keys), before any store or folder is created.

    Raises:
        ConfigError: a setting of the study is impossible (one line naming it).
    """

    study_name: str
    base: RunConfig
    space: tuple[SearchDimension, ...]
    trials: int
    sampler: str = "tpe"
    prune: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ConfigError(f"--trials must be >= 1, got {self.trials}")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"--sampler must be 'tpe' or 'random', got {self.sampler!r}")
        if not self.space:
            raise ConfigError("nothing to tune: give at least one --search KEY=...")
        known = flatten(self.base.to_dict())
        for dimension in self.space:
            if dimension.name not in known:
                close = difflib.get_close_matches(dimension.name, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"search: unknown config key {dimension.name!r} for task "
                    f"{self.base.task.name!r} and optimizer {self.base.optimizer.name!r}{hint}"
                )


def open_tuning_study(tuning: Tuning, settings: SweepSettings) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial: our one line, no trace
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.MedianPruner(n_startup_trials=3)
        if tuning.prune
        else optuna.pruners.NopPruner()
    )
    return optuna.create_study(
        study_name=tuning.study_name,
        storage=storage_for(settings),
        sampler=_sampler(tuning.sampler, tuning.seed),
        pruner=pruner,
        direction="minimize",
        load_if_exists=True,
    )


def _finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=_FINISHED))


def _describe(params: dict[str, Any]) -> str:
    return " ".join(
        f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in params.items()
    )


def _tuning_worker(tuning: Tuning, settings: SweepSettings, threads: int) -> None:
    torch.set_num_threads(threads)
    flush_denormals()
    study = open_tuning_study(tuning, settings)
    folder = Path(settings.runs_dir) / tuning.study_name

    def objective(trial: optuna.Trial) -> float:
        params = {dimension.name: dimension.suggest(trial) for dimension in tuning.space}
        try:
            config = tuning.base.replace(**params)
        except ConfigError as error:  # a sampled value the run cannot take
            trial.set_user_attr("invalid", str(error))
            raise optuna.TrialPruned(str(error)) from None

        def report(step: int, metrics: dict[str, float]) -> None:
            value = metrics["train_error"]
            if math.isfinite(value):
                trial.report(value, step)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at update {step}")

        run_dir = folder / cell_folder(cell_key(params))
        result = train(config, run_dir, resume=True, on_evaluation=report)
        trial.set_user_attr("result", result.to_dict())
        if settings.progress:
            print(
                f"[worker {os.getpid()}] trial {trial.number} {_describe(params)}: "
                f"{result.status}, train_error {result.final['train_error']:.6g}",
                flush=True,
            )
        return result.final["train_error"]

    while _finished(study) < tuning.trials:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optuna.storages.fail_stale_trials(study)  # fail and re-enqueue killed runs
        study.optimize(objective, n_trials=1, catch=())


def run_tuning(tuning: Tuning, settings: SweepSettings) -> optuna.Study:
    """Run trials until ``tuning.trials`` have finished (complete or pruned); returns the study."""
    study = open_tuning_study(tuning, settings)
    if _finished(study) >= tuning.trials:
        if settings.progress:
            print(f"tuning {tuning.study_name}: {tuning.trials} trials finished; nothing to do")
        return study
    run_workers(_tuning_worker, (tuning, settings), settings.workers, settings.threads_per_worker)
    return study


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The study's best complete trial.

    Raises:
        ConfigError: no trial completed; the message says why the first of them did not (a
            sampled value the run cannot take, or pruning).
    """
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if complete:
        return study.best_trial
    others = study.get_trials(deepcopy=False)
    reasons = [
        trial.user_attrs.get("invalid") for trial in others if trial.user_attrs.get("invalid")
    ]
    why = f"; the first: {reasons[0]}" if reasons else " (all were pruned)"
    raise ConfigError(
        f"tuning {study.study_name}: none of its {len(others)} trials completed{why}; change "
        "the searched ranges"
    )
