"""Optimizers and momentum schedules by name, from a :class:`RunConfig` (an explicit registry)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from inertia.experiments._config import ConfigError, RunConfig
from inertia.optim import CM, NAG, MomentumLike
from inertia.schedules import (
    Constant,
    LowMomentumFinetuning,
    SutskeverMomentum,
    rnn_momentum,
)

__all__ = ["OPTIMIZERS", "build_optimizer", "momentum_schedule"]


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


def build_optimizer(params: Iterable[Tensor], config: RunConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer``."""
    if config.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"config key 'optimizer' must be one of {sorted(OPTIMIZERS)}, got {config.optimizer!r}"
        )
    return OPTIMIZERS[config.optimizer](params, config)
