"""Optimizers with the ``torch.optim.Optimizer`` contract."""

from inertia.optim._momentum import CM as CM
from inertia.optim._momentum import NAG as NAG
from inertia.optim._momentum import MomentumLike as MomentumLike

__all__ = ["CM", "NAG", "MomentumLike"]
