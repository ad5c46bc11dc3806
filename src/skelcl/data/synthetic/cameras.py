"""Cameras (NTU-like rigs per setup), the per-recording skeleton-fit distortion, and sensor noise."""

from __future__ import annotations

import numpy as np

from skelcl.data.synthetic.body import _rot
from skelcl.data.synthetic.config import SyntheticConfig
from skelcl.data.synthetic.performance import _yaw


def camera_rigs(cfg: SyntheticConfig) -> tuple[np.ndarray, ...]:
    """Distance from the subject (m), height above the floor (m), pitch and roll (deg) of each camera in each
    setup, each (setups, 3)."""
    rng = np.random.default_rng([cfg.seed, 2])
    shape = (cfg.num_setups, 3)
    distance, height = rng.uniform(2.5, 3.5, shape), rng.uniform(0.8, 1.3, shape)
    tilt = np.random.default_rng([cfg.seed, 4])  # a separate stream keeps distance/height as in version 1
    pitch = tilt.uniform(-cfg.camera_pitch_deg, cfg.camera_pitch_deg, shape)
    roll = tilt.uniform(-cfg.camera_roll_deg, cfg.camera_roll_deg, shape)
    return distance, height, pitch, roll


def camera_frames(rng: np.random.Generator, yaw_deg: float, distance: np.ndarray, height: np.ndarray,
                  target: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position (n, 3) and axes (n, 3, 3; columns x, y, z) of n Kinect-like cameras aimed at `target` (n, 3)."""
    n = len(distance)
    yaw = yaw_deg + rng.normal(0.0, 2.0, n)
    look = target + rng.normal(0.0, 0.05, (n, 3)) * np.array([1.0, 0.0, 1.0])
    look[:, 1] = rng.uniform(0.8, 1.1, n)
    back = np.einsum("nij,j->ni", _yaw(yaw), np.array([0.0, 0.0, -1.0]))
    pos = target + back * (distance + rng.normal(0.0, 0.1, n))[:, None]
    pos[:, 1] = height + rng.normal(0.0, 0.04, n)
    z = look - pos
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    x = np.cross(np.array([0.0, 1.0, 0.0]), z)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.cross(z, x)
    tilt = _rot(0, pitch + rng.normal(0.0, 1.0, n)) @ _rot(2, roll + rng.normal(0.0, 1.0, n))
    return pos, np.stack([x, y, z], axis=-1) @ tilt


def to_camera(room: np.ndarray, pos: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Room-frame joints (n, T, M, V, 3) -> camera space (x right, y up, z depth)."""
    return (room - pos[:, None, None, None, :]) @ axes[:, None, None]


def warp_recording(rng: np.random.Generator, x: np.ndarray, centre: np.ndarray, amount: float) -> np.ndarray:
    """Distort each recording's camera-space joints x (n, T, M, V, 3) by its own fixed linear map I + A about
    `centre` (n, 3, the middle of the body), A's entries uniform in +-amount: the skeleton fit's calibration and
    body-build errors, which stretch and shear the whole recording. Random encoders see it as a different pose; an
    encoder trained to be invariant to the shared shear augmentation can see through it."""
    if amount <= 0:
        return x
    warp = np.eye(3) + rng.uniform(-amount, amount, (len(x), 3, 3))
    c = centre[:, None, None, None, :]
    return (x - c) @ np.swapaxes(warp, -1, -2)[:, None, None] + c


def add_sensor_noise(rng: np.random.Generator, x: np.ndarray, bodies: int, lengths: np.ndarray,
                     cfg: SyntheticConfig) -> np.ndarray:
    """Jitter, dropped frames and corrupt frames on camera-space joints x (n, T, M, V, 3), in place; body slots from
    `bodies` on are left all zeros."""
    n, t = x.shape[:2]
    sigma = cfg.noise_std * rng.uniform(0.5, 1.5, (n, 1, 1, 1, 1)) * np.ones((1, 1, 1, 25, 1))
    sigma[:, :, :, [21, 22, 23, 24]] *= 2.0  # hand tips and thumbs are the noisiest Kinect joints
    x[:, :, :bodies] += rng.standard_normal(x[:, :, :bodies].shape, dtype=np.float32) * sigma
    x[:, :, bodies:] = 0.0
    for i in np.flatnonzero(rng.random(n) < cfg.corrupt_prob):
        for f in rng.integers(0, lengths[i], rng.integers(1, 3)):
            jump = rng.normal(0.0, 1.0, 3)
            x[i, f, 0, rng.integers(0, 25)] += jump / np.linalg.norm(jump) * rng.uniform(0.2, 0.5)
    for i in np.flatnonzero(rng.random(n) < cfg.drop_prob):
        if lengths[i] > 2:
            x[i, rng.integers(1, lengths[i] - 1, rng.integers(1, 4))] = 0.0
    x[np.arange(t)[None, :] >= lengths[:, None]] = 0.0
    return x
