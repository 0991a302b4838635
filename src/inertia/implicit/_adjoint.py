"""The adjoint machinery that the recurrent back-propagation methods share (Liao et al. 2018;
SPEC section 7.1): vector-Jacobian products on a kept graph, the statistics and warnings of a
solve, and the autograd node that replaces an arriving gradient g by the solution z of
(I − Jᵀ) z = g. The solve itself belongs to the methods (:mod:`inertia.implicit._methods`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "FixedPointStats",
    "FixedPointWarning",
    "attach_adjoint",
    "relative",
    "retained_vjp",
]


def relative(difference: Tensor, reference: Tensor) -> float:
    """‖difference‖ / max(‖reference‖, 1e-12)."""
    return float(difference.detach().norm() / reference.detach().norm().clamp_min(1e-12))


def _engine_backward() -> Callable[..., tuple[Tensor | None, ...]] | None:
    """The autograd engine's own entry point, the one ``torch.autograd.grad`` calls after its
    Python-side argument handling (None where this torch has none)."""
    engine = getattr(getattr(torch.autograd, "variable", None), "Variable", None)
    return getattr(getattr(engine, "_execution_engine", None), "run_backward", None)


_RUN_BACKWARD = _engine_backward()


def retained_vjp(output: Tensor, input: Tensor) -> Callable[[Tensor], Tensor]:
    """v ↦ (∂output/∂input)ᵀ v, as ``torch.autograd.grad(output, input, v, retain_graph=True)``,
    for many v on one graph.

    The RBP solves make one such product per iteration (K − 1 for Neumann-RBP). Measured on a
    64 x 64 state, ``torch.autograd.grad``'s Python-side handling of its arguments (tuples,
    shape checks, ``__torch_function__`` dispatch) cost about 30 µs per product, more than the
    product itself; it is done once here, and each product goes straight to the engine with the
    same arguments ``torch.autograd.grad`` would pass. Plain tensors only: a tensor subclass
    (``__torch_function__``) gets ``torch.autograd.grad`` itself.
    """
    plain = type(output) is Tensor and type(input) is Tensor
    if _RUN_BACKWARD is None or not plain:

        def through_grad(v: Tensor) -> Tensor:
            (product,) = torch.autograd.grad(output, input, v, retain_graph=True)
            return product

        return through_grad
    outputs, inputs, run_backward = (output,), (input,), _RUN_BACKWARD

    def product(v: Tensor) -> Tensor:
        if v.shape != output.shape:
            raise RuntimeError(
                f"vector-Jacobian product: v has shape {tuple(v.shape)}, the output "
                f"{tuple(output.shape)}"
            )
        # (tensors, grad_tensors, keep_graph, create_graph, inputs, allow_unreachable,
        #  accumulate_grad): torch.autograd.grad's call with retain_graph=True
        (result,) = run_backward(outputs, (v,), True, False, inputs, False, False)
        if result is None:  # not with allow_unreachable=False: the engine raises first
            raise RuntimeError("vector-Jacobian product: the output does not depend on the input")
        return result

    return product


class FixedPointWarning(RuntimeWarning):
    """The forward iteration or an RBP backward solve did not reach its tolerance."""


@dataclasses.dataclass
class FixedPointStats:
    """What the latest forward and backward pass did.

    Attributes:
        forward_steps: applications of F in the forward pass.
        forward_residual: with ``statistics``, ‖F(h) − h‖ / max(‖h‖, 1e-12) at the returned
            state; otherwise the forward solver's last convergence test (NaN when nothing was
            tested: ``tolerance`` 0).
        converged: the forward residual reached ``tolerance`` (always True when it is 0).
        backward_steps: Jᵀ (or J) products in the latest backward solve (0 before any backward).
        backward_residual: with ``statistics``, the relative residual of the adjoint equation
            (I − Jᵀ) z = g at the z used, ‖z − Jᵀz − g‖ / ‖g‖ (one more Jᵀ product); NaN
            otherwise and for ``bptt``/``tbptt``, whose z is implicit.
    """

    forward_steps: int = 0
    forward_residual: float = math.nan
    converged: bool = False
    backward_steps: int = 0
    backward_residual: float = math.nan


class _Adjoint(torch.autograd.Function):
    """The identity on ``output = F(state)``, whose backward replaces the arriving gradient g by
    ``solve(g)``. The Jᵀ products of the solve back-propagate through ``output``'s own graph,
    below this node, so they neither pass through it again nor call Python per product (a
    tensor hook on ``output`` did, once per product)."""

    @staticmethod
    def forward(ctx: Any, output: Tensor, solve: Callable[[Tensor], Tensor]) -> Tensor:
        ctx.solve = solve
        return output.view_as(output)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None]:
        return ctx.solve(g), None


def attach_adjoint(
    output: Tensor, state: Tensor, solve: Callable[[Callable[[Tensor], Tensor], Tensor], Tensor]
) -> Tensor:
    """``output = F(state)`` through a node that replaces the gradient arriving at it by
    ``solve(transpose, g)`` before it flows on through F to F's parameters and inputs; return
    the result in ``output``'s place."""

    transpose = retained_vjp(output, state)
    return _Adjoint.apply(output, lambda g: solve(transpose, g))
