"""Datasets: loaders that find, verify (SHA-256) and, where possible, download their files."""

from inertia.data._curves import generate_curves as generate_curves
from inertia.data._curves import load_curves as load_curves
from inertia.data._faces import generate_faces as generate_faces
from inertia.data._faces import load_faces as load_faces
from inertia.data._faces import load_olivetti as load_olivetti
from inertia.data._files import DataError as DataError
from inertia.data._files import DataFile as DataFile
from inertia.data._files import DataNotFound as DataNotFound
from inertia.data._files import data_root as data_root
from inertia.data._files import locate as locate
from inertia.data._long_term import LONG_TERM_PROBLEMS as LONG_TERM_PROBLEMS
from inertia.data._long_term import LOSS_REDUCTIONS as LOSS_REDUCTIONS
from inertia.data._long_term import RENAMED as RENAMED
from inertia.data._long_term import TOLERANCE as LONG_TERM_TOLERANCE
from inertia.data._long_term import LongTermProblem as LongTermProblem
from inertia.data._long_term import LossReduction as LossReduction
from inertia.data._long_term import SequenceBatch as SequenceBatch
from inertia.data._mnist import load_mnist as load_mnist
from inertia.data._music import MUSIC_DATASETS as MUSIC_DATASETS
from inertia.data._music import MusicDatasetName as MusicDatasetName
from inertia.data._music import load_music as load_music
from inertia.data._music import rolls_from_notes as rolls_from_notes
from inertia.data._planetoid import PLANETOID_DATASETS as PLANETOID_DATASETS
from inertia.data._planetoid import CitationGraph as CitationGraph
from inertia.data._planetoid import PlanetoidName as PlanetoidName
from inertia.data._planetoid import load_planetoid as load_planetoid
from inertia.data._ptb import EOS as EOS
from inertia.data._ptb import TokenizedCorpus as TokenizedCorpus
from inertia.data._ptb import load_ptb as load_ptb

__all__ = [
    "EOS",
    "LONG_TERM_PROBLEMS",
    "LONG_TERM_TOLERANCE",
    "LOSS_REDUCTIONS",
    "MUSIC_DATASETS",
    "PLANETOID_DATASETS",
    "RENAMED",
    "CitationGraph",
    "DataError",
    "DataFile",
    "DataNotFound",
    "LongTermProblem",
    "LossReduction",
    "MusicDatasetName",
    "PlanetoidName",
    "SequenceBatch",
    "TokenizedCorpus",
    "data_root",
    "generate_curves",
    "generate_faces",
    "load_curves",
    "load_faces",
    "load_mnist",
    "load_music",
    "load_olivetti",
    "load_planetoid",
    "load_ptb",
    "locate",
    "rolls_from_notes",
]
