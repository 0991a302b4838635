"""Functional update kernels: plain functions on lists of tensors, used by :mod:`inertia.optim`."""

from inertia.functional._momentum import FUSED_MIN_ELEMENTS as FUSED_MIN_ELEMENTS
from inertia.functional._momentum import cm as cm
from inertia.functional._momentum import fused_available as fused_available
from inertia.functional._momentum import nag as nag

__all__ = ["FUSED_MIN_ELEMENTS", "cm", "fused_available", "nag"]
