"""The built-in synthetic dataset: format, determinism, splits, body slots, rigid bones, caching."""

from __future__ import annotations

import re

import numpy as np
import pytest

from skelcl.data import synthetic as syn
from skelcl.data.formats import load_prepared
from skelcl.data.layouts import NTU25
from skelcl.data.synthetic import body

SMALL = dict(num_subjects=4)  # 4 subjects x 29 classes x 3 cameras = 348 recordings, about a second
CLEAN = dict(noise_std=0.0, drop_prob=0.0, corrupt_prob=0.0, warp=0.0)  # no sensor artefacts, no fit distortion


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return load_prepared(syn.generate_synthetic(tmp_path_factory.mktemp("syn") / "small", syn.SyntheticConfig(**SMALL)))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    cfg = syn.SyntheticConfig(**SMALL, **CLEAN)
    return load_prepared(syn.generate_synthetic(tmp_path_factory.mktemp("syn") / "clean", cfg))


def test_class_list():
    assert len(syn.CLASS_NAMES) >= 20 and len(set(syn.CLASS_NAMES)) == len(syn.CLASS_NAMES)
    assert len(syn.TWO_PERSON) >= 4 and syn.TWO_PERSON <= set(syn.CLASS_NAMES)
    assert syn.SyntheticConfig().num_classes == len(syn.CLASS_NAMES)
    for a, b in [("wave_right_hand", "wave_left_hand"), ("kick_right_leg", "kick_left_leg")]:
        assert syn.ACTIONS[a].make is syn.ACTIONS[b].make and syn.ACTIONS[b].mirror and not syn.ACTIONS[a].mirror


def test_shapes_dtype_and_metadata(small):
    cfg = syn.SyntheticConfig(**SMALL)
    n = cfg.num_subjects * cfg.num_classes * cfg.cameras
    assert small.shape == (n, 3, 150, 25, 2) and small.data.dtype == np.float32
    assert np.isfinite(small.data).all()
    assert small.layout == NTU25 and small.num_classes == len(syn.CLASS_NAMES)
    assert small.class_names == syn.CLASS_NAMES
    assert small.meta["source"]["generator"] == "skelcl.data.synthetic"
    assert small.meta["source"]["config"]["num_subjects"] == 4
    assert sorted(np.bincount(small.labels).tolist()) == [cfg.num_subjects * cfg.cameras] * cfg.num_classes
    for i in range(0, n, 7):
        m = re.fullmatch(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})", str(small.names[i]))
        assert m, small.names[i]
        setup, cam, subj, _, action = map(int, m.groups())
        assert (setup, cam, subj, action - 1) == (small.meta_fields["setup"][i], small.meta_fields["view"][i],
                                                  small.meta_fields["subject"][i], small.labels[i])
    assert len(set(small.names.tolist())) == n


def test_lengths_and_zero_padding(small):
    assert small.lengths.min() >= 30 and small.lengths.max() <= 150
    assert len(np.unique(small.lengths)) > 20  # varied, not one length per class
    for i in range(len(small.labels)):
        assert not small.data[i, :, small.lengths[i]:].any()
        assert small.data[i, :, 0, :, 0].any() and small.data[i, :, small.lengths[i] - 1, :, 0].any()


def test_camera_space_in_metres(small):
    x = np.asarray(small.data[:, :, :, :, 0])
    present = np.abs(x).sum(1) > 0  # (N, T, V)
    depth = x[:, 2][present]
    assert 1.5 < np.percentile(depth, 1) and np.percentile(depth, 99) < 5.0
    head_above_feet = x[:, 1, :, 3] - x[:, 1, :, [15, 19]].max(0)
    valid = present[:, :, 3] & present[:, :, 15] & present[:, :, 19]
    assert np.median(head_above_feet[valid]) > 1.2  # y is up, people are about 1.5-1.9 m tall


def test_same_seed_identical_different_seed_differs(tmp_path):
    cfg = dict(num_subjects=2, num_classes=6)
    a = syn.generate_synthetic(tmp_path / "a", syn.SyntheticConfig(**cfg))
    b = syn.generate_synthetic(tmp_path / "b", syn.SyntheticConfig(**cfg))
    c = syn.generate_synthetic(tmp_path / "c", syn.SyntheticConfig(**cfg, seed=1))
    for f in ("data.npy", "labels.npy", "lengths.npy"):
        assert (a / f).read_bytes() == (b / f).read_bytes()
    assert (a / "data.npy").read_bytes() != (c / "data.npy").read_bytes()
    assert not np.array_equal(np.load(a / "lengths.npy"), np.load(c / "lengths.npy"))


def test_splits(small):
    subj, view = small.meta_fields["subject"], small.meta_fields["view"]
    n = len(small.labels)
    tr, te = small.split("xsub_train"), small.split("xsub_test")
    assert len(tr) and len(te) and not set(subj[tr]) & set(subj[te])
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(n))
    tr, te = small.split("xview_train"), small.split("xview_test")
    assert set(view[tr]) == {2, 3} and set(view[te]) == {1}
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(n))


def test_two_person_classes_use_body_slot_two(small):
    for i in range(len(small.labels)):
        second = np.asarray(small.data[i, :, : small.lengths[i], :, 1])
        if small.class_names[small.labels[i]] in syn.TWO_PERSON:
            assert (np.abs(second).sum((0, 2)) > 0).mean() > 0.9
        else:
            assert not second.any()


def test_bones_are_rigid_and_differ_between_subjects(clean):
    parents = np.array(NTU25.parents)
    lengths_by_subject: dict[int, list[np.ndarray]] = {}
    for i in range(len(clean.labels)):
        x = np.asarray(clean.data[i, :, : clean.lengths[i]])  # C T V M
        bodies = 2 if clean.class_names[clean.labels[i]] in syn.TWO_PERSON else 1
        for m in range(bodies):
            bone = np.linalg.norm(x[:, :, :, m] - x[:, :, parents, m], axis=0)  # (T, V)
            assert np.abs(bone - bone[0]).max() < 1e-4, (clean.names[i], m)
        lengths_by_subject.setdefault(int(clean.meta_fields["subject"][i]), []).append(
            np.linalg.norm(x[:, 0, :, 0] - x[:, 0, parents, 0], axis=0))
    per_subject = np.array([np.median(v, axis=0) for _, v in sorted(lengths_by_subject.items())])  # (S, V)
    thigh, forearm = per_subject[:, 13], per_subject[:, 6]
    assert len(np.unique(np.round(thigh, 4))) == len(thigh) and len(np.unique(np.round(forearm, 4))) == len(forearm)
    assert thigh.std() > 0.005


def test_noisy_bones_are_rigid_up_to_jitter(tmp_path):
    noisy = load_prepared(syn.generate_synthetic(tmp_path / "noisy", syn.SyntheticConfig(**SMALL, warp=0.0)))
    parents = np.array(NTU25.parents)
    for i in range(0, len(noisy.labels), 5):
        x = np.asarray(noisy.data[i, :, : noisy.lengths[i], :, 0])
        x = x[:, np.abs(x).sum((0, 2)) > 0]  # skip dropped frames
        bone = np.linalg.norm(x - x[:, :, parents], axis=0)[:, :21]  # not the noisier hand tips / thumbs
        assert np.median(np.abs(bone - np.median(bone, axis=0))) < 0.02


def test_warp_is_one_fixed_linear_map_per_recording(tmp_path):
    opts = dict(num_subjects=2, num_classes=4, **CLEAN)
    plain = load_prepared(syn.generate_synthetic(tmp_path / "a", syn.SyntheticConfig(**opts)))
    warped = load_prepared(syn.generate_synthetic(tmp_path / "b", syn.SyntheticConfig(**{**opts, "warp": 0.2})))
    maps = []
    for i in range(len(plain.labels)):
        a = np.asarray(plain.data[i, :, : plain.lengths[i], :, 0], dtype=np.float64).reshape(3, -1).T
        b = np.asarray(warped.data[i, :, : warped.lengths[i], :, 0], dtype=np.float64).reshape(3, -1).T
        ones = np.ones((len(a), 1))
        fit, *_ = np.linalg.lstsq(np.hstack([a, ones]), b, rcond=None)  # b = [a 1] @ fit: an affine map
        assert np.abs(np.hstack([a, ones]) @ fit - b).max() < 1e-4, plain.names[i]
        linear = fit[:3].T - np.eye(3)
        assert 0.01 < np.abs(linear).max() <= 0.2 + 1e-5
        maps.append(linear)
    assert not np.allclose(maps[0], maps[1])  # the cameras of one performance get their own distortion


def test_camera_tilt_varies_between_setups(tmp_path):
    def spine_angles(pitch: float) -> np.ndarray:
        cfg = syn.SyntheticConfig(num_subjects=10, num_classes=1, cameras=1, camera_pitch_deg=pitch, **CLEAN)
        d = load_prepared(syn.generate_synthetic(tmp_path / f"p{pitch}", cfg))
        spine = np.asarray(d.data[:, :, 0, 20, 0] - d.data[:, :, 0, 0, 0])  # first frame: the rest pose
        return np.degrees(np.arctan2(spine[:, 2], spine[:, 1]))  # lean towards/away from the camera

    flat, tilted = spine_angles(0.0), spine_angles(20.0)
    assert np.std(tilted) > 1.5 * np.std(flat) + 3, (np.std(flat), np.std(tilted))


def test_left_right_twins_are_mirror_images():
    rng = np.random.default_rng(0)
    bones = {k: np.full(3, v) for k, v in body.BASE_BONES.items()}  # a symmetric body
    pose = {c: rng.uniform(-40, 40, (3, 5)) for c in body.CHANNELS}
    a = body.forward_kinematics(pose, bones)
    b = body.forward_kinematics(body.mirror_pose(pose), bones)
    flipped = a[:, :, NTU25.flip_permutation] * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(b, flipped, atol=1e-9)


def test_ensure_synthetic_generates_once(tmp_path, monkeypatch):
    opts = dict(num_subjects=2, num_classes=3, cameras=2)
    first = syn.ensure_synthetic(tmp_path, **opts)
    assert re.fullmatch(r"synthetic-[0-9a-f]{10}", first.name) and first.parent == tmp_path
    stamp = (first / "data.npy").stat().st_mtime_ns
    assert load_prepared(first).shape[0] == 2 * 3 * 2

    def boom(*args, **kwargs):
        raise AssertionError("regenerated a cached dataset")

    monkeypatch.setattr(syn.dataset, "generate_synthetic", boom)  # where ensure_synthetic looks it up
    assert syn.ensure_synthetic(str(tmp_path), **opts) == first
    assert (first / "data.npy").stat().st_mtime_ns == stamp
    with pytest.raises(AssertionError, match="regenerated"):  # another config is another dataset
        syn.ensure_synthetic(tmp_path, **{**opts, "seed": 5})
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [first.name]


def test_bad_options():
    with pytest.raises(TypeError, match="unknown synthetic dataset option"):
        syn.ensure_synthetic("/nonexistent", num_subject=3)
    with pytest.raises(ValueError, match="num_classes"):
        syn.SyntheticConfig(num_classes=99).validate()
    with pytest.raises(ValueError, match="cameras"):
        syn.SyntheticConfig(cameras=4).validate()
