"""Protocols on today's general tasks (no published numbers): the optimizers side by side."""

from __future__ import annotations

from collections.abc import Sequence

from inertia.experiments import Block, Budget, Protocol
from inertia.protocols._labels import optimizer_blocks

__all__ = ["MNIST_CLASSIFICATION", "TOY"]


def _toy_budget(steps: int, eval_every: int, checkpoint_every: int) -> Budget:
    return Budget(
        about="NAG on the toy regression at two learning rates and two seeds",
        base={
            "task.name": "toy-regression",
            "optimizer": {"name": "nag", "momentum": 0.9},
            "steps": steps,
            "batch_size": 64,
            "eval_every": eval_every,
            "checkpoint_every": checkpoint_every,
        },
        blocks=[Block("toy-regression", "0.9N", {"optimizer.lr": [0.003, 0.01], "seed": [0, 1]})],
    )


TOY = Protocol(
    name="toy",
    title="Smoke test: NAG on the toy regression, 2 learning rates x 2 seeds",
    budgets={"quick": _toy_budget(100, 50, 50), "paper": _toy_budget(2000, 250, 500)},
    rows=["toy-regression"],
    columns=["0.9N"],
    notes="A protocol for checking an installation and the sweep machinery; nothing published.",
)

_MNIST_NETWORKS = ("mlp", "lenet5")


def _mnist_budget(
    about: str,
    steps: int,
    eval_every: int,
    lrs: Sequence[float],
    adam_lrs: Sequence[float],
    seeds: Sequence[int],
) -> Budget:
    return Budget(
        about=about,
        base={
            "task.name": "mnist-classification",
            "steps": steps,
            "batch_size": 128,
            "eval_every": eval_every,
            "checkpoint_every": eval_every,
        },
        blocks=[
            block
            for network in _MNIST_NETWORKS
            for block in optimizer_blocks(
                network,
                {"task.network": [network], "seed": list(seeds)},
                lrs,
                (0.9, 0.99),
                adam_lrs,
                schedule={"momentum_schedule": "constant"},
            )
        ],
    )


MNIST_CLASSIFICATION = Protocol(
    name="mnist-classification",
    title="MNIST classification: training error at θ after a fixed budget, best lr per cell",
    budgets={
        "quick": _mnist_budget(
            "a little over one epoch, two rates per optimizer, five points per curve",
            steps=600,
            eval_every=150,  # each evaluation scores all 70,000 images: 7 points took 2x as long
            lrs=[0.01, 0.03],
            adam_lrs=[1e-3, 3e-3],
            seeds=[0],
        ),
        "paper": _mnist_budget(
            "43 epochs, a grid of rates per optimizer, three seeds",
            steps=20_000,
            eval_every=1000,
            lrs=[0.001, 0.003, 0.01, 0.03, 0.1],
            adam_lrs=[1e-4, 3e-4, 1e-3, 3e-3],
            seeds=[0, 1, 2],
        ),
    },
    rows=list(_MNIST_NETWORKS),
    columns=["SGD", "0.9M", "0.99M", "0.9N", "0.99N", "Adam"],
    notes="Our general task (LeCun et al. 2015's setting, today's units): no published numbers. "
    "Momentum is constant at the column's μ (with the eq. (3) schedule, short budgets never "
    "reach μ > 0.83, so 0.9 and 0.99 would be the same runs).",
)
