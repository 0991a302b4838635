"""Output models for polyphonic sequences (Boulanger-Lewandowski, Bengio & Vincent 2012; Bengio,
Boulanger-Lewandowski & Pascanu 2012, section 4).

A recurrent network reads the frames v_1 .. v_{t-1} (a zero frame before the first) and its
state u_{t-1} gives the distribution of the next frame v_t ∈ {0, 1}^88:

- ``logistic``: independent notes, P(v_t) = Π_i σ(o_i)^{v_i} σ(−o_i)^{1−v_i}, o = W_o u + b.
- ``nade`` (RNN-NADE): a NADE (Larochelle & Murray 2011) whose biases the RNN sets at each step,
  b_t = b + W_ub u_{t−1} (visible) and c_t = c + W_uc u_{t−1} (hidden):
  P(v) = Π_i P(v_i | v_<i), P(v_i = 1 | v_<i) = σ(b_i + V_i · h_i), h_i = σ(c + W_{:,<i} v_<i).
  The log-likelihood is exact.

Both are one :class:`inertia.nn.RecurrentNetwork` whose linear read-out produces the output
logits, or the NADE's conditional biases (88 + H values per step), followed by the output model;
the recurrent cell (``tanh``, ``relu``, ``leaky-tanh``, ``leaky-relu``, ``lstm``) is the
network's.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional

from inertia.nn._recurrent import Cell, RecurrentNetwork

__all__ = ["NADE", "OUTPUT_MODELS", "PolyphonicRNN"]

OutputModel = Literal["logistic", "nade"]
OUTPUT_MODELS: tuple[str, ...] = ("logistic", "nade")


class NADE(nn.Module):
    """The neural autoregressive distribution estimator over binary vectors, with biases that
    may differ per case (so that an RNN can condition them).

    Args:
        visible: D, the binary dimensions (in this order).
        hidden: H, the hidden units of the autoregressive conditionals.

    The parameters ``weight`` (H, D) and ``read`` (D, H) are W and V above; ``visible_bias``
    (D) and ``hidden_bias`` (H) are b and c, to which per-case offsets can be added.
    """

    def __init__(self, visible: int, hidden: int) -> None:
        super().__init__()
        if visible < 1 or hidden < 1:
            raise ValueError(f"NADE needs visible >= 1 and hidden >= 1, got {visible}, {hidden}")
        self.visible, self.hidden = visible, hidden
        self.weight = nn.Parameter(torch.randn(hidden, visible) * 0.01)
        self.read = nn.Parameter(torch.randn(visible, hidden) * 0.01)
        self.visible_bias = nn.Parameter(torch.zeros(visible))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))

    def conditional_logits(
        self, v: Tensor, visible_offset: Tensor | None = None, hidden_offset: Tensor | None = None
    ) -> Tensor:
        """The logits of P(v_i = 1 | v_<i) for every i, ``(N, D)``, given ``v`` ``(N, D)``.

        h_i = σ(c + Σ_{j<i} W_{:,j} v_j) for all i at once: an exclusive cumulative sum over the
        dimensions, ``(N, D, H)`` in memory.
        """
        c = self.hidden_bias if hidden_offset is None else self.hidden_bias + hidden_offset
        b = self.visible_bias if visible_offset is None else self.visible_bias + visible_offset
        contributions = v.unsqueeze(2) * self.weight.T  # (N, D, H): W_{:,j} v_j
        before = torch.cumsum(contributions, dim=1) - contributions  # Σ over j < i
        h = torch.sigmoid(before + c.unsqueeze(-2))
        return b + torch.einsum("ndh,dh->nd", h, self.read)

    def log_prob(
        self, v: Tensor, visible_offset: Tensor | None = None, hidden_offset: Tensor | None = None
    ) -> Tensor:
        """log P(v) per case, ``(N,)`` (exact). With gradients: all conditionals at once
        (``(N, D, H)`` memory); without: one dimension at a time (``(N, H)`` memory)."""
        if torch.is_grad_enabled():
            logits = self.conditional_logits(v, visible_offset, hidden_offset)
        else:
            logits = self._logits_one_at_a_time(v, visible_offset, hidden_offset)
        return -functional.binary_cross_entropy_with_logits(logits, v, reduction="none").sum(-1)

    def _logits_one_at_a_time(
        self, v: Tensor, visible_offset: Tensor | None, hidden_offset: Tensor | None
    ) -> Tensor:
        c = self.hidden_bias if hidden_offset is None else self.hidden_bias + hidden_offset
        b = self.visible_bias if visible_offset is None else self.visible_bias + visible_offset
        activation = c.expand((v.shape[0], self.hidden)).clone()
        logits = torch.empty_like(v)
        for i in range(self.visible):
            logits[:, i] = torch.sigmoid(activation) @ self.read[i]
            activation += v[:, i : i + 1] * self.weight[:, i]
        return logits + b

    @torch.no_grad()
    def greedy(
        self, visible_offset: Tensor | None = None, hidden_offset: Tensor | None = None
    ) -> Tensor:
        """The vector built one dimension at a time, each v_i = 1 where P(v_i = 1 | v_<i) > ½
        given the choices before it: NADE's deterministic prediction, ``(N, D)``."""
        c = self.hidden_bias if hidden_offset is None else self.hidden_bias + hidden_offset
        b = self.visible_bias if visible_offset is None else self.visible_bias + visible_offset
        shape = torch.broadcast_shapes(b.shape, (*c.shape[:-1], self.visible))
        b = b.expand(shape)
        activation = c.expand((*shape[:-1], self.hidden)).clone()
        v = torch.zeros(shape, dtype=b.dtype, device=b.device)
        for i in range(self.visible):
            logit = b[..., i] + torch.sigmoid(activation) @ self.read[i]
            v[..., i] = (logit > 0).to(v.dtype)
            activation += v[..., i : i + 1] * self.weight[:, i]
        return v


class PolyphonicRNN(nn.Module):
    """An RNN over frames with an output model for the next frame (see the module docstring).

    Args:
        notes: frame dimension D (88).
        hidden_size: recurrent units.
        output_model: ``logistic`` or ``nade``.
        nade_hidden: the NADE's hidden units.
        cell: the recurrent cell, one of :data:`inertia.nn.CELLS`.
        leak_range: α range of the leaky cells.

    ``forward(inputs)`` takes the shifted frames ``(batch, time, D)`` (input t = frame t − 1,
    zero at t = 0) and returns the read-out ``(batch, time, D)`` (``logistic``) or
    ``(batch, time, D + nade_hidden)`` (``nade``); :meth:`log_prob` and :meth:`predict` turn it
    into per-step log-likelihoods and predicted frames.
    """

    def __init__(
        self,
        notes: int = 88,
        hidden_size: int = 150,
        output_model: OutputModel = "logistic",
        nade_hidden: int = 150,
        cell: Cell = "tanh",
        leak_range: tuple[float, float] = (0.0, 0.9),
    ) -> None:
        super().__init__()
        if output_model not in OUTPUT_MODELS:
            raise ValueError(f"output_model must be one of {OUTPUT_MODELS}, got {output_model!r}")
        self.notes, self.output_model = notes, output_model
        extra = nade_hidden if output_model == "nade" else 0
        self.rnn = RecurrentNetwork(notes, hidden_size, notes + extra, cell=cell, readout="all",
                                    leak_range=leak_range)  # fmt: skip
        self.nade = NADE(notes, nade_hidden) if output_model == "nade" else None

    def forward(self, inputs: Tensor) -> Tensor:
        return self.rnn(inputs)

    def log_prob(self, readout: Tensor, frames: Tensor) -> Tensor:
        """log P(v_t | v_<t) per step, ``(batch, time)``."""
        if self.nade is None:
            return -functional.binary_cross_entropy_with_logits(
                readout, frames, reduction="none"
            ).sum(-1)
        shape = frames.shape[:-1]
        visible, hidden = readout.split([self.notes, self.nade.hidden], dim=-1)
        flat = self.nade.log_prob(
            frames.reshape(-1, self.notes),
            visible.reshape(-1, self.notes),
            hidden.reshape(-1, self.nade.hidden),
        )
        return flat.view(shape)

    @torch.no_grad()
    def predict(self, readout: Tensor) -> Tensor:
        """The predicted next frames, ``(batch, time, D)`` in {0, 1}: notes with probability
        above ½ (``logistic``) or NADE's greedy vector (``nade``)."""
        if self.nade is None:
            return (readout > 0).to(readout.dtype)
        visible, hidden = readout.split([self.notes, self.nade.hidden], dim=-1)
        return self.nade.greedy(visible, hidden)
