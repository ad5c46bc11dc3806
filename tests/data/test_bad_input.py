"""Every kind of bad input gives a clear error naming the file (and line) and the problem, or a documented skip
(warning + summary line). Nothing is silently dropped or half-written."""

import json
import re

import numpy as np
import pytest
import yaml

from skelcl.data.formats import DataFormatError
from skelcl.data.layouts import LayoutError
from skelcl.data.open import open_dataset
from skelcl.data.prepare.common import RawFormatError
from skelcl.data.prepare.ntu import parse_skeleton, prepare_ntu
from skelcl.data.prepare.nucla import prepare_nucla, read_clip
from skelcl.data.prepare.pku import prepare_pku, read_label_file, read_skeleton, read_split_file
from tests.data import fixtures as fx


def _skeleton_lines(tmp_path, frames=2, bodies=1):
    text = fx.skeleton_text(fx.random_frames(np.random.default_rng(0), frames, bodies), "\n")
    return text.splitlines()


def _write(tmp_path, lines, name="S001C001P001R001A001.skeleton"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


# line numbers (1-based) in a 2-frame, 1-body file: 1 framecount, 2 bodycount, 3 body info, 4 jointcount,
# 5..29 joints of frame 1, 30 bodycount, 31 info, 32 jointcount, 33..57 joints of frame 2
def _edit(lines, no, new):
    lines = list(lines)
    lines[no - 1] = new
    return lines


def _field(ls, no, k, new):
    """Line `no` with its k-th field replaced."""
    f = ls[no - 1].split()
    return _edit(ls, no, " ".join(f[:k] + [new] + f[k + 1 :]))


NTU_CASES = {  # case: (edit of the lines, expected message after the file name)
    "truncated": (lambda ls: ls[:40], r":40: file is truncated: expected 25 joint lines of body 1 in frame 2"),
    "truncated_body_count": (lambda ls: ls[:29],
                             r":29: file is truncated: expected the body count of frame 2 at line 30"),
    "non_numeric": (lambda ls: _field(ls, 7, 1, "abc"), r":7: y of joint 3 'abc' is not a number"),
    "joint_count": (lambda ls: _edit(ls, 32, "24"), r":32: joint count 24, expected 25"),
    "short_joint_line": (lambda ls: _edit(ls, 10, " ".join(ls[9].split()[:11])),
                         r":10: joint line has 11 fields, expected 12"),
    "leftover": (lambda ls: ls + ["0"], r":58: 1 unexpected line\(s\) after the last of 2 frames"),
    "nan": (lambda ls: _field(ls, 34, 0, "nan"), r":34: non-finite x \(nan\) for joint 2"),
    "inf": (lambda ls: _field(ls, 34, 2, "inf"), r":34: non-finite z \(inf\) for joint 2"),
    "body_info_fields": (lambda ls: _edit(ls, 31, " ".join(ls[30].split()[:9])),
                         r":31: body-info line has 9 fields, expected 10"),
    "body_info_int": (lambda ls: _field(ls, 3, 1, "x"), r":3: clipedEdges 'x' is not an integer"),
    "body_info_nan": (lambda ls: _field(ls, 3, 7, "nan"), r":3: leanX 'nan' is not a finite number"),
    "frame_count": (lambda ls: _edit(ls, 1, "two"), r":1: frame count 'two' is not an integer"),
    "body_count": (lambda ls: _edit(ls, 30, "1.5"), r":30: body count of frame 2 '1.5' is not an integer"),
    "empty": (lambda ls: [""], r"empty file"),
}


@pytest.mark.parametrize("case", sorted(NTU_CASES))
def test_ntu_malformed(tmp_path, case):
    edit, pattern = NTU_CASES[case]
    p = _write(tmp_path, edit(_skeleton_lines(tmp_path)))
    with pytest.raises(RawFormatError) as e:
        parse_skeleton(p)
    msg = str(e.value)
    assert msg.startswith(str(p)) and re.search(pattern, msg), msg


def _ntu_tree(tmp_path):
    raw = tmp_path / "raw"
    fx.make_ntu_tree(raw, ["S001C001P001R001A001", "S001C002P002R001A002"], frames=6)
    bad = _write(raw, _skeleton_lines(tmp_path)[:40], "S001C003P001R001A003.skeleton")
    (raw / "S001C001P003R001A004.skeleton").write_text("0\n")  # an empty sequence
    return raw, bad


def test_ntu_prepare_error_then_skip(tmp_path):
    raw, bad = _ntu_tree(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(RawFormatError, match=re.escape(str(bad)) + ":40: file is truncated"):
        prepare_ntu("ntu60", raw, out, workers=2, progress=False, echo=False)
    assert not out.exists() and not list(tmp_path.glob(".out.*"))  # nothing half-written
    prepare_ntu("ntu60", raw, out, on_error="skip", workers=2, progress=False, echo=False)
    s = json.loads((out / "summary.json").read_text())
    assert s["samples"] == 2
    reasons = {x["file"].rsplit("/", 1)[1]: x["reason"] for x in s["skipped"]}
    assert reasons["S001C003P001R001A003.skeleton"].startswith("malformed: ")
    assert reasons["S001C001P003R001A004.skeleton"] == "empty sequence: 0 frames"


def test_ntu_missing_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope: raw NTU directory not found"):
        prepare_ntu("ntu60", tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .skeleton files"):
        prepare_ntu("ntu60", tmp_path / "empty", tmp_path / "out")
    raw, _ = _ntu_tree(tmp_path)
    with pytest.raises(FileNotFoundError, match="list.txt: missing-skeleton list not found"):
        prepare_ntu("ntu60", raw, tmp_path / "out", missing=tmp_path / "list.txt")
    with pytest.raises(ValueError, match="--bodies"):
        prepare_ntu("ntu60", raw, tmp_path / "out", bodies="largest")


def test_pku_bad_files(tmp_path):
    lab = fx.write_pku_labels(tmp_path / "0002-L.txt", [(3, 1, 10, 1), (52, 11, 20, 1)])
    with pytest.raises(RawFormatError, match=re.escape(f"{lab}:2: label 52 is out of range 1..51")):
        read_label_file(lab, 51)
    lab.write_text("3,20,10,1\n")
    with pytest.raises(RawFormatError, match=r":1: bad frame interval start=20, end=10"):
        read_label_file(lab, 51)
    lab.write_text("3,x,10,1\n")
    with pytest.raises(RawFormatError, match=r":1: non-numeric field"):
        read_label_file(lab, 51)
    seq = fx.pku_sequence(np.random.default_rng(0), 5)
    sk = fx.write_pku_skeleton(tmp_path / "sk.txt", seq)
    lines = sk.read_text().splitlines()
    sk.write_text("\n".join(lines[:3] + [" ".join(lines[3].split()[:149])] + lines[4:]) + "\n")
    with pytest.raises(RawFormatError, match=re.escape(f"{sk}:4: 149 values, expected 150")):
        read_skeleton(sk)
    sk.write_text("\n".join(lines[:2] + ["nan " + " ".join(lines[2].split()[1:])] + lines[3:]) + "\n")
    with pytest.raises(RawFormatError, match=r":3: non-finite value in column 1"):
        read_skeleton(sk)
    sp = tmp_path / "cross-subject.txt"
    sp.write_text("Training videos:\n0002-L\n")
    with pytest.raises(RawFormatError, match="expected 4 lines"):
        read_split_file(sp, "pku1")
    sp.write_text("Training videos:\n0002-L, 2-L\nValidation videos:\n0003-M\n")
    with pytest.raises(RawFormatError, match=r":2: '2-L' is not a pku1 video id"):
        read_split_file(sp, "pku1")


def test_pku_missing_dirs(tmp_path):
    with pytest.raises(FileNotFoundError, match="raw PKU-MMD directory not found"):
        prepare_pku("pku1", tmp_path / "nope", tmp_path / "out")
    (tmp_path / "raw").mkdir()
    with pytest.raises(FileNotFoundError, match="--skeleton-dir"):
        prepare_pku("pku1", tmp_path / "raw", tmp_path / "out")


NUCLA_CASES = {
    "json": (lambda p: p.write_text('{"file_name": "x", '), r":1: invalid JSON"),
    "label_mismatch": (lambda p: _nucla(p, label=3), r"label 3 does not match action a01 \(expected 1\)"),
    "label_range": (lambda p: _nucla(p, label=11), r"label 11 is out of range 1..10"),
    "shape": (lambda p: _nucla(p, skeletons=np.zeros((4, 19, 3))), r"shape \(4, 19, 3\), expected \(T, 20, 3\)"),
    "ragged": (lambda p: _nucla(p, skeletons=[[[0, 0, 0]] * 20, [[0, 0]] * 20]), r"not a numeric \(T, 20, 3\)"),
    "nan": (lambda p: _nucla(p, nan=True), r"non-finite coordinate in frame 2, joint 3, axis y"),
    "file_name": (lambda p: _nucla(p, file_name="a01_s01_e00_v02"), r"file_name 'a01_s01_e00_v02' differs"),
    "missing_field": (lambda p: p.write_text('{"file_name": "a01_s01_e00_v01", "label": 1}'),
                      r"missing field 'skeletons'"),
}


def _nucla(path, label=1, skeletons=None, nan=False, file_name=None):
    x = np.zeros((3, 20, 3)) + 0.5 if skeletons is None else skeletons
    if nan:
        x = np.array(x)
        x[1, 2, 1] = np.nan  # json writes NaN, which Python's json reads back
    x = x.tolist() if isinstance(x, np.ndarray) else x
    path.write_text(json.dumps({"file_name": file_name or path.stem, "skeletons": x, "label": label}))


@pytest.mark.parametrize("case", sorted(NUCLA_CASES))
def test_nucla_malformed(tmp_path, case):
    make, pattern = NUCLA_CASES[case]
    p = tmp_path / "a01_s01_e00_v01.json"
    make(p)
    with pytest.raises(RawFormatError) as e:
        read_clip(p)
    assert str(e.value).startswith(str(p)) and re.search(pattern, str(e.value)), str(e.value)


def test_nucla_empty_clip_is_skipped(tmp_path):
    raw = tmp_path / "all_sqe"
    fx.write_nucla(raw, "a01_s01_e00_v01", fx.nucla_clip(np.random.default_rng(0), 4))
    fx.write_nucla(raw, "a01_s01_e00_v02", np.zeros((0, 20, 3)))
    out = prepare_nucla(raw, tmp_path / "out", workers=1, progress=False, echo=False)
    s = json.loads((out / "summary.json").read_text())
    assert s["samples"] == 1 and s["skipped"][0]["reason"] == "empty sequence: 0 frames"
    with pytest.raises(FileNotFoundError, match="N-UCLA directory"):
        prepare_nucla(tmp_path / "nope", tmp_path / "o2")


def test_crossclr_bad(tmp_path):
    root = tmp_path / "cc"
    x = np.ones((2, 3, 4, 25, 2), dtype=np.float32)
    fx.write_crossclr(root, "train", x, ["a", "b"], [0, 60])
    with pytest.raises(DataFormatError, match=re.escape(f"{root / 'train_label.pkl'}: label 60 is out of range 0..59")):
        open_dataset(root, format="crossclr", num_classes=60)
    fx.write_crossclr(root, "train", x, ["a", "b"], [0, -1])
    with pytest.raises(DataFormatError, match="negative label -1"):
        open_dataset(root, format="crossclr")
    x[1, 0, 2, 3, 0] = np.inf
    fx.write_crossclr(root, "train", x, ["a", "b"], [0, 1])
    with pytest.raises(DataFormatError, match=r"train_data_joint.npy: sample 1 \(b\) has a non-finite"):
        open_dataset(root, format="crossclr")
    x[1] = 0  # an all-zero sample: skipped with a warning and a summary line
    fx.write_crossclr(root, "train", x, ["a", "b"], [0, 1])
    ds = open_dataset(root, format="crossclr", num_classes=2)
    assert ds.shape[0] == 1
    s = json.loads((ds.root / "summary.json").read_text())
    assert s["skipped"][0]["reason"] == "empty sequence: every value is zero"
    (root / "train_label.pkl").unlink()
    with pytest.raises(FileNotFoundError, match="train_label.pkl: label file not found"):
        open_dataset(root, format="crossclr")
    fx.write_crossclr(root, "train", x, ["a"], [0])  # data has 2 samples, the pickle names 1
    np.save(root / "train_data_joint.npy", x)
    with pytest.raises(DataFormatError, match="1 names and 1 labels for 2 samples"):
        open_dataset(root, format="crossclr")


def test_pyskl_bad(tmp_path):
    rng = np.random.default_rng(0)
    a = fx.pyskl_annotation(rng, "S001C001P001R001A001", 3, 10)
    p = tmp_path / "p.pkl"
    fx.write_pyskl(p, [dict(a, total_frames=11)], {"train": ["S001C001P001R001A001"]})
    msg = r"p.pkl: S001C001P001R001A001: keypoint has 10 frames but total_frames = 11"
    with pytest.raises(DataFormatError, match=msg):
        open_dataset(p, format="pyskl")
    fx.write_pyskl(p, [a], {"train": ["S001C001P001R001A001"]})
    with pytest.raises(DataFormatError, match=r"label 3 is out of range 0..1 \(num_classes=2\)"):
        open_dataset(p, format="pyskl", num_classes=2)
    fx.write_pyskl(p, [a], {"train": ["S001C001P001R001A001", "S009C001P001R001A001"]})
    with pytest.raises(DataFormatError, match=r"split 'train' names 1 frame_dir\(s\) with no annotation, e.g. S009"):
        open_dataset(p, format="pyskl")
    kp = a["keypoint"].copy()
    kp[0, 4, 2, 1] = np.nan
    fx.write_pyskl(p, [dict(a, keypoint=kp)], {})
    nan = "non-finite coordinate .* body 0, frame 4, joint 2, channel 1; if NaN marks a joint .* write it as 0"
    with pytest.raises(DataFormatError, match=nan):
        open_dataset(p, format="pyskl")
    p.write_bytes(b"not a pickle")
    with pytest.raises(DataFormatError, match="p.pkl: cannot read the pickle"):
        open_dataset(p, format="pyskl")
    with pytest.raises(FileNotFoundError, match="nope.pkl: dataset path not found"):
        open_dataset(tmp_path / "nope.pkl", format="pyskl")


def test_custom_layout_bad_bone_names_file(tmp_path):
    rng = np.random.default_rng(0)
    p = fx.write_pyskl(tmp_path / "c.pkl", [fx.pyskl_annotation(rng, "x", 0, 5, joints=5)], {"train": ["x"]})
    y = tmp_path / "bad.yaml"
    y.write_text(yaml.safe_dump({"name": "bad", "num_joints": 5, "bones": [[1, 2], [6, 2]], "center": 2,
                                 "one_based": True}))
    # in the numbering the user wrote (one_based: true), not the internal 0-based one
    msg = (f"{y}: layout 'bad' (1-based joint numbers): bone [6, 2] names joint 6, which does not exist "
           "(joints are 1..5)")
    with pytest.raises(LayoutError, match=re.escape(msg)):
        open_dataset(p, format="custom", layout=y)
    y.write_text(yaml.safe_dump({"name": "four", "num_joints": 4, "bones": [[0, 1]], "center": 1}))
    with pytest.raises(LayoutError, match="layout 'four' has 4 joints, the keypoints have V = 5"):
        open_dataset(p, format="custom", layout=y)
    with pytest.raises(FileNotFoundError, match="missing.yaml: layout file not found"):
        open_dataset(p, format="custom", layout=tmp_path / "missing.yaml")
    with pytest.raises(LayoutError, match="custom layout: layout 'm': center names joint 9"):
        open_dataset(p, format="custom", layout={"name": "m", "num_joints": 5, "bones": [], "center": 9})


def test_unknown_split_and_missing_dataset(tmp_path):
    raw = tmp_path / "all_sqe"
    fx.write_nucla(raw, "a01_s01_e00_v01", fx.nucla_clip(np.random.default_rng(0), 4))
    ds = open_dataset(prepare_nucla(raw, tmp_path / "out", workers=1, progress=False, echo=False))
    with pytest.raises(DataFormatError, match=r"no split named 'xsub_train'; available splits: \['view1_test'"):
        ds.split("xsub_train")
    with pytest.raises(FileNotFoundError, match="nothing: dataset path not found"):
        open_dataset(tmp_path / "nothing")
    with pytest.raises(DataFormatError, match="not a prepared skelcl dataset"):
        open_dataset(raw)
