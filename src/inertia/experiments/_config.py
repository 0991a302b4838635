"""Typed run configuration (pydantic), loadable from YAML and ``--key=value`` overrides.

A run is a :class:`RunConfig`: the training settings at the top level, and two sections chosen by
name, ``task`` (one of :data:`inertia.tasks.TASKS`, with that task's typed options) and
``optimizer`` (one of :data:`inertia.experiments.OPTIMIZERS`, with that optimizer's typed
settings)::

    task: {name: long-term, problem: addition, length: 80}
    optimizer: {name: nag, lr: 1.0e-4, momentum: 0.995, momentum_schedule: rnn}
    steps: 50000

A section may be given by its name alone (``optimizer: adam``). Unknown keys, wrong types and
impossible values are rejected up front with a one-line :class:`ConfigError` that names the key
(dotted, e.g. ``optimizer.momentum``) and the value.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import pydantic
import yaml
from pydantic import BaseModel, Field, SerializeAsAny, field_validator

from inertia.config import ConfigError, Section
from inertia.experiments._optimizers import OPTIMIZERS, OptimizerConfig
from inertia.tasks import TASKS, TaskConfig

_S = typing.TypeVar("_S", bound=Section)

__all__ = [
    "ConfigError",
    "RunConfig",
    "Section",
    "format_validation_error",
    "from_mapping",
    "load_config",
    "merge",
    "nest",
    "parse_overrides",
    "settings_help",
]


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_PHRASES = {
    "greater_than_equal": lambda ctx: f"must be >= {_bound(ctx['ge'])}",
    "greater_than": lambda ctx: f"must be > {_bound(ctx['gt'])}",
    "less_than_equal": lambda ctx: f"must be <= {_bound(ctx['le'])}",
    "less_than": lambda ctx: f"must be < {_bound(ctx['lt'])}",
    "literal_error": lambda ctx: f"must be one of {ctx['expected']}",
    "int_parsing": lambda ctx: "must be an integer",
    "int_type": lambda ctx: "must be an integer",
    "int_from_float": lambda ctx: "must be an integer",
    "float_parsing": lambda ctx: "must be a number",
    "finite_number": lambda ctx: "must be a finite number",
    "bool_for_number": lambda ctx: "must be a number, not a boolean",
    "float_type": lambda ctx: "must be a number",
    "bool_parsing": lambda ctx: "must be true or false",
    "bool_type": lambda ctx: "must be true or false",
    "string_type": lambda ctx: "must be a string",
    "list_type": lambda ctx: "must be a list",
    "missing": lambda ctx: "is required",
    "model_type": lambda ctx: "must be a mapping of keys to values",
    "dict_type": lambda ctx: "must be a mapping of keys to values",
}


def _known_keys(model: type[BaseModel], location: Sequence[Any]) -> list[str]:
    """The field names of the (sub)model at ``location`` below ``model``, for a did-you-mean."""
    for part in location:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def format_validation_error(
    error: pydantic.ValidationError, model: type[BaseModel], prefix: str = "", owner: str = ""
) -> str:
    """pydantic's first error as one line: ``config key 'optimizer.momentum' must be < 1, got
    1.0``; ``unknown config key 'stepz' (did you mean 'steps'?)``. ``prefix`` goes before the
    keys of a section's errors; ``owner`` names the section's task or optimizer."""
    first = error.errors(include_url=False)[0]
    context = first.get("ctx") or {}
    if isinstance(context.get("error"), ConfigError):  # raised by a validator of ours
        return str(context["error"])
    if first["type"] == "value_error":  # a validator's own message, which names its keys
        where = prefix.rstrip(".") or ".".join(str(part) for part in first["loc"])
        return f"config key {where!r}: {context['error']}" if where else str(context["error"])
    location = [part for part in first["loc"] if not isinstance(part, int)]
    key = prefix + ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        known = _known_keys(model, location[:-1])
        close = difflib.get_close_matches(str(location[-1]), known, n=1)
        if not close:
            return f"unknown config key {key!r}" + (f" ({owner} has no such setting)" * bool(owner))
        suggestion = prefix + ".".join(map(str, [*location[:-1], close[0]]))
        return f"unknown config key {key!r} (did you mean {suggestion!r}?)"
    phrase = _PHRASES.get(first["type"])
    text = phrase(context) if phrase else first["msg"][0].lower() + first["msg"][1:]
    if first["type"] == "missing":
        return f"config key {key!r} {text}"
    return f"config key {key!r} {text}, got {first['input']!r}"


def _section(value: Any, registry: Mapping[str, type[_S]], field: str, default: str) -> _S:
    """Validate a ``task`` or ``optimizer`` section with the options class its name selects
    (``default`` where the section names none)."""
    if isinstance(value, BaseModel):
        if registry.get(str(getattr(value, "name", ""))) is not type(value):
            raise ConfigError(f"config key {field!r} got {value!r}, not a registered {field}'s")
        return typing.cast(_S, value)
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"config key {field!r} must be a {field} name or a mapping of its settings, got "
            f"{value!r}"
        )
    name = value.get("name", default)
    if name not in registry:
        close = difflib.get_close_matches(str(name), sorted(registry), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"config key '{field}.name' must be a registered {field} "
            f"({', '.join(sorted(registry))}), got {name!r}{hint}"
        )
    options = registry[name]
    try:
        return options.model_validate({**value, "name": name})
    except pydantic.ValidationError as error:
        owner = f"{field} {name!r}"
        raise ConfigError(format_validation_error(error, options, f"{field}.", owner)) from None


def _task_registry() -> dict[str, type[TaskConfig]]:
    return {name: task.Options for name, task in TASKS.items()}


def _optimizer_registry() -> dict[str, type[OptimizerConfig]]:
    return {name: entry.options for name, entry in OPTIMIZERS.items()}


_DEFAULT_TASK = "toy-regression"
_DEFAULT_OPTIMIZER = "nag"


def _default_task() -> TaskConfig:
    return _task_registry()[_DEFAULT_TASK](name=_DEFAULT_TASK)


def _default_optimizer() -> OptimizerConfig:
    return _optimizer_registry()[_DEFAULT_OPTIMIZER](name=_DEFAULT_OPTIMIZER)


class RunConfig(Section):
    """Everything that defines one training run ("train model M on task D with optimizer O").

    Attributes:
        task: the task and its options, e.g. ``{name: autoencoder, dataset: curves}``
            (``inertia tasks`` lists every task's options).
        optimizer: the optimizer and its settings, e.g. ``{name: nag, lr: 0.01, momentum:
            0.99, momentum_schedule: sutskever}``; ``sgd``, ``cm``, ``nag``, ``adam`` or ``hf``
            (Hessian-free).
        init: ``default`` (the task's), ``sparse`` (Martens 2010 SI) or ``torch`` (torch's own).
        init_scale: the SI scale multiplier (Sutskever et al. Table 3).
        clip_grad_norm: rescale the gradient to this norm when it is larger (0 = off).
        clip_relative: instead of a fixed norm, clip at this multiple of the average gradient
            norm of the run's first ``clip_window`` updates, which run unclipped (0 = off): the
            rule of Pascanu et al. (2013, section 3.2), who set the threshold from "statistics on
            the average norm over a sufficiently large number of updates" and found half to ten
            times that average to work.
        clip_window: the updates whose average gradient norm sets ``clip_relative``'s
            threshold.
        gradient_norms: record each update's minibatch gradient norm (before clipping) for the
            curves: the largest and the mean between evaluations (``grad_norm_max``,
            ``grad_norm_mean``), which show gradients exploding between two evaluations. Off,
            a first-order update saves that norm (about a sixth of the toy network's update on
            a CPU in ``benchmarks/bench_engine.py``, a twentieth of the MNIST MLP's); clipped
            runs compute it anyway and record it, with how often they clipped
            (``clipped_updates``).
        batch_size: minibatch size.
        steps: number of updates (the budget).
        max_gradient_cases: also stop at the first update after which the run's cost reaches
            this many gradient cases (one case's forward and backward pass; the curves'
            ``gradient_cases``), 0 = no such limit: the budget of a comparison at equal cost,
            e.g. Hessian-free against NAG (issue 35).
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

    SECTIONS: ClassVar[tuple[str, ...]] = ("task", "optimizer")

    task: SerializeAsAny[TaskConfig] = Field(default_factory=_default_task)
    optimizer: SerializeAsAny[OptimizerConfig] = Field(default_factory=_default_optimizer)
    init: Literal["default", "sparse", "torch"] = "default"
    init_scale: float = Field(1.0, gt=0)
    clip_grad_norm: float = Field(0.0, ge=0)
    clip_relative: float = Field(0.0, ge=0)
    clip_window: int = Field(100, ge=1)
    gradient_norms: bool = True
    batch_size: int = Field(200, ge=1)
    steps: int = Field(1000, ge=1)
    max_gradient_cases: float = Field(0.0, ge=0)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    eval_every: int = Field(250, ge=1)
    checkpoint_every: int = Field(500, ge=0)
    precision: Literal["float32", "float64"] = "float32"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    cuda_graphs: bool = False
    divergence_factor: float = Field(1e3, gt=1)
    data_dir: str = ""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as error:
            raise ConfigError(format_validation_error(error, type(self))) from None

    @field_validator("task", mode="before")
    @classmethod
    def _task(cls, value: Any) -> TaskConfig:
        return _section(value, _task_registry(), "task", _DEFAULT_TASK)

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer(cls, value: Any) -> OptimizerConfig:
        return _section(value, _optimizer_registry(), "optimizer", _DEFAULT_OPTIMIZER)

    @pydantic.model_validator(mode="after")
    def _across_sections(self) -> RunConfig:
        if self.init_scale != 1.0 and self.init != "sparse":
            raise ConfigError(
                f"config key 'init_scale' ({self.init_scale:g}) scales the sparse "
                f"initialization, but init is {self.init!r}: set init=sparse or leave it out"
            )
        if self.clip_grad_norm > 0 and self.clip_relative > 0:
            raise ConfigError(
                f"config keys 'clip_grad_norm' ({self.clip_grad_norm:g}) and 'clip_relative' "
                f"({self.clip_relative:g}) are two thresholds: set one of them"
            )
        self.optimizer.check_run(self)  # settings that depend on the run (fine-tuning, ...)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The whole configuration as plain JSON-compatible values (sections as mappings)."""
        return self.model_dump(mode="json")

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes`` merged in (dotted keys set one setting of a section, see
        :func:`merge`)."""
        return from_mapping(RunConfig, merge(self.to_dict(), nest(changes)))


def from_mapping(cls: type[RunConfig], mapping: Mapping[str, Any]) -> RunConfig:
    """Build ``cls`` from a mapping (dotted keys nest), rejecting bad input with a
    :class:`ConfigError`."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"a configuration must be a mapping of keys to values, got {mapping!r}")
    try:
        return cls.model_validate(nest(mapping))
    except pydantic.ValidationError as error:
        raise ConfigError(format_validation_error(error, cls)) from None


def _type_text(annotation: Any) -> str:
    if typing.get_origin(annotation) is Literal:
        return " | ".join(str(value) for value in typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        return f"list of {_type_text(typing.get_args(annotation)[0])}"
    return getattr(annotation, "__name__", str(annotation))


def _bounds_text(field: Any) -> str:
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    bounds = [
        f"{symbol} {_bound(getattr(item, key))}"
        for item in field.metadata
        for key, symbol in symbols.items()
        if getattr(item, key, None) is not None
    ]
    return f", {' and '.join(bounds)}" if bounds else ""


def settings_help(model: type[BaseModel], prefix: str = "") -> list[str]:
    """One line per setting of ``model``: ``prefix.key: type = default`` with its bounds, for
    ``inertia tasks`` and ``inertia train --help`` (generated, so it cannot drift)."""
    lines = []
    for key, field in model.model_fields.items():
        if key == "name" or key in RunConfig.SECTIONS:
            continue
        default = field.get_default(call_default_factory=True)
        lines.append(
            f"{prefix}{key}: {_type_text(field.annotation)}{_bounds_text(field)} = {default!r}"
        )
    return lines


CONFIG_FILE_LIMIT = 1 << 20  # bytes: a run's settings are a few hundred


class _DuplicateKeyError(Exception):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(key, line)
        self.key, self.line = key, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML would keep the
    last silently; a duplicated key is almost always a mistake)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML file of ``key: value`` pairs (validated when combined into a config).

    An empty file (or one of comments only) means "no settings": the defaults. A key given twice
    in one mapping is refused, as is a file over 1 MiB (``/dev/zero`` would be read forever)."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(CONFIG_FILE_LIMIT + 1)
        if len(raw) > CONFIG_FILE_LIMIT:
            raise ConfigError(
                f"config file {path} is larger than {CONFIG_FILE_LIMIT >> 20} MiB; a config "
                "file holds a run's key: value settings"
            )
        content = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeyLoader)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not text (UTF-8 YAML)") from None
    except _DuplicateKeyError as duplicate:
        raise ConfigError(
            f"config file {path}: key {duplicate.key!r} is given twice (again at line "
            f"{duplicate.line}); give each key once"
        ) from None
    except yaml.YAMLError as error:
        problem = str(error).replace("\n", " ")
        raise ConfigError(f"config file {path} is not valid YAML: {problem}") from None
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


def _as_section(value: Any) -> Any:
    """A section given by its name alone (``optimizer: adam``) as a mapping."""
    return {"name": value} if isinstance(value, str) else value


def nest(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys as nested mappings: ``{"optimizer.lr": 0.1}`` -> ``{"optimizer": {"lr":
    0.1}}``; sections given by name become ``{"name": ...}`` mappings."""
    nested: dict[str, Any] = {}
    for key, value in mapping.items():
        nested = merge(nested, _nested_one(str(key), value))
    return nested


def _nested_one(key: str, value: Any) -> dict[str, Any]:
    parts = key.split(".")
    if parts[0] in RunConfig.SECTIONS and len(parts) == 1:
        value = _as_section(value)
    for part in reversed(parts[1:]):
        value = {part: value}
    return {parts[0]: value}


def parse_overrides(arguments: Sequence[str]) -> dict[str, Any]:
    """Turn ``--key=value`` (or ``key=value``) arguments into a nested mapping.

    ``--optimizer=nag`` chooses a section by name; ``--optimizer.lr=0.1`` sets one of its keys.
    """
    overrides: dict[str, Any] = {}
    for argument in arguments:
        text = argument[2:] if argument.startswith("--") else argument
        if "=" not in text:
            raise ConfigError(f"override {argument!r} must look like --key=value")
        key, raw = text.split("=", 1)
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {argument!r} must look like --key=value")
        overrides = merge(overrides, _nested_one(key, parse_value(raw)))
    return overrides


def _registry(section: str) -> Mapping[str, type[Section]]:
    return _task_registry() if section == "task" else _optimizer_registry()


def _switched(section: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` (another task or optimizer than ``old``'s) merged over the settings of ``old``
    that the new one also has: switching NAG to CM keeps lr and momentum, NAG to Adam drops
    momentum."""
    options = _registry(section).get(new["name"])
    fields = options.model_fields if options is not None else {}
    return merge({key: value for key, value in old.items() if key in fields}, new)


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` on top of ``base``; nested mappings merge key by key. Where an override
    names another task or optimizer than ``base`` did, only the base settings that the new one
    has carry over."""
    merged = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        if key in RunConfig.SECTIONS:
            value, old = _as_section(value), _as_section(old)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            renamed = key in RunConfig.SECTIONS and old.get("name", value.get("name")) != (
                value.get("name", old.get("name"))
            )
            merged[key] = _switched(key, old, value) if renamed else merge(old, value)
        else:
            merged[key] = dict(value) if isinstance(value, Mapping) else value
    return merged
