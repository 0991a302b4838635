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
