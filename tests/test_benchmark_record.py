"""``python -m benchmarks.run --record``: the committed benchmark evidence is what the benchmarks
printed, with where it came from (issue 19)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """benchmarks.run with one fake benchmark, ``fake``, that prints a table and writes JSON."""
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fake_benchmark.py").write_text(
        textwrap.dedent(
            """
            from benchmarks._harness import print_table, write_result

            import torch

            def main(argv):
                torch.set_num_threads(1)
                print_table(("candidate", "time / reference"), [("ours", "0.950")])
                path = write_result("fake_cpu", {"argv": argv, "ratio": 0.95})
                print(f"wrote {path}")
            """
        )
    )
    from benchmarks import _harness, run

    monkeypatch.setitem(run.BENCHMARKS, "fake", "fake_benchmark")
    threads = torch.get_num_threads()
    yield run, _harness
    sys.modules.pop("fake_benchmark", None)
    torch.set_num_threads(threads)  # the fake benchmark sets 1


def test_record_keeps_printed_tables_json_and_provenance(runner, tmp_path, capsys):
    run, harness = runner
    default_dir = harness.RESULTS_DIR
    threads = torch.get_num_threads()
    record = tmp_path / "record"
    run.main(["fake", "--record", str(record), "--", "--rounds", "3"])

    text = (record / "README.md").read_text()
    assert text.startswith("# Benchmark record record\n")
    assert "## fake" in text
    assert "| ours      | 0.950            |" in text  # the printed table, verbatim
    assert "wrote " not in text  # the JSON's path is not part of the evidence
    assert "commit " in text
    assert "hardware: " in text
    assert "wall time: " in text
    assert "started: " in text
    assert "`python -m benchmarks.run fake --record" in text
    payload = json.loads((record / "fake_cpu.json").read_text())
    assert payload["argv"] == ["--device", "cpu", "--rounds", "3"]
    assert "git_commit" in payload["environment"]
    assert default_dir == harness.RESULTS_DIR  # restored for later runs
    assert "0.950" in capsys.readouterr().out  # still shown on the terminal
    # the environment is the one before the benchmarks ran (the fake one sets 1 thread)
    assert f", {threads} torch threads at the start" in text


def test_without_record_results_go_to_the_default_folder(runner, tmp_path, monkeypatch):
    run, harness = runner
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path / "default")
    run.main(["fake"])
    assert (tmp_path / "default" / "fake_cpu.json").exists()
    assert not (tmp_path / "default" / "README.md").exists()


def test_record_onto_a_file_is_a_one_line_error(runner, tmp_path, capsys):
    run, _ = runner
    target = tmp_path / "taken"
    target.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        run.main(["fake", "--record", str(target)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"--record {target}: exists and is not a folder" in error
    assert not (tmp_path / "fake_cpu.json").exists()


def test_a_failing_benchmark_is_recorded_and_the_others_still_run(runner, tmp_path):
    run, _ = runner
    (tmp_path / "broken_benchmark.py").write_text(
        "def main(argv):\n"
        "    print('half a table')\n"
        "    raise ZeroDivisionError('float division by zero')\n"
    )
    run.BENCHMARKS["broken"] = "broken_benchmark"
    record = tmp_path / "record"
    try:
        with pytest.raises(SystemExit) as exit_info:
            run.main(["broken", "fake", "--record", str(record)])
    finally:
        del run.BENCHMARKS["broken"]
        sys.modules.pop("broken_benchmark", None)
    assert exit_info.value.code == "benchmarks.run: broken failed (traceback above)"
    text = (record / "README.md").read_text()
    assert "half a table\n\nFAILED: ZeroDivisionError: float division by zero" in text
    assert "| ours      | 0.950            |" in text  # the benchmark after it ran
    assert (record / "fake_cpu.json").exists()
