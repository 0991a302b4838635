"""Optimizers with the ``torch.optim.Optimizer`` contract."""

from inertia.optim._hessian_free import OUTPUT_LOSSES as OUTPUT_LOSSES
from inertia.optim._hessian_free import HessianFree as HessianFree
from inertia.optim._hessian_free import HessianFreeSettings as HessianFreeSettings
from inertia.optim._hessian_free import output_loss as output_loss
from inertia.optim._momentum import CM as CM
from inertia.optim._momentum import NAG as NAG
from inertia.optim._momentum import MomentumLike as MomentumLike

__all__ = [
    "CM",
    "NAG",
    "OUTPUT_LOSSES",
    "HessianFree",
    "HessianFreeSettings",
    "MomentumLike",
    "output_loss",
]
