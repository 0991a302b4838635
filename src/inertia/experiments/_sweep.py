"""Sweeps: a protocol's grid of runs, shared through an Optuna storage by any number of workers.

Each run is one Optuna trial whose single parameter ``cell`` names the run (its overrides as
JSON), sampled by ``GridSampler``. The storage is an SQLite file by default (nothing to start)
or a PostgreSQL URL, so workers on several machines can share one sweep. Guarantees:

- a run killed mid-sweep is retried: its worker stops sending heartbeats, the trial is failed
  after the grace period and re-enqueued (``RetryHeartbeatStaleTrialCallback``), and the retry
  resumes from the run's last checkpoint;
- no run is counted twice: a trial whose cell is already complete, or running in a trial with a
  lower number, is pruned as a duplicate; reports take the first complete trial of each cell;
- re-running a finished sweep does nothing;
- a run whose folder already holds its result (restored from a report's ``runs.json``, or left
  by a sweep whose store was lost) is recorded by the sweep's first trials, not trained again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import optuna
import torch

from inertia.experiments._archive import load_runs_archive, restore_results
from inertia.experiments._checkpoint import exclusive_lock, write_json
from inertia.experiments._config import ConfigError, RunConfig
from inertia.experiments._protocol import PlannedRun, Protocol, cell_folder
from inertia.experiments._trainer import (
    RESULT,
    RunResult,
    branch_step,
    flush_denormals,
    held_files,
    saved_config,
    snapshot_name,
    train,
    without_finetuning,
)

__all__ = [
    "SweepProgress",
    "SweepSettings",
    "SweepStatus",
    "adopt_identical_result",
    "completed_results",
    "default_storage",
    "open_study",
    "require_study",
    "run_sweep",
    "run_workers",
    "storage_for",
    "sweep_status",
]

_RESULT_ATTRIBUTE = "result"
_DUPLICATE_ATTRIBUTE = "duplicate_of"


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """Where a sweep lives and how its workers behave.

    Attributes:
        storage: an SQLAlchemy URL (``sqlite:///runs/sweeps.db``, ``postgresql://...``).
        runs_dir: folder for the runs' checkpoints (shared by workers on one machine).
        workers: local worker processes.
        threads: torch threads per worker; 0 shares the machine's cores among the workers
            (cores // workers). Set it when other work runs beside the sweep, so that the
            processes together do not ask for more threads than there are cores.
        heartbeat_s: seconds between a running trial's heartbeats.
        grace_s: a running trial without heartbeat for this long is failed and retried.
        max_retry: retries of a killed run.
        data_dir: overrides the runs' data directory ("" keeps the protocol's).
        progress: print a line per finished run.
        restore_from: report folders (or their ``runs.json``) whose results are put back into
            the run folders that have none before any run starts (:mod:`._archive`), e.g.
            after the runs folder was lost.
    """

    storage: str
    runs_dir: str = "runs"
    workers: int = 1
    threads: int = 0
    heartbeat_s: int = 10
    grace_s: int = 30
    max_retry: int = 3
    data_dir: str = ""
    progress: bool = True
    restore_from: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.threads < 0:
            raise ConfigError(f"threads must be >= 0 (0: cores // workers), got {self.threads}")
        if self.heartbeat_s < 1 or self.grace_s <= self.heartbeat_s:
            raise ConfigError(
                f"heartbeat ({self.heartbeat_s} s) must be >= 1 and below the grace period "
                f"({self.grace_s} s)"
            )

    @property
    def threads_per_worker(self) -> int:
        """``threads``, or the cores shared among the workers when it is 0."""
        return self.threads or max(1, (os.cpu_count() or 1) // self.workers)


def default_storage(runs_dir: str | Path) -> str:
    return f"sqlite:///{Path(runs_dir).resolve() / 'sweeps.db'}"


def storage_for(settings: SweepSettings) -> optuna.storages.RDBStorage:
    _require_driver(settings.storage)
    with warnings.catch_warnings(), _schema_lock(settings.storage):
        warnings.simplefilter("ignore")  # heartbeats are marked experimental in Optuna
        try:
            return optuna.storages.RDBStorage(
                _with_driver(settings.storage),
                heartbeat_interval=settings.heartbeat_s,
                grace_period=settings.grace_s,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=settings.max_retry
                ),
            )
        except Exception as error:  # SQLAlchemy's and Optuna's many kinds, one message
            reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            raise ConfigError(
                f"sweep store {settings.storage} cannot be opened ({type(error).__name__}: "
                f"{reason}); give sqlite:///PATH in an existing, writable folder or a "
                "postgresql:// URL (--storage)"
            ) from None


_SQLITE_HEADER = b"SQLite format 3\x00"


def _with_driver(url: str) -> str:
    """A bare ``postgresql://`` (or ``postgres://``) URL with the driver the ``postgres`` extra
    installs, psycopg2 (SQLAlchemy 2.1 would otherwise look for psycopg 3)."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    return url


def _require_driver(url: str) -> None:
    """A PostgreSQL store through psycopg2 needs it installed (the ``postgres`` extra); say so,
    rather than SQLAlchemy's "Please install appropriate one"."""
    if _with_driver(url).startswith("postgresql+psycopg2://"):
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            raise ConfigError(
                f"sweep store {url} needs psycopg2, not installed: pip install "
                "'inertia[postgres]' (or give an sqlite:/// store)"
            ) from None


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


@contextlib.contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """Hold an exclusive lock beside an SQLite store while it is opened: two sweeps that start
    together on a new file would otherwise both create its schema, and one would fail."""
    path = _sqlite_path(url)
    if path is None or not path.parent.is_dir():
        yield
        return
    with exclusive_lock(path.with_name(path.name + ".lock")):
        yield


def require_study(settings: SweepSettings, name: str) -> None:
    """Refuse to report on a sweep the store does not hold, without creating an empty store.

    Raises:
        ConfigError: no such store, or no such sweep in it.
    """
    path = _sqlite_path(settings.storage)
    if path is not None and not path.is_file():
        raise ConfigError(
            f"no sweep store at {path}: run `inertia sweep` first, or point --runs-dir (or "
            "--storage) at the folder of the sweep"
        )
    if path is not None:  # opening a file that is not a store would write a schema into it
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
        if header != _SQLITE_HEADER:
            what = "empty (0 bytes)" if not header else "not an SQLite database"
            raise ConfigError(
                f"{path} is {what}, not a sweep store; point --runs-dir (or --storage) at the "
                "folder of the sweep"
            )
    _require_driver(settings.storage)
    names = {
        summary.study_name for summary in optuna.get_all_study_summaries(storage_for(settings))
    }
    if name not in names:
        held = ", ".join(sorted(n for n in names if "@" not in n)) or "none"
        raise ConfigError(
            f"the sweep store {settings.storage} holds no sweep {name} (it holds: {held}); run "
            f"`inertia sweep` with that protocol and budget first"
        )


def study_name(protocol: Protocol, budget: str) -> str:
    return f"{protocol.name}-{budget}"


def open_study(protocol: Protocol, budget: str, settings: SweepSettings) -> optuna.Study:
    """Create or load the sweep's study (one per protocol and budget).

    A budget whose runs changed since its sweep began (runs added or removed) is carried over:
    the study's trials are first copied into a backup study ``NAME@N``, then the study is made
    anew over today's runs with every complete run that is still planned, so finished runs keep
    counting and the new ones are run.
    """
    cells = list(protocol.budget(budget).plan())
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial: our one line, no trace
    storage = storage_for(settings)
    name = study_name(protocol, budget)

    def create() -> optuna.Study:
        return optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=optuna.samplers.GridSampler({"cell": cells}, seed=0),
            direction="minimize",
            load_if_exists=True,
        )

    study = create()
    trials = study.get_trials(deepcopy=False)
    recorded = [t.distributions["cell"] for t in trials if "cell" in t.distributions]
    if all(
        isinstance(d, optuna.distributions.CategoricalDistribution)
        and tuple(d.choices) == tuple(cells)
        for d in recorded
    ):
        return study
    names = {summary.study_name for summary in optuna.get_all_study_summaries(storage)}
    backup = next(f"{name}@{n}" for n in itertools.count(1) if f"{name}@{n}" not in names)
    optuna.create_study(study_name=backup, storage=storage).add_trials(trials)
    optuna.delete_study(study_name=name, storage=storage)
    study = create()
    distribution = optuna.distributions.CategoricalDistribution(cells)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.add_trials([
            optuna.trial.create_trial(
                params={"cell": t.params["cell"]}, distributions={"cell": distribution},
                value=t.value, user_attrs=dict(t.user_attrs),
            )
            for t in trials
            if t.state == optuna.trial.TrialState.COMPLETE and t.params.get("cell") in cells
        ])  # fmt: skip
    return study


@dataclasses.dataclass(frozen=True)
class SweepStatus:
    """Cells of a sweep by state (each cell counted once)."""

    total: int
    complete: set[str]
    running: set[str]
    waiting: int

    @property
    def done(self) -> bool:
        return len(self.complete) == self.total


def sweep_status(study: optuna.Study, cells: list[str]) -> SweepStatus:
    trials = study.get_trials(deepcopy=False)
    complete = {t.params["cell"] for t in trials if t.state == optuna.trial.TrialState.COMPLETE}
    running = {
        t.params["cell"]
        for t in trials
        if t.state == optuna.trial.TrialState.RUNNING and "cell" in t.params
    } - complete
    waiting = sum(t.state == optuna.trial.TrialState.WAITING for t in trials)
    return SweepStatus(len(cells), complete & set(cells), running, waiting)


def completed_results(study: optuna.Study) -> dict[str, RunResult]:
    """The result of each cell's first complete trial."""
    results: dict[str, RunResult] = {}
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        cell = trial.params["cell"]
        if cell not in results and _RESULT_ATTRIBUTE in trial.user_attrs:
            results[cell] = RunResult(**trial.user_attrs[_RESULT_ATTRIBUTE])
    return results


def fine_tuning_families(runs: dict[str, PlannedRun]) -> dict[str, tuple[str, list[str]]]:
    """For each run in a family, the family: a run without fine-tuning and the runs that differ
    from it only by low-momentum fine-tuning (Table 2's pairs), which can start from its
    snapshot instead of from update 0."""
    configs = {key: run.config() for key, run in runs.items()}  # validated once
    groups: dict[str, list[str]] = {}
    for key, config in configs.items():
        plain = json.dumps(without_finetuning(config), sort_keys=True)
        groups.setdefault(plain, []).append(key)
    families: dict[str, tuple[str, list[str]]] = {}
    for members in groups.values():
        plains = [k for k in members if branch_step(configs[k]) is None]
        twins = [k for k in members if k not in plains]
        if len(plains) == 1 and twins:
            for key in members:
                families[key] = (plains[0], twins)
    return families


def adopt_identical_result(config: RunConfig, run_dir: Path, runs_dir: Path) -> Path | None:
    """Copy into ``run_dir`` (a run not started yet) the finished result of a run with exactly
    ``config`` that another sweep under ``runs_dir`` made, so that a run is trained once however
    many tables hold it (table2's medium runs are table1's); the folder of the run that trained
    it, or None.

    Training again would give the same result (same settings, same seed), so the copy is what the
    run would have produced; the result keeps the environment and commit it was made with, and
    names in ``reused_from`` the folder that trained it (so a report does not count its training
    time twice)."""
    if held_files(run_dir):
        return None
    wanted = config.to_dict()
    for candidate in sorted(runs_dir.glob(f"*/*/{RESULT}")):
        source = candidate.parent
        if source.resolve() == run_dir.resolve():
            continue
        try:
            stored = json.loads(candidate.read_text())
            result = RunResult(**stored)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError):
            continue  # not a result: never adopted, and not this function's to report
        if result.status in ("completed", "diverged") and saved_config(result.config) == wanted:
            run_dir.mkdir(parents=True, exist_ok=True)
            origin = result.reused_from or source.relative_to(runs_dir).as_posix()
            write_json({**stored, "reused_from": origin}, run_dir / RESULT)
            return runs_dir / origin
    return None


def _train_run(
    cell: str,
    runs: dict[str, PlannedRun],
    families: dict[str, tuple[str, list[str]]],
    settings: SweepSettings,
    folder: Path,
    report: Callable[[int, dict[str, float]], None],
) -> RunResult:
    """Train the run ``cell``. In a fine-tuning family, whichever member a worker draws first,
    it trains the plain run (keeping a snapshot at each twin's :func:`branch_step`) and then each
    twin from its snapshot; the other members' trials then find their results on disk."""

    def config_of(key: str) -> RunConfig:
        config = runs[key].config()
        return config.replace(data_dir=settings.data_dir) if settings.data_dir else config

    family = [families[cell][0], *families[cell][1]] if cell in families else [cell]
    for key in family:  # runs another sweep already made are not trained again
        source = adopt_identical_result(
            config_of(key), folder / cell_folder(key), Path(settings.runs_dir)
        )
        if source is not None and settings.progress:
            print(f"{runs[key].row} / {runs[key].column}: the same run finished in {source}; "
                  "its result is reused", flush=True)  # fmt: skip

    if cell not in families:
        return train(config_of(cell), folder / cell_folder(cell), resume=True,
                     on_evaluation=report)  # fmt: skip
    plain, twins = families[cell]
    steps = sorted({step for twin in twins if (step := branch_step(config_of(twin))) is not None})
    results = {
        plain: train(
            config_of(plain),
            folder / cell_folder(plain),
            resume=True,
            on_evaluation=report if cell == plain else None,
            snapshots=steps,
        )
    }
    for twin in twins:
        config = config_of(twin)
        branch = branch_step(config)
        if branch is None:  # a twin is a run that branches (its family's definition)
            raise ValueError(f"run {twin} of {plain}'s family has no fine-tuning branch")
        snapshot = folder / cell_folder(plain) / snapshot_name(branch)
        results[twin] = train(config, folder / cell_folder(twin), resume=True,
                              on_evaluation=report if cell == twin else None,
                              branch_from=snapshot)  # fmt: skip
    return results[cell]


def _objective(
    study: optuna.Study,
    runs: dict[str, PlannedRun],
    base: dict[str, object],
    settings: SweepSettings,
    folder: Path,
    metric: str,
    skipped: dict[str, str] | None = None,
) -> Callable[[optuna.Trial], float]:
    families = fine_tuning_families(runs)
    skipped = skipped or {}

    def objective(trial: optuna.Trial) -> float:
        cell = trial.suggest_categorical("cell", list(runs))
        if cell in skipped:  # its data cannot be had here (run_sweep said so)
            raise optuna.TrialPruned(f"skipped: {skipped[cell]}")
        for other in study.get_trials(deepcopy=False):
            if other.number == trial.number or other.params.get("cell") != cell:
                continue
            complete = other.state == optuna.trial.TrialState.COMPLETE
            earlier_running = (
                other.state == optuna.trial.TrialState.RUNNING and other.number < trial.number
            )
            if complete or earlier_running:
                trial.set_user_attr(_DUPLICATE_ATTRIBUTE, other.number)
                raise optuna.TrialPruned(f"cell already handled by trial {other.number}")

        def report(step: int, metrics: dict[str, float]) -> None:
            value = metrics[metric]
            if value == value and abs(value) != float("inf"):  # finite values only
                trial.report(value, step)

        result = _train_run(cell, runs, families, settings, folder, report)
        trial.set_user_attr(_RESULT_ATTRIBUTE, result.to_dict())
        if settings.progress:
            value = result.final[metric]
            clear = "\r\033[K" if sys.stdout.isatty() else ""  # over the progress bar's line
            print(
                f"{clear}[worker {os.getpid()}] {runs[cell].label(base)}: {result.status}, "
                f"{metric} {value:.6g}, {result.updates_per_s:.2g} updates/s",
                flush=True,
            )
        return result.final[metric]

    return objective


def _worker(
    protocol: Protocol, budget: str, settings: SweepSettings, skipped: dict[str, str],
    threads: int,
) -> None:  # fmt: skip
    """Run the sweep's runs until every one not ``skipped`` (its data missing: checked once, by
    :func:`run_sweep`) is complete."""
    torch.set_num_threads(threads)
    flush_denormals()
    study = open_study(protocol, budget, settings)
    runs = protocol.budget(budget).plan()
    cells = [key for key in runs if key not in skipped]
    folder = Path(settings.runs_dir) / study.study_name
    base = dict(protocol.budget(budget).base)
    objective = _objective(study, runs, base, settings, folder, protocol.metric, skipped)
    poll = max(1.0, settings.heartbeat_s / 2)
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optuna.storages.fail_stale_trials(study)  # fail and re-enqueue killed runs
        status = sweep_status(study, cells)
        if status.done:
            return
        free = [c for c in cells if c not in status.complete and c not in status.running]
        if not free and not status.waiting:
            time.sleep(poll)  # others are running the rest; wait in case one of them dies
            continue
        tried = {t.params.get("cell") for t in study.get_trials(deepcopy=False)}
        if free and not status.waiting and all(c in tried for c in free):
            # Every free cell has failed before (GridSampler counts it as visited): ask again.
            study.enqueue_trial({"cell": free[0]}, skip_if_exists=False)
        study.optimize(objective, n_trials=1, catch=())


class SweepProgress:
    """A progress bar for a sweep, updated from its store every ``interval`` seconds by a thread
    of the process that started the workers: updates done out of all the budget's updates
    (complete runs count whole, running runs up to their latest evaluation), runs complete and
    running, and the time left at the pace so far. Shown on a terminal only (tqdm)."""

    def __init__(
        self, protocol: Protocol, budget: str, settings: SweepSettings, enabled: bool = True,
        interval: float = 2.0, skipped: Sequence[str] = (),
    ) -> None:  # fmt: skip
        plan = protocol.budget(budget).plan()
        self.steps = {key: run.config().steps for key, run in plan.items() if key not in skipped}
        self.name, self.settings = study_name(protocol, budget), settings
        self.enabled, self.interval = enabled, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def measure(self, study: optuna.Study) -> tuple[int, int, int]:
        """(updates done, runs complete, runs running)."""
        done: dict[str, int] = {}
        complete, running = set(), set()
        for trial in study.get_trials(deepcopy=False):
            cell = trial.params.get("cell")
            if cell not in self.steps:
                continue
            if trial.state == optuna.trial.TrialState.COMPLETE:
                complete.add(cell)
                done[cell] = self.steps[cell]
            elif trial.state == optuna.trial.TrialState.RUNNING:
                running.add(cell)
                reached = max(trial.intermediate_values, default=0)
                done[cell] = max(done.get(cell, 0), min(reached, self.steps[cell]))
        return sum(done.values()), len(complete), len(running - complete)

    def _show(self) -> None:
        from tqdm.auto import tqdm

        study = optuna.load_study(study_name=self.name, storage=storage_for(self.settings))
        total = sum(self.steps.values())
        with tqdm(total=total, unit="upd", desc=self.name, dynamic_ncols=True, disable=None,
                  initial=self.measure(study)[0]) as bar:  # fmt: skip
            while not self._stop.wait(self.interval):
                updates, complete, running = self.measure(study)
                bar.update(max(updates - bar.n, 0))
                bar.set_postfix(runs=f"{complete}/{len(self.steps)}", running=running)

    def __enter__(self) -> SweepProgress:
        if self.enabled:
            self._thread = threading.Thread(target=self._show, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def runs_without_data(runs: dict[str, PlannedRun], data_dir: str) -> dict[str, str]:
    """The planned runs whose task cannot get its data here, with the task's reason
    (:meth:`inertia.tasks.AbstractTask.missing_data`); checked once per distinct task section."""
    from inertia.tasks import TASKS

    reasons: dict[str, str | None] = {}
    missing: dict[str, str] = {}
    for key, run in runs.items():
        options = run.config().task
        section = options.model_dump_json()
        if section not in reasons:
            reasons[section] = TASKS[options.name].missing_data(options, data_dir or None)
        reason = reasons[section]
        if reason is not None:
            missing[key] = reason
    return missing


def enqueue_finished_folders(study: optuna.Study, cells: list[str], folder: Path) -> None:
    """Queue first, in plan order, every run whose folder already holds its ``result.json``
    (restored by ``--restore-from``, or left by a sweep whose store was lost) but which has no
    complete, waiting or running trial. Recording such a run takes a moment,
    so the sweep's first trials make them count in ``inertia report`` at once, instead of
    whenever ``GridSampler``'s random order reaches them, maybe hours later. Two processes
    queuing the same run at once are harmless: the later trial is pruned as a duplicate."""
    live = (
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.WAITING,
        optuna.trial.TrialState.RUNNING,
    )
    known = {  # a waiting trial's cell is in its fixed parameters until a worker takes it
        t.params.get("cell", t.system_attrs.get("fixed_params", {}).get("cell"))
        for t in study.get_trials(deepcopy=False)
        if t.state in live
    }
    for key in cells:
        if key not in known and (folder / cell_folder(key) / RESULT).is_file():
            study.enqueue_trial({"cell": key}, skip_if_exists=False)


def run_sweep(protocol: Protocol, budget: str, settings: SweepSettings) -> SweepStatus:
    """Run (or finish) a sweep with ``settings.workers`` local processes; returns its status.
    Runs whose data this machine cannot get are skipped, each group named with the reason
    (the sweep counts as done without them).

    Raises:
        RuntimeError: a worker failed (its error was printed); completed runs are kept.
    """
    plan = protocol.budget(budget).plan()
    for run in plan.values():
        run.config()  # every run's settings are valid before any starts (ConfigError)
    skipped = runs_without_data(plan, settings.data_dir)
    for reason in sorted(set(skipped.values())):
        rows = sorted({plan[key].row for key, why in skipped.items() if why == reason})
        count = sum(why == reason for why in skipped.values())
        print(f"sweep {protocol.name}-{budget}: skipping {count} run(s) of {', '.join(rows)}: "
              f"{reason}", file=sys.stderr, flush=True)  # fmt: skip
    archived = [result for path in settings.restore_from for result in load_runs_archive(path)]
    study = open_study(protocol, budget, settings)  # created once, before workers race for it
    if archived:
        restored = restore_results(
            plan, Path(settings.runs_dir) / study.study_name, archived, settings.data_dir
        )
        if settings.progress:
            print(f"sweep {study.study_name}: {len(restored)} result(s) restored from "
                  f"{', '.join(settings.restore_from)}", flush=True)  # fmt: skip
    cells = [key for key in plan if key not in skipped]
    enqueue_finished_folders(study, cells, Path(settings.runs_dir) / study.study_name)
    before = sweep_status(study, cells)
    if before.done:
        if settings.progress:
            print(f"sweep {study.study_name}: all {before.total} runs complete; nothing to do")
        return before
    if settings.progress:
        print(
            f"sweep {study.study_name}: {len(before.complete)} of {before.total} runs complete; "
            f"{settings.workers} worker(s), storage {settings.storage}",
            flush=True,
        )
    progress = SweepProgress(protocol, budget, settings, settings.progress, skipped=list(skipped))
    with progress:
        if settings.workers == 1:
            _worker(protocol, budget, settings, skipped, settings.threads_per_worker)
            return sweep_status(study, cells)
        try:  # the protocol is plain data: spawned workers receive it pickled
            run_workers(
                _worker,
                (protocol, budget, settings, skipped),
                settings.workers,
                settings.threads_per_worker,
            )
        except RuntimeError as error:
            status = sweep_status(study, cells)
            if not status.done:
                raise
            # A worker was lost, but the others finished every run: the sweep is complete.
            print(f"sweep {study.study_name}: {error}; every run completed all the same",
                  flush=True)  # fmt: skip
            return status
    return sweep_status(study, cells)


def _raise_system_exit(signum: int, frame: object) -> None:
    # Once is enough: a second signal (the parent's ``terminate`` after a Ctrl-C or ``kill``
    # that reached the whole group) must not interrupt the unwinding and exit handlers.
    signal.signal(signum, signal.SIG_IGN)
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _terminate_on_exit(processes: list) -> Iterator[None]:
    """Stop the worker processes when the sweep itself stops early (Ctrl-C, ``kill``, an
    error), instead of leaving them running as orphans: SIGTERM becomes SystemExit while the
    block runs, and on the way out every live worker is terminated and reaped. The runs they
    leave unfinished resume from their last checkpoint on the next sweep."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_system_exit) if in_main_thread else None
    try:
        yield
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            if process.pid is not None:
                process.join(timeout=60)
                if process.is_alive():  # stuck while unwinding: stop it outright
                    process.kill()
                    process.join()


def _without_interrupts(target: Callable[..., None], *arguments: object) -> None:
    """A spawned worker: Ctrl-C reaches the whole process group, but only the parent handles
    it (it stops the workers and says how to continue), so the workers ignore it. SIGTERM (the
    parent's ``terminate``) becomes SystemExit, so that a stopped worker unwinds: its
    multiprocessing finalizers run and release the semaphore tqdm's lock holds, which a worker
    killed outright leaves to the resource tracker's "leaked semaphore" warning."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_system_exit)
    try:
        target(*arguments)
    finally:  # on its way out already: a SIGTERM now would only interrupt the exit handlers
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def run_workers(target: Callable[..., None], arguments: tuple, workers: int, threads: int) -> None:
    """Call ``target(*arguments, threads)`` in this process (one worker) or in ``workers``
    spawned processes (``SweepSettings.threads_per_worker``); raise if any of them fails."""
    if workers == 1:
        target(*arguments, threads)
        return
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_without_interrupts, args=(target, *arguments, threads))
        for _ in range(workers)
    ]
    with _terminate_on_exit(processes):
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} worker process(es) failed (exit codes {failed})")
