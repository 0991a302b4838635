"""Apply schedules to the ``param_groups`` of any torch optimizer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch.optim import Optimizer

from inertia.optim import CM, NAG
from inertia.schedules._schedules import Schedule

__all__ = ["HyperparameterScheduler"]


def _per_group(
    name: str, schedule: Schedule | Sequence[Schedule] | None, groups: int
) -> list[Schedule] | None:
    if schedule is None:
        return None
    if callable(schedule):
        return [schedule] * groups
    schedules = list(schedule)
    if len(schedules) != groups or not all(callable(s) for s in schedules):
        raise ValueError(
            f"{name} must be one schedule or a list of {groups} schedules (one per param group), "
            f"got {schedule!r}"
        )
    return schedules


class HyperparameterScheduler:
    """Writes schedules of hyperparameters into an optimizer's ``param_groups`` every step: the
    one mechanism by which a hyperparameter changes per update (the experiment engine drives
    its learning-rate decay and Hessian-free's CG-decay ramp with it too).

    Works with any ``torch.optim.Optimizer`` whose groups have the keys it drives (``lr``,
    ``momentum`` for momentum methods such as ``torch.optim.SGD``, or any other numeric key
    given by name, e.g. ``cg_decay`` of :class:`inertia.optim.HessianFree`). Call :meth:`step`
    after each ``optimizer.step()``; construction writes the values for update 0.

    For :class:`inertia.optim.NAG` and :class:`inertia.optim.CM` the momentum schedule is handed to
    the optimizer itself, once, instead of being written as numbers: NAG needs μ_{t+1} during
    update t, which a value written after the update comes too late for. Their schedule is then
    evaluated at the optimizer's own update count.

    Args:
        optimizer: the optimizer to drive.
        lr: a schedule, or one per param group, or None to leave ``lr`` alone.
        momentum: likewise for ``momentum``.
        **others: likewise for any other key of the groups.

    Examples:
        >>> import torch
        >>> from inertia.schedules import HyperparameterScheduler, SutskeverMomentum
        >>> w = torch.nn.Parameter(torch.zeros(1))
        >>> sgd = torch.optim.SGD([w], lr=0.1, momentum=0.0)
        >>> scheduler = HyperparameterScheduler(sgd, momentum=SutskeverMomentum(0.99, period=1))
        >>> sgd.param_groups[0]["momentum"]
        0.5
        >>> scheduler.step(); sgd.param_groups[0]["momentum"]
        0.75
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr: Schedule | Sequence[Schedule] | None = None,
        momentum: Schedule | Sequence[Schedule] | None = None,
        **others: Schedule | Sequence[Schedule] | None,
    ) -> None:
        groups = len(optimizer.param_groups)
        self.optimizer = optimizer
        self.lr_schedules = _per_group("lr", lr, groups)
        self.momentum_schedules = _per_group("momentum", momentum, groups)
        self.other_schedules = {
            key: schedules
            for key, schedule in others.items()
            if (schedules := _per_group(key, schedule, groups)) is not None
        }
        driven = [("lr", self.lr_schedules), ("momentum", self.momentum_schedules),
                  *self.other_schedules.items()]  # fmt: skip
        for key, schedules in driven:
            if schedules is None:
                continue
            for index, group in enumerate(optimizer.param_groups):
                if key not in group:
                    present = sorted(k for k in group if k != "params")
                    raise ValueError(
                        f"param group {index} of {type(optimizer).__name__} has no {key!r} "
                        f"hyperparameter to schedule (it has {present})"
                    )
        self.holds_momentum = isinstance(optimizer, (CM, NAG))
        if self.holds_momentum and self.momentum_schedules is not None:
            for group, schedule in zip(optimizer.param_groups, self.momentum_schedules):
                group["momentum"] = schedule
        self.last_step = 0
        self._write(0)

    def _write(self, step: int) -> None:
        if self.lr_schedules is not None:
            for group, schedule in zip(self.optimizer.param_groups, self.lr_schedules):
                group["lr"] = schedule(step)
        if self.momentum_schedules is not None and not self.holds_momentum:
            for group, schedule in zip(self.optimizer.param_groups, self.momentum_schedules):
                group["momentum"] = schedule(step)
        for key, schedules in self.other_schedules.items():
            for group, schedule in zip(self.optimizer.param_groups, schedules, strict=True):
                group[key] = schedule(step)

    def step(self) -> None:
        """Advance one update and write the next values."""
        self.last_step += 1
        self._write(self.last_step)

    def state_dict(self) -> dict[str, Any]:
        return {"last_step": self.last_step}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        last_step = state_dict["last_step"]
        if isinstance(last_step, bool) or not isinstance(last_step, int) or last_step < 0:
            raise ValueError(f"last_step must be an integer >= 0, got {last_step!r}")
        self.last_step = last_step
        self._write(self.last_step)
