"""The one training loop every task runs through.

``train(config, run_dir)`` builds the task (:func:`prepare`), trains for ``config.steps`` updates
on minibatches from the task's batch source with the step its optimizer's registry entry makes,
evaluates at the true iterate θ (``optimizer.eval()``; :func:`evaluate`), and keeps its state in
a :class:`RunFolder`: atomic checkpoints from which a killed run resumes so that the trajectory
is the same, bit for bit on CPU, as an uninterrupted one, and the final ``result.json``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from inertia.experiments._checkpoint import (
    exclusive_lock,
    load_checkpoint,
    save_checkpoint,
    write_json,
)
from inertia.experiments._config import ConfigError, RunConfig, from_mapping
from inertia.experiments._environment import environment, peak_memory_mb, reset_peak_memory
from inertia.experiments._legacy import upgrade_checkpoint, upgrade_stored
from inertia.experiments._optimizers import (
    OPTIMIZERS,
    UpdateStatistics,
    build_optimizer,
    hyperparameter_schedules,
)
from inertia.experiments._protocol import flatten
from inertia.init import sparse_init_
from inertia.schedules import HyperparameterScheduler
from inertia.tasks import TASKS, Problem, TensorBatches

__all__ = [
    "CHECKPOINT",
    "RESULT",
    "Prepared",
    "RunFolder",
    "RunResult",
    "branch_step",
    "evaluate",
    "flush_denormals",
    "held_files",
    "load_result",
    "prepare",
    "snapshot_name",
    "train",
]

CHECKPOINT = "checkpoint.pt"
RESULT = "result.json"
_CHECKPOINT_FORMAT = 2  # format 1 (inertia 0.1) is read through upgrade_checkpoint


@dataclasses.dataclass
class RunResult:
    """What a run leaves behind (``result.json`` in its folder).

    Attributes:
        config: the full configuration.
        status: ``completed`` or ``diverged``.
        final: metrics at θ at the end (``train_error`` is the reported figure; ``inf`` when the
            run diverged).
        curve: the evaluations, ``{"step": t, "train_error": ..., "train_loss": ..., ...}``.
        diverged_at: the update at which divergence was detected, or None.
        steps_done: updates made.
        error_name: what ``train_error`` measures.
        wall_time_s: time spent making updates (evaluations and checkpoint writes excluded),
            summed over resumptions.
        updates_per_s: training throughput, ``steps_done / wall_time_s``.
        peak_memory_mb: peak resident memory of the process during the run, since its last
            start or resumption (CPU; the lifetime peak where the kernel's mark cannot be
            reset), or peak CUDA allocation.
        environment: library version, git commit, hardware, torch and Python versions.
        dataset: the data actually used (e.g. ``curves-synth``, the stand-in for CURVES).
        reused_from: empty for a run trained in its own folder; for a result copied from an
            identical run of another sweep, that run's folder relative to the runs folder
            (its ``wall_time_s`` was spent there, not here).
        branched_wall_time_s: for a fine-tuned run that started from its twin's snapshot
            (:func:`branch_step`), the part of ``wall_time_s`` the twin spent reaching it
            (counted in the twin's result too); for a run extended from a shorter one
            (``train``'s ``extend_from``), the shorter run's time; 0 for a run trained from its
            first update.
        cpu_time_s: the CPU time of the process over the same spans as ``wall_time_s``
            (``time.process_time``: every thread of the process, so a run's cost where other
            work shared the cores, which its wall time is not); None for a run that started
            or resumed from a checkpoint written before it was recorded (2026-12-07).
        branched_cpu_time_s: the part of ``cpu_time_s`` counted before the branch or
            extension, as ``branched_wall_time_s``.
    """

    config: dict[str, Any]
    status: Literal["completed", "diverged"]
    final: dict[str, float]
    curve: list[dict[str, float]]
    diverged_at: int | None
    steps_done: int
    error_name: str
    wall_time_s: float
    updates_per_s: float
    peak_memory_mb: float
    environment: dict[str, Any]
    dataset: str = ""
    reused_from: str = ""
    branched_wall_time_s: float = 0.0
    cpu_time_s: float | None = None
    branched_cpu_time_s: float | None = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def clipped_updates(config: Mapping[str, Any], curve: Sequence[Mapping[str, float]]) -> int | None:
    """How many of a run's updates clipping rescaled, summed over its curve's
    ``clipped_updates`` counts (issue 35: how often clipping fired); None where the run does
    not clip (``clip_grad_norm`` and ``clip_relative`` 0) or its curve did not count (runs
    recorded before issue 35)."""
    points = curve[1:]
    clips = config.get("clip_grad_norm", 0) or config.get("clip_relative", 0)
    if not clips or not all("clipped_updates" in point for point in points):
        return None
    return round(sum(point["clipped_updates"] for point in points))


def clipped_fraction(
    config: Mapping[str, Any], curve: Sequence[Mapping[str, float]], steps_done: int
) -> float | None:
    """The fraction of a run's ``steps_done`` updates that clipping rescaled
    (:func:`clipped_updates` over the updates); None where that count is None."""
    count = clipped_updates(config, curve)
    return None if count is None else count / max(steps_done, 1)


def saved_config(config: dict[str, Any]) -> dict[str, Any]:
    """A stored run's settings in today's form: results and checkpoints of inertia 0.1 hold flat
    settings (:mod:`inertia.experiments._legacy`), and those written before a setting existed
    lack it, which gets its default (a new setting's default is the behaviour from before it, so
    adding one does not orphan finished runs or in-flight checkpoints). Settings that no longer
    validate are returned as stored, so they match no configuration of today."""
    today = _config_today(config)
    if today is not None:
        return today
    return dict(config) if isinstance(config, Mapping) else {"config": config}


def _config_today(config: Any) -> dict[str, Any] | None:
    """Stored settings as a configuration of today (after the upgrades), or None where they
    are not one (not a mapping, or settings retired since)."""
    if not isinstance(config, Mapping):
        return None
    try:
        return from_mapping(RunConfig, upgrade_stored(config)).to_dict()
    except (ConfigError, ValueError):
        return None


def held_files(run_dir: Path) -> list[str]:
    """The files of a run that ``run_dir`` holds: its checkpoint and its result, where there."""
    return [name for name in (CHECKPOINT, RESULT) if (run_dir / name).exists()]


def load_result(run_dir: str | Path) -> RunResult | None:
    """The stored result of a finished run, or None.

    Raises:
        ConfigError: ``result.json`` exists but is not a result (the error names the file).
    """
    path = Path(run_dir) / RESULT
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text())
        if not isinstance(stored, dict):
            raise TypeError(f"it holds a {type(stored).__name__}, not a mapping")
        if not isinstance(stored.get("config"), dict):
            raise TypeError("its config is not a mapping of settings")
        return RunResult(**stored)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError) as error:
        raise ConfigError(
            f"{path} is not a run's result ({str(error).splitlines()[0]}); move it away, or "
            "delete it to run again"
        ) from None


def flush_denormals() -> bool:
    """Make CPU arithmetic flush denormal floats (below 1.2e-38 in float32) to zero, for the
    rest of the process; whether the CPU supports it. Called by the processes that train
    (``inertia train`` and the sweep workers), not by :func:`train`, which leaves the caller's
    floating-point mode alone. A tanh RNN on the addition problem whose hidden states had
    drifted into the denormal range ran at 10 updates/s instead of 54 (seed 1 of Table 5's add
    T=80, 0.995N, lr 1e-4: five times slower than seed 0 at the same settings); numbers that
    small change no loss, gradient or error that a run reports."""
    return torch.set_flush_denormal(True)


def _device(config: RunConfig) -> torch.device:
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config key 'device' is 'cuda' but no CUDA device is available")
    return torch.device(config.device)


@dataclasses.dataclass
class Prepared:
    """A run's problem, model and optimizer, on the device (see :func:`prepare`)."""

    problem: Problem
    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    dtype: torch.dtype = torch.float32


def _initialize(
    model: nn.Module,
    config: RunConfig,
    nonlinearity: Literal["sigmoid", "tanh"],
    generator: torch.Generator,
) -> None:
    """Replace the task's initialization where the run asks for another."""
    if config.init == "sparse":
        sparse_init_(model, scale=config.init_scale, nonlinearity=nonlinearity,
                     generator=generator)  # fmt: skip
    elif config.init == "torch":
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None)
            if module is not model and callable(reset):
                reset()


def prepare(config: RunConfig) -> Prepared:
    """Build the task, initialize the model (seeded) and the optimizer, put the data on the
    device and seed the batch order."""
    device = _device(config)
    dtype = torch.float64 if config.precision == "float64" else torch.float32
    torch.manual_seed(config.seed)  # torch's default initializers draw from the global RNG
    generator = torch.Generator().manual_seed(config.seed)
    task = TASKS[config.task.name]  # the config's task section was validated by this registry
    problem = task.build(config.task, generator, config.data_dir or None)
    _initialize(problem.model, config, problem.sparse_init_nonlinearity, generator)
    model = problem.model.to(device, dtype)
    optimizer = build_optimizer(model.parameters(), config, problem.output_loss)
    problem.batches.start(config.seed, device, dtype)
    problem.evaluation.to(device, dtype)
    return Prepared(problem=problem, model=model, optimizer=optimizer, device=device, dtype=dtype)


def _swap(optimizer: torch.optim.Optimizer, mode: Literal["eval", "train"]) -> None:
    """Schedule-free-style optimizers (CM, NAG) move the parameters to θ for evaluation."""
    method = getattr(optimizer, mode, None)
    if callable(method):
        method()


def evaluate(prepared: Prepared) -> dict[str, float]:
    """The task's evaluation (``train_*``, ``valid_*``, ``test_*`` metrics) at the true iterate
    θ, in eval mode."""
    _swap(prepared.optimizer, "eval")
    prepared.model.eval()
    try:
        return prepared.problem.evaluation(prepared.model)
    finally:
        prepared.model.train()
        _swap(prepared.optimizer, "train")


@dataclasses.dataclass
class Progress:
    """Where a run stands: updates made, time spent making them (``inherited_s`` of it by the
    twin it branched from) and the CPU time of those spans (None when a checkpoint it resumed
    from did not count it), the evaluations so far."""

    step: int = 0
    elapsed_s: float = 0.0
    inherited_s: float = 0.0
    cpu_s: float | None = 0.0
    inherited_cpu_s: float | None = 0.0
    curve: list[dict[str, float]] = dataclasses.field(default_factory=list)
    norms: UpdateStatistics = dataclasses.field(default_factory=UpdateStatistics)


class RunFolder:
    """A run's folder: its checkpoint (model, optimizer, batch order, RNG, progress; written
    atomically) and its result. ``None`` keeps nothing."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None

    def open(self, resume: bool, overwrite: bool) -> None:
        """Check, before any training, that the folder can hold the run: it is (or can be made)
        a writable folder, and it holds no other run unless ``resume`` (continue it) or
        ``overwrite`` (discard it). Temporary files that a killed write left are removed.

        Raises:
            ConfigError: the folder is a file, cannot be created or written, or holds a run.
        """
        if self.path is None:
            return
        where = self.path
        if where.exists() and not where.is_dir():
            raise ConfigError(f"run folder {where} is a file; give a folder (--run-dir)")
        try:
            where.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=where, prefix=".write-test.") as probe:
                probe.write(b"x")
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as error:
            raise ConfigError(
                f"run folder {where} cannot be written ({error.strerror or error}); choose "
                "another --run-dir"
            ) from None
        for name in (CHECKPOINT, RESULT, SNAPSHOT_PATTERN):  # everything the folder writes
            for stale in where.glob(f".{name}.*"):
                stale.unlink(missing_ok=True)  # a write that a kill interrupted
        held = held_files(where)
        if held and not resume:
            if not overwrite:
                raise ConfigError(
                    f"run folder {where} already holds a run ({', '.join(held)}); use --resume "
                    "to continue it or --overwrite to start it again"
                )
            for name in held:
                (where / name).unlink()

    def remove_if_empty(self) -> None:
        """Remove the folder if it holds nothing but its lock file (a run that never wrote)."""
        if self.path is None or not self.path.is_dir():
            return
        if {entry.name for entry in self.path.iterdir()} <= {".lock"}:
            (self.path / ".lock").unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # another process may have just started in it
                self.path.rmdir()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder (``.lock``) while a run trains in it, so that a
        second process (a sweep worker retrying the run, the twin of a run being branched)
        waits and then finds the result instead of training the same run beside it."""
        if self.path is None:
            yield
            return
        with exclusive_lock(self.path / ".lock"):
            yield

    def finished(self, config: RunConfig) -> RunResult | None:
        """The stored result of this very run, if it finished.

        Raises:
            ConfigError: the folder holds the result of another configuration (continuing
                would train this one from update 0 and replace that result).
        """
        if self.path is None:
            return None
        result = load_result(self.path)
        if result is None:
            return None
        stored, wanted = _config_today(result.config), config.to_dict()
        if stored == wanted:
            return result
        if stored is None:
            # a run of settings retired since (no configuration of today is it): trained again,
            # its result kept beside the new one rather than replaced
            superseded = self.path / f"result.superseded-{time.strftime('%Y%m%dT%H%M%S')}.json"
            os.replace(self.path / RESULT, superseded)
            return None
        raise ConfigError(
            f"{self.path / RESULT} is the result of a different configuration "
            f"(keys that differ: {_differing(wanted, stored)}); use another run "
            "folder, or the same config to read it"
        )

    def restore(
        self,
        config: RunConfig,
        prepared: Prepared,
        progress: Progress,
        branch_from: Path | None = None,
        extend_from: Path | None = None,
    ) -> bool:
        """Continue from the checkpoint, if there is one, else from ``branch_from`` (a snapshot
        of the run's twin without fine-tuning, :func:`branch_step`), else from ``extend_from``
        (the checkpoint of a shorter run of the same settings, :func:`train`); whether it did.

        Raises:
            ConfigError: the checkpoint belongs to another configuration, or the snapshot to
                another run than the twin, or to a step after the fine-tuning began, or the
                shorter run to other settings or more updates than this run makes.
        """
        if self.path is not None and (self.path / CHECKPOINT).exists():
            source, branched = self.path / CHECKPOINT, False
            saved = _read_checkpoint(source)
            expected, found = config.to_dict(), saved_config(saved.get("config", {}))
        elif extend_from is not None:
            source, branched = extend_from / CHECKPOINT, True
            if not source.is_file():
                raise ConfigError(
                    f"--extend-from {extend_from}: no {CHECKPOINT} there (the run's final "
                    "state); give the folder of a run trained with a checkpoint"
                )
            saved = _read_checkpoint(source)
            found = saved_config(saved.get("config", {}))
            expected = {**config.to_dict(), "steps": found.get("steps")}  # only steps differ
            if getattr(config.optimizer, "finetune_steps", 0):
                raise ConfigError(
                    "--extend-from: fine-tuning (optimizer.finetune_steps) starts at a number "
                    "of updates before the end, so a longer run is another trajectory; train it "
                    "from update 0"
                )
            if saved.get("step", 0) > config.steps:
                raise ConfigError(
                    f"--extend-from {extend_from}: its run made {saved.get('step')} updates, "
                    f"more than this run's {config.steps}; give a larger steps"
                )
        elif branch_from is not None and branch_from.exists():
            source, branched = branch_from, True
            saved = _read_checkpoint(source)
            expected, found = without_finetuning(config), saved_config(saved.get("config", {}))
            step = branch_step(config)
            if step is None or saved.get("step") != step:
                raise ConfigError(
                    f"{source} holds update {saved.get('step')}, not the update before this "
                    f"run's fine-tuning ({step}); it cannot start this run"
                )
        else:
            return False
        if found != expected:
            raise ConfigError(
                f"{source} was written for a different configuration "
                f"(keys that differ: {_differing(expected, found)}); use another run folder or "
                "the same config"
            )
        try:
            prepared.model.load_state_dict(saved["model"])
            prepared.optimizer.load_state_dict(saved["optimizer"])
            prepared.problem.batches.load_state_dict(saved["batches"])
            torch.set_rng_state(saved["torch_rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            raise ConfigError(
                f"{source} does not fit this run's model and optimizer ({type(error).__name__}: "
                f"{str(error).splitlines()[0][:120] if str(error) else 'no detail'}); delete it "
                "to start the run again"
            ) from None
        progress.step, progress.elapsed_s, progress.curve = (
            saved["step"],
            saved["elapsed_s"],
            saved["curve"],
        )
        # a branch inherits all of its twin's time; a checkpoint keeps what its run inherited
        progress.inherited_s = saved["elapsed_s"] if branched else saved.get("inherited_s", 0.0)
        progress.cpu_s = saved.get("cpu_s")  # None: written before CPU time was counted
        progress.inherited_cpu_s = progress.cpu_s if branched else saved.get("inherited_cpu_s")
        if "update_statistics" in saved:  # since issue 39; older checkpoints count from here
            progress.norms.load_state_dict(saved["update_statistics"])
        return True

    def save(
        self, config: RunConfig, prepared: Prepared, progress: Progress, name: str = CHECKPOINT
    ) -> None:
        """Write the checkpoint (or, under another ``name``, a snapshot), atomically."""
        if self.path is None:
            return
        save_checkpoint(
            {
                "format": _CHECKPOINT_FORMAT,
                "config": config.to_dict(),
                "step": progress.step,
                "model": prepared.model.state_dict(),
                "optimizer": prepared.optimizer.state_dict(),
                "batches": prepared.problem.batches.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "curve": progress.curve,
                "elapsed_s": progress.elapsed_s,
                "inherited_s": progress.inherited_s,
                "cpu_s": progress.cpu_s,
                "inherited_cpu_s": progress.inherited_cpu_s,
                "update_statistics": progress.norms.state_dict(),
            },
            self.path / name,
        )

    def write_result(self, result: RunResult) -> None:
        if self.path is not None:
            write_json(result.to_dict(), self.path / RESULT)


def _momentum_now(optimizer: torch.optim.Optimizer, step: int) -> float | None:
    momentum = optimizer.param_groups[0].get("momentum")
    if momentum is None:
        return None
    return momentum(step) if callable(momentum) else float(momentum)


_GPU_DIVERGENCE_WINDOW = 100


class _DivergenceCheck:
    """Watches the minibatch losses for divergence, reading them ``window`` updates at a time.

    A run diverges at the first update whose loss is not finite or exceeds ``threshold``. With
    ``window`` > 1 (GPU) the losses stay on the device until ``window`` of them have gathered, so
    the host never waits for the GPU between updates; the update reported is still the first one
    that crossed, though training went on for at most ``window - 1`` more updates.
    """

    def __init__(self, threshold: float, window: int, first_step: int) -> None:
        self.threshold = threshold
        self.window = window
        self.next_step = first_step
        self.pending: list[Tensor] = []
        self.last = math.nan

    def _crosses(self, value: float) -> bool:
        return not math.isfinite(value) or value > self.threshold

    def add(self, loss: Tensor, flush: bool = False) -> int | None:
        """Record the loss of the next update; the diverging update's number, if one is known."""
        if self.window == 1:
            self.last = loss.item()
            self.next_step += 1
            return self.next_step - 1 if self._crosses(self.last) else None
        self.pending.append(loss.detach())
        if len(self.pending) < self.window and not flush:
            return None
        values = torch.stack(self.pending).tolist()
        self.pending.clear()
        first, self.next_step = self.next_step, self.next_step + len(values)
        self.last = values[-1]
        for offset, value in enumerate(values):
            if self._crosses(value):
                return first + offset
        return None


def _graph_model(model: nn.Module, sample: Tensor) -> None:
    """Capture ``model``'s forward and backward passes as CUDA graphs, in place.

    ``torch.cuda.make_graphed_callables`` replaces ``model.forward`` in training mode; in eval
    mode (evaluation on other batch sizes) the eager forward runs. Parameters keep their storage,
    so in-place optimizer updates and ``load_state_dict`` act on the captured graph.
    """
    torch.cuda.make_graphed_callables(model, (sample.detach().clone(),))


def _differing(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    ours, theirs = flatten(expected), flatten(found)
    return sorted(key for key in ours.keys() | theirs.keys() if ours.get(key) != theirs.get(key))


# What every checkpoint holds.
_CHECKPOINT_KEYS = (
    "config", "step", "model", "optimizer", "torch_rng", "curve", "elapsed_s", "batches",
)  # fmt: skip


def _read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint this package wrote, or a one-line :class:`ConfigError` that says what the
    file is not (torch's own messages about unpickling are not the user's business)."""
    try:
        saved = load_checkpoint(path)
    except Exception:  # torch's unpickler fails in many ways on a file it did not write
        raise ConfigError(
            f"{path} is not a checkpoint that inertia wrote (it cannot be loaded as tensors and "
            "plain values); delete it to start the run again"
        ) from None
    if not isinstance(saved, dict):
        raise ConfigError(
            f"{path} holds a {type(saved).__name__}, not a checkpoint that inertia wrote; "
            "delete it to start the run again"
        )
    saved = upgrade_checkpoint(saved)
    missing = [key for key in _CHECKPOINT_KEYS if key not in saved]
    if saved.get("format") != _CHECKPOINT_FORMAT or missing:
        what = f"no {', '.join(missing)}" if missing else f"format {saved.get('format')!r}"
        raise ConfigError(
            f"{path} is not a checkpoint that inertia wrote ({what}); delete it to start the "
            "run again"
        )
    return saved


def without_finetuning(config: RunConfig) -> dict[str, Any]:
    """The settings of a run's twin without low-momentum fine-tuning (``finetune_steps`` 0)."""
    settings = config.to_dict()
    if "finetune_steps" in settings["optimizer"]:
        settings["optimizer"]["finetune_steps"] = 0
    return settings


def branch_step(config: RunConfig) -> int | None:
    """The last update that a run with low-momentum fine-tuning shares with its twin without:
    S − F − 1 for S updates of which the last F are fine-tuned (NAG's update S − F already looks
    ahead with the fine-tuning μ). None without fine-tuning."""
    finetune = getattr(config.optimizer, "finetune_steps", 0)
    return config.steps - finetune - 1 if finetune > 0 else None


_SNAPSHOT = "snapshot-{}.pt"


def snapshot_name(step: int) -> str:
    """The file name of a run's snapshot at ``step`` (kept beside its checkpoint)."""
    return _SNAPSHOT.format(step)


SNAPSHOT_PATTERN = _SNAPSHOT.format("*")
"""Every snapshot's file name, as a glob pattern."""


def _check(config: RunConfig, prepared: Prepared) -> None:
    """Settings that only the built task can check."""
    cases = prepared.problem.batches.cases
    if cases is not None and config.batch_size > cases:
        raise ConfigError(
            f"config key 'batch_size' ({config.batch_size}) exceeds the {cases} training cases"
        )


def _capture_graphs(config: RunConfig, prepared: Prepared) -> None:
    """Replay the model's passes as CUDA graphs where the run asks for it and can."""
    if config.cuda_graphs and prepared.device.type == "cuda":
        batches = prepared.problem.batches
        if not isinstance(batches, TensorBatches):
            raise ConfigError(
                f"cuda_graphs needs minibatches of one shape; task {config.task.name!r} draws "
                "them of varying shapes"
            )
        _graph_model(prepared.model, batches.inputs[: config.batch_size])


def _result(
    config: RunConfig,
    prepared: Prepared,
    progress: Progress,
    diverged_at: int | None,
) -> RunResult:
    final = dict(progress.curve[-1])
    final.pop("step")
    if diverged_at is not None:
        final = {key: math.inf for key in final}
    elapsed = progress.elapsed_s
    return RunResult(
        config=config.to_dict(),
        status="diverged" if diverged_at is not None else "completed",
        final=final,
        curve=progress.curve,
        diverged_at=diverged_at,
        steps_done=progress.step,
        error_name=prepared.problem.evaluation.error_name,
        wall_time_s=elapsed,
        branched_wall_time_s=progress.inherited_s,
        cpu_time_s=progress.cpu_s,
        branched_cpu_time_s=progress.inherited_cpu_s,
        updates_per_s=progress.step / elapsed if elapsed > 0 else 0.0,
        peak_memory_mb=peak_memory_mb(prepared.device),
        environment=environment(prepared.device),
        dataset=prepared.problem.dataset,
    )


def train(
    config: RunConfig,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    on_evaluation: Callable[[int, dict[str, float]], None] | None = None,
    snapshots: Sequence[int] = (),
    branch_from: str | Path | None = None,
    extend_from: str | Path | None = None,
) -> RunResult:
    """Train one run.

    Args:
        config: the run.
        run_dir: folder for ``checkpoint.pt`` and ``result.json`` (None: keep nothing).
        resume: continue from ``run_dir/checkpoint.pt`` if it exists (a finished run returns its
            stored result); the checkpoint's config must equal ``config``.
        overwrite: discard a run that ``run_dir`` holds (without ``resume`` or ``overwrite``, a
            folder that holds a run is refused: :meth:`RunFolder.open`).
        snapshots: updates after which to keep a copy of the state (``snapshot-STEP.pt``), from
            which a twin with fine-tuning can start.
        branch_from: a snapshot of this run's twin without fine-tuning at :func:`branch_step`:
            start there instead of at update 0 (the same trajectory, bit for bit on CPU, minus
            the shared updates).
        extend_from: the folder of a run with the same settings but fewer ``steps`` (finished
            or not, without fine-tuning): start from its checkpoint, so that training it
            longer costs only the updates beyond its own. The trajectory is the one a run of
            ``config`` from update 0 takes, bit for bit on CPU; the result's
            ``branched_wall_time_s`` is the time inherited from that run.
        progress: show a progress bar with loss, μ, lr and updates/s.
        on_evaluation: called as ``on_evaluation(step, metrics)`` after each evaluation (e.g.
            Optuna's ``trial.report``); exceptions it raises propagate.

    Returns:
        The :class:`RunResult`, also written to ``run_dir/result.json``.
    """
    folder = RunFolder(run_dir)
    created = folder.path is not None and not folder.path.exists()
    try:
        folder.open(resume, overwrite)
        with folder.locked():  # one process at a time trains in a folder; the next finds it
            if resume and (finished := folder.finished(config)) is not None:
                return finished
            return _train(
                config, folder, resume, progress, on_evaluation, snapshots, branch_from,
                extend_from,
            )  # fmt: skip
    except BaseException:
        if created:  # a refusal (bad data, a setting found wrong) leaves no empty folder behind
            folder.remove_if_empty()
        raise


def _train(
    config: RunConfig,
    folder: RunFolder,
    resume: bool,
    progress: bool,
    on_evaluation: Callable[[int, dict[str, float]], None] | None,
    snapshots: Sequence[int],
    branch_from: str | Path | None,
    extend_from: str | Path | None = None,
) -> RunResult:
    """The training loop of :func:`train`, in a folder it has checked and locked."""
    reset_peak_memory("cpu")  # this run's peak, not that of runs before it in this process
    prepared = prepare(config)
    if prepared.device.type == "cuda":
        reset_peak_memory(prepared.device)
    model, optimizer, problem = prepared.model, prepared.optimizer, prepared.problem
    _check(config, prepared)
    state = Progress()

    def record_evaluation() -> None:
        state.curve.append({"step": state.step, **evaluate(prepared), **state.norms.read()})
        if on_evaluation is not None:
            on_evaluation(state.step, state.curve[-1])

    branch = Path(branch_from) if branch_from is not None else None
    extend = Path(extend_from) if extend_from is not None else None
    started = (resume or branch or extend) and folder.restore(
        config, prepared, state, branch, extend
    )
    if not started:
        record_evaluation()
    _capture_graphs(config, prepared)
    scheduler = HyperparameterScheduler(optimizer, **hyperparameter_schedules(config))
    scheduler.load_state_dict({"last_step": state.step})  # the values of the next update
    make_step = OPTIMIZERS[config.optimizer.name].step
    divergence = _DivergenceCheck(
        threshold=config.divergence_factor * max(state.curve[0]["train_loss"], 1e-12),
        # On a GPU, reading the loss every update would stall the launch queue.
        window=1 if prepared.device.type == "cpu" else _GPU_DIVERGENCE_WINDOW,
        first_step=state.step + 1,
    )
    diverged_at: int | None = None
    # The bar shows the run's training throughput (evaluations and checkpoints left out), the
    # figure the summary and result.json give, rather than tqdm's own rate over all the time.
    bar = tqdm(total=config.steps, initial=state.step, unit="upd", disable=not progress,
               dynamic_ncols=True, bar_format=_BAR_FORMAT)  # fmt: skip
    clock = _SpanClock(state)
    milestones = _Milestones(config, snapshots)
    try:
        while not milestones.finished(state):
            inputs, targets = problem.batches.next(config.batch_size)
            loss = make_step(optimizer, model, problem.loss, inputs, targets, config, state.norms)
            state.step += 1
            scheduler.step()
            due = milestones.due(state)
            diverged_at = divergence.add(loss, flush=due.evaluation or due.checkpoint)
            if diverged_at is not None:
                break
            if due:  # not training time
                clock.stop()
                _reach(due, record_evaluation, folder, config, prepared, state)
                clock.start()
            bar.update(1)
            if progress and milestones.show(state.step):
                _show(bar, divergence.last, optimizer, state.step, state.step / clock.training_s())
    finally:
        bar.close()
    clock.stop()
    result = _result(config, prepared, state, diverged_at)
    folder.write_result(result)
    return result


class _SpanClock:
    """Adds the wall and CPU time of the spans between :meth:`start` and :meth:`stop` (the
    updates, not the evaluations and checkpoints) to a run's :class:`Progress`."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.start()

    def start(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> None:
        self.progress.elapsed_s += time.perf_counter() - self.wall
        if self.progress.cpu_s is not None:
            self.progress.cpu_s += time.process_time() - self.cpu

    def training_s(self) -> float:
        """Wall time of the updates so far, the open span included."""
        return self.progress.elapsed_s + time.perf_counter() - self.wall


_BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


@dataclasses.dataclass(frozen=True)
class _Due:
    """The milestones that fall after one update (true when any does)."""

    evaluation: bool
    checkpoint: bool
    snapshot: bool

    def __bool__(self) -> bool:
        return self.evaluation or self.checkpoint or self.snapshot


_NOTHING_DUE = _Due(evaluation=False, checkpoint=False, snapshot=False)


def _reach(
    due: _Due, record_evaluation: Callable[[], None], folder: RunFolder, config: RunConfig,
    prepared: Prepared, state: Progress,
) -> None:  # fmt: skip
    """Evaluate, checkpoint and keep a snapshot, as ``due`` says."""
    if due.evaluation:
        record_evaluation()
    if due.checkpoint:
        folder.save(config, prepared, state)
    if due.snapshot:
        folder.save(config, prepared, state, snapshot_name(state.step))


@dataclasses.dataclass(frozen=True)
class _Milestones:
    """Which of the run's milestones fall after an update: an evaluation (every ``eval_every``
    updates and at the end), a checkpoint (every ``checkpoint_every``, 0: at the end only), a
    snapshot (at the steps a fine-tuned twin branches from), a progress display (every 25); and
    the end: ``steps`` updates, or the cost ``max_gradient_cases`` reached."""

    config: RunConfig
    snapshots: Sequence[int]

    def finished(self, state: Progress) -> bool:
        limit = self.config.max_gradient_cases
        spent = limit > 0 and state.norms.gradient_cases >= limit
        return state.step >= self.config.steps or spent

    def due(self, state: Progress) -> _Due:
        """The milestones after the update that made ``state.step``."""
        step = state.step
        last = self.finished(state)
        every = self.config.checkpoint_every
        evaluation = step % self.config.eval_every == 0 or last
        checkpoint = (every > 0 and step % every == 0) or last
        snapshot = step in self.snapshots
        if not (evaluation or checkpoint or snapshot):
            return _NOTHING_DUE  # most updates: no new object (the engine benchmark's loop)
        return _Due(evaluation, checkpoint, snapshot)

    def show(self, step: int) -> bool:
        return step % 25 == 0 or step == self.config.steps


def _show(bar: Any, loss: float, optimizer: torch.optim.Optimizer, step: int, rate: float) -> None:
    momentum = _momentum_now(optimizer, step)
    bar.set_postfix(
        updates_per_s=f"{rate:.1f}",
        loss=f"{loss:.4g}",
        lr=f"{optimizer.param_groups[0]['lr']:.3g}",
        **({"mu": f"{momentum:.4f}"} if momentum is not None else {}),
    )
