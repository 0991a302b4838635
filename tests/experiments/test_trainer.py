from __future__ import annotations

import itertools
import json
import math
import signal
import subprocess
import sys

import pytest
import torch

from inertia.experiments import (
    ConfigError,
    RunConfig,
    evaluate,
    from_mapping,
    load_checkpoint,
    merge,
    nest,
    prepare,
    train,
)

FAST = {"steps": 120, "eval_every": 40, "checkpoint_every": 30, "batch_size": 64,
        "optimizer": {"lr": 0.02}}  # fmt: skip


def config(**changes) -> RunConfig:
    """The fast toy run with ``changes`` (an ``optimizer`` or ``task`` mapping merges into the
    section; a name alone chooses another)."""
    return from_mapping(RunConfig, merge(FAST, nest(changes)))


def final_state(run_dir) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoint.pt")["model"]


def test_run_trains_and_records_everything(tmp_path):
    result = train(config(), tmp_path)
    assert result.status == "completed"
    assert [point["step"] for point in result.curve] == [0, 40, 80, 120]
    assert result.curve[-1]["train_error"] < 0.5 * result.curve[0]["train_error"]
    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored["config"] == config().to_dict()
    assert stored["final"]["train_error"] == result.final["train_error"]
    assert stored["updates_per_s"] > 0
    assert stored["peak_memory_mb"] > 0
    for key in ("git_commit", "hardware", "inertia", "torch"):
        assert stored["environment"][key]


def test_evaluation_is_at_theta_not_at_the_lookahead_point(tmp_path):
    cfg = config(optimizer={"name": "nag", "momentum": 0.95}, checkpoint_every=0)
    result = train(cfg, tmp_path)
    prepared = prepare(cfg)
    prepared.model.load_state_dict(final_state(tmp_path))
    prepared.optimizer.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt")["optimizer"])
    at_theta = evaluate(prepared)["train_error"]
    assert at_theta == pytest.approx(result.final["train_error"], rel=1e-6)
    # The parameters as saved hold φ; the error there differs, so the test can tell them apart.
    prepared.optimizer.param_groups[0]["train_mode"] = False  # pretend φ is θ
    assert evaluate(prepared)["train_error"] != pytest.approx(at_theta, rel=1e-6)


class CrashError(Exception):
    pass


def crash_at(step_to_crash: int):
    def on_evaluation(step: int, metrics: dict) -> None:
        if step == step_to_crash:
            raise CrashError

    return on_evaluation


@pytest.mark.parametrize("optimizer", ["nag", "cm", "adam"])
def test_resume_after_a_crash_is_bit_exact(tmp_path, optimizer):
    momentum = {"momentum_schedule": "sutskever", "momentum": 0.99} if optimizer != "adam" else {}
    cfg = config(optimizer={"name": optimizer, **momentum})
    whole = train(cfg, tmp_path / "whole")
    crashed = tmp_path / "crashed"
    with pytest.raises(CrashError):
        train(cfg, crashed, on_evaluation=crash_at(80))  # last checkpoint: update 60
    assert load_checkpoint(crashed / "checkpoint.pt")["step"] == 60
    resumed = train(cfg, crashed, resume=True)
    assert resumed.curve == whole.curve
    for key, value in final_state(tmp_path / "whole").items():
        assert torch.equal(value, final_state(crashed)[key]), key


def test_cpu_time_is_counted_over_resumptions_or_not_at_all(tmp_path):
    """A run's CPU time adds up over a crash and its resumption, like its wall time; a run
    resumed from a checkpoint written before CPU time was counted records none rather than
    the part since the resumption."""
    cfg = config()
    crashed = tmp_path / "crashed"
    with pytest.raises(CrashError):
        train(cfg, crashed, on_evaluation=crash_at(80))
    before = load_checkpoint(crashed / "checkpoint.pt")["cpu_s"]
    resumed = train(cfg, crashed, resume=True)
    assert 0 < before < resumed.cpu_time_s
    assert resumed.branched_cpu_time_s == 0
    old = tmp_path / "old"
    with pytest.raises(CrashError):
        train(cfg, old, on_evaluation=crash_at(80))
    saved = load_checkpoint(old / "checkpoint.pt")
    del saved["cpu_s"], saved["inherited_cpu_s"]
    torch.save(saved, old / "checkpoint.pt")
    unknown = train(cfg, old, resume=True)
    assert unknown.cpu_time_s is None
    assert unknown.branched_cpu_time_s is None
    assert unknown.curve == resumed.curve
    assert json.loads((old / "result.json").read_text())["cpu_time_s"] is None


KILL_AT = """
import os, signal, sys
from inertia.cli import main
from inertia.experiments import _trainer

train = _trainer.train


def killed_at(step):
    def on_evaluation(done, metrics):
        if done == step:
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill, at a known update

    return on_evaluation


def train_then_die(*args, **kwargs):
    return train(*args, **{**kwargs, "on_evaluation": killed_at(int(sys.argv[1]))})


_trainer.train = train_then_die
import inertia.experiments
inertia.experiments.train = train_then_die
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.subprocess
def test_resume_after_a_real_kill_is_bit_exact(tmp_path):
    """SIGKILL the training process at update 1000 (after the evaluation there, before that
    update's checkpoint), resume it, compare with an unbroken run."""
    overrides = [
        "--steps=3000",
        "--eval_every=500",
        "--checkpoint_every=200",
        "--batch_size=32",
        "--optimizer=nag",
        "--optimizer.lr=0.01",
        "--optimizer.momentum=0.99",
        "--optimizer.momentum_schedule=sutskever",
    ]
    command = ["train", "--quiet", *overrides]
    killed_dir, whole_dir = tmp_path / "killed", tmp_path / "whole"
    (tmp_path / "kill_at.py").write_text(KILL_AT)
    killed = subprocess.run(
        [sys.executable, str(tmp_path / "kill_at.py"), "1000", *command, "--run-dir",
         str(killed_dir)], timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert load_checkpoint(killed_dir / "checkpoint.pt")["step"] == 800
    assert not (killed_dir / "result.json").exists()

    cli = [sys.executable, "-m", "inertia.cli", *command]
    subprocess.run([*cli, "--run-dir", str(killed_dir), "--resume"], check=True)
    subprocess.run([*cli, "--run-dir", str(whole_dir)], check=True)
    resumed = json.loads((killed_dir / "result.json").read_text())
    whole = json.loads((whole_dir / "result.json").read_text())
    assert resumed["curve"] == whole["curve"]
    for key, value in final_state(whole_dir).items():
        assert torch.equal(value, final_state(killed_dir)[key]), key


def test_resume_refuses_a_different_config(tmp_path):
    train(config(steps=40), tmp_path)
    (tmp_path / "result.json").unlink()
    with pytest.raises(ConfigError, match=r"different configuration.*'optimizer.lr'"):
        train(config(steps=40, optimizer={"lr": 0.5}), tmp_path, resume=True)


LONG_TERM = {"task": {"name": "long-term", "problem": "addition", "length": 20,
                      "eval_cases": 100},
             "optimizer": {"name": "nag", "momentum": 0.995, "momentum_schedule": "rnn",
                           "lr": 1e-3},
             "batch_size": 20, "eval_every": 10, "checkpoint_every": 10}  # fmt: skip


@pytest.mark.parametrize(
    ("settings", "short"),
    [
        ({"optimizer": {"name": "nag", "momentum_schedule": "sutskever", "momentum": 0.99}}, 120),
        ({"optimizer": {"name": "nag", "momentum_schedule": "sutskever", "momentum": 0.99}}, 100),
        (LONG_TERM, 30),
    ],
    ids=["toy-at-an-evaluation", "toy-between-evaluations", "long-term-rnn"],
)
def test_a_run_extended_from_a_shorter_one_is_the_longer_runs_trajectory(tmp_path, settings, short):
    """Training a finished run longer (issue 39: does a cell at the plateau leave it after
    50,000 updates?) costs only the extra updates and ends where the longer run from update 0
    ends, bit for bit; the shorter run's folder is left as it was."""
    longer = from_mapping(RunConfig, merge(FAST, merge(settings, {"steps": 160})))
    shorter = longer.replace(steps=short)
    whole = train(longer, tmp_path / "whole")
    first = train(shorter, tmp_path / "short")
    before = {p.name: p.read_bytes() for p in (tmp_path / "short").iterdir()}
    extended = train(longer, tmp_path / "extended", extend_from=tmp_path / "short")
    assert extended.steps_done == 160
    for key, value in final_state(tmp_path / "whole").items():
        assert torch.equal(value, final_state(tmp_path / "extended")[key]), key
    points = {point["step"]: point for point in whole.curve}
    assert extended.curve[: len(first.curve)] == first.curve  # the shorter run's evaluations
    seam = extended.curve[len(first.curve)]
    if short % longer.eval_every:  # the shorter run evaluated at its end, between two of ours:
        interval = {"grad_norm_max", "grad_norm_mean", "clipped_updates"}  # counted since then
        assert {k: v for k, v in seam.items() if k not in interval} == {
            k: v for k, v in points[seam["step"]].items() if k not in interval
        }
    else:
        assert seam == points[seam["step"]]
    for point in extended.curve[len(first.curve) + 1 :]:
        assert point == points[point["step"]]
    assert extended.final == whole.final
    assert extended.branched_wall_time_s > 0
    assert extended.branched_wall_time_s <= first.wall_time_s <= extended.wall_time_s
    assert 0 < extended.branched_cpu_time_s <= first.cpu_time_s < extended.cpu_time_s
    assert {p.name: p.read_bytes() for p in (tmp_path / "short").iterdir()} == before


def test_extending_refuses_another_run_or_a_longer_one(tmp_path):
    train(config(steps=80), tmp_path / "short")
    with pytest.raises(ConfigError, match=r"different configuration.*'optimizer.lr'"):
        train(
            config(steps=120, optimizer={"lr": 0.5}), tmp_path / "a", extend_from=tmp_path / "short"
        )
    with pytest.raises(ConfigError, match="made 80 updates, more than this run's 40"):
        train(config(steps=40), tmp_path / "b", extend_from=tmp_path / "short")
    with pytest.raises(ConfigError, match=r"no checkpoint\.pt there"):
        train(config(steps=120), tmp_path / "c", extend_from=tmp_path / "missing")
    tuned = {"name": "nag", "momentum": 0.99, "finetune_steps": 20}
    train(config(steps=80, optimizer=tuned), tmp_path / "tuned")
    with pytest.raises(ConfigError, match="fine-tuning"):
        train(config(steps=120, optimizer=tuned), tmp_path / "d", extend_from=tmp_path / "tuned")
    assert not any((tmp_path / name).exists() for name in "abcd")  # refusals leave no folder


def test_finished_run_is_not_repeated(tmp_path):
    first = train(config(), tmp_path)
    mtime = (tmp_path / "checkpoint.pt").stat().st_mtime_ns
    again = train(config(), tmp_path, resume=True)
    assert again == first
    assert (tmp_path / "checkpoint.pt").stat().st_mtime_ns == mtime


def _rewrite_stored_optimizer(path, change) -> None:
    stored = json.loads(path.read_text())
    change(stored["config"]["optimizer"])
    path.write_text(json.dumps(stored))


def test_a_run_stored_before_a_setting_existed_still_matches(tmp_path):
    """Results and checkpoints written before a setting was added lack its key; the setting's
    default is what they ran with, so they still belong to today's configuration."""
    first = train(config(steps=40), tmp_path)
    _rewrite_stored_optimizer(tmp_path / "result.json", lambda o: o.pop("lr_decay_factor"))
    mtime = (tmp_path / "checkpoint.pt").stat().st_mtime_ns
    again = train(config(steps=40), tmp_path, resume=True)
    assert (again.final, again.curve) == (first.final, first.curve)
    assert (tmp_path / "checkpoint.pt").stat().st_mtime_ns == mtime  # not trained again
    # A checkpoint without the key resumes too, instead of refusing a "different configuration".
    (tmp_path / "result.json").unlink()
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    del checkpoint["config"]["optimizer"]["lr_decay_factor"]
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    assert train(config(steps=40), tmp_path, resume=True).final == first.final


def test_a_run_stored_with_an_unknown_setting_matches_nothing(tmp_path):
    train(config(steps=40), tmp_path)
    _rewrite_stored_optimizer(tmp_path / "result.json", lambda o: o.update(retired=1))
    again = train(config(steps=40), tmp_path, resume=True)  # trained again, not taken as done
    assert "retired" not in json.loads((tmp_path / "result.json").read_text())["config"]
    assert again.status == "completed"
    # the old result is kept beside the new one, not replaced (issue 36: no result is lost)
    (kept,) = tmp_path.glob("result.superseded-*.json")
    assert json.loads(kept.read_text())["config"]["optimizer"]["retired"] == 1


@pytest.mark.parametrize("lr", [1e4, 1e30])
def test_divergence_is_recorded_not_raised(tmp_path, lr):
    result = train(config(optimizer={"name": "sgd", "lr": lr}), tmp_path)
    assert result.status == "diverged"
    assert result.diverged_at is not None
    assert result.diverged_at < 120
    assert math.isinf(result.final["train_error"])
    assert json.loads((tmp_path / "result.json").read_text())["status"] == "diverged"


@pytest.mark.parametrize("clip", [0.0, 1e-3])
def test_gradient_clipping_bounds_each_update(tmp_path, clip):
    """Plain SGD moves θ by lr times the (clipped) gradient: with clipping every update of the
    trainer has length exactly lr * clip (the toy gradients are far longer), without it not."""
    lr = 0.1
    states = [[p.detach().clone() for p in prepare(config(optimizer="sgd")).model.parameters()]]
    for steps in (1, 2, 3):
        run = config(optimizer={"name": "sgd", "lr": lr}, clip_grad_norm=clip, steps=steps,
                     checkpoint_every=0)  # fmt: skip
        train(run, tmp_path / str(steps))
        states.append(list(final_state(tmp_path / str(steps)).values()))
    for before, after in itertools.pairwise(states):
        length = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(after, before)))
        if clip:
            assert length.item() == pytest.approx(lr * clip, rel=1e-3)
        else:
            assert length.item() > 100 * lr * 1e-3


def test_relative_clipping_sets_its_threshold_from_the_first_updates(tmp_path):
    """clip_relative (Pascanu et al. 2013): the first clip_window updates run unclipped and set
    the threshold, clip_relative times their average norm; after them every update whose norm
    exceeds it is clipped and counted. Its state survives a crash (resume bit-exact)."""
    run = config(optimizer="sgd", clip_relative=0.5, clip_window=40)
    result = train(run, tmp_path / "relative")
    clipped = [point["clipped_updates"] for point in result.curve[1:]]
    assert clipped[0] == 0  # none in the window
    assert clipped[1] > 0  # then the updates whose norm exceeds the threshold
    norms = load_checkpoint(tmp_path / "relative" / "checkpoint.pt")["update_statistics"]
    assert norms["window_updates"] == 40
    assert norms["relative_threshold"] == pytest.approx(0.5 * norms["window_total"] / 40)
    plain = train(config(optimizer="sgd"), tmp_path / "plain")
    assert plain.curve[1] == {**result.curve[1], "clipped_updates": 0.0}  # the window: equal
    assert plain.curve[2]["train_loss"] != result.curve[2]["train_loss"]
    crashed = tmp_path / "crashed"  # the last checkpoint is at update 60, after the window
    with pytest.raises(CrashError):
        train(run, crashed, on_evaluation=crash_at(80))
    assert train(run, crashed, resume=True).curve == result.curve
    early = config(optimizer="sgd", clip_relative=0.5, clip_window=50)  # resumed in the window
    whole = train(early, tmp_path / "early")
    with pytest.raises(CrashError):
        train(early, tmp_path / "early-crash", on_evaluation=crash_at(40))
    assert train(early, tmp_path / "early-crash", resume=True).curve == whole.curve


def test_a_cost_budget_stops_the_run_at_equal_gradient_cases(tmp_path):
    """max_gradient_cases (issue 35: methods compared at an equal cost): the run ends after the
    first update that brings its cost to the limit, with a final evaluation and checkpoint
    there; a finished run resumes to the same result."""
    run = config(optimizer="sgd", max_gradient_cases=64 * 50 + 1, checkpoint_every=0)
    result = train(run, tmp_path / "budget")
    assert result.steps_done == 51  # 64 cases per update: 50 updates reach 3200 < 3201
    assert [point["step"] for point in result.curve] == [0, 40, 51]
    assert result.curve[-1]["gradient_cases"] == 64 * 51
    assert load_checkpoint(tmp_path / "budget" / "checkpoint.pt")["step"] == 51
    assert train(run, tmp_path / "budget", resume=True).curve == result.curve
    unlimited = config(optimizer="sgd", max_gradient_cases=1e12)
    assert train(unlimited, tmp_path / "all").steps_done == 120  # steps still bound it


def test_one_clipping_threshold_at_a_time():
    with pytest.raises(ConfigError, match=r"'clip_grad_norm' .* and 'clip_relative' .* set one"):
        config(clip_grad_norm=1.0, clip_relative=2.0)


def test_lr_decay_steps_scale_the_rate_from_each_milestone(tmp_path):
    # A factor of 1e-30 from update 5 on freezes the weights there: 10 updates end where 5 did.
    decayed = config(
        optimizer={"name": "sgd", "lr_decay_steps": [5], "lr_decay_factor": 1e-30}, steps=10
    )
    train(decayed, tmp_path / "decayed")
    train(config(optimizer="sgd", steps=5), tmp_path / "five")
    train(config(optimizer="sgd", steps=10), tmp_path / "ten")
    for name, value in final_state(tmp_path / "decayed").items():
        torch.testing.assert_close(value, final_state(tmp_path / "five")[name])
        assert not torch.allclose(value, final_state(tmp_path / "ten")[name])


def test_float64_and_sparse_init(tmp_path):
    cfg = config(precision="float64", init="sparse", init_scale=0.5, steps=20)
    prepared = prepare(cfg)
    first = prepared.model[0].weight
    assert first.dtype == torch.float64
    assert ((first != 0).sum(dim=1) == min(15, first.shape[1])).all()
    assert train(cfg, tmp_path).status == "completed"


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match=r"task.*'nope'"):
        config(task="nope")
    with pytest.raises(ConfigError, match=r"optimizer.*'lbfgs'"):
        config(optimizer="lbfgs")
    with pytest.raises(
        ConfigError, match=r"config key 'task.cases' must be an integer, got 'many'"
    ):
        config(task={"cases": "many"})
    with pytest.raises(ConfigError, match=r"unknown config key 'task\.width'"):
        config(task={"width": 3})
    with pytest.raises(ConfigError, match="batch_size"):
        train(config(batch_size=5000))
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            train(config(device="cuda"))


def test_divergence_check_reports_the_first_crossing_update_of_a_window():
    from inertia.experiments._trainer import _DivergenceCheck

    check = _DivergenceCheck(threshold=10.0, window=4, first_step=7)
    losses = [1.0, 2.0, 11.0, float("nan")]
    reported = [check.add(torch.tensor(value)) for value in losses]
    assert reported == [None, None, None, 9]  # read only when the window is full
    assert math.isnan(check.last)
    check = _DivergenceCheck(threshold=10.0, window=4, first_step=1)
    assert check.add(torch.tensor(1.0)) is None
    assert check.add(torch.tensor(float("inf")), flush=True) == 2  # an evaluation flushes
    check = _DivergenceCheck(threshold=10.0, window=1, first_step=1)
    assert [check.add(torch.tensor(v)) for v in (1.0, 5.0, 50.0)] == [None, None, 3]


def test_cuda_graphs_is_ignored_on_the_cpu(tmp_path):
    eager = train(config(optimizer="nag"), tmp_path / "eager")
    graphs = train(config(optimizer="nag", cuda_graphs=True), tmp_path / "graphs")
    assert graphs.curve == eager.curve


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_graphs_follow_the_eager_trajectory(tmp_path):
    cfg = config(
        task={"name": "autoencoder", "dataset": "curves", "cases": 2000, "test_cases": 200},
        init="sparse",
        optimizer={"name": "nag", "momentum": 0.99, "momentum_schedule": "sutskever",
                   "momentum_period": 10, "lr": 0.01},
        batch_size=200,
        steps=300,
        eval_every=100,
        device="cuda",
    )  # fmt: skip
    eager = train(cfg, tmp_path / "eager")
    graphs = train(cfg.replace(cuda_graphs=True), tmp_path / "graphs")
    assert graphs.status == eager.status == "completed"
    for a, b in zip(eager.curve, graphs.curve):
        assert b["train_error"] == pytest.approx(a["train_error"], rel=1e-3)


def test_evaluation_batch_and_training_subset():
    prepared = prepare(config())
    full = evaluate(prepared)
    evaluation = prepared.problem.evaluation
    evaluation.batch_size = 7  # batching must not change any average
    batched = evaluate(prepared)
    assert batched.keys() == full.keys()
    for key, value in full.items():
        assert batched[key] == pytest.approx(value, rel=1e-6)
    evaluation.train_cases = 10
    subset = evaluate(prepared)
    inputs, targets = evaluation.splits["train"]
    with torch.no_grad():
        outputs = prepared.model(inputs[:10])
        by_hand = evaluation.metrics(outputs, targets[:10])
    assert subset["train_error"] == pytest.approx(float(by_hand["error"]) / 10, rel=1e-6)
    assert subset["train_error"] != pytest.approx(full["train_error"], rel=1e-6)


@pytest.mark.parametrize("optimizer", ["nag", "cm"])
def test_a_fine_tuned_twin_branched_from_the_plain_run_equals_one_trained_from_scratch(
    tmp_path, optimizer
):
    from inertia.experiments._trainer import branch_step, snapshot_name

    settings = {"name": optimizer, "momentum": 0.99, "momentum_schedule": "sutskever",
                "momentum_period": 5}  # fmt: skip
    plain = config(optimizer=settings, steps=60, eval_every=7, checkpoint_every=5)
    tuned = plain.replace(**{"optimizer.finetune_steps": 20})
    step = branch_step(tuned)
    assert step == 39
    train(plain, tmp_path / "plain", snapshots=[step])
    branched = train(tuned, tmp_path / "branched",
                     branch_from=tmp_path / "plain" / snapshot_name(step))  # fmt: skip
    scratch = train(tuned, tmp_path / "scratch")
    assert branched.curve == scratch.curve
    assert branched.final == scratch.final
    for key, value in final_state(tmp_path / "scratch").items():
        assert torch.equal(value, final_state(tmp_path / "branched")[key]), key
    # The branch's time includes the twin's up to the snapshot, and says how much that was, so
    # that a report counts it once; a run trained from scratch inherited nothing.
    inherited = load_checkpoint(tmp_path / "plain" / snapshot_name(step))["elapsed_s"]
    assert 0 < branched.branched_wall_time_s == inherited < branched.wall_time_s
    assert scratch.branched_wall_time_s == 0
    inherited_cpu = load_checkpoint(tmp_path / "plain" / snapshot_name(step))["cpu_s"]
    assert 0 < branched.branched_cpu_time_s == inherited_cpu < branched.cpu_time_s
    assert scratch.branched_cpu_time_s == 0 < scratch.cpu_time_s
    # A branch that crashes in its fine-tuning and resumes from its own checkpoint keeps it.
    crashed = tmp_path / "crashed"
    with pytest.raises(CrashError):
        train(tuned, crashed, on_evaluation=crash_at(56),
              branch_from=tmp_path / "plain" / snapshot_name(step))  # fmt: skip
    assert load_checkpoint(crashed / "checkpoint.pt")["step"] == 55
    resumed = train(tuned, crashed, resume=True)
    assert resumed.final == scratch.final
    assert resumed.branched_wall_time_s == inherited
    assert resumed.branched_cpu_time_s == inherited_cpu
    with pytest.raises(ConfigError, match="not the update before this run's fine-tuning"):
        train(plain.replace(**{"optimizer.finetune_steps": 10}), tmp_path / "wrong",
              branch_from=tmp_path / "plain" / snapshot_name(step))  # fmt: skip


FLUSH_CHECK = """
import sys, torch
from inertia.experiments import flush_denormals
tiny = torch.tensor([1e-39], dtype=torch.float32)  # a float32 denormal
before = float(tiny * 1.0)
supported = flush_denormals()
after = float(tiny * 1.0)
print(before, after, supported)
"""


def test_flush_denormals_zeroes_denormal_arithmetic_in_its_process():
    """In a fresh process, so that the test process keeps its floating-point mode."""
    out = subprocess.run([sys.executable, "-c", FLUSH_CHECK], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    before, after, supported = float(out[0]), float(out[1]), out[2] == "True"
    assert before == pytest.approx(1e-39, rel=1e-3)
    if not supported:
        pytest.skip("this CPU cannot flush denormals")
    assert after == 0.0


def test_the_processes_that_train_flush_denormals(monkeypatch, tmp_path):
    """`inertia train` flushes before it trains (the sweep and tuning workers call the same
    function first; their processes are covered by the sweep tests)."""
    import inertia.experiments as experiments
    from inertia import cli

    calls: list[str] = []
    monkeypatch.setattr(torch, "set_flush_denormal", lambda on: calls.append(f"flush {on}"))

    def fake_train(*args, **kwargs):
        calls.append("train")
        raise SystemExit(0)

    monkeypatch.setattr(experiments, "train", fake_train)
    with pytest.raises(SystemExit):
        cli.main(["train", "--task=toy-regression", f"--run-dir={tmp_path / 'run'}", "--quiet"])
    assert calls == ["flush True", "train"]


def test_gradient_norms_off_trains_the_same_run_without_the_norm_statistics(tmp_path):
    """gradient_norms=False only stops recording the norms: the same parameters to the bit, the
    same cost; a clipped run records them anyway (it computes them to clip)."""
    on = train(config(checkpoint_every=0), tmp_path / "on")
    off = train(config(checkpoint_every=0, gradient_norms=False), tmp_path / "off")
    for a, b in zip(final_state(tmp_path / "on").values(), final_state(tmp_path / "off").values()):
        assert torch.equal(a, b)
    for with_norms, without in zip(on.curve[1:], off.curve[1:]):
        assert "grad_norm_max" in with_norms
        assert "grad_norm_max" not in without
        statistics = ("grad_norm_max", "grad_norm_mean", "clipped_updates")
        assert without == {k: v for k, v in with_norms.items() if k not in statistics}
    clipped = train(config(gradient_norms=False, clip_grad_norm=1e-3), tmp_path / "clipped")
    assert all(p["clipped_updates"] == 40 and p["grad_norm_max"] > 0 for p in clipped.curve[1:])


def test_the_curve_records_the_minibatch_gradient_norms_and_clipped_updates(tmp_path):
    """Issue 35 asks how often clipping fired, issue 39 whether gradients explode between
    evaluations: each evaluation after the first holds the largest and mean minibatch gradient
    norm since the one before, and how many of those updates clipping rescaled."""
    steps, every = 40, 10
    clipped = train(config(steps=steps, eval_every=every, clip_grad_norm=1e-3), tmp_path / "c")
    points = clipped.curve[1:]
    assert "grad_norm_max" not in clipped.curve[0]  # no update before it
    assert [p["clipped_updates"] for p in points] == [every] * (steps // every)
    assert all(p["grad_norm_max"] >= p["grad_norm_mean"] > 1e-3 for p in points)
    free = train(config(steps=steps, eval_every=every), tmp_path / "free")
    assert [p["clipped_updates"] for p in free.curve[1:]] == [0] * (steps // every)
    high = max(p["grad_norm_max"] for p in free.curve[1:])
    between = train(config(steps=steps, eval_every=every, clip_grad_norm=high / 2), tmp_path / "h")
    counts = [p["clipped_updates"] for p in between.curve[1:]]
    assert 0 < sum(counts) < steps


def test_clipped_fraction_counts_the_rescaled_updates_of_clipping_runs_only():
    from inertia.experiments import clipped_fraction

    curve = [{"step": 0}, {"step": 10, "clipped_updates": 4.0},
             {"step": 20, "clipped_updates": 1.0}]  # fmt: skip
    assert clipped_fraction({"clip_grad_norm": 5.0}, curve, 20) == 0.25
    assert clipped_fraction({"clip_relative": 1.0}, curve, 20) == 0.25
    assert clipped_fraction({"clip_grad_norm": 0.0}, curve, 20) is None  # does not clip
    uncounted = [{"step": 0}, {"step": 10}]  # recorded before issue 35
    assert clipped_fraction({"clip_grad_norm": 5.0}, uncounted, 10) is None
