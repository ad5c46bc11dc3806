"""Readers of existing prepared formats (CrosSCLR/AimCLR npy+pkl, pyskl pkl, custom layout) and open_dataset."""

import json
import pickle

import numpy as np
import pytest
import yaml

from skelcl.data.formats import DataFormatError
from skelcl.data.open import detect_format, open_dataset
from skelcl.data.prepare.nucla import prepare_nucla
from skelcl.data.readers import convert_crossclr, load_layout
from tests.data import fixtures as fx

TRAIN = ["S001C001P001R001A001.skeleton", "S001C002P002R001A003.skeleton", "S002C003P004R002A002.skeleton"]
VAL = ["S001C001P003R001A001.skeleton", "S003C002P006R002A060.skeleton"]


def _crossclr_arrays(rng, n, t, lengths):
    x = rng.normal(size=(n, 3, t, 25, 2)).astype(np.float32)
    for i, length in enumerate(lengths):
        x[i, :, length:] = 0
        x[i, ..., 1] = 0  # one body
    x[0, :, 2] = 0  # a 0-body frame inside: kept and counted
    return x


def test_crossclr(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "NTU-RGB-D" / "xsub"
    tr = _crossclr_arrays(rng, 3, 300, [30, 300, 7])
    va = _crossclr_arrays(rng, 2, 300, [12, 50])
    fx.write_crossclr(root, "train", tr, TRAIN, [0, 2, 1])
    fx.write_crossclr(root, "val", va, VAL, [0, 59])
    ds = open_dataset(root, format="crossclr", num_classes=60)
    assert ds.root == root / "skelcl-prepared-data_joint"
    assert ds.shape == (5, 3, 300, 25, 2) and ds.num_classes == 60 and ds.layout.name == "ntu25"
    np.testing.assert_array_equal(ds.data[:3], tr)
    np.testing.assert_array_equal(ds.data[3:], va)
    assert ds.lengths.tolist() == [30, 300, 7, 12, 50]
    assert ds.labels.tolist() == [0, 2, 1, 0, 59]
    assert ds.names[0] == "S001C001P001R001A001"
    assert ds.meta_fields["subject"].tolist() == [1, 2, 4, 3, 6] and ds.meta_fields["view"].tolist() == [1, 2, 3, 1, 2]
    assert ds.split("train").tolist() == [0, 1, 2] and ds.split("test").tolist() == [3, 4]
    assert ds.split("xsub_train").tolist() == [0, 1, 2]  # benchmark alias from the directory name
    # cached: a second open reuses the copy; a changed source rebuilds it
    stamp = (ds.root / "data.npy").stat().st_mtime_ns
    assert open_dataset(root, format="crossclr", num_classes=60).root == ds.root
    assert (ds.root / "data.npy").stat().st_mtime_ns == stamp
    fx.write_crossclr(root, "val", va[:1], VAL[:1], [5])
    ds2 = open_dataset(root, format="crossclr", num_classes=60)
    assert ds2.shape[0] == 4 and ds2.labels[-1] == 5


def test_aimclr_position_variant_and_cache_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    root = tmp_path / "frame50"
    tr = _crossclr_arrays(rng, 2, 50, [50, 50])
    fx.write_crossclr(root, "train", tr, TRAIN[:2], [0, 1], kind="position")
    fx.write_crossclr(root, "val", tr, VAL, [1, 0], kind="position")
    import skelcl.data.readers as readers

    with monkeypatch.context() as m:  # a read-only source directory (chmod does not stop root)
        m.setattr(readers.os, "access", lambda p, mode: not str(p).startswith(str(root)))
        with pytest.raises(PermissionError, match="cache_dir"):
            convert_crossclr(root)
        out = convert_crossclr(root, cache_dir=tmp_path / "cache", benchmark="xview")
    assert out.parent == tmp_path / "cache"
    ds = open_dataset(out)
    assert ds.shape == (4, 3, 50, 25, 2) and ds.num_classes == 2 and "xview_test" in ds.splits
    assert json.loads((out / "meta.json").read_text())["source"]["fingerprint"]["options"]["variant"] == "position"


def test_pyskl(tmp_path):
    rng = np.random.default_rng(2)
    anns = [fx.pyskl_annotation(rng, "S001C001P001R001A001", 0, 40, bodies=1),
            None,  # the pyskl quirk
            fx.pyskl_annotation(rng, "S001C002P002R001A050", 49, 300, bodies=2),
            fx.pyskl_annotation(rng, "S002C001P003R001A002", 1, 17, bodies=1)]
    split = {"xsub_train": ["S001C001P001R001A001", "S001C002P002R001A050"], "xsub_val": ["S002C001P003R001A002"]}
    path = fx.write_pyskl(tmp_path / "ntu60_3danno.pkl", anns, split)
    for a in anns:  # on the input
        if a is not None:
            assert a["keypoint"].shape == (a["keypoint"].shape[0], a["total_frames"], 25, 3)
            assert a["keypoint"].dtype == np.float16
    ds = open_dataset(path, format="pyskl", num_classes=60)
    assert ds.root == tmp_path / "ntu60_3danno.skelcl-prepared"
    assert ds.shape == (3, 3, 300, 25, 2) and ds.lengths.tolist() == [40, 300, 17]
    assert ds.names.tolist() == ["S001C001P001R001A001", "S001C002P002R001A050", "S002C001P003R001A002"]
    assert sorted(ds.splits) == ["xsub_test", "xsub_train"]
    assert ds.split("xsub_train").tolist() == [0, 1] and ds.split("xsub_test").tolist() == [2]
    kp = anns[2]["keypoint"].astype(np.float32)  # [M, T, V, C]
    np.testing.assert_array_equal(ds.data[1], kp.transpose(3, 1, 2, 0))
    kp0 = anns[0]["keypoint"][0].astype(np.float32)
    np.testing.assert_array_equal(ds.data[0, :, :40, :, 0], kp0.transpose(2, 0, 1))
    assert not ds.data[0, ..., 1].any() and not ds.data[0, :, 40:].any()
    s = json.loads((ds.root / "summary.json").read_text())
    assert s["skipped"][0]["reason"].startswith("annotation is None")



def test_pyskl_clips_run_from_their_first_to_their_last_frame_with_a_body(tmp_path):
    """Clips written zero-padded to one length (as (N, C, T, V, M) arrays are), or starting before anyone is in view,
    convert to the clips themselves: otherwise the small-data rule reads the padded length as the clips' length."""
    rng = np.random.default_rng(5)
    anns = [fx.pyskl_annotation(rng, f"clip{i}", i % 2, 12 + 5 * i, bodies=1, joints=5) for i in range(4)]
    anns[1]["keypoint"][0, 3] = 0  # a frame with no body inside the clip stays
    anns[2]["keypoint_score"] = rng.uniform(0.2, 1.0, size=anns[2]["keypoint"].shape[:3]).astype(np.float32)
    split = {"train": ["clip0", "clip1", "clip2"], "test": ["clip3"]}
    stick5 = {"name": "stick5", "num_joints": 5, "bones": [[0, 1], [1, 1], [2, 1], [3, 2], [4, 2]], "center": 1}
    plain = open_dataset(fx.write_pyskl(tmp_path / "plain.pkl", anns, split), format="custom", layout=stick5,
                         num_classes=2)
    padded = []
    for a in [*anns, {"frame_dir": "empty", "label": 0, "total_frames": 30, "keypoint": np.zeros((1, 30, 5, 3))}]:
        lead = 2 if a["frame_dir"] == "clip0" else 0  # no one in view for two frames
        kp = np.zeros((1, 30, 5, 3), np.float16)
        kp[:, lead : lead + a["total_frames"]] = a["keypoint"]
        b = {**a, "keypoint": kp, "total_frames": 30}
        if "keypoint_score" in a:
            b["keypoint_score"] = np.pad(a["keypoint_score"], ((0, 0), (0, 30 - a["total_frames"]), (0, 0)))
        padded.append(b)
    ds = open_dataset(fx.write_pyskl(tmp_path / "padded.pkl", padded, {**split, "test": ["clip3", "empty"]}),
                      format="custom", layout=stick5, num_classes=2)
    assert ds.lengths.tolist() == plain.lengths.tolist() == [12, 17, 22, 27]
    np.testing.assert_array_equal(ds.data[:4], plain.data[:4])
    assert ds.split("test").tolist() == [3]
    s = json.loads((ds.root / "summary.json").read_text())
    assert s["skipped"][0]["reason"] == "empty sequence: every keypoint is zero"
    assert any(n.startswith("4 clip(s) start or end with frames where every keypoint") for n in s["notes"])


def test_labels_written_as_class_names(tmp_path):
    """Class-name labels get ids in sorted order (recorded as the class names), or by the pickle's class_names;
    a name outside class_names, or names mixed with ids, is refused naming the file."""
    rng = np.random.default_rng(6)
    stick5 = {"name": "stick5", "num_joints": 5, "bones": [[0, 1], [1, 1], [2, 1], [3, 2], [4, 2]], "center": 1}
    names = ["walk", "run", "sit", "walk", "run", "jump"]
    anns = [{**fx.pyskl_annotation(rng, f"c{i}", 0, 12, bodies=1, joints=5), "label": n} for i, n in enumerate(names)]
    split = {"train": ["c0", "c1", "c2", "c3"], "test": ["c4", "c5"]}
    ds = open_dataset(fx.write_pyskl(tmp_path / "named.pkl", anns, split), format="custom", layout=stick5)
    assert ds.num_classes == 4 and ds.class_names == ["jump", "run", "sit", "walk"]
    assert ds.labels.tolist() == [3, 1, 2, 3, 1, 0]
    declared = tmp_path / "declared.pkl"
    with open(declared, "wb") as f:
        pickle.dump({"split": split, "annotations": anns, "class_names": ["walk", "run", "sit", "jump", "wave"]}, f)
    ds = open_dataset(declared, format="custom", layout=stick5)
    assert ds.num_classes == 5 and ds.labels.tolist() == [0, 1, 2, 0, 1, 3]
    with open(declared, "wb") as f:
        pickle.dump({"split": split, "annotations": anns, "class_names": ["walk", "run", "sit"]}, f)
    with pytest.raises(DataFormatError, match="declared.pkl: label 'jump' is not one of the pickle's class_names"):
        open_dataset(declared, format="custom", layout=stick5)
    anns[5]["label"] = 2
    with pytest.raises(DataFormatError, match="mixed.pkl: some labels are class names, others are not"):
        open_dataset(fx.write_pyskl(tmp_path / "mixed.pkl", anns, split), format="custom", layout=stick5)

def test_custom_layout(tmp_path):
    rng = np.random.default_rng(3)
    layout = {"name": "stick5", "num_joints": 5, "bones": [[1, 2], [2, 2], [3, 2], [4, 3], [5, 3]], "center": 2,
              "pairs": [[4, 5]], "one_based": True}
    (tmp_path / "stick5.yaml").write_text(yaml.safe_dump(layout))
    anns = [fx.pyskl_annotation(rng, f"clip{i}", i % 3, 10 + i, bodies=1, joints=5) for i in range(6)]
    path = fx.write_pyskl(tmp_path / "mine.pkl", anns, {"train": [f"clip{i}" for i in range(4)],
                                                         "test": ["clip4", "clip5"]})
    ds = open_dataset(path, format="custom", layout=tmp_path / "stick5.yaml", num_classes=3)
    assert ds.layout.name == "stick5" and ds.layout.num_joints == 5 and ds.layout.center == 1
    assert ds.layout.pairs == ((3, 4),) and ds.shape == (6, 3, 15, 5, 1) and ds.num_classes == 3
    ds2 = open_dataset(path, format="custom", layout={"layout": {**layout, "name": "stick5b"}},
                       cache_dir=tmp_path / "c", num_classes=3)
    assert ds2.layout.name == "stick5b"
    with pytest.raises(ValueError, match="needs layout"):
        open_dataset(path, format="custom")
    assert load_layout("kinect20").num_joints == 20


def test_open_dataset_dispatch(tmp_path):
    rng = np.random.default_rng(4)
    raw = tmp_path / "all_sqe"
    for v in (1, 2, 3):
        fx.write_nucla(raw, f"a01_s01_e00_v0{v}", fx.nucla_clip(rng, 8))
    out = prepare_nucla(raw, tmp_path / "nucla", workers=1, progress=False, echo=False)
    assert detect_format(out) == "prepared" and open_dataset(out, format="auto").shape[0] == 3
    assert open_dataset(out, layout="kinect20").layout.name == "kinect20"
    with pytest.raises(DataFormatError, match="differs"):
        open_dataset(out, layout="ntu25")
    with pytest.raises(ValueError, match="unknown dataset format 'npz'"):
        open_dataset(out, format="npz")
    p = fx.write_pyskl(tmp_path / "x.pkl", [fx.pyskl_annotation(rng, "a", 0, 5)], {"train": ["a"]})
    assert detect_format(p) == "pyskl"
    fx.write_crossclr(tmp_path / "cc", "train", np.ones((1, 3, 4, 25, 2)), ["a"], [0])
    assert detect_format(tmp_path / "cc") == "crossclr"


def test_open_synthetic(tmp_path):
    ds = open_dataset(None, format="synthetic", cache_dir=tmp_path, num_subjects=2, num_classes=2, cameras=1)
    assert ds.shape[0] > 0 and ds.layout.name == "ntu25"


def test_python2_label_pickle(tmp_path):
    root = tmp_path / "py2"
    fx.write_crossclr(root, "train", np.ones((1, 3, 4, 25, 2)), ["S001C001P001R001A001"], [3])
    with open(root / "train_label.pkl", "wb") as f:
        pickle.dump((["S001C001P001R001A001.skeleton"], [np.int64(3)]), f, protocol=2)
    ds = open_dataset(root, format="crossclr")
    assert ds.labels.tolist() == [3] and ds.num_classes == 4 and list(ds.splits) == ["train"]
