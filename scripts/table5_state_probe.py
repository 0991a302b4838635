"""What the hidden states of a Table 5 network hold: its output layer refitted (issue 39).

A long-term run that ends at the constant predictor has either hidden states that no longer
carry the answer, or an output layer that never learned to read them. This tells the two apart.
For each run folder (its ``result.json`` and final ``checkpoint.pt``), for the initial network
(Table 4's initialization, drawn again from the run's seed) and the trained one (the checkpoint,
at θ), it refits the network's own linear output layer by ridge regression on the hidden states
at the scored steps of ``--fit-cases`` fresh sequences of the training distribution, and scores
the refit with Table 5's zero-one error on the run's own evaluation sequences (the ones its
``train_error`` counts):

- add / mul: the state at each sequence's target step, regressed on the target value; a case
  is wrong when off by more than 0.04;
- memorization: the states at the k recall steps, regressed on the one-hot symbol (the blank
  class left out, as the error leaves it out); ``shared``: one read-out for all k steps, the
  network's own form; ``per step``: one per recall step, how much of each symbol the states
  hold linearly (at least the shared refit's).

Ridge regression minimises the squared error of a linear read-out, which for add/mul is the
training loss of the output layer with the states held fixed; for memorization it stands in
for the cross-entropy (a least-squares classifier). The network's own errors (the "net"
columns) are recomputed from the weights, and the trained one is checked against the run's
recorded ``train_error``.

    python scripts/table5_state_probe.py RUN_DIR [RUN_DIR ...] --out results/table5-state-probe \\
        [--title "..."] [--note FILE] [--extend]

Writes ``README.md`` (the table, the provenance of every run, the note), ``probe.json`` and
``probe.png``, each atomically. A run's final weights live only in its run folder, which a new
checkout does not have: ``--extend`` keeps the rows already in ``--out``'s record (with the
session that probed them, its title and note unless new ones are given) and adds or replaces
the given runs', so that one record can grow over the sessions of a long sweep.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import pickle
import sys
import textwrap
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inertia.data import LONG_TERM_PROBLEMS, LONG_TERM_TOLERANCE
from inertia.experiments import (
    ConfigError,
    RunConfig,
    environment,
    from_mapping,
    load_checkpoint,
    load_result,
    prepare,
    saved_config,
    write_json,
    write_text,
)
from inertia.nn import RecurrentNetwork
from inertia.protocols import momentum_column
from inertia.tasks import LongTermOptions, SplitEvaluation

FIT_SEED = 20_130_101  # the probe's own sequences: independent of every run's draws
CHUNK = 500  # sequences per forward pass


def _fail(message: str) -> None:
    print(f"table5_state_probe: {message}", file=sys.stderr)
    sys.exit(2)


@dataclass(frozen=True)
class Probe:
    """One run's errors: the network's own and its refitted read-out's, at initialization and
    after training (``per_step_*`` only for memorization)."""

    run: str
    problem: str
    length: int
    column: str
    lr: float
    seed: int
    recorded: float
    net_initial: float
    net_final: float
    shared_initial: float
    shared_final: float
    per_step_initial: float | None
    per_step_final: float | None


def scored_states(
    model: RecurrentNetwork, problem_name: str, inputs: Tensor, targets: Tensor
) -> tuple[Tensor, Tensor]:
    """(states, targets) at the scored steps: ``(cases, hidden)`` and ``(cases,)`` for the
    problems scored once; ``(k, cases, hidden)`` and ``(k, cases)`` for memorization's k recall
    steps."""
    problem = LONG_TERM_PROBLEMS[problem_name]
    states, wanted = [], []
    with torch.no_grad():
        for start in range(0, inputs.shape[0], CHUNK):
            chunk = slice(start, start + CHUNK)
            hidden = model.hidden_states(inputs[chunk])  # (time, batch, hidden)
            if problem.readout == "all":
                k = problem.positions
                states.append(hidden[-k:])
                wanted.append(targets[chunk][:, -k:].T)
            else:
                step = targets[chunk][:, 1].long()
                states.append(hidden[step, torch.arange(hidden.shape[1])])
                wanted.append(targets[chunk][:, 0])
    dim = 1 if problem.readout == "all" else 0
    return torch.cat(states, dim).double(), torch.cat(wanted, dim).double()


def _features(states: Tensor) -> Tensor:
    return torch.cat([states, torch.ones(*states.shape[:-1], 1, dtype=states.dtype)], -1)


def ridge(states: Tensor, targets: Tensor, penalty: float) -> Tensor:
    """The read-out (weights and a last row of biases) of ridge regression on the standardized
    states: with z the states centred and scaled to unit variance per unit (on these cases), it
    minimises ‖[z, 1] V − targets‖² / cases + ``penalty``·‖V's weights‖² (the bias
    unpenalised) and returns V in the states' own scale. Standardizing makes the penalty blind
    to the states' scale: add/mul states start near 1e-3 (Table 4's input scale), where a
    fixed penalty would erase what they hold. ``states`` (cases, hidden), ``targets`` (cases,)
    or (cases, outputs)."""
    mean = states.mean(0)
    scale = states.std(0).clamp_min(torch.finfo(states.dtype).tiny)
    features = _features((states - mean) / scale)
    gram = features.T @ features
    regulariser = torch.eye(gram.shape[0], dtype=gram.dtype) * penalty * features.shape[0]
    regulariser[-1, -1] = 0.0
    right = features.T @ (targets if targets.dim() == 2 else targets.unsqueeze(1))
    standardized = torch.linalg.solve(gram + regulariser, right)
    weights = standardized[:-1] / scale.unsqueeze(1)
    bias = standardized[-1:] - mean @ weights
    return torch.cat([weights, bias])


def readout_errors(
    problem_name: str,
    fit: tuple[Tensor, Tensor],
    scored: tuple[Tensor, Tensor],
    penalty: float,
) -> tuple[float, float | None]:
    """(shared, per step) zero-one errors per sequence of read-outs fitted on ``fit`` and
    scored on ``scored`` (both from :func:`scored_states`); per step is None for the problems
    scored once."""
    problem = LONG_TERM_PROBLEMS[problem_name]
    (fit_states, fit_targets), (states, targets) = fit, scored
    if problem.readout != "all":
        weights = ridge(fit_states, fit_targets, penalty)
        predicted = (_features(states) @ weights)[:, 0]
        return float(((predicted - targets).abs() > LONG_TERM_TOLERANCE).double().mean()), None
    classes = problem.output_size(0) - 1  # the symbols; the blank class is never a recall
    one_hot = torch.nn.functional.one_hot(fit_targets.long(), classes + 1)[..., :classes]
    k, hidden = fit_states.shape[0], fit_states.shape[-1]
    shared = ridge(fit_states.reshape(-1, hidden), one_hot.reshape(-1, classes).double(), penalty)
    wrong_shared = (_features(states) @ shared).argmax(-1) != targets.long()
    wrong_each = torch.stack(
        [
            (_features(states[i]) @ ridge(fit_states[i], one_hot[i].double(), penalty)).argmax(-1)
            != targets[i].long()
            for i in range(k)
        ]
    )
    cases = targets.shape[1]
    return float(wrong_shared.sum()) / cases, float(wrong_each.sum()) / cases


def probe_run(folder: Path, fit_cases: int, penalty: float) -> Probe:
    """The errors of one finished run folder (see the module docstring).

    Raises:
        ConfigError: the folder holds no finished long-term run with its checkpoint.
    """
    result = load_result(folder)
    if result is None:
        raise ConfigError(f"{folder} holds no result.json of a finished run")
    if not (folder / "checkpoint.pt").is_file():
        raise ConfigError(f"{folder} holds no checkpoint.pt (the trained weights)")
    config = from_mapping(RunConfig, saved_config(result.config))
    options = config.task
    if not isinstance(options, LongTermOptions):
        raise ConfigError(f"{folder} is a {options.name} run, not a long-term one")
    prepared = prepare(config)
    evaluation = prepared.problem.evaluation
    if not isinstance(prepared.model, RecurrentNetwork) or not isinstance(
        evaluation, SplitEvaluation
    ):  # every long-term run's are; a check for the type checker and for future tasks
        raise ConfigError(f"{folder}: its task built no recurrent network with whole splits")
    initial = copy.deepcopy(prepared.model)
    try:
        saved = load_checkpoint(folder / "checkpoint.pt")
        if saved_config(saved["config"]) != config.to_dict():
            raise ConfigError(f"{folder}: its checkpoint belongs to another run than its result")
        if saved["step"] != result.steps_done:
            raise ConfigError(
                f"{folder}: its checkpoint holds update {saved['step']}, its result "
                f"{result.steps_done}; give a folder whose run finished"
            )
        prepared.model.load_state_dict(saved["model"])
        prepared.optimizer.load_state_dict(saved["optimizer"])
    except (OSError, KeyError, TypeError, RuntimeError, pickle.UnpicklingError) as error:
        raise ConfigError(f"{folder}: its checkpoint could not be read ({error})") from None
    to_theta = getattr(prepared.optimizer, "eval", None)
    if callable(to_theta):  # NAG and CM keep θ + μv between updates; θ is what was evaluated
        to_theta()
    trained = prepared.model.eval()
    problem = LONG_TERM_PROBLEMS[options.problem]
    draws = torch.Generator().manual_seed(FIT_SEED)
    fit_batch = problem.sample(fit_cases, options.length, draws)
    chunks_in, chunks_out = evaluation.splits["train"]
    inputs, targets = torch.cat(list(chunks_in)), torch.cat(list(chunks_out))
    cases = inputs.shape[0]
    errors: dict[str, tuple[float, float, float | None]] = {}
    for name, model in (("initial", initial.eval()), ("final", trained)):
        with torch.no_grad():
            own = float(problem.errors(model(inputs), targets)) / cases
        fit = scored_states(model, options.problem, fit_batch.inputs, fit_batch.targets)
        scored = scored_states(model, options.problem, inputs, targets)
        errors[name] = (own, *readout_errors(options.problem, fit, scored, penalty))
    optimizer = config.optimizer
    if options.output_biases_only:
        column = "biases"
    else:  # Sutskever et al.'s names: 0.995N (NAG), 0.995M (CM)
        column = momentum_column(optimizer.name, getattr(optimizer, "momentum", 0.0))
    if options.readout_only:  # as the table5 protocol's readout budget names its columns
        column = f"readout {column}"
        if options.loss_reduction == "per-sequence":
            column += ", summed loss"
    return Probe(
        run=folder.name,
        problem=options.problem,
        length=options.length,
        column=column,
        lr=optimizer.lr,
        seed=config.seed,
        recorded=float(result.final.get("train_error", math.nan)),
        net_initial=errors["initial"][0],
        net_final=errors["final"][0],
        shared_initial=errors["initial"][1],
        shared_final=errors["final"][1],
        per_step_initial=errors["initial"][2],
        per_step_final=errors["final"][2],
    )


def recall_chance(problem_name: str) -> float | None:
    """The expected wrongly recalled symbols of a model that knows nothing (k·(1 − 1/c), Table
    5's memorization "biases"); None for the problems scored once."""
    problem = LONG_TERM_PROBLEMS[problem_name]
    if problem.readout != "all" or problem.positions < 2:
        return None
    classes = problem.output_size(0) - 1
    return problem.positions * (1 - 1 / classes)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def table(probes: list[Probe]) -> str:
    lines = [
        "| problem | column | lr | seed | net, initial | refit, initial (shared / per step) "
        "| net, trained | refit, trained (shared / per step) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in probes:

        def refit(shared: float, each: float | None) -> str:
            return _number(shared) + ("" if each is None else f" / {_number(each)}")

        lines.append(
            f"| {p.problem} T={p.length} | {p.column} | {p.lr:g} | {p.seed} "
            f"| {_number(p.net_initial)} | {refit(p.shared_initial, p.per_step_initial)} "
            f"| {_number(p.net_final)} | {refit(p.shared_final, p.per_step_final)} |"
        )
    return "\n".join(lines)


def plot(probes: list[Probe], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(dict.fromkeys(f"{p.problem} T={p.length}" for p in probes))
    counts = [max(2, sum(f"{p.problem} T={p.length}" == name for p in probes)) for name in problems]
    figure, rows = plt.subplots(
        len(problems), 1, figsize=(max(6.0, 1.2 * max(counts) + 1.5), 3.4 * len(problems)),
        squeeze=False,
    )  # fmt: skip
    axes = [[row[0] for row in rows]]  # one panel per problem, stacked
    kinds = (
        ("net_initial", "net, initial", "tab:gray"),
        ("shared_initial", "refit, initial", "tab:blue"),
        ("net_final", "net, trained", "tab:red"),
        ("shared_final", "refit, trained", "tab:green"),
    )
    for axis, name in zip(axes[0], problems, strict=True):
        runs = [p for p in probes if f"{p.problem} T={p.length}" == name]
        width = 0.8 / len(kinds)
        for offset, (field, label, colour) in enumerate(kinds):
            axis.bar(
                [i + (offset - 1.5) * width for i in range(len(runs))],
                [getattr(p, field) for p in runs],
                width,
                label=label,
                color=colour,
            )
        chance = recall_chance(runs[0].problem)
        if chance is not None:
            axis.axhline(chance, color="black", linestyle="--", linewidth=1, label="chance")
        axis.set_xticks(range(len(runs)))
        axis.set_xticklabels(
            [f"{textwrap.fill(p.column, 13)}\nlr {p.lr:g}\nseed {p.seed}" for p in runs],
            fontsize=7,
        )
        axis.set_title(name)
        axis.set_ylabel("zero-one error (Table 5's)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    for axis in axes[0][1:]:  # the chance line may first appear on a later panel
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    figure.tight_layout(rect=(0, 0.4 / (3.4 * len(problems)), 1, 1))
    partial = path.with_name(f".{path.name}.partial.png")
    figure.savefig(partial, dpi=110)
    plt.close(figure)
    os.replace(partial, path)  # atomic: the old figure or the new one


def new_record() -> dict[str, Any]:
    """What a new record starts from (``--extend`` on an empty folder, or no ``--extend``):
    fresh lists each call, so that no record shares them with another."""
    return {"sessions": [], "runs": [], "title": None, "note": None}


def earlier_record(out: Path, fit_cases: int, penalty: float) -> dict[str, Any]:
    """The record ``--extend`` adds to: ``{"sessions", "runs", "title", "note"}``, each run
    with the index of the session that probed it (a record written before ``--extend`` has one
    session, its ``provenance``). Empty when ``out`` holds no record yet.

    Raises:
        ConfigError: the record cannot be read, or was fitted with other settings (its rows
            would not compare with the new ones).
    """
    path = out / "probe.json"
    if not path.exists():
        return new_record()
    try:
        record = json.loads(path.read_text())
        sessions = record.get("sessions") or [record["provenance"]]
        runs = [{"session": 0, **row} for row in record["runs"]]
        for row in runs:
            Probe(**{k: v for k, v in row.items() if k != "session"})  # every field present
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(
            f"{path} is not a probe record ({error}); give --out a folder of its own"
        ) from None
    for name, value in (("fit_cases", fit_cases), ("penalty", penalty)):
        earlier = {session.get(name) for session in sessions}
        if earlier != {value}:
            raise ConfigError(
                f"{path} was fitted with {name} {sorted(earlier, key=str)}, not {value}: "
                f"extend it with --{name.replace('_', '-')} {sessions[-1].get(name)}"
            )
    return {"sessions": sessions, "runs": runs, "title": record.get("title"),
            "note": record.get("note")}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run folders")
    parser.add_argument("--out", type=Path, required=True, help="folder for the report")
    parser.add_argument("--title", help="the report's heading (default: the record's, or "
                        "'Table 5 runs: what the hidden states hold')")  # fmt: skip
    parser.add_argument("--note", type=Path, help="Markdown to put under the table")
    parser.add_argument("--extend", action="store_true",
                        help="keep the rows in --out's record, add these runs'")  # fmt: skip
    parser.add_argument("--fit-cases", type=int, default=10_000,
                        help="fresh sequences the read-outs are fitted on")  # fmt: skip
    parser.add_argument("--penalty", type=float, default=1e-4,
                        help="ridge penalty per fitted state")  # fmt: skip
    args = parser.parse_args(argv)
    if args.fit_cases < 1:
        _fail(f"--fit-cases must be >= 1, got {args.fit_cases}")
    if args.penalty <= 0:
        _fail(f"--penalty must be > 0, got {args.penalty}")
    try:
        earlier = (
            earlier_record(args.out, args.fit_cases, args.penalty) if args.extend else new_record()
        )
    except ConfigError as error:
        _fail(str(error))
    note = earlier["note"] or ""
    if args.note is not None:
        try:
            note = args.note.read_text()
        except OSError as error:
            _fail(f"--note {args.note}: {error.strerror or error}")
    title = args.title or earlier["title"] or "Table 5 runs: what the hidden states hold"
    threads = torch.get_num_threads()
    started = time.perf_counter()
    probed = []
    try:
        for folder in args.runs:
            probed.append(probe_run(folder, args.fit_cases, args.penalty))
    except ConfigError as error:
        _fail(str(error))
    seconds = time.perf_counter() - started
    where = environment()
    provenance = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": where.get("git_commit"),
        "hardware": where.get("hardware"),
        "torch": where.get("torch"),
        "threads": threads,
        "wall_time_s": round(seconds, 1),
        "fit_cases": args.fit_cases,
        "penalty": args.penalty,
        "fit_seed": FIT_SEED,
        "command": "python scripts/table5_state_probe.py " + " ".join(argv or sys.argv[1:]),
    }
    sessions = [*earlier["sessions"], provenance]
    again = {p.run for p in probed}  # a run probed again replaces its earlier row
    rows = [row for row in earlier["runs"] if row["run"] not in again]
    rows += [{"session": len(sessions) - 1, **asdict(p)} for p in probed]
    rows.sort(key=lambda r: (r["problem"], r["length"], r["column"], r["lr"], r["seed"], r["run"]))
    probes = [Probe(**{k: v for k, v in row.items() if k != "session"}) for row in rows]
    record = {"title": title, "note": note, "provenance": provenance, "sessions": sessions,
              "runs": rows}  # fmt: skip
    mismatched = [p for p in probes if not math.isclose(p.net_final, p.recorded, abs_tol=1e-6)]
    differing = ", ".join(f"{p.run} {p.net_final} vs {p.recorded}" for p in mismatched)
    lines = [
        f"# {title}",
        "",
        table(probes),
        "",
        "Errors per sequence on each run's own 2000 evaluation sequences (Table 5's zero-one "
        "error: the fraction of wrong cases for add/mul, wrongly recalled symbols for "
        "memorization). *net*: the network as it is; *refit*: its output layer refitted by "
        f"ridge regression on the hidden states of {args.fit_cases} fresh sequences (penalty "
        f"{args.penalty:g}), *shared* by the recall steps as the network's is, or one *per "
        "step* (memorization only); *initial*: Table 4's initialization from the run's seed; "
        "*trained*: the run's final weights. ![the errors](probe.png)",
        "",
        "The trained network's own error equals the run's recorded `train_error` in "
        f"{len(probes) - len(mismatched)} of {len(probes)} runs"
        + (f" (differing: {differing})." if mismatched else "."),
        "",
    ]
    if note:
        lines += [note.rstrip(), ""]
    lines += ["## Provenance", ""]
    for index, session in enumerate(sessions):
        label = f"Session {index + 1}: " if len(sessions) > 1 else ""
        lines.append(
            f"- {label}`{session['command']}`; code {session['commit']}; "
            f"{session['hardware']}; torch "
            f"{session['torch']}; {session['wall_time_s']:.0f} s; generated "
            f"{session['generated']}."
        )
    lines += ["", "Runs (folder: settings):", ""]
    lines += [
        f"- {row['run']}: {row['problem']} T={row['length']}, {row['column']}, lr "
        f"{row['lr']:g}, seed {row['seed']}, recorded train_error {row['recorded']:g}"
        + (f" (session {row['session'] + 1})" if len(sessions) > 1 else "")
        for row in rows
    ]
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        write_json(record, args.out / "probe.json")
        plot(probes, args.out / "probe.png")
        write_text("\n".join(lines) + "\n", args.out / "README.md")
    except OSError as error:
        _fail(f"--out {args.out}: {error.strerror or error}")
    print(table(probes))
    print(f"report: {args.out / 'README.md'} ({os.path.getsize(args.out / 'README.md')} bytes)")


if __name__ == "__main__":
    main()
