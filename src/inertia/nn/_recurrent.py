"""Recurrent networks for the long-term-dependency problems (Sutskever et al. 2013, section 4).

One hidden layer of ``hidden_size`` units and a linear read-out, either at the last step only or
at every step. Inputs and outputs are centered (Sutskever et al. section 4: "centering of both the
inputs and the outputs"): a fixed input shift is subtracted before the network sees the input,
and the output bias starts at the average output (:meth:`RecurrentNetwork.center_outputs_`).
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor, nn

from inertia.init import echo_state_rnn_
from inertia.nn._leaky_rnn import leaky_rnn

__all__ = ["CELLS", "RecurrentNetwork"]

Cell = Literal["tanh", "relu", "leaky-tanh", "leaky-relu", "lstm"]
CellName = Literal["tanh", "relu", "leaky-tanh", "leaky-relu", "lstm"]
CELLS: tuple[CellName, ...] = get_args(CellName)


class RecurrentNetwork(nn.Module):
    """``input -> recurrent hidden layer -> linear output``, batch-first.

    Cells:
        ``tanh``: the standard RNN of the paper, run by torch's fused ``nn.RNN``.
        ``relu``, ``leaky-tanh``, ``leaky-relu``: :func:`inertia.nn.leaky_rnn` with rectifier
            units and/or leaky integration h_t = α h_{t-1} + (1 - α) f(a_t) (Bengio et al. 2012);
            α is a fixed per-unit buffer (``leak``), spread evenly over ``leak_range``.
        ``lstm``: ``nn.LSTM``, the baseline.

    Args:
        input_size: input channels.
        hidden_size: recurrent units (100 in the paper).
        output_size: output channels.
        cell: one of :data:`CELLS`.
        readout: ``"last"`` (one output per sequence) or ``"all"`` (one per step).
        input_shift: subtracted from every input vector (input centering); zeros if None.
        leak_range: (lowest, highest) α for the leaky cells.

    Shapes:
        input ``(batch, time, input_size)``; output ``(batch, output_size)`` for ``"last"`` and
        ``(batch, time, output_size)`` for ``"all"``.
    """

    input_shift: Tensor  # buffers, for the type checker
    leak: Tensor

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        cell: Cell = "tanh",
        readout: Literal["last", "all"] = "last",
        input_shift: Tensor | None = None,
        leak_range: tuple[float, float] = (0.0, 0.9),
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        if readout not in ("last", "all"):
            raise ValueError(f"readout must be 'last' or 'all', got {readout!r}")
        low, high = leak_range
        if not 0 <= low <= high < 1:
            raise ValueError(f"leak_range must satisfy 0 <= low <= high < 1, got {leak_range}")
        self.cell, self.readout = cell, readout
        self.hidden_size = hidden_size
        shift = torch.zeros(input_size) if input_shift is None else input_shift.float()
        if shift.shape != (input_size,):
            raise ValueError(
                f"input_shift must have shape ({input_size},), got {tuple(shift.shape)}"
            )
        self.register_buffer("input_shift", shift.clone())
        if cell == "tanh":
            self.rnn: nn.Module = nn.RNN(input_size, hidden_size, nonlinearity="tanh")
        elif cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden_size)
        else:
            self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
            self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
            self.bias_h = nn.Parameter(torch.zeros(hidden_size))
            leaky = cell.startswith("leaky")
            leak = torch.linspace(low, high, hidden_size) if leaky else torch.zeros(hidden_size)
            self.register_buffer("leak", leak)
            bound = hidden_size**-0.5  # nn.RNN's default; echo_state_init_ replaces it
            nn.init.uniform_(self.weight_ih, -bound, bound)
            nn.init.uniform_(self.weight_hh, -bound, bound)
        self.output = nn.Linear(hidden_size, output_size)

    def recurrent_weights(self) -> tuple[Tensor, Tensor, list[Tensor]]:
        """(input-to-hidden, hidden-to-hidden, hidden biases) of the recurrent layer."""
        if self.cell in ("tanh", "lstm"):
            parameter = self.rnn.get_parameter
            return (
                parameter("weight_ih_l0"),
                parameter("weight_hh_l0"),
                [parameter("bias_ih_l0"), parameter("bias_hh_l0")],
            )
        return self.weight_ih, self.weight_hh, [self.bias_h]

    @torch.no_grad()
    def echo_state_init_(
        self,
        input_scale: float,
        output_scale: float = 0.1,
        spectral_radius: float = 1.1,
        num_connections: int = 15,
        generator: torch.Generator | None = None,
    ) -> RecurrentNetwork:
        """Sutskever et al. (2013) Table 4: dense input weights ``input_scale``·N(0, 1), sparse
        recurrent weights (``num_connections`` per unit) at spectral radius 1.1, output weights
        ``output_scale``·N(0, 1), hidden biases 0. For the LSTM only the input-to-candidate and
        candidate recurrent blocks follow the recipe; the gates keep torch's defaults."""
        weight_ih, weight_hh, biases = self.recurrent_weights()
        if self.cell == "lstm":
            hidden = self.hidden_size
            candidate = slice(2 * hidden, 3 * hidden)  # torch's gate order: i, f, g, o
            block_ih = torch.empty_like(weight_ih[candidate])
            block_hh = torch.empty_like(weight_hh[candidate])
            echo_state_rnn_(block_ih, block_hh, self.output.weight, input_scale=input_scale,
                            output_scale=output_scale, spectral_radius=spectral_radius,
                            num_connections=num_connections, generator=generator)  # fmt: skip
            weight_ih[candidate] = block_ih
            weight_hh[candidate] = block_hh
            for bias in biases:
                bias[candidate] = 0.0
        else:
            echo_state_rnn_(weight_ih, weight_hh, self.output.weight, input_scale=input_scale,
                            output_scale=output_scale, spectral_radius=spectral_radius,
                            num_connections=num_connections, generator=generator)  # fmt: skip
            for bias in biases:
                bias.zero_()
        return self

    @torch.no_grad()
    def rescale_recurrent_(self, spectral_radius: float) -> RecurrentNetwork:
        """Scale the hidden-to-hidden matrix to the given spectral radius (e.g. below 1 for
        rectifier units, whose activations are unbounded); not for the LSTM."""
        if self.cell == "lstm":
            raise ValueError("rescale_recurrent_ applies to the simple recurrent cells, not lstm")
        if spectral_radius <= 0:
            raise ValueError(f"spectral_radius must be > 0, got {spectral_radius}")
        _, weight_hh, _ = self.recurrent_weights()
        current = torch.linalg.eigvals(weight_hh.double()).abs().max()
        weight_hh.mul_(float(spectral_radius / current))
        return self

    @torch.no_grad()
    def small_random_init_(
        self, std: float = 0.01, generator: torch.Generator | None = None
    ) -> RecurrentNetwork:
        """Every weight N(0, std²), biases 0: the "small random" baseline initialization."""
        for name, parameter in self.named_parameters():
            if name.startswith("output.bias"):
                continue
            if "bias" in name:
                parameter.zero_()
            else:
                parameter.normal_(0.0, std, generator=generator)
        return self

    @torch.no_grad()
    def center_outputs_(self, average_output: Tensor) -> RecurrentNetwork:
        """Set the output bias to the average output (Table 4: "average of the outputs")."""
        self.output.bias.copy_(average_output)
        return self

    def hidden_states(self, inputs: Tensor) -> Tensor:
        """The hidden layer's states at every step, ``(time, batch, hidden_size)``."""
        sequence = (inputs - self.input_shift).transpose(0, 1)  # (time, batch, features)
        if self.cell in ("tanh", "lstm"):
            hidden, _ = self.rnn(sequence)
            return hidden
        return leaky_rnn(
            sequence, self.weight_ih, self.weight_hh, self.bias_h,
            self.leak if self.cell.startswith("leaky") else None,
            nonlinearity="relu" if self.cell.endswith("relu") else "tanh",
        )  # fmt: skip

    def forward(self, inputs: Tensor) -> Tensor:
        hidden = self.hidden_states(inputs)
        if self.readout == "last":
            return self.output(hidden[-1])
        return self.output(hidden).transpose(0, 1)
