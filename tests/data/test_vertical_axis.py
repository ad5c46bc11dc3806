"""The vertical-axis check: skelcl's view normalisation and rotation views turn about y, so 3-D data standing along
another axis (z-up motion capture) is warned about, naming the file and the fix."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from skelcl.data.formats import body_extents, warn_vertical_axis


def standing_people(n: int = 40, t: int = 30, v: int = 20, seed: int = 0) -> np.ndarray:
    """(N, 3, T, V, 1) y-up figures: 1.7 m tall, 0.5 m wide, 0.3 m deep, moving a little; absent tail frames."""
    rng = np.random.default_rng(seed)
    joints = np.stack([rng.uniform(-0.25, 0.25, v), np.linspace(0, 1.7, v), rng.uniform(-0.15, 0.15, v)])  # (3, V)
    x = joints[None, :, None, :, None] + rng.normal(0, 0.03, (n, 3, t, v, 1)) + np.array([0.2, -0.5, 3.0])[
        None, :, None, None, None]
    x[:, :, t - 5:] = 0
    return x.astype(np.float32)


def test_body_extents_find_the_height():
    ext = body_extents(standing_people())
    assert np.argmax(ext) == 1 and 1.6 < ext[1] < 1.9 and ext[0] < 0.7 and ext[2] < 0.5


def test_y_up_data_passes_silently(caplog):
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_vertical_axis(SimpleNamespace(data=standing_people(), origin="mine.pkl")) == 1
    assert not caplog.records


@pytest.mark.parametrize("order,axis", [((0, 2, 1), "z"), ((1, 0, 2), "x")])
def test_data_standing_along_another_axis_is_warned_about(caplog, order, axis):
    data = standing_people()[:, list(order)]
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_vertical_axis(SimpleNamespace(data=data, origin="mocap.pkl")) == "xyz".index(axis)
    message = caplog.records[0].getMessage()
    assert "mocap.pkl" in message and f"tallest along {axis}" in message and "reorder the coordinates" in message


def test_2d_data_is_not_checked():
    assert warn_vertical_axis(SimpleNamespace(data=standing_people()[:, :2], origin="pose2d.pkl")) is None
