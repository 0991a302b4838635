"""Sutskever et al. (2013) Table 5 and a gradient-clipping ablation (Bengio et al. 2012) on the
long-term-dependency problems (task ``long-term``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inertia.experiments import Block, Budget, Protocol
from inertia.protocols._labels import momentum_column

__all__ = ["CLIPPING", "TABLE5"]

# SPEC section 4, Table 5 (zero-one errors; memorization rows count wrong recalls per sequence).
_PUBLISHED_COLUMNS = ("biases", "0", "0.9N", "0.98N", "0.995N", "0.9M", "0.98M", "0.995M")
_PUBLISHED_ROWS = {
    "add T=80": (0.82, 0.39, 0.02, 0.21, 0.00025, 0.43, 0.62, 0.036),
    "mul T=80": (0.84, 0.48, 0.36, 0.22, 0.0013, 0.029, 0.025, 0.37),
    "mem-5 T=200": (2.5, 1.27, 1.02, 0.96, 0.63, 1.12, 1.09, 0.92),
    "mem-20 T=80": (8, 5.37, 2.77, 0.0144, 5e-05, 1.75, 0.0017, 0.053),
}
PUBLISHED = {
    (row, column): value
    for row, values in _PUBLISHED_ROWS.items()
    for column, value in zip(_PUBLISHED_COLUMNS, values)
}
ROWS = {
    "add T=80": ("addition", 80),
    "mul T=80": ("multiplication", 80),
    "mem-5 T=200": ("memorization-5bit", 200),
    "mem-20 T=80": ("memorization-20bit", 80),
}
PREDICT2 = {"addition": "addition-predict2", "multiplication": "multiplication-predict2"}
MU_0 = (0.0, 0.9, 0.98, 0.995)
PAPER_LRS = (1e-3, 1e-4, 1e-5, 1e-6)
# Issue 39's read-out study: the output layer trained alone on Table 4's initial recurrent layer,
# under the authors' loss and under inertia 0.2's summed one.
_READOUT_COLUMNS = ("readout 0.9N", "readout 0.9N, summed loss")
# Issue 39's length study of mem-20 (T = 80 is Table 5's row).
MEM20_LENGTHS = (30, 50, 80)
# The paper's rates and the 100-times larger ones a summed loss implies; 1e-6 is left out of
# the trials: in 5000 updates it moves the weights a tenth as far as 1e-5, so it cannot win one.
TRIAL_LRS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
# The rate of each medium cell, chosen from the trials budget by scripts/table5_rates.py
# (results/table5-trials/rates.md): among the rates whose 5000-update trial did not diverge, the
# largest whose final training loss is within 1% of the lowest (on the plateau the losses of
# all stable rates lie within a fraction of a percent; the larger rate can leave it sooner).
MEDIUM_LRS = {
    ("add T=80", "0.9N"): 1e-2,
    ("add T=80", "0.995N"): 1e-5,
    ("add T=80", "0.995M"): 1e-5,
    ("mul T=80", "0.9N"): 1e-3,
    ("mul T=80", "0.995N"): 1e-3,
    ("mul T=80", "0.995M"): 1e-3,
    ("mem-5 T=200", "0.9N"): 1e-4,
    ("mem-5 T=200", "0.995N"): 1e-5,
    ("mem-5 T=200", "0.995M"): 1e-3,
    ("mem-20 T=80", "0.9N"): 1e-5,
    ("mem-20 T=80", "0.995N"): 1e-4,
    ("mem-20 T=80", "0.995M"): 1e-3,
}


def _row_options(problem: str, length: int, **extra: Any) -> dict[str, Any]:
    return {"problem": problem, "length": length, **extra}


def _run(model: str, optimizer: str, momentum: float, lrs: Sequence[float],
         options: dict[str, Any], **fixed: Any) -> dict[str, list[Any]]:  # fmt: skip
    """The grid of one model (a cell, or ``biases``: Table 5's output-biases baseline) and
    optimizer (NAG and CM with the RNN schedule: μ = 0.9 for 1000 updates, then ``momentum``)
    over ``lrs`` on one problem."""
    model_option = {"output_biases_only": True} if model == "biases" else {"cell": model}
    settings: dict[str, Any] = {"name": optimizer}
    if optimizer in ("cm", "nag"):
        settings.update(momentum=momentum, momentum_schedule="rnn")
    return {"task": [{"name": "long-term", **options, **model_option}], "optimizer": [settings],
            "optimizer.lr": list(lrs), **{k: [v] for k, v in fixed.items()}}  # fmt: skip


def _table5_blocks(
    rows: dict[str, tuple[str, int]], mu_0: tuple[float, ...], lrs: tuple[float, ...],
    adam_lrs: tuple[float, ...], seeds: tuple[int, ...],
) -> list[Block]:  # fmt: skip
    """Table 5's columns, plus ours: ``SGD small`` (plain SGD from a small random
    initialization), ``Adam`` (tanh RNN, ESN-style init) and ``LSTM`` (NAG or Adam: the cell
    picks the better optimizer and lr)."""
    blocks: list[Block] = []
    for row, (problem, length) in rows.items():
        options = _row_options(problem, length)
        seed = {"seed": list(seeds)}
        blocks += [
            Block(row, "biases", {**_run("biases", "nag", 0.9, [max(lrs)], options), **seed}),
            Block(row, "0", {**_run("tanh", "nag", 0.0, lrs, options), **seed}),
            *(
                Block(row, momentum_column(optimizer, mu),
                      {**_run("tanh", optimizer, mu, lrs, options), **seed})
                for optimizer in ("nag", "cm")
                for mu in mu_0
                if mu > 0
            ),
            Block(row, "Adam", {**_run("tanh", "adam", 0.0, adam_lrs, options), **seed}),
            Block(row, "LSTM", {**_run("lstm", "nag", max(mu_0), lrs, options), **seed}),
            Block(row, "LSTM", {**_run("lstm", "adam", 0.0, adam_lrs, options), **seed}),
            Block(row, "SGD small", {**_run("tanh", "sgd", 0.0, lrs, _row_options(
                problem, length, initialization="small-random")), **seed}),
        ]  # fmt: skip
    return blocks


def _medium_blocks() -> list[Block]:
    """Each published row: 0.9N, 0.995N and 0.995M at :data:`MEDIUM_LRS`, and the biases
    baseline, two seeds."""
    blocks: list[Block] = []
    for row, (problem, length) in _PREDICT2_ROWS.items():
        options = _row_options(problem, length)
        for optimizer, mu in (("nag", 0.9), ("nag", 0.995), ("cm", 0.995)):
            column = momentum_column(optimizer, mu)
            grid = _run("tanh", optimizer, mu, [MEDIUM_LRS[row, column]], options)
            blocks.append(Block(row, column, {**grid, "seed": [0, 1]}))
        grid = _run("biases", "nag", 0.9, [0.003], options)
        blocks.append(Block(row, "biases", {**grid, "seed": [0, 1], "steps": [5000]}))
    return blocks


# The two rates of the paper's grid that each paper-core cell runs, chosen from issue 39's
# hypothesis budgets (results/table5-mem20-loss, results/table5-add80-rates): a cell's rate is
# then the better of the two after 50,000 updates, the paper's rule. The effective step of
# momentum is about lr / (1 − μ), so the pair depends on μ_0: at 0.9 the two largest rates
# (mem-20 0.9N was best at 1e-4, then 1e-3); at 0.995, for the one-output problems (add, mul)
# 1e-4 and 1e-5 (add 0.995N's best two), for the memorization problems 1e-5 and 1e-6 (mem-20
# 0.995N's best two). mul and mem-5 follow add and mem-20, their kin in loss and output.
_CORE_RATES_BY_KIND = {
    ("one output", 0.9): (1e-3, 1e-4),
    ("one output", 0.995): (1e-4, 1e-5),
    ("memorization", 0.9): (1e-3, 1e-4),
    ("memorization", 0.995): (1e-5, 1e-6),
}
_KIND = {"add T=80": "one output", "mul T=80": "one output",
         "mem-5 T=200": "memorization", "mem-20 T=80": "memorization"}  # fmt: skip
PAPER_CORE_LRS: dict[tuple[str, str], tuple[float, float]] = {
    (row, momentum_column(optimizer, mu)): _CORE_RATES_BY_KIND[_KIND[row], mu]
    for row in ROWS
    for optimizer, mu in (("nag", 0.9), ("nag", 0.995), ("cm", 0.995))
}


def _paper_core_blocks() -> list[Block]:
    blocks: list[Block] = []
    for row, (problem, length) in ROWS.items():
        options = _row_options(problem, length)
        seeds = {"seed": [0, 1, 2, 3]}
        for optimizer, mu in (("nag", 0.9), ("nag", 0.995), ("cm", 0.995)):
            column = momentum_column(optimizer, mu)
            grid = _run("tanh", optimizer, mu, PAPER_CORE_LRS[row, column], options)
            blocks.append(Block(row, column, {**grid, **seeds}))
        grid = _run("biases", "nag", 0.9, [1e-3], options)
        blocks.append(Block(row, "biases", {**grid, **seeds, "steps": [5000]}))
    return blocks


def _readout_blocks() -> list[Block]:
    """The ``readout`` budget: mem-5 and mem-20 with only the output layer trained, at the
    rates paper-core runs for 0.9N; mem-5 also under the summed loss at 1e-4."""
    authors, summed = _READOUT_COLUMNS
    seeds = {"seed": [0, 1]}
    blocks = [
        Block(row, authors, {**_run("tanh", "nag", 0.9, PAPER_CORE_LRS[row, "0.9N"],
                                    _row_options(*ROWS[row], readout_only=True)), **seeds})
        for row in ("mem-5 T=200", "mem-20 T=80")
    ]  # fmt: skip
    options = _row_options(*ROWS["mem-5 T=200"], readout_only=True, loss_reduction="per-sequence")
    blocks.append(Block("mem-5 T=200", summed, {**_run("tanh", "nag", 0.9, [1e-4], options),
                                                **seeds}))  # fmt: skip
    return blocks


_BASE = {"task.name": "long-term", "batch_size": 100}
# The budgets that ran before issue 39 trained with inertia 0.2's loss (summed over a sequence's
# scored steps, no 1/2 on the squared error) and both of nn.RNN's hidden biases; they keep those
# settings by name so that their runs and reports keep their meaning.
_INERTIA_0_2 = {**_BASE, "task.loss_reduction": "per-sequence", "task.hidden_biases": 2}
# ... and inertia 0.2's reading of the authors' marker problems (the target one step earlier).
_PREDICT2_ROWS = {
    row: (PREDICT2.get(problem, problem), length) for row, (problem, length) in ROWS.items()
}


# The quick and baselines budgets ran in inertia 0.1, before the problems followed the authors'
# generators: they keep that definition (the mean of the two values, Pascanu et al.'s layout)
# under its own name and row, so their numbers are never put beside the published ones.
_ADD_80 = _row_options("addition-mean", 80)
_MEAN_ROW = "add-mean T=80"
_AUTHORS_RUNS = {**_BASE, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 2500}
_ONE_SEED = {**_INERTIA_0_2, "eval_every": 2500, "checkpoint_every": 2500, "seed": 0}

TABLE5 = Protocol(
    name="table5",
    title="Sutskever et al. (2013) Table 5: RNNs on long-term-dependency problems, zero-one error",
    budgets={
        "quick": Budget(
            about="The claim of section 4 on one row: NAG (μ = 0.9, then μ_0) from the "
            "ESN-style initialization at a rate from the paper's grid against plain SGD from "
            "a small random initialization, both long enough for NAG to leave the plateau; "
            "the biases baseline",
            base=_ONE_SEED,
            blocks=[
                Block(
                    _MEAN_ROW, "0.995N", _run("tanh", "nag", 0.995, [1e-4], _ADD_80, steps=80_000)
                ),
                Block(
                    _MEAN_ROW,
                    "SGD small",
                    _run(
                        "tanh",
                        "sgd",
                        0.0,
                        [0.01],
                        _row_options("addition-mean", 80, initialization="small-random"),
                        steps=80_000,
                    ),
                ),
                Block(
                    _MEAN_ROW, "biases", _run("biases", "nag", 0.9, [0.003], _ADD_80, steps=2000)
                ),
            ],
        ),
        "baselines": Budget(
            about="Our baselines on add T=80, beside the quick budget's NAG and SGD: the tanh "
            "RNN from the ESN-style initialization trained with Adam, and an LSTM of as many "
            "cells trained with Adam",
            base=_ONE_SEED,
            blocks=[
                Block(
                    _MEAN_ROW,
                    "Adam",
                    _run("tanh", "adam", 0.0, [1e-3, 1e-4], _ADD_80, steps=20_000),
                ),
                Block(_MEAN_ROW, "LSTM", _run("lstm", "adam", 0.0, [1e-3], _ADD_80, steps=10_000)),
            ],
        ),
        "trials": Budget(
            about="Short trial runs that pick the rates of the medium budget: the four published "
            "rows with the problems as the authors generated them, the columns 0.9N, 0.995N and "
            "0.995M, over the paper's rates and the 100-times larger ones that the same steps "
            "need if the paper summed its loss over minibatches of 100 (ours averages)",
            base={
                **_INERTIA_0_2,
                "steps": 5000,
                "eval_every": 500,
                "checkpoint_every": 1000,
                "seed": 0,
            },
            blocks=[
                Block(
                    row,
                    momentum_column(optimizer, mu),
                    _run("tanh", optimizer, mu, TRIAL_LRS, _row_options(problem, length)),
                )
                for row, (problem, length) in _PREDICT2_ROWS.items()
                for optimizer, mu in (("nag", 0.9), ("nag", 0.995), ("cm", 0.995))
            ],
        ),
        "medium": Budget(
            about="The paper's 50,000 updates (μ = 0.9 for 1000 updates, then μ_0) on the four "
            "published rows, columns 0.9N, 0.995N and 0.995M, each at the rate its trials "
            "chose (the largest stable rate within 1% of the lowest loss after 5000 updates), "
            "two seeds; "
            "the biases baseline (output biases only) for 5000 updates",
            base={**_INERTIA_0_2, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 2500},
            blocks=_medium_blocks(),
        ),
        "mem20-loss": Budget(
            about="Issue 39, hypothesis 1 (the loss normalisation): mem-20 T=80 under the "
            "authors' loss (cross-entropy averaged over the scored steps, where inertia 0.2 "
            "summed it over the 80 steps), NAG with μ_0 = 0.9 and 0.995 over the paper's four "
            "rates, two seeds, the paper's 50,000 updates",
            base=_AUTHORS_RUNS,
            blocks=[
                Block(
                    "mem-20 T=80",
                    momentum_column("nag", mu),
                    {
                        **_run(
                            "tanh", "nag", mu, PAPER_LRS, _row_options("memorization-20bit", 80)
                        ),
                        "seed": [0, 1],
                    },
                )
                for mu in (0.9, 0.995)
            ],
            select_metric="train_error",
        ),
        "add80-rates": Budget(
            about="Issue 39, hypotheses 2 and 3 (the rate chosen at the full budget; four "
            "seeds): add T=80 in the authors' definition and loss, NAG with μ_0 = 0.995 at each "
            "of the paper's four rates, four seeds, the paper's 50,000 updates",
            base=_AUTHORS_RUNS,
            blocks=[
                Block(
                    "add T=80",
                    "0.995N",
                    {
                        **_run("tanh", "nag", 0.995, PAPER_LRS, _row_options("addition", 80)),
                        "seed": [0, 1, 2, 3],
                    },
                )
            ],
            select_metric="train_error",
        ),
        "mem20-length": Budget(
            about="Issue 39, why mem-20 recalls nothing: the same runs at shorter lengths. "
            "mem-20 with T = 30 and 50 (the recall 9 and 29 steps after the last symbol, where "
            "T = 80 has 59) beside T = 80, NAG with μ_0 = 0.9 at lr 1e-4 (the best mem-20 cell "
            "of mem20-loss), the authors' loss, seeds 0 and 1, the paper's 50,000 updates. "
            "Recall at the short lengths and none at 80 says the dependency's length is what "
            "stops it; none at any length, that something else does",
            base=_AUTHORS_RUNS,
            blocks=[
                Block(
                    f"mem-20 T={length}",
                    "0.9N",
                    {
                        **_run(
                            "tanh", "nag", 0.9, [1e-4], _row_options("memorization-20bit", length)
                        ),
                        "seed": [0, 1],
                    },
                )
                for length in MEM20_LENGTHS
            ],
            select_metric="train_error",
        ),
        "readout": Budget(
            about="Issue 39, what Table 4's initial states hold and whether training reads "
            "them: the output layer trained alone on the fixed recurrent layer (an echo-state "
            "network, task.readout_only; scripts/table5_state_probe.py refits it in closed "
            "form), NAG with μ_0 = 0.9 at paper-core's 0.9N rates (1e-3, 1e-4), the authors' "
            "loss, seeds 0 and 1, 50,000 updates, on mem-5 T=200 and mem-20 T=80; on mem-5 also "
            "under inertia 0.2's summed loss at 1e-4 (the recall steps' gradient 200 times "
            "larger). A read-out that learns to recall says the full runs lose what their "
            "initial states hold; one that does not, that these rates under the authors' loss "
            "cannot train even the output layer in 50,000 updates",
            base=_AUTHORS_RUNS,
            blocks=_readout_blocks(),
            select_metric="train_error",
        ),
        "paper-core": Budget(
            about="The paper's protocol (the authors' problems, loss and single hidden bias; "
            "50,000 updates; four seeds; each cell's rate chosen by its result at the end of "
            "training) on the four published rows for the columns that carry section 4's "
            "claims, 0.9N, 0.995N and 0.995M, each over the two rates of the paper's grid that "
            "the hypothesis budgets (mem20-loss, add80-rates) point to for its μ_0 and kind of "
            "problem, and the biases baseline; "
            "what two CPU cores finish in about a day, the rest of the grid is the paper budget",
            base=_AUTHORS_RUNS,
            blocks=_paper_core_blocks(),
            select_metric="train_error",
        ),
        "paper": Budget(
            about="The published protocol (SPEC 4): μ = 0.9 for 1000 updates, then μ_0; NAG and "
            "CM over the paper's rates; the ESN-style initialization (Table 4); Adam, the LSTM "
            "(NAG and Adam, each on its grid) and SGD from a small random initialization are "
            "our additions",
            base={**_BASE, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 5000},
            blocks=_table5_blocks(ROWS, MU_0, PAPER_LRS, (1e-2, 1e-3, 1e-4), (0, 1, 2, 3)),
            select_metric="train_error",
        ),
    },
    rows=(*ROWS, _MEAN_ROW, *(f"mem-20 T={n}" for n in MEM20_LENGTHS if n != 80)),
    columns=(*_PUBLISHED_COLUMNS, "SGD small", "Adam", "LSTM", *_READOUT_COLUMNS),
    published=PUBLISHED,
    select=("optimizer.name", "optimizer.lr"),
    select_metric="train_loss",
    notes="Published numbers: Sutskever et al. (2013) Table 5, averages over 4 seeds. Where a "
    "cell ran several rates, the paper, paper-core, mem20-loss and add80-rates budgets show the "
    "one with the lowest final zero-one error (the paper's rule, the mean over seeds); the "
    "budgets before them the one with the lowest final training loss (on the plateau the "
    "zero-one errors of all rates tie near the constant predictor's). Errors are "
    "measured on 2000 fixed sequences of the training distribution. The published rows use the "
    "problems as the authors generated them (SPEC 4.1: the SUM of the two marked values, start "
    "and predict signals, a length per sequence in [T, 1.1 T); memorization's T is the whole "
    "length); a case is wrong when off by more than 0.04. The row 'add-mean T=80' is inertia "
    "0.1's definition (Pascanu et al.'s: the MEAN, no signals), kept so that its runs still "
    "count; nothing published sits beside it. The trials and medium budgets ran before issue "
    "39 with inertia 0.2's loss (summed over a sequence's steps, no 1/2 on the squared error), "
    "both of nn.RNN's hidden biases and the target one step earlier than the authors' index "
    "(the *-predict2 problems); the later budgets run the authors' choices. Memorization rows "
    "count the wrongly recalled symbols per sequence (chance: 2.5 and 8, the published "
    "'biases' column). 'SGD small', 'Adam' and 'LSTM' are our additions.",
)


def _clipping_blocks(
    rows: dict[str, tuple[str, int]], lrs: tuple[float, ...], clip: float, seeds: tuple[int, ...]
) -> list[Block]:
    """SGD and NAG (μ_0 = 0.995) without and with clipping at ``clip``, and leaky-tanh units
    with NAG and clipping."""
    blocks: list[Block] = []
    for row, (problem, length) in rows.items():
        options = _row_options(problem, length)
        seed = {"seed": list(seeds)}
        for optimizer, mu in (("sgd", 0.0), ("nag", 0.995)):
            name = "SGD" if optimizer == "sgd" else "NAG"
            blocks += [
                Block(row, name + suffix, {**_run("tanh", optimizer, mu, lrs, options),
                                           "clip_grad_norm": [norm], **seed})
                for suffix, norm in (("", 0.0), ("+clip", clip))
            ]  # fmt: skip
        blocks.append(
            Block(row, "leaky NAG+clip", {**_run("leaky-tanh", "nag", 0.995, lrs, options),
                                          "clip_grad_norm": [clip], **seed})
        )  # fmt: skip
    return blocks


# Bengio et al. (2012) worked with Pascanu et al.'s implementation of the problems: its variants.
CLIPPING_ROWS = {
    "add T=40": ("addition-mean", 40),
    "temporal-order T=40": ("temporal-order-6symbols", 40),
}

CLIPPING = Protocol(
    name="clipping",
    title="Bengio, Boulanger-Lewandowski & Pascanu (2012): gradient clipping, Nesterov momentum "
    "and leaky integration on long-term-dependency problems, zero-one error",
    budgets={
        "quick": Budget(
            about="The paper budget's comparison on the addition row only, at a length and "
            "duration that 2 CPU cores finish in minutes, two rates",
            base={**_INERTIA_0_2, "steps": 12_000, "eval_every": 1000, "checkpoint_every": 2000},
            blocks=_clipping_blocks(
                {"add T=40": CLIPPING_ROWS["add T=40"]}, (0.01, 0.003), 1.0, (0,)
            ),
        ),
        "paper": Budget(
            about="The ESN-style initialization; SGD and NAG (μ = 0.9 for 1000 updates, then "
            "μ_0), each without and with clipping the gradient norm; leaky-tanh units (α spread "
            "over [0, 0.9]) with NAG and clipping",
            base={**_INERTIA_0_2, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 5000},
            blocks=_clipping_blocks(CLIPPING_ROWS, (1e-2, 1e-3, 1e-4), 1.0, (0, 1)),
        ),
    },
    rows=tuple(CLIPPING_ROWS),
    columns=("SGD", "SGD+clip", "NAG", "NAG+clip", "leaky NAG+clip"),
    published={},
    select=("optimizer.lr",),
    notes="Our ablation of the techniques of Bengio et al. (2012); SPEC section 5 asks for our own "
    "ablation rather than their table values, so there are no published numbers here. The "
    "problems are Pascanu et al.'s variants (addition-mean, temporal-order-6symbols), which "
    "Bengio et al. worked with.",
)
