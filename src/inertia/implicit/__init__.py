"""Implicit differentiation at fixed points and through unrolled optimization: recurrent
back-propagation (Liao et al. 2018).

A :class:`FixedPoint` layer (or an :class:`Unrolled` process) takes a forward solver and a
gradient method as small strategy objects::

    FixedPoint(F, gradient=CGRBP(max_iterations=20, tolerance=1e-6),
               solver=FixedPointIteration(max_steps=100, tolerance=1e-8))

The gradient method does the differentiation: :meth:`GradientMethod.differentiate` runs the
forward pass of a :class:`Recurrence` (what the layer hands over: its steps, with and without a
graph) and returns a :class:`Pass`. BPTT and TBPTT share one truncated unroll; the RBP methods
share the adjoint step and differ in :meth:`ImplicitGradient.solve`, so a method of one's own is
a subclass with its ``solve`` (z with (I − Jᵀ) z ≈ g, as an :class:`AdjointSolution`).
"""

from inertia.implicit._fixed_point import FixedPoint as FixedPoint
from inertia.implicit._fixed_point import FixedPointStats as FixedPointStats
from inertia.implicit._fixed_point import FixedPointWarning as FixedPointWarning
from inertia.implicit._methods import BPTT as BPTT
from inertia.implicit._methods import CGRBP as CGRBP
from inertia.implicit._methods import GRADIENT_METHODS as GRADIENT_METHODS
from inertia.implicit._methods import RBP as RBP
from inertia.implicit._methods import TBPTT as TBPTT
from inertia.implicit._methods import AdjointSolution as AdjointSolution
from inertia.implicit._methods import Anderson as Anderson
from inertia.implicit._methods import FixedPointIteration as FixedPointIteration
from inertia.implicit._methods import ForwardSolver as ForwardSolver
from inertia.implicit._methods import GradientMethod as GradientMethod
from inertia.implicit._methods import GradientName as GradientName
from inertia.implicit._methods import ImplicitGradient as ImplicitGradient
from inertia.implicit._methods import NeumannRBP as NeumannRBP
from inertia.implicit._methods import Pass as Pass
from inertia.implicit._methods import Recurrence as Recurrence
from inertia.implicit._methods import make_gradient as make_gradient
from inertia.implicit._unrolled import Unrolled as Unrolled

__all__ = [
    "BPTT",
    "CGRBP",
    "GRADIENT_METHODS",
    "RBP",
    "TBPTT",
    "AdjointSolution",
    "Anderson",
    "FixedPoint",
    "FixedPointIteration",
    "FixedPointStats",
    "FixedPointWarning",
    "ForwardSolver",
    "GradientMethod",
    "GradientName",
    "ImplicitGradient",
    "NeumannRBP",
    "Pass",
    "Recurrence",
    "Unrolled",
    "make_gradient",
]
