"""Network modules: recurrent networks for the long-term-dependency problems."""

from inertia.nn._leaky_rnn import leaky_rnn as leaky_rnn
from inertia.nn._recurrent import CELLS as CELLS
from inertia.nn._recurrent import RecurrentNetwork as RecurrentNetwork

__all__ = ["CELLS", "RecurrentNetwork", "leaky_rnn"]
