"""A single-layer recurrence with leaky integration, with a hand-written backward pass (BPTT).

    a_t = W_ih x_t + b + W_hh h_{t-1}
    h_t = α ⊙ h_{t-1} + (1 - α) ⊙ f(a_t)

with a fixed per-unit leak α ∈ [0, 1) (Bengio, Boulanger-Lewandowski & Pascanu 2012, section 3.3;
α = 0 is the standard RNN of Sutskever et al. 2013, section 4) and f = tanh or the rectifier
(Bengio et al. 2012, section 3.4).

Autograd through a Python loop over time records several nodes per step; here the forward loop runs
without recording (a matrix product into the next state and the nonlinearity in place, and for
leaky units a product and a multiply-add per step); the backward loop makes one fused
multiply-add and one matrix product per step for plain units (f' and its product with the
incoming gradients computed for all steps at once before the loop) and four operations for leaky
ones; the weight gradients are three large matrix products after it. Nothing reads a value back
to the host. The gradients are exact (checked against autograd with
``torch.autograd.gradcheck``).

On CPU (float32 and float64) both time loops run in C++ (``_leaky_rnn_cpu.cpp``, built once per
machine on first use, :mod:`inertia._extensions`): the same operations in the same order, each
step's calls made without Python, and the leaky interpolation fused into one pass. Where it cannot
be built, the Python loops below do the same work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from inertia import _extensions

__all__ = ["leaky_rnn"]

Nonlinearity = Literal["tanh", "relu"]

_LOOPS = _extensions.CppExtension(
    "inertia_leaky_rnn_cpu", Path(__file__).with_name("_leaky_rnn_cpu.cpp"), "the Python loops"
)


def _compiled_loops(*tensors: Tensor | None) -> Any:
    """The C++ loops where every tensor is a float32/float64 CPU tensor of one dtype (None
    elsewhere, or where they cannot be built)."""
    present = [t for t in tensors if t is not None]
    dtype = present[0].dtype
    if dtype not in (torch.float32, torch.float64) or any(
        t.device.type != "cpu" or t.dtype != dtype for t in present
    ):
        return None
    return _LOOPS.load()


def _derivative(nonlinearity: Nonlinearity, post: Tensor) -> Tensor:
    """f'(a) from f(a) for every step at once: 1 − f² for tanh, [f > 0] for the rectifier."""
    if nonlinearity == "tanh":
        return 1 - post * post
    return (post > 0).to(post.dtype)


class _LeakyRNN(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        inputs: Tensor,
        h0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias: Tensor,
        leak: Tensor | None,
        nonlinearity: Nonlinearity,
    ) -> Tensor:
        steps = inputs.shape[0]
        drive = torch.addmm(bias, inputs.reshape(-1, inputs.shape[-1]), weight_ih.t())
        drive = drive.view(steps, inputs.shape[1], -1)
        hidden = inputs.new_empty(steps + 1, *h0.shape)
        hidden[0] = h0
        # Without a leak the activations are the states themselves.
        post = hidden[1:] if leak is None else inputs.new_empty(steps, *h0.shape)
        activation_ = torch.Tensor.tanh_ if nonlinearity == "tanh" else torch.Tensor.relu_
        weight_hh_t = weight_hh.t()
        keep = None if leak is None else 1 - leak
        loops = _compiled_loops(drive, hidden, weight_hh, leak)
        if loops is not None:
            loops.forward_loop(drive, hidden, post, weight_hh_t, leak, keep, nonlinearity == "relu")
        else:
            for t in range(steps):
                activation_(torch.addmm(drive[t], hidden[t], weight_hh_t, out=post[t]))
                if leak is not None and keep is not None:  # h_t = (1 − α) f(a_t) + α h_{t−1}
                    torch.mul(post[t], keep, out=hidden[t + 1]).addcmul_(leak, hidden[t])
        ctx.save_for_backward(inputs, hidden, post, weight_ih, weight_hh, leak)
        ctx.nonlinearity = nonlinearity
        return hidden[1:]

    @staticmethod
    def backward(ctx: Any, grad_hidden: Tensor) -> tuple[Tensor | None, ...]:
        inputs, hidden, post, weight_ih, weight_hh, leak = ctx.saved_tensors
        steps = inputs.shape[0]
        grad_hidden = grad_hidden.contiguous()
        # ∂L/∂a_t = s_t ⊙ (g_t + c_t) with s_t = (1 − α) f'(a_t), c_t the gradient carried back
        # from step t + 1: c_{t−1} = α ⊙ (g_t + c_t) + (∂L/∂a_t) W_hh.
        scale = _derivative(ctx.nonlinearity, post)
        if leak is not None:
            scale.mul_(1 - leak)
        scaled_grad = scale * grad_hidden if leak is None else None
        grad_pre = torch.empty_like(scale)
        carry = torch.zeros_like(hidden[0])
        loops = _compiled_loops(grad_hidden, scale, weight_hh, leak)
        if loops is not None:
            carry = loops.backward_loop(grad_hidden, scale, scaled_grad, weight_hh, leak, grad_pre)
        else:
            for t in range(steps - 1, -1, -1):
                if leak is not None:
                    total = grad_hidden[t] + carry
                    torch.mul(total, scale[t], out=grad_pre[t])
                    carry = torch.addmm(total.mul_(leak), grad_pre[t], weight_hh)
                elif scaled_grad is not None:  # always, without a leak
                    torch.addcmul(scaled_grad[t], scale[t], carry, out=grad_pre[t])
                    carry = torch.mm(grad_pre[t], weight_hh)
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
        leak: per-unit α in [0, 1), ``(hidden_size,)``; None means 0 (no leak, and no
            interpolation per step). Not trained.
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
    if leak is not None:
        leak = leak.to(inputs).contiguous()
        outside = (leak < 0) | (leak >= 1)
        if leak.device.type == "cpu":
            if bool(outside.any()):
                raise ValueError("leak (α) must lie in [0, 1) for every unit")
        else:  # checked on the device, without waiting for the answer
            torch._assert_async(~outside.any(), "leak (α) must lie in [0, 1) for every unit")
    if h0 is None:
        h0 = inputs.new_zeros(inputs.shape[1], hidden_size)
    return _LeakyRNN.apply(inputs, h0, weight_ih, weight_hh, bias, leak, nonlinearity)
