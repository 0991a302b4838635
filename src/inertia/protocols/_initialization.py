"""A Table 3 variant (ours): how much of the CURVES autoencoder's trainability is the sparse
initialization's, against torch's default initialization of the same network."""

from __future__ import annotations

from inertia.experiments import Block, Budget, Protocol

__all__ = ["TABLE3_INIT"]

_NAG = {"name": "nag", "momentum": 0.99, "momentum_schedule": "sutskever", "momentum_period": 20}

TABLE3_INIT = Protocol(
    name="table3-init",
    title="CURVES training error: sparse initialization (SI, Martens 2010) against torch's "
    "default initialization, NAG",
    budgets={
        "quick": Budget(
            about="table3's quick settings (NAG, μ_max 0.99 reached early), SI at scale 1 "
            "against torch's default uniform initialization, two rates, two seeds",
            base={"task": {"name": "autoencoder", "dataset": "curves"}, "optimizer": _NAG,
                  "batch_size": 200, "steps": 2000, "eval_every": 250, "checkpoint_every": 500},
            blocks=[
                Block("curves", "SI", {"init": ["sparse"], "init_scale": [1.0],
                                       "optimizer.lr": [0.05, 0.01], "seed": [0, 1]}),
                Block("curves", "torch default", {"init": ["torch"], "optimizer.lr": [0.05, 0.01],
                                                  "seed": [0, 1]}),
            ],
        ),
    },
    rows=["curves"],
    columns=["SI", "torch default"],
    published={("curves", "SI"): 0.074},
    notes="Published: Sutskever et al. (2013) Table 3's scale-1 cell (their longer protocol, "
    "with fine-tuning). torch's default initialization (uniform, bound 1/sqrt(fan-in)) is not in "
    "the paper.",
)  # fmt: skip
