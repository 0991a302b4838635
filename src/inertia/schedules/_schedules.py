"""Schedules: pure functions of the update count, ``value = schedule(step)``, steps from 0.

Each schedule is a frozen dataclass with ``__call__``: no hidden state, equal when its fields are
equal, picklable and printable (its repr is its configuration). Variants are built from small
combinators (:class:`Join`, :class:`Clip`, :class:`LowMomentumFinetuning`) rather than subclasses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Clip",
    "Constant",
    "ExponentialDecay",
    "Join",
    "Linear",
    "LowMomentumFinetuning",
    "PiecewiseConstant",
    "Schedule",
    "SutskeverMomentum",
    "rnn_momentum",
]

Schedule = Callable[[int], float]
"""Anything that maps an update count ``step >= 0`` to a number."""


def _check_step(step: int) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"a schedule's step must be an integer >= 0, got {step!r}")
    return step


def _check_momentum_range(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_boundaries(owner: str, piece: str, pieces: int, boundaries: tuple[int, ...]) -> None:
    if pieces != len(boundaries) + 1:
        raise ValueError(
            f"{owner} needs one more {piece} than boundaries, got {pieces} {piece}s for "
            f"{len(boundaries)} boundaries"
        )
    if any(b <= a for a, b in itertools.pairwise(boundaries)):
        raise ValueError(f"boundaries must increase strictly, got {boundaries!r}")
    if boundaries and boundaries[0] <= 0:
        raise ValueError(f"boundaries must be > 0, got {boundaries!r}")


@dataclass(frozen=True)
class Constant:
    """``schedule(t) = value`` for every t.

    Examples:
        >>> Constant(0.9)(12345)
        0.9
    """

    value: float

    def __call__(self, step: int) -> float:
        _check_step(step)
        return float(self.value)


@dataclass(frozen=True)
class SutskeverMomentum:
    r"""The slowly increasing momentum schedule of Sutskever et al. (2013), eq. (3).

    .. math::
        μ_t = \min\left(1 - 2^{-1 - \log_2(\lfloor t/250 \rfloor + 1)}, μ_{max}\right)
            = \min\left(1 - \frac{1}{2(\lfloor t/250 \rfloor + 1)}, μ_{max}\right)

    giving 0.5, 0.75, 0.833, ... every 250 updates; it reaches 0.99 at t = 12,250 and 0.999 at
    t = 124,750.

    Args:
        mu_max: the cap μ_max in [0, 1); 0 gives plain SGD.
        period: updates per plateau (250 in the paper).

    Examples:
        >>> schedule = SutskeverMomentum(mu_max=0.99)
        >>> [schedule(t) for t in (0, 250, 500)]
        [0.5, 0.75, 0.8333333333333334]

    References:
        Sutskever, Martens, Dahl & Hinton (2013), section 3, eq. (3).
    """

    mu_max: float
    period: int = 250

    def __post_init__(self) -> None:
        _check_momentum_range("mu_max", self.mu_max)
        _check_positive_int("period", self.period)

    def __call__(self, step: int) -> float:
        plateau = _check_step(step) // self.period
        return min(1.0 - 1.0 / (2.0 * (plateau + 1)), float(self.mu_max))


@dataclass(frozen=True)
class PiecewiseConstant:
    """``values[i]`` on ``[boundaries[i-1], boundaries[i])``; ``values[0]`` before the first.

    Args:
        boundaries: strictly increasing update counts where the value changes.
        values: one more value than boundaries.

    Examples:
        >>> schedule = PiecewiseConstant(boundaries=(1000,), values=(0.9, 0.995))
        >>> schedule(999), schedule(1000)
        (0.9, 0.995)
    """

    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "boundaries", tuple(self.boundaries))
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        _check_boundaries("PiecewiseConstant", "value", len(self.values), self.boundaries)

    def __call__(self, step: int) -> float:
        _check_step(step)
        index = sum(1 for boundary in self.boundaries if step >= boundary)
        return self.values[index]


@dataclass(frozen=True)
class Linear:
    """Linear interpolation from ``start`` to ``end`` over ``steps`` updates, then ``end``.

    Examples:
        >>> Linear(0.0, 1.0, steps=4)(2)
        0.5
    """

    start: float
    end: float
    steps: int

    def __post_init__(self) -> None:
        _check_positive_int("steps", self.steps)

    def __call__(self, step: int) -> float:
        fraction = min(_check_step(step) / self.steps, 1.0)
        return float(self.start + fraction * (self.end - self.start))


@dataclass(frozen=True)
class ExponentialDecay:
    """``initial * rate ** (step / steps)``: decay by a factor ``rate`` every ``steps`` updates.

    Args:
        staircase: decay in whole multiples of ``steps`` only.

    Examples:
        >>> ExponentialDecay(1.0, rate=0.5, steps=10)(20)
        0.25
    """

    initial: float
    rate: float
    steps: int
    staircase: bool = False

    def __post_init__(self) -> None:
        _check_positive_int("steps", self.steps)
        if not self.rate > 0.0:
            raise ValueError(f"rate must be > 0, got {self.rate!r}")

    def __call__(self, step: int) -> float:
        exponent = _check_step(step) / self.steps
        if self.staircase:
            exponent = math.floor(exponent)
        return float(self.initial * self.rate**exponent)


@dataclass(frozen=True)
class Join:
    """Run ``schedules[i]`` from ``boundaries[i-1]`` on, restarting its step count at the boundary.

    Like optax's ``join_schedules``: schedule i sees ``step - boundaries[i-1]``.

    Examples:
        >>> joined = Join((Linear(0.0, 0.9, steps=10), Constant(0.99)), boundaries=(10,))
        >>> joined(5), joined(10)
        (0.45, 0.99)
    """

    schedules: tuple[Schedule, ...]
    boundaries: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedules", tuple(self.schedules))
        object.__setattr__(self, "boundaries", tuple(self.boundaries))
        _check_boundaries("Join", "schedule", len(self.schedules), self.boundaries)

    def __call__(self, step: int) -> float:
        _check_step(step)
        start = 0
        for schedule, boundary in zip(self.schedules, self.boundaries):
            if step < boundary:
                return schedule(step - start)
            start = boundary
        return self.schedules[-1](step - start)


@dataclass(frozen=True)
class Clip:
    """``schedule(t)`` clipped to ``[lower, upper]``.

    Examples:
        >>> Clip(Linear(0.0, 1.0, steps=10), upper=0.5)(8)
        0.5
    """

    schedule: Schedule
    lower: float = -math.inf
    upper: float = math.inf

    def __post_init__(self) -> None:
        if self.lower > self.upper:
            raise ValueError(f"lower {self.lower!r} exceeds upper {self.upper!r}")

    def __call__(self, step: int) -> float:
        return float(min(max(self.schedule(step), self.lower), self.upper))


@dataclass(frozen=True)
class LowMomentumFinetuning:
    """Lower the momentum to ``momentum`` for the last ``steps`` of ``total_steps`` updates.

    Sutskever et al. (2013), section 3 and Table 2: for the last 1000 updates μ is set to 0.9
    (unless μ_max = 0), the learning rate unchanged. Implemented as ``min(momentum, schedule(t))``:
    a schedule already at or below ``momentum`` is left alone, so μ_max = 0 stays 0.

    Args:
        schedule: the momentum schedule before fine-tuning.
        total_steps: the run's number of updates.
        steps: the length of the fine-tuning phase (1000 in the paper).
        momentum: the fine-tuning momentum (0.9 in the paper).

    Examples:
        >>> tuned = LowMomentumFinetuning(Constant(0.999), total_steps=5000, steps=1000)
        >>> tuned(3999), tuned(4000)
        (0.999, 0.9)

    References:
        Sutskever et al. (2013), section 3.1 and Table 2.
    """

    schedule: Schedule
    total_steps: int
    steps: int = 1000
    momentum: float = 0.9

    def __post_init__(self) -> None:
        _check_positive_int("total_steps", self.total_steps)
        _check_positive_int("steps", self.steps)
        _check_momentum_range("momentum", self.momentum)
        if self.steps > self.total_steps:
            raise ValueError(
                f"fine-tuning steps ({self.steps}) exceed total_steps ({self.total_steps})"
            )

    def __call__(self, step: int) -> float:
        value = self.schedule(step)
        if step >= self.total_steps - self.steps:
            return min(float(self.momentum), value)
        return value


def rnn_momentum(mu_0: float, warmup_steps: int = 1000, warmup_momentum: float = 0.9) -> Schedule:
    """The RNN schedule of Sutskever et al. (2013), section 4: 0.9 for 1000 updates, then μ_0.

    Examples:
        >>> schedule = rnn_momentum(0.995)
        >>> schedule(999), schedule(1000)
        (0.9, 0.995)

    References:
        Sutskever et al. (2013), section 4 and appendix A.4.
    """
    _check_momentum_range("mu_0", mu_0)
    _check_momentum_range("warmup_momentum", warmup_momentum)
    _check_positive_int("warmup_steps", warmup_steps)
    return PiecewiseConstant(boundaries=(warmup_steps,), values=(warmup_momentum, mu_0))
