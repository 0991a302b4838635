"""Memory and time of one hypergradient against the unrolled inner steps T (issue 6, SPEC 7.4).

The hyperparameter task of Liao et al. (2018): an MNIST MLP 784-50-50-50-10 trained by T steps of
SGD with momentum (batch 200, the last step on all 10,000 training images), meta-objective the
training cross-entropy, hypergradient of the 16 per-tensor learning rates and momenta. For each
method and T, one warm-up and ``--repeats`` timed hypergradients; reported:

- bytes of the distinct storages autograd saved for the backward pass (``saved_tensors_hooks``),
  the memory a method keeps between the forward and backward passes (the 31 MB training images
  count once in every method);
- the median seconds per hypergradient (forward + backward).

Expected: BPTT's memory grows linearly in T, TBPTT's stops growing at T = K, the RBP methods'
does not depend on T (one step kept).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from benchmarks._harness import print_table, write_result

STEPS = (25, 50, 100, 200)


def _task(method: str, steps: int, truncation: int, data_dir: str | None):
    from inertia.tasks import HypergradientOptions, HyperparameterOptimization

    options = HypergradientOptions(gradient=method, steps=steps, truncation=truncation)
    problem = HyperparameterOptimization().build(
        options, torch.Generator().manual_seed(0), data_dir
    )
    return problem.model, options.objective


def _measure(method: str, steps: int, truncation: int, repeats: int, data_dir: str | None) -> dict:
    model, objective = _task(method, steps, truncation, data_dir)
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    def hypergradient() -> None:
        model.zero_grad(set_to_none=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss = model(objective)[0]
        loss.backward()

    hypergradient()  # warm-up
    times = []
    for _ in range(repeats):
        storages.clear()
        start = time.perf_counter()
        hypergradient()
        times.append(time.perf_counter() - start)
    return {
        "method": method,
        "steps": steps,
        "truncation": truncation,
        "saved_for_backward_mb": sum(storages.values()) / 2**20,
        "median_hypergradient_s": statistics.median(times),
        "backward_residual": model.unrolled.stats.backward_residual,
        "repeats": repeats,
    }


def main(argv: list[str] | None = None) -> dict:
    from inertia.implicit import GRADIENT_METHODS

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu only")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--truncation", type=int, default=50)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results, rows = [], []
    for method in GRADIENT_METHODS:
        for steps in STEPS:
            result = _measure(method, steps, args.truncation, args.repeats, args.data_dir)
            results.append(result)
            rows.append((method, steps, f"{result['saved_for_backward_mb']:.1f}",
                         f"{result['median_hypergradient_s']:.2f}"))  # fmt: skip
            print(f"hypergradient: {method} T={steps} measured", file=sys.stderr, flush=True)
    payload = {"benchmark": "hypergradient", "truncation": args.truncation, "results": results}
    print(f"MNIST MLP hypergradient vs unrolled steps T (K = {args.truncation}), cpu, "
          f"{args.threads} thread(s)")  # fmt: skip
    print_table(("method", "T", "saved for backward MB", "s / hypergradient"), rows)
    path = write_result("hypergradient_cpu", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
