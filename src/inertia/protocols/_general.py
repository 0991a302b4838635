"""Protocols on today's general tasks (no published numbers): the optimizers side by side."""

from __future__ import annotations

from inertia.experiments._protocol import Budget, Protocol, optimizer_column

__all__ = ["MNIST_CLASSIFICATION", "TOY"]

TOY = Protocol(
    name="toy",
    title="Smoke test: NAG on the toy regression, 2 learning rates x 2 seeds",
    budgets={
        "quick": Budget(
            description="100 updates per run, batch 64",
            base={
                "task": "toy-regression",
                "optimizer": "nag",
                "momentum": 0.9,
                "steps": 100,
                "batch_size": 64,
                "eval_every": 50,
                "checkpoint_every": 50,
            },
            blocks=[{"lr": [0.003, 0.01], "seed": [0, 1]}],
        ),
        "paper": Budget(
            description="2000 updates per run, batch 64",
            base={
                "task": "toy-regression",
                "optimizer": "nag",
                "momentum": 0.9,
                "steps": 2000,
                "batch_size": 64,
                "eval_every": 250,
                "checkpoint_every": 500,
            },
            blocks=[{"lr": [0.003, 0.01], "seed": [0, 1]}],
        ),
    },
    row=lambda config: config.task,
    column=optimizer_column,
    rows=["toy-regression"],
    columns=["0.9N"],
    notes="A protocol for checking an installation and the sweep machinery; nothing published.",
)

_MNIST_COLUMNS = ["SGD", "0.9M", "0.99M", "0.9N", "0.99N", "Adam"]


def _mnist_budget(description: str, steps: int, eval_every: int, lrs, adam_lrs, seeds) -> Budget:  # type: ignore[no-untyped-def]
    base = {
        "task": "mnist-classification",
        "steps": steps,
        "batch_size": 128,
        "eval_every": eval_every,
        "checkpoint_every": eval_every,
        "momentum_schedule": "constant",
    }
    models = ["mlp", "lenet5"]
    return Budget(
        description=description,
        base=base,
        blocks=[
            {"model": models, "optimizer": ["sgd"], "momentum": [0.0], "lr": lrs, "seed": seeds},
            {
                "model": models,
                "optimizer": ["cm", "nag"],
                "momentum": [0.9, 0.99],
                "lr": lrs,
                "seed": seeds,
            },
            {"model": models, "optimizer": ["adam"], "lr": adam_lrs, "seed": seeds},
        ],
    )


MNIST_CLASSIFICATION = Protocol(
    name="mnist-classification",
    title="MNIST classification: training error at θ after a fixed budget, best lr per cell",
    budgets={
        "quick": _mnist_budget(
            "600 updates of batch 128 (1.3 epochs), lr in {0.01, 0.03}, Adam lr in {1e-3, 3e-3}, "
            "1 seed",
            steps=600,
            eval_every=300,
            lrs=[0.01, 0.03],
            adam_lrs=[1e-3, 3e-3],
            seeds=[0],
        ),
        "paper": _mnist_budget(
            "20,000 updates of batch 128 (43 epochs), lr in {0.001, 0.003, 0.01, 0.03, 0.1}, "
            "Adam lr in {1e-4, 3e-4, 1e-3, 3e-3}, 3 seeds",
            steps=20_000,
            eval_every=1000,
            lrs=[0.001, 0.003, 0.01, 0.03, 0.1],
            adam_lrs=[1e-4, 3e-4, 1e-3, 3e-3],
            seeds=[0, 1, 2],
        ),
    },
    row=lambda config: config.model,
    column=optimizer_column,
    rows=["mlp", "lenet5"],
    columns=_MNIST_COLUMNS,
    notes="Our general task (LeCun et al. 2015's setting, today's units): no published numbers. "
    "Momentum is constant at the column's μ (with the eq. (3) schedule, short budgets never "
    "reach μ > 0.83, so 0.9 and 0.99 would be the same runs).",
)
