"""A truncated array in a prepared directory names the file, the expected and actual size and how to rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from skelcl.data.formats import PreparedWriter, load_prepared
from skelcl.data.layouts import NTU25


def _prepared(out, source=None):
    rng = np.random.default_rng(0)
    with PreparedWriter(out, 4, 10, NTU25, 2, name="ntu60") as w:
        for i in range(4):
            w.write(i, rng.normal(size=(3, 10, 25, 2)).astype(np.float32), i % 2, f"s{i}")
        return w.commit({"xsub_train": [0, 1], "xsub_test": [2, 3]}, 2, source=source)


def test_truncated_data_npy_says_sizes_and_the_prepare_command(tmp_path):
    root = _prepared(tmp_path / "ntu60")
    data = root / "data.npy"
    size = data.stat().st_size
    with open(data, "r+b") as f:
        f.truncate(size - 1000)
    message = (rf"data.npy: truncated: {size - 1000:,} bytes, expected {size:,} for shape \(4, 3, 10, 25, 2\) "
               rf"float32; rebuild it with `python -m skelcl.data.prepare ntu60 --raw <raw data dir> --out {root} "
               r"--overwrite`")
    with pytest.raises(ValueError, match=message):
        load_prepared(root)


def test_truncated_converted_cache_says_delete_and_rerun(tmp_path):
    root = _prepared(tmp_path / "mine.skelcl-prepared", source={"converted_from": str(tmp_path / "mine.pkl")})
    with open(root / "labels.npy", "r+b") as f:
        f.truncate(140)
    with pytest.raises(ValueError, match=rf"labels.npy: truncated: .* delete {root} and run again"):
        load_prepared(root)
