"""Typed run configuration, loadable from YAML and ``--key=value`` overrides, validated up front."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

__all__ = [
    "ConfigError",
    "RunConfig",
    "from_mapping",
    "load_config",
    "merge",
    "parse_overrides",
]

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration key is unknown, has the wrong type or an impossible value."""


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run ("train model M on task D with optimizer O").

    Attributes:
        task: a registered task (``inertia tasks`` lists them).
        model: the task's model variant (``default`` = the paper's).
        task_options: task-specific settings, validated by the task (e.g. a sequence length).
        init: ``default`` (the task's), ``sparse`` (Martens 2010 SI) or ``torch`` (torch's own).
        init_scale: the SI scale multiplier (Sutskever et al. Table 3).
        optimizer: ``sgd``, ``cm``, ``nag``, ``adam`` or ``hf`` (Hessian-free).
        optimizer_options: settings of the optimizer beyond ``lr``, ``momentum`` and
            ``weight_decay``; for ``hf`` the keyword arguments of
            :class:`inertia.optim.HessianFree` (e.g. ``cg_max_iterations``) and
            ``curvature_batch``, the cases of each minibatch used for curvature products
            (0 = all).
        lr: the learning rate ε (for ``hf``, the step along the CG solution).
        lr_decay_steps: updates (0-based) from which the learning rate is multiplied by
            ``lr_decay_factor`` once more; e.g. ``[50]`` with 0.1 runs updates 0-49 at ``lr``
            and the rest at ``lr / 10`` (Liao et al.'s meta-optimizer).
        lr_decay_factor: the factor of each decay.
        momentum: μ for ``constant``, μ_max for ``sutskever`` (eq. 3), μ₀ for ``rnn``.
        momentum_schedule: ``constant``, ``sutskever`` or ``rnn``.
        momentum_period: updates per plateau of the ``sutskever`` schedule (250 in eq. 3;
            quick budgets shorten it so that μ_max is reached within the budget).
        finetune_steps: low-momentum fine-tuning (μ = 0.9) for the last N updates (Table 2).
        weight_decay: L2 coefficient.
        clip_grad_norm: rescale the gradient to this norm when it is larger (0 = off).
        batch_size: minibatch size.
        steps: number of updates (the budget).
        seed: seeds initialization and minibatch order.
        eval_every: evaluate on the whole training set (at θ) every N updates.
        checkpoint_every: write a checkpoint every N updates (0 = only at the end).
        precision: ``float32`` or ``float64``.
        device: ``cpu``, ``cuda`` or ``auto``.
        cuda_graphs: on a CUDA device, replay the model's forward and backward passes as CUDA
            graphs (``torch.cuda.make_graphed_callables``), which removes the kernel-launch
            overhead that dominates small networks; ignored on the CPU.
        divergence_factor: stop as diverged when the training loss exceeds this multiple of its
            initial value (NaN or inf always count as divergence).
        data_dir: data directory ("" = ``$INERTIA_DATA`` or ``~/.cache/inertia``).
    """

    task: str = "toy-regression"
    model: str = "default"
    task_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    init: Literal["default", "sparse", "torch"] = "default"
    init_scale: float = 1.0
    optimizer: str = "nag"
    optimizer_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    lr: float = 0.01
    lr_decay_steps: list[int] = dataclasses.field(default_factory=list)
    lr_decay_factor: float = 0.1
    momentum: float = 0.9
    momentum_schedule: Literal["constant", "sutskever", "rnn"] = "constant"
    momentum_period: int = 250
    finetune_steps: int = 0
    weight_decay: float = 0.0
    clip_grad_norm: float = 0.0
    batch_size: int = 200
    steps: int = 1000
    seed: int = 0
    eval_every: int = 250
    checkpoint_every: int = 500
    precision: Literal["float32", "float64"] = "float32"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    cuda_graphs: bool = False
    divergence_factor: float = 1e3
    data_dir: str = ""

    def __post_init__(self) -> None:
        _check_types(self)
        checks = [
            ("lr", self.lr >= 0, ">= 0"),
            (
                "lr_decay_steps",
                all(b > a for a, b in zip([0, *self.lr_decay_steps], self.lr_decay_steps)),
                "increasing positive update numbers",
            ),
            ("lr_decay_factor", self.lr_decay_factor > 0, "> 0"),
            ("momentum", 0 <= self.momentum < 1, "in [0, 1)"),
            ("init_scale", self.init_scale > 0, "> 0"),
            ("momentum_period", self.momentum_period >= 1, ">= 1"),
            ("finetune_steps", 0 <= self.finetune_steps <= self.steps, "in [0, steps]"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("clip_grad_norm", self.clip_grad_norm >= 0, ">= 0 (0 = off)"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("steps", self.steps >= 1, ">= 1"),
            ("eval_every", self.eval_every >= 1, ">= 1"),
            ("checkpoint_every", self.checkpoint_every >= 0, ">= 0 (0 = only at the end)"),
            ("divergence_factor", self.divergence_factor > 1, "> 1"),
        ]
        for key, ok, requirement in checks:
            if not ok:
                raise ConfigError(
                    f"config key {key!r} must be {requirement}, got {getattr(self, key)!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> RunConfig:
        return from_mapping(RunConfig, {**self.to_dict(), **changes})


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return f"a list of {_type_name(typing.get_args(annotation)[0])}"
    return getattr(annotation, "__name__", str(annotation))


def _matches(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return value in typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(annotation))
    if origin is dict:
        return isinstance(value, dict)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if annotation is Any:
        return True
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is type(None):
        return value is None
    return isinstance(value, annotation)


def _check_value_type(cls: type, key: str, value: Any) -> None:
    annotation = typing.get_type_hints(cls)[key]
    if not _matches(value, annotation):
        raise ConfigError(f"config key {key!r} must be {_type_name(annotation)}, got {value!r}")


def _check_types(instance: Any) -> None:
    hints = typing.get_type_hints(type(instance))
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        _check_value_type(type(instance), field.name, value)
        if hints[field.name] is float and isinstance(value, int):
            object.__setattr__(instance, field.name, float(value))


def from_mapping(cls: type[T], mapping: Mapping[str, Any]) -> T:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys with a suggestion."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"a configuration must be a mapping of keys to values, got {mapping!r}")
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config key {key!r}{hint}")
        _check_value_type(cls, key, mapping[key])  # before the class's own value checks run
    return cls(**mapping)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML file of ``key: value`` pairs (validated when combined into a config)."""
    path = Path(path)
    try:
        content = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values")
    return content


def parse_value(text: str) -> Any:
    """A command-line value, read as YAML (so 0.1, 1e-3, true, null and [1, 2] work)."""
    if text == "":
        return ""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        # YAML 1.1 reads "1e-3" as a string; numbers written that way are meant as numbers.
        for number in (int, float):
            try:
                return number(value)
            except ValueError:
                pass
    return value


def parse_overrides(arguments: Sequence[str]) -> dict[str, Any]:
    """Turn ``--key=value`` (or ``key=value``) arguments into a mapping.

    ``--task_options.T=80`` sets one entry of the ``task_options`` mapping.
    """
    overrides: dict[str, Any] = {}
    for argument in arguments:
        text = argument[2:] if argument.startswith("--") else argument
        if "=" not in text:
            raise ConfigError(f"override {argument!r} must look like --key=value")
        key, raw = text.split("=", 1)
        value = parse_value(raw)
        if "." in key:
            parent, child = key.split(".", 1)
            overrides.setdefault(parent, {})
            if not isinstance(overrides[parent], dict):
                raise ConfigError(f"override {argument!r} conflicts with --{parent}=...")
            overrides[parent][child] = value
        else:
            overrides[key] = value
    return overrides


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` on top of ``base``; nested mappings (``task_options``) merge key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
