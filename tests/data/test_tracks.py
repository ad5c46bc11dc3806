"""Re-linking body slots that a pose estimator filled frame by frame (the j-th detection in slot j) into one person
per slot, and leaving tracked clips as they were stored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skelcl.config import DatasetConfig
from skelcl.data.formats import DataFormatError
from skelcl.data.open import open_dataset
from skelcl.data.tracks import link_tracks, packed, relink
from tests.data import fixtures as fx


def _people(rng, frames=40, joints=17, apart=1.0):
    """(2, T, V, 2): two people a body size (about 1.0 here) apart, each moving a little from frame to frame."""
    base = rng.uniform(0.0, 1.0, size=(2, 1, joints, 2))
    base[1, ..., 0] += apart
    walk = rng.normal(0.0, 0.01, size=(2, frames, 1, 2)).cumsum(axis=1)
    return (base + walk + rng.normal(0.0, 0.005, size=(2, frames, joints, 2))).astype(np.float32)


def _detector_order(kp, swap):
    """Per frame, the bodies in the first slots and the two swapped where `swap` (T,) is set: an untracked file."""
    out = kp.copy()
    out[0, swap], out[1, swap] = kp[1, swap], kp[0, swap]
    return out


def test_two_people_trading_slots_are_relinked_scores_alike():
    rng = np.random.default_rng(0)
    kp = _people(rng)
    swap = rng.random(kp.shape[1]) < 0.5
    score = np.stack([np.full(kp.shape[:3][1:], 0.9), np.full(kp.shape[:3][1:], 0.6)]).astype(np.float32)
    stored, stored_score = _detector_order(kp, swap), _detector_order(score[..., None], swap)[..., 0]
    out, out_score, moved = relink(stored, stored_score)
    assert moved
    first = 0 if np.array_equal(out[0, 0], kp[0, 0]) else 1  # which person the first slot holds is the first frame's
    np.testing.assert_array_equal(out, kp[[first, 1 - first]])
    np.testing.assert_array_equal(out_score, score[[first, 1 - first]])
    order = link_tracks(stored)
    assert order.shape == (kp.shape[1], 2) and (np.sort(order, axis=1) == [0, 1]).all()


def test_tracked_clips_are_left_as_stored():
    rng = np.random.default_rng(1)
    kp = _people(rng)
    out, score, moved = relink(kp)
    assert not moved and out is kp and score is None  # a tracked pair: nothing jumps
    one = kp[:1].copy()
    one[0, 20:] += 3.0  # a single body's skeleton jumping three body sizes (a depth sensor's glitch)
    assert not relink(one)[2]
    gaps = kp.copy()
    gaps[0, 10:15] = 0  # the first person out of view while the second stays in its slot: a tracker wrote this
    gaps[1, 15:] += 1.5  # ...and the second one's skeleton jumps
    assert not packed((gaps != 0).any(axis=(2, 3)))
    assert not relink(gaps)[2]


def test_a_newcomer_far_from_everyone_starts_a_track_of_its_own():
    rng = np.random.default_rng(2)
    kp = _people(rng, frames=40, apart=2.5)
    kp[0, 20:30] = 0  # the performer is out of view for ten frames ...
    kp[1, :20] = 0  # ... while a passer-by, far to the side, enters at frame 20
    stored = np.zeros_like(kp)  # as detected: whoever is in view in the first slot
    for f in range(kp.shape[1]):
        present = [b for b in (0, 1) if (kp[b, f] != 0).any()]
        for slot, b in enumerate(present):
            stored[slot, f] = kp[b, f]
    out, _, moved = relink(stored)
    assert moved
    np.testing.assert_array_equal(out, kp)  # the passer-by never takes the performer's slot


def test_conversion_relinks_an_untracked_pickle(tmp_path):
    rng = np.random.default_rng(3)
    anns, tracked = [], []
    for i in range(4):
        kp = _people(rng, frames=30)
        tracked.append(kp)
        anns.append({"frame_dir": f"pair{i}", "label": i % 2, "total_frames": 30,
                     "keypoint": _detector_order(kp, rng.random(30) < 0.5)})
    path = fx.write_pyskl(tmp_path / "pairs.pkl", anns, {"train": ["pair0", "pair1"], "test": ["pair2", "pair3"]})
    ds = open_dataset(path, format="custom", layout="coco17", num_classes=2)
    for i, kp in enumerate(tracked):
        clip = ds.data[i].transpose(3, 1, 2, 0)  # (C, T, V, M) -> (M, T, V, C)
        assert np.array_equal(clip, kp) or np.array_equal(clip, kp[::-1])
    notes = " ".join(json.loads((ds.root / "summary.json").read_text())["notes"])
    assert "4 clip(s) stored body slots that change person from frame to frame" in notes
    raw = open_dataset(path, format="custom", layout="coco17", num_classes=2, link_bodies=False,
                       cache_dir=tmp_path / "raw")
    np.testing.assert_array_equal(raw.data[0].transpose(3, 1, 2, 0), anns[0]["keypoint"])
    assert DatasetConfig().link_bodies is True


@pytest.mark.parametrize("frames", [1, 2])
def test_very_short_clips(frames):
    kp = _people(np.random.default_rng(4), frames=frames)
    assert link_tracks(kp).shape == (frames, 2)


def test_compressed_annotation_is_expanded_and_relinked(tmp_path):
    """pyskl's `--compress` form: one row per detection (x, y, score) and its frame; a frame's detections in the
    detector's order, the frame between two detections left empty."""
    rng = np.random.default_rng(5)
    kp = _people(rng, frames=30)
    kp[:, 12] = 0  # no one detected in frame 12
    rows, frames = [], []
    for f in range(30):
        for b in (rng.permutation(2) if f != 12 else []):
            rows.append(np.concatenate([kp[b, f], np.full((17, 1), 0.5 + 0.1 * b, np.float32)], axis=1))
            frames.append(f)
    ann = {"frame_dir": "video0", "label": 0, "total_frames": 30, "keypoint": np.stack(rows).astype(np.float16),
           "frame_inds": np.array(frames, dtype=np.int16)}
    other = {"frame_dir": "video1", "label": 1, "total_frames": 30, "keypoint": kp.copy()}
    path = fx.write_pyskl(tmp_path / "compressed.pkl", [ann, other], {"train": ["video0"], "test": ["video1"]})
    ds = open_dataset(path, format="custom", layout="coco17", num_classes=2)
    clip = ds.data[0].transpose(3, 1, 2, 0)
    expected = kp.astype(np.float16).astype(np.float32)
    assert np.array_equal(clip, expected) or np.array_equal(clip, expected[::-1])
    assert not clip[:, 12].any()  # the empty frame stays in time
    ann["frame_inds"] = ann["frame_inds"] + 1  # 1-based: the last reaches total_frames
    path = fx.write_pyskl(tmp_path / "one_based.pkl", [ann], {"train": ["video0"]})
    with pytest.raises(DataFormatError, match="video0: frame_inds run from 1 to 30 but total_frames = 30"):
        open_dataset(path, format="custom", layout="coco17", num_classes=2)
    ann["keypoint"] = ann["keypoint"][..., :2]
    ann["frame_inds"] = ann["frame_inds"] - 1
    path = fx.write_pyskl(tmp_path / "no_score.pkl", [ann], {"train": ["video0"]})
    with pytest.raises(DataFormatError, match=r"needs keypoint \[N, V, C \+ 1\]"):
        open_dataset(path, format="custom", layout="coco17", num_classes=2)
