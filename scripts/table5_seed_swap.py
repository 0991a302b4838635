"""Which half of a run's seed decides whether a long-term run leaves its plateau (issue 20)?

A run's ``seed`` draws two things: the initial weights (with the fixed evaluation sequences)
and the stream of training minibatches. On Table 5's add T=80, every μ_0 = 0.995 run with seed 0
left the plateau and none with seed 1 did. This script trains the long-term task with the two
halves drawn from different seeds: the weights from ``--init-seed`` (the run's ``seed``) and the
minibatches from ``--data-seed`` (the task's ``data_seed`` option; with it equal to ``seed``
the run is the plain task's, run for run). Every other setting is the long-term task's and
``inertia train``'s; the run folder gets the usual ``result.json``, so
``scripts/table5_escape.py`` reports it beside the plain runs. (Runs made before the option
existed name a task ``long-term-data-seed`` that this script registered then.)

    python scripts/table5_seed_swap.py --init-seed 0 --data-seed 1 --steps 30000 \\
        --run-dir runs/swap-init0-data1 [--set optimizer.lr=1e-5 ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from inertia.experiments import (
    ConfigError,
    RunConfig,
    flush_denormals,
    from_mapping,
    merge,
    nest,
    parse_overrides,
    train,
)

# add T=80, 0.995N at the rate table5's trials chose (the medium budget's cell), Table 4's
# initialization, 100 sequences per update, μ = 0.9 for 1000 updates then 0.995.
DEFAULTS: dict[str, Any] = {
    "task.name": "long-term",
    "task.problem": "addition",
    "task.length": 80,
    "task.cell": "tanh",
    "optimizer.name": "nag",
    "optimizer.momentum": 0.995,
    "optimizer.momentum_schedule": "rnn",
    "optimizer.lr": 1e-5,
    "batch_size": 100,
    "eval_every": 2500,
    "checkpoint_every": 2500,
}


def config(init_seed: int, data_seed: int, steps: int, overrides: dict[str, Any]) -> RunConfig:
    """The run: :data:`DEFAULTS`, then ``overrides`` (nested, as ``parse_overrides`` gives
    them), then the task, the two seeds and the length."""
    fixed = {"task": {"data_seed": data_seed}, "seed": init_seed, "steps": steps}
    return from_mapping(RunConfig, merge(merge(nest(DEFAULTS), overrides), fixed))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--init-seed", type=int, required=True, help="seed of the weights")
    parser.add_argument("--data-seed", type=int, required=True, help="seed of the minibatches")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another setting, e.g. optimizer.lr=1e-4")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        run = config(args.init_seed, args.data_seed, args.steps, parse_overrides(args.set))
    except ConfigError as error:
        sys.exit(f"table5_seed_swap: {error}")
    flush_denormals()
    result = train(run, args.run_dir, resume=True)
    print(f"{args.run_dir}: {result.status}, train_error {result.final['train_error']:.4g}, "
          f"train_loss {result.final['train_loss']:.4g}")  # fmt: skip


if __name__ == "__main__":
    main()
