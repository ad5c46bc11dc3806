"""scripts/export_custom.py's frame-rate option: a clip written as recorded at K x its frame rate (the benchmark of the
small-data rule's frame stride, docs/results.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np


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
