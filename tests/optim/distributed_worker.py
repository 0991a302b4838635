"""NAG with a momentum schedule, as a user's script would run it, in one process or in two CPU
processes (gloo) under DDP or FSDP2 (``fully_shard``): the same model, data and updates, so that
the final parameters can be compared (issue 38). With ``fsdp-checkpoint``, the FSDP2 run is saved
half way with ``torch.distributed.checkpoint``, restored into a new model and optimizer, and
finished; the result must equal the uninterrupted run's.

    python tests/optim/distributed_worker.py {single,ddp,fsdp,fsdp-checkpoint} OUT.json WORKDIR

Writes the final parameters at θ (``optimizer.eval()``) as JSON lists to OUT.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from inertia.optim import NAG
from inertia.schedules import SutskeverMomentum

STEPS, BATCH, WORLD = 8, 16, 2


def batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(BATCH, 6, generator=generator), torch.randn(BATCH, 2, generator=generator))
            for _ in range(STEPS)]  # fmt: skip


def build(mode: str) -> tuple[nn.Module, NAG]:
    torch.manual_seed(1)
    net: nn.Module = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 2))
    if mode == "ddp":
        net = nn.parallel.DistributedDataParallel(net)
    elif mode.startswith("fsdp"):
        from torch.distributed.fsdp import fully_shard

        for layer in net:
            if isinstance(layer, nn.Linear):
                fully_shard(layer)
        fully_shard(net)
    optimizer = NAG(net.parameters(), lr=0.05, momentum=SutskeverMomentum(0.99, period=2))
    return net, optimizer


def train(net: nn.Module, optimizer: NAG, data: list, rank: int, world: int) -> None:
    share = BATCH // world  # each process its part of every minibatch; DDP/FSDP average
    for inputs, targets in data:
        part = slice(rank * share, (rank + 1) * share)
        optimizer.zero_grad()
        nn.functional.mse_loss(net(inputs[part]), targets[part]).backward()
        optimizer.step()


def parameters(net: nn.Module, optimizer: NAG) -> dict[str, list]:
    optimizer.eval()
    found = {}
    for name, parameter in net.named_parameters():
        full = parameter.full_tensor() if hasattr(parameter, "full_tensor") else parameter
        found[name.removeprefix("module.")] = full.detach().tolist()
    optimizer.train()
    return found


def checkpointed(mode: str, data: list, rank: int, folder: Path) -> dict[str, list]:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    net, optimizer = build(mode)
    train(net, optimizer, data[: STEPS // 2], rank, WORLD)
    model_state, optimizer_state = get_state_dict(net, optimizer)
    dcp.save({"model": model_state, "optimizer": optimizer_state}, checkpoint_id=folder)
    net, optimizer = build(mode)  # a new process would start here
    model_state, optimizer_state = get_state_dict(net, optimizer)
    loaded = {"model": model_state, "optimizer": optimizer_state}
    dcp.load(loaded, checkpoint_id=folder)
    set_state_dict(net, optimizer, model_state_dict=loaded["model"],
                   optim_state_dict=loaded["optimizer"])  # fmt: skip
    train(net, optimizer, data[STEPS // 2 :], rank, WORLD)
    return parameters(net, optimizer)


def worker(rank: int, mode: str, out: str, workdir: str) -> None:
    store = Path(workdir) / "store"
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD)
    try:
        if mode == "fsdp-checkpoint":
            found = checkpointed(mode, batches(), rank, Path(workdir) / "checkpoint")
        else:
            net, optimizer = build(mode)
            train(net, optimizer, batches(), rank, WORLD)
            found = parameters(net, optimizer)
        if rank == 0:
            Path(out).write_text(json.dumps(found))
        dist.barrier()
    finally:
        dist.destroy_process_group()
    # Done: leave without the interpreter's finalization, in which gloo's worker threads can
    # still hold work objects whose tensors need the GIL being torn down; about one
    # fsdp-checkpoint run in ten aborted there ("terminate called without an active exception",
    # SIGABRT) after its result was written (the race pytorch/pytorch#179291 describes).
    os._exit(0)


def main() -> None:
    mode, out, workdir = sys.argv[1:4]
    if mode == "single":
        net, optimizer = build(mode)
        train(net, optimizer, batches(), 0, 1)
        Path(out).write_text(json.dumps(parameters(net, optimizer)))
        return
    torch.set_num_threads(1)
    mp.spawn(worker, args=(mode, out, workdir), nprocs=WORLD, join=True)


if __name__ == "__main__":
    main()
