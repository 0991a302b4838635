"""Network modules: recurrent networks for the long-term-dependency problems and the graph
network of the recurrent back-propagation experiments."""

from inertia.nn._graph import GatedGraphNetwork as GatedGraphNetwork
from inertia.nn._graph import adjacency as adjacency
from inertia.nn._hopfield import HopfieldNetwork as HopfieldNetwork
from inertia.nn._leaky_rnn import leaky_rnn as leaky_rnn
from inertia.nn._recurrent import CELLS as CELLS
from inertia.nn._recurrent import RecurrentNetwork as RecurrentNetwork

__all__ = [
    "CELLS",
    "GatedGraphNetwork",
    "HopfieldNetwork",
    "RecurrentNetwork",
    "adjacency",
    "leaky_rnn",
]
