from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import optuna
import pytest

from inertia.experiments import ConfigError, load_checkpoint, train
from inertia.experiments._protocol import cell_folder
from inertia.experiments._report import _provenance_markdown, provenance
from inertia.experiments._sweep import (
    SweepSettings,
    completed_results,
    default_storage,
    open_study,
    run_sweep,
)
from inertia.protocols import PROTOCOLS

TOY = PROTOCOLS["toy"]


def settings_for(tmp_path, storage: str | None = None, workers: int = 1) -> SweepSettings:
    return SweepSettings(
        storage=storage or default_storage(tmp_path),
        runs_dir=str(tmp_path),
        workers=workers,
        heartbeat_s=1,
        grace_s=3,
        progress=False,
    )


def trial_states(study: optuna.Study) -> list[tuple[str, str]]:
    return [(t.state.name, t.params.get("cell", "")) for t in study.get_trials()]


def check_each_run_once(settings: SweepSettings, budget: str = "quick") -> None:
    study = open_study(TOY, budget, settings)
    complete = [cell for state, cell in trial_states(study) if state == "COMPLETE"]
    assert sorted(complete) == sorted(TOY.budget(budget).runs())  # every run, exactly once
    results = completed_results(study)
    assert len(results) == 4
    for cell, result in results.items():
        assert result.status == "completed"
        assert result.config == TOY.budget(budget).runs()[cell].to_dict()


def rerun_does_nothing(settings: SweepSettings) -> None:
    study = open_study(TOY, "quick", settings)
    before = len(study.get_trials())
    status = run_sweep(TOY, "quick", settings)
    assert status.done
    assert len(open_study(TOY, "quick", settings).get_trials()) == before


@pytest.mark.parametrize("workers", [1, 2])
def test_sqlite_sweep_runs_each_cell_once_and_rerun_does_nothing(tmp_path, workers):
    settings = settings_for(tmp_path, workers=workers)
    status = run_sweep(TOY, "quick", settings)
    assert status.done
    check_each_run_once(settings)
    rerun_does_nothing(settings)


@pytest.mark.parametrize(("workers", "threads"), [(1, 1), (2, 2)])
def test_threads_per_worker_can_be_set(tmp_path, workers, threads):
    """By default the workers share the cores (cores // workers threads each); ``threads`` sets
    it, e.g. one thread for a sweep that shares the machine with other work. Each run records
    its torch threads in its hardware line."""
    settings = dataclasses.replace(settings_for(tmp_path, workers=workers), threads=threads)
    assert run_sweep(TOY, "quick", settings).done
    for result in completed_results(open_study(TOY, "quick", settings)).values():
        assert result.environment["hardware"].endswith(f", {threads} torch threads")
    default = settings_for(tmp_path, workers=workers)
    assert default.threads_per_worker == max(1, (os.cpu_count() or 1) // workers)
    with pytest.raises(ConfigError, match="threads must be >= 0"):
        dataclasses.replace(default, threads=-1)


def test_a_run_another_sweep_finished_is_reused_not_trained_again(tmp_path, capsys):
    """Table2's medium runs are table1's: a sweep copies the finished result of a run with the
    same configuration from another sweep's folder instead of training it again."""
    settings = dataclasses.replace(settings_for(tmp_path), progress=True)
    assert run_sweep(TOY, "quick", settings).done
    first = completed_results(open_study(TOY, "quick", settings))
    twin = dataclasses.replace(TOY, name="toy-again")
    assert run_sweep(twin, "quick", settings).done
    assert capsys.readouterr().out.count("its result is reused") == 4
    again = completed_results(open_study(twin, "quick", settings))
    assert again.keys() == first.keys()
    for cell, result in again.items():  # the same result, naming the folder that trained it
        assert result.reused_from == f"toy-quick/{cell_folder(cell)}"
        assert dataclasses.replace(result, reused_from="") == first[cell]
        # copied, never trained: no checkpoint in the second sweep's folders
        assert (tmp_path / "toy-again-quick" / cell_folder(cell) / "result.json").exists()
        assert not (tmp_path / "toy-again-quick" / cell_folder(cell) / "checkpoint.pt").exists()
    # A copy of a copy still names the run that was trained ("toy-again-quick" is found first).
    third = dataclasses.replace(TOY, name="toy-third")
    assert run_sweep(third, "quick", settings).done
    assert capsys.readouterr().out.count("toy-quick/") == 4
    assert {
        r.reused_from for r in completed_results(open_study(third, "quick", settings)).values()
    } == {f"toy-quick/{cell_folder(cell)}" for cell in first}
    # A report counts the copied runs' training time apart, not as this sweep's.
    facts = provenance(twin, "quick", again)
    assert (facts["runs_complete"], facts["runs_reused"], facts["wall_time_s"]) == (4, 4, 0)
    assert facts["reused_wall_time_s"] == pytest.approx(sum(r.wall_time_s for r in first.values()))
    assert (
        "0.00 h of training in total by this sweep; 4 of the runs are identical runs of "
        "other sweeps" in _provenance_markdown(facts)
    )
    assert provenance(TOY, "quick", first)["runs_reused"] == 0
    # A run that differs in any setting is trained.
    quick = TOY.budget("quick")
    smaller = dataclasses.replace(quick, base={**quick.base, "batch_size": 32})
    other = dataclasses.replace(TOY, name="toy-other", budgets={"quick": smaller})
    assert run_sweep(other, "quick", settings).done
    assert "its result is reused" not in capsys.readouterr().out
    assert list((tmp_path / "toy-other-quick").glob("*/checkpoint.pt"))


def test_postgresql_sweep_with_two_workers(tmp_path, postgres_url):
    settings = settings_for(tmp_path, storage=postgres_url, workers=2)
    assert run_sweep(TOY, "quick", settings).done
    check_each_run_once(settings)
    rerun_does_nothing(settings)


KILLED_WORKER = """
import os, signal, sys
from inertia.cli import main
from inertia.experiments import _sweep

train = _sweep.train


def train_then_die(*args, on_evaluation=None, **kwargs):
    def report(step, metrics):
        on_evaluation(step, metrics)
        if step == 750:  # after the checkpoint at 500, before the one at 1000
            os.kill(os.getpid(), signal.SIGKILL)

    return train(*args, on_evaluation=report, **kwargs)


_sweep.train = train_then_die
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.subprocess
def test_killed_sweep_worker_is_retried_and_resumes_its_run(tmp_path):
    """SIGKILL the sweep's worker at update 750 of its first run; the next sweep retries the run
    from its checkpoint at update 500."""
    arguments = ["sweep", "toy", "--budget", "paper", "--runs-dir", str(tmp_path),
                 "--heartbeat", "1", "--grace", "3", "--quiet"]  # fmt: skip
    (tmp_path / "killed_worker.py").write_text(KILLED_WORKER)
    worker = subprocess.run(
        [sys.executable, str(tmp_path / "killed_worker.py"), *arguments], timeout=300
    )
    assert worker.returncode == -signal.SIGKILL
    (checkpoint,) = (tmp_path / "toy-paper").glob("*/checkpoint.pt")
    assert load_checkpoint(checkpoint)["step"] == 500
    killed_run = checkpoint.parent
    assert not (killed_run / "result.json").exists()
    command = [sys.executable, "-m", "inertia.cli", *arguments]

    settings = settings_for(tmp_path)
    study = open_study(TOY, "paper", settings)
    assert "RUNNING" in [state for state, _ in trial_states(study)]
    subprocess.run(command, check=True, timeout=300)

    states = trial_states(open_study(TOY, "paper", settings))
    assert sum(state == "FAIL" for state, _ in states) == 1  # the killed attempt
    check_each_run_once(settings, budget="paper")
    # The retried run resumed and still equals an uninterrupted run of the same config.
    cell = next(c for c in TOY.budget("paper").runs() if cell_folder(c) == killed_run.name)
    resumed = json.loads((killed_run / "result.json").read_text())
    whole = train(TOY.budget("paper").runs()[cell], tmp_path / "whole")
    assert resumed["curve"] == whole.curve


def test_cli_sweep_then_report(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "report"
    base = [sys.executable, "-m", "inertia.cli"]
    swept = subprocess.run(
        [*base, "sweep", "toy", "--runs-dir", str(runs)], capture_output=True, text=True, check=True
    )
    assert "4 of 4 runs complete" in swept.stdout
    again = subprocess.run(
        [*base, "sweep", "toy", "--runs-dir", str(runs)], capture_output=True, text=True, check=True
    )
    assert "nothing to do" in again.stdout
    reported = subprocess.run(
        [*base, "report", "toy", "--runs-dir", str(runs), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "| toy-regression |" in reported.stdout
    table = (out / "table.md").read_text()
    assert "no published numbers" in table
    assert "n/a" not in table
    assert (out / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "<table>" in (out / "index.html").read_text()
    # Committed evidence: the report with its provenance, and the results index.
    results = tmp_path / "results"
    subprocess.run([*base, "report", "toy", "--runs-dir", str(runs), "--results", str(results)],
                   capture_output=True, text=True, check=True)  # fmt: skip
    report = json.loads((results / "toy-quick" / "table.json").read_text())
    facts = report["provenance"]
    assert (facts["runs_planned"], facts["runs_complete"], facts["seeds"]) == (4, 4, [0, 1])
    assert len(facts["commits"]) == 1
    assert facts["hardware"]
    assert facts["wall_time_s"] == pytest.approx(sum(r["wall_time_s"] for r in facts["runs"]))
    stored = completed_results(open_study(TOY, "quick", settings_for(runs)))
    for run in facts["runs"]:
        assert run["final"] == stored[run["key"]].final
        assert (run["row"], run["column"]) == ("toy-regression", "0.9N")
    assert (
        "Provenance: 4 of 4 runs complete, seeds 0, 1;"
        in (results / "toy-quick" / "table.md").read_text()
    )
    index = (results / "README.md").read_text()
    assert "[Smoke test: NAG on the toy regression" in index
    assert "(toy-quick/table.md)" in index
    assert "| `quick` | 4/4 |" in index
    unknown = subprocess.run([*base, "sweep", "tablex"], capture_output=True, text=True)
    assert unknown.returncode == 2
    assert "unknown protocol 'tablex'" in unknown.stderr


SLEEPER = """
import os, time


def sleep(pid_file, threads):
    with open(pid_file, "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(600)
"""

DRIVER = """
import sys
import sleeper
from inertia.experiments._sweep import run_workers

if __name__ == "__main__":
    run_workers(sleeper.sleep, (sys.argv[1],), 2, 1)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.subprocess
def test_killing_a_sweep_stops_its_worker_processes(tmp_path):
    """A sweep stopped with SIGTERM (``kill``) takes its workers with it instead of leaving
    orphans that go on writing runs and the sweep database."""
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    (tmp_path / "driver.py").write_text(DRIVER)
    pid_file = tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    driver = subprocess.Popen([sys.executable, str(tmp_path / "driver.py"), str(pid_file)], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        not pid_file.exists() or len(pid_file.read_text().split()) < 2
    ):
        time.sleep(0.2)
    workers = [int(pid) for pid in pid_file.read_text().split()]
    assert len(workers) == 2
    assert all(_alive(pid) for pid in workers)
    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=60) != 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


SLOW_EXIT = """
import atexit, os, time


def finish(pid_file, threads):
    def exit_slowly():
        with open(pid_file, "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(3)

    atexit.register(exit_slowly)
"""

SLOW_EXIT_DRIVER = DRIVER.replace("sleeper.sleep", "slow_exit.finish").replace(
    "import sleeper", "import slow_exit"
)


@pytest.mark.subprocess
def test_a_signal_while_workers_exit_leaves_no_traceback(tmp_path):
    """Ctrl-C or ``kill`` reaching the whole group while the workers are already exiting (the
    parent then terminates them once more) must not interrupt their exit handlers with a
    traceback (CI saw one from a worker in weakref's atexit hook)."""
    (tmp_path / "slow_exit.py").write_text(SLOW_EXIT)
    (tmp_path / "driver.py").write_text(SLOW_EXIT_DRIVER)
    pid_file = tmp_path / "pids"
    driver = subprocess.Popen(
        [sys.executable, str(tmp_path / "driver.py"), str(pid_file)],
        env={**os.environ, "PYTHONPATH": str(tmp_path)}, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        not pid_file.exists() or len(pid_file.read_text().split()) < 2
    ):
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGTERM)  # both workers are inside their exit handlers
    _, err = driver.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err


def test_progress_counts_complete_runs_whole_and_running_runs_to_their_last_evaluation(tmp_path):
    from inertia.experiments._sweep import SweepProgress

    settings = settings_for(tmp_path)
    progress = SweepProgress(TOY, "quick", settings, enabled=False)
    study = open_study(TOY, "quick", settings)
    assert progress.measure(study) == (0, 0, 0)
    cells = list(TOY.budget("quick").plan())
    running = study.ask({"cell": optuna.distributions.CategoricalDistribution(cells)})
    running.report(0.5, 50)  # halfway through its 100 updates
    assert progress.measure(study) == (50, 0, 1)
    study.tell(running, 0.1)
    assert progress.measure(study) == (100, 1, 0)
    run_sweep(TOY, "quick", settings)
    assert progress.measure(open_study(TOY, "quick", settings)) == (400, 4, 0)


def test_a_fine_tuned_twin_starts_from_its_plain_runs_snapshot(tmp_path):
    """Table 2's pairs: whichever member a worker draws, the plain run is trained once (keeping
    a snapshot), the fine-tuned twin continues from the snapshot, and both results equal runs
    trained apart."""
    from inertia.experiments import Block, Budget, Protocol, RunConfig
    from inertia.experiments._trainer import snapshot_name

    nag = {"name": "nag", "momentum": 0.99, "momentum_schedule": "sutskever", "momentum_period": 5}
    protocol = Protocol(
        name="pairs",
        title="pairs",
        budgets={"quick": Budget(
            about="before and after fine-tuning",
            base={"task": "toy-regression", "optimizer": nag, "steps": 40, "eval_every": 10,
                  "checkpoint_every": 20, "batch_size": 64},
            blocks=[Block("toy", "before", {"optimizer.finetune_steps": [0], "seed": [0, 1]}),
                    Block("toy", "after", {"optimizer.finetune_steps": [15], "seed": [0, 1]})],
        )},
        rows=["toy"],
        columns=["before", "after"],
    )  # fmt: skip
    settings = settings_for(tmp_path)
    assert run_sweep(protocol, "quick", settings).done
    results = completed_results(open_study(protocol, "quick", settings))
    plan = protocol.budget("quick").plan()
    assert len(results) == 4
    for key, run in plan.items():
        alone = train(run.config(), tmp_path / "alone" / cell_folder(key))
        assert results[key].curve == alone.curve
        assert results[key].final == alone.final
        if run.column == "before":
            assert (tmp_path / "pairs-quick" / cell_folder(key) / snapshot_name(24)).exists()
        # a twin's 25 updates before the branch were timed in its plain run: counted there once
        assert (results[key].branched_wall_time_s > 0) == (run.column == "after")
    facts = provenance(protocol, "quick", results)
    assert facts["wall_time_s"] == pytest.approx(
        sum(r.wall_time_s - r.branched_wall_time_s for r in results.values())
    )
    assert facts["wall_time_s"] < sum(r.wall_time_s for r in results.values())
    assert isinstance(next(iter(plan.values())).config(), RunConfig)
    # The same pairs in another table (table2's medium runs are table1's): nothing is trained.
    again = dataclasses.replace(protocol, name="pairs-again")
    assert run_sweep(again, "quick", settings).done
    reused = completed_results(open_study(again, "quick", settings))
    assert {k: (r.curve, r.final) for k, r in reused.items()} == {
        k: (r.curve, r.final) for k, r in results.items()
    }
    assert not list((tmp_path / "pairs-again-quick").glob("*/*.pt"))


def test_a_budget_whose_runs_changed_keeps_its_finished_runs_and_runs_the_new_ones(tmp_path):
    import dataclasses

    from inertia.experiments import Block, Budget

    def toy_with(lrs: list[float]):
        block = Block("toy-regression", "0.9N", {"optimizer.lr": lrs})
        budget = Budget(about="toy", base=dict(TOY.budget("quick").base), blocks=[block])
        return dataclasses.replace(TOY, budgets={"quick": budget})

    settings = settings_for(tmp_path)
    first = toy_with([0.01, 0.003])
    assert run_sweep(first, "quick", settings).done
    before = completed_results(open_study(first, "quick", settings))
    grown = toy_with([0.01, 0.003, 0.001])  # one run added to the budget
    assert run_sweep(grown, "quick", settings).done
    after = completed_results(open_study(grown, "quick", settings))
    assert len(after) == 3
    for key, result in before.items():  # the finished runs counted, not trained again
        assert after[key].curve == result.curve
    study = open_study(grown, "quick", settings)
    assert sum(t.state.name == "COMPLETE" for t in study.trials) == 3
    backup = optuna.load_study(study_name="toy-quick@1", storage=settings.storage)
    assert len(backup.trials) == 2


def test_runs_whose_data_cannot_be_had_are_skipped_with_the_reason(tmp_path, capsys):
    """Issue 17: a protocol may plan runs on data a machine lacks (Pubmed's ind.pubmed.allx is
    not in the staged data); the sweep runs the others, names the file it lacks for the rest,
    and counts as done."""
    from inertia.experiments import Block, Budget, Protocol

    empty = tmp_path / "no-data"
    empty.mkdir()
    protocol = Protocol(
        name="skips",
        title="toy runs beside a citation run without its files",
        budgets={"quick": Budget(
            about="two toy runs and one citation run",
            base={"steps": 4, "eval_every": 2, "checkpoint_every": 2, "batch_size": 1},
            blocks=[
                Block("toy", "nag", {"task.name": ["toy-regression"], "seed": [0, 1],
                                     "batch_size": [16]}),
                Block("cora", "rbp", {"task.name": ["citation"], "task.dataset": ["cora"],
                                      "task.gradient": ["rbp"]}),
            ],
        )},
        rows=("toy", "cora"),
        columns=("nag", "rbp"),
    )  # fmt: skip
    settings = SweepSettings(storage=default_storage(tmp_path), runs_dir=str(tmp_path),
                             data_dir=str(empty), progress=False)  # fmt: skip
    status = run_sweep(protocol, "quick", settings)
    assert status.done
    assert (status.total, len(status.complete)) == (2, 2)
    err = capsys.readouterr().err
    assert "sweep skips-quick: skipping 1 run(s) of cora: ind.cora.x not found" in err
    assert str(empty / "planetoid") in err  # where to put it
    assert not (tmp_path / "skips-quick" / "cora").exists()  # nothing was started for it
    again = run_sweep(protocol, "quick", settings)  # and a second sweep has nothing to do
    assert again.done
    assert len(again.complete) == 2


def test_a_lost_runs_folder_is_restored_from_a_reports_runs_archive(tmp_path, capsys):
    """A half-done budget survives the loss of its runs folder: the report's ``runs.json`` holds
    each complete run's result, and a sweep into an empty folder given ``restore_from`` puts
    them back and trains only the runs the archive lacks."""
    from inertia.experiments import write_report
    from inertia.experiments._archive import RUNS_ARCHIVE, load_runs_archive

    for name in ("first", "second", "second-again"):
        (tmp_path / name).mkdir()
    first = settings_for(tmp_path / "first")
    assert run_sweep(TOY, "quick", first).done
    results = completed_results(open_study(TOY, "quick", first))
    plan = TOY.budget("quick").plan()
    keys = list(plan)
    # The report of a sweep that had finished three of its four runs.
    report = tmp_path / "results" / "toy-quick"
    write_report(TOY, "quick", {key: results[key] for key in keys[:3]}, report)
    archive = json.loads((report / RUNS_ARCHIVE).read_text())
    assert [entry["key"] for entry in archive["runs"]] == keys[:3]
    assert load_runs_archive(report) == [results[key] for key in keys[:3]]

    # Another machine, another data folder: an empty runs folder and the committed report.
    second = dataclasses.replace(
        settings_for(tmp_path / "second"), progress=True, restore_from=(str(report),),
        data_dir=str(tmp_path / "data"),
    )  # fmt: skip
    assert run_sweep(TOY, "quick", second).done
    assert "toy-quick: 3 result(s) restored from" in capsys.readouterr().out
    folder = tmp_path / "second" / "toy-quick"
    restored = completed_results(open_study(TOY, "quick", second))
    for key in keys[:3]:  # the archived results, never trained here
        assert not (folder / cell_folder(key) / "checkpoint.pt").exists()
        assert dataclasses.replace(restored[key], config=results[key].config) == results[key]
        assert restored[key].config["data_dir"] == str(tmp_path / "data")
    assert (folder / cell_folder(keys[3]) / "checkpoint.pt").exists()  # the missing run trained
    # The restored runs are the sweep's first trials, in plan order, before any run trains:
    # a report made while the rest still train shows them.
    trials = sorted(open_study(TOY, "quick", second).get_trials(), key=lambda t: t.number)
    assert [t.params["cell"] for t in trials[:3]] == keys[:3]
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials[:3])
    assert restored[keys[3]].final == results[keys[3]].final
    # Restoring again changes nothing: every folder holds a result.
    again = dataclasses.replace(second, storage=default_storage(tmp_path / "second-again"))
    run_sweep(TOY, "quick", again)
    assert "0 result(s) restored" in capsys.readouterr().out
    # An archived run restores only into a run with exactly its settings.
    quick = TOY.budget("quick")
    other = dataclasses.replace(
        TOY, name="toy-other",
        budgets={"quick": dataclasses.replace(quick, base={**quick.base, "batch_size": 32})},
    )  # fmt: skip
    assert run_sweep(other, "quick", second).done
    assert "0 result(s) restored" in capsys.readouterr().out


def test_restore_from_a_folder_or_file_that_is_no_archive_is_a_one_line_error(tmp_path):
    base = [sys.executable, "-m", "inertia.cli", "sweep", "toy", "--runs-dir", str(tmp_path)]
    (tmp_path / "broken.json").write_text('{"runs": [{"key": "x"}]}')
    (tmp_path / "report").mkdir()
    for given, expected in [
        (tmp_path / "nowhere", "no such file or folder; give a report folder"),
        (tmp_path / "report", "no runs.json there; give a report folder"),
        (tmp_path / "broken.json", "is not a runs archive of `inertia report`"),
    ]:
        failed = subprocess.run([*base, "--restore-from", str(given)], capture_output=True,
                                text=True)  # fmt: skip
        assert failed.returncode != 0
        assert failed.stderr.strip().count("\n") == 0, failed.stderr
        assert str(given) in failed.stderr
        assert expected in failed.stderr
        assert "Traceback" not in failed.stderr
