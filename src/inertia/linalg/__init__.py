"""Matrix-free linear algebra shared by the optimizers and the implicit layers: conjugate
gradient for Hessian-free's Gauss-Newton systems (Martens 2010) and for CG-RBP's normal
equations (Liao et al. 2018)."""

from inertia.linalg._cg import CGResult as CGResult
from inertia.linalg._cg import conjugate_gradient as conjugate_gradient

__all__ = ["CGResult", "conjugate_gradient"]
