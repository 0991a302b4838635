"""Bad input through the CLI, generated (issue 18): every bad setting of every section and a set
of corrupt files must end in exit code 2 and one line that names the key or the file, with no
traceback, and no file of an existing run may change."""

from __future__ import annotations

import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Literal

import pytest

from inertia.cli import main
from inertia.experiments import OPTIMIZERS, ConfigError, RunConfig, from_mapping, parse_overrides
from inertia.tasks import TASKS


def _sections() -> list[tuple[str, str, type]]:
    """(prefix, section choice, options class) for the run, each task and each optimizer."""
    sections: list[tuple[str, str, type]] = [("", "", RunConfig)]
    sections += [("task.", f"--task={name}", task.Options) for name, task in TASKS.items()]
    sections += [
        ("optimizer.", f"--optimizer={name}", entry.options) for name, entry in OPTIMIZERS.items()
    ]
    return sections


def _bounds(field) -> dict[str, float]:
    return {
        key: getattr(item, key)
        for item in field.metadata
        for key in ("ge", "gt", "le", "lt")
        if getattr(item, key, None) is not None
    }


_NOT_A_NUMBER = ["many", "[1, 2]", "{a: 1}", "''"]
_NON_FINITE = ["inf", "-inf", "nan", ".inf", "1e999", "-1e999"]
_BOOLEANS = ["true", "false", "no", "yes", "on", "off"]


def out_of_domain(annotation, field) -> list[str]:
    """Values outside a setting's declared domain (its type and bounds), written as on the
    command line; derived from the declaration alone, not from what the validator accepts."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in (int, float):
        values = [*_NOT_A_NUMBER, *_BOOLEANS, *_NON_FINITE]
        if annotation is int:
            values += ["1.5", "-0.5", "1e-3"]
        bounds = _bounds(field)
        for key, bound in bounds.items():
            step = 1 if annotation is int else abs(bound) * 0.5 + 1e-3
            beyond = {"ge": bound - step, "gt": bound, "le": bound + step, "lt": bound}[key]
            values.append(repr(int(beyond)) if annotation is int else repr(float(beyond)))
            if key in ("le", "lt"):
                values.append(repr(10**30 if annotation is int else 1e300))  # huge
        return values
    if annotation is bool:
        return ["maybe", "2", "0.5", "[true]", "{a: 1}", "''"]
    if annotation is str:
        return ["[1, 2]", "{a: 1}"]
    if origin is Literal:
        if all(isinstance(value, str) for value in arguments):
            return ["not-a-choice", "''", "1", "true", "[1]"]
        return ["3", "0", "1.5", "true", "''", "one"]
    if origin is list:
        (item,) = arguments
        return ["many", "{a: 1}", *(f"[{value}]" for value in out_of_domain(item, field)[:12])]
    if origin in (typing.Union, types.UnionType):  # bool | None: any bad bool (not null)
        named = [argument for argument in arguments if argument is not type(None)]
        return [value for argument in named for value in out_of_domain(argument, field)]
    raise AssertionError(f"no generator for {annotation!r}: add one")


def bad_settings() -> list[tuple[list[str], str]]:
    """Every setting of every section with each value outside its domain, and an unknown key
    per section; each case with the key its error must name."""
    cases = []
    for prefix, choice, options in _sections():
        chosen = [choice] if choice else []
        for name, field in options.model_fields.items():
            if name == "name" or name in RunConfig.SECTIONS:
                continue
            if not prefix and name == "data_dir":
                continue  # `train --data_dir=X` is a path option (any text is a folder name)
            for value in out_of_domain(field.annotation, field):
                cases.append(([*chosen, f"--{prefix}{name}={value}"], f"{prefix}{name}"))
        cases.append(([*chosen, f"--{prefix}nonexistent_key=1"], f"{prefix}nonexistent_key"))
    return cases


def _accepted_by_the_validator(arguments: list[str]) -> bool:
    try:
        from_mapping(RunConfig, parse_overrides(arguments))
    except ConfigError:
        return False
    return True


CASES = bad_settings()


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def existing_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    assert main(["train", "--quiet", "--steps=10", "--eval_every=5", "--run-dir", str(folder)]) == 0
    return folder


def test_the_generator_covers_every_setting_and_more_than_the_validator_refused_before():
    """Issue 36: the old generator kept only the values the validator already refused, so a
    value it wrongly accepted (1e999, true for a number) could never fail it. The cases now come
    from the declared domains; these are among the ones only they hold."""
    assert len(CASES) >= 1500
    named = {key for _, key in CASES} | {"data_dir"}  # a path option: any text (see above)
    for prefix, _, options in _sections():
        for name in options.model_fields:
            if name != "name" and name not in RunConfig.SECTIONS:
                assert f"{prefix}{name}" in named
    arguments = {" ".join(case) for case, _ in CASES}
    for found_only_now in ("--optimizer=nag --optimizer.lr=1e999", "--steps=true",
                           "--optimizer=nag --optimizer.momentum=no", "--init_scale=inf",
                           "--optimizer=nag --optimizer.lr=on"):  # fmt: skip
        assert found_only_now in arguments


def test_no_generated_bad_value_is_accepted_by_the_config():
    accepted = [case for case, _ in CASES if _accepted_by_the_validator(case)]
    assert accepted == []


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


def _one_line_error(capsys, arguments: list[str]) -> str:
    code = main(["train", "--quiet", *arguments])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_a_finished_result_is_not_replaced_by_another_configuration(tmp_path, capsys):
    """Issue 36: a folder holding only a finished run's result, given --resume with another
    lr, trained from update 0 and replaced the result."""
    run = tmp_path / "finished"
    assert main(["train", "--quiet", "--steps=6", "--eval_every=3", "--run-dir", str(run)]) == 0
    (run / "checkpoint.pt").unlink()
    before = _fingerprint(run)
    err = _one_line_error(
        capsys, ["--steps=6", "--eval_every=3", "--optimizer.lr=0.5", "--run-dir", str(run),
                 "--resume"],
    )  # fmt: skip
    assert "result.json is the result of a different configuration" in err
    assert "optimizer.lr" in err
    assert _fingerprint(run) == before
    # the same configuration reads it back
    assert main(["train", "--quiet", "--steps=6", "--eval_every=3", "--run-dir", str(run),
                 "--resume"]) == 0  # fmt: skip


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("tensor", "holds a Tensor, not a checkpoint that inertia wrote"),
        ("empty", "not a checkpoint that inertia wrote (no config, step, model"),
        ("no-model", "not a checkpoint that inertia wrote (no model)"),
        ("pickle", "not a checkpoint that inertia wrote (it cannot be loaded"),
        ("wrong-model", "does not fit this run's model and optimizer"),
    ],
)
def test_checkpoints_inertia_did_not_write_are_named_in_our_words(tmp_path, capsys, content, says):
    import pickle

    import torch

    run = tmp_path / "run"
    assert main(["train", "--quiet", "--steps=6", "--eval_every=3", "--checkpoint_every=3",
                 "--run-dir", str(run)]) == 0  # fmt: skip
    (run / "result.json").unlink()
    path = run / "checkpoint.pt"
    saved = torch.load(path, weights_only=True)
    if content == "tensor":
        torch.save(torch.zeros(3), path)
    elif content == "empty":
        torch.save({}, path)
    elif content == "no-model":
        torch.save({key: value for key, value in saved.items() if key != "model"}, path)
    elif content == "pickle":
        path.write_bytes(pickle.dumps(Path("a/path")))  # a class torch will not unpickle
    else:
        torch.save({**saved, "model": {"weight": torch.zeros(2)}}, path)
    before = path.read_bytes()
    err = _one_line_error(capsys, ["--steps=6", "--eval_every=3", "--checkpoint_every=3",
                                   "--run-dir", str(run), "--resume"])  # fmt: skip
    assert says in err
    assert str(path) in err
    for torchs_own in (
        "Weights only load failed",
        "pop from empty list",
        "different configuration",
    ):
        assert torchs_own not in err
    assert path.read_bytes() == before


@pytest.mark.parametrize(("stored", "says"), [
    ("5", "it holds a int, not a mapping"),
    ('{"config": 5}', "its config is not a mapping of settings"),
])  # fmt: skip
def test_a_result_that_is_not_one_is_named(tmp_path, capsys, stored, says):
    run = tmp_path / "run"
    run.mkdir()
    (run / "result.json").write_text(stored)
    err = _one_line_error(capsys, ["--steps=6", "--run-dir", str(run), "--resume"])
    assert f"{run / 'result.json'} is not a run's result ({says})" in err


def test_extend_from_trains_a_finished_run_longer_and_names_what_it_refuses(tmp_path, capsys):
    short, longer = tmp_path / "short", tmp_path / "longer"
    common = ["--eval_every=5", "--checkpoint_every=5"]
    assert main(["train", "--quiet", "--steps=10", *common, "--run-dir", str(short)]) == 0
    assert main(["train", "--quiet", "--steps=20", *common, "--run-dir", str(longer),
                 "--extend-from", str(short)]) == 0  # fmt: skip
    capsys.readouterr()
    result = json.loads((longer / "result.json").read_text())
    assert result["steps_done"] == 20
    assert [point["step"] for point in result["curve"]] == [0, 5, 10, 15, 20]
    assert result["branched_wall_time_s"] > 0
    err = _one_line_error(capsys, ["--steps=30", *common, "--run-dir", str(short),
                                   "--extend-from", str(short)])  # fmt: skip
    assert "is the run folder itself" in err
    err = _one_line_error(capsys, ["--steps=30", "--optimizer.lr=0.5", *common, "--run-dir",
                                   str(tmp_path / "x"), "--extend-from", str(short)])  # fmt: skip
    assert "'optimizer.lr'" in err
    assert not (tmp_path / "x").exists()
