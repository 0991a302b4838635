"""The base of every typed group of settings (a run's, a task's, an optimizer's): unknown keys
rejected, values frozen, numbers that are numbers.

One module that the experiment engine (:mod:`inertia.experiments`) and the tasks
(:mod:`inertia.tasks`) both build on, so that neither imports the other for it.

A number field takes ints and floats only where they are finite, and never a boolean: YAML reads
``no``, ``off`` and ``false`` as False and ``on``, ``yes`` and ``true`` as True, which pydantic
would otherwise turn into 0 and 1 (``--optimizer.momentum=no`` training with momentum 0), and a
rate of ``inf`` or ``1e999`` would only show up as a divergence at update 2.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = ["ConfigError", "Section", "is_number_annotation"]


class ConfigError(ValueError):
    """A configuration key is unknown, has the wrong type or an impossible value."""


def is_number_annotation(annotation: Any) -> bool:
    """Whether a field of this type holds a number: ``int``, ``float``, a ``Literal`` of numbers,
    or an optional or union of these."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is Literal:
        return bool(arguments) and all(
            isinstance(value, (int, float)) and not isinstance(value, bool) for value in arguments
        )
    if origin in (typing.Union, types.UnionType):
        named = [argument for argument in arguments if argument is not type(None)]
        return bool(named) and all(is_number_annotation(argument) for argument in named)
    return False


class Section(BaseModel):
    """A typed, frozen group of settings that rejects unknown keys, booleans given for numbers
    and non-finite numbers (a task's or an optimizer's options, or the run itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @pydantic.field_validator("*", mode="before")
    @classmethod
    def _numbers_are_not_booleans(cls, value: Any, info: pydantic.ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        annotation, items = field.annotation, [value]
        if typing.get_origin(annotation) is list and isinstance(value, list):
            (annotation,), items = typing.get_args(annotation), value  # each item of a list
        if is_number_annotation(annotation) and any(isinstance(item, bool) for item in items):
            # phrased by the config's error formatter: "config key 'steps' must be a number,
            # not a boolean, got True"
            raise PydanticCustomError("bool_for_number", "must be a number, not a boolean")
        return value
