"""Bad input through the CLI, generated (issue 18): every bad setting of every section and a set
of corrupt files must end in exit code 2 and one line that names the key or the file, with no
traceback, and no file of an existing run may change."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from inertia.cli import main
from inertia.experiments import OPTIMIZERS, ConfigError, RunConfig, from_mapping, parse_overrides
from inertia.tasks import TASKS

BAD_VALUES = ["many", "[1, 2]", "{a: 1}", "-1", "-1e30", "1e999", "0.5", "true", "''", "-0.5"]


def _sections() -> list[tuple[str, str, list[str]]]:
    """(prefix, section choice, fields) for the run, each task and each optimizer."""
    sections = [("", "", [f for f in RunConfig.model_fields if f not in ("task", "optimizer")])]
    for name, task in TASKS.items():
        sections.append(("task.", f"--task={name}", [f for f in task.Options.model_fields
                                                      if f != "name"]))  # fmt: skip
    for name, entry in OPTIMIZERS.items():
        sections.append(("optimizer.", f"--optimizer={name}",
                         [f for f in entry.options.model_fields if f != "name"]))  # fmt: skip
    return sections


def bad_settings() -> list[tuple[list[str], str]]:
    """Overrides that RunConfig refuses, each with the key its error must name."""
    cases = []
    for prefix, choice, fields in _sections():
        for field in fields:
            for value in BAD_VALUES:
                arguments = [*([choice] if choice else []), f"--{prefix}{field}={value}"]
                try:
                    from_mapping(RunConfig, parse_overrides(arguments))
                except ConfigError:
                    cases.append((arguments, f"{prefix}{field}"))
        cases.append(([*([choice] if choice else []), f"--{prefix}nonexistent_key=1"],
                      f"{prefix}nonexistent_key"))  # fmt: skip
    return cases


CASES = bad_settings()


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def existing_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    assert main(["train", "--quiet", "--steps=10", "--eval_every=5", "--run-dir", str(folder)]) == 0
    return folder


def test_there_are_at_least_200_generated_bad_settings():
    assert len(CASES) >= 200


@pytest.mark.parametrize(("arguments", "key"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_bad_setting_is_one_line_naming_its_key(arguments, key, existing_run, capsys):
    before = _fingerprint(existing_run)
    code = main(["train", "--quiet", *arguments, "--run-dir", str(existing_run)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert key in lines[0] or key.split(".")[-1] in lines[0], lines[0]  # names the setting
    assert _fingerprint(existing_run) == before


def _corrupt_files(tmp_path: Path) -> list[tuple[list[str], Path, str]]:
    """(arguments, file, what the error names) for broken inputs."""
    config = tmp_path / "broken.yaml"
    config.write_text("optimizer: {name: nag\n")
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("optimiser: nag\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    return [
        (["--config", str(config)], config, str(config)),
        (["--config", str(listing)], listing, str(listing)),
        (["--config", str(unknown)], unknown, "optimiser"),
        (["--config", str(binary)], binary, str(binary)),
        (["--config", str(tmp_path / "missing.yaml")], tmp_path / "missing.yaml", "missing.yaml"),
    ]


def test_corrupt_run_files_and_config_files_are_named(tmp_path, capsys):
    for arguments, _, named in _corrupt_files(tmp_path):
        code = main(["train", "--quiet", *arguments, "--run-dir", str(tmp_path / "run")])
        err = capsys.readouterr().err
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1, err
        assert named in err, err
    run = tmp_path / "corrupt-run"
    assert main(["train", "--quiet", "--steps=10", "--eval_every=5", "--checkpoint_every=5",
                 "--run-dir", str(run)]) == 0  # fmt: skip
    capsys.readouterr()
    broken = {"checkpoint.pt": b"\x00" * 50, "result.json": b"{nope"}
    for name, content in broken.items():
        (run / name).write_bytes(content)
        if name == "checkpoint.pt":
            (run / "result.json").unlink(missing_ok=True)
        code = main(["train", "--quiet", "--steps=10", "--eval_every=5", "--checkpoint_every=5",
                     "--run-dir", str(run), "--resume"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2, err
        assert str(run / name) in err
        assert (run / name).read_bytes() == content  # left as it was, for the user to look at
        (run / name).unlink()
