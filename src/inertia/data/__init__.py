"""Datasets: loaders that find, verify (SHA-256) and, where possible, download their files."""

from inertia.data._files import DataError as DataError
from inertia.data._files import DataFile as DataFile
from inertia.data._files import data_root as data_root
from inertia.data._files import locate as locate
from inertia.data._mnist import load_mnist as load_mnist

__all__ = ["DataError", "DataFile", "data_root", "load_mnist", "locate"]
