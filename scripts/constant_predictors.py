"""What predicting a constant scores on each long-term problem (Sutskever et al. 2013, Table 5's
"biases" column; docs/rnn.md): ``LongTermProblem.constant_errors`` for every problem at the
length Table 5 uses (80, or 200 for the 5-bit memorization problems), beside the published
"biases" value where there is one.

    python scripts/constant_predictors.py --out results/long-term-constant-predictors

Writes ``README.md`` (the table, the command, provenance) and ``constants.json`` there.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from inertia.data import LONG_TERM_PROBLEMS
from inertia.experiments import environment, write_json, write_text

# Table 5's lengths: 200 for the 5-bit memorization problems, 80 for the others.
LENGTHS = {"memorization-5bit": 200, "memorization-5bit-gap": 200}
# Table 5's published "biases" column (SPEC 4), by the problem of ours it is set beside.
PUBLISHED_BIASES = {"addition": 0.82, "addition-mean": 0.82, "addition-sum-nosignals": 0.82,
                    "multiplication": 0.84, "multiplication-nosignals": 0.84,
                    "memorization-5bit": 2.5, "memorization-5bit-gap": 2.5,
                    "memorization-20bit": 8.0, "memorization-20bit-gap": 8.0}  # fmt: skip
PROBLEMS = ("addition", "addition-mean", "addition-sum-nosignals", "multiplication",
            "multiplication-nosignals", "memorization-5bit", "memorization-5bit-gap",
            "memorization-20bit", "memorization-20bit-gap", "xor", "temporal-order",
            "temporal-order-3", "random-permutation")  # fmt: skip


def measure(problems: tuple[str, ...] = PROBLEMS, cases: int = 20_000, seed: int = 0) -> list[dict]:
    """Each problem's best-constant and mean-predictor errors, each from its own generator."""
    rows = []
    for name in problems:
        length = LENGTHS.get(name, 80)
        errors = LONG_TERM_PROBLEMS[name].constant_errors(
            length, torch.Generator().manual_seed(seed), cases
        )
        rows.append({"problem": name, "length": length, **errors,
                     "published_biases": PUBLISHED_BIASES.get(name)})  # fmt: skip
    return rows


def write(out: Path, rows: list[dict], command: str, cases: int, seed: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    provenance = {**environment(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    record = {"command": command, "cases": cases, "seed": seed, "provenance": provenance,
              "rows": rows}  # fmt: skip
    write_json(record, out / "constants.json")
    lines = [
        "# What a constant prediction scores on each long-term problem",
        "",
        "Table 5's \"biases\" column (Sutskever et al. 2013) is a model that learns only its "
        "output biases. `best`: the best constant for the zero-one error (squared-error "
        "problems: within the 0.04 tolerance; memorization: wrongly recalled symbols); `mean`: "
        "the constant such a model converges to (the mean target under squared error, the class "
        f"frequencies otherwise). Each constant is chosen on {cases:,} draws and scored on as "
        f"many fresh ones (generator seed {seed}). Produced by `scripts/constant_predictors.py` "
        "with `LongTermProblem.constant_errors`; the numbers are in `constants.json`.",
        "",
        f"`{command}` (commit {provenance['git_commit'][:10]}, {provenance['hardware']}, torch "
        f"{provenance['torch']}, {provenance['date']})",
        "",
        "| problem | T | best constant | mean predictor | published \"biases\" |",
        "|---|---|---|---|---|",
        *(f"| `{row['problem']}` | {row['length']} | {row['best']:.3f} | {row['mean']:.3f} | "
          f"{'—' if row['published_biases'] is None else format(row['published_biases'], 'g')} |"
          for row in rows),
    ]  # fmt: skip
    write_text("\n".join(lines) + "\n", out / "README.md")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = measure(cases=args.cases, seed=args.seed)
    command = " ".join(["python scripts/constant_predictors.py",
                        *(sys.argv[1:] if argv is None else argv)])  # fmt: skip
    write(args.out, rows, command, args.cases, args.seed)
    print((args.out / "README.md").read_text())


if __name__ == "__main__":
    main()
