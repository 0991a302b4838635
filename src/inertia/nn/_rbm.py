"""A binary restricted Boltzmann machine whose biases may differ per case, the output model of the
RNN-RBM (Boulanger-Lewandowski, Bengio & Vincent 2012).

    E(v, h) = −b·v − c·h − vᵀWᵀh,    F(v) = −b·v − Σ_j softplus(c_j + W_j·v)  (free energy),
    log P(v) = −F(v) − log Z.

Training uses contrastive divergence: the gradient of F(v_data) − F(ṽ), ṽ the end of a k-step
Gibbs chain from the data (not differentiated), which back-propagates through per-case biases into
whatever produced them. The partition function is computed exactly by enumerating the hidden
configurations when there are at most ``EXACT_HIDDEN_LIMIT`` hidden units, and otherwise estimated
by annealed importance sampling (Neal 2001; Salakhutdinov & Murray 2008) from the factorial
distribution with the visible biases, through p_β(v) ∝ exp(b·v) Π_j (1 + exp(β(c_j + W_j·v))).
AIS estimates of log Z are biased low in expectation, so the reported log-likelihoods are biased
high; use more chains and temperatures until the estimate stops moving.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn
from torch.nn import functional

__all__ = ["EXACT_HIDDEN_LIMIT", "RBM"]

# Up to here the exact sum over 2^H hidden configurations costs less than the default AIS: with 88
# visible units on one CPU thread, 2.8 / 10.8 / 29.7 / 216 ms per case at H = 12 / 14 / 16 / 18,
# against 320 ms for AIS with 100 chains x 1000 temperatures at H = 14-16 (770 ms at H = 150);
# measured 2026-11-30, issue 17.
EXACT_HIDDEN_LIMIT = 18
_EXACT_BLOCK_ELEMENTS = 4_000_000  # cases x configurations x visible units per block


class RBM(nn.Module):
    """Binary RBM with ``weight`` (H, D), ``visible_bias`` b (D) and ``hidden_bias`` c (H);
    every method takes optional per-case offsets added to b and c.

    Args:
        visible: D.
        hidden: H.
        ais_chains: AIS chains of :meth:`log_partition` for H above :data:`EXACT_HIDDEN_LIMIT`.
        ais_temperatures: AIS temperatures of :meth:`log_partition`, likewise.
    """

    def __init__(
        self, visible: int, hidden: int, ais_chains: int = 100, ais_temperatures: int = 1000
    ) -> None:
        super().__init__()
        if visible < 1 or hidden < 1:
            raise ValueError(f"RBM needs visible >= 1 and hidden >= 1, got {visible}, {hidden}")
        if ais_chains < 1 or ais_temperatures < 2:
            raise ValueError(
                f"RBM needs ais_chains >= 1 and ais_temperatures >= 2, got {ais_chains}, "
                f"{ais_temperatures}"
            )
        self.visible, self.hidden = visible, hidden
        self.ais_chains, self.ais_temperatures = ais_chains, ais_temperatures
        self.weight = nn.Parameter(torch.randn(hidden, visible) * 0.01)
        self.visible_bias = nn.Parameter(torch.zeros(visible))
        self.hidden_bias = nn.Parameter(torch.zeros(hidden))

    def _biases(self, b_offset: Tensor | None, c_offset: Tensor | None) -> tuple[Tensor, Tensor]:
        b = self.visible_bias if b_offset is None else self.visible_bias + b_offset
        c = self.hidden_bias if c_offset is None else self.hidden_bias + c_offset
        return b, c

    def free_energy(
        self, v: Tensor, b_offset: Tensor | None = None, c_offset: Tensor | None = None
    ) -> Tensor:
        """F(v) per case, ``(N,)``."""
        b, c = self._biases(b_offset, c_offset)
        return -(v * b).sum(-1) - functional.softplus(c + v @ self.weight.T).sum(-1)

    @torch.no_grad()
    def gibbs(
        self,
        v: Tensor,
        steps: int,
        b_offset: Tensor | None = None,
        c_offset: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``steps`` rounds of h ~ P(h | v), v ~ P(v | h) from ``v``."""
        b, c = self._biases(b_offset, c_offset)
        for _ in range(steps):
            h = torch.bernoulli(torch.sigmoid(c + v @ self.weight.T), generator=generator)
            v = torch.bernoulli(torch.sigmoid(b + h @ self.weight), generator=generator)
        return v

    def contrastive_divergence(
        self,
        v: Tensor,
        steps: int,
        b_offset: Tensor | None = None,
        c_offset: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """F(v) − F(ṽ) per case, ṽ after ``steps`` Gibbs rounds from ``v`` (held constant): its
        gradient is the CD-k estimate of −∂ log P(v)."""
        negative = self.gibbs(
            v.detach(),
            steps,
            None if b_offset is None else b_offset.detach(),
            None if c_offset is None else c_offset.detach(),
            generator,
        )
        return self.free_energy(v, b_offset, c_offset) - self.free_energy(
            negative, b_offset, c_offset
        )

    @torch.no_grad()
    def log_partition(
        self,
        b_offset: Tensor | None = None,
        c_offset: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """log Z per case, ``(N,)`` (N from the offsets; 1 without them): exact for
        H <= :data:`EXACT_HIDDEN_LIMIT`, else an AIS estimate."""
        b, c = self._biases(b_offset, c_offset)
        shape = torch.broadcast_shapes(b.shape[:-1], c.shape[:-1])
        b = b.expand((*shape, self.visible)).reshape(-1, self.visible)
        c = c.expand((*shape, self.hidden)).reshape(-1, self.hidden)
        if self.hidden <= EXACT_HIDDEN_LIMIT:
            result = self._log_partition_exact(b, c)
        else:
            result = self._log_partition_ais(b, c, generator)
        return result.view(shape) if shape else result.view(())

    def _log_partition_exact(self, b: Tensor, c: Tensor) -> Tensor:
        # log Z = logsumexp_h [c·h + Σ_i softplus(b_i + (hᵀW)_i)] over all 2^H configurations.
        codes = torch.arange(2**self.hidden, device=b.device)
        bits = torch.arange(self.hidden, device=b.device)
        configurations = ((codes.unsqueeze(1) >> bits) & 1).to(b.dtype)  # (2^H, H)
        projected = configurations @ self.weight  # (2^H, D)
        # One preallocated output written block by block: appending thousands of small
        # per-block results between the large temporaries fragmented the heap (an evaluation
        # of 272k MuseData frames grew past 20 GB).
        result = torch.empty(b.shape[0], dtype=b.dtype, device=b.device)
        block = max(1, _EXACT_BLOCK_ELEMENTS // (projected.numel()))
        for start in range(0, b.shape[0], block):
            block_b = b[start : start + block]
            block_c = c[start : start + block]
            visible_terms = functional.softplus(block_b.unsqueeze(1) + projected).sum(-1)
            torch.logsumexp(
                visible_terms + block_c @ configurations.T, dim=1, out=result[start : start + block]
            )
        return result

    def _log_partition_ais(self, b: Tensor, c: Tensor, generator: torch.Generator | None) -> Tensor:
        chains, count = self.ais_chains, b.shape[0]
        betas = torch.linspace(0.0, 1.0, self.ais_temperatures, dtype=b.dtype, device=b.device)
        b_chains = b.unsqueeze(1).expand(count, chains, self.visible)
        c_chains = c.unsqueeze(1).expand(count, chains, self.hidden)

        def unnormalized(v: Tensor, beta: Tensor) -> Tensor:  # log p*_β(v)
            return (v * b_chains).sum(-1) + functional.softplus(
                beta * (c_chains + v @ self.weight.T)
            ).sum(-1)

        v = torch.bernoulli(torch.sigmoid(b_chains), generator=generator)
        log_weights = torch.zeros(count, chains, dtype=b.dtype, device=b.device)
        for previous, beta in itertools.pairwise(betas):
            log_weights += unnormalized(v, beta) - unnormalized(v, previous)
            h = torch.bernoulli(
                torch.sigmoid(beta * (c_chains + v @ self.weight.T)), generator=generator
            )
            v = torch.bernoulli(torch.sigmoid(b_chains + beta * (h @ self.weight)),
                                generator=generator)  # fmt: skip
        log_z0 = self.hidden * math.log(2.0) + functional.softplus(b).sum(-1)
        return log_z0 + torch.logsumexp(log_weights, dim=1) - math.log(chains)

    @torch.no_grad()
    def log_prob(
        self,
        v: Tensor,
        b_offset: Tensor | None = None,
        c_offset: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """log P(v) = −F(v) − log Z per case (exact or AIS, see :meth:`log_partition`)."""
        log_z = self.log_partition(b_offset, c_offset, generator)
        return -self.free_energy(v, b_offset, c_offset) - log_z

    @torch.no_grad()
    def mean_field(
        self, b_offset: Tensor | None = None, c_offset: Tensor | None = None, steps: int = 20
    ) -> Tensor:
        """A deterministic prediction: v ← σ(b + Wᵀσ(c + W v)) from v = σ(b), ``steps`` times,
        then thresholded at ½."""
        b, c = self._biases(b_offset, c_offset)
        v = torch.sigmoid(b)
        for _ in range(steps):
            v = torch.sigmoid(b + torch.sigmoid(c + v @ self.weight.T) @ self.weight)
        return (v > 0.5).to(v.dtype)
