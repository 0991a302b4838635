"""The one training loop every task runs through.

``train(config, run_dir)`` builds the task's model and data, trains for ``config.steps`` updates
on minibatches drawn from in-memory tensors, evaluates on the whole training set at the true
iterate θ (``optimizer.eval()``), writes atomic checkpoints, and resumes a killed run so that the
trajectory is the same, bit for bit on CPU, as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import resource
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from inertia.experiments._checkpoint import load_checkpoint, save_checkpoint, write_json
from inertia.experiments._config import ConfigError, RunConfig, from_mapping
from inertia.experiments._environment import environment
from inertia.experiments._legacy import is_legacy, upgrade_config
from inertia.experiments._optimizers import OPTIMIZERS, build_optimizer, lr_schedule
from inertia.experiments._protocol import flatten
from inertia.init import sparse_init_
from inertia.tasks import TASKS, AbstractTask, Problem

__all__ = ["CHECKPOINT", "RESULT", "RunResult", "evaluate", "load_result", "prepare", "train"]

CHECKPOINT = "checkpoint.pt"
RESULT = "result.json"
_CHECKPOINT_FORMAT = 1
_EVALUATION_BATCH = 5000


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
        peak_memory_mb: peak resident memory of the process (CPU) or peak CUDA allocation.
        environment: library version, git commit, hardware, torch and Python versions.
        dataset: the data actually used (e.g. ``curves-synth``, the stand-in for CURVES).
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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def saved_config(config: dict[str, Any]) -> dict[str, Any]:
    """A stored run's settings in today's form (results and checkpoints of inertia 0.1 hold
    flat settings, :mod:`inertia.experiments._legacy`)."""
    if not is_legacy(config):
        return config
    try:
        return from_mapping(RunConfig, upgrade_config(config)).to_dict()
    except (ConfigError, ValueError):
        return config


def load_result(run_dir: str | Path) -> RunResult | None:
    """The stored result of a finished run, or None."""
    path = Path(run_dir) / RESULT
    if not path.exists():
        return None
    return RunResult(**json.loads(path.read_text()))


def _device(config: RunConfig) -> torch.device:
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config key 'device' is 'cuda' but no CUDA device is available")
    return torch.device(config.device)


def _task(config: RunConfig) -> AbstractTask:
    return TASKS[config.task.name]  # the config's task section was validated by this registry


@dataclasses.dataclass
class Prepared:
    """A run's model, optimizer and data, placed on the device (see :func:`prepare`)."""

    problem: Problem
    model: nn.Module
    optimizer: torch.optim.Optimizer
    inputs: Tensor | list[Tensor]
    targets: Tensor | list[Tensor]
    test_inputs: Tensor | None
    test_targets: Tensor | None
    device: torch.device
    dtype: torch.dtype = torch.float32
    validation_inputs: Tensor | None = None
    validation_targets: Tensor | None = None


def _place_one(tensor: Tensor, device: torch.device, dtype: torch.dtype) -> Tensor:
    return tensor.to(device, dtype) if tensor.is_floating_point() else tensor.to(device)


def _place(tensor: Any, device: torch.device, dtype: torch.dtype) -> Any:
    if isinstance(tensor, list):
        return [_place_one(part, device, dtype) for part in tensor]
    return _place_one(tensor, device, dtype)


def _place_split(
    inputs: Any, targets: Any, device: torch.device, dtype: torch.dtype
) -> tuple[Any, Any]:
    """An optional held-out split on the device: (None, None) unless both parts are given."""
    if inputs is None or targets is None:
        return None, None
    return _place(inputs, device, dtype), _place(targets, device, dtype)


def _chunks(
    inputs: Any, targets: Any, size: int = _EVALUATION_BATCH
) -> Iterator[tuple[Tensor, Tensor]]:
    """Evaluation batches: the given chunks, or slices of ``size`` cases."""
    if isinstance(inputs, list):
        yield from zip(inputs, targets)
        return
    for start in range(0, inputs.shape[0], size):
        yield inputs[start : start + size], targets[start : start + size]


def _count(inputs: Any) -> int:
    return sum(part.shape[0] for part in inputs) if isinstance(inputs, list) else inputs.shape[0]


def prepare(config: RunConfig) -> Prepared:
    """Build the task, initialize the model (seeded) and the optimizer, move data to the device."""
    task = _task(config)
    device = _device(config)
    dtype = torch.float64 if config.precision == "float64" else torch.float32
    torch.manual_seed(config.seed)  # torch's default initializers draw from the global RNG
    generator = torch.Generator().manual_seed(config.seed)
    problem = task.build(config.task, generator, config.data_dir or None)
    if config.init == "sparse":
        sparse_init_(
            problem.model,
            scale=config.init_scale,
            nonlinearity=problem.sparse_init_nonlinearity,  # type: ignore[arg-type]
            generator=generator,
        )
    elif config.init == "torch":
        for module in problem.model.modules():
            if module is not problem.model and hasattr(module, "reset_parameters"):
                module.reset_parameters()
    model = problem.model.to(device, dtype)
    optimizer = build_optimizer(model.parameters(), config, problem.output_loss)
    test_inputs, test_targets = _place_split(
        problem.test_inputs, problem.test_targets, device, dtype
    )
    validation_inputs, validation_targets = _place_split(
        problem.validation_inputs, problem.validation_targets, device, dtype
    )
    return Prepared(
        problem=problem,
        model=model,
        optimizer=optimizer,
        inputs=_place(problem.train_inputs, device, dtype),
        targets=_place(problem.train_targets, device, dtype),
        test_inputs=test_inputs,
        test_targets=test_targets,
        device=device,
        dtype=dtype,
        validation_inputs=validation_inputs,
        validation_targets=validation_targets,
    )


def _swap(optimizer: torch.optim.Optimizer, mode: Literal["eval", "train"]) -> None:
    """Schedule-free-style optimizers (CM, NAG) move the parameters to θ for evaluation."""
    method = getattr(optimizer, mode, None)
    if callable(method):
        method()


@torch.no_grad()
def evaluate(prepared: Prepared) -> dict[str, float]:
    """Metrics on the whole training set (and the validation and test sets, if any) at the
    true iterate θ, prefixed ``train_``, ``valid_``, ``test_``."""
    _swap(prepared.optimizer, "eval")
    prepared.model.eval()
    results: dict[str, float] = {}
    subset = prepared.problem.train_evaluation_cases
    if subset is not None and not isinstance(prepared.inputs, list):
        sets = [("train", prepared.inputs[:subset], prepared.targets[:subset])]  # type: ignore[index]
    else:
        sets = [("train", prepared.inputs, prepared.targets)]
    if prepared.validation_inputs is not None:
        sets.append(("valid", prepared.validation_inputs, prepared.validation_targets))  # type: ignore[arg-type]
    if prepared.test_inputs is not None:
        sets.append(("test", prepared.test_inputs, prepared.test_targets))  # type: ignore[arg-type]
    size = prepared.problem.evaluation_batch or _EVALUATION_BATCH
    for prefix, inputs, targets in sets:
        sums: dict[str, Tensor] = {}
        for chunk_inputs, chunk_targets in _chunks(inputs, targets, size):
            batch = prepared.problem.metrics(prepared.model(chunk_inputs), chunk_targets)
            for key, value in batch.items():
                sums[key] = sums[key] + value.double() if key in sums else value.double()
        averages = {key: value.item() / _count(inputs) for key, value in sums.items()}
        if prepared.problem.derived_metrics is not None:
            averages.update(prepared.problem.derived_metrics(averages))
        for key, value in averages.items():
            results[f"{prefix}_{key}"] = value
    prepared.model.train()
    _swap(prepared.optimizer, "train")
    return results


def _momentum_now(optimizer: torch.optim.Optimizer, step: int) -> float | None:
    momentum = optimizer.param_groups[0].get("momentum")
    if momentum is None:
        return None
    return momentum(step) if callable(momentum) else float(momentum)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


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


def train(
    config: RunConfig,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    progress: bool = False,
    on_evaluation: Callable[[int, dict[str, float]], None] | None = None,
) -> RunResult:
    """Train one run.

    Args:
        config: the run.
        run_dir: folder for ``checkpoint.pt`` and ``result.json`` (None: keep nothing).
        resume: continue from ``run_dir/checkpoint.pt`` if it exists (a finished run returns its
            stored result); the checkpoint's config must equal ``config``.
        progress: show a progress bar with loss, μ, lr and updates/s.
        on_evaluation: called as ``on_evaluation(step, metrics)`` after each evaluation (e.g.
            Optuna's ``trial.report``); exceptions it raises propagate.

    Returns:
        The :class:`RunResult`, also written to ``run_dir/result.json``.
    """
    run_path = Path(run_dir) if run_dir is not None else None
    checkpoint_path = run_path / CHECKPOINT if run_path is not None else None
    if resume and run_path is not None:
        finished = load_result(run_path)
        if finished is not None and saved_config(finished.config) == config.to_dict():
            return finished

    prepared = prepare(config)
    model, optimizer = prepared.model, prepared.optimizer
    sample_batch = prepared.problem.sample_batch
    cases = _count(prepared.inputs)
    if sample_batch is None and config.batch_size > cases:
        raise ConfigError(
            f"config key 'batch_size' ({config.batch_size}) exceeds the {cases} training cases"
        )
    order = torch.Generator().manual_seed(config.seed)
    learning_rate = lr_schedule(config)
    make_step = OPTIMIZERS[config.optimizer.name].step
    step, position, elapsed = 0, 0, 0.0
    permutation: Tensor | None = None
    curve: list[dict[str, float]] = []

    if resume and checkpoint_path is not None and checkpoint_path.exists():
        saved = load_checkpoint(checkpoint_path)
        stored = saved_config(saved.get("config", {}))
        if saved.get("format") != _CHECKPOINT_FORMAT or stored != config.to_dict():
            ours, theirs = flatten(config.to_dict()), flatten(stored)
            differing = sorted(key for key in ours.keys() | theirs.keys()
                               if ours.get(key) != theirs.get(key))  # fmt: skip
            raise ConfigError(
                f"{checkpoint_path} was written for a different configuration "
                f"(keys that differ: {differing}); use another run folder or the same config"
            )
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, position, elapsed = saved["step"], saved["position"], saved["elapsed_s"]
        permutation = saved["permutation"]
        order.set_state(saved["order_generator"])
        torch.set_rng_state(saved["torch_rng"])
        curve = saved["curve"]
    else:
        curve.append({"step": 0, **evaluate(prepared)})
        if on_evaluation is not None:
            on_evaluation(0, curve[-1])
    initial_loss = curve[0]["train_loss"]

    def checkpoint() -> None:
        if checkpoint_path is None:
            return
        save_checkpoint(
            {
                "format": _CHECKPOINT_FORMAT,
                "config": config.to_dict(),
                "step": step,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "permutation": permutation,
                "position": position,
                "order_generator": order.get_state(),
                "torch_rng": torch.get_rng_state(),
                "curve": curve,
                "elapsed_s": elapsed,
            },
            checkpoint_path,
        )

    status: Literal["completed", "diverged"] = "completed"
    diverged_at: int | None = None
    if config.cuda_graphs and prepared.device.type == "cuda":
        if sample_batch is not None or isinstance(prepared.inputs, list):
            raise ConfigError(
                f"cuda_graphs needs minibatches of one shape; task {config.task.name!r} draws "
                "sequences of varying length"
            )
        _graph_model(model, prepared.inputs[: config.batch_size])
    divergence = _DivergenceCheck(
        threshold=config.divergence_factor * max(initial_loss, 1e-12),
        # On a GPU, reading the loss every update would stall the launch queue.
        window=1 if prepared.device.type == "cpu" else _GPU_DIVERGENCE_WINDOW,
        first_step=step + 1,
    )
    on_device = permutation.to(prepared.device) if permutation is not None else None
    bar = tqdm(
        total=config.steps, initial=step, unit="upd", disable=not progress, dynamic_ncols=True
    )
    started = time.perf_counter()
    try:
        while step < config.steps:
            if sample_batch is not None:  # a fresh draw (generated data)
                drawn = sample_batch(config.batch_size, order)
                batch_inputs, batch_targets = _place(list(drawn), prepared.device, prepared.dtype)
            else:
                if on_device is None or position + config.batch_size > cases:
                    permutation = torch.randperm(cases, generator=order)  # a new epoch
                    on_device = permutation.to(prepared.device)
                    position = 0
                batch = on_device[position : position + config.batch_size]
                position += config.batch_size
                batch_inputs, batch_targets = prepared.inputs[batch], prepared.targets[batch]  # type: ignore[index]

            if learning_rate is not None:
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(step)
            loss = make_step(
                optimizer, model, prepared.problem.loss, batch_inputs, batch_targets, config
            )
            step += 1

            evaluation_due = step % config.eval_every == 0 or step == config.steps
            checkpoint_due = (
                config.checkpoint_every and step % config.checkpoint_every == 0
            ) or step == config.steps
            diverged_step = divergence.add(loss, flush=evaluation_due or checkpoint_due)
            if diverged_step is not None:
                status, diverged_at = "diverged", diverged_step
                break
            if evaluation_due:
                elapsed += time.perf_counter() - started
                curve.append({"step": step, **evaluate(prepared)})
                started = time.perf_counter()
                if on_evaluation is not None:
                    on_evaluation(step, curve[-1])
            if checkpoint_due:
                elapsed += time.perf_counter() - started
                checkpoint()
                started = time.perf_counter()
            bar.update(1)
            if progress and step % 25 == 0:
                momentum = _momentum_now(optimizer, step)
                bar.set_postfix(
                    loss=f"{divergence.last:.4g}",
                    lr=f"{optimizer.param_groups[0]['lr']:.3g}",
                    **({"mu": f"{momentum:.4f}"} if momentum is not None else {}),
                )
    finally:
        bar.close()
    elapsed += time.perf_counter() - started

    final = dict(curve[-1])
    final.pop("step")
    if status == "diverged":
        final = {key: math.inf for key in final}
    result = RunResult(
        config=config.to_dict(),
        status=status,
        final=final,
        curve=curve,
        diverged_at=diverged_at,
        steps_done=step,
        error_name=prepared.problem.error_name,
        wall_time_s=elapsed,
        updates_per_s=step / elapsed if elapsed > 0 else 0.0,
        peak_memory_mb=_peak_memory_mb(prepared.device),
        environment=environment(prepared.device),
        dataset=prepared.problem.dataset,
    )
    if run_path is not None:
        write_json(result.to_dict(), run_path / RESULT)
    return result
