"""Fixed points of recurrent maps and their gradients (Liao et al. 2018; SPEC section 7.1).

For a convergent map h = F(h, x; w) with fixed point h*, the implicit function theorem gives

    dL/dw = (∂F/∂w)ᵀ z,    dL/dx = (∂F/∂x)ᵀ z,    z = (I − Jᵀ)⁻¹ dL/dh*,    J = ∂F/∂h at h*.

The gradient methods of Liao et al. (2018):

- ``bptt``: back-propagation through every forward step (memory grows with the steps).
- ``tbptt``: through the last K steps only.
- ``rbp`` (Almeida 1987; Pineda 1987): iterate z ← Jᵀz + g from z = g until the change is below
  the tolerance (or K steps); unstable when J has eigenvalues of modulus ≥ 1.
- ``cg_rbp``: conjugate gradient on the normal equations (I − J)(I − Jᵀ) z = (I − J) g, which
  converges whenever I − J is nonsingular.
- ``neumann_rbp``: the truncated Neumann series z = Σ_{k<K} (Jᵀ)^k g; equal to ``tbptt`` with K
  steps when the forward pass has converged (Liao et al., Proposition 3).

The RBP methods keep only h* and one application of F: memory does not grow with K. Jᵀv is one
vector-Jacobian product through F(h*, x); J v (for CG-RBP) is the derivative of u ↦ Jᵀu along v.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

__all__ = [
    "GRADIENT_METHODS",
    "FixedPoint",
    "FixedPointStats",
    "FixedPointWarning",
    "anderson",
    "attach_adjoint",
    "fixed_point_iteration",
    "solve_adjoint",
]

GradientMethod = Literal["bptt", "tbptt", "rbp", "cg_rbp", "neumann_rbp"]
GRADIENT_METHODS: tuple[str, ...] = ("bptt", "tbptt", "rbp", "cg_rbp", "neumann_rbp")

Update = Callable[[Tensor, Tensor], Tensor]
"""F(h, x): the next state from the current state and the (clamped) input."""


class FixedPointWarning(RuntimeWarning):
    """The forward iteration or an RBP backward solve did not reach its tolerance."""


@dataclasses.dataclass
class FixedPointStats:
    """What the latest forward and backward pass did.

    Attributes:
        forward_steps: applications of F in the forward pass.
        forward_residual: ‖F(h) − h‖ / max(‖h‖, 1e-12) at the returned state.
        converged: the forward residual reached ``tolerance`` (always True when it is 0).
        backward_steps: Jᵀ (or J) products in the latest backward solve (0 before any backward).
        backward_residual: relative residual of the adjoint equation (I − Jᵀ) z = g at the z
            used, ‖z − Jᵀz − g‖ / ‖g‖ (NaN for ``bptt``/``tbptt``, whose z is implicit).
    """

    forward_steps: int = 0
    forward_residual: float = math.nan
    converged: bool = False
    backward_steps: int = 0
    backward_residual: float = math.nan


def _relative(difference: Tensor, reference: Tensor) -> float:
    return float(difference.detach().norm() / reference.detach().norm().clamp_min(1e-12))


def fixed_point_iteration(
    update: Callable[[Tensor], Tensor], h0: Tensor, max_steps: int, tolerance: float
) -> tuple[Tensor, int, float]:
    """Plain iteration h ← F(h): returns (h, steps, relative residual of the last step)."""
    h, residual = h0, math.inf
    for step in range(1, max_steps + 1):
        nxt = update(h)
        residual = _relative(nxt - h, nxt)
        h = nxt
        if tolerance > 0 and residual < tolerance:
            return h, step, residual
    return h, max_steps, residual


def anderson(
    update: Callable[[Tensor], Tensor],
    h0: Tensor,
    max_steps: int,
    tolerance: float,
    memory: int = 5,
    regularization: float = 1e-8,
    mixing: float = 1.0,
) -> tuple[Tensor, int, float]:
    """Anderson acceleration (type II) of h ← F(h), over the whole state as one vector:
    h_{k+1} = Σ_i α_i (β F(h_i) + (1 − β) h_i) over the last ``memory`` iterates, with α the
    least-squares combination (Σα = 1) of their residuals F(h_i) − h_i. Returns
    (h, steps, relative residual)."""
    shape = h0.shape
    states: list[Tensor] = [h0.reshape(-1)]
    images: list[Tensor] = [update(h0).reshape(-1)]
    residual = _relative(images[0] - states[0], images[0])
    h = images[0]
    steps = 1
    while steps < max_steps and not (tolerance > 0 and residual < tolerance):
        count = len(states)
        residuals = torch.stack([f - x for f, x in zip(images, states, strict=True)])  # (m, n)
        gram = residuals @ residuals.T
        gram = gram + regularization * gram.diagonal().mean().clamp_min(1e-30) * torch.eye(
            count, dtype=gram.dtype, device=gram.device
        )
        ones = torch.ones(count, 1, dtype=gram.dtype, device=gram.device)
        try:
            weights = torch.linalg.solve(gram, ones).squeeze(1)
            weights = weights / weights.sum()
        except RuntimeError:  # singular: fall back to the plain step
            weights = torch.zeros(count, dtype=gram.dtype, device=gram.device)
            weights[-1] = 1.0
        mixed = mixing * torch.stack(images) + (1 - mixing) * torch.stack(states)
        h = weights @ mixed
        image = update(h.view(shape)).reshape(-1)
        steps += 1
        residual = _relative(image - h, image)
        states.append(h)
        images.append(image)
        if len(states) > memory:
            states.pop(0)
            images.pop(0)
    return h.view(shape), steps, residual


def _conjugate_gradient_normal(
    transpose: Callable[[Tensor], Tensor],
    forward: Callable[[Tensor], Tensor],
    g: Tensor,
    iterations: int,
    tolerance: float,
) -> tuple[Tensor, int, bool]:
    """CG on (I − J)(I − Jᵀ) z = (I − J) g, started at z = g (the Neumann series' first term).
    Returns (z, iterations, whether the normal-equation residual reached ``tolerance``; with
    ``tolerance`` 0, CG runs ``iterations`` steps and counts as solved)."""

    def normal(v: Tensor) -> Tensor:
        w = v - transpose(v)
        return w - forward(w)

    z = g.clone()
    right = g - forward(g)
    r = right - normal(z)
    p = r.clone()
    rr = torch.sum(r * r)
    reference = float(right.norm().clamp_min(1e-30))
    steps = 0
    while steps < iterations:
        if math.sqrt(float(rr)) <= tolerance * reference:
            return z, steps, True
        ap = normal(p)
        curvature = torch.sum(p * ap)
        if float(curvature) <= 0:
            break
        alpha = rr / curvature
        z = z + alpha * p
        r = r - alpha * ap
        rr_next = torch.sum(r * r)
        p = r + (rr_next / rr) * p
        rr = rr_next
        steps += 1
    return z, steps, tolerance == 0 or math.sqrt(float(rr)) <= tolerance * reference


def solve_adjoint(
    gradient: str,
    transpose: Callable[[Tensor], Tensor],
    output: Tensor,
    state: Tensor,
    g: Tensor,
    truncation: int,
    tolerance: float,
    *,
    warn: bool = True,
    who: str = "FixedPoint",
) -> tuple[Tensor, int, float]:
    """z with (I − Jᵀ) z ≈ g by an RBP method, for ``output = F(state)`` built with a graph.

    ``transpose(v)`` is Jᵀv (one vector-Jacobian product through ``output``). Returns (z, the
    products used, the relative residual ‖z − Jᵀz − g‖ / ‖g‖); warns with
    :class:`FixedPointWarning` when the solve missed ``tolerance`` or the residual is not finite.
    """
    steps, solved = 0, True
    if gradient == "neumann_rbp":
        term, z = g, g.clone()
        for _ in range(truncation - 1):
            term = transpose(term)
            z = z + term
            steps += 1
    elif gradient == "rbp":
        z, solved = g.clone(), tolerance == 0
        for _ in range(truncation):
            nxt = transpose(z) + g
            steps += 1
            change = _relative(nxt - z, nxt)
            z = nxt
            if not math.isfinite(change):
                break
            if tolerance > 0 and change < tolerance:
                solved = True
                break
    elif gradient == "cg_rbp":
        with torch.enable_grad():
            cotangent = torch.zeros_like(output, requires_grad=True)
            (transposed,) = torch.autograd.grad(output, state, cotangent, create_graph=True)

        def forward(v: Tensor) -> Tensor:
            (product,) = torch.autograd.grad(transposed, cotangent, v, retain_graph=True)
            return product

        z, steps, solved = _conjugate_gradient_normal(transpose, forward, g, truncation, tolerance)
    else:
        raise ValueError(f"gradient must be 'rbp', 'cg_rbp' or 'neumann_rbp', got {gradient!r}")
    residual = _relative(z - transpose(z) - g, g)
    if warn and (not solved or not math.isfinite(residual)):
        warnings.warn(
            f"{who}: the {gradient} backward solve did not converge in {steps} steps (relative "
            f"residual of (I - J^T) z = g: {residual:.3g})",
            FixedPointWarning,
            stacklevel=3,
        )
    return z, steps, residual


def attach_adjoint(
    output: Tensor, state: Tensor, solve: Callable[[Callable[[Tensor], Tensor], Tensor], Tensor]
) -> None:
    """Make the gradient arriving at ``output = F(state)`` be replaced by ``solve(transpose, g)``
    (a tensor hook) before it flows on through F to F's parameters and inputs."""

    def transpose(v: Tensor) -> Tensor:
        (product,) = torch.autograd.grad(output, state, v, retain_graph=True)
        return product

    solving = [False]  # the Jᵀ products inside the hook backpropagate through `output` too

    def adjoint(g: Tensor) -> Tensor:
        if solving[0]:
            return g
        solving[0] = True
        try:
            return solve(transpose, g)
        finally:
            solving[0] = False

    output.register_hook(adjoint)


class FixedPoint(nn.Module):
    """h* = F(h*, x; w) as a differentiable layer, with the gradient method of your choice.

    ``update`` is any callable or module ``F(h, x) -> h`` (its parameters are found by
    autograd, so a module's own parameters and any tensors it closes over both work). Batched
    states are fine: the fixed point is solved for the whole state tensor at once, and the
    residuals are relative norms over the whole batch.

    Args:
        update: F(h, x).
        gradient: one of :data:`GRADIENT_METHODS`.
        truncation: K, the steps of ``tbptt`` and ``neumann_rbp``, the iteration limit of
            ``rbp`` and ``cg_rbp``.
        max_steps: the forward pass's limit of applications of F.
        tolerance: stop the forward pass when ‖F(h) − h‖ / ‖h‖ falls below it (0 = always
            ``max_steps``); also the relative tolerance of the ``rbp``/``cg_rbp`` solves.
        solver: ``iterate`` (h ← F(h)) or ``anderson`` (Anderson acceleration; ``bptt`` and
            ``tbptt`` differentiate plain steps, so they need ``iterate``).
        anderson_memory: iterates Anderson combines.
        warn: emit :class:`FixedPointWarning` when the forward pass or an RBP solve misses its
            tolerance (the numbers are in :attr:`stats` either way).

    Examples:
        >>> import torch
        >>> from inertia.implicit import FixedPoint
        >>> _ = torch.manual_seed(0)
        >>> weight = torch.nn.Parameter(0.3 * torch.randn(4, 4) / 2)
        >>> layer = FixedPoint(lambda h, x: torch.tanh(h @ weight.T + x),
        ...                    gradient="neumann_rbp", truncation=50, tolerance=1e-10)
        >>> h_star = layer(torch.randn(2, 4), torch.zeros(2, 4))
        >>> layer.stats.converged
        True
        >>> h_star.sum().backward()
        >>> weight.grad.shape
        torch.Size([4, 4])
    """

    def __init__(
        self,
        update: Update,
        gradient: str = "rbp",
        truncation: int = 20,
        max_steps: int = 100,
        tolerance: float = 1e-5,
        solver: str = "iterate",
        anderson_memory: int = 5,
        warn: bool = True,
    ) -> None:
        super().__init__()
        if gradient not in GRADIENT_METHODS:
            raise ValueError(f"gradient must be one of {GRADIENT_METHODS}, got {gradient!r}")
        if solver not in ("iterate", "anderson"):
            raise ValueError(f"solver must be 'iterate' or 'anderson', got {solver!r}")
        if solver == "anderson" and gradient in ("bptt", "tbptt"):
            raise ValueError(
                f"gradient {gradient!r} back-propagates through plain forward steps; use "
                "solver='iterate' (or an RBP gradient with Anderson)"
            )
        for name, value, ok in (
            ("truncation", truncation, truncation >= 1),
            ("max_steps", max_steps, max_steps >= 1),
            ("tolerance", tolerance, tolerance >= 0),
            ("anderson_memory", anderson_memory, anderson_memory >= 1),
        ):
            if not ok:
                raise ValueError(f"{name} must be {'>= 0' if name == 'tolerance' else '>= 1'}, "
                                 f"got {value!r}")  # fmt: skip
        self.update = update
        self.gradient = gradient
        self.truncation = truncation
        self.max_steps = max_steps
        self.tolerance = tolerance
        self.solver = solver
        self.anderson_memory = anderson_memory
        self.warn = warn
        self.stats = FixedPointStats()

    def extra_repr(self) -> str:
        return (
            f"gradient={self.gradient}, truncation={self.truncation}, "
            f"max_steps={self.max_steps}, tolerance={self.tolerance}, solver={self.solver}"
        )

    def _solve(self, x: Tensor, h0: Tensor, steps: int) -> tuple[Tensor, int, float]:
        def step(h: Tensor) -> Tensor:
            return self.update(h, x)

        if self.solver == "anderson":
            return anderson(step, h0, steps, self.tolerance, memory=self.anderson_memory)
        return fixed_point_iteration(step, h0, steps, self.tolerance)

    def _record_forward(
        self, h: Tensor, steps: int, x: Tensor, image: Tensor | None = None
    ) -> None:
        """Stats of the forward pass; ``image`` is F(h) when the caller has it already."""
        if image is None:
            with torch.no_grad():
                image = self.update(h, x)
        residual = _relative(image.detach() - h, h)
        converged = self.tolerance == 0 or residual < self.tolerance
        self.stats = FixedPointStats(forward_steps=steps, forward_residual=residual,
                                     converged=converged)  # fmt: skip
        if not converged and self.warn:
            warnings.warn(
                f"FixedPoint: the forward pass did not converge in {steps} steps (relative "
                f"residual {residual:.3g} > tolerance {self.tolerance:g})",
                FixedPointWarning,
                stacklevel=3,
            )

    def forward(self, x: Tensor, h0: Tensor) -> Tensor:
        """The fixed point reached from ``h0`` with input ``x`` (differentiable)."""
        if not torch.is_grad_enabled():
            with torch.no_grad():
                h, steps, _ = self._solve(x, h0, self.max_steps)
            self._record_forward(h, steps, x)
            return h
        if self.gradient in ("bptt", "tbptt"):
            return self._unrolled(x, h0)
        return self._implicit(x, h0)

    def _unrolled(self, x: Tensor, h0: Tensor) -> Tensor:
        """BPTT: every step with a graph. TBPTT(K): steps without a graph until the last K of
        ``max_steps`` (or until converged), then K steps with a graph."""
        tracked = self.max_steps if self.gradient == "bptt" else self.truncation
        untracked = max(self.max_steps - tracked, 0)
        h, steps = h0, 0
        if untracked:
            with torch.no_grad():
                h, steps, _ = self._solve(x, h0, untracked)
        for _ in range(tracked):
            nxt = self.update(h, x)
            steps += 1
            if self.gradient == "bptt" and self.tolerance > 0:
                done = _relative(nxt.detach() - h.detach(), nxt.detach()) < self.tolerance
                h = nxt
                if done:
                    break
            else:
                h = nxt
        self._record_forward(h.detach(), steps, x)
        return h

    def _implicit(self, x: Tensor, h0: Tensor) -> Tensor:
        with torch.no_grad():
            h_star, steps, _ = self._solve(x, h0, self.max_steps)
        state = h_star.detach().requires_grad_(True)
        output = self.update(state, x)  # one more application: the graph to w and x
        self._record_forward(h_star, steps, x, image=output)
        if not output.requires_grad:
            return output

        attach_adjoint(
            output, state, lambda transpose, g: self._adjoint(transpose, output, state, g)
        )
        return output

    def _adjoint(
        self, transpose: Callable[[Tensor], Tensor], output: Tensor, state: Tensor, g: Tensor
    ) -> Tensor:
        """z with (I − Jᵀ) z ≈ g by the configured RBP method."""
        z, self.stats.backward_steps, self.stats.backward_residual = solve_adjoint(
            self.gradient, transpose, output, state, g, self.truncation, self.tolerance,
            warn=self.warn, who="FixedPoint",
        )  # fmt: skip
        return z
