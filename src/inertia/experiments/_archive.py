"""A report's run results as a committed file (``runs.json``), and sweeps restored from it.

A sweep keeps its results in the run folders of ``--runs-dir`` (``result.json`` beside the
checkpoints), which are never committed. When that folder is lost (a new machine, a wiped
disk) a half-done medium budget would have to start again. :func:`write_report` therefore
writes, beside ``table.json``, every complete run's :class:`RunResult` (settings, curve, final
metrics, time, environment; no weights), and ``inertia sweep --restore-from`` puts those results
back into the run folders of runs that have none, so the sweep trains only what is missing.

A result is restored only into a run with exactly its settings (the data folder aside: where
the data lay is not part of what was trained; ``dataset`` names the data actually used). It is
the result that run produced, with the environment and commit it was made with, so a report
counts its training time as before. A fine-tuned twin whose plain run was restored but which
is missing itself is trained from update 0, as the plain run's snapshot is not in the archive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from inertia.experiments._checkpoint import exclusive_lock, write_json
from inertia.experiments._config import ConfigError
from inertia.experiments._protocol import PlannedRun, cell_folder
from inertia.experiments._trainer import RESULT, RunResult, held_files, saved_config

__all__ = [
    "RUNS_ARCHIVE",
    "load_keyed_runs_archive",
    "load_report_archive",
    "load_runs_archive",
    "restore_results",
    "runs_archive",
]

RUNS_ARCHIVE = "runs.json"
"""The file of a report's folder that holds its runs' results."""


def runs_archive(
    protocol: str, budget: str, plan: Mapping[str, PlannedRun], results: Mapping[str, RunResult]
) -> dict[str, Any]:
    """The content of ``runs.json``: each complete run of ``plan``, in plan order, as its cell
    key and :class:`RunResult`."""
    return {
        "protocol": protocol,
        "budget": budget,
        "runs": [{"key": key, "result": results[key].to_dict()} for key in plan if key in results],
    }


def load_keyed_runs_archive(path: str | Path) -> list[tuple[str, RunResult]]:
    """Each run a ``runs.json`` holds, as its cell key (the key of the budget's plan, which
    :func:`~inertia.experiments.cell_folder` turns into its run folder's name) and its result;
    ``path`` is the file or the report folder holding it.

    Raises:
        ConfigError: the file is missing or is not a runs archive (the error names it).
    """
    return _read_archive(path)[2]


def _read_archive(path: str | Path) -> tuple[Path, dict[str, Any], list[tuple[str, RunResult]]]:
    """The archive's file, its content and its keyed runs (see
    :func:`load_keyed_runs_archive`)."""
    where = Path(path)
    file = where / RUNS_ARCHIVE if where.is_dir() else where
    try:
        content = json.loads(file.read_text())
        keyed = [(str(entry["key"]), RunResult(**entry["result"])) for entry in content["runs"]]
        return file, content, keyed
    except FileNotFoundError:
        missing = f"no {RUNS_ARCHIVE} there" if where.is_dir() else "no such file or folder"
        raise ConfigError(
            f"{path}: {missing}; give a report folder written by `inertia report` (e.g. "
            f"results/table1-medium) or its {RUNS_ARCHIVE}"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(
            f"{file} is not a runs archive of `inertia report` ({reason}); give the "
            f"{RUNS_ARCHIVE} of a report folder (or write it again with `inertia report`)"
        ) from None


def load_runs_archive(path: str | Path) -> list[RunResult]:
    """The results a ``runs.json`` holds, for ``inertia sweep --restore-from`` (errors name
    that option); ``path`` is the file or the report folder holding it.

    Raises:
        ConfigError: the file is missing or is not a runs archive (the error names it).
    """
    try:
        return [result for _, result in load_keyed_runs_archive(path)]
    except ConfigError as error:
        raise ConfigError(f"--restore-from {error}") from None


def load_report_archive(
    path: str | Path, protocol: str, budget: str, plan: Mapping[str, PlannedRun]
) -> dict[str, RunResult]:
    """The results of a report's ``runs.json`` keyed by their runs of ``plan``, for ``inertia
    report --from-archive`` (errors name that option): to write a committed report again (with
    today's report code) when the runs folder that made it is gone.

    Raises:
        ConfigError: the archive is missing or malformed, belongs to another protocol or
            budget, or holds a run that ``plan`` does not have (the budget changed since, and
            its report would leave that run out without saying so).
    """
    try:
        file, content, keyed = _read_archive(path)
    except ConfigError as error:
        raise ConfigError(f"--from-archive {error}") from None
    made_by = (content.get("protocol"), content.get("budget"))
    if made_by != (protocol, budget):
        raise ConfigError(
            f"--from-archive {file} holds the runs of {made_by[0]} --budget {made_by[1]}, not "
            f"of {protocol} --budget {budget}; give that protocol and budget, or another archive"
        )
    unplanned = [key for key, _ in keyed if key not in plan]
    if unplanned:
        raise ConfigError(
            f"--from-archive {file}: {len(unplanned)} of its {len(keyed)} runs are not in "
            f"{protocol} --budget {budget} as it stands (first: {unplanned[0]}); the budget "
            "changed since the report was written, so render it from its runs folder instead"
        )
    return dict(keyed)


def _settings_key(config: Mapping[str, Any]) -> str:
    """A run's settings without its data folder, as a comparable string."""
    return json.dumps({**config, "data_dir": ""}, sort_keys=True)


def restore_results(
    plan: Mapping[str, PlannedRun],
    folder: Path,
    archived: Iterable[RunResult],
    data_dir: str = "",
) -> list[str]:
    """Write the archived result of each run of ``plan`` whose folder (under ``folder``) holds
    neither a result nor a checkpoint and whose settings equal an archived run's; the keys of
    the runs restored.

    The written result carries the run's settings as this sweep has them (``data_dir`` set as
    the sweep sets it), so that the trainer takes it as this run's; everything else is the
    archived result as it was. Each check and write holds the run folder's lock, so a worker
    that starts the run at the same moment finds either nothing or the restored result."""
    by_settings: dict[str, RunResult] = {}
    for result in archived:
        by_settings.setdefault(_settings_key(saved_config(result.config)), result)
    restored = []
    for key, run in plan.items():
        config = run.config()
        if data_dir:
            config = config.replace(data_dir=data_dir)
        settings = config.to_dict()
        match = by_settings.get(_settings_key(settings))
        if match is None:
            continue
        run_dir = folder / cell_folder(key)
        run_dir.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(run_dir / ".lock"):
            if held_files(run_dir):
                continue
            write_json({**match.to_dict(), "config": settings}, run_dir / RESULT)
        restored.append(key)
    return restored
