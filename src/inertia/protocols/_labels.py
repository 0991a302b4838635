"""The papers' column vocabulary (Sutskever et al. 2013: ``SGD``, ``0.99N``, ``0.9M``) and the
blocks that fill such columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inertia.experiments import Block

__all__ = ["BEFORE_FT", "momentum_column", "optimizer_blocks"]

BEFORE_FT = " before FT"  # the column of a fine-tuned NAG cell's twin without fine-tuning


def momentum_column(optimizer: str, momentum: float) -> str:
    """Sutskever et al.'s column name: ``0.99N`` (NAG, μ or μ_max 0.99), ``0.9M`` (CM), ``SGD``
    (no momentum)."""
    if optimizer == "sgd" or momentum == 0:
        return "SGD"
    return f"{momentum:g}{'N' if optimizer == 'nag' else 'M'}"


def optimizer_blocks(
    row: str,
    common: Mapping[str, Sequence[Any]],
    lrs: Sequence[float] | Mapping[float, Sequence[float]],
    momenta: Sequence[float],
    adam_lrs: Sequence[float],
    sgd_lrs: Sequence[float] = (),
    schedule: Mapping[str, Any] | None = None,
    finetune: int = 0,
) -> list[Block]:
    """The columns SGD, NAG and CM at each μ in ``momenta``, and Adam, of one row.

    Args:
        row: the row label.
        common: grid keys shared by the row's blocks (e.g. the task's dataset and the seeds).
        lrs: the NAG and CM rates (and SGD's, unless ``sgd_lrs`` is given), or per μ in
            ``momenta`` the NAG and CM rates of that μ (``sgd_lrs`` then required).
        momenta: μ (or μ_max) values; one NAG and one CM column each.
        adam_lrs: Adam's rates (none: no Adam column).
        sgd_lrs: SGD's rates where its grid differs.
        schedule: the momentum schedule's settings of the NAG and CM runs (e.g.
            ``{"momentum_schedule": "sutskever", "momentum_period": 20}``).
        finetune: with F > 0, the NAG columns (``0.99N``) hold runs whose last F updates use
            μ = 0.9 (low-momentum fine-tuning, as the published NAG cells of Sutskever et al.'s
            Table 1 do), and ``0.99N before FT`` columns their twins without it.
    """
    momentum = {f"optimizer.{key}": [value] for key, value in (schedule or {}).items()}
    rates = lrs if isinstance(lrs, Mapping) else dict.fromkeys(momenta, lrs)
    if not sgd_lrs and isinstance(lrs, Mapping):
        raise ValueError("optimizer_blocks: sgd_lrs is required when lrs are given per μ")
    blocks = [Block(row, "SGD", {**common, "optimizer.name": ["sgd"],
                                 "optimizer.lr": list(sgd_lrs or lrs)})]  # fmt: skip
    for optimizer in ("nag", "cm"):
        for mu in momenta:
            grid = {**common, **momentum, "optimizer.name": [optimizer],
                    "optimizer.momentum": [mu], "optimizer.lr": list(rates[mu])}  # fmt: skip
            column = momentum_column(optimizer, mu)
            if optimizer == "nag" and finetune:
                blocks.append(Block(row, column, {**grid, "optimizer.finetune_steps": [finetune]}))
                column += BEFORE_FT
            blocks.append(Block(row, column, grid))
    if adam_lrs:
        blocks.append(
            Block(
                row, "Adam", {**common, "optimizer.name": ["adam"], "optimizer.lr": list(adam_lrs)}
            )
        )
    return blocks
