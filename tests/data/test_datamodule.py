"""SkeletonDataModule: labelled subsets for semi-supervised protocols (seeded balanced vs AS-CAL's first k per
class), never touching the test split, and the pretraining loader's drop_last switch."""

from __future__ import annotations

import numpy as np
import pytest

from skelcl.data.datamodule import SkeletonDataModule, class_balanced_subset, first_k_subset
from skelcl.data.formats import PreparedWriter, load_prepared
from skelcl.data.layouts import NTU25

# 3 classes in file order 0,1,2,0,1,2,... over 30 training clips, plus 6 test clips
LABELS = np.array([i % 3 for i in range(36)])


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("dm") / "ds"
    rng = np.random.default_rng(0)
    with PreparedWriter(out, len(LABELS), 8, NTU25, 1) as w:
        for i, y in enumerate(LABELS):
            w.write(i, rng.normal(size=(3, 8, 25, 1)).astype(np.float32), int(y), f"s{i:03d}", subject=i)
        w.commit({"x_train": range(30), "x_test": range(30, 36)}, num_classes=3)
    return load_prepared(out)


def test_first_k_takes_the_first_clips_of_each_class_in_file_order():
    labels = np.array([0, 1, 0, 2, 0, 1, 2, 2, 0, 1])  # N = 10, C = 3
    assert first_k_subset(labels, 0.5).tolist() == [0, 1, 3]  # k = floor(0.5 * 10 / 3) = 1
    assert first_k_subset(labels, 0.7).tolist() == [0, 1, 2, 3, 5, 6]  # k = floor(7 / 3) = 2
    assert first_k_subset(labels, 0.01).tolist() == [0, 1, 3]  # at least one per class
    assert first_k_subset(labels, 1.0).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 9]  # k = 3: clip 8 is class 0's 4th
    with pytest.raises(ValueError, match="label fraction"):
        first_k_subset(labels, 0.0)


def test_balanced_subset_is_seeded_and_per_class():
    labels = np.repeat(np.arange(4), 20)
    a, b = class_balanced_subset(labels, 0.25, seed=3), class_balanced_subset(labels, 0.25, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, class_balanced_subset(labels, 0.25, seed=4))
    assert np.bincount(labels[a]).tolist() == [5, 5, 5, 5]


@pytest.mark.parametrize("subset", ["balanced", "first_k"])
def test_labelled_subset_comes_from_the_training_split_only(prepared, subset):
    dm = SkeletonDataModule(prepared, "x_train", "x_test", batch_size=4, label_fraction=0.2, subset=subset)
    assert set(dm.train_idx) <= set(range(30)) and dm.test_idx.tolist() == list(range(30, 36))
    assert np.bincount(prepared.labels[dm.train_idx]).tolist() == [2, 2, 2]
    if subset == "first_k":
        assert dm.train_idx.tolist() == [0, 1, 2, 3, 4, 5]


def test_unknown_subset_rule_is_refused(prepared):
    with pytest.raises(ValueError, match="first_k"):
        SkeletonDataModule(prepared, "x_train", "x_test", batch_size=4, label_fraction=0.2, subset="random")


def test_subset_typo_fails_with_the_config_before_any_data():
    from skelcl.build import validate
    from tests.conftest import compose_config

    cfg = compose_config(["protocol=[linear,semi]", "+protocol.semi.subset=frist_k"])
    with pytest.raises(ValueError, match=r"invalid config 'protocol.semi'.*frist_k.*first_k"):
        validate(cfg)


@pytest.mark.parametrize("drop_last, batches", [(True, 4), (False, 5)])
def test_drop_last_switch(prepared, drop_last, batches):
    dm = SkeletonDataModule(prepared, "x_train", "x_test", batch_size=7, drop_last=drop_last)
    sizes = [len(b["label"]) for b in dm.train_dataloader()]
    assert len(sizes) == batches and sum(sizes) == (28 if drop_last else 30)


@pytest.mark.parametrize("batch_size, sizes", [(29, [29]), (28, [28, 2]), (30, [30])])
def test_a_lone_last_clip_is_left_out_when_the_partial_batch_is_kept(prepared, batch_size, sizes):
    """30 training clips: batches of 29 would leave one clip alone (no pair to contrast, BatchNorm fails on it)."""
    dm = SkeletonDataModule(prepared, "x_train", "x_test", batch_size=batch_size, drop_last=False)
    loader = dm.train_dataloader()
    seen = [b["index"].tolist() for b in loader]
    assert [len(s) for s in seen] == sizes
    if batch_size == 29:  # a different clip is left out in another epoch
        loader.sampler.set_epoch(1)
        assert set(next(iter(loader))["index"].tolist()) != set(seen[0])
