"""Datasets: loaders that find, verify (SHA-256) and, where possible, download their files."""

from inertia.data._curves import generate_curves as generate_curves
from inertia.data._curves import load_curves as load_curves
from inertia.data._faces import generate_faces as generate_faces
from inertia.data._faces import load_faces as load_faces
from inertia.data._faces import load_olivetti as load_olivetti
from inertia.data._files import DataError as DataError
from inertia.data._files import DataFile as DataFile
from inertia.data._files import data_root as data_root
from inertia.data._files import locate as locate
from inertia.data._long_term import LONG_TERM_PROBLEMS as LONG_TERM_PROBLEMS
from inertia.data._long_term import LongTermProblem as LongTermProblem
from inertia.data._long_term import SequenceBatch as SequenceBatch
from inertia.data._mnist import load_mnist as load_mnist
from inertia.data._planetoid import PLANETOID_DATASETS as PLANETOID_DATASETS
from inertia.data._planetoid import CitationGraph as CitationGraph
from inertia.data._planetoid import load_planetoid as load_planetoid

__all__ = [
    "LONG_TERM_PROBLEMS",
    "PLANETOID_DATASETS",
    "CitationGraph",
    "DataError",
    "DataFile",
    "LongTermProblem",
    "SequenceBatch",
    "data_root",
    "generate_curves",
    "generate_faces",
    "load_curves",
    "load_faces",
    "load_mnist",
    "load_olivetti",
    "load_planetoid",
    "locate",
]
