from __future__ import annotations

import subprocess
import sys

import pytest

from inertia.cli import main


def test_demo_writes_figures_sweep_report_and_summary(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--protocol", "toy", "--workers", "1"]) == 0
    for name in (
        "cm_vs_nag_oblong_quadratic.png",
        "quadratic_learning_curves.png",
        "toy-quick/learning_curves.png",
    ):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    summary = (out / "README.md").read_text()
    assert "| NAG |" in summary
    assert "| toy-regression |" in summary
    assert (out / "toy-quick" / "index.html").exists()
    printed = capsys.readouterr().out
    assert str(out.resolve()) in printed
    # the last line is the report command that works after the demo (issue 36)
    last = printed.strip().splitlines()[-1]
    assert last == f"Report again: inertia report toy --budget quick --runs-dir {out / 'runs'}"
    command = last.removeprefix("Report again: inertia ").split()
    assert main([*command, "--out", str(tmp_path / "again")]) == 0
    front = (out / "index.html").read_text()  # the front page links every figure and report
    for target in ("cm_vs_nag_oblong_quadratic.png", "quadratic_learning_curves.png",
                   "toy-quick/index.html", "toy-quick/learning_curves.png",
                   "toy-quick/table.json", "README.md"):  # fmt: skip
        assert f'"{target}"' in front, target
        assert (out / target).exists(), target


def test_demo_reports_unwritable_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["demo", "--out", str(blocker / "sub")]) == 2
    assert f"{blocker} is not a writable folder" in capsys.readouterr().err


def test_console_script_help_and_bad_command():
    ok = subprocess.run(
        [sys.executable, "-m", "inertia.cli", "--help"], capture_output=True, text=True
    )
    assert ok.returncode == 0
    assert "demo" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "inertia.cli", "nonsense"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "invalid choice: 'nonsense'" in bad.stderr


def test_tasks_lists_every_setting_generated_from_the_config_types(capsys):
    from inertia.cli import main
    from inertia.experiments import OPTIMIZERS, RunConfig
    from inertia.protocols import PROTOCOLS
    from inertia.tasks import TASKS

    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "  steps: int, >= 1 = 1000\n" in out
    assert "      task.cell: tanh | relu | leaky-tanh | leaky-relu | lstm = 'tanh'\n" in out
    assert "      optimizer.momentum: float, >= 0 and < 1 = 0.9\n" in out
    for name, task in TASKS.items():
        for field in task.Options.model_fields:
            assert field == "name" or f"task.{field}:" in out, (name, field)
    for entry in OPTIMIZERS.values():
        for field in entry.options.model_fields:
            assert field == "name" or f"optimizer.{field}:" in out
    for field in RunConfig.model_fields:
        assert field in ("task", "optimizer") or f"  {field}:" in out
    for name, protocol in PROTOCOLS.items():
        assert f"  {name}: {protocol.title}\n" in out


@pytest.mark.subprocess
def test_tasks_is_read_back_from_the_cache_without_importing_torch(tmp_path):
    """Issue 18: `inertia tasks` in well under a second once generated: the listing is kept
    under a fingerprint of the sources and printed without importing torch or any task."""
    import os

    probe = ("import sys; from inertia.cli import main; code = main(['tasks']); "
             "print('TORCH' if 'torch' in sys.modules else 'NO TORCH', file=sys.stderr); "
             "sys.exit(code)")  # fmt: skip
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
            for _ in range(2)]  # fmt: skip
    assert [run.returncode for run in runs] == [0, 0]
    assert [run.stderr.strip() for run in runs] == ["TORCH", "NO TORCH"]  # generated, then read
    assert runs[0].stdout == runs[1].stdout
    assert "protocols (inertia sweep NAME" in runs[1].stdout
    (cached,) = (tmp_path / "cache" / "inertia").glob("tasks-*.txt")
    assert cached.read_text() == runs[0].stdout
    # Where the cache cannot be written, the listing is printed all the same.
    blocked = {**os.environ, "XDG_CACHE_HOME": str(cached)}  # a file, not a folder
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=blocked)
    assert run.returncode == 0
    assert run.stdout == runs[0].stdout


def test_tasks_listing_is_regenerated_when_the_sources_change(monkeypatch, capsys):
    from inertia import _listing, cli

    assert cli.main(["tasks"]) == 0
    first = capsys.readouterr().out
    stale = _listing._listing_cache()
    stale.write_text("an old listing\n")
    assert cli.main(["tasks"]) == 0
    assert capsys.readouterr().out == "an old listing\n"  # read back while the sources match
    monkeypatch.setattr(_listing, "_listing_fingerprint", lambda: "changed")
    assert cli.main(["tasks"]) == 0
    assert capsys.readouterr().out == first  # another fingerprint: generated anew


def test_train_help_lists_every_setting(capsys):
    import pytest

    from inertia.cli import main

    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "  steps: int, >= 1 = 1000\n" in out
    assert "    optimizer.momentum: float, >= 0 and < 1 = 0.9\n" in out
    assert "    task.problem: addition | " in out


# Issue 36: commands that are refused, each with what its one-line error must say. Before the
# fix, `tune --sampler foo` left runs/sweeps.db, `demo --workers 0` both quadratic PNGs, a
# train refused for missing data an empty run folder with .lock, and `report` on a 0-byte
# sweeps.db wrote Optuna's schema into it.
REFUSED = [
    (["tune", "--search", "optimizer.lr=log:1e-3:1e-1", "--sampler", "foo"], "--sampler"),
    (["tune", "--search", "batch_size=int:1.5:3.5"], "whole-number bounds"),
    (["tune", "--search", "optimizer.lr=log:1e-3:inf"], "finite"),
    (["tune", "--search", "optimizer.lr=log:1e-3:1e-1", "--trials", "0"], "--trials"),
    (["demo", "--workers", "0"], "--workers must be >= 1"),
    (["demo", "--protocol", "nope"], "unknown protocol 'nope'"),
    (["train", "--run-dir="], "--run-dir is empty"),
    (["train", "--config="], "--config is empty"),
    (["sweep", "toy", "--runs-dir="], "--runs-dir is empty"),
    (
        [
            "train",
            "--task=autoencoder",
            "--task.dataset=mnist",
            "--data-dir",
            "missing-data",
            "--run-dir",
            "run",
        ],
        "train-images-idx3-ubyte not found",
    ),
    (["report", "toy", "--runs-dir", "nowhere"], "no sweep store"),
    (["train", "--steps=true"], "'steps' must be a number, not a boolean"),
    (["sweep", "toy", "--budget", "nope"], "has budgets"),
    (["sweep", "toy", "--workers", "0"], "workers must be >= 1"),
    (["sweep", "toy", "--heartbeat", "0"], "heartbeat (0 s) must be >= 1"),
    (["sweep", "toy", "--restore-from", "nowhere"], "--restore-from nowhere: no such file"),
    (["report", "toy", "--from-archive", "nowhere"], "--from-archive nowhere: no such file"),
    (["report", "toy", "--from-archive", "r", "--runs-dir", "x"], "drop --storage and --runs-dir"),
    (["tune", "--search", "optimizer.lr=log:1e-3:1e-1", "--workers", "0"], "workers must be"),
]


@pytest.mark.parametrize(("arguments", "says"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_a_refused_command_leaves_no_file(arguments, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INERTIA_DATA", str(tmp_path / "missing-data"))
    code = main(arguments)
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert len(err.strip().splitlines()) == 1, err
    assert says in err
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_report_refuses_a_store_that_is_not_one_and_leaves_it_alone(tmp_path, capsys):
    store = tmp_path / "sweeps.db"
    for content, says in ((b"", "is empty (0 bytes)"), (b"hello", "is not an SQLite database")):
        store.write_bytes(content)
        assert (
            main(["report", "toy", "--runs-dir", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
        )
        assert says in capsys.readouterr().err
        assert store.read_bytes() == content  # no schema written into it
        assert not (tmp_path / "r").exists()


def test_report_out_must_be_a_folder_it_can_write(tmp_path, capsys):
    assert main(["sweep", "toy", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    capsys.readouterr()
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    assert main(["report", "toy", "--runs-dir", str(tmp_path), "--out", str(blocker)]) == 2
    assert f"--out {blocker} is a file; give a folder" in capsys.readouterr().err
    assert blocker.read_text() == "mine"
    assert main(["report", "toy", "--runs-dir", str(tmp_path), "--out", str(blocker / "x")]) == 2
    assert "is not a writable folder" in capsys.readouterr().err


def test_report_from_archive_writes_the_same_report_without_the_runs(tmp_path, capsys):
    """A committed report can be written again from its runs.json once its runs folder is
    gone: the same table and cells; an archive of another budget, or one holding a run the
    budget no longer plans, is refused in one line naming the option and nothing is written."""
    import json
    import shutil

    runs, first, again = tmp_path / "runs", tmp_path / "first", tmp_path / "again"
    assert main(["sweep", "toy", "--runs-dir", str(runs), "--quiet"]) == 0
    assert main(["report", "toy", "--runs-dir", str(runs), "--out", str(first)]) == 0
    shutil.rmtree(runs)
    assert main(["report", "toy", "--from-archive", str(first), "--out", str(again)]) == 0
    capsys.readouterr()

    def table(folder):
        return [line for line in (folder / "table.md").read_text().splitlines()
                if "report generated" not in line]  # fmt: skip

    assert table(again) == table(first)
    cells = [json.loads((f / "table.json").read_text())["cells"] for f in (first, again)]
    assert cells[0] == cells[1]
    assert len(cells[0]) == 1
    assert (again / "runs.json").read_text() == (first / "runs.json").read_text()

    refused = tmp_path / "refused"
    arguments = ["report", "toy", "--from-archive", str(first), "--out", str(refused)]
    assert main([*arguments[:2], "--budget", "paper", *arguments[2:]]) == 2
    err = capsys.readouterr().err
    assert f"--from-archive {first / 'runs.json'} holds the runs of toy --budget quick" in err
    archive = json.loads((first / "runs.json").read_text())
    archive["runs"][0]["key"] = "a-run-nobody-plans"
    (first / "runs.json").write_text(json.dumps(archive))
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "1 of its 4 runs are not in toy --budget quick as it stands" in err
    assert not refused.exists()


def test_train_takes_data_dir_in_both_spellings(tmp_path, capsys):
    import json

    for spelling in ("--data-dir", "--data_dir"):
        run = tmp_path / spelling
        assert main(["train", "--quiet", "--steps=2", spelling, str(tmp_path / "d"),
                     "--run-dir", str(run)]) == 0  # fmt: skip
        stored = json.loads((run / "result.json").read_text())["config"]
        assert stored["data_dir"] == str(tmp_path / "d")
    assert main(["train", "--quiet", "--steps=2", f"--data_dir={tmp_path / 'e'}",
                 "--run-dir", str(tmp_path / "eq")]) == 0  # fmt: skip


def test_tune_whose_trials_all_fail_says_why(tmp_path, capsys):
    code = main(["tune", "--search", "optimizer.momentum=float:1.5:3.5", "--trials", "2",
                 "--steps=2", "--runs-dir", str(tmp_path), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert "none of its 2 trials completed; the first: config key 'optimizer.momentum'" in err
    assert "Traceback" not in err
    assert "Record does not exist" not in err


def test_postgresql_without_its_driver_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # as if not installed
    code = main(["sweep", "toy", "--runs-dir", str(tmp_path),
                 "--storage", "postgresql://user@127.0.0.1/inertia"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "needs psycopg2, not installed: pip install 'inertia[postgres]'" in err


def test_a_bare_postgresql_url_uses_the_driver_the_extra_installs():
    from inertia.experiments._sweep import _with_driver

    assert _with_driver("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert _with_driver("postgres://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert _with_driver("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert _with_driver("sqlite:///x.db") == "sqlite:///x.db"


def test_a_sweep_without_its_data_is_one_line_without_optunas_traceback(tmp_path, capsys):
    code = main(["sweep", "mnist-classification", "--runs-dir", str(tmp_path / "runs"),
                 "--data-dir", str(tmp_path / "missing"), "--quiet"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    assert "failed with value None" not in captured.err
    assert captured.err.count("train-images-idx3-ubyte not found") == 1
