"""Memory and time per update against the truncation K: TBPTT(K) vs Neumann-RBP(K) (issue 6).

The graph network of Liao et al. (2018) on Cora (:class:`inertia.nn.GatedGraphNetwork`: GRU
update, sum aggregation, 100 propagation steps, 64 PCA features, 64 state units), one update =
forward, cross-entropy on the 140 training nodes, backward, SGD step. For each (method, K) a fresh
process runs 1 warm-up and ``--updates`` timed updates and reports:

- peak resident memory above the process's level just before the first update: the kernel's
  high-water mark (VmHWM) reset after the set-up (``/proc/self/clear_refs``), so that the
  set-up's own peak (loading Cora, the PCA) cannot hide the updates' (ru_maxrss, the lifetime
  peak, where the reset is unavailable);
- bytes of the distinct storages autograd saved for the backward pass (``saved_tensors_hooks``),
  the memory a method keeps between forward and backward, exact and free of allocator noise;
- the median time per update.

Target (the paper's claim): Neumann-RBP's memory flat in K (within 10% from K = 10 to 100),
TBPTT's growing linearly, read on the saved-for-backward bytes (exact, the same in every run);
the peak RSS, taken with glibc's allocator held to one arena and no trimming
(``MALLOC_ARENA_MAX=1``, ``MALLOC_TRIM_THRESHOLD_``) to cut its noise, is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

from benchmarks._harness import print_table, write_result

KS = (10, 20, 50, 100)
ALLOCATOR = {"MALLOC_ARENA_MAX": "1", "MALLOC_TRIM_THRESHOLD_": "18446744073709551615"}
METHODS = ("tbptt", "neumann_rbp")


def _single(method: str, truncation: int, updates: int, data_dir: str, threads: int) -> dict:
    from inertia.data import load_planetoid
    from inertia.experiments import peak_memory_mb, reset_peak_memory, resident_memory_mb
    from inertia.implicit import make_gradient
    from inertia.nn import GatedGraphNetwork, adjacency

    torch.set_num_threads(threads)
    graph = load_planetoid("cora", data_dir, download=False)
    centered = graph.features - graph.features.mean(dim=0)
    _, _, right = torch.linalg.svd(centered, full_matrices=False)
    features = centered @ right[:64].T
    features = features / features.std()
    matrix = adjacency(graph.edges, len(features))
    torch.manual_seed(0)
    model = GatedGraphNetwork(64, 64, graph.num_classes, steps=100,
                              gradient=make_gradient(method, truncation, 0.0))  # fmt: skip
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.is_sparse:  # the adjacency matrix: its values and indices
            for part in (tensor._values(), tensor._indices()):
                storages[part.untyped_storage().data_ptr()] = part.untyped_storage().nbytes()
        else:  # shared storages (weights, views) count once
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    def update() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            logits = model(features, matrix)
            loss = torch.nn.functional.cross_entropy(logits[graph.train], graph.labels[graph.train])
        loss.backward()
        optimizer.step()

    reset = reset_peak_memory("cpu")
    baseline = resident_memory_mb() or 0.0
    peak_before = peak_memory_mb("cpu")
    update()  # warm-up
    times = []
    for _ in range(updates):
        storages.clear()
        start = time.perf_counter()
        update()
        times.append(time.perf_counter() - start)
    # after a reset, the peak of the updates alone; else the lifetime peak, of which only a
    # rise above the set-up's can be the updates'
    above = peak_memory_mb("cpu") - (baseline if reset else max(baseline, peak_before))
    return {
        "method": method,
        "truncation": truncation,
        "peak_rss_above_baseline_mb": above,
        "peak_measured_by": "VmHWM after reset" if reset else "lifetime peak",
        "saved_for_backward_mb": sum(storages.values()) / 2**20,
        "median_update_s": statistics.median(times),
        "updates": updates,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu only (memory is process RSS)")
    parser.add_argument("--updates", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--single", nargs=2, metavar=("METHOD", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single:
        result = _single(args.single[0], int(args.single[1]), args.updates, args.data_dir,
                         args.threads)  # fmt: skip
        print(json.dumps(result))
        return result
    rows, results = [], []
    for method in METHODS:
        for truncation in KS:
            command = [sys.executable, "-m", "benchmarks.bench_rbp", "--single", method,
                       str(truncation), "--updates", str(args.updates), "--threads",
                       str(args.threads)]  # fmt: skip
            if args.data_dir:
                command += ["--data-dir", args.data_dir]
            output = subprocess.run(command, check=True, capture_output=True, text=True,
                                    env={**os.environ, **ALLOCATOR}).stdout  # fmt: skip
            result = json.loads(output.strip().splitlines()[-1])
            results.append(result)
            rows.append((method, truncation, f"{result['peak_rss_above_baseline_mb']:.1f}",
                         f"{result['saved_for_backward_mb']:.1f}",
                         f"{result['median_update_s'] * 1e3:.0f}"))  # fmt: skip
    flat = {r["truncation"]: r for r in results if r["method"] == "neumann_rbp"}
    growth = flat[KS[-1]]["saved_for_backward_mb"] / flat[KS[0]]["saved_for_backward_mb"]
    first_peak = flat[KS[0]]["peak_rss_above_baseline_mb"]
    # a ratio only where the first figure rose above the baseline at all
    rss_growth = flat[KS[-1]]["peak_rss_above_baseline_mb"] / first_peak if first_peak > 0 else None
    payload = {"benchmark": "rbp", "graph": "cora", "steps": 100, "results": results,
               "neumann_saved_ratio_k100_over_k10": growth,
               "neumann_peak_rss_ratio_k100_over_k10": rss_growth,
               "allocator": ALLOCATOR}  # fmt: skip
    print("GNN on Cora (100 propagation steps), memory and time per update vs truncation K, cpu")
    print_table(("method", "K", "peak RSS above baseline MB", "saved for backward MB",
                 "ms / update"), rows)  # fmt: skip
    rss_text = "n/a (no rise at K = 10)" if rss_growth is None else f"{rss_growth:.3f}"
    print(f"Neumann-RBP memory K=100 / K=10: saved for backward {growth:.3f} (target within "
          f"1.10), peak RSS {rss_text}")  # fmt: skip
    path = write_result("rbp_cpu", payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
