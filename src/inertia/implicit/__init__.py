"""Implicit differentiation at fixed points and through unrolled optimization: recurrent
back-propagation (Liao et al. 2018)."""

from inertia.implicit._fixed_point import GRADIENT_METHODS as GRADIENT_METHODS
from inertia.implicit._fixed_point import FixedPoint as FixedPoint
from inertia.implicit._fixed_point import FixedPointStats as FixedPointStats
from inertia.implicit._fixed_point import FixedPointWarning as FixedPointWarning
from inertia.implicit._fixed_point import anderson as anderson
from inertia.implicit._fixed_point import fixed_point_iteration as fixed_point_iteration
from inertia.implicit._unrolled import Unrolled as Unrolled

__all__ = [
    "GRADIENT_METHODS",
    "FixedPoint",
    "FixedPointStats",
    "FixedPointWarning",
    "Unrolled",
    "anderson",
    "fixed_point_iteration",
]
