"""The edges of the run folder, the checkpoint files and the sweep store (issue 18): each bad
case ends in a one-line error naming the folder, file or URL, and no run file is lost."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inertia.experiments import ConfigError, RunConfig, train

FAST = RunConfig(steps=20, eval_every=10, checkpoint_every=10, batch_size=64)
CLI = [sys.executable, "-m", "inertia.cli"]


def run_cli(*arguments: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *arguments], capture_output=True, text=True, cwd=cwd)


def one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_run_folder_that_cannot_hold_the_run_is_refused_before_training(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(ConfigError, match=f"run folder {afile} is a file"):
        train(FAST, afile)
    with pytest.raises(ConfigError, match="run folder /proc/inertia-run cannot be written"):
        train(FAST, "/proc/inertia-run")


def test_an_existing_run_is_neither_overwritten_nor_silently_resumed(tmp_path):
    first = train(FAST, tmp_path)
    before = (tmp_path / "result.json").read_bytes()
    with pytest.raises(ConfigError, match=r"already holds a run.*--resume.*--overwrite"):
        train(FAST, tmp_path)
    assert (tmp_path / "result.json").read_bytes() == before  # untouched
    assert train(FAST, tmp_path, resume=True) == first
    again = train(FAST.replace(steps=10), tmp_path, overwrite=True)
    assert again.steps_done == 10


def test_stale_temporary_files_of_a_killed_write_are_removed(tmp_path):
    train(FAST, tmp_path)
    stale = [tmp_path / ".checkpoint.pt.abc123", tmp_path / ".result.json.def456",
             tmp_path / ".snapshot-7.pt.ghi789"]  # fmt: skip
    for path in stale:
        path.write_bytes(b"half a write")
    train(FAST, tmp_path, resume=True)
    assert not any(path.exists() for path in stale)


@pytest.mark.parametrize(
    "content", [b"random bytes, not a checkpoint", None], ids=["random", "truncated"]
)
def test_a_corrupt_checkpoint_is_named(tmp_path, content):
    train(FAST.replace(steps=30, checkpoint_every=10), tmp_path)
    (tmp_path / "result.json").unlink()
    checkpoint = tmp_path / "checkpoint.pt"
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(content if content is not None else data[: len(data) // 2])
    with pytest.raises(ConfigError, match=f"{checkpoint} is not a checkpoint that inertia wrote"):
        train(FAST.replace(steps=30, checkpoint_every=10), tmp_path, resume=True)


def test_an_invalid_result_file_is_named(tmp_path):
    (tmp_path / "result.json").write_text("{not json")
    with pytest.raises(ConfigError, match=f"{tmp_path / 'result.json'} is not a run's result"):
        train(FAST, tmp_path, resume=True)


def test_cli_resume_of_a_folder_without_a_run_is_an_error(tmp_path):
    done = run_cli("train", "--steps=5", "--run-dir", str(tmp_path / "typo"), "--resume")
    one_line_error(done, "--resume:", "typo", "holds no checkpoint.pt")
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--storage", "bogus://x"], "sweep store bogus://x cannot be opened"),
        (["--storage", "sqlite:////nonexistent/folder/s.db"], "cannot be opened"),
    ],
)
def test_bad_sweep_stores_are_one_line_errors(tmp_path, arguments, fragment):
    done = run_cli("sweep", "toy", "--runs-dir", str(tmp_path), *arguments)
    one_line_error(done, fragment)


def test_runs_dir_that_is_a_file_and_report_without_a_sweep(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    one_line_error(run_cli("sweep", "toy", "--runs-dir", str(afile)), "is a file")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run_cli("report", "toy", "--runs-dir", str(empty)), "no sweep store at")
    assert list(empty.iterdir()) == []  # no empty database left behind


@pytest.mark.subprocess
def test_two_sweeps_started_together_on_a_new_sqlite_store(tmp_path):
    # A grace of 10 heartbeats: with 3, one local run on a loaded machine failed, most likely
    # because a late heartbeat let the other sweep take a live run for a dead one.
    command = [*CLI, "sweep", "toy", "--runs-dir", str(tmp_path), "--quiet",
               "--heartbeat", "1", "--grace", "10"]  # fmt: skip
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [process.communicate(timeout=300) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert all("Traceback" not in err for _, err in outputs)
    report = run_cli("report", "toy", "--runs-dir", str(tmp_path), "--out", str(tmp_path / "r"))
    assert report.returncode == 0
    assert "(4 of 4 runs complete" in (tmp_path / "r" / "table.md").read_text().replace(
        "Provenance: ", "("
    )


@pytest.mark.subprocess
@pytest.mark.parametrize(("sent", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_stopping_a_sweep_says_how_to_continue_without_a_traceback(tmp_path, sent, code):
    import os
    import signal
    import time

    def like_a_terminal() -> None:
        # A shell running this suite in the background (CI under `&`, nohup) hands its
        # children an ignored SIGINT, and Python then never raises KeyboardInterrupt; a
        # sweep started from a terminal has the default disposition, so give it that.
        os.setsid()  # its own process group, which Ctrl-C reaches as a whole
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen(
        [*CLI, "sweep", "toy", "--budget", "paper", "--workers", "2", "--runs-dir", str(tmp_path),
         "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=like_a_terminal,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("toy-paper/*/checkpoint.pt")) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(process.pid, getattr(signal, sent))  # Ctrl-C reaches the whole group
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "Traceback" not in err
    assert "run the same command again to continue" in err
    assert "leaked semaphore" not in err  # the stopped workers unwound and released theirs


@pytest.mark.subprocess
def test_stopping_train_with_sigterm_says_how_to_continue_and_resumes(tmp_path):
    """Issue 36: SIGTERM during `inertia train` exited 143 with nothing on stderr, though
    docs/experiments.md promises the same message as for a sweep."""
    import signal
    import time

    run = tmp_path / "run"
    arguments = [*CLI, "train", "--quiet", "--steps=20000", "--eval_every=1000",
                 "--checkpoint_every=500", "--run-dir", str(run)]  # fmt: skip
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip() == (
        "inertia train: stopped by a signal; completed runs and the checkpoints of unfinished "
        "ones are kept: run the same command again to continue"
    )
    assert not list(run.glob(".*.tmp*"))  # no half-written checkpoint left behind
    resumed = subprocess.run([*arguments, "--resume"], capture_output=True, text=True,
                             timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "20000 updates" in resumed.stdout


def test_a_lost_worker_does_not_fail_a_sweep_whose_runs_all_completed(
    tmp_path, monkeypatch, capsys
):
    from inertia.experiments import SweepSettings, _sweep, default_storage
    from inertia.protocols import PROTOCOLS

    def one_worker_then_a_lost_one(target, arguments, workers, threads):
        target(*arguments, threads)  # this worker finishes every run...
        raise RuntimeError("1 worker process(es) failed (exit codes [-9])")  # ...one was killed

    monkeypatch.setattr(_sweep, "run_workers", one_worker_then_a_lost_one)
    settings = SweepSettings(storage=default_storage(tmp_path), runs_dir=str(tmp_path),
                             workers=2, progress=False)  # fmt: skip
    status = _sweep.run_sweep(PROTOCOLS["toy"], "quick", settings)
    assert status.done
    assert "every run completed all the same" in capsys.readouterr().out
