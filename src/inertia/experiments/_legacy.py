"""Everything that reads what earlier versions stored, in one place: run settings as inertia 0.1
wrote them (one flat mapping with ``model``, ``task_options`` and ``optimizer_options``),
translated into today's sections so that sweeps, run folders and results written before the
typed configuration still count (``inertia migrate`` applies it to a whole store); inertia
0.1's checkpoint format 1 (:func:`upgrade_checkpoint`); and the long-term runs stored before
issue 39 (:func:`upgrade_stored`), whose settings then meant inertia 0.2's loss, biases and
target index.

Reading 0.1's settings or checkpoints warns with :class:`LegacyFormatWarning`: that translation
is removed in inertia :data:`REMOVED_IN` (docs/experiments.md). The issue-39 reading is not
deprecated: it gives old long-term runs the settings that mean what they ran."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from inertia.data import RENAMED

__all__ = [
    "REMOVED_IN",
    "LegacyFormatWarning",
    "is_legacy",
    "upgrade_checkpoint",
    "upgrade_config",
    "upgrade_stored",
]

REMOVED_IN = "0.4"
"""The version that stops reading inertia 0.1's settings and checkpoints."""


class LegacyFormatWarning(FutureWarning):
    """Settings or a checkpoint in inertia 0.1's format were read (and translated). A
    FutureWarning, which Python shows by default: the users who hold such files are to see it."""


def _warn_legacy(what: str) -> None:
    warnings.warn(
        f"read {what} in inertia 0.1's format; that reading is removed in inertia {REMOVED_IN}: "
        "run `inertia migrate` on the sweep folder (or finish the run) before upgrading",
        LegacyFormatWarning,
        stacklevel=3,
    )


def upgrade_checkpoint(saved: Mapping[str, Any]) -> dict[str, Any]:
    """A checkpoint in today's format 2: format 1 (inertia 0.1) kept the batch order's state in
    three keys of its own (``permutation``, ``position``, ``order_generator``), today's in one
    ``batches`` mapping."""
    if saved.get("format") != 1:
        return dict(saved)
    _warn_legacy("a checkpoint")
    moved = {"permutation": "permutation", "position": "position", "order_generator": "generator"}
    upgraded = {key: value for key, value in saved.items() if key not in moved}
    if "batches" not in saved and all(key in saved for key in moved):
        upgraded["batches"] = {new: saved[old] for old, new in moved.items()}
    return {**upgraded, "format": 2}


# What the 0.1 ``model`` key chose, per task: the task option it became.
_MODEL_OPTION = {
    "autoencoder": "dataset",
    "citation": "gradient",
    "hopfield": "gradient",
    "hypergradient": "gradient",
    "long-term": "cell",
    "mnist-classification": "network",
    "polyphonic": "output",
}
_OPTIMIZER_KEYS = ("lr", "lr_decay_steps", "lr_decay_factor", "weight_decay")
_MOMENTUM_KEYS = ("momentum", "momentum_schedule", "momentum_period", "finetune_steps")
_RUN_KEYS = (
    "init", "init_scale", "clip_grad_norm", "batch_size", "steps", "seed", "eval_every",
    "checkpoint_every", "precision", "device", "cuda_graphs", "divergence_factor", "data_dir",
)  # fmt: skip


def is_legacy(config: Mapping[str, Any]) -> bool:
    """Whether a settings mapping is in the 0.1 form (sections given flat)."""
    legacy_keys = {"model", "task_options", "optimizer_options", "lr", "momentum"}
    return bool(legacy_keys & set(config)) or isinstance(config.get("optimizer"), str)


def upgrade_config(old: Mapping[str, Any]) -> dict[str, Any]:
    """The 0.1 settings ``old`` (a run's overrides or its whole config) as today's nested
    mapping; keys absent from ``old`` stay absent, so a run's key translates to its new key.

    Settings that had no effect are dropped: momentum settings of ``sgd`` and ``adam`` runs
    (0.1 ran SGD as CM with μ = 0 and Adam with torch's β whatever they said).
    """
    task_name = old.get("task", "toy-regression")
    task: dict[str, Any] = {"name": task_name, **old.get("task_options", {})}
    if task_name == "long-term":  # 0.1's problems are today's variants under explicit names
        task["problem"] = RENAMED[task.get("problem", "addition")]
        # ... trained with the loss summed over a sequence's steps and both of nn.RNN's biases
        task["loss_reduction"] = "per-sequence"
        task["hidden_biases"] = 2
    if task_name == "hopfield":  # 0.1 ran its own reading of the task, not the official one
        task["variant"] = "inertia-0.1"
    model = old.get("model", "default")
    if model != "default":
        if task_name == "long-term" and model == "biases":
            task["output_biases_only"] = True
        elif task_name in _MODEL_OPTION:
            task[_MODEL_OPTION[task_name]] = model
        else:
            raise ValueError(f"task {task_name!r} had no model {model!r}")
    optimizer_name = old.get("optimizer", "nag")
    optimizer: dict[str, Any] = {"name": optimizer_name}
    keys = _OPTIMIZER_KEYS + (_MOMENTUM_KEYS if optimizer_name in ("cm", "nag") else ())
    optimizer.update({key: old[key] for key in keys if key in old})
    optimizer.update(old.get("optimizer_options", {}))
    if optimizer_name == "hf" and "lr" not in optimizer:
        optimizer["lr"] = 0.01  # 0.1's default rate, where today's HF default is 1
    new = {key: old[key] for key in _RUN_KEYS if key in old}
    return {"task": task, "optimizer": optimizer, **new}


# Issue 39: the long-term problems whose target index followed the authors' code from then on;
# a run stored before it trained on inertia 0.2's reading, today's *-predict2 problems.
_READ_BEFORE_ISSUE_39 = {
    "addition": "addition-predict2",
    "multiplication": "multiplication-predict2",
    "xor": "xor-predict2",
    "temporal-order": "temporal-order-predict0",
}


def upgrade_stored(config: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run's settings (a result's or a checkpoint's) in today's form and meaning.

    0.1's flat settings are translated (:func:`upgrade_config`). A long-term run stored before
    issue 39 holds no ``loss_reduction``: it trained with inertia 0.2's loss (per sequence),
    both of ``nn.RNN``'s hidden biases and, on the marker and temporal-order problems, the
    target one step earlier than the authors' index; it gets those settings by name, so that it
    matches the configuration that means what it ran, not today's defaults.
    """
    if is_legacy(config):
        _warn_legacy("run settings")
        settings = upgrade_config(config)
    else:
        settings = dict(config)
    task = settings.get("task")
    if (
        isinstance(task, Mapping)
        and "loss_reduction" not in task
        and task.get("name") == "long-term"
    ):
        problem = task.get("problem", "addition")
        settings["task"] = {
            **task,
            "problem": _READ_BEFORE_ISSUE_39.get(problem, problem),
            "loss_reduction": "per-sequence",
            "hidden_biases": 2,
        }
    return settings
