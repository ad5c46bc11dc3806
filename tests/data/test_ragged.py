"""Ragged storage: clips stored back to back read exactly as the padded array would, and a damaged index fails."""

import json

import numpy as np
import pytest

from skelcl.data.datamodule import ClipDataset
from skelcl.data.formats import DataFormatError, PreparedWriter, load_prepared
from skelcl.data.layouts import NTU25
from skelcl.data.open import open_dataset
from tests.data import fixtures as fx

LENGTHS = [3, 7, 1, 5]
BODIES = [2, 1, 2, 1]


def _clips(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(3, t, 25, m)).astype(np.float32) for t, m in zip(LENGTHS, BODIES)]


def _write(out, clips, ragged, order=None):
    total = sum(c.shape[1] for c in clips) if ragged else None
    with PreparedWriter(out, len(clips), max(LENGTHS), NTU25, 2, total_frames=total) as w:
        for i in order or range(len(clips)):
            w.write(i, clips[i], i % 2, f"c{i}")
        w.commit({"train": [0, 1, 2], "test": [3]}, num_classes=2)
    return load_prepared(out)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    base = tmp_path_factory.mktemp("ragged")
    clips = _clips()
    return _write(base / "dense", clips, False), _write(base / "ragged", clips, True)


def test_ragged_stores_only_the_frames_and_reads_as_the_padded_array(pair):
    dense, ragged = pair
    assert np.load(ragged.root / "data.npy", mmap_mode="r").shape == (sum(LENGTHS), 3, 25, 2)
    meta = json.loads((ragged.root / "meta.json").read_text())
    assert meta["storage"] == "ragged" and meta["version"] == 2 and meta["shape"] == [4, 3, 7, 25, 2]
    assert json.loads((dense.root / "meta.json").read_text())["version"] == 1
    assert ragged.shape == dense.shape == (4, 3, 7, 25, 2) and len(ragged.data) == 4
    np.testing.assert_array_equal(np.asarray(ragged.data), np.asarray(dense.data))
    for key in (1, -1, [3, 1], slice(1, 3), np.array([True, False, True, False]), (0, ..., 1), (2, 0, 0, 0, 0),
                (slice(None), slice(None), slice(0, 2))):
        np.testing.assert_array_equal(ragged.data[key], dense.data[key])
    assert ragged.lengths.tolist() == dense.lengths.tolist() == LENGTHS


def test_writing_out_of_order_gives_the_same_dataset(tmp_path, pair):
    dense, _ = pair
    shuffled = _write(tmp_path / "r", _clips(), True, order=[2, 0, 3, 1])
    np.testing.assert_array_equal(np.asarray(shuffled.data), np.asarray(dense.data))


def test_a_batch_is_padded_to_its_own_longest_clip(pair):
    dense, ragged = pair
    batch = ClipDataset(ragged, np.array([0, 2, 3])).__getitems__([2, 0, 1])  # clips 3, 0, 2
    assert [b["index"] for b in batch] == [3, 0, 2] and [b["length"] for b in batch] == [5, 3, 1]
    for b in batch:
        assert b["x"].shape == (3, 5, 25, 2)  # the longest of the three, not T_max = 7
        np.testing.assert_array_equal(b["x"].numpy(), dense.data[b["index"], :, :5])
    assert ClipDataset(dense, np.array([0]))[0]["x"].shape == (3, 7, 25, 2)  # dense storage: T_max as before


def test_writer_refuses_a_clip_twice_and_frames_beyond_the_total(tmp_path):
    clips = _clips()
    with PreparedWriter(tmp_path / "a", 4, 7, NTU25, 2, total_frames=sum(LENGTHS)) as w:
        w.write(0, clips[0], 0, "c0")
        with pytest.raises(DataFormatError, match="c0: sample 0 written twice"):
            w.write(0, clips[0], 0, "c0")
        w.abort()
    with PreparedWriter(tmp_path / "b", 4, 7, NTU25, 2, total_frames=5) as w:
        w.write(0, clips[0], 0, "c0")
        with pytest.raises(DataFormatError, match="c1: 7 more frames do not fit: 3 of the 5"):
            w.write(1, clips[1], 1, "c1")
        w.abort()


def test_shrink_keeps_the_first_clips(tmp_path, pair):
    dense, _ = pair
    clips = _clips()
    with PreparedWriter(tmp_path / "s", 6, 7, NTU25, 2, total_frames=sum(LENGTHS) + 20) as w:
        for i, c in enumerate(clips):
            w.write(i, c, i % 2, f"c{i}")
        w.shrink(4)
        w.commit({"train": [0, 1, 2], "test": [3]}, num_classes=2)
    ds = load_prepared(tmp_path / "s")
    assert np.load(ds.root / "data.npy", mmap_mode="r").shape[0] == sum(LENGTHS)  # the unused frames are cut
    np.testing.assert_array_equal(np.asarray(ds.data), np.asarray(dense.data))


def test_a_damaged_index_fails_naming_the_file(tmp_path):
    ds = _write(tmp_path / "d", _clips(), True)
    index = np.load(ds.root / "clips.npy")
    index[2] = (15, 3)  # rows 15..17 of 16
    np.save(ds.root / "clips.npy", index)
    with pytest.raises(DataFormatError, match=r"clips\.npy: clip 2 claims rows 15\.\.17 of a frame array with 16 rows"):
        load_prepared(ds.root)
    index[2] = (10, 1)
    np.save(ds.root / "clips.npy", index)
    np.save(ds.root / "lengths.npy", np.array([3, 7, 2, 5], dtype=np.int32))
    with pytest.raises(DataFormatError, match="clip 2 has length 2 but stores 1 frames"):
        load_prepared(ds.root)
    (ds.root / "clips.npy").unlink()
    with pytest.raises(DataFormatError, match="missing file clips.npy"):
        load_prepared(ds.root)


def test_a_pickle_with_long_and_short_videos_is_stored_back_to_back(tmp_path):
    """pyskl's UCF101 / HMDB51 hold clips from 1 s to a minute: padded, this array would be ~4x its frames."""
    rng = np.random.default_rng(3)
    lengths = [12, 900, 30, 25]
    anns = [fx.pyskl_annotation(rng, f"v{i}", i % 2, t, bodies=1, joints=17) for i, t in enumerate(lengths)]
    path = fx.write_pyskl(tmp_path / "videos.pkl", anns, {"train1": ["v0", "v1", "v2"], "test1": ["v3"]})
    ds = open_dataset(path, format="custom", layout="coco17", num_classes=2)
    stored = np.load(ds.root / "data.npy", mmap_mode="r")
    assert stored.shape == (sum(lengths), 3, 17, 1) and ds.shape == (4, 3, 900, 17, 1)
    for i, a in enumerate(anns):
        t = lengths[i]
        np.testing.assert_array_equal(ds.data[i, :, :t], a["keypoint"].astype(np.float32).transpose(3, 1, 2, 0))
        assert not ds.data[i, :, t:].any()
    assert ds.read(np.array([3, 0])).shape == (2, 3, 25, 17, 1)


@pytest.mark.parametrize("temporal,stride", [("resize", 1), ("first", 1), ("first", 2)])
def test_clips_prepared_from_a_batch_padding_equal_those_from_the_full_padding(pair, temporal, stride):
    """The model sees the same input whether a batch is padded to T_max (dense) or to its longest clip (ragged)."""
    import torch

    from skelcl.augment.clips import ClipSpec, prepare_clips

    dense, ragged = pair
    idx = np.array([0, 2, 3])
    lengths = torch.from_numpy(ragged.lengths[idx].astype(np.int64))
    spec = ClipSpec(frames=6, temporal=temporal, stride=stride, normalize="sequence", center_joint=1)
    short, full = torch.from_numpy(ragged.read(idx)), torch.from_numpy(dense.read(idx))
    assert short.shape[2] == 5 and full.shape[2] == 7
    torch.testing.assert_close(prepare_clips(short, lengths, spec, NTU25), prepare_clips(full, lengths, spec, NTU25),
                               rtol=0, atol=0)
