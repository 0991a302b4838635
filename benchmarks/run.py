"""Run registered benchmarks: ``python -m benchmarks.run [NAME ...] [--record DIR] [-- ARGS]``.

Each benchmark writes ``benchmarks/results/<name>_<device>.json`` (gitignored) and prints a
table. With ``--record DIR`` the JSON files go to ``DIR`` instead, and ``DIR/README.md`` gets
what the benchmarks printed, verbatim, under a header saying what produced it (commit, date,
hardware, command line, wall time): evidence to commit and link from the docs, so that no
figure there is typed by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from benchmarks import _harness

BENCHMARKS = {
    "optim_step": "benchmarks.bench_optim_step",
    "engine": "benchmarks.bench_engine",
    "autoencoders": "benchmarks.bench_autoencoders",
    "rnn": "benchmarks.bench_rnn",
    "hessian_free": "benchmarks.bench_hessian_free",
    "hessian_free_cost": "benchmarks.bench_hessian_free_cost",
    "rbp": "benchmarks.bench_rbp",
    "fixed_point": "benchmarks.bench_fixed_point",
    "hypergradient": "benchmarks.bench_hypergradient",
}


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.terminal.write(text)
        self.terminal.flush()
        return self.copy.write(text)


def _printed(text: str) -> str:
    """A benchmark's printed output without the lines naming where its JSON went (the record
    sits beside it)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("wrote ")).strip()


def record_header(
    name: str, command: list[str], wall_seconds: float, environment: dict[str, Any]
) -> str:
    """The record's title and provenance; ``environment`` is taken before the first benchmark
    (benchmarks set their own thread counts; each JSON file has the one it ran with)."""
    return "\n".join(
        [
            f"# Benchmark record {name}",
            "",
            "Written by `python -m benchmarks.run --record`; each section below is what that "
            "benchmark printed, unedited, and its JSON file (every round's time) sits beside "
            "this file.",
            "",
            f"- command: `python -m benchmarks.run {' '.join(command)}`",
            f"- started: {environment['time']}",
            f"- code: inertia {environment['inertia']}, commit {environment['git_commit']}",
            f"- hardware: {environment['hardware']} at the start (a benchmark with a "
            "`--threads` option sets its own; each JSON file records `torch_threads`)",
            f"- torch {environment['torch']}, Python {environment['python']}",
            f"- wall time: {wall_seconds:.0f} s",
        ]
    )


def run(
    names: list[str], device: str, rest: list[str], record: Path | None, failed: list[str]
) -> dict[str, str]:
    """Run ``names`` in order and return what each printed (a benchmark that raises gets a
    ``FAILED:`` line and its name appended to ``failed``; the others still run); with
    ``record``, their JSON files go there."""
    printed: dict[str, str] = {}
    before = _harness.RESULTS_DIR
    if record is not None:
        _harness.RESULTS_DIR = record
    try:
        for name in names:
            print(f"== {name}")
            tee = _Tee(sys.stdout)
            try:
                with contextlib.redirect_stdout(tee):
                    importlib.import_module(BENCHMARKS[name]).main(["--device", device, *rest])
            except Exception:  # one broken benchmark must not lose the others' figures
                traceback.print_exc()
                last = traceback.format_exc().strip().splitlines()[-1]
                tee.copy.write(f"\nFAILED: {last}\n")
                failed.append(name)
            printed[name] = tee.copy.getvalue()
    finally:
        _harness.RESULTS_DIR = before
    return printed


def write_record(
    record: Path,
    command: list[str],
    printed: dict[str, str],
    wall_seconds: float,
    environment: dict[str, Any],
) -> Path:
    sections = [record_header(record.name, command, wall_seconds, environment)]
    sections += [f"## {name}\n\n{_printed(text)}" for name, text in printed.items()]
    record.mkdir(parents=True, exist_ok=True)
    path = record / "README.md"
    temporary = path.with_suffix(".md.tmp")
    temporary.write_text("\n\n".join(sections) + "\n")
    os.replace(temporary, path)
    return path


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    # Everything after "--" goes to the benchmarks (argparse would read it as more names).
    own, rest = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all: {list(BENCHMARKS)})"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the JSON files and a README.md of the printed tables to DIR",
    )
    args, unknown_options = parser.parse_known_args(own)
    rest = [*unknown_options, *rest]
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}")
    if args.record is not None and args.record.exists() and not args.record.is_dir():
        parser.error(f"--record {args.record}: exists and is not a folder; name a folder")
    start, environment = time.perf_counter(), _harness.environment()
    failed: list[str] = []
    printed = run(args.names or list(BENCHMARKS), args.device, rest, args.record, failed)
    if args.record is not None:
        path = write_record(args.record, argv, printed, time.perf_counter() - start, environment)
        print(f"record: {path}")
    if failed:
        sys.exit(f"benchmarks.run: {', '.join(failed)} failed (traceback above)")


if __name__ == "__main__":
    main()
