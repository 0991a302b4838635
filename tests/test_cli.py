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
    assert str(out.resolve()) in capsys.readouterr().out
    front = (out / "index.html").read_text()  # the front page links every figure and report
    for target in ("cm_vs_nag_oblong_quadratic.png", "quadratic_learning_curves.png",
                   "toy-quick/index.html", "toy-quick/learning_curves.png",
                   "toy-quick/table.json", "README.md"):  # fmt: skip
        assert f'"{target}"' in front, target
        assert (out / target).exists(), target


def test_demo_reports_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit, match="cannot create output folder"):
        main(["demo", "--out", str(blocker / "sub")])


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
    from inertia import cli

    assert cli.main(["tasks"]) == 0
    first = capsys.readouterr().out
    stale = cli._listing_cache()
    stale.write_text("an old listing\n")
    assert cli.main(["tasks"]) == 0
    assert capsys.readouterr().out == "an old listing\n"  # read back while the sources match
    monkeypatch.setattr(cli, "_listing_fingerprint", lambda: "changed")
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
