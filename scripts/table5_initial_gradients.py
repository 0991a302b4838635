"""The gradient at initialization of Table 5's long-term runs, parameter by parameter (issue 39).

On add T=80 (0.995N, the authors' protocol) whether a run leaves the constant predictor's plateau
depends on its seed; this measures, for each seed, the norm of the minibatch gradient of every
parameter of the initial network (Table 4's initialization, the run's task settings) on
``--cases`` sequences drawn as its first minibatches are, and the loss there. A large gradient
at the start (the backward pass through T steps of a recurrent matrix of spectral radius 1.1
can grow) means large first updates. It also gives which way a descent step moves the recurrent
matrix: the first-order rate of change of its spectral radius and of its norm along the negative
gradient (per unit step), since every run that left the plateau raised the radius within its
first 2,500 updates and every one that stayed let it fall.

    python scripts/table5_initial_gradients.py --seeds 0 1 2 3 [--set task.problem=addition ...]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import torch

from inertia.experiments import (
    ConfigError,
    RunConfig,
    from_mapping,
    merge,
    nest,
    parse_overrides,
    prepare,
)
from inertia.nn import RecurrentNetwork

# add T=80, 0.995N as the add80-rates budget runs it (the rate does not enter the gradient).
DEFAULTS: dict[str, Any] = {
    "task.name": "long-term",
    "task.problem": "addition",
    "task.length": 80,
    "optimizer.name": "nag",
    "optimizer.lr": 1e-4,
    "optimizer.momentum": 0.995,
    "optimizer.momentum_schedule": "rnn",
    "batch_size": 100,
}


def radius_rate(weight: torch.Tensor, gradient: torch.Tensor) -> float:
    """d|λ|/dt of the largest eigenvalue λ of ``weight`` moved along −``gradient``, to first
    order: dλ = uᴴ dW v / uᴴ v with v, u its right and left eigenvectors (for a complex pair both
    members move |λ| alike)."""
    matrix = weight.detach().double()
    values, right = torch.linalg.eig(matrix)
    index = int(values.abs().argmax())
    value, v = values[index], right[:, index]
    left_values, left = torch.linalg.eig(matrix.T)  # uᴴ W = λ uᴴ  ⇔  Wᵀ ū = λ ū
    u = left[:, int((left_values - value).abs().argmin())].conj()
    step = -gradient.detach().to(torch.complex128)
    change = (u.conj() @ step @ v) / (u.conj() @ v)
    return float((value.conj() * change).real / value.abs())


def initial_gradients(config: RunConfig, cases: int) -> tuple[float, dict[str, float]]:
    """(the loss, {parameter name: gradient norm, plus ``radius rate`` and ``‖W_hh‖ rate``:
    the first-order rates of change of the recurrent matrix's spectral radius and Frobenius
    norm along the negative gradient}) of the run's initial network on ``cases`` sequences
    drawn from the start of its training stream."""
    prepared = prepare(config)
    batches = prepared.problem.batches
    batches.start(config.seed, torch.device("cpu"), torch.float32)
    inputs, targets = batches.next(cases)
    model = prepared.model
    if not isinstance(model, RecurrentNetwork):  # every long-term run's is
        raise ConfigError(f"{config.task.name} runs build no recurrent network to measure")
    model.zero_grad()
    loss = prepared.problem.loss(model(inputs), targets)
    loss.backward()
    norms = {
        name: float(parameter.grad.norm())
        for name, parameter in model.named_parameters()
        if parameter.grad is not None
    }
    _, weight_hh, _ = model.recurrent_weights()
    assert weight_hh.grad is not None
    norms["radius rate"] = radius_rate(weight_hh, weight_hh.grad)
    weight = weight_hh.detach()
    norms["‖W_hh‖ rate"] = float(-(weight * weight_hh.grad).sum() / weight.norm())
    return float(loss.detach()), norms


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--cases", type=int, default=2000, help="sequences to average over")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another setting, e.g. task.length=40")  # fmt: skip
    args = parser.parse_args(argv)
    rows = []
    try:
        for seed in args.seeds:
            settings = merge(merge(nest(DEFAULTS), parse_overrides(args.set)), {"seed": seed})
            rows.append((seed, *initial_gradients(from_mapping(RunConfig, settings), args.cases)))
    except ConfigError as error:
        sys.exit(f"table5_initial_gradients: {error}")
    names = list(rows[0][2])
    heads = [name if name.endswith(" rate") else f"‖∂L/∂{name}‖" for name in names]
    print("| seed | loss | " + " | ".join(heads) + " |")
    print("|---" * (len(names) + 2) + "|")
    for seed, loss, norms in rows:
        print(f"| {seed} | {loss:.4g} | " + " | ".join(f"{norms[n]:.3g}" for n in names) + " |")


if __name__ == "__main__":
    main()
