"""Optimizers by name: each one's typed settings (the ``optimizer`` section of a run), how it is
built, and how it makes one training step (an explicit registry, :data:`OPTIMIZERS`)."""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Callable, Iterable
from typing import Literal, Protocol, TypeVar

import torch
from pydantic import Field, field_validator
from torch import Tensor, nn

from inertia.config import ConfigError, Section
from inertia.optim import CM, NAG, HessianFree, MomentumLike
from inertia.schedules import (
    Clip,
    Constant,
    LowMomentumFinetuning,
    PiecewiseConstant,
    Schedule,
    SutskeverMomentum,
    rnn_momentum,
)
from inertia.tasks import TaskConfig

__all__ = [
    "OPTIMIZERS",
    "AdamConfig",
    "HessianFreeConfig",
    "MomentumConfig",
    "OptimizerConfig",
    "OptimizerEntry",
    "SGDConfig",
    "UpdateStatistics",
    "build_optimizer",
    "cg_decay_schedule",
    "hyperparameter_schedules",
    "lr_schedule",
    "momentum_schedule",
]

Loss = Callable[[Tensor, Tensor], Tensor]


class RunSettings(Protocol):
    """What of a run's settings (:class:`~inertia.experiments.RunConfig`) the optimizers read:
    its optimizer section, the run's length and batch, clipping, whether it records gradient
    norms, CUDA graphs and the task."""

    @property
    def optimizer(self) -> OptimizerConfig: ...
    @property
    def task(self) -> TaskConfig: ...
    @property
    def steps(self) -> int: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def clip_grad_norm(self) -> float: ...
    @property
    def clip_relative(self) -> float: ...
    @property
    def clip_window(self) -> int: ...
    @property
    def cuda_graphs(self) -> bool: ...
    @property
    def gradient_norms(self) -> bool: ...


class OptimizerConfig(Section):
    """Settings every optimizer has.

    Attributes:
        name: the registry name.
        lr: the learning rate ε (for ``hf``, the step along the CG solution).
        lr_decay_steps: updates (0-based) from which the learning rate is multiplied by
            ``lr_decay_factor`` once more; e.g. ``[50]`` with 0.1 runs updates 0-49 at ``lr``
            and the rest at ``lr / 10`` (Liao et al.'s meta-optimizer).
        lr_decay_factor: the factor of each decay.
        weight_decay: L2 coefficient.
    """

    name: str
    lr: float = Field(0.01, ge=0)
    lr_decay_steps: list[int] = Field(default_factory=list)
    lr_decay_factor: float = Field(0.1, gt=0)
    weight_decay: float = Field(0.0, ge=0)

    @field_validator("lr_decay_steps")
    @classmethod
    def _increasing(cls, steps: list[int]) -> list[int]:
        if any(b <= a for a, b in zip([0, *steps], steps)):
            raise ConfigError(
                f"config key 'optimizer.lr_decay_steps' must be increasing positive update "
                f"numbers, got {steps}"
            )
        return steps

    def check_run(self, run: RunSettings) -> None:
        """Reject settings that do not fit the rest of the run (none by default)."""


def _at_most(key: str, value: int, bound_key: str, bound: int) -> None:
    if value > bound:
        raise ConfigError(
            f"config key 'optimizer.{key}' must be at most {bound_key} ({bound}), got {value}"
        )


class SGDConfig(OptimizerConfig):
    """Plain SGD (CM with μ = 0).

    Attributes:
        fused: the compiled one-pass kernel (``inertia.optim.CM``'s ``fused``): None picks it
            for large CPU parameter sets, False never compiles.
    """

    name: Literal["sgd"] = "sgd"
    fused: bool | None = None


class MomentumConfig(OptimizerConfig):
    """Classical momentum (``cm``) or Nesterov's accelerated gradient (``nag``), Sutskever et al.
    (2013) eqs. (1)-(2).

    Attributes:
        momentum: μ for ``constant``, μ_max for ``sutskever`` (eq. 3), μ₀ for ``rnn``.
        momentum_schedule: ``constant``, ``sutskever`` (eq. 3) or ``rnn`` (0.9 for 1000
            updates, then μ₀).
        momentum_period: updates per plateau of the ``sutskever`` schedule (250 in eq. 3;
            quick budgets shorten it so that μ_max is reached within the budget).
        finetune_steps: low-momentum fine-tuning (μ = 0.9) for the last N updates (Table 2).
        fused: the compiled one-pass kernel (``inertia.optim.NAG``'s ``fused``): None picks it
            for large CPU parameter sets, False never compiles.
    """

    name: Literal["cm", "nag"] = "nag"
    momentum: float = Field(0.9, ge=0, lt=1)
    momentum_schedule: Literal["constant", "sutskever", "rnn"] = "constant"
    momentum_period: int = Field(250, ge=1)
    finetune_steps: int = Field(0, ge=0)
    fused: bool | None = None

    def check_run(self, run: RunSettings) -> None:
        _at_most("finetune_steps", self.finetune_steps, "steps", run.steps)


class AdamConfig(OptimizerConfig):
    """Adam with torch's defaults (β = 0.9, 0.999): our baseline, not in the papers."""

    name: Literal["adam"] = "adam"


class HessianFreeConfig(OptimizerConfig):
    """Hessian-free (:class:`inertia.optim.HessianFree`; Martens 2010), with its keyword
    arguments, and:

    Attributes:
        curvature_batch: the cases of each minibatch used for curvature products (0 = all;
            Martens 2010 section 4.3).
        cg_decay_schedule: ``constant`` keeps ``cg_decay``; ``sutskever`` raises the CG decay
            the way eq. (3) of Sutskever et al. (2013) raises μ, from ``cg_decay_floor``
            (Martens's 0.95) to ``cg_decay``: min(max(floor, 1 − 1/(2(⌊t/period⌋ + 1))),
            cg_decay) at update t. Our reading of their momentum-like HF (section 5, A.6),
            whose decay, "analogous to the momentum constant", goes from 0.95 to 0.995-0.999.
        cg_decay_period: updates per plateau of the ``sutskever`` CG-decay schedule.
        cg_decay_floor: where the ``sutskever`` CG-decay schedule starts.
    """

    name: Literal["hf"] = "hf"
    lr: float = Field(1.0, ge=0)
    damping: float = Field(1.0, gt=0)
    cg_max_iterations: int = Field(250, ge=1)
    cg_min_iterations: int = Field(1, ge=1)
    cg_tolerance: float = Field(5e-4, gt=0)
    cg_decay: float = Field(0.95, ge=0, le=1)
    preconditioner: Literal["martens", "none"] = "martens"
    preconditioner_exponent: float = Field(0.75, ge=0)
    cg_backtracking: bool = True
    line_search: bool = True
    adapt_damping: bool = True
    damping_increase: float = Field(1.5, gt=1)
    damping_decrease: float = Field(2.0 / 3.0, gt=0, lt=1)
    structural_damping: float = Field(0.0, ge=0)
    rho_batch: Literal["gradient", "curvature"] = "gradient"
    curvature_batch: int = Field(0, ge=0)
    cg_decay_schedule: Literal["constant", "sutskever"] = "constant"
    cg_decay_period: int = Field(250, ge=1)
    cg_decay_floor: float = Field(0.95, ge=0, le=1)

    def check_run(self, run: RunSettings) -> None:
        _at_most("curvature_batch", self.curvature_batch, "batch_size", run.batch_size)
        if self.cg_decay_schedule == "sutskever" and self.cg_decay_floor > self.cg_decay:
            raise ConfigError(
                f"config key 'optimizer.cg_decay_floor' ({self.cg_decay_floor}) must be at most "
                f"'optimizer.cg_decay' ({self.cg_decay}), where the CG-decay schedule ends"
            )
        for key in ("clip_grad_norm", "clip_relative"):
            if getattr(run, key):
                raise ConfigError(f"config key {key!r} does not apply to optimizer 'hf'")
        if run.cuda_graphs:
            raise ConfigError("config key 'cuda_graphs' does not apply to optimizer 'hf'")


def momentum_schedule(config: RunSettings) -> MomentumLike:
    """μ as the run uses it: eq. (3), the RNN schedule or a constant, plus fine-tuning (Table 2)."""
    options = config.optimizer
    if not isinstance(options, MomentumConfig):
        raise ConfigError(f"optimizer {options.name!r} has no momentum")
    if options.momentum_schedule == "sutskever":
        schedule: MomentumLike = SutskeverMomentum(options.momentum, options.momentum_period)
    elif options.momentum_schedule == "rnn":
        schedule = rnn_momentum(options.momentum)
    else:
        schedule = options.momentum
    if options.finetune_steps > 0:
        base = Constant(schedule) if isinstance(schedule, float) else schedule
        schedule = LowMomentumFinetuning(base, config.steps, options.finetune_steps)
    return schedule


def cg_decay_schedule(options: HessianFreeConfig) -> Schedule | None:
    """The CG decay by update (``cg_decay_schedule`` of :class:`HessianFreeConfig`), or None
    when it is the constant ``cg_decay``."""
    if options.cg_decay_schedule == "constant":
        return None
    ramp = SutskeverMomentum(min(options.cg_decay, 1 - 1e-12), options.cg_decay_period)
    return Clip(ramp, lower=options.cg_decay_floor, upper=options.cg_decay)


def lr_schedule(config: RunSettings) -> PiecewiseConstant | None:
    """The learning rate by update: ``lr`` times ``lr_decay_factor`` once more from each of
    ``lr_decay_steps``; None without decay steps (the optimizer keeps ``lr``)."""
    options = config.optimizer
    if not isinstance(options, OptimizerConfig) or not options.lr_decay_steps:
        return None
    decays = range(len(options.lr_decay_steps) + 1)
    return PiecewiseConstant(
        boundaries=tuple(options.lr_decay_steps),
        values=tuple(options.lr * options.lr_decay_factor**count for count in decays),
    )


def hyperparameter_schedules(config: RunSettings) -> dict[str, Schedule]:
    """The per-update schedules of the run's optimizer, by ``param_groups`` key, for
    :class:`inertia.schedules.HyperparameterScheduler`: the learning-rate decay, and
    Hessian-free's CG-decay ramp. (μ's schedule goes to NAG and CM themselves, which need
    μ_{t+1} during update t.)"""
    schedules: dict[str, Schedule] = {}
    if (learning_rate := lr_schedule(config)) is not None:
        schedules["lr"] = learning_rate
    options = config.optimizer
    if isinstance(options, HessianFreeConfig) and (decay := cg_decay_schedule(options)):
        schedules["cg_decay"] = decay
    return schedules


class UpdateStatistics:
    """What the updates since the last evaluation did, for the curve: the minibatch gradient
    norms (the largest and the mean, before clipping) and how many updates clipping rescaled
    (Bengio et al. 2012's threshold; issue 35 asks how often it fired, issue 39 whether
    gradients explode between evaluations); the run's cost so far in gradient cases (one
    case's forward and backward pass; a first-order update costs its minibatch, a Hessian-free
    update its parts at their measured cost per case, ``HessianFree.last_step``, issue 35);
    and for Hessian-free what its updates did (the damping λ, CG iterations, the reduction
    ratio ρ, rejected steps: issue 35's question of how the damping answers the CG decay).
    Norms are kept as tensors on the gradients' device and read at evaluations only (a read
    per update would stall a GPU)."""

    def __init__(self) -> None:
        self._reset()
        self.damping = 0.0  # Hessian-free: the λ of the latest update (0: none yet)
        self.gradient_cases = 0.0
        self.window_total: Tensor | float = 0.0  # clip_relative: the window's norms so far
        self.window_updates = 0
        self.relative_threshold = 0.0  # set once the window is complete

    def clip_threshold(self, settings: RunSettings, norm: Tensor) -> float:
        """This update's clipping threshold (0: none): ``clip_grad_norm``, or with
        ``clip_relative`` none during the first ``clip_window`` updates, whose norms it
        averages, and ``clip_relative`` × that average from then on (Pascanu et al. 2013)."""
        if settings.clip_relative <= 0:
            return settings.clip_grad_norm
        if self.window_updates < settings.clip_window:
            self.window_total = self.window_total + norm.detach()
            self.window_updates += 1
            if self.window_updates == settings.clip_window:  # one read back, once per run
                average = float(self.window_total) / self.window_updates
                self.relative_threshold = settings.clip_relative * average
            return 0.0
        return self.relative_threshold

    def _reset(self) -> None:
        self.largest: Tensor | float = 0.0
        self.total: Tensor | float = 0.0
        self.clipped: Tensor | float = 0.0
        self.updates = 0
        self.hf_updates = 0
        self.cg_iterations = 0.0
        self.ratio_total = 0.0
        self.ratios = 0  # finite ρ only (ρ is -inf where the trial objective rose to non-finite)
        # CG's warm start: its model value's share of CG's final one, where CG's model fell
        self.warm_start_total = 0.0
        self.warm_starts = 0
        self.rejected = 0  # updates that took no step (step length 0)

    def add(self, norm: Tensor, threshold: float) -> None:
        """One update's minibatch gradient norm (before clipping at ``threshold``, 0: off)."""
        norm = norm.detach()
        if isinstance(self.largest, Tensor) and isinstance(self.total, Tensor):  # in place
            torch.maximum(self.largest, norm, out=self.largest)
            self.total.add_(norm)
        else:  # the first update since a read (or a resume): the same values, new tensors
            self.largest = torch.maximum(norm, torch.as_tensor(self.largest, device=norm.device))
            self.total = self.total + norm
        if threshold > 0:
            self.clipped = self.clipped + (norm > threshold).to(norm.dtype)
        self.updates += 1

    def add_cost(self, cases: float) -> None:
        """One update's cost in gradient cases."""
        self.gradient_cases += cases

    def add_hessian_free(self, step: dict[str, float]) -> None:
        """One Hessian-free update's record (``HessianFree.last_step``): its cost, λ, CG
        iterations, ρ and whether it stepped."""
        self.add_cost(step["gradient_cases"])
        self.hf_updates += 1
        self.damping = step["damping"]
        self.cg_iterations += step["cg_iterations"]
        if math.isfinite(step["reduction_ratio"]):
            self.ratio_total += step["reduction_ratio"]
            self.ratios += 1
        # φ(x0) / φ(x_N), where CG's model fell: 1 = the warm start was already CG's answer,
        # 0 = no better than zero, negative = worse than zero
        if step["cg_model"] < 0:
            self.warm_start_total += step["cg_start_model"] / step["cg_model"]
            self.warm_starts += 1
        self.rejected += int(step["lr"] == 0)

    def read(self) -> dict[str, float]:
        """``grad_norm_max``, ``grad_norm_mean`` and ``clipped_updates`` since the last read
        (none before the first update), and for Hessian-free ``hf_damping`` (the latest λ),
        ``hf_cg_iterations``, ``hf_reduction_ratio`` (finite ρ), ``hf_rejected_updates`` and
        ``hf_warm_start_share`` (the mean of φ(x0) / φ(x_N), CG's quadratic model at its decayed
        warm start over its value at CG's answer: 0 from zero, negative when the warm start
        was worse than zero), then counting again; ``gradient_cases`` so far."""
        found = {"gradient_cases": self.gradient_cases}
        if self.updates:
            found.update(
                grad_norm_max=float(self.largest),
                grad_norm_mean=float(self.total) / self.updates,
                clipped_updates=float(self.clipped),
            )
        if self.hf_updates:
            found.update(
                hf_damping=self.damping,
                hf_cg_iterations=self.cg_iterations / self.hf_updates,
                hf_rejected_updates=float(self.rejected),
            )
            if self.ratios:
                found["hf_reduction_ratio"] = self.ratio_total / self.ratios
            if self.warm_starts:
                found["hf_warm_start_share"] = self.warm_start_total / self.warm_starts
        self._reset()
        return found

    def state_dict(self) -> dict[str, float | int]:
        return {"largest": float(self.largest), "total": float(self.total),
                "clipped": float(self.clipped), "updates": self.updates,
                "gradient_cases": self.gradient_cases, "window_total": float(self.window_total),
                "window_updates": self.window_updates,
                "relative_threshold": self.relative_threshold, "damping": self.damping,
                "hf_updates": self.hf_updates, "cg_iterations": self.cg_iterations,
                "ratio_total": self.ratio_total, "ratios": self.ratios,
                "rejected": self.rejected, "warm_start_total": self.warm_start_total,
                "warm_starts": self.warm_starts}  # fmt: skip

    def load_state_dict(self, state: dict[str, float | int]) -> None:
        self.largest, self.total = float(state["largest"]), float(state["total"])
        self.clipped, self.updates = float(state["clipped"]), int(state["updates"])
        self.gradient_cases = float(state.get("gradient_cases", 0.0))
        self.window_total = float(state.get("window_total", 0.0))
        self.window_updates = int(state.get("window_updates", 0))
        self.relative_threshold = float(state.get("relative_threshold", 0.0))
        self.damping = float(state.get("damping", 0.0))
        self.hf_updates = int(state.get("hf_updates", 0))
        self.cg_iterations = float(state.get("cg_iterations", 0.0))
        self.ratio_total = float(state.get("ratio_total", 0.0))
        self.ratios = int(state.get("ratios", 0))
        self.rejected = int(state.get("rejected", 0))
        self.warm_start_total = float(state.get("warm_start_total", 0.0))
        self.warm_starts = int(state.get("warm_starts", 0))


# Each trained model's parameter list, read once: walking the module tree for it every update
# cost an eighth of a small model's update (the engine benchmark, issue 3's target).
_PARAMETERS: weakref.WeakKeyDictionary[nn.Module, tuple[list[nn.Parameter], bool]] = (
    weakref.WeakKeyDictionary()
)


def _parameters_of(model: nn.Module) -> tuple[list[nn.Parameter], bool]:
    """``model``'s parameters (a model does not gain any while it trains) and whether they share
    one dtype on one CPU or CUDA device, where :func:`gradient_norm` needs no grouping."""
    found = _PARAMETERS.get(model)
    if found is None:
        parameters = list(model.parameters())
        kinds = {(p.device, p.dtype) for p in parameters}
        uniform = len(kinds) == 1 and next(iter(kinds))[0].type in ("cpu", "cuda")
        found = _PARAMETERS[model] = (parameters, uniform)
    return found


def gradient_norm(gradients: list[Tensor], uniform: bool) -> Tensor:
    """The 2-norm of ``gradients`` viewed as one vector, as ``nn.utils.get_total_norm`` computes
    it (the same kernels in the same order, so the same bits); ``uniform`` (one dtype on one CPU
    or CUDA device) skips its grouping of the tensors by device and dtype."""
    if not uniform or not gradients:
        return nn.utils.get_total_norm(gradients)
    with torch.no_grad():
        return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(gradients, 2.0)), 2.0)


def clip_gradients_(gradients: list[Tensor], threshold: float, norm: Tensor, uniform: bool) -> None:
    """Scale ``gradients`` in place to the norm ``threshold`` where ``norm`` (theirs) exceeds it,
    as ``nn.utils.clip_grads_with_norm_`` does (Bengio et al. 2012's clipping); ``uniform`` as
    in :func:`gradient_norm` (otherwise one tensor at a time: the same products)."""
    with torch.no_grad():
        scale = torch.clamp(threshold / (norm + 1e-6), max=1.0)
        if uniform:
            torch._foreach_mul_(gradients, scale)
            return
        for gradient in gradients:
            gradient.mul_(scale.to(gradient.device))


def gradient_step(
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    loss: Loss,
    inputs: Tensor,
    targets: Tensor,
    config: RunSettings,
    norms: UpdateStatistics | None = None,
) -> Tensor:
    """One first-order update: the minibatch gradient (clipped to ``clip_grad_norm`` or by
    ``clip_relative`` if set), then ``optimizer.step()``; its norm (before clipping) goes to
    ``norms`` where the run records ``gradient_norms`` or clips, and its cost always. Returns the
    minibatch loss."""
    optimizer.zero_grad(set_to_none=True)
    value = loss(model(inputs), targets)
    value.backward()
    if config.clip_relative > 0 and norms is None:
        raise ValueError("clip_relative needs the run's UpdateStatistics, which hold its window")
    clipping = config.clip_grad_norm > 0 or config.clip_relative > 0
    if clipping or (norms is not None and config.gradient_norms):
        parameters, uniform = _parameters_of(model)
        gradients = [p.grad for p in parameters if p.grad is not None]
        norm = gradient_norm(gradients, uniform)
        threshold = config.clip_grad_norm if norms is None else norms.clip_threshold(config, norm)
        if threshold > 0:
            clip_gradients_(gradients, threshold, norm, uniform)
        if norms is not None:
            norms.add(norm, threshold)
    optimizer.step()
    if norms is not None:  # a task whose "inputs" are not cases (hypergradient): its batch
        norms.add_cost(inputs.shape[0] if isinstance(inputs, Tensor) else config.batch_size)
    return value


def hessian_free_step(
    optimizer: torch.optim.Optimizer,
    model: nn.Module,
    loss: Loss,
    inputs: Tensor,
    targets: Tensor,
    config: RunSettings,
    norms: UpdateStatistics | None = None,
) -> Tensor:
    """One HF update: gradient on the minibatch, curvature on its first ``curvature_batch``
    cases (Martens 2010, section 4.3). Returns the minibatch loss."""
    if not isinstance(optimizer, HessianFree):
        raise TypeError(f"hessian_free_step needs a HessianFree optimizer, got {optimizer!r}")
    curvature = getattr(config.optimizer, "curvature_batch", 0)
    batch = lambda: (model(inputs), targets)  # noqa: E731
    if curvature and curvature < inputs.shape[0]:
        part = lambda: (model(inputs[:curvature]), targets[:curvature])  # noqa: E731
        value = optimizer.step(batch, part)
    else:
        value = optimizer.step(batch)
    if norms is not None:
        norms.add_hessian_free(optimizer.last_step)
    return value


_O = TypeVar("_O", bound=OptimizerConfig)


def _settings(config: RunSettings, kind: type[_O]) -> _O:
    """``config.optimizer`` as the settings class its entry registered."""
    options = config.optimizer
    if not isinstance(options, kind):
        raise ConfigError(f"optimizer {options.name!r} has no {kind.__name__} settings")
    return options


def _sgd(params: Iterable[Tensor], config: RunSettings, output_loss: str | None) -> CM:
    options = _settings(config, SGDConfig)
    return CM(params, lr=options.lr, momentum=0.0, weight_decay=options.weight_decay,
              fused=options.fused)  # fmt: skip


def _momentum(params: Iterable[Tensor], config: RunSettings, output_loss: str | None) -> CM | NAG:
    options = _settings(config, MomentumConfig)
    optimizer = NAG if options.name == "nag" else CM
    return optimizer(params, lr=options.lr, momentum=momentum_schedule(config),
                     weight_decay=options.weight_decay, fused=options.fused)  # fmt: skip


def _adam(
    params: Iterable[Tensor], config: RunSettings, output_loss: str | None
) -> torch.optim.Adam:
    options = _settings(config, AdamConfig)
    return torch.optim.Adam(params, lr=options.lr, weight_decay=options.weight_decay)


def _hessian_free(
    params: Iterable[Tensor], config: RunSettings, output_loss: str | None
) -> HessianFree:
    if output_loss is None:
        raise ConfigError(
            "optimizer 'hf' needs the task's output loss (one of the matching pairs of "
            f"inertia.optim.OUTPUT_LOSSES); task {config.task.name!r} does not declare one"
        )
    engine_only = {"name", "lr_decay_steps", "lr_decay_factor", "curvature_batch",
                   "cg_decay_schedule", "cg_decay_period", "cg_decay_floor"}  # fmt: skip
    settings = config.optimizer.model_dump(exclude=engine_only)
    try:
        return HessianFree(params, loss=output_loss, **settings)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"config key 'optimizer' for optimizer 'hf': {error}") from None


@dataclasses.dataclass(frozen=True)
class OptimizerEntry:
    """A registered optimizer.

    Attributes:
        options: its settings (the ``optimizer`` section), a :class:`OptimizerConfig`.
        build: ``build(params, config, output_loss) -> torch.optim.Optimizer``; ``output_loss``
            is the task's matching output loss, which Hessian-free needs.
        step: ``step(optimizer, model, loss, inputs, targets, config, norms) -> loss`` makes
            one update and records it in ``norms``, an :class:`UpdateStatistics` (a first-order
            step its gradient's norm and cost, Hessian-free its measured cost).
    """

    options: type[OptimizerConfig]
    build: Callable[..., torch.optim.Optimizer]
    step: Callable[..., Tensor] = gradient_step


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "sgd": OptimizerEntry(SGDConfig, _sgd),
    "cm": OptimizerEntry(MomentumConfig, _momentum),
    "nag": OptimizerEntry(MomentumConfig, _momentum),
    "adam": OptimizerEntry(AdamConfig, _adam),
    "hf": OptimizerEntry(HessianFreeConfig, _hessian_free, hessian_free_step),
}


def build_optimizer(
    params: Iterable[Tensor], config: RunSettings, output_loss: str | None = None
) -> torch.optim.Optimizer:
    """The optimizer that ``config.optimizer`` names; ``output_loss`` is the task's matching
    loss (``Problem.output_loss``), which Hessian-free needs."""
    return OPTIMIZERS[config.optimizer.name].build(params, config, output_loss)
