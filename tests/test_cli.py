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
