"""Functional update kernels: plain functions on lists of tensors, used by :mod:`inertia.optim`."""

from inertia.functional._momentum import cm as cm
from inertia.functional._momentum import nag as nag

__all__ = ["cm", "nag"]
