"""The negative queue (MoCo memory bank), correct under DDP.

Keys are all-gathered from every rank before they are written, so each rank holds the same queue and the
pointer advances by the global batch. (The official DataParallel code advanced the pointer by the full batch
but only wrote device 0's keys.)
"""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def gather_from_all_ranks(x: torch.Tensor) -> torch.Tensor:
    """Concatenate `x` from every rank (rank order); a no-op in a single process."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


class NegativeQueue(nn.Module):
    """A FIFO ring of K past keys, stored as rows (K, D).

    init: 'normal' (N(0,1) then L2-normalised rows, the ST-GCN family) or 'uniform' (U(-s, s) with
    s = 1/sqrt(D/3), AS-CAL's MemoryMoCo).
    """

    def __init__(self, size: int, dim: int, init: str = "normal") -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"queue size must be >= 1, got {size}")
        if init == "normal":
            q = F.normalize(torch.randn(size, dim), dim=1)
        elif init == "uniform":
            s = 1.0 / math.sqrt(dim / 3)
            q = torch.rand(size, dim) * 2 * s - s
        else:
            raise ValueError(f"unknown queue init '{init}'; choose 'normal' or 'uniform'")
        self.register_buffer("keys", q)
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))

    @property
    def size(self) -> int:
        return self.keys.shape[0]

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, gather: bool = True) -> None:
        """Write `keys` (N, D) at the pointer, wrapping around the end; gathers from all ranks first."""
        keys = gather_from_all_ranks(keys.detach()) if gather else keys.detach()
        n = keys.shape[0]
        if n >= self.size:  # only the newest K survive
            keys, n = keys[-self.size :], self.size
        # the pointer stays on the device: no host-device synchronisation inside the training step
        pos = (torch.arange(n, device=keys.device) + self.ptr) % self.size
        self.keys.index_copy_(0, pos, keys.to(self.keys.dtype))
        self.ptr.copy_((self.ptr + n) % self.size)
