"""Add ``branched_wall_time_s`` to the results of fine-tuned runs written before it existed.

Since 56b29d2 a sweep trains a fine-tuned run (``optimizer.finetune_steps`` > 0) from the
snapshot its twin without fine-tuning keeps at :func:`branch_step`, and the run's
``wall_time_s`` includes the twin's time up to that snapshot. Results written since this script
was added say how much that was (``branched_wall_time_s``) and a report counts it once; results
written between the two lack it, and a report counted the twin's time twice. For each such
result in the given sweep folders this reads the twin's snapshot (in the folder of the result
with the same settings without fine-tuning) and stores its ``elapsed_s``, the exact time the run
inherited. A result whose twin or snapshot is not there is left as it is and named.

    python scripts/branched_time.py runs/table1-medium [more sweep folders]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inertia.experiments import (
    RESULT,
    ConfigError,
    RunConfig,
    branch_step,
    from_mapping,
    load_checkpoint,
    saved_config,
    snapshot_name,
    without_finetuning,
    write_json,
)

FIELD = "branched_wall_time_s"


def _run_config(result: dict) -> RunConfig | None:
    """The result's settings as a config (None: they no longer validate)."""
    try:
        return from_mapping(RunConfig, saved_config(result["config"]))
    except (ConfigError, ValueError):
        return None


def backfill(sweep: Path) -> tuple[int, list[str]]:
    """Fill the field in ``sweep``'s results; the number filled and the runs left as they are."""
    results = {path: json.loads(path.read_text()) for path in sorted(sweep.glob(f"*/{RESULT}"))}
    configs = {path: _run_config(result) for path, result in results.items()}
    plain = {
        json.dumps(without_finetuning(config), sort_keys=True): path.parent
        for path, config in configs.items()
        if config is not None and branch_step(config) is None
    }
    filled, left = 0, []
    for path, result in results.items():
        config = configs[path]
        if FIELD in result or result.get("reused_from"):
            continue
        if config is None:
            left.append(f"{path.parent} (its settings no longer validate)")
            continue
        step = branch_step(config)
        if step is None:
            continue
        twin = plain.get(json.dumps(without_finetuning(config), sort_keys=True))
        snapshot = twin / snapshot_name(step) if twin else None
        if snapshot is None or not snapshot.exists():
            left.append(f"{path.parent} (no twin snapshot in {sweep})")
            continue
        write_json({**result, FIELD: load_checkpoint(snapshot)["elapsed_s"]}, path)
        filled += 1
    return filled, left


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep folders (runs/NAME-BUDGET)")
    args = parser.parse_args(argv)
    for sweep in args.sweeps:
        if not sweep.is_dir():
            sys.exit(f"branched_time: {sweep} is not a folder; give a sweep's run folder")
        filled, left = backfill(sweep)
        named = f"; left: {', '.join(left)}" if left else ""
        print(f"{sweep}: {filled} result(s) filled{named}")


if __name__ == "__main__":
    main()
