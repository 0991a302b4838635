"""inertia: momentum methods and implicit gradients for deep and recurrent networks.

Subpackages: :mod:`inertia.optim` (optimizers), :mod:`inertia.functional` (update kernels),
:mod:`inertia.schedules` (momentum and learning-rate schedules), :mod:`inertia.init`
(initializers), :mod:`inertia.analysis` (the quadratic theory of momentum).
"""

__version__ = "0.1.0"
