"""Implicit differentiation at fixed points and through unrolled optimization: recurrent
back-propagation (Liao et al. 2018).

A :class:`FixedPoint` layer (or an :class:`Unrolled` process) takes a forward solver and a
gradient method as small strategy objects::

    FixedPoint(F, gradient=CGRBP(max_iterations=20, tolerance=1e-6),
               solver=FixedPointIteration(max_steps=100, tolerance=1e-8))
"""

from inertia.implicit._fixed_point import FixedPoint as FixedPoint
from inertia.implicit._fixed_point import FixedPointStats as FixedPointStats
from inertia.implicit._fixed_point import FixedPointWarning as FixedPointWarning
from inertia.implicit._methods import BPTT as BPTT
from inertia.implicit._methods import CGRBP as CGRBP
from inertia.implicit._methods import GRADIENT_METHODS as GRADIENT_METHODS
from inertia.implicit._methods import RBP as RBP
from inertia.implicit._methods import TBPTT as TBPTT
from inertia.implicit._methods import Anderson as Anderson
from inertia.implicit._methods import FixedPointIteration as FixedPointIteration
from inertia.implicit._methods import ForwardSolver as ForwardSolver
from inertia.implicit._methods import GradientMethod as GradientMethod
from inertia.implicit._methods import ImplicitGradient as ImplicitGradient
from inertia.implicit._methods import NeumannRBP as NeumannRBP
from inertia.implicit._methods import make_gradient as make_gradient
from inertia.implicit._unrolled import Unrolled as Unrolled

__all__ = [
    "BPTT",
    "CGRBP",
    "GRADIENT_METHODS",
    "RBP",
    "TBPTT",
    "Anderson",
    "FixedPoint",
    "FixedPointIteration",
    "FixedPointStats",
    "FixedPointWarning",
    "ForwardSolver",
    "GradientMethod",
    "ImplicitGradient",
    "NeumannRBP",
    "Unrolled",
    "make_gradient",
]
