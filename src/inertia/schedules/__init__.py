"""Momentum and learning-rate schedules: pure functions of the update count."""

from inertia.schedules._apply import HyperparameterScheduler as HyperparameterScheduler
from inertia.schedules._schedules import Clip as Clip
from inertia.schedules._schedules import Constant as Constant
from inertia.schedules._schedules import ExponentialDecay as ExponentialDecay
from inertia.schedules._schedules import Join as Join
from inertia.schedules._schedules import Linear as Linear
from inertia.schedules._schedules import LowMomentumFinetuning as LowMomentumFinetuning
from inertia.schedules._schedules import PiecewiseConstant as PiecewiseConstant
from inertia.schedules._schedules import Schedule as Schedule
from inertia.schedules._schedules import SutskeverMomentum as SutskeverMomentum
from inertia.schedules._schedules import rnn_momentum as rnn_momentum

__all__ = [
    "Clip",
    "Constant",
    "ExponentialDecay",
    "HyperparameterScheduler",
    "Join",
    "Linear",
    "LowMomentumFinetuning",
    "PiecewiseConstant",
    "Schedule",
    "SutskeverMomentum",
    "rnn_momentum",
]
