"""A recurrent language model: token embedding, one recurrent layer, softmax read-out (Bengio,
Boulanger-Lewandowski & Pascanu 2012, section 4, Penn Treebank)."""

from __future__ import annotations

from torch import Tensor, nn

from inertia.nn._recurrent import Cell, RecurrentNetwork

__all__ = ["LanguageRNN"]


class LanguageRNN(nn.Module):
    """``ids (batch, time) -> logits (batch, time, vocabulary)`` over the next token.

    The embedding is the input layer (a one-hot input times the input weights, factored as
    ``embedding_size`` columns); the recurrent layer and its cells are those of
    :class:`inertia.nn.RecurrentNetwork` (``tanh``, ``relu``, ``leaky-tanh``, ``leaky-relu``,
    ``lstm``).

    Args:
        vocabulary: token types.
        hidden_size: recurrent units.
        embedding_size: input-layer width (default: ``min(vocabulary, hidden_size)``).
        cell: the recurrent cell.
        leak_range: α range of the leaky cells.
    """

    def __init__(
        self,
        vocabulary: int,
        hidden_size: int = 200,
        embedding_size: int | None = None,
        cell: Cell = "tanh",
        leak_range: tuple[float, float] = (0.0, 0.9),
    ) -> None:
        super().__init__()
        if vocabulary < 2 or hidden_size < 1:
            raise ValueError(
                f"LanguageRNN needs vocabulary >= 2 and hidden_size >= 1, got {vocabulary}, "
                f"{hidden_size}"
            )
        width = embedding_size or min(vocabulary, hidden_size)
        self.embedding = nn.Embedding(vocabulary, width)
        self.rnn = RecurrentNetwork(width, hidden_size, vocabulary, cell=cell, readout="all",
                                    leak_range=leak_range)  # fmt: skip

    def forward(self, ids: Tensor) -> Tensor:
        return self.rnn(self.embedding(ids))
