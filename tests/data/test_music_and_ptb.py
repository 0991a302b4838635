"""Polyphonic music rolls and Penn Treebank tokens: published counts, both music file forms,
checksums and clear errors."""

from __future__ import annotations

import pickle
import shutil

import pytest
import torch

from inertia.data import DataError, load_music, load_ptb, rolls_from_notes


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("jsb", [(229, 13807), (76, 4602), (77, 4725)]),
        ("nottingham", [(694, 176561), (173, 45513), (170, 44463)]),
        ("musedata", [(524, 245202), (135, 82755), (124, 64339)]),
        ("piano-midi", [(87, 75911), (12, 8540), (25, 19036)]),
    ],
)
def test_music_splits_have_the_published_sequence_and_step_counts(shared_data, name, counts):
    for split, (sequences, steps) in zip(("train", "valid", "test"), counts, strict=True):
        rolls = load_music(name, split, shared_data, download=False)
        assert len(rolls) == sequences
        assert sum(roll.shape[0] for roll in rolls) == steps
        assert all(roll.shape[1] == 88 and roll.dtype == torch.float32 for roll in rolls)
        assert set(torch.cat(rolls).unique().tolist()) <= {0.0, 1.0}


def test_jsb_chorales_are_four_voice(shared_data):
    rolls = load_music("jsb", "train", shared_data, download=False)
    voices = torch.cat(rolls).sum(dim=1)
    assert voices.max() == 4  # soprano, alto, tenor, bass; fewer where voices share a note
    assert (voices == 4).float().mean() > 0.8


def _as_original_pickle(rolls_by_split: dict[str, list[torch.Tensor]]) -> bytes:
    notes = {
        split: [[(torch.nonzero(row).squeeze(1) + 21).tolist() for row in roll] for roll in rolls]
        for split, rolls in rolls_by_split.items()
    }
    return pickle.dumps(notes, protocol=2)


def test_the_original_pickles_are_read_when_the_mat_file_is_absent(shared_data, tmp_path):
    splits = {
        s: load_music("jsb", s, shared_data, download=False) for s in ("train", "valid", "test")
    }
    folder = tmp_path / "polyphonic_music"
    folder.mkdir()
    (folder / "JSB Chorales.pickle").write_bytes(_as_original_pickle(splits))
    for split, rolls in splits.items():
        loaded = load_music("jsb", split, tmp_path, download=False)
        assert len(loaded) == len(rolls)
        assert all(torch.equal(a, b) for a, b in zip(loaded, rolls, strict=True))


def test_a_pickle_with_code_is_refused(tmp_path):
    folder = tmp_path / "polyphonic_music"
    folder.mkdir()
    (folder / "Nottingham.pickle").write_bytes(pickle.dumps({"train": [[shutil.rmtree]]}))
    with pytest.raises(DataError, match=r"refusing to load shutil\.rmtree"):
        load_music("nottingham", "train", tmp_path, download=False)


def test_missing_and_corrupt_music_files_are_named(shared_data, tmp_path):
    with pytest.raises(DataError, match=r"MuseData\.mat not found .*polyphonic_music"):
        load_music("musedata", "train", tmp_path, download=False)
    folder = tmp_path / "polyphonic_music"
    folder.mkdir()
    content = (shared_data / "polyphonic_music" / "Piano_midi.mat").read_bytes()
    (folder / "Piano_midi.mat").write_bytes(content[:-10] + b"0123456789")
    with pytest.raises(DataError, match=r"Piano_midi\.mat is corrupt: SHA-256"):
        load_music("piano-midi", "train", tmp_path, download=False)


def test_rolls_from_notes_checks_the_range():
    roll = rolls_from_notes([[21, 108], [], [60]])
    assert roll.shape == (3, 88)
    assert torch.nonzero(roll).tolist() == [[0, 0], [0, 87], [2, 39]]
    with pytest.raises(DataError, match=r"MIDI note 20 at step 0 is outside 21\.\.108"):
        rolls_from_notes([[20]])


def test_bad_music_arguments():
    with pytest.raises(ValueError, match="music dataset must be one of"):
        load_music("bach")
    with pytest.raises(ValueError, match="music split must be one of"):
        load_music("jsb", "validation")


@pytest.mark.parametrize(
    ("level", "counts", "types"),
    [("word", (929_589, 73_760, 82_430), 10_000), ("char", (5_017_483, 393_043, 442_424), 50)],
)
def test_ptb_token_counts_and_vocabulary(shared_data, level, counts, types):
    for split, count in zip(("train", "valid", "test"), counts, strict=True):
        corpus = load_ptb(level, split, shared_data, download=False)
        assert corpus.ids.shape == (count,)
        assert len(corpus.vocabulary) == types
        assert corpus.ids.max() < types
    assert "<eos>" in corpus.vocabulary
    assert list(corpus.vocabulary) == sorted(corpus.vocabulary)


def test_ptb_tokens_follow_the_text(shared_data):
    words = load_ptb("word", "valid", shared_data, download=False)
    first = [words.vocabulary[i] for i in words.ids[:17].tolist()]
    sentence = "consumers may want to move their telephones a little closer to the tv set"
    assert first == [*sentence.split(" "), "<eos>", "<unk>", "<unk>"]
    chars = load_ptb("char", "valid", shared_data, download=False)
    assert "".join(chars.vocabulary[i] for i in chars.ids[:14].tolist()) == "consumers_may_"


def test_ptb_errors(tmp_path, shared_data):
    with pytest.raises(ValueError, match="PTB level must be"):
        load_ptb("byte")
    with pytest.raises(DataError, match=r"ptb\.char\.train\.txt not found"):
        load_ptb("char", "train", tmp_path, download=False)
    folder = tmp_path / "ptb"
    folder.mkdir()
    for split in ("train", "valid", "test"):
        source = shared_data / "ptb" / f"ptb.{split}.txt.gz"
        shutil.copy(source, folder / source.name)
    (folder / "ptb.test.txt").write_text("not ptb\n")  # found first, fails its checksum
    with pytest.raises(DataError, match=r"ptb\.test\.txt is corrupt"):
        load_ptb("word", "test", tmp_path, download=False)
