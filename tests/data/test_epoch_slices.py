"""EpochSliceSampler: epochs shorter than a pass over the split, continuing one shuffled pass after another."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from skelcl.data.epoch_slices import EpochSliceSampler


def epoch(sampler: EpochSliceSampler, e: int) -> list[int]:
    sampler.set_epoch(e)
    return list(sampler)


def test_epochs_cut_one_pass_after_another():
    s = EpochSliceSampler(size=10, epoch_clips=4, seed=3)
    epochs = [epoch(s, e) for e in range(5)]  # 20 clips drawn: two whole passes
    assert all(len(x) == 4 == len(s) for x in epochs)
    drawn = sum(epochs, [])
    assert sorted(drawn[:10]) == list(range(10)) and sorted(drawn[10:]) == list(range(10))
    assert drawn[:10] != drawn[10:]  # every pass is shuffled anew
    assert epochs[2] == drawn[8:12]  # an epoch across two passes ends one and starts the next


def test_every_clip_is_drawn_equally_often():
    s = EpochSliceSampler(size=97, epoch_clips=32, seed=0)
    counts = Counter(sum((epoch(s, e) for e in range(40)), []))
    assert set(counts) == set(range(97)) and max(counts.values()) - min(counts.values()) <= 1


def test_an_epoch_depends_only_on_seed_and_epoch():
    """A resumed run's new sampler draws what the uninterrupted one drew."""
    a, b = EpochSliceSampler(50, 16, seed=1), EpochSliceSampler(50, 16, seed=1)
    first = [epoch(a, e) for e in range(6)]
    assert epoch(b, 4) == first[4] and epoch(b, 1) == first[1]
    assert epoch(EpochSliceSampler(50, 16, seed=2), 4) != first[4]


@pytest.mark.parametrize("world", [2, 3])
def test_processes_share_an_epoch_without_overlap(world):
    whole = epoch(EpochSliceSampler(40, 17, seed=0), 3)
    parts = [epoch(EpochSliceSampler(40, 17, num_replicas=world, rank=r, seed=0), 3) for r in range(world)]
    assert len({len(p) for p in parts}) == 1  # equal shares: DDP steps in lockstep
    assert set(sum(parts, [])) == set(whole) and len(sum(parts, [])) - len(whole) < world  # padded, not dropped


@pytest.mark.parametrize("size, clips", [(10, 0), (10, 11)])
def test_an_epoch_must_fit_the_split(size, clips):
    with pytest.raises(ValueError, match="between 1 and the split"):
        EpochSliceSampler(size, clips)


def test_the_train_loader_draws_epochs_of_the_set_size(tmp_path):
    from skelcl.build import build_datamodule, validate
    from tests.conftest import compose_train

    cfg = compose_train(["dataset.options.num_subjects=4"], tmp_path, tmp_path / "cache")
    dm = build_datamodule(validate(cfg).dataset, cfg.cache_dir, 8, 0)
    dm.setup("fit")
    full = [b["index"] for b in dm.train_dataloader()]
    assert sum(len(i) for i in full) == len(dm.train_idx) // 8 * 8  # a whole pass, as before
    dm.epoch_clips = 24
    loader = dm.train_dataloader()
    seen = []
    for e in range(len(dm.train_idx) // 24):
        loader.sampler.set_epoch(e)
        batches = [b["index"].numpy() for b in loader]
        assert [len(b) for b in batches] == [8, 8, 8]
        seen.append(np.concatenate(batches))
    seen = np.concatenate(seen)
    assert len(np.unique(seen)) == len(seen) and set(seen) <= set(dm.train_idx.tolist())
