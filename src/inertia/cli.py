"""The ``inertia`` command.

- ``inertia demo [--out DIR] [--data-dir DIR]``: the quick reproduction (quadratic figures of
  Sutskever et al. 2013 section 2.2, and the quick budget of the demo protocols) into a folder.
- ``inertia train [--config FILE] [--run-dir DIR] [--resume] [--extend-from DIR] [--quiet]
  [--key=value ...]``
- ``inertia sweep PROTOCOL [--budget BUDGET] [--workers N] [--storage URL] ...``
- ``inertia report PROTOCOL [--budget BUDGET] [--out DIR] ...``
- ``inertia tune --search lr=log:1e-4:1e-1 [--trials N] [--sampler tpe|random] [--key=value ...]``
- ``inertia tasks``: the registered tasks and protocols.

Failures exit non-zero with a one-line message (2 for a bad configuration, 1 for missing data or
a failed sweep worker).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inertia import __version__
from inertia._listing import cached_listing, settings_listing

if TYPE_CHECKING:  # the engine is imported where a command needs it: --help stays fast
    from inertia.experiments import Protocol, RunConfig, SweepSettings

DEMO_PROTOCOLS = ("mnist-classification",)
DEFAULT_RUNS_DIR = "runs"
"""Where sweeps, tuning and reports keep runs and their SQLite store unless --runs-dir says,
and where `inertia train` puts a run without --run-dir."""


def _settings(
    args: argparse.Namespace, runs_dir: Path, progress: bool, create: bool = True
) -> SweepSettings:
    """The sweep settings of a command, every one checked (and each --restore-from archive
    read) before the runs folder is made."""
    from inertia.experiments import ConfigError, SweepSettings, default_storage, load_runs_archive

    if runs_dir.exists() and not runs_dir.is_dir():
        raise ConfigError(f"--runs-dir {runs_dir} is a file; give a folder")
    settings = SweepSettings(
        storage=args.storage or default_storage(runs_dir),
        runs_dir=str(runs_dir),
        workers=getattr(args, "workers", 1),
        threads=getattr(args, "threads", 0),
        heartbeat_s=getattr(args, "heartbeat", 10),
        grace_s=getattr(args, "grace", 30),
        data_dir=args.data_dir or "",
        progress=progress,
        restore_from=tuple(getattr(args, "restore_from", None) or ()),
    )
    for archive in settings.restore_from:
        load_runs_archive(archive)
    if create:
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"--runs-dir {runs_dir} cannot be created ({error.strerror or error})"
            ) from None
    return settings


def _sweep_and_report(protocol_name: str, budget: str, settings: SweepSettings, out: Path) -> str:
    from inertia.experiments import completed_results, open_study, run_sweep, write_report

    protocol = _protocol(protocol_name)
    run_sweep(protocol, budget, settings)
    results = completed_results(open_study(protocol, budget, settings))
    return write_report(protocol, budget, results, out)


def _check_output_folder(path: Path, option: str) -> None:
    """Refuse, before anything is written, an output folder that is a file or cannot be
    created (its nearest existing parent is not a writable folder)."""
    from inertia.experiments import ConfigError

    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file; give a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path} cannot be written ({parent} is not a writable folder)")


@contextlib.contextmanager
def _writing(option: str, path: Path) -> Iterator[None]:
    """Turn an OSError while writing into ``path`` into a one-line error naming ``option``."""
    from inertia.experiments import ConfigError

    try:
        yield
    except OSError as error:
        raise ConfigError(
            f"{option} {path}: cannot write there ({error.strerror or error})"
        ) from None


def _protocol(name: str) -> Protocol:
    from inertia.experiments import ConfigError
    from inertia.protocols import PROTOCOLS

    if name not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {name!r}; registered: {', '.join(sorted(PROTOCOLS))}")
    return PROTOCOLS[name]


def _demo(args: argparse.Namespace) -> int:
    from inertia.experiments import ConfigError, write_text
    from inertia.experiments.demo import demo_index, quadratic_section

    out = Path(args.out)
    protocols = args.protocol or DEMO_PROTOCOLS
    for name in protocols:  # everything checked before the first file is written
        _protocol(name).budget("quick")
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    _check_output_folder(out, "--out")
    with _writing("--out", out):
        out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sections = ["# inertia quick reproduction", "", *quadratic_section(out)]
    args.storage = None
    settings = _settings(args, out / "runs", progress=True)
    for name in protocols:
        print(f"== protocol {name}, quick budget", flush=True)
        sections.append(_sweep_and_report(name, "quick", settings, out / f"{name}-quick"))
        sections.append(f"Report: {name}-quick/index.html, {name}-quick/learning_curves.png\n")
    text = "\n".join(sections)
    write_text(text, out / "README.md")
    write_text(demo_index(protocols), out / "index.html")
    print(text)
    print(
        f"Wrote {out.resolve()} in {time.perf_counter() - start:.0f} s (open index.html or "
        "README.md there)"
    )
    runs = out / "runs"
    for name in protocols:  # the last lines: how to look at each sweep again
        print(f"Report again: inertia report {name} --budget quick --runs-dir {runs}")
    return 0


def _config_from_arguments(
    config_file: str | None, overrides: list[str], data_dir: str | None = None
) -> RunConfig:
    from inertia.experiments import RunConfig, from_mapping, load_config, merge, parse_overrides

    base = load_config(config_file) if config_file else {}
    settings = merge(base, parse_overrides(overrides))
    if data_dir is not None:  # --data-dir DIR, the spelling demo, sweep and report take
        settings = merge(settings, {"data_dir": data_dir})
    return from_mapping(RunConfig, settings)


def _stop_by_signal(signum: int, frame: object) -> None:
    signal.signal(signum, signal.SIG_IGN)  # once: a second one must not interrupt the unwinding
    raise SystemExit(128 + signum)


def _default_run_dir(config: RunConfig) -> Path:
    digest = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()
    return Path(DEFAULT_RUNS_DIR) / f"{config.task.name}-{config.optimizer.name}-{digest[:10]}"


def _train(args: argparse.Namespace) -> int:
    from inertia.experiments import ConfigError, flush_denormals, train

    config = _config_from_arguments(args.config, args.overrides, args.data_dir)
    run_dir = Path(args.run_dir) if args.run_dir is not None else _default_run_dir(config)
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues the run in the folder, --overwrite discards it: "
                          "give one of them")  # fmt: skip
    held = [name for name in ("checkpoint.pt", "result.json") if (run_dir / name).is_file()]
    if args.resume and not held and args.extend_from is None:
        raise ConfigError(
            f"--resume: {run_dir} holds no checkpoint.pt to continue from (a mistyped "
            "--run-dir?); leave out --resume to start the run"
        )
    if args.extend_from is not None and Path(args.extend_from).resolve() == run_dir.resolve():
        raise ConfigError(
            f"--extend-from {args.extend_from} is the run folder itself: give the longer run "
            "a folder of its own (--run-dir), so that the shorter run's result stays"
        )
    if not args.quiet:
        print(f"run folder: {run_dir}")
    flush_denormals()
    # SIGTERM (kill, a batch system's stop) ends the run as Ctrl-C does: main says how to go on
    previous = signal.signal(signal.SIGTERM, _stop_by_signal)
    try:
        result = train(
            config, run_dir, resume=args.resume, overwrite=args.overwrite,
            progress=not args.quiet, extend_from=args.extend_from,
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
    outcome = (
        f"diverged at update {result.diverged_at}"
        if result.status == "diverged"
        else f"{result.error_name} at θ: {result.final['train_error']:.6g}"
    )
    print(
        f"{config.task.name} / {config.optimizer.name}: {outcome}; {result.steps_done} updates, "
        f"{result.updates_per_s:.1f} updates/s; result in {run_dir / 'result.json'}"
    )
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from inertia.experiments import run_sweep

    protocol = _protocol(args.protocol)
    protocol.budget(args.budget)  # a budget it has, before the runs folder is made
    settings = _settings(args, Path(args.runs_dir), progress=not args.quiet)
    status = run_sweep(protocol, args.budget, settings)
    done = f"{len(status.complete)} of {status.total} runs complete"
    print(f"sweep {protocol.name}-{args.budget}: {done}")
    return 0


def _tune(args: argparse.Namespace) -> int:
    from inertia.experiments import Tuning, best_trial, parse_search, run_tuning

    base = _config_from_arguments(args.config, args.overrides, args.data_dir)
    tuning = Tuning(
        study_name=args.study or f"tune-{base.task.name}-{base.optimizer.name}",
        base=base,
        space=tuple(parse_search(spec) for spec in args.search or []),
        trials=args.trials,
        sampler=args.sampler,
        prune=args.prune,
        seed=args.sampler_seed,
    )
    settings = _settings(args, Path(args.runs_dir), progress=not args.quiet)
    study = run_tuning(tuning, settings)
    best = best_trial(study)
    shown = ", ".join(f"{key}={value!r}" for key, value in best.params.items())
    print(f"tuning {tuning.study_name}: best trial {best.number}: {shown}; error {best.value:.6g}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from inertia.experiments import (
        ConfigError,
        completed_results,
        index_results,
        load_report_archive,
        open_study,
        require_study,
        write_report,
    )

    protocol = _protocol(args.protocol)
    protocol.budget(args.budget)  # a budget it has
    name = f"{protocol.name}-{args.budget}"
    if args.results is not None:
        out, option = Path(args.results) / name, "--results"
    else:
        out, option = Path(args.out or Path("reports") / name), "--out"
    _check_output_folder(out, option)
    if args.from_archive is not None:
        if args.storage is not None or args.runs_dir != DEFAULT_RUNS_DIR:
            raise ConfigError(
                "--from-archive reads the report's runs.json, not a sweep store: drop "
                "--storage and --runs-dir"
            )
        plan = protocol.budget(args.budget).plan()
        results = load_report_archive(args.from_archive, protocol.name, args.budget, plan)
    else:
        settings = _settings(args, Path(args.runs_dir), progress=False, create=False)
        require_study(settings, name)
        results = completed_results(open_study(protocol, args.budget, settings))
    with _writing(option, out):
        print(write_report(protocol, args.budget, results, out))
        if args.results is not None:
            index_results(args.results)
    cost = ["cost_curves.png"] if protocol.budget(args.budget).cost_axis else []
    written = ["table.md", "index.html", "learning_curves.png", *cost, "table.json"]
    print("report: " + ", ".join(str(out / name) for name in written))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from inertia.experiments import migrate_store
    from inertia.protocols import PROTOCOLS

    settings = _settings(args, Path(args.runs_dir), progress=False, create=False)
    store = Path(settings.storage.removeprefix("sqlite:///"))
    if settings.storage.startswith("sqlite:///") and not store.is_file():
        print(f"no sweep store at {store}: nothing to migrate")
        return 0
    reports = migrate_store(PROTOCOLS, settings)
    for report in reports:
        if report.skipped:
            print(f"{report.study}: {report.skipped}")
        else:
            print(
                f"{report.study}: {report.carried} completed runs carried over, {report.folders} "
                f"run folders renamed, {report.dropped} runs no longer planned (kept in "
                f"{report.study}@0.1)"
            )
    if not reports:
        print(f"no sweep of a registered protocol in {settings.storage}")
    return 0


def _tasks(args: argparse.Namespace) -> int:
    sys.stdout.write(cached_listing())
    return 0


def _add_storage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir", default=DEFAULT_RUNS_DIR, help="runs and the default SQLite storage"
    )
    parser.add_argument(
        "--storage",
        help="SQLAlchemy URL of the results store (default sqlite:///RUNS_DIR/sweeps.db; "
        "e.g. postgresql://user@host/db to share one sweep between machines)",
    )
    parser.add_argument(
        "--data-dir", "--data_dir", help="data directory for the runs (default INERTIA_DATA)"
    )


def _add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("protocol", help="a registered protocol (see `inertia tasks`)")
    parser.add_argument(
        "--budget",
        default="quick",
        help="one of the protocol's budgets: quick (default), paper, or a protocol's own "
        "(e.g. sets, words, baselines; `inertia tasks` lists each protocol's)",
    )
    _add_storage_arguments(parser)


class _Parser(argparse.ArgumentParser):
    """A subcommand parser whose epilog may be built only when the help is shown (the settings
    listing imports torch and every task)."""

    def __init__(self, *args: Any, epilog_factory: Callable[[], str] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self._epilog_factory = epilog_factory

    def format_help(self) -> str:
        if self._epilog_factory is not None:
            self.epilog, self._epilog_factory = self._epilog_factory(), None
        return super().format_help()


_THREADS_HELP = (
    "torch threads per worker (default 0: the cores shared among the workers; set it when other "
    "work shares the machine)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inertia",
        description="Momentum methods and implicit gradients for deep and recurrent networks.",
    )
    parser.add_argument("--version", action="version", version=f"inertia {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    demo = commands.add_parser(
        "demo", help="the quick reproduction: figures, sweeps and reports into one folder"
    )
    demo.add_argument("--out", default="inertia-demo", help="output folder (default inertia-demo)")
    demo.add_argument(
        "--data-dir", "--data_dir", help="folder holding mnist/ (default INERTIA_DATA; downloads)"
    )
    demo.add_argument("--workers", type=int, default=2, help="parallel runs (default 2)")
    demo.add_argument(
        "--protocol",
        action="append",
        help="protocol to run at the quick budget (repeatable; default "
        f"{', '.join(DEMO_PROTOCOLS)})",
    )
    demo.set_defaults(handler=_demo)

    train = commands.add_parser(
        "train",
        help="train one run",
        epilog_factory=settings_listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train one run. Settings come from RunConfig's defaults, then --config, then\n"
        "--key=value overrides, e.g.\n"
        "  inertia train --task=mnist-classification --task.network=lenet5 --optimizer=nag \\\n"
        "      --optimizer.lr=0.01 --optimizer.momentum=0.99 --steps=5000\n"
        "Every setting is listed below; `inertia tasks` also lists the protocols.",
    )
    train.add_argument("--config", help="YAML file of key: value settings")
    train.add_argument(
        "--data-dir", "--data_dir", help="data directory (the data_dir setting; default "
        "INERTIA_DATA)"
    )  # fmt: skip
    train.add_argument("--run-dir", help="folder for checkpoint.pt and result.json")
    train.add_argument("--resume", action="store_true", help="continue from the run folder")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="discard a run the run folder holds and start again",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--extend-from", metavar="RUN_DIR",
        help="start from the checkpoint of a shorter run of the same settings (all but "
        "--steps) instead of update 0: train it longer at the cost of the extra updates only",
    )  # fmt: skip
    train.set_defaults(handler=_train)

    sweep = commands.add_parser(
        "sweep",
        help="run a protocol's grid of runs (resumable, shareable between workers)",
        description="Run every run of a protocol's budget, skipping completed ones. Killed runs "
        "are retried from their last checkpoint once their heartbeat is older than --grace.",
    )
    _add_sweep_arguments(sweep)
    sweep.add_argument("--workers", type=int, default=1, help="local worker processes")
    sweep.add_argument("--threads", type=int, default=0, help=_THREADS_HELP)
    sweep.add_argument("--heartbeat", type=int, default=10, help="seconds between heartbeats")
    sweep.add_argument(
        "--grace", type=int, default=30, help="seconds before a silent run is retried"
    )
    sweep.add_argument("--quiet", action="store_true", help="no line per finished run")
    sweep.add_argument(
        "--restore-from",
        action="append",
        metavar="REPORT",
        help="a report folder of `inertia report` (e.g. results/table1-medium) or its runs.json: "
        "its runs' results are put back into the run folders that have none, so that only the "
        "missing runs are trained (after the runs folder was lost); repeatable",
    )
    sweep.set_defaults(handler=_sweep)

    tune = commands.add_parser(
        "tune",
        help="tune run settings with Optuna's samplers (TPE or random)",
        description="Search ranges of run settings with an Optuna sampler. Base settings come "
        "from --config and --key=value overrides, as for `train`; each --search names a key and "
        "its range: optimizer.lr=log:1e-4:1e-1, optimizer.momentum=float:0.5:0.999, "
        "batch_size=int:32:256, optimizer.name=choice:cm,nag. Stored, shared and resumed like "
        "sweeps.",
    )
    tune.add_argument("--search", action="append", metavar="KEY=KIND:...", help="a searched key")
    tune.add_argument("--trials", type=int, default=20, help="finished trials wanted")
    tune.add_argument("--sampler", default="tpe", help="tpe (default) or random")
    tune.add_argument("--sampler-seed", type=int, default=0, help="seed of the sampler")
    tune.add_argument("--prune", action="store_true", help="median pruning on the curve")
    tune.add_argument("--study", help="study name (default tune-TASK-OPTIMIZER)")
    tune.add_argument("--config", help="YAML file of base settings")
    _add_storage_arguments(tune)
    tune.add_argument("--workers", type=int, default=1, help="local worker processes")
    tune.add_argument("--threads", type=int, default=0, help=_THREADS_HELP)
    tune.add_argument("--quiet", action="store_true", help="no line per finished trial")
    tune.set_defaults(handler=_tune)

    report = commands.add_parser(
        "report", help="render a protocol's table (ours beside the published numbers) and plots"
    )
    _add_sweep_arguments(report)
    report.add_argument("--out", help="output folder (default reports/PROTOCOL-BUDGET)")
    report.add_argument(
        "--results",
        nargs="?",
        const="results",
        help="write the report into RESULTS/PROTOCOL-BUDGET (default folder: results, the "
        "repository's committed evidence) and update RESULTS/README.md, the index",
    )
    report.add_argument(
        "--from-archive",
        metavar="REPORT",
        help="render from a report folder's runs.json (e.g. results/table1-medium) instead of "
        "the runs folder: writes a committed report again, with today's report code, after the "
        "runs that made it are gone",
    )
    report.set_defaults(handler=_report)

    migrate = commands.add_parser(
        "migrate",
        help="carry sweeps and run folders written by inertia 0.1 over to today's run keys",
        description="Translate every sweep of a registered protocol in the store from inertia "
        "0.1's flat run settings to today's sections: completed runs keep counting, run folders "
        "are renamed so that unfinished runs resume. The old trials stay in a backup study "
        "NAME@0.1. Safe to run twice.",
    )
    _add_storage_arguments(migrate)
    migrate.set_defaults(handler=_migrate)

    tasks = commands.add_parser("tasks", help="list the registered tasks and protocols")
    tasks.set_defaults(handler=_tasks)
    return parser


_AFTER_A_STOP = (
    "completed runs and the checkpoints of unfinished ones are kept: run the same command again "
    "to continue"
)

# What `pip install 'inertia[experiments]'` adds to the torch-only core.
_ENGINE_PACKAGES = ("optuna", "matplotlib", "yaml", "tqdm", "scipy", "numpy", "pydantic")


def _missing_engine(error: ImportError, where: str) -> int:
    """Say which optional package of the engine is missing and how to install it (exit code
    2); re-raise an ImportError that is not about one of them."""
    name = (error.name or "").split(".")[0]
    if name not in _ENGINE_PACKAGES:
        raise error
    print(
        f"{where}: the experiment engine needs {name}, not installed: "
        "pip install 'inertia[experiments]'",
        file=sys.stderr,
    )
    return 2


_PATH_OPTIONS = ("config", "run_dir", "runs_dir", "out", "data_dir", "storage", "results", "study")


def _refuse_empty_options(args: argparse.Namespace) -> None:
    """``--run-dir=`` (an empty value, e.g. from an unset shell variable) is refused rather
    than read as "absent", which would silently write somewhere else."""
    from inertia.experiments import ConfigError

    for name in _PATH_OPTIONS:
        if getattr(args, name, None) == "":
            option = "--" + name.replace("_", "-")
            raise ConfigError(f"{option} is empty: give a value, or leave the option out")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "tasks" and not extra:  # from the cache: without importing torch
        try:
            return _tasks(args)
        except ImportError as error:
            return _missing_engine(error, "inertia tasks")
    try:
        from inertia.data import DataError
        from inertia.experiments import ConfigError
    except ImportError as error:
        return _missing_engine(error, "inertia")

    if args.command in ("train", "tune"):
        args.overrides = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        _refuse_empty_options(args)
        return int(args.handler(args))
    except KeyboardInterrupt:
        print(f"inertia {args.command}: interrupted; {_AFTER_A_STOP}", file=sys.stderr)
        return 130
    except SystemExit as stop:  # SIGTERM during train or a sweep: SystemExit(128 + 15)
        if not (isinstance(stop.code, int) and stop.code > 128):
            raise
        print(f"inertia {args.command}: stopped by a signal; {_AFTER_A_STOP}", file=sys.stderr)
        return stop.code
    except ConfigError as error:
        print(f"inertia {args.command}: {error}", file=sys.stderr)
        return 2
    except (DataError, RuntimeError) as error:
        print(f"inertia {args.command}: {error}", file=sys.stderr)
        return 1
    except ImportError as error:
        return _missing_engine(error, f"inertia {args.command}")


if __name__ == "__main__":
    sys.exit(main())
