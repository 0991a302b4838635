"""Engine overhead: updates/s of ``inertia.experiments.train`` vs a bare hand-written loop.

Both train the same model on the same in-memory data with the same optimizer (NAG) and batch
size; the bare loop is what a user would write (randperm epochs, index, forward, backward, step).
Evaluations and checkpoints are excluded from the engine's timing (it reports pure update
throughput). Each case is timed twice, the two doing the same work: the engine's default, which
records every update's gradient norm for the curves (issues 35 and 39), against a bare loop that
computes it as a user would (``nn.utils.get_total_norm``); and ``gradient_norms=False`` against
the plain loop. Target (issue 3): engine / bare >= 0.95 in both.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from typing import Any

import torch
from torch import nn

from benchmarks._harness import print_table, write_result
from inertia.experiments import RunConfig, prepare, train
from inertia.tasks import TensorBatches

TARGET_RATIO = 0.95
CASES = {
    "toy-regression (8-32-32-1 tanh, batch 64)": RunConfig(
        task="toy-regression", batch_size=64, optimizer={"name": "nag", "lr": 0.01}
    ),
    "mnist-classification mlp (784-300-100-10, batch 200)": RunConfig(
        task={"name": "mnist-classification", "network": "mlp"},
        batch_size=200,
        optimizer={"name": "nag", "lr": 0.01},
    ),
}


def bare_loop_updates_per_s(config: RunConfig, steps: int) -> float:
    """The loop a user writes by hand, timed like the engine (setup excluded); with the
    gradient's norm each update where the engine records it (``config.gradient_norms``)."""
    import time

    prepared = prepare(config)
    model, optimizer, problem = prepared.model, prepared.optimizer, prepared.problem
    batches = prepared.problem.batches
    if not isinstance(batches, TensorBatches):  # the MNIST cases' are
        raise TypeError(f"the bare loop needs a task with TensorBatches, not {type(batches)}")
    inputs, targets = batches.inputs, batches.targets
    generator = torch.Generator().manual_seed(config.seed)
    cases, batch_size = inputs.shape[0], config.batch_size
    permutation, position = torch.randperm(cases, generator=generator), 0
    gradient_norms: list[torch.Tensor] = []
    start = time.perf_counter()
    for _ in range(steps):
        if position + batch_size > cases:
            permutation, position = torch.randperm(cases, generator=generator), 0
        batch = permutation[position : position + batch_size]
        position += batch_size
        optimizer.zero_grad(set_to_none=True)
        loss = problem.loss(model(inputs[batch]), targets[batch])
        loss.backward()
        if config.gradient_norms:
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            gradient_norms.append(nn.utils.get_total_norm(grads))
        optimizer.step()
    return steps / (time.perf_counter() - start)


def engine_updates_per_s(config: RunConfig, steps: int) -> float:
    run = config.replace(steps=steps, eval_every=steps, checkpoint_every=0)
    return train(run, None).updates_per_s


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=400, help="updates per timed run")
    parser.add_argument("--data-dir", default="", help="where mnist/ is (default: INERTIA_DATA)")
    args = parser.parse_args(argv)
    rows: list[tuple[str, ...]] = []
    payload: dict[str, Any] = {"benchmark": "engine", "cases": {}, "target_ratio": TARGET_RATIO}
    for (model, config), norms in itertools.product(CASES.items(), (True, False)):
        name = f"{model}, {'gradient norms' if norms else 'gradient_norms=False'}"
        config = config.replace(device=args.device, data_dir=args.data_dir, gradient_norms=norms)
        engine, bare = [], []
        for _ in range(args.rounds):  # interleaved, so drifts hit both alike
            engine.append(engine_updates_per_s(config, args.steps))
            bare.append(bare_loop_updates_per_s(config, args.steps))
        ratio = statistics.median(e / b for e, b in zip(engine, bare))
        payload["cases"][name] = {
            "engine_updates_per_s": engine,
            "bare_updates_per_s": bare,
            "median_paired_ratio": ratio,
        }
        rows.append(
            (
                name,
                f"{statistics.median(engine):.1f}",
                f"{statistics.median(bare):.1f}",
                f"{ratio:.3f}",
            )
        )
    print(f"engine vs bare loop, NAG, {args.steps} updates per run, {args.rounds} rounds")
    print_table(("case", "engine upd/s", "bare upd/s", "engine / bare"), rows)
    worst = min(case["median_paired_ratio"] for case in payload["cases"].values())
    verdict = "meets" if worst >= TARGET_RATIO else "MISSES"
    print(f"\nworst ratio {worst:.3f}: {verdict} the target >= {TARGET_RATIO}")
    path = write_result(f"engine_{torch.device(args.device).type}", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
