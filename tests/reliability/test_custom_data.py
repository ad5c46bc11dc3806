"""Custom data (`dataset=custom`): the class count is declared and checked, plain train/val splits work,
and errors name the user's own file in the user's own numbering."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest

from skelcl.build import build_datamodule
from skelcl.config import DatasetConfig
from skelcl.data.open import open_dataset
from tests.data import fixtures as fx

LAYOUT = {"name": "stick5", "num_joints": 5, "bones": [[1, 2], [2, 2], [3, 2], [4, 3], [5, 3]], "center": 2,
          "one_based": True}


def write(tmp_path, labels, split=None, **extra):
    rng = np.random.default_rng(0)
    anns = [fx.pyskl_annotation(rng, f"clip{i}", int(lab), 8, joints=5) for i, lab in enumerate(labels)]
    names = [a["frame_dir"] for a in anns]
    split = split or {"train": names[: len(names) // 2], "val": names[len(names) // 2:]}
    path = tmp_path / "mine.pkl"
    with open(path, "wb") as f:
        pickle.dump({"split": split, "annotations": anns, **extra}, f)
    return path


def dataset(path, tmp_path, **kw):
    return DatasetConfig(name="custom", format="custom", root=str(path), split=kw.pop("split", None),
                         layout=LAYOUT, **kw)


def test_class_count_must_be_declared(tmp_path):
    path = write(tmp_path, [0, 1, 2, 3, 4, 5, 6, 7] * 2)
    with pytest.raises(ValueError, match=r"mine.pkl: declare the number of classes: dataset.num_classes=N"):
        open_dataset(path, format="custom", layout=LAYOUT, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("labels,message", [
    (list(range(1, 9)) * 2, r"label 8 is out of range 0..7 \(num_classes=8\) \(labels start at 1\? .*0-based"),
    ([0, 1, 2, 3, 4, 5, 6, 20] * 2, r"label 20 is out of range 0..7 \(num_classes=8\)"),
])
def test_labels_outside_the_declared_classes_fail(tmp_path, labels, message):
    path = write(tmp_path, labels)
    with pytest.raises(ValueError, match=message):
        open_dataset(path, format="custom", layout=LAYOUT, cache_dir=tmp_path / "cache", num_classes=8)


def test_gaps_in_label_ids_are_warned(tmp_path, caplog):
    path = write(tmp_path, [0, 1, 2, 3, 4, 5, 6, 20] * 2)
    with caplog.at_level(logging.WARNING, logger="skelcl.data"):
        dm = build_datamodule(dataset(path, tmp_path, num_classes=21), str(tmp_path / "cache"), 4, 0)
    assert dm.num_classes == 21
    assert "mine.pkl: 13 of 21 classes have no sample (class ids 7, 8, 9" in caplog.text


def test_class_names_in_the_pickle_declare_the_classes(tmp_path):
    path = write(tmp_path, [0, 1, 2] * 4, class_names=["wave", "sit", "jump"])
    ds = open_dataset(path, format="custom", layout=LAYOUT, cache_dir=tmp_path / "cache")
    assert ds.num_classes == 3 and ds.class_names == ["wave", "sit", "jump"]
    with pytest.raises(ValueError, match="dataset.num_classes=4 but the pickle's class_names lists 3 classes"):
        open_dataset(path, format="custom", layout=LAYOUT, cache_dir=tmp_path / "cache2", num_classes=4)


def test_plain_train_val_split_names_work(tmp_path):
    path = write(tmp_path, [0, 1, 2, 3] * 4)  # split = {'train': [...], 'val': [...]}
    dm = build_datamodule(dataset(path, tmp_path, num_classes=4), str(tmp_path / "cache"), 4, 0)
    assert len(dm.train_idx) == 8 and len(dm.test_idx) == 8


def test_unknown_split_names_the_users_file_not_the_cache(tmp_path):
    path = write(tmp_path, [0, 1, 2, 3] * 4)
    with pytest.raises(ValueError) as err:
        build_datamodule(dataset(path, tmp_path, num_classes=4, split="fold1"), str(tmp_path / "cache"), 4, 0)
    assert str(err.value).startswith(f"{path}: no split named 'fold1_train'; available splits: ['test', 'train']")
    assert str(tmp_path / "cache") not in str(err.value)
