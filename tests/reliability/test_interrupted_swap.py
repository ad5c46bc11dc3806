"""A run killed between the two renames of the prepared-directory swap: the only complete copy survives."""

from __future__ import annotations

import os

import numpy as np

from skelcl.data.formats import PreparedWriter, load_prepared
from skelcl.data.layouts import NTU25
from skelcl.data.prepared_dir import check_output

DEAD_PID = 999_999_999  # no such process


def _prepared(out):
    rng = np.random.default_rng(0)
    with PreparedWriter(out, 2, 6, NTU25, 1, name="old") as w:
        for i in range(2):
            w.write(i, rng.normal(size=(3, 6, 25, 1)).astype(np.float32), i, f"s{i}")
        return w.commit({"train": [0], "test": [1]}, 2)


def test_dataset_moved_aside_by_a_killed_swap_is_restored_not_deleted(tmp_path):
    out = _prepared(tmp_path / "ds")
    aside = tmp_path / f".ds.old-{DEAD_PID}"
    os.replace(out, aside)  # step 1 of the swap done, the process died before step 2
    partial = tmp_path / f".ds.partial-{DEAD_PID}"
    partial.mkdir()
    (partial / "data.npy").write_bytes(b"half written")
    check_output(out, overwrite=True)
    assert load_prepared(out).meta["name"] == "old"  # restored in place
    assert not aside.exists() and not partial.exists()


def test_leftover_of_a_finished_swap_is_removed(tmp_path):
    out = _prepared(tmp_path / "ds")
    stale = tmp_path / f".ds.old-{DEAD_PID}"
    stale.mkdir()  # killed after step 2: `out` is complete, the old copy is garbage
    check_output(out, overwrite=True)
    assert not stale.exists() and load_prepared(out).meta["name"] == "old"
