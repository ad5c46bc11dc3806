"""SkeletonDataModule: opens a prepared dataset (memory-mapped), selects splits, and yields index-only batches.

The loader never augments: it reads `(x, length, label, index)` batches with one fancy-indexed memmap read per
batch. Clip preparation, augmentation and streams happen on the training device (see `methods/base.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from skelcl.config import LABELLED_SUBSETS
from skelcl.data.epoch_slices import EpochSliceSampler
from skelcl.data.formats import DataFormatError, PreparedDataset


class ClipDataset(Dataset):
    """A split of a prepared dataset; `__getitems__` reads a whole batch at once."""

    def __init__(self, prepared: PreparedDataset, indices: np.ndarray) -> None:
        self.prepared = prepared
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        return self.__getitems__([i])[0]

    def __getitems__(self, items: Sequence[int]) -> list[dict]:
        idx = self.indices[np.asarray(items, dtype=np.int64)]
        x = self.prepared.read(idx)
        lengths = self.prepared.lengths[idx]
        labels = self.prepared.labels[idx]
        return [
            {"x": torch.from_numpy(x[k]), "length": int(lengths[k]), "label": int(labels[k]), "index": int(idx[k])}
            for k in range(len(idx))
        ]


def _check_fraction(fraction: float) -> None:
    if not 0 < fraction <= 1:
        raise ValueError(f"label fraction must be in (0, 1], got {fraction}")


def class_balanced_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """round(fraction * n_c) samples of every class c (at least 1), seeded; positions into `labels`."""
    _check_fraction(fraction)
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        pos = np.flatnonzero(labels == c)
        k = max(1, int(round(fraction * len(pos))))
        picked.append(rng.choice(pos, size=k, replace=False))
    return np.sort(np.concatenate(picked))


def first_k_subset(labels: np.ndarray, fraction: float) -> np.ndarray:
    """AS-CAL's labelled subset (official semi step 1): the first floor(fraction * N / C) samples of every class
    in stored order (at least 1; fewer where a class is smaller); positions into `labels`."""
    _check_fraction(fraction)
    classes = np.unique(labels)
    k = max(1, int(fraction * len(labels) / len(classes)))
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:k] for c in classes]))


class SkeletonDataModule(L.LightningDataModule):
    def __init__(self, prepared: PreparedDataset, train_split: str, test_split: str, batch_size: int,
                 num_workers: int = 0, seed: int = 0, drop_last: bool = True,
                 label_fraction: float = 1.0, split_indices: tuple[np.ndarray, np.ndarray] | None = None,
                 subset: str = "balanced", vertical_axis: int = 1) -> None:
        super().__init__()
        self.prepared = prepared
        self.vertical_axis = vertical_axis  # the axis the bodies stand along (data/checks.py), for the model input
        if split_indices is not None:  # already-selected splits (e.g. a labelled subset of another module's)
            self.train_idx, self.test_idx = split_indices
        else:
            self.train_idx = prepared.split(train_split)
            self.test_idx = prepared.split(test_split)
        if len(self.train_idx) == 0:
            raise DataFormatError(f"{prepared.origin}: split '{train_split}' is empty")
        if subset not in LABELLED_SUBSETS:
            raise ValueError(f"unknown labelled-subset rule '{subset}'; choose one of {list(LABELLED_SUBSETS)}")
        if label_fraction < 1.0:
            labels = prepared.labels[self.train_idx]
            pos = (class_balanced_subset(labels, label_fraction, seed) if subset == "balanced"
                   else first_k_subset(labels, label_fraction))
            self.train_idx = self.train_idx[pos]
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.drop_last = drop_last and len(self.train_idx) >= batch_size
        self.epoch_clips: int | None = None  # set by the small-data rule: training epochs shorter than a pass

    @property
    def layout(self):
        return self.prepared.layout

    @property
    def num_classes(self) -> int:
        return self.prepared.num_classes

    def _world(self) -> int:
        return self.trainer.world_size if self.trainer is not None else 1

    def _train_loader(self, drop_last: bool) -> DataLoader:
        ds = ClipDataset(self.prepared, self.train_idx)
        world, rank = self._world(), (self.trainer.global_rank if self.trainer is not None else 0)
        # One sampler for 1 or many processes: seeded, reshuffled per epoch via set_epoch (called by Lightning),
        # so a resumed run sees the same order as an uninterrupted one.
        if self.epoch_clips is not None and self.epoch_clips < len(ds):
            sampler = EpochSliceSampler(len(ds), self.epoch_clips, num_replicas=world, rank=rank, seed=self.seed)
        else:
            sampler = DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True, seed=self.seed,
                                         drop_last=False)
        # Own generator: creating an iterator must not draw from the global RNG (dropout's), or a resumed run
        # would diverge from an uninterrupted one. Loader workers do no random work. Their shutdown needs nothing
        # from us (unlike the prepare pool, issue 16): torch gives each worker its own SIGTERM handler, stops them
        # with sentinels and a bounded join before any terminate(), and a worker exits when its parent dies.
        return DataLoader(ds, batch_size=self.batch_size, sampler=sampler, drop_last=drop_last,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          pin_memory=torch.cuda.is_available(), generator=torch.Generator().manual_seed(self.seed))

    def train_dataloader(self) -> DataLoader:
        # A last batch of one clip has no pair to contrast and stops BatchNorm in training mode; where keeping the
        # partial batch would leave exactly one clip over, that clip (a different one each epoch) is left out.
        drawn = min(len(self.train_idx), self.epoch_clips or len(self.train_idx))
        per_process = -(-drawn // self._world())  # the sampler's share of each process (padded)
        lone = per_process > 1 and per_process % self.batch_size == 1
        return self._train_loader(drop_last=self.drop_last or lone)

    def feature_loader(self, which: str, batch_size: int | None = None) -> DataLoader:
        """Un-shuffled loader over the train or test split for feature extraction (single process)."""
        idx = {"train": self.train_idx, "test": self.test_idx}[which]
        ds = ClipDataset(self.prepared, idx)
        return DataLoader(ds, batch_size=batch_size or self.batch_size, shuffle=False,
                          num_workers=self.num_workers)

    def describe(self) -> str:
        p = self.prepared
        return (f"{p.meta.get('name', Path(p.root).name)}: {len(self.train_idx)} train / {len(self.test_idx)} test "
                f"clips, {p.num_classes} classes, layout {p.layout.name}, stored (C,T,V,M)={p.shape[1:]}")
