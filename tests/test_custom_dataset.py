"""The README's worked example: a user's own 15-joint skeleton (pyskl-style pickle + YAML layout), end to end."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.conftest import TINY, run_train

LAYOUT = """\
name: my15
num_joints: 15
one_based: true
center: 2
bones: [[1, 2], [2, 2], [3, 2], [4, 3], [5, 4], [6, 2], [7, 6], [8, 7], [9, 1], [10, 9], [11, 10], [12, 1], [13, 12],
        [14, 13], [15, 3]]
pairs: [[3, 6], [4, 7], [5, 8], [9, 12], [10, 13], [11, 14]]
parts: [[1, 2, 15], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14]]
shoulders: [3, 6]
"""


#: the tiny-run settings without the synthetic-only ones
CUSTOM_TINY = [o for o in TINY if not o.startswith("dataset.options")]


def write_custom(root, name: str, annotations: list[dict]):
    """`root/name.pkl` with splits main_train (first 32 clips) / main_test (the rest), and `root/mylayout.yaml`."""
    split = {"main_train": [a["frame_dir"] for a in annotations[:32]],
             "main_test": [a["frame_dir"] for a in annotations[32:]]}
    with open(root / f"{name}.pkl", "wb") as f:
        pickle.dump({"split": split, "annotations": annotations}, f)
    (root / "mylayout.yaml").write_text(LAYOUT)
    return root


def custom_args(root, name: str, method: str) -> list[str]:
    """Overrides that train `method` on `root/name.pkl` as a user would (tiny queue, KNN only)."""
    return [f"method={method}", "dataset=custom", f"dataset.root={root / f'{name}.pkl'}",
            f"dataset.layout={root / 'mylayout.yaml'}", "dataset.split=main", "dataset.num_classes=5",
            "protocol=[knn]", "method.model.queue_size=64", *([] if method == "ascal" else ["encoder=stgcn"])]


@pytest.fixture(scope="module")
def custom_data(tmp_path_factory):
    rng = np.random.default_rng(0)
    annotations = [{"frame_dir": f"clip{i:04d}", "label": i % 5, "total_frames": 40,
                    "keypoint": rng.normal(size=(1, 40, 15, 3)).astype(np.float32)} for i in range(48)]
    return write_custom(tmp_path_factory.mktemp("custom"), "mydata", annotations)


@pytest.mark.parametrize("method", ["skeletonclr", "aimclr", "skeattnclr"])
def test_custom_layout_end_to_end(tmp_path, cache_dir, custom_data, method):
    run_train(custom_args(custom_data, "mydata", method), tmp_path, cache_dir, tiny=CUSTOM_TINY)
    rows = json.loads((tmp_path / "results.json").read_text())
    assert rows[0]["dataset"] == "custom" and rows[0]["method"] == method
    assert rows[0]["dataset_file"] == "mydata"  # the fold's identity when sweeping dataset.root


def test_two_classes_are_probed(tmp_path, cache_dir):
    """A binary dataset (fall / no fall) through the rule's logistic probe, whose solver returns one log-odds column
    for two classes, and KNN; both against the same seed's random encoder."""
    rng = np.random.default_rng(2)
    annotations = [{"frame_dir": f"clip{i:04d}", "label": i % 2, "total_frames": 40,
                    "keypoint": rng.normal(size=(1, 40, 15, 3)).astype(np.float32)} for i in range(48)]
    root = write_custom(tmp_path, "binary", annotations)
    args = [*custom_args(root, "binary", "skeletonclr"), "dataset.num_classes=2", "protocol=[linear,knn]", "floor=true"]
    records = run_train(args, tmp_path / "run", cache_dir, tiny=CUSTOM_TINY)
    assert [r.protocol for r in records] == ["linear", "knn(k=20)", "knn(k=1)"]
    assert all(r.top5 == 100.0 and r.floor_top1 is not None for r in records)  # top-5 of two classes: both


@pytest.fixture(scope="module")
def custom_2d(tmp_path_factory):
    """Image keypoints as 2-D pose estimators write them: (x, y) in pixels plus a separate confidence score."""
    rng = np.random.default_rng(1)
    annotations = [{"frame_dir": f"clip{i:04d}", "label": i % 5, "total_frames": 40, "img_shape": (480, 640),
                    "keypoint": (rng.normal(size=(1, 40, 15, 2)) * 40 + 300).astype(np.float32),
                    "keypoint_score": rng.uniform(0.3, 1.0, size=(1, 40, 15)).astype(np.float32)} for i in range(48)]
    return write_custom(tmp_path_factory.mktemp("custom2d"), "pose2d", annotations)


@pytest.mark.parametrize("method", ["skeletonclr", "aimclr", "hiclr", "skeattnclr", "ascal"])
def test_2d_keypoints_train_every_method(tmp_path, cache_dir, custom_2d, method):
    """2-D pose (C = 2) trains end to end: encoders read two input channels, the geometric views act on the image
    plane, the default per-clip normalisation centres and scales."""
    tiny = [o for o in CUSTOM_TINY if not (method == "ascal" and o.startswith("encoder."))]
    records = run_train(custom_args(custom_2d, "pose2d", method), tmp_path, cache_dir, tiny=tiny)
    assert records[0].method == method and 0.0 <= records[0].top1 <= 100.0  # (an encoder built for 3 fails)


def test_2d_keypoints_get_the_rules_mirror(tmp_path, cache_dir, custom_data, custom_2d):
    """The small-data rule adds a left/right flip to SkeletonCLR's two views for 2-D clips, not for 3-D ones."""
    from skelcl.build import build_data
    from tests.conftest import compose_train

    def views(root, name):
        cfg = compose_train([*CUSTOM_TINY, *custom_args(root, name, "skeletonclr")], tmp_path, cache_dir)
        _, _, recipe = build_data(cfg)
        return recipe, {v: [s["op"] for s in specs] for v, specs in cfg.method.model.views.items()}

    recipe, ops = views(custom_2d, "pose2d")
    assert recipe.mirror == "added" and ops == {v: ["temporal_crop", "shear", "flip"] for v in ("query", "key")}
    recipe, ops = views(custom_data, "mydata")
    assert recipe.mirror == "no" and ops == {v: ["temporal_crop", "shear"] for v in ("query", "key")}


def test_2d_keypoints_get_ascals_turn(tmp_path, cache_dir, custom_data, custom_2d):
    """AS-CAL declares a turn about the vertical for 2-D clips: the rule puts it before the shear of both views (and
    the flip after); 3-D clips get neither, and `method.small_data_turn_2d=0` turns it off."""
    from skelcl.build import build_data
    from tests.conftest import compose_train

    def views(root, name, *extra):
        args = [o for o in CUSTOM_TINY if not o.startswith("encoder.")]
        cfg = compose_train([*args, *custom_args(root, name, "ascal"), *extra], tmp_path, cache_dir)
        _, _, recipe = build_data(cfg)
        return recipe, OmegaConf.to_container(cfg.method.model.views)

    recipe, views_2d = views(custom_2d, "pose2d")
    turn = {"op": "rotate", "mode": "single", "axis": 1, "max_angle": 60.0, "symmetric": True}
    for specs in views_2d.values():
        assert [s["op"] for s in specs] == ["time_reverse", "rotate", "shear", "flip"] and specs[1] == turn
    assert recipe.turn == 60.0 and "a turn about the vertical (±60°) in every shear view" in recipe.describe()
    recipe, views_3d = views(custom_data, "mydata")
    assert recipe.turn == 0 and all([s["op"] for s in v] == ["time_reverse", "shear"] for v in views_3d.values())
    recipe, views_off = views(custom_2d, "pose2d", "method.small_data_turn_2d=0")
    assert recipe.turn == 0 and all("rotate" not in [s["op"] for s in v] for v in views_off.values())


def test_pose_estimator_pickle_with_background_people_and_numbered_splits(tmp_path, cache_dir):
    """A pickle as pyskl writes UCF101 / HMDB51: numbered splits (`train1` / `test1`, picked by `dataset.split=1`)
    and every person the detector saw: the performer first, the partner of an interaction kept, a passer-by seen
    under half as much as the performer dropped."""
    from skelcl.build import build_data
    from tests.conftest import compose_train

    rng = np.random.default_rng(5)
    annotations = []
    for i in range(48):
        kp = (rng.normal(size=(3, 40, 15, 2)) * 40 + 300).astype(np.float32)
        score = np.full((3, 40, 15), 0.4, np.float32)
        me = i % 3  # the performer is stored anywhere
        score[me] = 0.9
        score[(me + 2) % 3] = 0.8  # a partner, seen as well
        kp[(me + 1) % 3, 25:] = 0  # a passer-by, leaving after 25 frames: 0.4 x 25 / (0.9 x 40) = 0.28 of the performer
        annotations.append({"frame_dir": f"v{i:03d}", "label": i % 5, "total_frames": 40, "keypoint": kp,
                            "keypoint_score": score})
    names = [a["frame_dir"] for a in annotations]
    with open(tmp_path / "ucf_like.pkl", "wb") as f:
        pickle.dump({"split": {"train1": names[:32], "test1": names[32:], "train2": names[16:], "test2": names[:16]},
                     "annotations": annotations}, f)
    (tmp_path / "mylayout.yaml").write_text(LAYOUT)
    args = [*custom_args(tmp_path, "ucf_like", "skeletonclr"), "dataset.split=1"]
    _, dm, _ = build_data(compose_train([*CUSTOM_TINY, *args], tmp_path / "run", cache_dir))
    data = dm.prepared
    assert data.shape == (48, 2, 40, 15, 2)
    assert data.split("1_train").tolist() == list(range(32)) and data.split("1_test").tolist() == list(range(32, 48))
    for i, a in enumerate(annotations):
        me = i % 3
        np.testing.assert_array_equal(data.data[i, ..., 0], a["keypoint"][me].transpose(2, 0, 1))
        np.testing.assert_array_equal(data.data[i, ..., 1], a["keypoint"][(me + 2) % 3].transpose(2, 0, 1))


def test_2d_keypoints_refuse_per_frame_shoulder_alignment(tmp_path, cache_dir, custom_2d):
    args = [*custom_args(custom_2d, "pose2d", "skeletonclr"), "dataset.normalize=frame", "dataset.align_shoulders=true"]
    with pytest.raises(ValueError, match="align_shoulders.*needs 3-D"):
        run_train(args, tmp_path, cache_dir, tiny=CUSTOM_TINY)


@pytest.mark.slow
def test_fold_sweep_keeps_each_folds_identity(tmp_path, cache_dir, custom_data):
    """The README's cross-validation pattern: one pickle per fold with plain train/val splits, swept over."""
    import shutil

    from tests.conftest import run_cli

    with open(custom_data / "mydata.pkl", "rb") as f:
        data = pickle.load(f)
    names = [a["frame_dir"] for a in data["annotations"]]
    folds = []
    for k in (1, 2):
        val = names[(k - 1) * 16: k * 16]
        split = {"train": [n for n in names if n not in val], "val": val}
        folds.append(tmp_path / f"fold{k}.pkl")
        with open(folds[-1], "wb") as f:
            pickle.dump({"split": split, "annotations": data["annotations"]}, f)
    shutil.copy(custom_data / "mylayout.yaml", tmp_path / "mylayout.yaml")
    args = ["-m", "dataset=custom", f"dataset.layout={tmp_path / 'mylayout.yaml'}", "dataset.num_classes=5",
            f"dataset.root={folds[0]},{folds[1]}", *CUSTOM_TINY, "method.model.queue_size=64", "protocol=[knn]",
            f"hydra.sweep.dir={tmp_path}/sweep"]
    proc = run_cli("skelcl.train", args, tmp_path, cache_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(p.read_text())[0] for p in sorted((tmp_path / "sweep").glob("*/results.json"))]
    assert [(r["dataset_file"], r["split"]) for r in rows] == [("fold1", None), ("fold2", None)]


def test_part_swap_on_a_layout_without_parts_fails_before_training(tmp_path, cache_dir, custom_data):
    """SkeAttnCLR's part swap needs the layout's body parts: without them the run stops at the start, naming the
    dataset, the layout and the fix (not with a traceback at the first training step)."""
    from skelcl.build import ConfigError, build_data, build_method
    from tests.conftest import compose_train

    (custom_data / "noparts.yaml").write_text("\n".join(line for line in LAYOUT.splitlines()
                                                        if not line.startswith("parts")))
    args = [*custom_args(custom_data, "mydata", "skeattnclr"), f"dataset.layout={custom_data / 'noparts.yaml'}"]
    cfg = compose_train([*CUSTOM_TINY, *args], tmp_path, cache_dir)
    run, dm, _ = build_data(cfg)
    with pytest.raises(ConfigError, match=r"mydata.pkl.*swaps body parts.*'my15' defines none: add `parts:`"):
        build_method(run, dm, 1)


@pytest.mark.parametrize("layout", ["coco17", "openpose18"])
def test_pose_estimator_keypoints_by_layout_name(tmp_path, cache_dir, layout):
    """2-D keypoints in the two layouts pose estimators write (COCO-17: HRNet / pyskl; OpenPose-18: ST-GCN's
    Kinetics) need no layout file: `dataset.layout=coco17` trains SkeAttnCLR (its part swap reads the built-in
    body parts) and the rule's flip reads the built-in left/right pairs."""
    from skelcl.build import build_data
    from skelcl.data.layouts import get_layout
    from tests.conftest import compose_train

    joints = get_layout(layout).num_joints
    rng = np.random.default_rng(2)
    annotations = [{"frame_dir": f"clip{i:04d}", "label": i % 5, "total_frames": 30, "img_shape": (480, 640),
                    "keypoint": (rng.normal(size=(1, 30, joints, 2)) * 40 + 300).astype(np.float32),
                    "keypoint_score": rng.uniform(0.3, 1.0, size=(1, 30, joints)).astype(np.float32)}
                   for i in range(48)]
    root = write_custom(tmp_path, layout, annotations)
    args = [*custom_args(root, layout, "skeattnclr"), f"dataset.layout={layout}"]
    _, dm, recipe = build_data(compose_train([*CUSTOM_TINY, *args], tmp_path, cache_dir))
    assert dm.layout.name == layout and recipe.mirror == "added"
    records = run_train(args, tmp_path / "run", cache_dir, tiny=CUSTOM_TINY)
    assert records[0].method == "skeattnclr" and 0.0 <= records[0].top1 <= 100.0


def test_missed_joints_are_filled_in_time_before_the_model_sees_them(tmp_path, cache_dir):
    """A pose estimator's missed joints (exactly 0 in a frame where the body has others) reach the model filled from
    the neighbouring frames that have them (`dataset.fill_missed`, on for custom data); `dataset.fill_missed=false`
    keeps them at 0. The first-T window (AS-CAL) and the resampled clip (SkeletonCLR) both get the filled joint."""
    from skelcl.build import build_data, build_method
    from tests.conftest import compose_train

    rng = np.random.default_rng(7)
    annotations = []
    for i in range(48):
        kp = rng.uniform(0.2, 1.0, size=(1, 40, 15, 2)).astype(np.float32)
        kp[0, 10, 4] = 0  # joint 4 missed in frame 10 of every clip
        annotations.append({"frame_dir": f"clip{i:04d}", "label": i % 4, "total_frames": 40, "keypoint": kp,
                            "img_shape": (1, 1)})
    root = write_custom(tmp_path, "misses", annotations)

    def missed_in_model_input(method, *extra):
        tiny = [o for o in CUSTOM_TINY if not (method == "ascal" and o.startswith("encoder."))]
        cfg = compose_train([*tiny, *custom_args(root, "misses", method), *extra], tmp_path, cache_dir)
        run, dm, _ = build_data(cfg)
        model = build_method(run, dm, 1)
        dm.setup("fit")
        clips = model.inputs.clips(next(iter(dm.train_dataloader())))
        seen = (clips != 0).any(dim=1)[..., 0]  # (N, T, V): the first body's joints
        return model.inputs.spec.fill_missed, int((seen.any(dim=2, keepdim=True) & ~seen).sum())

    for method in ("ascal", "skeletonclr"):
        assert missed_in_model_input(method) == (True, 0)
        filled, missed = missed_in_model_input(method, "dataset.fill_missed=false")
        assert not filled and missed > 0


def test_z_up_motion_capture_is_turned_to_stand_along_y(tmp_path, cache_dir):
    """`dataset.vertical_axis: auto` finds bodies standing along z and the model input turns them upright before the
    view normalisation; `dataset.vertical_axis=y` keeps them as stored."""
    from skelcl.build import build_data, build_method
    from tests.conftest import compose_train

    rng = np.random.default_rng(4)
    height = np.linspace(0.0, 1.7, 15)  # a figure 1.7 tall, 0.5 wide, 0.3 deep, standing along z
    annotations = []
    for i in range(48):
        body = np.stack([rng.uniform(-0.25, 0.25, 15), rng.uniform(-0.15, 0.15, 15), height], -1)
        kp = body[None, None] + rng.normal(0, 0.03, size=(1, 40, 15, 3))
        annotations.append({"frame_dir": f"mocap{i:04d}", "label": i % 5, "total_frames": 40,
                            "keypoint": kp.astype(np.float32)})
    root = write_custom(tmp_path, "mocap", annotations)

    def axis(*extra):
        cfg = compose_train([*CUSTOM_TINY, *custom_args(root, "mocap", "skeletonclr"), *extra], tmp_path, cache_dir)
        run, dm, _ = build_data(cfg)
        return dm.vertical_axis, build_method(run, dm, 1).inputs.spec.vertical_axis

    assert axis() == (2, 2)
    assert axis("dataset.vertical_axis=y") == (1, 1)
