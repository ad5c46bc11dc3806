"""PKU-MMD Part I / II: skeleton + label + split files, interval conventions, centre crop, splits."""

import json

import numpy as np
import pytest

from skelcl.data.formats import load_prepared
from skelcl.data.prepare.__main__ import main
from skelcl.data.prepare.pku import (
    center_crop,
    instance_name,
    interval_slice,
    prepare_pku,
    read_label_file,
    read_skeleton,
    read_split_file,
)
from tests.data import fixtures as fx


def test_interval_vector():  # start 10, end 19 -> 10 frames (AimCLR), 9 with [start, end)
    x = np.arange(30)
    assert x[interval_slice(10, 19)].tolist() == list(range(9, 19))
    assert len(x[interval_slice(10, 19, "halfopen")]) == 9
    with pytest.raises(ValueError, match="inclusive"):
        interval_slice(1, 2, "closed")


def test_center_crop():
    x = np.arange(320)
    assert center_crop(x, 300).tolist() == list(range(10, 310))
    assert center_crop(np.arange(301), 300)[0] == 0 and len(center_crop(np.arange(50), 300)) == 50


def test_names():
    assert instance_name("pku1", "0002-L", 41, 3) == "F002V001C041L003"
    assert instance_name("pku1", "0364-R", 1, 12) == "F364V003C001L012"
    assert instance_name("pku2", "A01N13-M", 7, 1) == "A001N013V002C007L001"


def test_read_files(tmp_path):
    p = fx.write_pku_split(tmp_path / "cross-subject.txt", ["0002-L", "0002-M"], ["0003-R"])
    assert read_split_file(p, "pku1") == (["0002-L", "0002-M"], ["0003-R"])
    lab = fx.write_pku_labels(tmp_path / "0002-L.txt", [(41, 34, 122, 1), (3, 130, 200, 2)])
    assert read_label_file(lab, 51) == [(1, 41, 34, 122), (2, 3, 130, 200)]
    seq = fx.pku_sequence(np.random.default_rng(0), 12, two=True)
    sk = fx.write_pku_skeleton(tmp_path / "sk.txt", seq)
    np.testing.assert_allclose(read_skeleton(sk), seq, atol=1e-6)


def _pku1(tmp_path, rng):
    raw = tmp_path / "PKU-MMD"
    seqs = {"0002-L": fx.pku_sequence(rng, 400, two=True), "0002-M": fx.pku_sequence(rng, 60),
            "0003-R": fx.pku_sequence(rng, 40), "0004-L": fx.pku_sequence(rng, 30)}
    labels = {"0002-L": [(12, 1, 320, 1), (51, 330, 400, 2)],  # 320 frames -> centre crop to 300
              "0002-M": [(1, 10, 19, 1), (2, 50, 70, 1)],  # the second runs past the 60 frames: clipped
              "0003-R": [(3, 5, 25, 1)], "0004-L": [(4, 1, 10, 1)]}  # 0004-L: in no split
    for v, s in seqs.items():
        fx.write_pku_skeleton(raw / "PKU_Skeleton_Renew" / f"{v}.txt", s)
        fx.write_pku_labels(raw / "Train_Label_PKU_final" / f"{v}.txt", labels[v])
    fx.write_pku_labels(raw / "Train_Label_PKU_final" / "0005-L.txt", [(5, 1, 10, 1)])  # no skeleton file
    fx.write_pku_split(raw / "cross-subject.txt", ["0002-L", "0002-M"], ["0003-R", "0005-L"])
    fx.write_pku_split(raw / "cross-view.txt", ["0002-M", "0003-R"], ["0002-L"])
    return raw, seqs


def test_prepare_pku1(tmp_path):
    raw, seqs = _pku1(tmp_path, np.random.default_rng(0))
    out = prepare_pku("pku1", raw, tmp_path / "pku1", workers=2, progress=False, echo=False)
    ds = load_prepared(out)
    assert ds.names.tolist() == ["F002V001C012L001", "F002V001C051L002", "F002V002C001L001", "F002V002C002L002",
                                 "F003V003C003L001", "F004V001C004L001"]
    assert ds.labels.tolist() == [11, 50, 0, 1, 2, 3] and ds.num_classes == 51
    assert ds.lengths.tolist() == [300, 71, 10, 11, 21, 10]
    assert ds.shape == (6, 3, 300, 25, 2)
    np.testing.assert_allclose(ds.data[0], seqs["0002-L"][10:310].transpose(3, 0, 2, 1), atol=1e-6)
    np.testing.assert_allclose(ds.data[2, :, :10], seqs["0002-M"][9:19].transpose(3, 0, 2, 1), atol=1e-6)
    assert not ds.data[2, :, :, :, 1].any()  # single-body video: body 2 zeros
    assert ds.meta_fields["view"].tolist() == [1, 1, 2, 2, 3, 1]
    assert ds.split("xsub_train").tolist() == [0, 1, 2, 3] and ds.split("xsub_test").tolist() == [4]
    assert ds.split("xview_train").tolist() == [2, 3, 4] and ds.split("xview_test").tolist() == [0, 1]
    s = json.loads((out / "summary.json").read_text())
    assert s["counters"] == {"instances longer than 300 frames (centre-cropped)": 1,
                             "instances clipped at the end of the skeleton file": 1}
    assert s["skipped"][0]["reason"].startswith("skeleton file missing")
    assert s["frames_source"]["max"] == 320
    assert any("observed class ids 1..51" in n for n in s["notes"])
    assert any("in neither list" in n for n in s["notes"])


def test_prepare_pku1_halfopen_frame50_cli(tmp_path):
    raw, seqs = _pku1(tmp_path, np.random.default_rng(1))
    out = tmp_path / "f50"
    assert main(["pku1", "--raw", str(raw), "--out", str(out), "--interval", "halfopen", "--normalize", "frame50",
                 "--workers", "1", "--no-progress"]) == 0
    ds = load_prepared(out)
    assert ds.shape == (6, 3, 50, 25, 2) and (ds.lengths == 50).all()
    s = json.loads((out / "summary.json").read_text())
    assert s["frames_source"]["min"] == 9  # 10..19 half-open


def test_prepare_pku2(tmp_path):
    rng = np.random.default_rng(2)
    raw = tmp_path / "pku2"
    for v in ("A01N01-L", "A01N02-M", "A26N13-R"):
        fx.write_pku_skeleton(raw / "skeleton" / f"{v}.txt", fx.pku_sequence(rng, 30))
        fx.write_pku_labels(raw / "label" / f"{v}.txt", [(int(v[1:3]) + 20, 3, 12, 1)])
    fx.write_pku_split(raw / "cross_subject_v2.txt", ["A01N01-L", "A01N02-M"], ["A26N13-R"])
    out = prepare_pku("pku2", raw, tmp_path / "out", workers=1, progress=False, echo=False)
    ds = load_prepared(out)
    assert ds.names.tolist() == ["A001N001V001C021L001", "A001N002V002C021L001", "A026N013V003C046L001"]
    assert sorted(ds.splits) == ["xsub_test", "xsub_train"]  # no cross-view file: noted in the summary
    s = json.loads((out / "summary.json").read_text())
    assert any("no xview split file" in n for n in s["notes"]) and any("21..46" in n for n in s["notes"])
