"""Epochs shorter than a pass over the training split: `EpochSliceSampler`.

The methods place their schedule events (warm-up, LR milestones, mining epoch, AS-CAL's queue-filling first epoch)
at whole epochs. The small-data rule keeps a fixed budget of clips drawn, so on a split of 10-20k clips that budget
is two to four passes, and whole-epoch events land far from where the method's schedule puts them: AS-CAL on 19k
clips would spend its first of two epochs filling the queue and its second at a tenth of the LR. Cutting the
passes into shorter epochs keeps the schedule's shape at every dataset size.

Epoch e takes positions [e*k, (e+1)*k) of an endless stream of shuffled passes over the split (pass p is a seeded
permutation of its own), so consecutive epochs continue one pass and every clip is drawn equally often (an epoch
that straddles two passes may draw a clip at the end of one and again at the start of the next); an epoch's
clips depend only on (seed, e), so a resumed run draws what an uninterrupted one does. Across processes the epoch's
clips are dealt out as DistributedSampler deals a pass: padded to a multiple of the world size, then strided.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochSliceSampler(Sampler[int]):
    def __init__(self, size: int, epoch_clips: int, num_replicas: int = 1, rank: int = 0, seed: int = 0) -> None:
        if not 0 < epoch_clips <= size:
            raise ValueError(f"an epoch of {epoch_clips} clips must be between 1 and the split's {size} clips")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} is not one of {num_replicas} processes")
        self.size, self.epoch_clips, self.seed = size, epoch_clips, seed
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning before every epoch."""
        self.epoch = epoch

    def _pass(self, p: int) -> torch.Tensor:
        return torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + p))

    def epoch_indices(self) -> list[int]:
        """This epoch's clips, every process's share together."""
        start, out = self.epoch * self.epoch_clips, []
        while len(out) < self.epoch_clips:
            p, offset = divmod(start + len(out), self.size)
            out += self._pass(p)[offset:offset + self.epoch_clips - len(out)].tolist()
        return out

    def __iter__(self) -> Iterator[int]:
        idx = self.epoch_indices()
        idx += idx[:len(self) * self.num_replicas - len(idx)]
        return iter(idx[self.rank::self.num_replicas])

    def __len__(self) -> int:
        return -(-self.epoch_clips // self.num_replicas)
