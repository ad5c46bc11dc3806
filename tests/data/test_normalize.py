"""frame50 pipeline (A2) and its test vectors."""

import math

import numpy as np
import pytest

from skelcl.data.layouts import KINECT20
from skelcl.data.normalize import (
    EmptySequenceError,
    center,
    frame50,
    layout_joints,
    resize_linear,
    rotate_y,
    shoulder_angles,
    valid_length,
)


def opencv_linear_reference(seq: np.ndarray, frames: int) -> np.ndarray:
    """Element-by-element transcription of OpenCV's INTER_LINEAR row mapping, in float64 (Python floats) as the
    reference preprocessing's OpenCV call behaves."""
    length = seq.shape[0]
    scale = 1.0 / (frames / length)
    out = np.zeros((frames,) + seq.shape[1:], dtype=np.float64)
    for dy in range(frames):
        fy = (dy + 0.5) * scale - 0.5
        sy = math.floor(fy)
        fy -= sy
        if sy < 0:
            fy, sy = 0.0, 0
        if sy >= length - 1:
            fy, sy = 0.0, length - 1
        s1 = min(sy + 1, length - 1)
        out[dy] = seq[sy].astype(np.float64) * (1.0 - fy) + seq[s1].astype(np.float64) * fy
    return out


def test_resize_known_values():
    # values cv2.resize gives for a column [0, 1] -> 4 rows and [0, 1, 2, 3] -> 2 rows
    up = resize_linear(np.array([[0.0], [1.0]], dtype=np.float32), 4)
    np.testing.assert_allclose(up[:, 0], [0.0, 0.25, 0.75, 1.0], atol=1e-7)
    down = resize_linear(np.arange(4, dtype=np.float32)[:, None], 2)
    np.testing.assert_allclose(down[:, 0], [0.5, 2.5], atol=1e-7)


@pytest.mark.parametrize("length", [1, 37, 50, 151, 299, 300])
def test_resize_matches_opencv_formula(length):
    rng = np.random.default_rng(length)
    seq = rng.normal(size=(length, 25, 3)).astype(np.float32)
    out = resize_linear(seq, 50)
    assert out.shape == (50, 25, 3) and out.dtype == np.float32
    # float64 coordinate: only the final float32 rounding remains (a float32 coordinate is up to ~7e-5 off)
    ref = opencv_linear_reference(seq, 50)
    np.testing.assert_allclose(out, ref, rtol=0, atol=4e-7)
    np.testing.assert_array_equal(out, ref.astype(np.float32))
    if length == 1:
        assert np.array_equal(out, np.repeat(seq, 50, axis=0))  # L = 1 -> 50 copies
    if length == 50:
        assert np.array_equal(out, seq)  # identity


def test_rotation_test_vectors():
    # v = joint 9 - joint 5 = (0, 0, 2) -> theta = -90 deg, v becomes (2, 0, 0)
    theta = shoulder_angles(np.array([[0.0, 0.0, 2.0]]))
    assert theta[0] == pytest.approx(-math.pi / 2)
    x = np.zeros((3, 1, 25, 1), dtype=np.float32)
    x[:, 0, 8, 0] = [0, 0, 2]
    v = rotate_y(x)[:, 0, 8, 0]
    np.testing.assert_allclose(v, [2, 0, 0], atol=1e-6)
    # already along +x: the 1e-4 leaves theta = -arccos(2 / 2.0001) = -0.573 deg
    theta = shoulder_angles(np.array([[2.0, 0.0, 0.0]]))
    assert math.degrees(theta[0]) == pytest.approx(-math.degrees(math.acos(2 / 2.0001)))
    assert math.degrees(theta[0]) == pytest.approx(-0.573, abs=1e-3)
    # residual ~ sqrt(2e-4 / |v|) rad: 1.48 deg for a 0.30 m shoulder width
    assert abs(math.degrees(shoulder_angles(np.array([[0.3, 0, 0]]))[0])) == pytest.approx(1.48, abs=0.01)


def test_rotation_one_sign_per_sequence():
    # two frames whose z components disagree: sum z >= 0 -> both angles negated
    v = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, -0.5]])
    theta = shoulder_angles(v)
    assert (theta < 0).all()
    theta_neg = shoulder_angles(np.array([[1.0, 0.0, -1.0], [1.0, 0.0, 0.5]]))
    assert (theta_neg > 0).all()


def test_valid_length_and_first_l_frames_quirk():
    x = np.zeros((3, 10, 25, 2), dtype=np.float32)
    x[:, :6, :, 0] = 1.0
    x[:, 2, :, 0] = 0.0  # a 0-body frame inside: L = 5, the last valid index is 5
    x[:, :6, 20, 0] = 0.5
    assert valid_length(x) == 5
    out, length = frame50(x)
    assert length == 5 and out.shape == (3, 50, 25, 2)
    # the first L = 5 frames [0, 5) were resampled (frame 5, still valid, is cut); frame 2 is interpolated zeros
    ref = resize_linear(np.moveaxis(center(x, 20)[:, :5], 1, 0), 50)
    np.testing.assert_allclose(np.moveaxis(out, 1, 0)[:, 1], ref[:, 1], atol=1e-6)  # y untouched by rotation


def test_frame50_centres_and_aligns_shoulders():
    rng = np.random.default_rng(0)
    x = np.zeros((3, 80, 25, 2), dtype=np.float32)
    x[:, :70, :, 0] = rng.normal(size=(3, 70, 25))
    x[:, :70, 8, 0] = x[:, :70, 4, 0] + np.array([0.0, 0.1, 0.3])[:, None]  # shoulders: right = left + 0.3 z
    out, length = frame50(x, 64)
    assert length == 70 and out.shape == (3, 64, 25, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, :, 20], 0, atol=1e-6)  # centre joint at the origin
    v = out[:, :, 8, 0] - out[:, :, 4, 0]
    assert (v[0] > 0.29).all() and np.abs(v[2]).max() < 0.01  # shoulder vector along +x (tiny residual)
    np.testing.assert_allclose(out[..., 1], 0)  # absent body stays zero


def test_frame50_empty_raises():
    with pytest.raises(EmptySequenceError, match="zero in every frame"):
        frame50(np.zeros((3, 10, 25, 2), dtype=np.float32))


def test_layout_joints_kinect20():
    j = layout_joints(KINECT20)
    assert j == {"center_joint": 2, "length_joint": 0, "shoulders": (4, 8)}
    x = np.random.default_rng(1).normal(size=(3, 12, 20, 1)).astype(np.float32)
    out, _ = frame50(x, 50, **j)
    np.testing.assert_allclose(out[:, :, 2], 0, atol=1e-6)
