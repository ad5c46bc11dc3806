"""Choosing a clip's bodies: a pose estimator's pickle lists every person it saw, performers and background alike."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelcl.config import DatasetConfig, FieldRangeError
from skelcl.data.bodies import body_weights, rank_bodies
from skelcl.data.formats import DataFormatError
from skelcl.data.open import open_dataset
from skelcl.data.readers import split_name
from tests.data import fixtures as fx


def _crowd(rng, frames=12, joints=17):
    """Four 2-D bodies: 0 seen in a third of the frames, 1 everywhere with low scores, 2 (the performer) everywhere
    with high scores, 3 never (all zeros)."""
    kp = rng.uniform(50, 400, size=(4, frames, joints, 2)).astype(np.float32)
    kp[0, frames // 3:] = 0
    kp[3] = 0
    score = np.full((4, frames, joints), 0.4, np.float32)
    score[2] = 0.95
    return kp, score


def test_bodies_ranked_by_what_was_seen_weighted_by_confidence():
    kp, score = _crowd(np.random.default_rng(0))
    np.testing.assert_allclose(body_weights(kp, score), [0.4 * 4 * 17, 0.4 * 12 * 17, 0.95 * 12 * 17, 0.0], rtol=1e-6)
    # body 1 is seen 0.42 as much as the performer: under the default half; kept at a share of 0.4 or 0
    assert rank_bodies(kp, score).tolist() == [2]
    assert rank_bodies(kp, score, min_share=0.4).tolist() == [2, 1]
    assert rank_bodies(kp, score, min_share=0).tolist() == [2, 1]
    assert rank_bodies(kp, score, max_bodies=None, min_share=0).tolist() == [2, 1, 0]  # 3 was never seen
    # without scores: joints found; bodies 1 and 2 tie and keep their stored order, body 0 (a third) is dropped
    assert rank_bodies(kp).tolist() == [1, 2]
    assert rank_bodies(kp, max_bodies=None, min_share=0.3).tolist() == [1, 2, 0]
    assert rank_bodies(kp, max_bodies=1).tolist() == [1]
    # a missed joint (written as 0) does not count, its score notwithstanding
    kp[2, :, :9] = 0
    assert body_weights(kp, score)[2] == pytest.approx(0.95 * 12 * 8)
    assert rank_bodies(np.zeros_like(kp)).tolist() == [0]  # nothing seen: the first body stays


def test_pickle_conversion_keeps_the_most_seen_bodies_first(tmp_path):
    rng = np.random.default_rng(1)
    anns = []
    for i in range(4):
        kp, score = _crowd(rng)
        anns.append({"frame_dir": f"c{i}", "label": i % 2, "total_frames": 12, "keypoint": kp,
                     "keypoint_score": score})
    single = fx.pyskl_annotation(rng, "solo", 1, 12, joints=17)
    single["keypoint"] = single["keypoint"][..., :2]
    path = fx.write_pyskl(tmp_path / "crowd.pkl", anns + [single],
                          {"train": ["c0", "c1", "solo"], "test": ["c2", "c3"]})
    ds = open_dataset(path, format="custom", layout="coco17", num_classes=2)
    assert ds.shape == (5, 2, 12, 17, 1)  # the performer alone: the others are seen under half as much
    for i, a in enumerate(anns):
        np.testing.assert_array_equal(ds.data[i, ..., 0], a["keypoint"][2].transpose(2, 0, 1))
    notes = " ".join(json.loads((ds.root / "summary.json").read_text())["notes"])
    assert "4 clip(s) lost bodies: at most 2 kept per clip, after the first only those seen at least 0.5" in notes
    two = open_dataset(path, format="custom", layout="coco17", num_classes=2, min_body_share=0,
                       cache_dir=tmp_path / "two")
    assert two.shape == (5, 2, 12, 17, 2)
    np.testing.assert_array_equal(two.data[0], anns[0]["keypoint"][[2, 1]].transpose(3, 1, 2, 0))
    every = open_dataset(path, format="custom", layout="coco17", num_classes=2, max_bodies=None, min_body_share=0,
                         cache_dir=tmp_path / "all")
    assert every.shape == (5, 2, 12, 17, 3)  # the never-seen body is no body
    np.testing.assert_array_equal(every.data[0], anns[0]["keypoint"][[2, 1, 0]].transpose(3, 1, 2, 0))
    with pytest.raises(ValueError, match="max_bodies must be null or an integer >= 1"):
        open_dataset(path, format="custom", layout="coco17", num_classes=2, max_bodies=0)
    with pytest.raises(ValueError, match=r"min_body_share must be in \[0, 1\]"):
        open_dataset(path, format="custom", layout="coco17", num_classes=2, min_body_share=1.5)


def test_bad_keypoint_score_names_the_clip(tmp_path):
    rng = np.random.default_rng(2)
    kp, score = _crowd(rng)
    bad = {"frame_dir": "clip7", "label": 0, "total_frames": 12, "keypoint": kp, "keypoint_score": score[:, :5]}
    path = fx.write_pyskl(tmp_path / "bad.pkl", [bad], {"train": ["clip7"]})
    with pytest.raises(DataFormatError, match=r"clip7: keypoint_score has shape \(4, 5, 17\), expected"):
        open_dataset(path, format="custom", layout="coco17", num_classes=1)
    score[1, 3, 4] = np.nan
    bad.update(keypoint_score=score)
    path = fx.write_pyskl(tmp_path / "nan.pkl", [bad], {"train": ["clip7"]})
    with pytest.raises(DataFormatError, match="clip7: keypoint_score has a non-finite value"):
        open_dataset(path, format="custom", layout="coco17", num_classes=1)


def test_stored_body_slots_are_not_cut_silently(tmp_path):
    ds = open_dataset(None, format="synthetic", cache_dir=tmp_path, num_subjects=2, num_classes=2, cameras=1)
    assert ds.shape[-1] == 2
    with pytest.raises(DataFormatError, match="stores 2 body slots per clip but dataset.max_bodies=1"):
        open_dataset(None, format="synthetic", cache_dir=tmp_path, num_subjects=2, num_classes=2, cameras=1,
                     max_bodies=1)


def test_numbered_pyskl_splits_and_config():
    assert [split_name(n) for n in ("train1", "test1", "val3", "train", "val", "xsub_val", "trainval")] == [
        "1_train", "1_test", "3_test", "train", "test", "xsub_test", "trainval"]
    assert DatasetConfig(split=1).split_names == ("1_train", "1_test")
    assert DatasetConfig(max_bodies=None).max_bodies is None
    for bad in (0, True, "two"):
        with pytest.raises(FieldRangeError, match="max_bodies"):
            DatasetConfig(max_bodies=bad)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(FieldRangeError, match="min_body_share"):
            DatasetConfig(min_body_share=bad)
