"""Run registered benchmarks: ``python -m benchmarks.run [NAME ...] [-- ARGS]``.

Each benchmark writes ``benchmarks/results/<name>_<device>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "optim_step": "benchmarks.bench_optim_step",
    "engine": "benchmarks.bench_engine",
    "autoencoders": "benchmarks.bench_autoencoders",
    "rnn": "benchmarks.bench_rnn",
    "hessian_free": "benchmarks.bench_hessian_free",
    "rbp": "benchmarks.bench_rbp",
    "fixed_point": "benchmarks.bench_fixed_point",
    "hypergradient": "benchmarks.bench_hypergradient",
}


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
    args, unknown_options = parser.parse_known_args(own)
    rest = [*unknown_options, *rest]
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}")
    for name in args.names or list(BENCHMARKS):
        print(f"== {name}")
        importlib.import_module(BENCHMARKS[name]).main(["--device", args.device, *rest])


if __name__ == "__main__":
    main()
