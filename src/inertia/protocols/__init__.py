"""Registered protocols (named grids that fill a table). ``inertia tasks`` lists them.

The registry is explicit: a protocol is available once listed in :data:`PROTOCOLS`.
"""

from inertia.experiments import Protocol
from inertia.protocols._bengio2012 import BENGIO2012, BENGIO2012_TEXT
from inertia.protocols._general import MNIST_CLASSIFICATION, TOY
from inertia.protocols._initialization import TABLE3_INIT
from inertia.protocols._labels import momentum_column
from inertia.protocols._liao2018 import CITATION, HOPFIELD, HYPERGRADIENT
from inertia.protocols._long_term import CLIPPING, TABLE5
from inertia.protocols._sutskever2013 import HF_MOMENTUM, TABLE1, TABLE2, TABLE3

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        TOY,
        MNIST_CLASSIFICATION,
        TABLE1,
        TABLE2,
        TABLE3,
        TABLE3_INIT,
        HF_MOMENTUM,
        TABLE5,
        CLIPPING,
        CITATION,
        HOPFIELD,
        HYPERGRADIENT,
        BENGIO2012,
        BENGIO2012_TEXT,
    )
}

__all__ = ["PROTOCOLS", "momentum_column"]
