"""Output models for polyphonic sequences (Boulanger-Lewandowski, Bengio & Vincent 2012; Bengio,
Boulanger-Lewandowski & Pascanu 2012, section 4).

A recurrent network reads the frames v_1 .. v_{t-1} (a zero frame before the first) and its
state u_{t-1} gives the distribution of the next frame v_t ∈ {0, 1}^88:

- ``logistic``: independent notes, P(v_t) = Π_i σ(o_i)^{v_i} σ(−o_i)^{1−v_i}, o = W_o u + b.
- ``nade`` (RNN-NADE): a NADE (Larochelle & Murray 2011) whose biases the RNN sets at each step,
  b_t = b + W_ub u_{t−1} (visible) and c_t = c + W_uc u_{t−1} (hidden):
  P(v) = Π_i P(v_i | v_<i), P(v_i = 1 | v_<i) = σ(b_i + V_i · h_i), h_i = σ(c + W_{:,<i} v_<i).
  The log-likelihood is exact.
- ``rbm`` (RNN-RBM, Boulanger-Lewandowski et al. 2012): an RBM (:class:`inertia.nn.RBM`) whose
  visible and hidden biases the RNN sets at each step, trained by contrastive divergence (CD-k,
  back-propagated through the biases); its log-likelihood is exact for small hidden layers and
  an AIS estimate otherwise.

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

from inertia.nn._rbm import RBM
from inertia.nn._recurrent import Cell, RecurrentNetwork

__all__ = ["NADE", "OUTPUT_MODELS", "PolyphonicRNN"]

OutputModel = Literal["logistic", "nade", "rbm"]
OUTPUT_MODELS: tuple[str, ...] = ("logistic", "nade", "rbm")


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
        output_model: ``logistic``, ``nade`` or ``rbm``.
        nade_hidden: the NADE's hidden units.
        rbm_hidden: the RBM's hidden units (exact likelihood up to ``EXACT_HIDDEN_LIMIT``, 18).
        cd_steps: k of the RBM's CD-k training.
        cell: the recurrent cell, one of :data:`inertia.nn.CELLS`.
        leak_range: α range of the leaky cells.

    ``forward(inputs)`` takes the shifted frames ``(batch, time, D)`` (input t = frame t − 1,
    zero at t = 0) and returns the read-out ``(batch, time, D)`` (``logistic``) or
    ``(batch, time, D + H)`` (the NADE's or RBM's conditional biases); :meth:`log_prob`,
    :meth:`training_nll` and :meth:`predict` turn it into per-step log-likelihoods, the training
    objective and predicted frames.
    """

    def __init__(
        self,
        notes: int = 88,
        hidden_size: int = 150,
        output_model: OutputModel = "logistic",
        nade_hidden: int = 150,
        cell: Cell = "tanh",
        rbm_hidden: int = 10,
        cd_steps: int = 10,
        leak_range: tuple[float, float] = (0.0, 0.9),
    ) -> None:
        super().__init__()
        if output_model not in OUTPUT_MODELS:
            raise ValueError(f"output_model must be one of {OUTPUT_MODELS}, got {output_model!r}")
        self.notes, self.output_model = notes, output_model
        if cd_steps < 1:
            raise ValueError(f"cd_steps must be >= 1, got {cd_steps}")
        extra = {"logistic": 0, "nade": nade_hidden, "rbm": rbm_hidden}[output_model]
        self.rnn = RecurrentNetwork(notes, hidden_size, notes + extra, cell=cell, readout="all",
                                    leak_range=leak_range)  # fmt: skip
        self.nade = NADE(notes, nade_hidden) if output_model == "nade" else None
        self.rbm = RBM(notes, rbm_hidden) if output_model == "rbm" else None
        self.cd_steps = cd_steps

    def forward(self, inputs: Tensor) -> Tensor:
        return self.rnn(inputs)

    def _conditional(self, readout: Tensor, hidden: int) -> tuple[Tensor, Tensor]:
        visible, hidden_bias = readout.split([self.notes, hidden], dim=-1)
        return visible.reshape(-1, self.notes), hidden_bias.reshape(-1, hidden)

    def log_prob(self, readout: Tensor, frames: Tensor) -> Tensor:
        """log P(v_t | v_<t) per step, ``(batch, time)`` (for ``rbm``: without gradients, exact
        or AIS with a fixed seed, so that evaluations repeat)."""
        if self.nade is None and self.rbm is None:
            return -functional.binary_cross_entropy_with_logits(
                readout, frames, reduction="none"
            ).sum(-1)
        shape, flat_frames = frames.shape[:-1], frames.reshape(-1, self.notes)
        if self.nade is not None:
            flat = self.nade.log_prob(flat_frames, *self._conditional(readout, self.nade.hidden))
        else:
            assert self.rbm is not None
            generator = torch.Generator(readout.device).manual_seed(0)
            b, c = self._conditional(readout.detach(), self.rbm.hidden)
            flat = self.rbm.log_prob(flat_frames, b, c, generator)
        return flat.view(shape)

    def training_nll(self, readout: Tensor, frames: Tensor) -> Tensor:
        """The per-step training objective, ``(batch, time)``: −log P for ``logistic`` and
        ``nade``; for ``rbm`` the CD-k surrogate F(v) − F(ṽ), whose gradient estimates −∂log P."""
        if self.rbm is None:
            return -self.log_prob(readout, frames)
        b, c = self._conditional(readout, self.rbm.hidden)
        flat = self.rbm.contrastive_divergence(frames.reshape(-1, self.notes), self.cd_steps, b, c)
        return flat.view(frames.shape[:-1])

    @torch.no_grad()
    def predict(self, readout: Tensor) -> Tensor:
        """The predicted next frames, ``(batch, time, D)`` in {0, 1}: notes with probability
        above ½ (``logistic``), NADE's greedy vector (``nade``) or the RBM's thresholded
        mean-field fixed point (``rbm``)."""
        if self.nade is not None:
            visible, hidden = readout.split([self.notes, self.nade.hidden], dim=-1)
            return self.nade.greedy(visible, hidden)
        if self.rbm is not None:
            visible, hidden = readout.split([self.notes, self.rbm.hidden], dim=-1)
            return self.rbm.mean_field(visible, hidden)
        return (readout > 0).to(readout.dtype)
