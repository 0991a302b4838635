"""Bengio, Boulanger-Lewandowski & Pascanu (2012): the optimization techniques for RNNs added one
at a time, on polyphonic music (task ``polyphonic``).

The first rows add the techniques cumulatively to plain SGD, in the paper's order: gradient
clipping (C), leaky integration (L), rectifier units (R, with leaky integration: the
``leaky-relu`` cell) and Nesterov momentum (N, our exact NAG, which the paper's "simplified
Nesterov momentum" rewrites with a look-ahead parameter); the last rows take one technique at a
time out of the full set (``SGD+LRN`` has no clipping, ``SGD+CRN`` no leaky integration,
``SGD+CLN`` no rectifiers; ``SGD+CLR`` is the one without Nesterov momentum), so that every
technique is seen both switched on and switched off. Rectifier rows start their recurrent matrix
at spectral radius 0.5. Columns are the dataset with the independent-logistic output
(``RNN``), the NADE output (``RNN-NADE``) or, in the row with every technique, the RBM output
(``RNN-RBM``, CD-10, exact likelihood with :data:`RBM_HIDDEN` = 12 hidden units). Each cell is
the test NLL per time step at the learning rate with the best validation NLL
(``select_metric = valid_error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inertia.experiments import Block, Budget, Protocol

__all__ = ["BENGIO2012", "BENGIO2012_TEXT"]

CUMULATIVE_ROWS = ("SGD", "SGD+C", "SGD+CL", "SGD+CLR", "SGD+CLRN")
LEAVE_ONE_OUT_ROWS = ("SGD+LRN", "SGD+CRN", "SGD+CLN")
ROWS = CUMULATIVE_ROWS + LEAVE_ONE_OUT_ROWS
ALL_TECHNIQUES = "SGD+CLRN"
_CELLS = {"SGD": "tanh", "SGD+C": "tanh", "SGD+CL": "leaky-tanh", "SGD+CLR": "leaky-relu",
          "SGD+CLRN": "leaky-relu", "SGD+LRN": "leaky-relu", "SGD+CRN": "relu",
          "SGD+CLN": "leaky-tanh"}  # fmt: skip
_OUTPUTS = {"logistic": "RNN", "nade": "RNN-NADE", "rbm": "RNN-RBM"}
DATASETS = ("jsb", "nottingham", "musedata", "piano-midi")


def _cell(row: str) -> dict[str, Any]:
    """The recurrent cell of a row; rectifier rows start their recurrent matrix at spectral
    radius 0.5 (with torch's default initialization, radius about 0.6, the rectifier runs at
    lr 0.1 diverged within 20 updates; the paper's initialization could not be checked)."""
    cell = _CELLS[row]
    return {"cell": cell, **({"recurrent_radius": 0.5} if cell.endswith("relu") else {})}


Clipping = float | Mapping[str, float]
"""How the C rows clip: a fixed gradient norm (``clip_grad_norm``), or run settings such as
:data:`PASCANU_CLIPPING` (``clip_relative`` and ``clip_window``)."""

# The threshold as Pascanu, Mikolov & Bengio (2013, section 3.2), the companion paper, choose it:
# from "statistics on the average norm over a sufficiently large number of updates", noting that
# training "behaves well even for rather small thresholds": here the average norm itself over
# the first tenth of the run (the window runs unclipped). Bengio et al. (2012) do not say how they
# set theirs; inertia's first budgets used a fixed norm of 5, which PTB's SGD runs never reached.
PASCANU_CLIPPING = {"clip_relative": 1.0}


def _clip_settings(row: str, clip: Clipping, steps: int = 0) -> dict[str, list[float]]:
    """The clipping settings of ``row``: none unless it has C; a relative threshold's window is
    the first tenth of ``steps``."""
    if "C" not in row[3:]:
        return {"clip_grad_norm": [0.0]}
    if isinstance(clip, Mapping):
        return {"clip_grad_norm": [0.0], **{key: [value] for key, value in clip.items()},
                "clip_window": [max(1, steps // 10)]}  # fmt: skip
    return {"clip_grad_norm": [clip]}


def _techniques(
    row: str, clip: Clipping, sgd_lrs: list[float], nag_lrs: list[float], steps: int = 0
) -> dict:
    """The run settings of an ablation row (besides the cell, which is a task option)."""
    nesterov = row.endswith("N")
    return {
        **_clip_settings(row, clip, steps),
        "optimizer": [
            {"name": "nag", "momentum": 0.9, "momentum_schedule": "constant"}
            if nesterov
            else {"name": "sgd"}
        ],
        "optimizer.lr": nag_lrs if nesterov else sgd_lrs,
    }


# The RNN-RBM's hidden units: 150 in Boulanger-Lewandowski's code; 12 is the most whose exact
# likelihood a CPU evaluates on every set in minutes (docs/music_and_text.md has the timings).
RBM_HIDDEN = 12


def _output(model: str) -> dict[str, Any]:
    """The task options of an output model (the RBM's size with it)."""
    return {"output": model, **({"rbm_hidden": RBM_HIDDEN} if model == "rbm" else {})}


def _outputs(row: str) -> tuple[str, ...]:
    """The output models of a row: the RBM only in the row with every technique."""
    return ("logistic", "nade", "rbm") if row == ALL_TECHNIQUES else ("logistic", "nade")


def _blocks(
    datasets: tuple[str, ...], sizes: dict[str, Any], clip: float, sgd_lrs: list[float],
    nag_lrs: list[float],
) -> list[Block]:  # fmt: skip
    return [
        Block(row, f"{dataset} {_OUTPUTS[model]}", {
            "task": [{"name": "polyphonic", **_output(model), "dataset": dataset, **_cell(row),
                      **sizes}],
            **_techniques(row, clip, sgd_lrs, nag_lrs),
        })
        for dataset in datasets
        for row in ROWS
        for model in _outputs(row)
    ]  # fmt: skip


_SGD_LRS = [0.03, 0.1, 0.3]
_NAG_LRS = [0.003, 0.01, 0.03]
_QUICK_SIZES = {"hidden": 200, "nade_hidden": 50}
# The learning rate that JSB's validation NLL chose in the quick budget, by (row, output model);
# the 'sets' budget reuses it on the other three sets (one run per cell instead of a grid).
JSB_QUICK_LRS = {
    ("SGD", "logistic"): 0.1, ("SGD", "nade"): 0.1,
    ("SGD+C", "logistic"): 0.1, ("SGD+C", "nade"): 0.3,
    ("SGD+CL", "logistic"): 0.3, ("SGD+CL", "nade"): 0.3,
    ("SGD+CLR", "logistic"): 0.1, ("SGD+CLR", "nade"): 0.3,
    ("SGD+CLRN", "logistic"): 0.03, ("SGD+CLRN", "nade"): 0.03, ("SGD+CLRN", "rbm"): 0.03,
}  # fmt: skip


def _at_rate(
    row: str, lr: float, task: dict[str, Any], clip: Clipping = 5.0, steps: int = 0
) -> dict[str, Any]:
    """The block of one run of ``row`` at ``lr`` (clipping as ``clip`` where the row clips):
    the budgets that reuse a rate another budget's validation chose instead of a grid."""
    return {
        "task": [{**task, **_cell(row)}],
        **_techniques(row, clip, [lr], [lr], steps),
    }


def _sets_blocks(datasets: tuple[str, ...], sizes: dict[str, Any]) -> list[Block]:
    """One run per (dataset, cumulative row, output model), at JSB's chosen lr."""
    return [
        Block(row, f"{dataset} {_OUTPUTS[model]}",
              _at_rate(row, lr, {"name": "polyphonic", **_output(model), "dataset": dataset,
                                 **sizes}))
        for dataset in datasets
        for (row, model), lr in JSB_QUICK_LRS.items()
    ]  # fmt: skip


_BASE = {"task.name": "polyphonic", "seed": 0, "batch_size": 10}

BENGIO2012 = Protocol(
    name="bengio2012",
    title="Bengio, Boulanger-Lewandowski & Pascanu (2012): RNN optimization techniques on "
    "polyphonic music, test NLL per time step",
    budgets={
        "quick": Budget(
            about="JSB Chorales with the sizes a 2-core CPU trains in minutes; each row's rate "
            "chosen on validation NLL from a small grid (SGD rows and the N rows have their own)",
            base={**_BASE, "steps": 1000, "eval_every": 250, "checkpoint_every": 250},
            blocks=_blocks(("jsb",), _QUICK_SIZES, 5.0, _SGD_LRS, _NAG_LRS),
        ),
        "sets": Budget(
            about="The quick budget's settings on the other three music sets, the rows that add "
            "one technique at a time, each cell at the rate that JSB's validation chose in the "
            "quick budget (one run per cell, no grid)",
            base={**_BASE, "steps": 1000, "eval_every": 250, "checkpoint_every": 250},
            blocks=_sets_blocks(DATASETS[1:], _QUICK_SIZES),
        ),
        "paper": Budget(
            about="All four datasets with a larger network and the quick grids (our reading: the "
            "paper's sizes and schedules could not be checked)",
            base={**_BASE, "steps": 50_000, "eval_every": 2500, "checkpoint_every": 2500},
            blocks=_blocks(DATASETS, {"hidden": 400, "nade_hidden": 100}, 5.0, _SGD_LRS, _NAG_LRS),
        ),
    },
    rows=ROWS,
    columns=tuple(f"{d} {o}" for d in DATASETS for o in _OUTPUTS.values()),
    metric="test_error",
    metric_label="test negative log-likelihood per time step (nats)",
    select_metric="valid_error",
    notes="C: gradient-norm clipping; L: leaky integration; R: rectifier units (leaky-relu "
    "cell); N: Nesterov momentum (exact NAG). The first five rows add one technique at a time; "
    "SGD+LRN, SGD+CRN and SGD+CLN take C, L or R out of the full set (SGD+CLR is the full set "
    "without N). The runs also record the frame-level accuracy "
    "(test_accuracy, Bay et al. 2009). Bengio et al.'s numbers could not be confirmed here, so "
    "none are shown beside ours.",
)


def _text_blocks(
    levels: dict[str, dict[str, Any]],
    clip: Clipping,
    sgd_lrs: list[float],
    nag_lrs: list[float],
    seeds: tuple[int, ...] = (),
    wider: Mapping[str, list[float]] | None = None,
    steps: int = 0,
) -> list[Block]:
    """Every row at every level over its rate grid, with ``wider[row]`` added to that row's grid
    (and ``seeds``, where given, instead of the base's seed); ``steps``: the run length, for a
    relative clipping threshold's window."""
    extra = wider or {}
    return [
        Block(row, f"ptb-{level}", {
            "task": [{"name": "ptb", "level": level, **_cell(row), **sizes}],
            **_techniques(row, clip, sgd_lrs + extra.get(row, []), nag_lrs + extra.get(row, []),
                          steps),
            **({"seed": list(seeds)} if seeds else {}),
        })
        for level, sizes in levels.items()
        for row in ROWS
    ]  # fmt: skip


_TEXT_SGD_LRS = [0.3, 1.0]
_TEXT_NAG_LRS = [0.03, 0.1]
# The quick budget chose the top of its grid in every row (SGD rows 1.0, N rows 0.1): the medium
# grid goes one step beyond it, and the paper grid contains it.
_TEXT_MEDIUM_SGD_LRS = [0.3, 1.0, 3.0]
_TEXT_MEDIUM_NAG_LRS = [0.03, 0.1, 0.3]
# SGD+CLR chose the top of that grid too (lr 3: validation 1.920 / 1.957 against lr 1's 1.946 /
# 1.955), so its grid goes one step further, until its choice is inside.
_TEXT_MEDIUM_WIDER = {"SGD+CLR": [10.0]}
_TEXT_PAPER_SGD_LRS = [0.1, 0.3, 1.0]
_TEXT_PAPER_NAG_LRS = [0.01, 0.03, 0.1]
_TEXT_BASE = {"task.name": "ptb", "seed": 0, "batch_size": 32}
_CHAR = {"hidden": 200, "chunk": 100, "context": 100, "train_evaluation_tokens": 100_000}
_WORD = {"hidden": 200, "chunk": 35, "context": 35, "train_evaluation_tokens": 35_000}
# The learning rate that the character-level quick budget's validation chose, by row; the
# 'words' budget reuses it at the word level (one run per row instead of a grid).
PTB_CHAR_QUICK_LRS = {
    "SGD": 1.0, "SGD+C": 1.0, "SGD+CL": 1.0, "SGD+CLR": 1.0,
    "SGD+CLRN": 0.1, "SGD+LRN": 0.1, "SGD+CRN": 0.1, "SGD+CLN": 0.1,
}  # fmt: skip


def _words_blocks(sizes: dict[str, Any], clip: Clipping = 5.0, steps: int = 0) -> list[Block]:
    """One word-level run per row, at the character-level quick budget's chosen lr."""
    return [
        Block(row, "ptb-word",
              _at_rate(row, lr, {"name": "ptb", "level": "word", **sizes}, clip, steps))
        for row, lr in PTB_CHAR_QUICK_LRS.items()
    ]  # fmt: skip


_TEXT_MEDIUM_STEPS = 10_000
_TEXT_MEDIUM_BASE = {**_TEXT_BASE, "steps": _TEXT_MEDIUM_STEPS, "eval_every": 1000,
                     "checkpoint_every": 1000}  # fmt: skip
_WORDS_STEPS = 1000


def _text_medium_blocks(clip: Clipping) -> list[Block]:
    """The medium budget's grid (characters, two seeds) with the C rows clipping as ``clip``."""
    return _text_blocks(
        {"char": _CHAR}, clip, _TEXT_MEDIUM_SGD_LRS, _TEXT_MEDIUM_NAG_LRS, seeds=(0, 1),
        wider=_TEXT_MEDIUM_WIDER, steps=_TEXT_MEDIUM_STEPS,
    )  # fmt: skip


BENGIO2012_TEXT = Protocol(
    name="bengio2012-text",
    title="Bengio, Boulanger-Lewandowski & Pascanu (2012): RNN optimization techniques on Penn "
    "Treebank, test bits per token",
    budgets={
        "quick": Budget(
            about="PTB characters with the sizes a 2-core CPU trains in minutes; each row's "
            "rate chosen on validation bits per character from a small grid",
            base={**_TEXT_BASE, "steps": 2000, "eval_every": 500, "checkpoint_every": 500},
            blocks=_text_blocks({"char": _CHAR}, 5.0, _TEXT_SGD_LRS, _TEXT_NAG_LRS),
        ),
        "words": Budget(
            about="PTB words; each row at the rate that the character-level quick budget's "
            "validation chose (one run per row, no grid)",
            base={**_TEXT_BASE, "steps": _WORDS_STEPS, "eval_every": 500, "checkpoint_every": 250},
            blocks=_words_blocks(_WORD),
        ),
        "words-relative": Budget(
            about="The words budget with the C rows clipping as Pascanu et al. (2013) choose the "
            "threshold: at the average gradient norm of the run's first tenth (which runs "
            "unclipped); the rows without C are the words budget's runs",
            base={**_TEXT_BASE, "steps": _WORDS_STEPS, "eval_every": 500, "checkpoint_every": 250},
            blocks=_words_blocks(_WORD, PASCANU_CLIPPING, _WORDS_STEPS),
        ),
        "medium": Budget(
            about="PTB characters with the quick budget's network for 10,000 updates (6.4 "
            "passes over the 5M training characters, against the quick budget's 1.3, after "
            "which the models were far from trained), every row's rate chosen on validation "
            "bits per character from a grid of three around the quick budget's choice (which "
            "was the top of its grid in every row; SGD+CLR's grid one step wider, lr 10, where "
            "the medium runs chose its top), two seeds",
            base=_TEXT_MEDIUM_BASE,
            blocks=_text_medium_blocks(5.0),
        ),
        "medium-relative": Budget(
            about="The medium budget with the C rows clipping as Pascanu et al. (2013) choose "
            "the threshold: at the average gradient norm of the run's first tenth, 1000 updates "
            "(which run unclipped), where medium's fixed norm of 5 was never reached by the SGD "
            "rows; the rows without C are the medium budget's runs",
            base=_TEXT_MEDIUM_BASE,
            blocks=_text_medium_blocks(PASCANU_CLIPPING),
        ),
        "paper": Budget(
            about="Characters and words with a larger network; rates by validation (our "
            "reading: the paper's sizes and schedules could not be checked)",
            base={**_TEXT_BASE, "steps": 50_000, "eval_every": 5000, "checkpoint_every": 2500},
            blocks=_text_blocks(
                {
                    "char": {**_CHAR, "hidden": 400},
                    "word": {
                        "hidden": 400,
                        "chunk": 35,
                        "context": 35,
                        "train_evaluation_tokens": 100_000,
                    },
                },
                5.0,
                _TEXT_PAPER_SGD_LRS,
                _TEXT_PAPER_NAG_LRS,
            ),
        ),
    },
    rows=ROWS,
    columns=("ptb-char", "ptb-word"),
    metric="test_error",
    select_metric="valid_error",
    notes="Bits per character (ptb-char) or per word (ptb-word; perplexity = 2^bits, also "
    "recorded as test_perplexity). C, L, R, N as in bengio2012. Bengio et al.'s numbers could "
    "not be confirmed here, so none are shown beside ours.",
)
