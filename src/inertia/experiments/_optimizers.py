"""Optimizers and momentum schedules by name, from a :class:`RunConfig` (an explicit registry)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from inertia.experiments._config import ConfigError, RunConfig
from inertia.optim import CM, NAG, HessianFree, MomentumLike
from inertia.schedules import (
    Constant,
    LowMomentumFinetuning,
    PiecewiseConstant,
    SutskeverMomentum,
    rnn_momentum,
)

__all__ = ["HF_OPTIONS", "OPTIMIZERS", "build_optimizer", "lr_schedule", "momentum_schedule"]

# RunConfig.optimizer_options that ``hf`` accepts: HessianFree's keyword arguments (lr and
# weight_decay come from their own config keys, the loss from the task) and the trainer's
# ``curvature_batch``.
HF_OPTIONS: tuple[str, ...] = (
    *(
        name
        for name, parameter in inspect.signature(HessianFree).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("lr", "weight_decay")
    ),
    "curvature_batch",
)


def momentum_schedule(config: RunConfig) -> MomentumLike:
    """μ as the run uses it: eq. (3), the RNN schedule or a constant, plus fine-tuning (Table 2)."""
    if config.momentum_schedule == "sutskever":
        schedule: MomentumLike = SutskeverMomentum(config.momentum, config.momentum_period)
    elif config.momentum_schedule == "rnn":
        schedule = rnn_momentum(config.momentum)
    else:
        schedule = config.momentum
    if config.finetune_steps > 0:
        base = Constant(schedule) if isinstance(schedule, float) else schedule
        schedule = LowMomentumFinetuning(base, config.steps, config.finetune_steps)
    return schedule


def lr_schedule(config: RunConfig) -> PiecewiseConstant | None:
    """The learning rate by update: ``lr`` times ``lr_decay_factor`` once more from each of
    ``lr_decay_steps``; None without decay steps (the optimizer keeps ``lr``)."""
    if not config.lr_decay_steps:
        return None
    decays = range(len(config.lr_decay_steps) + 1)
    return PiecewiseConstant(
        boundaries=tuple(config.lr_decay_steps),
        values=tuple(config.lr * config.lr_decay_factor**count for count in decays),
    )


def _hf(
    params: Iterable[Tensor], config: RunConfig, output_loss: str | None
) -> torch.optim.Optimizer:
    if output_loss is None:
        raise ConfigError(
            f"optimizer 'hf' needs the task's output loss (one of the matching pairs of "
            f"inertia.optim.OUTPUT_LOSSES); task {config.task!r} does not declare one"
        )
    unknown = sorted(set(config.optimizer_options) - set(HF_OPTIONS))
    if unknown:
        raise ConfigError(
            f"config key 'optimizer_options' has unknown key(s) {unknown} for optimizer 'hf'; "
            f"known: {list(HF_OPTIONS)}"
        )
    curvature_batch = config.optimizer_options.get("curvature_batch", 0)
    if not isinstance(curvature_batch, int) or not 0 <= curvature_batch <= config.batch_size:
        raise ConfigError(
            "config key 'optimizer_options.curvature_batch' must be an integer in [0, "
            f"batch_size = {config.batch_size}], got {curvature_batch!r}"
        )
    if config.clip_grad_norm:
        raise ConfigError("config key 'clip_grad_norm' does not apply to optimizer 'hf'")
    options: dict[str, Any] = {
        k: v for k, v in config.optimizer_options.items() if k != "curvature_batch"
    }
    try:
        return HessianFree(
            params, loss=output_loss, lr=config.lr, weight_decay=config.weight_decay, **options
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(f"config key 'optimizer_options' for optimizer 'hf': {error}") from None


def _sgd(params: Iterable[Tensor], config: RunConfig) -> torch.optim.Optimizer:
    return CM(params, lr=config.lr, momentum=0.0, weight_decay=config.weight_decay)


def _cm(params: Iterable[Tensor], config: RunConfig) -> torch.optim.Optimizer:
    return CM(
        params, lr=config.lr, momentum=momentum_schedule(config), weight_decay=config.weight_decay
    )


def _nag(params: Iterable[Tensor], config: RunConfig) -> torch.optim.Optimizer:
    return NAG(
        params, lr=config.lr, momentum=momentum_schedule(config), weight_decay=config.weight_decay
    )


def _adam(params: Iterable[Tensor], config: RunConfig) -> torch.optim.Optimizer:
    # Adam with torch's defaults (β = 0.9, 0.999); "momentum" settings do not apply.
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)


OPTIMIZERS: dict[str, Callable[[Iterable[Tensor], RunConfig], torch.optim.Optimizer]] = {
    "sgd": _sgd,
    "cm": _cm,
    "nag": _nag,
    "adam": _adam,
}


def build_optimizer(
    params: Iterable[Tensor], config: RunConfig, output_loss: str | None = None
) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer``; ``output_loss`` is the task's matching loss
    (``Problem.output_loss``), which Hessian-free needs."""
    if config.optimizer == "hf":
        return _hf(params, config, output_loss)
    if config.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"config key 'optimizer' must be one of {sorted([*OPTIMIZERS, 'hf'])}, "
            f"got {config.optimizer!r}"
        )
    if config.optimizer_options:
        raise ConfigError(
            f"config key 'optimizer_options' applies to optimizer 'hf' only; optimizer "
            f"{config.optimizer!r} got {config.optimizer_options!r}"
        )
    return OPTIMIZERS[config.optimizer](params, config)
