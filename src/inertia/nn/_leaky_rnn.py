"""A single-layer recurrence with leaky integration, with a hand-written backward pass (BPTT).

    a_t = W_ih x_t + b + W_hh h_{t-1}
    h_t = α ⊙ h_{t-1} + (1 - α) ⊙ f(a_t)

with a fixed per-unit leak α ∈ [0, 1) (Bengio, Boulanger-Lewandowski & Pascanu 2012, section 3.3;
α = 0 is the standard RNN of Sutskever et al. 2013, section 4) and f = tanh or the rectifier
(Bengio et al. 2012, section 3.4).

Autograd through a Python loop over time records several nodes per step; here the forward loop runs
without recording and the backward loop makes one matrix product and two element-wise passes per
step, after which the weight gradients are three large matrix products over all steps at once.
The gradients are exact (checked against autograd with ``torch.autograd.gradcheck``).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

__all__ = ["leaky_rnn"]

Nonlinearity = Literal["tanh", "relu"]


def _derivative(nonlinearity: Nonlinearity, pre: Tensor, post: Tensor) -> Tensor:
    if nonlinearity == "tanh":
        return 1 - post * post
    return (pre > 0).to(post.dtype)


class _LeakyRNN(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        inputs: Tensor,
        h0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias: Tensor,
        leak: Tensor,
        nonlinearity: Nonlinearity,
    ) -> Tensor:
        steps = inputs.shape[0]
        drive = torch.addmm(bias, inputs.reshape(-1, inputs.shape[-1]), weight_ih.t())
        drive = drive.view(steps, inputs.shape[1], -1)
        hidden = inputs.new_empty(steps + 1, *h0.shape)
        derivative = inputs.new_empty(steps, *h0.shape)
        hidden[0] = h0
        keep = 1 - leak
        leaky = bool((leak != 0).any())
        activation = torch.tanh if nonlinearity == "tanh" else torch.relu
        weight_hh_t = weight_hh.t()
        for t in range(steps):
            pre = torch.addmm(drive[t], hidden[t], weight_hh_t)
            post = activation(pre)
            derivative[t] = _derivative(nonlinearity, pre, post)
            if leaky:
                torch.addcmul(post * keep, leak, hidden[t], out=hidden[t + 1])
            else:
                hidden[t + 1] = post
        ctx.save_for_backward(inputs, hidden, derivative, weight_ih, weight_hh, leak)
        ctx.leaky = leaky
        return hidden[1:]

    @staticmethod
    def backward(ctx: Any, grad_hidden: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        inputs, hidden, derivative, weight_ih, weight_hh, leak = ctx.saved_tensors
        steps = inputs.shape[0]
        keep = 1 - leak
        grad_pre = torch.empty_like(derivative)
        carry = torch.zeros_like(hidden[0])
        for t in range(steps - 1, -1, -1):
            total = grad_hidden[t] + carry
            if ctx.leaky:
                torch.mul(total * keep, derivative[t], out=grad_pre[t])
                carry = torch.addmm(total * leak, grad_pre[t], weight_hh)
            else:
                torch.mul(total, derivative[t], out=grad_pre[t])
                carry = grad_pre[t] @ weight_hh
        flat_grad = grad_pre.reshape(-1, grad_pre.shape[-1])
        grad_inputs = grad_weight_ih = grad_weight_hh = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_inputs = (flat_grad @ weight_ih).view_as(inputs)
        if ctx.needs_input_grad[2]:
            grad_weight_ih = flat_grad.t() @ inputs.reshape(-1, inputs.shape[-1])
        if ctx.needs_input_grad[3]:
            grad_weight_hh = flat_grad.t() @ hidden[:-1].reshape(-1, hidden.shape[-1])
        if ctx.needs_input_grad[4]:
            grad_bias = flat_grad.sum(0)
        grad_h0 = carry if ctx.needs_input_grad[1] else None
        return grad_inputs, grad_h0, grad_weight_ih, grad_weight_hh, grad_bias, None, None


def leaky_rnn(
    inputs: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor,
    leak: Tensor | None = None,
    h0: Tensor | None = None,
    nonlinearity: Nonlinearity = "tanh",
) -> Tensor:
    """Run the leaky recurrence over a sequence and return every hidden state.

    Args:
        inputs: ``(time, batch, input_size)``.
        weight_ih: ``(hidden_size, input_size)``.
        weight_hh: ``(hidden_size, hidden_size)``.
        bias: ``(hidden_size,)``.
        leak: per-unit α in [0, 1), ``(hidden_size,)``; None means 0 (no leak). Not trained.
        h0: ``(batch, hidden_size)`` initial state (zeros if None).
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        ``(time, batch, hidden_size)``: h_1 ... h_T.

    Examples:
        >>> import torch
        >>> x = torch.randn(5, 2, 3)
        >>> w_ih, w_hh, b = torch.randn(4, 3), 0.5 * torch.randn(4, 4), torch.zeros(4)
        >>> h = leaky_rnn(x, w_ih, w_hh, b, leak=torch.full((4,), 0.5))
        >>> h.shape
        torch.Size([5, 2, 4])
    """
    if inputs.dim() != 3:
        raise ValueError(f"inputs must be (time, batch, features), got shape {tuple(inputs.shape)}")
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    hidden_size = weight_hh.shape[0]
    if leak is None:
        leak = inputs.new_zeros(hidden_size)
    elif bool(((leak < 0) | (leak >= 1)).any()):
        raise ValueError("leak (α) must lie in [0, 1) for every unit")
    if h0 is None:
        h0 = inputs.new_zeros(inputs.shape[1], hidden_size)
    return _LeakyRNN.apply(inputs, h0, weight_ih, weight_hh, bias, leak.to(inputs), nonlinearity)
