"""Pipeline A2 of CrosSCLR / AimCLR / HiCLR / SkeAttnCLR ("frame50", "frame64") as plain numpy functions.

Faithful to the reference processing (pipeline A2), quirks included:

1. length L = number of frames in which joint 1 (index 0) of body 0 has a non-zero coordinate, counted
   before centring;
2. centre: subtract the centre joint (NTU joint 21, index 20) per frame and per body;
3. resize the **first L frames** (not the L valid ones) of every body to `frames` with OpenCV's linear
   interpolation (half-pixel centres, no antialiasing, source coordinate in float64); body 1 uses body 0's L;
4. rotate about y, per body and per frame, so the left->right shoulder vector points along +x, with
   theta_t = arccos(v_x / (|v| + 1e-4)) and one sign per body sequence (negated when sum_t v_z >= 0).
   The 1e-4 leaves a small residual rotation; it is kept on purpose.

Arrays are (C, T, V, M) per sample, C = 3 (x, y, z). Joint arguments are 0-based indices; the defaults are
the NTU-25 ones, other layouts pass their own (`frame50(..., **layout_joints(layout))`).
"""

from __future__ import annotations

import numpy as np

from skelcl.data.layouts import Layout

EPS = 1e-4


class EmptySequenceError(ValueError):
    """The sequence has no valid frame to normalise."""


def valid_length(x: np.ndarray, joint: int = 0) -> int:
    """Frames in which `joint` of body 0 has any non-zero coordinate (step 1; zero frames inside count as gaps)."""
    return int(np.count_nonzero(np.any(x[:, :, joint, 0] != 0, axis=0)))


def center(x: np.ndarray, joint: int = 20) -> np.ndarray:
    """Subtract `joint` per frame and per body (all-zero frames stay zero)."""
    return x - x[:, :, joint : joint + 1, :]


def resize_linear(seq: np.ndarray, frames: int) -> np.ndarray:
    """Resample axis 0 of `seq` to `frames` samples like `cv2.resize(..., interpolation=cv2.INTER_LINEAR)`.

    Source coordinate of output i: (i + 0.5) * L / frames - 0.5, clamped to [0, L - 1] (half-pixel centres,
    no antialiasing when shrinking). The coordinate, the weights and the blend are float64, which is how the
    OpenCV call of the reference preprocessing behaves (a float32 coordinate drifts by up to ~7e-5 for
    L = 300); the result is cast back to the input's float type (float32 at least). L = 1 gives copies.
    """
    seq = np.asarray(seq)
    length = seq.shape[0]
    if length < 1 or frames < 1:
        raise EmptySequenceError(f"cannot resize {length} frames to {frames}")
    scale = 1.0 / (frames / length)  # OpenCV: scale = 1 / inv_scale, in double
    src = (np.arange(frames, dtype=np.float64) + 0.5) * scale - 0.5
    i0 = np.floor(src).astype(np.int64)
    w = src - i0
    low = i0 < 0
    w[low], i0[low] = 0.0, 0
    high = i0 >= length - 1
    w[high], i0[high] = 0.0, length - 1
    i1 = np.minimum(i0 + 1, length - 1)
    shape = (frames,) + (1,) * (seq.ndim - 1)
    w = w.reshape(shape)
    out = seq[i0].astype(np.float64) * (1.0 - w) + seq[i1].astype(np.float64) * w
    return out.astype(np.result_type(seq.dtype, np.float32), copy=False)


def shoulder_angles(v: np.ndarray, eps: float = EPS) -> np.ndarray:
    """theta_t for shoulder vectors v (T, 3) (y already ignored): arccos(v_x / (|v| + eps)), one sign per sequence."""
    v = np.array(v, dtype=np.float64)
    v[:, 1] = 0.0
    theta = np.arccos(np.clip(v[:, 0] / (np.linalg.norm(v, axis=1) + eps), -1.0, 1.0))
    if v[:, 2].sum() >= 0:
        theta = -theta
    return theta


def rotate_y(x: np.ndarray, left: int = 4, right: int = 8, eps: float = EPS) -> np.ndarray:
    """Step 4: per body and frame, rotate about y so that joint `right` - joint `left` lies along +x.

    x' = R(theta) x with R = [[cos, 0, -sin], [0, 1, 0], [sin, 0, cos]].
    """
    out = np.empty(x.shape, dtype=np.float64)
    for m in range(x.shape[3]):
        body = x[:, :, :, m].astype(np.float64)  # (3, T, V)
        theta = shoulder_angles((body[:, :, right] - body[:, :, left]).T, eps)
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        px, py, pz = body
        out[0, :, :, m] = c * px - s * pz
        out[1, :, :, m] = py
        out[2, :, :, m] = s * px + c * pz
    return out.astype(x.dtype, copy=False)


def frame50(x: np.ndarray, frames: int = 50, center_joint: int = 20, length_joint: int = 0,
            shoulders: tuple[int, int] = (4, 8)) -> tuple[np.ndarray, int]:
    """The whole A2 step on one (3, T, V, M) sample. Returns ((3, frames, V, M) float32, L).

    Raises EmptySequenceError when L = 0 (the length joint of body 0 is zero in every frame).
    """
    if x.ndim != 4 or x.shape[0] != 3:
        raise ValueError(f"frame50 expects (3, T, V, M), got {x.shape}")
    length = valid_length(x, length_joint)
    if length == 0:
        raise EmptySequenceError(f"joint {length_joint + 1} of body 0 is zero in every frame (L = 0)")
    xc = center(x.astype(np.float32), center_joint)[:, :length]
    # (3, L, V, M) -> (L, 3, V, M): resize along time for all bodies at once (same as per body)
    resized = resize_linear(np.moveaxis(xc, 1, 0), frames)
    out = np.moveaxis(resized, 0, 1)
    return rotate_y(out, *shoulders).astype(np.float32), length


def layout_joints(layout: Layout) -> dict:
    """frame50 joint arguments for any layout: its centre, joint index 0 for the length, its shoulders."""
    if layout.shoulders is None:
        raise ValueError(f"layout '{layout.name}' defines no shoulders; frame50 needs them for the y-rotation")
    return {"center_joint": layout.center, "length_joint": 0, "shoulders": layout.shoulders}
