"""A tiny DistributedDataParallel job (gloo, CPU) whose ranks report what a launcher must get
right: rank, local rank, node rank, world size, and a loss that falls.

TINY_FAIL_HOST (a hostname) or TINY_FAIL_NODE_RANK, with TINY_FAIL_STEP, make one node's
ranks exit 1 at a step, to test fail-fast teardown. gloo tells the other ranks at once that a
peer is gone; NCCL does not (they hang until its timeout, 30 min by default). With
TINY_PEER_LOSS=hang the other ranks behave as under NCCL: they wait, and only the launcher
can end the job. TINY_HANG_RANK and TINY_HANG_STEP make a hang: at that step every rank
joins an all_reduce, which that rank never reaches (it stalls), so the others wait in it,
silent, as ranks behind a stuck peer do. clusterctl ships this file as a template (docs/CONFIG.md, train.templates).

Checkpoints (train.restarts): with CLUSTERCTL_CHECKPOINT_DIR set, rank 0 saves the model and
optimizer every --save-every steps into DIR/step-N, written under a temporary name and then
renamed, so a folder named step-N is always complete; every attempt (CLUSTERCTL_ATTEMPT)
starts from the newest one. The model is replicated (DDP), so any number of ranks can load it.
"""
import argparse
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


def stall(seconds: float) -> None:
    time.sleep(seconds)


def newest_checkpoint(folder: str):
    """The newest complete checkpoint: (step, path), or None."""
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    steps = [int(n[5:]) for n in names if n.startswith("step-") and n[5:].isdigit()]
    if not steps:
        return None
    step = max(steps)
    return step, os.path.join(folder, f"step-{step:06d}")


def save_checkpoint(folder: str, step: int, model, opt) -> None:
    """Rank 0 writes step-N.tmp-PID, then renames it: step-N is there whole or not at all."""
    os.makedirs(folder, exist_ok=True)
    final = os.path.join(folder, f"step-{step:06d}")
    partial = f"{final}.tmp-{os.getpid()}"
    os.makedirs(partial, exist_ok=True)
    torch.save({"step": step, "model": model.module.state_dict(), "opt": opt.state_dict()},
               os.path.join(partial, "state.pt"))
    os.rename(partial, final)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds per step")
    parser.add_argument("--save-every", type=int, default=10,
                        help="steps between checkpoints (with CLUSTERCTL_CHECKPOINT_DIR)")
    args = parser.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    node_rank = int(os.environ.get("GROUP_RANK", os.environ.get("CLUSTERCTL_NODE_RANK", "0")))
    print(f"rank {rank}/{world} local_rank {local_rank} node_rank {node_rank} "
          f"host {socket.gethostname()}", flush=True)

    fail_node = int(os.environ.get("TINY_FAIL_NODE_RANK", "-1"))
    fail_host = os.environ.get("TINY_FAIL_HOST", "")
    fail_step = int(os.environ.get("TINY_FAIL_STEP", "-1"))
    failing = node_rank == fail_node or socket.gethostname() == fail_host
    hang_rank = int(os.environ.get("TINY_HANG_RANK", "-1"))
    hang_step = int(os.environ.get("TINY_HANG_STEP", "-1"))

    torch.manual_seed(0)
    model = DDP(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 1)))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    w_true = torch.randn(16, 1, generator=torch.Generator().manual_seed(7))
    folder = os.environ.get("CLUSTERCTL_CHECKPOINT_DIR", "")
    first = 1
    found = newest_checkpoint(folder) if folder else None
    if found:
        state = torch.load(os.path.join(found[1], "state.pt"), map_location="cpu")
        model.module.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        first = state["step"] + 1
        if rank == 0:
            print(f"resumed from step {state['step']} ({found[1]}), attempt "
                  f"{os.environ.get('CLUSTERCTL_ATTEMPT', '0')}, world {world}", flush=True)
    gen = torch.Generator().manual_seed(1234 + rank + 7919 * first)
    for step in range(first, args.steps + 1):
        if step == fail_step and failing:
            print(f"rank {rank} failing on purpose at step {step}", flush=True)
            return 1
        x = torch.randn(64, 16, generator=gen)
        y = x @ w_true
        loss = nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        try:
            loss.backward()  # DDP's allreduce: where a lost peer shows
        except RuntimeError as e:
            if os.environ.get("TINY_PEER_LOSS") != "hang":
                raise
            print(f"rank {rank} lost a peer at step {step} ({e}); waiting, as NCCL would",
                  flush=True)
            while True:
                time.sleep(60)
        opt.step()
        if step == hang_step:
            if rank == hang_rank:
                stall(3600)
            dist.all_reduce(torch.ones(1))  # the others wait here for the stalled rank
        if step == first or step % 5 == 0 or step == args.steps:
            print(f"rank {rank} step {step} loss {loss.item():.4f}", flush=True)
        if folder and args.save_every and step % args.save_every == 0 and step < args.steps:
            if rank == 0:
                save_checkpoint(folder, step, model, opt)
            dist.barrier()  # no rank runs ahead of a checkpoint still being written
        if args.sleep:
            time.sleep(args.sleep)
    dist.barrier()
    if rank == 0:
        print("done", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
