"""Data-parallel training under torchrun: one process per device, gradients averaged by all-reduce.

`torchrun --nproc_per_node=N -m dcgan train ...` starts N ranks (NCCL on GPUs, gloo on CPUs).
Every rank holds the same G and D, draws the same epoch permutation and trains on its own shard
of it with its own noise; after each backward the gradients are averaged in one flat all-reduce,
so all ranks take identical optimiser steps. We average gradients ourselves instead of wrapping
the models in DistributedDataParallel because D runs twice (real, then fake, each with its own
BatchNorm batch statistics, as in the paper) before one backward, and G's step backpropagates
through D, patterns DDP's reducer handles badly. BatchNorm running statistics are averaged at
each epoch's end. Rank 0 alone writes the run directory. With one process all of this is a no-op.
"""
from __future__ import annotations

import hashlib
import os

import torch
import torch.distributed as dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


class Dist:
    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        # under torchrun the group is joined even with one process, so a one-GPU launch runs the
        # same all-reduce path (over NCCL) that eight GPUs do
        self.on = self.world > 1 or ("TORCHELASTIC_RUN_ID" in os.environ and "MASTER_ADDR" in os.environ)
        self._owned = False

    @property
    def main(self) -> bool:
        return self.rank == 0

    def setup(self, device: torch.device) -> torch.device:
        """Join the process group; on CUDA each rank takes the GPU of its local rank."""
        if not self.on:
            return device
        if device.type == "cuda":
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            self._owned = True
        return device

    @property
    def backend(self) -> str | None:
        return dist.get_backend() if self.on and dist.is_initialized() else None

    def close(self) -> None:
        if self._owned and dist.is_initialized():
            # all ranks leave together: a rank that tears its gloo pairs down while a peer still
            # holds them can abort that peer ("terminate called without an active exception")
            dist.barrier()
            dist.destroy_process_group()
            self._owned = False

    def average_grads(self, module: torch.nn.Module) -> None:
        if not self.on:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        flat = _flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat /= self.world
        for g, synced in zip(grads, _unflatten_dense_tensors(flat, grads)):
            g.copy_(synced)

    def average_buffers(self, module: torch.nn.Module) -> None:
        """BatchNorm running mean/var averaged over ranks (integer counters are left alone)."""
        if not self.on:
            return
        for b in module.buffers():
            if b.is_floating_point():
                dist.all_reduce(b)
                b /= self.world

    def mean_(self, t: torch.Tensor) -> torch.Tensor:
        if self.on:
            dist.all_reduce(t)
            t /= self.world
        return t

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank if it is true on any (a stop request, a checkpoint timer)."""
        if not self.on:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def gather(self, obj) -> list:
        if not self.on:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out


def checksum(module: torch.nn.Module) -> str:
    """A digest of every parameter and buffer, to check that ranks hold identical models."""
    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
