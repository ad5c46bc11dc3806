"""N-UCLA: JSON clips, label mapping, view splits, the 1-frame clips; the real release when present."""

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from skelcl.data.formats import load_prepared
from skelcl.data.names import ACTIONS, parse_nucla_name
from skelcl.data.prepare.nucla import prepare_nucla, read_clip
from tests.data import fixtures as fx

# the real release (its all_sqe folder), when SKELCL_NUCLA_RAW points at it
REAL = Path(os.environ["SKELCL_NUCLA_RAW"]) if os.environ.get("SKELCL_NUCLA_RAW") else None


def test_name_and_label_mapping():
    n = parse_nucla_name("a08_s03_e01_v02")
    assert (n.action, n.subject, n.repetition, n.view, n.label) == (8, 3, 1, 2, 6)
    assert [parse_nucla_name(f"a{a:02d}_s01_e00_v01").label for a in ACTIONS] == list(range(10))
    with pytest.raises(ValueError, match="a07"):
        parse_nucla_name("a07_s01_e00_v01")


def test_prepare_small(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "all_sqe"
    clips = {}
    for a in (1, 12):
        for v in (1, 2, 3):
            name = f"a{a:02d}_s0{v}_e00_v0{v}"
            clips[name] = fx.nucla_clip(rng, 5 + 3 * v + a)
            fx.write_nucla(raw, name, clips[name])
    fx.write_nucla(raw, "a02_s09_e04_v02", fx.nucla_clip(rng, 1))  # the 1-frame clip
    out = prepare_nucla(raw, tmp_path / "nucla", workers=2, progress=False, echo=False)
    ds = load_prepared(out)
    names = sorted(clips)
    assert ds.names.tolist() == names and ds.layout.name == "kinect20"
    assert ds.shape == (6, 3, max(len(c) for c in clips.values()), 20, 1)
    for i, n in enumerate(names):
        t = len(clips[n])
        assert ds.lengths[i] == t
        np.testing.assert_allclose(ds.data[i, :, :t, :, 0], clips[n].transpose(2, 0, 1), atol=1e-6)
    assert ds.labels.tolist() == [0, 0, 0, 9, 9, 9]
    assert ds.meta_fields["view"].tolist() == [1, 2, 3, 1, 2, 3] and ds.meta_fields["subject"].tolist()[:3] == [1, 2, 3]
    assert ds.split("xview_train").tolist() == [0, 1, 3, 4] and ds.split("xview_test").tolist() == [2, 5]
    assert ds.split("view1_train").tolist() == [1, 2, 4, 5] and ds.split("view1_test").tolist() == [0, 3]
    assert ds.class_names[0] == "pick up with one hand"
    s = json.loads((out / "summary.json").read_text())
    assert [Path(x["file"]).name for x in s["skipped"]] == ["a02_s09_e04_v02.json"]
    assert "only 1 frame" in s["skipped"][0]["reason"]
    out = prepare_nucla(raw, tmp_path / "keep", min_frames=1, normalize="frame50", workers=2, progress=True,
                        echo=True)
    assert load_prepared(out).shape == (7, 3, 50, 20, 1)


@pytest.mark.skipif(REAL is None or not REAL.is_dir(), reason="real N-UCLA release not present (set SKELCL_NUCLA_RAW)")
def test_real_release(tmp_path):  # (the full prepare takes a few seconds)
    files = sorted(REAL.glob("*.json"))
    assert len(files) == 1484
    for f in files[::37]:  # spot-check the raw fields on a subset
        name, x = read_clip(f)
        assert x.shape[1:] == (20, 3) and json.loads(f.read_text())["file_name"] == f.stem
    out = prepare_nucla(REAL, tmp_path / "nucla", workers=2, progress=False, echo=False)
    ds = load_prepared(out)
    s = json.loads((out / "summary.json").read_text())
    lengths = dict(zip(ds.names.tolist(), ds.lengths.tolist()))
    assert ds.shape[0] == 1482 and s["files_parsed"] == 1484
    assert sorted(Path(x["file"]).stem for x in s["skipped"]) == ["a02_s09_e04_v02", "a02_s09_e04_v03"]
    # with the two 1-frame clips added back: views 516 / 504 / 464, classes as in the release, 58,534 frames
    views = Counter(ds.meta_fields["view"].tolist()) + Counter([2, 3])
    assert [views[v] for v in (1, 2, 3)] == [516, 504, 464]
    per_class = np.bincount(ds.labels, minlength=10) + np.eye(10, dtype=int)[1] * 2
    assert per_class.tolist() == [150, 152, 141, 173, 148, 149, 142, 142, 145, 142]
    assert sum(lengths.values()) + 2 == 58534 and max(lengths.values()) == 201 and min(lengths.values()) > 1
    assert (len(ds.split("xview_train")), len(ds.split("xview_test"))) == (1019, 463)
    # label mapping: the stored label agrees with the action code of every name
    assert all(parse_nucla_name(n).label == lab for n, lab in zip(ds.names.tolist(), ds.labels.tolist()))
