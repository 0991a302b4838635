"""Network modules: recurrent networks for the long-term-dependency problems and polyphonic
music (with NADE outputs), and the graph and Hopfield networks of the recurrent
back-propagation experiments."""

from inertia.nn._graph import GatedGraphNetwork as GatedGraphNetwork
from inertia.nn._graph import adjacency as adjacency
from inertia.nn._hopfield import HOPFIELD_VARIANTS as HOPFIELD_VARIANTS
from inertia.nn._hopfield import HopfieldNetwork as HopfieldNetwork
from inertia.nn._hopfield import HopfieldVariant as HopfieldVariant
from inertia.nn._language import LanguageRNN as LanguageRNN
from inertia.nn._leaky_rnn import leaky_rnn as leaky_rnn
from inertia.nn._polyphonic import NADE as NADE
from inertia.nn._polyphonic import OUTPUT_MODELS as OUTPUT_MODELS
from inertia.nn._polyphonic import PolyphonicRNN as PolyphonicRNN
from inertia.nn._rbm import EXACT_HIDDEN_LIMIT as EXACT_HIDDEN_LIMIT
from inertia.nn._rbm import RBM as RBM
from inertia.nn._recurrent import CELLS as CELLS
from inertia.nn._recurrent import CellName as CellName
from inertia.nn._recurrent import RecurrentNetwork as RecurrentNetwork

__all__ = [
    "CELLS",
    "EXACT_HIDDEN_LIMIT",
    "HOPFIELD_VARIANTS",
    "NADE",
    "OUTPUT_MODELS",
    "RBM",
    "CellName",
    "GatedGraphNetwork",
    "HopfieldNetwork",
    "HopfieldVariant",
    "LanguageRNN",
    "PolyphonicRNN",
    "RecurrentNetwork",
    "adjacency",
    "leaky_rnn",
]
