"""scripts/export_custom.py, the tool that cuts new small real datasets out of a prepared one to check that the
small-data rule generalises (docs/results.md): frame rate, joint subsets, pose-estimator layouts, partners."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest


def load_script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "export_custom.py"
    spec = importlib.util.spec_from_file_location("export_custom", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resample_time_interpolates_and_keeps_absent_bodies_whole():
    resample_time = load_script().resample_time
    kp = np.zeros((2, 3, 1, 1), np.float32)  # (M, T, V, C)
    kp[0, :, 0, 0] = [1.0, 2.0, 4.0]
    kp[1, 1:, 0, 0] = [5.0, 7.0]  # the second body enters at frame 1
    out = resample_time(kp, 3)
    assert out.shape == (2, 9, 1, 1)
    np.testing.assert_allclose(out[0, :, 0, 0], np.interp(np.linspace(0, 2, 9), [0, 1, 2], [1, 2, 4]), rtol=1e-6)
    second = out[1, :, 0, 0]
    assert second[0] == 0 and second[-1] == 7  # absent at the start, no blend of 0 and 5 in between
    assert set(second[:5].tolist()) == {0.0, 5.0} and second[5] == 5.5  # positions 0..1: nearest; 1.25: linear
    np.testing.assert_array_equal(resample_time(kp, 1), kp)


def test_resample_time_to_a_lower_rate():
    resample_time = load_script().resample_time
    kp = np.arange(10, dtype=np.float32).reshape(1, 10, 1, 1) + 1
    out = resample_time(kp, 0.5)
    assert out.shape == (1, 5, 1, 1)
    np.testing.assert_allclose(out[0, :, 0, 0], np.linspace(1, 10, 5), rtol=1e-6)  # first and last frames kept


def test_joint_subset_layout_reparents_to_the_nearest_kept_ancestor():
    from skelcl.data.layouts import get_layout
    from skelcl.data.readers import load_layout

    script = load_script()
    kinect20 = get_layout("kinect20")
    keep = [j - 1 for j in (4, 3, 2, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 20)]  # drops hip centre, wrists, ankles
    spec = script._layout_yaml(kinect20, keep)
    layout = load_layout(spec)  # a valid layout for dataset=custom
    assert layout.num_joints == 15 and layout.center == keep.index(kinect20.center)
    parent = dict(layout.bones)
    new = {old: i for i, old in enumerate(keep)}
    assert parent[new[7]] == new[5]  # hand -> elbow (the wrist is gone)
    assert parent[new[12]] == new[1]  # left hip -> spine (the hip centre is gone)
    assert layout.shoulders == (new[4], new[8])
    assert sorted(len(p) for p in layout.parts) == [3, 3, 3, 3, 3]
    assert layout.joint_names == tuple(kinect20.joint_names[j] for j in keep)
    assert script._layout_yaml(kinect20)["num_joints"] == 20  # no subset: the layout as it is


def test_partner_and_unit_box():
    script = load_script()
    rng = np.random.default_rng(0)
    clips = {0: rng.normal(size=(1, 6, 2, 3)).astype(np.float32), 1: rng.normal(size=(1, 9, 2, 3)).astype(np.float32)}
    two = script._with_partner(clips[0], clips.__getitem__, np.array([1]), np.random.default_rng(0))
    assert two.shape == (2, 6, 2, 3)
    np.testing.assert_array_equal(two[0], clips[0][0])
    np.testing.assert_allclose(two[1, [0, -1]] - [1.0, 0, 0], clips[1][0, [0, -1]], rtol=1e-5)  # ends kept, shifted
    two[1, 2] = 0  # the partner absent in one frame
    kps = [two, clips[1].copy()]
    script._to_unit_box(kps)
    present = np.concatenate([(k != 0).any(-1).ravel() for k in kps])
    coords = np.concatenate([k.reshape(-1, 3) for k in kps])[present]
    np.testing.assert_allclose(coords.min(0), 0, atol=1e-6)
    np.testing.assert_allclose(coords.max(0), 1, atol=1e-6)
    assert (two[1, 2] == 0).all()  # absent joints stay absent


def test_bystanders_are_partly_seen_less_confident_and_shuffled_in():
    script = load_script()
    rng = np.random.default_rng(0)
    clips = {i: rng.uniform(1, 2, size=(1, 5 + i, 4, 3)).astype(np.float32) for i in range(4)}
    crowd, conf = script._with_bystanders(clips[0], clips.__getitem__, np.array([1, 2, 3]), 3,
                                          np.random.default_rng(1))
    assert crowd.shape == (4, 5, 4, 3) and conf.shape == (4,)
    me = int(np.argmax(conf))
    assert conf[me] == 1.0 and ((conf >= 0.3) & (conf <= 0.7)).sum() == 3
    np.testing.assert_array_equal(crowd[me], clips[0][0])
    seen = (crowd != 0).any(axis=(2, 3))  # (M, T)
    others = np.delete(np.arange(4), me)
    assert seen[me].all() and all(1 <= seen[b].sum() <= 5 for b in others)
    # each is seen in one stretch, 1.5-3 m to a side: x in [1, 2] moved out of [0.5, 2.5]
    for b in others:
        frames = np.flatnonzero(seen[b])
        assert (np.diff(frames) == 1).all()
        assert np.abs(crowd[b, frames, :, 0] - 1.5).min() >= 1.0 - 1e-6
    orders = {int(np.argmax(script._with_bystanders(clips[0], clips.__getitem__, np.array([1, 2, 3]), 3,
                                                    np.random.default_rng(s))[1])) for s in range(12)}
    assert len(orders) > 1  # the performer is not always stored first


def test_untracked_stores_each_frames_bodies_first_in_a_detectors_order():
    script = load_script()
    rng = np.random.default_rng(0)
    kp = rng.uniform(1, 2, size=(3, 200, 4, 2)).astype(np.float32)
    kp[2, :50] = 0  # the third person enters at frame 50
    score = np.stack([np.full((200, 4), c, np.float32) for c in (1.0, 1.0, 0.4)]) * (kp != 0).any(-1)
    ann = {"keypoint": kp.copy(), "keypoint_score": score.copy()}
    script.untrack(ann, np.array([1.0, 1.0, 0.4], np.float32), np.random.default_rng(1))
    out, out_score = ann["keypoint"], ann["keypoint_score"]
    present = (out != 0).any(axis=(2, 3))
    assert present[:2].all() and not present[2, :50].any() and present[2, 50:].all()  # the first slots filled
    first_is_body0 = np.all(out[0] == kp[0], axis=(1, 2))
    assert 0.3 < first_is_body0.mean() < 0.7  # two performers scored alike trade slots about every other frame
    assert not np.all(out[:2, 50:] == kp[2, 50:], axis=(2, 3)).any()  # 0.6 under them: never ahead (6 sd)
    for f in (0, 60, 199):  # every frame holds the same bodies, its scores moved with them
        order = [int(np.flatnonzero(np.all(kp[:, f] == out[s, f], axis=(1, 2)))[0]) for s in range(3) if present[s, f]]
        np.testing.assert_array_equal(out_score[: len(order), f], score[order, f])


def test_the_whole_layout_is_written_as_it_is():
    from skelcl.data.layouts import NTU25, get_layout

    script = load_script()
    for layout in (NTU25, get_layout("kinect20")):
        spec = script._layout_yaml(layout)
        assert [tuple(b) for b in spec["bones"]] == [(c + 1, p + 1) for c, p in layout.bones]
        assert spec["joint_names"] == list(layout.joint_names)  # names travel: AS-CAL finds its spine by name


def test_pose_layout_keeps_named_joints_and_places_the_face_around_the_head():
    from skelcl.data.layouts import COCO17, NTU25, OPENPOSE18, get_layout
    from skelcl.data.readers import load_layout

    script = load_script()
    kinect20 = get_layout("kinect20")
    rng = np.random.default_rng(0)
    kp = (rng.normal(size=(1, 4, 20, 3)) + [0, 0, 3]).astype(np.float32)
    kp[0, 2] = 0  # the body absent in one frame
    kp[0, 3, kinect20.joint_names.index("head")] = 0  # the head missed in another
    out = script.to_pose_layout(kp, kinect20, COCO17)
    assert out.shape == (1, 4, 17, 3)
    name = kinect20.joint_names.index
    for i, joint in enumerate(COCO17.joint_names):
        source = "head" if joint == "nose" else joint
        if source in kinect20.joint_names:
            np.testing.assert_array_equal(out[0, :, i], kp[0, :, name(source)])
    face = [COCO17.joint_names.index(n) for n in ("left_eye", "right_eye", "left_ear", "right_ear")]
    side = kp[0, :2, name("right_shoulder")] - kp[0, :2, name("left_shoulder")]
    head = kp[0, :2, name("head")]
    left_eye, right_eye, left_ear, right_ear = (out[0, :2, j] for j in face)
    np.testing.assert_allclose(right_eye - left_eye, 0.16 * side, atol=1e-5)  # left on the left
    np.testing.assert_allclose(right_ear - left_ear, 0.4 * side, atol=1e-5)  # ears wider than eyes
    np.testing.assert_allclose((left_ear + right_ear) / 2, head, atol=1e-5)
    eyes_up = np.linalg.norm((left_eye + right_eye) / 2 - head, axis=-1)
    np.testing.assert_allclose(eyes_up, 0.04 * np.linalg.norm(side, axis=-1), rtol=1e-4)
    shoulder_mid = (kp[0, :2, name("left_shoulder")] + kp[0, :2, name("right_shoulder")]) / 2
    assert (((left_eye + right_eye) / 2 - head) * (head - shoulder_mid)).sum(-1).min() > 0  # eyes above the nose
    assert (out[0, 2] == 0).all() and (out[0, 3][face] == 0).all()  # absent body; no face without a head
    assert load_layout(script._layout_yaml(COCO17)).joint_names == COCO17.joint_names  # the YAML is the built-in one
    openpose = script.to_pose_layout(kp, kinect20, OPENPOSE18)
    neck = OPENPOSE18.joint_names.index("neck")
    np.testing.assert_array_equal(openpose[0, :, neck], kp[0, :, name("shoulder_center")])
    for joint in COCO17.joint_names:  # the same joints, in OpenPose's order
        np.testing.assert_array_equal(openpose[0, :, OPENPOSE18.joint_names.index(joint)],
                                      out[0, :, COCO17.joint_names.index(joint)])
    ntu = script.to_pose_layout(np.ones((1, 2, 25, 3), np.float32) * np.arange(1, 26)[:, None], NTU25, OPENPOSE18)
    assert ntu[0, 0, neck, 0] == NTU25.joint_names.index("spine_shoulder") + 1  # the shoulders' midpoint, not "neck"
    with pytest.raises(SystemExit, match="has no joint for .*'left_elbow'"):
        script.to_pose_layout(kp, dataclasses.replace(kinect20, joint_names=()), COCO17)  # nameless: nothing to map


def test_z_up_and_padding_write_clips_as_motion_capture_and_arrays_store_them():
    script = load_script()
    rng = np.random.default_rng(3)
    kp = rng.normal(size=(1, 5, 4, 3)).astype(np.float32)
    turned = script.z_up(kp)
    assert np.array_equal(turned[..., 2], kp[..., 1]) and np.array_equal(turned[..., 1], -kp[..., 2])
    np.testing.assert_allclose(np.linalg.norm(turned, axis=-1), np.linalg.norm(kp, axis=-1), rtol=1e-6)
    anns = [{"total_frames": t, "keypoint": np.ones((1, t, 4, 3), np.float32),
             "keypoint_score": np.ones((1, t, 4), np.float32)} for t in (3, 7)]
    script.pad_to_longest(anns)
    assert [a["total_frames"] for a in anns] == [7, 7] and anns[0]["keypoint"].shape == (1, 7, 4, 3)
    assert anns[0]["keypoint_score"].shape == (1, 7, 4) and not anns[0]["keypoint"][:, 3:].any()
    assert anns[0]["keypoint"][:, :3].all() and anns[1]["keypoint"].all()


def test_mixed_rate_writes_a_seeded_share_of_the_clips_at_another_frame_rate(tmp_path, monkeypatch):
    """`--mixed-rate P,K`: a collection from cameras at two frame rates. About a share P of the clips come out K times
    longer (the same motion, interpolated), the rest as stored, the same clips for the same seed."""
    import pickle
    import sys

    from skelcl.data.formats import PreparedWriter
    from skelcl.data.layouts import NTU25

    rng = np.random.default_rng(0)
    with PreparedWriter(tmp_path / "ds", 40, 10, NTU25, 1) as w:
        for i in range(40):
            w.write(i, rng.normal(size=(3, 10, 25, 1)).astype(np.float32), i % 2, f"s{i:03d}", 10, view=1 + i % 2)
        w.commit({}, num_classes=2)
    script = load_script()

    def export(stem, *extra):
        monkeypatch.setattr(sys, "argv", ["export_custom.py", str(tmp_path / "ds"), str(tmp_path / stem),
                                          "--train", "view=1", "--test", "view=2", *extra])
        script.main()
        return pickle.loads((tmp_path / f"{stem}.pkl").read_bytes())["annotations"]

    plain, mixed, again = export("plain"), export("mixed", "--mixed-rate", "0.5,4"), export("again",
                                                                                             "--mixed-rate", "0.5,4")
    lengths = [a["total_frames"] for a in mixed]
    assert set(lengths) == {10, 40} and 10 <= lengths.count(40) <= 30
    assert lengths == [a["total_frames"] for a in again]
    for p_, m in zip(plain, mixed):
        if m["total_frames"] == 10:
            assert np.array_equal(p_["keypoint"], m["keypoint"])
        else:  # the same motion: first and last frames kept
            np.testing.assert_allclose(m["keypoint"][:, [0, -1]], p_["keypoint"][:, [0, -1]], rtol=1e-6)
    with pytest.raises(SystemExit, match="mixed-rate"):
        export("bad", "--mixed-rate", "1.5,4")


def test_long_tail_keeps_an_exponential_profile_of_each_class():
    """`--long-tail R`: class k of C keeps round(n x R^(-k/(C-1))) of its n training clips, a seeded sample of its
    own clips: the first class all of them, the last a tenth at R = 10, never none."""
    script = load_script()
    labels = np.repeat(np.arange(5), 40)
    train = np.arange(0, 200, 2)  # 20 clips of each class
    kept = script.long_tail(train, labels, 10.0, np.random.default_rng(0))
    counts = np.bincount(labels[kept], minlength=5)
    assert counts.tolist() == [20, 11, 6, 4, 2]
    assert np.isin(kept, train).all() and len(np.unique(kept)) == len(kept)
    assert np.array_equal(kept, script.long_tail(train, labels, 10.0, np.random.default_rng(0)))
    assert np.bincount(labels[script.long_tail(train, labels, 1000.0, np.random.default_rng(0))]).min() == 1
