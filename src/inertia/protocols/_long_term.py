"""Sutskever et al. (2013) Table 5 and a gradient-clipping ablation (Bengio et al. 2012) on the
long-term-dependency problems (task ``long-term``)."""

from __future__ import annotations

from typing import Any

from inertia.experiments._config import RunConfig
from inertia.experiments._protocol import Budget, Protocol

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
_SHORT = {"addition": "add", "multiplication": "mul", "memorization-5bit": "mem-5",
          "memorization-20bit": "mem-20"}  # fmt: skip
MU_0 = (0.0, 0.9, 0.98, 0.995)
PAPER_LRS = (1e-3, 1e-4, 1e-5, 1e-6)


def problem_row(config: RunConfig) -> str:
    """``add T=80`` and the like, from the run's task options."""
    options = config.task_options
    problem = options.get("problem", "addition")
    return f"{_SHORT.get(problem, problem)} T={options.get('length', 80)}"


def table5_column(config: RunConfig) -> str:
    """Table 5's columns (``biases``, ``0``, ``0.995N``, ``0.9M``, ...) plus ours: ``SGD small``
    (plain SGD from a small random initialization), ``Adam`` (tanh RNN, ESN-style init) and
    ``LSTM`` (NAG or Adam; the table picks the better optimizer and lr)."""
    if config.model == "biases":
        return "biases"
    if config.model == "lstm":
        return "LSTM"
    if config.optimizer == "adam":
        return "Adam"
    if config.task_options.get("initialization") == "small-random":
        return "SGD small"
    if config.momentum == 0 or config.optimizer == "sgd":
        return "0"
    return f"{config.momentum:g}{'N' if config.optimizer == 'nag' else 'M'}"


def _row_options(problem: str, length: int, **extra: Any) -> dict[str, Any]:
    return {"problem": problem, "length": length, **extra}


def _table5_blocks(
    rows: dict[str, tuple[str, int]], mu_0: tuple[float, ...], lrs: tuple[float, ...],
    adam_lrs: tuple[float, ...], seeds: tuple[int, ...],
) -> list[dict[str, Any]]:  # fmt: skip
    blocks: list[dict[str, Any]] = []
    for problem, length in rows.values():
        options = [_row_options(problem, length)]
        common = {"task_options": options, "seed": list(seeds)}
        blocks += [
            {**common, "model": ["biases"], "optimizer": ["nag"], "momentum": [0.9],
             "lr": [max(lrs)]},
            {**common, "model": ["tanh"], "optimizer": ["nag"], "momentum": [0.0], "lr": list(lrs)},
            {**common, "model": ["tanh"], "optimizer": ["nag", "cm"],
             "momentum": [mu for mu in mu_0 if mu > 0], "lr": list(lrs)},
            {**common, "model": ["tanh"], "optimizer": ["adam"], "momentum": [0.0],
             "lr": list(adam_lrs)},
            {**common, "model": ["lstm"], "optimizer": ["nag"], "momentum": [max(mu_0)],
             "lr": list(lrs)},
            {**common, "model": ["lstm"], "optimizer": ["adam"], "momentum": [0.0],
             "lr": list(adam_lrs)},
            {"seed": list(seeds), "model": ["tanh"], "optimizer": ["sgd"], "momentum": [0.0],
             "lr": list(lrs),
             "task_options": [_row_options(problem, length, initialization="small-random")]},
        ]  # fmt: skip
    return blocks


_BASE = {"task": "long-term", "batch_size": 100, "momentum_schedule": "rnn"}


def _single(
    model: str, optimizer: str, momentum: float, lr: float, steps: int, options: dict[str, Any]
) -> dict[str, Any]:
    """A block of one run."""
    return {"model": [model], "optimizer": [optimizer], "momentum": [momentum], "lr": [lr],
            "steps": [steps], "task_options": [options]}  # fmt: skip


_ADD_80 = _row_options("addition", 80)
_ONE_SEED = {**_BASE, "eval_every": 2500, "checkpoint_every": 2500, "seed": 0}

TABLE5 = Protocol(
    name="table5",
    title="Sutskever et al. (2013) Table 5: RNNs on long-term-dependency problems, zero-one error",
    budgets={
        "quick": Budget(
            description="the claim of section 4 on one row, add T=80: NAG (μ = 0.9 for 1000 "
            "updates, then 0.995) from the ESN-style initialization against plain SGD from "
            "N(0, 0.01), 80,000 updates of 100 sequences each, lr 1e-4 (NAG, from the paper's "
            "grid) and 0.01 (SGD); the biases baseline (2000 updates); 1 seed",
            base=_ONE_SEED,
            blocks=[
                _single("tanh", "nag", 0.995, 1e-4, 80_000, _ADD_80),
                _single(
                    "tanh",
                    "sgd",
                    0.0,
                    0.01,
                    80_000,
                    _row_options("addition", 80, initialization="small-random"),
                ),
                _single("biases", "nag", 0.9, 0.003, 2000, _ADD_80),
            ],
        ),
        "baselines": Budget(
            description="our baselines on add T=80, beside the quick budget's NAG and SGD: the "
            "tanh RNN from the ESN-style initialization trained with Adam, lr in {1e-3, 1e-4}, "
            "20,000 updates; an LSTM (100 cells) trained with Adam, lr 1e-3, 10,000 updates; "
            "100 sequences per update, 1 seed",
            base=_ONE_SEED,
            blocks=[
                _single("tanh", "adam", 0.0, 1e-3, 20_000, _ADD_80),
                _single("tanh", "adam", 0.0, 1e-4, 20_000, _ADD_80),
                _single("lstm", "adam", 0.0, 1e-3, 10_000, _ADD_80),
            ],
        ),
        "paper": Budget(
            description="50,000 updates of 100 sequences; μ = 0.9 for 1000 updates, then μ_0 in "
            "{0, 0.9, 0.98, 0.995}; NAG and CM; lr in {1e-3, 1e-4, 1e-5, 1e-6}; ESN-style "
            "initialization (Table 4); 4 seeds; Adam (lr in {1e-2, 1e-3, 1e-4}), LSTM (NAG "
            "μ_0 = 0.995 and Adam, each on its lr grid) and SGD from N(0, 0.01) added",
            base={**_BASE, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 5000},
            blocks=_table5_blocks(ROWS, MU_0, PAPER_LRS, (1e-2, 1e-3, 1e-4), (0, 1, 2, 3)),
        ),
    },
    row=problem_row,
    column=table5_column,
    rows=tuple(ROWS),
    columns=(*_PUBLISHED_COLUMNS, "SGD small", "Adam", "LSTM"),
    published=PUBLISHED,
    select=("optimizer", "lr"),
    notes="Published numbers: Sutskever et al. (2013) Table 5, averages over 4 seeds. Errors are "
    "measured on 2000 fixed sequences of the training distribution. Addition uses the mean of the "
    "two marked values; a case is wrong when off by more than 0.04. Memorization rows count the "
    "wrongly recalled symbols per sequence (chance: 2.5 and 8, the published 'biases' column). "
    "'SGD small', 'Adam' and 'LSTM' are our additions.",
)


def clipping_column(config: RunConfig) -> str:
    """``SGD``, ``SGD+clip``, ``NAG``, ``NAG+clip`` and ``leaky NAG+clip`` (leaky-tanh units)."""
    method = "SGD" if config.optimizer == "sgd" else "NAG"
    clipped = "+clip" if config.clip_grad_norm > 0 else ""
    prefix = "leaky " if config.model.startswith("leaky") else ""
    return f"{prefix}{method}{clipped}"


def _clipping_blocks(
    rows: dict[str, tuple[str, int]], lrs: tuple[float, ...], clip: float, seeds: tuple[int, ...]
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for problem, length in rows.values():
        common = {"task_options": [_row_options(problem, length)], "seed": list(seeds),
                  "lr": list(lrs)}  # fmt: skip
        blocks += [
            {**common, "model": ["tanh"], "optimizer": ["sgd"], "momentum": [0.0],
             "clip_grad_norm": [0.0, clip]},
            {**common, "model": ["tanh"], "optimizer": ["nag"], "momentum": [0.995],
             "clip_grad_norm": [0.0, clip]},
            {**common, "model": ["leaky-tanh"], "optimizer": ["nag"], "momentum": [0.995],
             "clip_grad_norm": [clip]},
        ]  # fmt: skip
    return blocks


CLIPPING_ROWS = {"add T=40": ("addition", 40), "temporal-order T=40": ("temporal-order", 40)}

CLIPPING = Protocol(
    name="clipping",
    title="Bengio, Boulanger-Lewandowski & Pascanu (2012): gradient clipping, Nesterov momentum "
    "and leaky integration on long-term-dependency problems, zero-one error",
    budgets={
        "quick": Budget(
            description="add T=40 only, 12,000 updates of 100 sequences, lr in {0.01, 0.003}; "
            "otherwise as the paper budget; 1 seed",
            base={**_BASE, "steps": 12_000, "eval_every": 1000, "checkpoint_every": 2000},
            blocks=_clipping_blocks(
                {"add T=40": CLIPPING_ROWS["add T=40"]}, (0.01, 0.003), 1.0, (0,)
            ),
        ),
        "paper": Budget(
            description="50,000 updates of 100 sequences; ESN-style initialization; SGD and NAG "
            "(μ = 0.9 for 1000 updates, then 0.995), each without and with clipping the "
            "gradient norm at 1; leaky-tanh units (α spread over [0, 0.9]) with NAG and "
            "clipping; lr in {1e-2, 1e-3, 1e-4}; 2 seeds",
            base={**_BASE, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 5000},
            blocks=_clipping_blocks(CLIPPING_ROWS, (1e-2, 1e-3, 1e-4), 1.0, (0, 1)),
        ),
    },
    row=problem_row,
    column=clipping_column,
    rows=tuple(CLIPPING_ROWS),
    columns=("SGD", "SGD+clip", "NAG", "NAG+clip", "leaky NAG+clip"),
    published={},
    select=("lr",),
    notes="Our ablation of the techniques of Bengio et al. (2012); SPEC section 5 asks for our own "
    "ablation rather than their table values, so there are no published numbers here.",
)
