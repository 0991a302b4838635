"""Classical momentum (CM) and Nesterov's accelerated gradient (NAG) as ``torch.optim`` optimizers.

Both follow Sutskever, Martens, Dahl & Hinton (2013), section 2: the learning rate sits inside the
velocity, the velocity starts at zero, and the momentum coefficient may follow a schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast, overload

import torch
from torch import Tensor
from torch.optim import Optimizer

from inertia import _docs
from inertia.functional import FUSED_MIN_ELEMENTS, fused_available
from inertia.functional import cm as cm_kernel
from inertia.functional import nag as nag_kernel

__all__ = ["CM", "FUSED_DEVICES", "NAG", "MomentumLike"]

# params, grads, velocities and states of the parameters that one kernel call updates together
_Bucket = tuple[list[Tensor], list[Tensor], list[Tensor], list[dict[str, Any]]]

MomentumLike = float | Callable[[int], float]
"""A momentum coefficient: a float, or a schedule ``step -> μ`` with steps counted from 0."""

_SCHEDULE_MARKER = "schedule"


def _check_number(name: str, value: object, group_index: int | None) -> float:
    where = "" if group_index is None else f" in param group {group_index}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}{where} must be a real number, got {value!r}")
    return float(value)


def _check_lr(value: object, group_index: int) -> float:
    """A rate: a real number, or (as torch's optimizers take) a 0-d or 1-element tensor, whose
    value is read at every step, so a scheduler may change it in place."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"lr in param group {group_index} must be a 0-d or 1-element tensor, got shape "
                f"{tuple(value.shape)}"
            )
        if value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"lr in param group {group_index} must be a real number")
        return float(value)
    return _check_number("lr", value, group_index)


# The devices the fused kernels run on (C++ on the CPU, torch.compile'd elsewhere).
FUSED_DEVICES = ("cpu", "cuda")


def _check_momentum_value(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"momentum{where} must be a real number, got {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"momentum{where} must lie in [0, 1), got {value!r}")
    return float(value)


class _MomentumOptimizer(Optimizer):
    """Shared machinery of :class:`CM` and :class:`NAG` (not public).

    Subclasses define ``_lookahead(state)``, the μ with which the stored parameters lie ahead of
    the true iterate θ (zero for CM), and ``_update(group, params, grads, velocities, states,
    foreach)``, which applies one update to parameters that share a step count.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: MomentumLike = 0.9,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "fused": fused,
            "train_mode": True,
        }
        # Parameters that eval() moved to θ, with a copy of φ so that train() restores it exactly.
        self._lookahead_stash: dict[Tensor, tuple[Tensor, int]] = {}
        super().__init__(params, defaults)

    # ----------------------------------------------------------------------------- validation
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        group = self.param_groups[index]
        lr = _check_lr(group["lr"], index)
        if lr < 0.0:
            raise ValueError(f"lr in param group {index} must be >= 0, got {group['lr']!r}")
        weight_decay = _check_number("weight_decay", group["weight_decay"], index)
        if weight_decay < 0.0:
            raise ValueError(
                f"weight_decay in param group {index} must be >= 0, got {group['weight_decay']!r}"
            )
        if not callable(group["momentum"]):
            _check_momentum_value(group["momentum"], f" in param group {index}")
        if group["foreach"] not in (None, True, False):
            raise TypeError(f"foreach in param group {index} must be None or a bool")
        if group.setdefault("fused", None) not in (None, True, False):
            raise TypeError(f"fused in param group {index} must be None or a bool")
        if group["foreach"] and group["fused"]:
            raise ValueError(
                f"foreach and fused cannot both be True (param group {index}); choose one kernel"
            )
        if group["fused"]:
            unsupported = [
                p
                for p in group["params"]
                if p.device.type not in FUSED_DEVICES or not p.is_floating_point()
            ]
            if unsupported:
                raise RuntimeError(
                    f"fused=True (param group {index}) requires floating point parameters on "
                    f"{', '.join(FUSED_DEVICES)}; got {unsupported[0].dtype} on "
                    f"{unsupported[0].device.type}"
                )
            # GradScaler hands a fused optimizer its scale and inf flag instead of unscaling
            # the gradients itself (torch's convention; see ``step``)
            self._step_supports_amp_scaling = True

    def _momentum_at(self, group_index: int, step: int) -> float:
        """μ of param group ``group_index`` at update ``step`` (float or schedule value)."""
        momentum = self.param_groups[group_index]["momentum"]
        if callable(momentum):
            return _check_momentum_value(
                momentum(step),
                f" schedule {momentum!r} of param group {group_index} at step {step}",
            )
        return _check_momentum_value(momentum, f" in param group {group_index}")

    # ----------------------------------------------------------------------------- stepping
    def _lookahead(self, state: dict[str, Any]) -> float:
        raise NotImplementedError

    def _init_state(self, group_index: int, state: dict[str, Any], param: Tensor) -> None:
        state["step"] = 0
        state["velocity"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def _update(
        self,
        group_index: int,
        params: list[Tensor],
        grads: list[Tensor],
        velocities: list[Tensor],
        states: list[dict[str, Any]],
        kernel: dict[str, bool],
    ) -> None:
        raise NotImplementedError

    @staticmethod
    def _kernel(group: dict[str, Any], params: list[Tensor]) -> dict[str, bool]:
        """The kernel for one bucket: ``foreach``/``fused`` as the group asks; by default the
        fused kernel for large buckets on CPU (where it is fastest), otherwise
        torch's rule (foreach on accelerators only)."""
        foreach, fused = group["foreach"], group.get("fused")
        if fused is None:
            fused = (
                not foreach
                and all(p.device.type == "cpu" for p in params)
                and sum(p.numel() for p in params) >= FUSED_MIN_ELEMENTS
                and fused_available()
            )
        if foreach is None:
            foreach = not fused and all(p.device.type not in ("cpu", "meta") for p in params)
        return {"foreach": bool(foreach), "fused": bool(fused)}

    @overload
    def step(self, closure: None = None) -> None: ...

    @overload
    def step(self, closure: Callable[[], float]) -> float: ...

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Perform one update.

        Args:
            closure: optional; re-evaluates the model (with gradients enabled) and returns the loss.

        Returns:
            The closure's loss, or ``None`` without a closure.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        # torch.amp.GradScaler with an optimizer that supports AMP scaling (fused=True) sets
        # ``found_inf`` (skip this step: nothing changes, not even the step count) and
        # ``grad_scale`` (the gradients are still scaled by it; None once unscale_ was called).
        found_inf: Tensor | None = getattr(self, "found_inf", None)
        if found_inf is not None and bool(found_inf.item()):
            return loss
        grad_scale: Tensor | None = getattr(self, "grad_scale", None)
        for group_index, group in enumerate(self.param_groups):
            if not group["train_mode"]:
                raise RuntimeError(
                    f"{type(self).__name__}.step() called in eval mode "
                    f"(param group {group_index}); call optimizer.train() first"
                )
            # Parameters that share a step count (and look-ahead) are updated together; normally
            # that is every parameter of the group.
            buckets: dict[tuple[int, float], _Bucket] = {}
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[param]
                if not state:
                    self._init_state(group_index, state, param)
                key = (state["step"], self._lookahead(state))
                bucket = buckets.setdefault(key, ([], [], [], []))
                bucket[0].append(param)
                bucket[1].append(param.grad)
                bucket[2].append(state["velocity"])
                bucket[3].append(state)
            for params, grads, velocities, states in buckets.values():
                if grad_scale is not None:
                    grads = list(torch._foreach_div(grads, grad_scale.to(grads[0].device)))
                self._update(
                    group_index,
                    params,
                    grads,
                    velocities,
                    cast(list[dict[str, Any]], states),
                    self._kernel(group, params),
                )
        return loss

    # ----------------------------------------------------------------------------- θ and φ
    @torch.no_grad()
    def eval(self) -> None:
        """Put the true iterate θ into the parameters (idempotent).

        For NAG the parameters hold the look-ahead point φ = θ + μ v during training; the papers
        report the error at θ. ``eval()`` keeps a copy of φ so that :meth:`train` restores it bit
        for bit, unless the parameters were modified in between (for example by
        ``load_state_dict``), in which case ``train()`` recomputes φ = θ + μ v from whatever θ
        they then hold.
        """
        for group in self.param_groups:
            if not group["train_mode"]:
                continue
            for param in group["params"]:
                state = self.state.get(param)
                if not state:
                    continue
                lookahead = self._lookahead(state)
                if lookahead == 0.0:
                    continue
                stash = param.detach().clone()
                param.add_(state["velocity"], alpha=-lookahead)
                self._lookahead_stash[param] = (stash, param._version)
            group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        """Put the point where gradients are taken back into the parameters (idempotent)."""
        for group in self.param_groups:
            if group["train_mode"]:
                continue
            for param in group["params"]:
                state = self.state.get(param)
                stashed = self._lookahead_stash.pop(param, None)
                if not state:
                    continue
                if stashed is not None and stashed[1] == param._version:
                    param.copy_(stashed[0])
                else:
                    param.add_(state["velocity"], alpha=self._lookahead(state))
            group["train_mode"] = True

    # ----------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The torch state dict. A momentum schedule is code, not state: it is stored as a marker
        ``{"schedule": repr}`` and the schedule of the optimizer it is loaded into is kept."""
        state_dict = super().state_dict()
        for group in state_dict["param_groups"]:
            if callable(group["momentum"]):
                group["momentum"] = {_SCHEDULE_MARKER: repr(group["momentum"])}
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict saved by :meth:`state_dict`.

        Raises:
            ValueError: if a group was saved with a momentum schedule but this optimizer's group
                has a plain number (construct it with the same schedule), or the groups do not
                match.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        schedules: dict[int, Callable[[int], float]] = {}
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if isinstance(saved.get("momentum"), dict):
                if not callable(group["momentum"]):
                    raise ValueError(
                        f"param group {index} was saved with the momentum schedule "
                        f"{saved['momentum'][_SCHEDULE_MARKER]}; construct the optimizer with that "
                        f"schedule instead of momentum={group['momentum']!r}"
                    )
                schedules[index] = group["momentum"]
        super().load_state_dict(state_dict)
        for index, schedule in schedules.items():
            self.param_groups[index]["momentum"] = schedule
        self._lookahead_stash.clear()


_COMMON_ARGS = f"""
    Args:
        {_docs.ARGS_PARAMS}
        {_docs.ARGS_LR}
        {_docs.ARGS_MOMENTUM}
        {_docs.ARGS_WEIGHT_DECAY}
        {_docs.ARGS_FOREACH}
        {_docs.ARGS_FUSED}
"""


class CM(_MomentumOptimizer):
    __doc__ = (
        r"""Classical momentum, Sutskever et al. (2013) eq. (1).

    .. math::
        v_{t+1} = μ_t v_t - ε ∇f(θ_t), \qquad θ_{t+1} = θ_t + v_{t+1}, \qquad v_0 = 0.

    Deviation from ``torch.optim.SGD(momentum=μ)``: torch keeps ε outside the buffer
    (b ← μ b + g; θ ← θ - ε b). The two coincide while ε is constant (v = -ε b) and differ when ε
    changes, since here a new ε only scales new gradients. μ_t is read from the schedule (or the
    group's float) at each parameter's own update count t.
"""
        + _COMMON_ARGS
        + """
    Examples:
        >>> import torch
        >>> from inertia.optim import CM
        >>> from inertia.schedules import SutskeverMomentum
        >>> w = torch.nn.Parameter(torch.ones(3))
        >>> opt = CM([w], lr=0.1, momentum=SutskeverMomentum(mu_max=0.99))
        >>> w.sum().backward(); opt.step()
        >>> w.detach()
        tensor([0.9000, 0.9000, 0.9000])

    References:
        Sutskever, Martens, Dahl & Hinton (2013), "On the importance of initialization and momentum
        in deep learning", ICML, section 2; Polyak (1964).
    """
    )

    def _lookahead(self, state: dict[str, Any]) -> float:
        return 0.0

    def _update(
        self,
        group_index: int,
        params: list[Tensor],
        grads: list[Tensor],
        velocities: list[Tensor],
        states: list[dict[str, Any]],
        kernel: dict[str, bool],
    ) -> None:
        group = self.param_groups[group_index]
        step = states[0]["step"]
        cm_kernel(
            params,
            grads,
            velocities,
            lr=float(group["lr"]),  # a tensor lr: its value now
            momentum=self._momentum_at(group_index, step),
            weight_decay=group["weight_decay"],
            **kernel,
        )
        for state in states:
            state["step"] = step + 1


class NAG(_MomentumOptimizer):
    __doc__ = (
        r"""Nesterov's accelerated gradient, Sutskever et al. (2013) eq. (2), one gradient per step.

    The textbook form takes the gradient at the look-ahead point θ_t + μ_t v_t:

    .. math::
        v_{t+1} = μ_t v_t - ε ∇f(θ_t + μ_t v_t), \qquad θ_{t+1} = θ_t + v_{t+1}, \qquad v_0 = 0.

    During training the parameters hold φ_t = θ_t + μ_t v_t, and each step applies

    .. math::
        v_{t+1} = μ_t v_t - ε ∇f(φ_t), \qquad
        φ_{t+1} = φ_t + μ_{t+1} μ_t v_t - (1 + μ_{t+1}) ε ∇f(φ_t),

    which is exact for every sequence μ_t. Forming φ_{t+1} needs μ_{t+1} during step t, which is why
    the optimizer holds the momentum schedule. Call :meth:`eval` to put θ (the iterate the papers
    report) into the parameters and :meth:`train` to return to φ.

    The state of each parameter is ``velocity`` (v_t), ``step`` (t) and ``momentum`` (the μ_t that
    φ_t was formed with). Editing ``param_groups[i]["momentum"]`` by hand between steps is allowed:
    the next step still uses the stored μ_t (φ_t already contains it), and the new value, or the
    new schedule evaluated at t + 1, becomes μ_{t+1}. The result is exact NAG for the edited
    sequence.

    Deviation from ``torch.optim.SGD(momentum=μ, nesterov=True)``: with constant ε and μ torch's
    parameters are exactly φ and its buffer is b = -v/ε. When μ changes, torch uses μ_t where
    μ_{t+1} belongs (φ_{t+1} = φ_t + μ_t v_{t+1} - ε g) and is no longer NAG; when ε changes, ε sits
    outside its buffer (see :class:`CM`).
"""
        + _COMMON_ARGS
        + """
    Examples:
        >>> import torch
        >>> from inertia.optim import NAG
        >>> from inertia.schedules import SutskeverMomentum
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt = NAG([w], lr=0.1, momentum=SutskeverMomentum(mu_max=0.99))
        >>> w.sum().backward(); opt.step()
        >>> opt.eval(); theta = w.detach().clone(); opt.train()
        >>> theta
        tensor([0.9000, 0.9000])

    References:
        Sutskever et al. (2013), ICML, section 2, eq. (2) and appendix A.1; Nesterov (1983);
        Bengio, Boulanger-Lewandowski & Pascanu (2012), "simplified Nesterov momentum".
    """
    )

    def _lookahead(self, state: dict[str, Any]) -> float:
        return state["momentum"]

    def _init_state(self, group_index: int, state: dict[str, Any], param: Tensor) -> None:
        super()._init_state(group_index, state, param)
        state["momentum"] = self._momentum_at(group_index, 0)

    def _update(
        self,
        group_index: int,
        params: list[Tensor],
        grads: list[Tensor],
        velocities: list[Tensor],
        states: list[dict[str, Any]],
        kernel: dict[str, bool],
    ) -> None:
        group = self.param_groups[group_index]
        step = states[0]["step"]
        momentum = states[0]["momentum"]
        next_momentum = self._momentum_at(group_index, step + 1)
        nag_kernel(
            params,
            grads,
            velocities,
            lr=float(group["lr"]),  # a tensor lr: its value now
            momentum=momentum,
            next_momentum=next_momentum,
            weight_decay=group["weight_decay"],
            **kernel,
        )
        for state in states:
            state["step"] = step + 1
            state["momentum"] = next_momentum
