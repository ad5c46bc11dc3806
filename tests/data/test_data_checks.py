"""Checks on data that opens cleanly but is probably not what the user meant. The vertical axis: skelcl's view
normalisation and rotation views turn about y, so 3-D data standing along another axis (z-up motion capture) is found
and turned upright by the model input (`dataset.vertical_axis: auto`), or warned about when the setting names another
axis. The third coordinate: 2-D keypoints stored as (x, y, 0) or (x, y, score) would be read as 3-D and turned into
nonsense by the rotation views."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest

from skelcl.data.checks import body_extents, resolve_vertical_axis, tallest_axis, warn_not_depth


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


def vertical(data: np.ndarray, setting: str = "auto", origin: str = "mine.pkl") -> int:
    ds = SimpleNamespace(data=data, origin=origin)
    return resolve_vertical_axis(ds, setting, tallest_axis(ds))


def test_y_up_data_passes_silently(caplog):
    with caplog.at_level(logging.INFO, logger="skelcl"):
        assert vertical(standing_people()) == 1
    assert not caplog.records


@pytest.mark.parametrize("order,axis", [((0, 2, 1), "z"), ((1, 0, 2), "x")])
def test_data_standing_along_another_axis_is_turned_upright(caplog, order, axis):
    data = standing_people()[:, list(order)]
    with caplog.at_level(logging.INFO, logger="skelcl"):
        assert vertical(data, origin="mocap.pkl") == "xyz".index(axis)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "mocap.pkl" in record.getMessage() and f"stand along {axis}" in record.getMessage()


def test_a_vertical_axis_the_bodies_do_not_stand_along_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert vertical(standing_people()[:, [0, 2, 1]], "y", "mocap.pkl") == 1  # kept as asked
        assert vertical(standing_people(), "z") == 2
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "mocap.pkl" in messages[0] and "tallest along z" in messages[0]
    assert "dataset.vertical_axis=y" in messages[0] and "tallest along y" in messages[1]


def test_figures_without_a_dominant_axis_stay_as_stored(caplog):
    """Random keypoints (the README's example data) are as wide as tall: no axis to turn to."""
    data = np.random.default_rng(0).normal(size=(40, 3, 30, 15, 1)).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="skelcl"):
        assert vertical(data, origin="mydata.pkl") == 1
    assert not caplog.records


def test_2d_data_stands_along_y():
    pose2d = standing_people()[:, :2]
    assert tallest_axis(SimpleNamespace(data=pose2d, origin="pose2d.pkl")) is None
    assert vertical(pose2d) == vertical(pose2d, "y") == 1
    with pytest.raises(ValueError, match="pose2d.pkl.*needs 3-D clips"):
        vertical(pose2d, "z", "pose2d.pkl")


def image_keypoints(n: int = 40, t: int = 30, v: int = 17, seed: int = 0) -> np.ndarray:
    """(N, 2, T, V, 1) pixel keypoints of standing figures (about 300 px tall) at various places in a 1920 x 1080
    image; absent tail frames."""
    rng = np.random.default_rng(seed)
    joints = np.stack([rng.uniform(-40, 40, v), np.linspace(0, 300, v)])  # (2, V)
    where = np.stack([rng.uniform(300, 1600, n), rng.uniform(300, 700, n)], axis=1)[:, :, None, None, None]
    x = joints[None, :, None, :, None] + where + rng.normal(0, 3, (n, 2, t, v, 1))
    x[:, :, t - 5:] = 0
    return x.astype(np.float32)


def with_third(xy: np.ndarray, third: np.ndarray) -> np.ndarray:
    third = np.broadcast_to(third, xy[:, :1].shape) * (xy[:, :1] != 0)  # absent frames stay all-zero
    return np.concatenate([xy, third.astype(np.float32)], axis=1)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_2d_keypoints_padded_with_a_constant_are_warned_about(caplog, value):
    data = with_third(image_keypoints(), np.full(1, value))
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_not_depth(SimpleNamespace(data=data, origin="pose.pkl")) == "constant"
    message = caplog.records[-1].getMessage()
    assert "pose.pkl" in message and f"is {value:g} for every joint" in message and "[M, T, V, 2]" in message


def test_a_detection_score_as_third_coordinate_is_warned_about(caplog):
    xy = image_keypoints()
    scores = np.random.default_rng(1).uniform(0.2, 1.0, (xy.shape[0], 1, xy.shape[2], xy.shape[3], 1))
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_not_depth(SimpleNamespace(data=with_third(xy, scores), origin="openpose.pkl")) == "score"
    message = caplog.records[-1].getMessage()
    assert "openpose.pkl" in message and "detection score" in message and "keypoint_score" in message


@pytest.mark.parametrize("shift", [np.array([0.2, -0.5, 3.0]), np.array([0.0, 0.0, 0.0])])
def test_depth_passes_silently(caplog, shift):
    """Camera-space 3-D (depth 2.7-3.3 m) and centred 3-D (depth on both sides of 0) are depth."""
    data = standing_people() - np.array([0.2, -0.5, 3.0])[None, :, None, None, None] + shift[None, :, None, None, None]
    data[:, :, -5:] = 0
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_not_depth(SimpleNamespace(data=data, origin="kinect.pkl")) is None
        unit_box = (data - data.min()) / (data.max() - data.min()) * (data != 0)  # every axis scaled into [0, 1]
        assert warn_not_depth(SimpleNamespace(data=unit_box, origin="sbu.pkl")) is None
        assert warn_not_depth(SimpleNamespace(data=image_keypoints(), origin="pose2d.pkl")) is None
    assert not caplog.records


def test_the_combined_check_runs_both_on_one_sample(caplog):
    """What the entry point calls: z-up mocap is found standing along z (turned, or with vertical_axis=y kept; a
    warning either way), an (x, y, score) channel is warned about."""
    from skelcl.data.checks import warn_coordinates

    xy = image_keypoints()
    scores = np.random.default_rng(2).uniform(0.2, 1.0, (xy.shape[0], 1, xy.shape[2], xy.shape[3], 1))
    mocap = SimpleNamespace(data=standing_people()[:, [0, 2, 1]], origin="mocap.pkl")
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_coordinates(mocap) == 2 and warn_coordinates(mocap, "y") == 1
        assert warn_coordinates(SimpleNamespace(data=with_third(xy, scores), origin="openpose.pkl")) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3 and "stand along z" in messages[0] and "tallest along z" in messages[1]
    assert "detection score" in messages[2]


def test_a_layout_without_shoulders_is_warned_about_when_clips_are_to_face_plus_x(caplog):
    from skelcl.data.checks import warn_no_shoulders
    from skelcl.data.layouts import KINECT20

    bare = SimpleNamespace(name="bare", shoulders=None)
    with caplog.at_level(logging.WARNING, logger="skelcl"):
        assert warn_no_shoulders(SimpleNamespace(data=standing_people(), origin="mine.pkl", layout=bare), "sequence")
        assert not warn_no_shoulders(SimpleNamespace(data=standing_people(), origin="mine.pkl", layout=bare), "frame")
        assert not warn_no_shoulders(SimpleNamespace(data=standing_people(), origin="k.pkl", layout=KINECT20),
                                     "sequence")
        assert not warn_no_shoulders(SimpleNamespace(data=image_keypoints(), origin="p.pkl", layout=bare), "sequence")
    (record,) = caplog.records
    assert "mine.pkl" in record.getMessage() and "layout 'bare' names no shoulders" in record.getMessage()
