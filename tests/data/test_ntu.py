"""NTU RGB+D: .skeleton parsing value by value, body handling, names and splits, missing lists, prepare."""

import json
import os

import numpy as np
import pytest

from skelcl.data.formats import PreparedWriter, load_prepared
from skelcl.data.names import parse_ntu_name
from skelcl.data.normalize import frame50
from skelcl.data.prepare.__main__ import main
from skelcl.data.prepare.ntu import (
    NTU60_XSUB_TRAIN,
    NTU120_XSUB_TRAIN,
    bodies_file_order,
    bodies_pyskl,
    load_missing_list,
    parse_skeleton,
    prepare_ntu,
    splits_for,
)
from tests.data import fixtures as fx


def test_name_parsing_vector():
    n = parse_ntu_name("S018C002P045R001A061")
    assert (n.setup, n.camera, n.performer, n.replication, n.label) == (18, 2, 45, 1, 60)
    assert not n.in_ntu60
    assert splits_for("ntu120", [n]) == {"xsub_train": [0], "xsub_test": [], "xset_train": [0], "xset_test": []}
    assert parse_ntu_name("S001C001P001R001A001.skeleton").label == 0
    with pytest.raises(ValueError, match="not an NTU sample name"):
        parse_ntu_name("S01C001P001R001A001")
    with pytest.raises(ValueError, match="start at 001"):
        parse_ntu_name("S001C001P001R001A000")  # would be label -1


def test_split_lists():
    assert sorted(NTU60_XSUB_TRAIN) == [1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38]
    assert len(NTU120_XSUB_TRAIN) == 53 and NTU60_XSUB_TRAIN < NTU120_XSUB_TRAIN
    assert {45, 46, 47, 49, 50, 103, 100, 98} <= NTU120_XSUB_TRAIN and not {3, 41, 44, 48, 104, 106} & NTU120_XSUB_TRAIN
    names = [parse_ntu_name(f"S{s:03d}C{c:03d}P{p:03d}R001A001") for s in (1, 2) for c in (1, 2, 3) for p in (1, 3)]
    sp = splits_for("ntu60", names)
    assert [names[i].performer for i in sp["xsub_train"]] == [1] * 6
    assert {names[i].camera for i in sp["xview_train"]} == {2, 3} and {names[i].camera for i in sp["xview_test"]} == {1}
    sp = splits_for("ntu120", names)
    assert {names[i].setup for i in sp["xset_train"]} == {2} and {names[i].setup for i in sp["xset_test"]} == {1}


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_parse_one_and_two_bodies_value_by_value(tmp_path, newline):
    rng = np.random.default_rng(0)
    frames = [[fx.ntu_body(rng, 11)], [fx.ntu_body(rng, 11), fx.ntu_body(rng, 22)], [fx.ntu_body(rng, 22)]]
    path = fx.write_skeleton(tmp_path / "S001C001P001R001A001.skeleton", frames, newline)
    raw = parse_skeleton(path)
    assert raw.frames == 3 and raw.body_counts.tolist() == [1, 2, 1]
    assert raw.body_ids.tolist() == [11, 11, 22, 22]
    bodies = [b for f in frames for b in f]
    for k, b in enumerate(bodies):
        np.testing.assert_allclose(raw.body_info[k], b["info"], rtol=1e-6)
        for j in range(25):  # all 12 joint fields, as written with 7 significant digits
            np.testing.assert_array_equal(raw.joints[k, j], np.float32([float(f"{v:.7g}") for v in b["joints"][j]]))
    x = bodies_file_order(raw)
    assert x.shape == (3, 3, 25, 2)
    np.testing.assert_array_equal(x, fx.expected_xyz(frames))
    assert not x[:, 0, :, 1].any() and np.array_equal(x[:, 2, :, 0], raw.xyz[3].T)  # file order, not bodyID


def test_zero_body_frame_and_three_bodies(tmp_path):
    rng = np.random.default_rng(1)
    frames = [[fx.ntu_body(rng, 1)], [], [fx.ntu_body(rng, 1), fx.ntu_body(rng, 2), fx.ntu_body(rng, 3)]]
    raw = parse_skeleton(fx.write_skeleton(tmp_path / "a.skeleton", frames))
    assert raw.body_counts.tolist() == [1, 0, 3]
    x = bodies_file_order(raw)
    assert x.shape == (3, 3, 25, 2)
    assert not x[:, 1].any()  # the 0-body frame stays a zero frame at its index
    np.testing.assert_array_equal(x[:, 2, :, 0], raw.xyz[1].T)
    np.testing.assert_array_equal(x[:, 2, :, 1], raw.xyz[2].T)  # the third body is dropped
    np.testing.assert_array_equal(x, fx.expected_xyz(frames))


def _body_frames(rng, spans, offsets, frames, noisy=()):
    out = [[] for _ in range(frames)]
    for k, ((a, b), off) in enumerate(zip(spans, offsets)):
        for t in range(a, b):
            xyz = fx.NTU_POSE + off + rng.normal(scale=0.01 + 0.05 * k, size=(25, 3)) * (1 + t % 3)
            if k in noisy:  # spread along x much wider than along y
                xyz = xyz * np.array([8.0, 0.1, 1.0])
            out[t].append(fx.ntu_body(rng, 100 + k, xyz=xyz))
    return out


def test_pyskl_bodies(tmp_path):
    rng = np.random.default_rng(2)
    # body 0 (frames 0..40) calm, body 1 (0..40) moves more, body 2 (40..60) most but only 20 frames, body 3 lasts
    # 5 frames (<= 11 -> dropped), a leading 0-body frame is dropped and compacted
    frames = [[]] + _body_frames(rng, [(0, 40), (0, 40), (40, 60), (10, 15)], [0, 0.8, 1.6, 3.0], 60)
    raw = parse_skeleton(fx.write_skeleton(tmp_path / "p.skeleton", frames))
    x = bodies_pyskl(raw)
    assert x.shape == (3, 60, 25, 2)
    xyz = {bid: raw.xyz[raw.body_ids == bid] for bid in (100, 101, 102)}
    # ordering by motion: 102 (largest noise) first in slot 0 for frames 40..60; 101 next in slot 0 for 0..40
    # (no overlap with 102's span); 100 overlaps slot 0 -> slot 1
    np.testing.assert_array_equal(x[:, 40:60, :, 0], xyz[102].transpose(2, 0, 1))
    np.testing.assert_array_equal(x[:, 0:40, :, 0], xyz[101].transpose(2, 0, 1))
    np.testing.assert_array_equal(x[:, 0:40, :, 1], xyz[100].transpose(2, 0, 1))
    assert not x[:, 40:, :, 1].any()


def test_pyskl_spread_filter_and_swap(tmp_path):
    rng = np.random.default_rng(3)
    # body 1 is noisy (x-range >> y-range in every frame) and would win on motion: the spread filter drops it
    frames = _body_frames(rng, [(0, 30), (0, 30)], [0, 0.8], 30, noisy=(1,))
    x = bodies_pyskl(parse_skeleton(fx.write_skeleton(tmp_path / "n.skeleton", frames)))
    raw = parse_skeleton(tmp_path / "n.skeleton")
    np.testing.assert_array_equal(x[..., 0], raw.xyz[raw.body_ids == 100].transpose(2, 0, 1))
    assert not x[..., 1].any()


MISSING_OFFICIAL = ("Samples with missing skeletons in NTU RGB+D.\nThe following samples are not available.\n\n"
                    "S001C002P005R002A008\nS001C002P006R001A008\n\nS003C001P002R002A037\n")


def test_missing_list_loader(tmp_path):
    p = tmp_path / "official.txt"
    p.write_text(MISSING_OFFICIAL)
    assert load_missing_list(p) == ["S001C002P005R002A008", "S001C002P006R001A008", "S003C001P002R002A037"]
    p.write_text("S001C002P005R002A008\nS001C002P006R001A008\n")  # pyskl copy: no header
    assert len(load_missing_list(p)) == 2
    for ds in ("ntu60", "ntu120"):
        assert load_missing_list(None, ds) == ["S001C002P005R002A008"]  # the packaged (incomplete) copy
    p.write_text("S001C002P005R002A008\nnot a name\n")
    with pytest.raises(ValueError, match=r"official.txt:2: 'not a name' is not an NTU sample name"):
        load_missing_list(p)


NAMES = ["S001C001P001R001A001", "S001C002P003R001A002", "S001C003P002R002A001", "S002C001P004R001A003",
         "S002C002P005R001A060", "S017C003P040R002A002", "S018C001P045R001A061"]


def _tree(tmp_path, seed=0):
    raw = tmp_path / "raw"
    rng = np.random.default_rng(seed)
    frames = {}
    for i, name in enumerate(NAMES):
        frames[name] = fx.random_frames(rng, 8 + 3 * i, bodies=1 + i % 2)
        fx.write_skeleton(raw / "nturgb+d_skeletons" / f"{name}.skeleton", frames[name])
    fx.write_skeleton(raw / "S001C002P005R002A008.skeleton", fx.random_frames(rng, 5))  # officially missing
    fx.write_skeleton(raw / "S003C001P007R001A004.skeleton", [[], [], []])  # bodies in no frame
    return raw, frames


def test_prepare_ntu60_end_to_end(tmp_path):
    raw, frames = _tree(tmp_path)
    out = prepare_ntu("ntu60", raw, tmp_path / "ntu60", workers=2, progress=False, echo=False)
    ds = load_prepared(out)
    kept = NAMES[:6]  # S018 is NTU-120 only
    assert ds.names.tolist() == kept and ds.shape == (6, 3, 300, 25, 2)
    for i, name in enumerate(kept):
        t = len(frames[name])
        assert ds.lengths[i] == t
        np.testing.assert_array_equal(ds.data[i, :, :t], fx.expected_xyz(frames[name]))
        assert not ds.data[i, :, t:].any()
        n = parse_ntu_name(name)
        assert (ds.labels[i], ds.meta_fields["subject"][i], ds.meta_fields["view"][i],
                ds.meta_fields["setup"][i]) == (n.label, n.performer, n.camera, n.setup)
    assert ds.num_classes == 60 and ds.layout.name == "ntu25"
    assert ds.split("xsub_train").tolist() == [0, 2, 3, 4] and ds.split("xsub_test").tolist() == [1, 5]
    assert ds.split("xview_train").tolist() == [1, 2, 4, 5] and ds.split("xview_test").tolist() == [0, 3]
    summary = json.loads((out / "summary.json").read_text())
    reasons = {os.path.basename(s["file"]): s["reason"] for s in summary["skipped"]}
    assert reasons["S001C002P005R002A008.skeleton"] == "listed in the missing-skeleton list"
    assert reasons["S003C001P007R001A004.skeleton"].startswith("no bodies in any frame: all 3 frames have 0 bodies")
    assert summary["splits"] == {"xsub_train": 4, "xsub_test": 2, "xview_train": 4, "xview_test": 2}
    assert summary["frames_source"]["min"] == 8 and summary["frames_source"]["max"] == 23
    assert summary["per_class"]["all"]["A001"] == 2
    md = (out / "summary.md").read_text()
    assert "S003C001P007R001A004.skeleton" in md and "| xsub_train | 4 |" in md


def test_prepare_ntu120_frame50_and_pyskl(tmp_path):
    raw, frames = _tree(tmp_path)
    out = prepare_ntu("ntu120", raw, tmp_path / "f50", normalize="frame50", frames=64, missing="none", workers=1,
                      progress=False, echo=False)
    ds = load_prepared(out)
    assert ds.shape == (8, 3, 64, 25, 2) and (ds.lengths == 64).all() and ds.num_classes == 120
    assert ds.names[-1] == "S018C001P045R001A061" and ds.split("xset_train").tolist() == [4, 5, 7]
    assert ds.names[2] == "S001C002P005R002A008"  # --missing none
    ref, _ = frame50(fx.expected_xyz(frames[NAMES[1]]), 64)
    np.testing.assert_allclose(ds.data[1], ref, atol=1e-6)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_stored"]["min"] == 64 and summary["frames_source"]["max"] == 8 + 3 * 6
    out = prepare_ntu("ntu60", raw, tmp_path / "py", bodies="pyskl", workers=2, progress=False, echo=False)
    assert load_prepared(out).shape == (6, 3, 300, 25, 2)


def test_cli_and_overwrite(tmp_path, capsys):
    raw, _ = _tree(tmp_path)
    out = tmp_path / "cli"
    args = ["ntu60", "--raw", str(raw), "--out", str(out), "--workers", "2", "--no-progress"]
    assert main(args) == 0
    assert "ntu60: 6 samples" in capsys.readouterr().out
    assert main(args) == 2 and "--overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--normalize", "frame50"]) == 0
    assert load_prepared(out).shape[2] == 50
    (tmp_path / "notprepared").mkdir()
    (tmp_path / "notprepared" / "keep.txt").write_text("x")
    assert main(["ntu60", "--raw", str(raw), "--out", str(tmp_path / "notprepared"), "--overwrite"]) == 2
    assert (tmp_path / "notprepared" / "keep.txt").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupt_leaves_nothing_and_rerun_is_clean(tmp_path, monkeypatch, workers):
    raw, _ = _tree(tmp_path)
    out = tmp_path / "ntu"
    stale = tmp_path / ".ntu.partial-999999999"  # a run killed outright (no such pid)
    stale.mkdir()
    real_write, calls = PreparedWriter.write, []

    def interrupted(self, *a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(self, *a, **k)

    monkeypatch.setattr(PreparedWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_ntu("ntu60", raw, out, workers=workers, progress=False, echo=False)
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".ntu")] == []
    monkeypatch.setattr(PreparedWriter, "write", real_write)
    stale.mkdir()
    prepare_ntu("ntu60", raw, out, workers=workers, progress=False, echo=False)
    assert load_prepared(out).shape[0] == 6 and not stale.exists()
