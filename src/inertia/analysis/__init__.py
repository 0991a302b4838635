"""The quadratic theory of momentum (Sutskever et al. 2013, section 2.2)."""

from inertia.analysis._figure import plot_oblong_quadratic as plot_oblong_quadratic
from inertia.analysis._figure import (
    plot_quadratic_learning_curves as plot_quadratic_learning_curves,
)
from inertia.analysis._quadratic import QuadraticTrajectory as QuadraticTrajectory
from inertia.analysis._quadratic import cm_iteration_matrix as cm_iteration_matrix
from inertia.analysis._quadratic import convergence_rate as convergence_rate
from inertia.analysis._quadratic import nag_effective_momentum as nag_effective_momentum
from inertia.analysis._quadratic import nag_iteration_matrix as nag_iteration_matrix
from inertia.analysis._quadratic import run_on_quadratic as run_on_quadratic

__all__ = [
    "QuadraticTrajectory",
    "cm_iteration_matrix",
    "convergence_rate",
    "nag_effective_momentum",
    "nag_iteration_matrix",
    "plot_oblong_quadratic",
    "plot_quadratic_learning_curves",
    "run_on_quadratic",
]
