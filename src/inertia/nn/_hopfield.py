"""The continuous Hopfield network of Liao et al.'s associative-memory experiment (SPEC 7.2).

Units: ``inputs`` clamped visible units, then ``hidden`` and ``outputs`` free units; one
symmetric weight matrix W over all of them with a zero diagonal (no self-loops). The free units'
states follow

    h ← (1 − a) h + W_free,all · σ(b [x; h])        (``official``: lrjconan/RBP's update)
    h ← (1 − a) h + W_free,all · [x; σ(b h)]        (``inertia-0.1``: inputs enter unsquashed)

(a = 1, b = 0.5 in the paper). W = R + Rᵀ (official) or (R + Rᵀ)/2 (inertia 0.1), diagonal
zeroed. The network is run for a fixed number of steps by
:class:`inertia.implicit.FixedPoint`; the read-out is the output units' raw states (official)
or σ(b h) of them (inertia 0.1).
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor, nn

from inertia.implicit import FixedPoint, FixedPointIteration, GradientMethod, NeumannRBP

__all__ = ["HOPFIELD_VARIANTS", "HopfieldNetwork"]

# Liao et al.'s method and K for this experiment (SPEC 7).
_LIAO_GRADIENT = NeumannRBP(truncation=20)

HopfieldVariant = Literal["official", "inertia-0.1"]
HOPFIELD_VARIANTS: tuple[str, ...] = get_args(HopfieldVariant)


class HopfieldNetwork(nn.Module):
    """Args:
    inputs, hidden, outputs: unit counts (784, 1024, 784 in the paper).
    leak: a; decay of the previous state (1 = none kept).
    gain: b, the slope of the logistic activation.
    steps: forward steps (50).
    gradient: the :class:`~inertia.implicit.FixedPoint` gradient method (the paper's K = 20
        for TBPTT and the RBP methods; :func:`~inertia.implicit.make_gradient` builds one from
        a name).
    init_std: W's initial entries are ``init_std`` · N(0, 1), then symmetrized.
    variant: ``official`` (the update, W and read-out of lrjconan/RBP's hopfield_net.py) or
        ``inertia-0.1`` (this library's first reading; see the module docstring).
    """

    off_diagonal: Tensor  # a buffer, for the type checker

    def __init__(
        self,
        inputs: int = 784,
        hidden: int = 1024,
        outputs: int = 784,
        leak: float = 1.0,
        gain: float = 0.5,
        steps: int = 50,
        gradient: GradientMethod = _LIAO_GRADIENT,
        init_std: float = 1e-3,
        variant: HopfieldVariant = "official",
    ) -> None:
        super().__init__()
        if variant not in HOPFIELD_VARIANTS:
            raise ValueError(f"variant must be one of {HOPFIELD_VARIANTS}, got {variant!r}")
        self.variant = variant
        self.inputs, self.hidden, self.outputs = inputs, hidden, outputs
        self.leak, self.gain = leak, gain
        units = inputs + hidden + outputs
        self.raw_weight = nn.Parameter(init_std * torch.randn(units, units))
        self.register_buffer("off_diagonal", 1.0 - torch.eye(units), persistent=False)
        self._free: Tensor | None = None
        self.propagation = FixedPoint(
            self._update,
            gradient=gradient,
            solver=FixedPointIteration(max_steps=steps, tolerance=0.0),
        )

    @property
    def weight(self) -> Tensor:
        """W = R + Rᵀ (official; (R + Rᵀ)/2 for inertia 0.1) with a zero diagonal: symmetric,
        no self-loops."""
        scale = 1.0 if self.variant == "official" else 0.5
        return scale * (self.raw_weight + self.raw_weight.T) * self.off_diagonal

    def _update(self, h: Tensor, x: Tensor) -> Tensor:
        assert self._free is not None
        activity = torch.cat([x, torch.sigmoid(self.gain * h)], dim=1)
        return (1.0 - self.leak) * h + activity @ self._free.T

    def forward(self, x: Tensor) -> Tensor:
        """The output units' read-out after the propagation, for clamped ``x``: their raw states
        (official) or σ(b h_out) (inertia 0.1)."""
        self._free = self.weight[self.inputs :]  # the free units' rows, formed once per pass
        clamped = torch.sigmoid(self.gain * x) if self.variant == "official" else x
        try:
            h0 = x.new_zeros(x.shape[0], self.hidden + self.outputs)
            h = self.propagation(clamped, h0)
        finally:
            self._free = None
        outputs = h[:, self.hidden :]
        return outputs if self.variant == "official" else torch.sigmoid(self.gain * outputs)
