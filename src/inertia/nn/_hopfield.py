"""The continuous Hopfield network of Liao et al.'s associative-memory experiment (SPEC 7.2).

Units: ``inputs`` clamped visible units, then ``hidden`` and ``outputs`` free units; one
symmetric weight matrix W over all of them with a zero diagonal (no self-loops). The free units'
states follow

    h ← (1 − a) h + W_free,all · [x; σ(b h)],

(a = 1, b = 0.5 in the paper), where the clamped units contribute their inputs x directly. The
network is run for a fixed number of steps by :class:`inertia.implicit.FixedPoint`; the
read-out is σ(b h) of the output units.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from inertia.implicit import FixedPoint, FixedPointIteration, make_gradient

__all__ = ["HopfieldNetwork"]


class HopfieldNetwork(nn.Module):
    """Args:
    inputs, hidden, outputs: unit counts (784, 1024, 784 in the paper).
    leak: a; decay of the previous state (1 = none kept).
    gain: b, the slope of the logistic activation.
    steps: forward steps (50), truncation: K of the gradient method (20).
    gradient: the :class:`~inertia.implicit.FixedPoint` gradient method.
    init_std: W's initial entries are ``init_std`` · N(0, 1), then symmetrized.
    """

    def __init__(
        self,
        inputs: int = 784,
        hidden: int = 1024,
        outputs: int = 784,
        leak: float = 1.0,
        gain: float = 0.5,
        steps: int = 50,
        truncation: int = 20,
        gradient: str = "neumann_rbp",
        init_std: float = 1e-3,
    ) -> None:
        super().__init__()
        self.inputs, self.hidden, self.outputs = inputs, hidden, outputs
        self.leak, self.gain = leak, gain
        units = inputs + hidden + outputs
        self.raw_weight = nn.Parameter(init_std * torch.randn(units, units))
        self.register_buffer("off_diagonal", 1.0 - torch.eye(units), persistent=False)
        self._free: Tensor | None = None
        self.propagation = FixedPoint(
            self._update,
            gradient=make_gradient(gradient, truncation, 0.0),
            solver=FixedPointIteration(max_steps=steps, tolerance=0.0),
        )

    @property
    def weight(self) -> Tensor:
        """W = (R + Rᵀ) / 2 with a zero diagonal: symmetric, no self-loops."""
        return 0.5 * (self.raw_weight + self.raw_weight.T) * self.off_diagonal

    def _update(self, h: Tensor, x: Tensor) -> Tensor:
        assert self._free is not None
        activity = torch.cat([x, torch.sigmoid(self.gain * h)], dim=1)
        return (1.0 - self.leak) * h + activity @ self._free.T

    def forward(self, x: Tensor) -> Tensor:
        """The output units' activities σ(b h_out) after the propagation, for clamped ``x``."""
        self._free = self.weight[self.inputs :]  # the free units' rows, formed once per pass
        try:
            h0 = x.new_zeros(x.shape[0], self.hidden + self.outputs)
            h = self.propagation(x, h0)
        finally:
            self._free = None
        return torch.sigmoid(self.gain * h[:, self.hidden :])
