"""``inertia migrate``: carry a sweep store and run folders written by inertia 0.1 (flat run
settings) over to today's run keys, so that finished runs keep counting and killed ones resume.

For each study of a registered protocol whose runs are keyed by 0.1 settings: every trial is
first copied into a backup study (``NAME@0.1``), then the study is recreated under its name with
each complete run's key and stored result translated (:func:`upgrade_config`), and the run
folders are renamed to their new keys (an unfinished run resumes there from its checkpoint). A run
that today's budget no longer plans stays in the backup only. Re-running is safe: a migrated
study is marked and left alone, and an interrupted migration restarts from the backup.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna

from inertia.experiments._config import RunConfig, from_mapping
from inertia.experiments._legacy import is_legacy, upgrade_config
from inertia.experiments._protocol import Protocol, cell_folder, cell_key
from inertia.experiments._sweep import SweepSettings, open_study, storage_for

__all__ = ["MigrationReport", "migrate_store"]

_BACKUP = "@0.1"
_MARK = "migrated_from_0.1"


@dataclasses.dataclass
class MigrationReport:
    """What :func:`migrate_store` did to one study."""

    study: str
    trials: int = 0
    carried: int = 0
    dropped: int = 0
    folders: int = 0
    skipped: str = ""


def _is_legacy_trial(trial: optuna.trial.FrozenTrial) -> bool:
    cell = trial.params.get("cell")
    return isinstance(cell, str) and is_legacy(json.loads(cell))


def _upgraded_result(result: Mapping[str, Any]) -> dict[str, Any]:
    config = from_mapping(RunConfig, upgrade_config(result["config"])).to_dict()
    return {**result, "config": config}


def _carry(
    trial: optuna.trial.FrozenTrial, new_key: str, cells: list[str]
) -> optuna.trial.FrozenTrial:
    attributes = dict(trial.user_attrs)
    if "result" in attributes:
        attributes["result"] = _upgraded_result(attributes["result"])
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState.COMPLETE,
        value=trial.value,
        params={"cell": new_key},
        distributions={"cell": optuna.distributions.CategoricalDistribution(cells)},
        user_attrs=attributes,
        intermediate_values=trial.intermediate_values,
    )


def migrate_store(
    protocols: Mapping[str, Protocol], settings: SweepSettings
) -> list[MigrationReport]:
    """Migrate every 0.1 study of ``protocols`` in ``settings.storage`` (see the module)."""
    storage = storage_for(settings)
    names = {summary.study_name for summary in optuna.get_all_study_summaries(storage)}
    reports = []
    for protocol in protocols.values():
        for budget in protocol.budgets:
            name = f"{protocol.name}-{budget}"
            if name in names or name + _BACKUP in names:
                reports.append(_migrate_study(protocol, budget, settings, storage, names))
    return reports


def _migrate_study(
    protocol: Protocol,
    budget: str,
    settings: SweepSettings,
    storage: optuna.storages.BaseStorage,
    names: set[str],
) -> MigrationReport:
    name = f"{protocol.name}-{budget}"
    report = MigrationReport(name)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    backup_name = name + _BACKUP
    done = name in names and optuna.load_study(study_name=name, storage=storage).user_attrs.get(
        _MARK
    )
    if backup_name in names and done:
        report.skipped = "migrated before"
        return report
    if backup_name not in names:
        current = optuna.load_study(study_name=name, storage=storage)
        old = current.get_trials(deepcopy=False)
        if not any(_is_legacy_trial(trial) for trial in old):
            report.skipped = "already in today's form"
            return report
        backup = optuna.create_study(study_name=backup_name, storage=storage)
        backup.add_trials(old)  # every trial kept before anything is deleted
    old = optuna.load_study(study_name=backup_name, storage=storage).get_trials(deepcopy=False)
    old = [trial for trial in old if _is_legacy_trial(trial)]
    if name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        optuna.delete_study(study_name=name, storage=storage)
    plan = protocol.budget(budget).plan()
    cells = list(plan)
    carried = []
    folder = Path(settings.runs_dir) / name
    for trial in old:
        report.trials += 1
        cell = trial.params["cell"]
        new_key = cell_key(upgrade_config(json.loads(cell)))
        if new_key not in plan:
            report.dropped += 1
            continue
        source, target = folder / cell_folder(cell), folder / cell_folder(new_key)
        if source.is_dir() and not target.exists():
            source.rename(target)  # an unfinished run resumes there from its checkpoint
            report.folders += 1
        if trial.state == optuna.trial.TrialState.COMPLETE:
            carried.append(_carry(trial, new_key, cells))
    study = open_study(protocol, budget, settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.add_trials(carried)
    study.set_user_attr(_MARK, True)
    report.carried = len(carried)
    return report
