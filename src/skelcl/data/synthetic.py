"""A procedurally generated skeleton action dataset, so skelcl runs end to end with zero setup (`dataset=synthetic`).

Real benchmarks (NTU, N-UCLA, PKU-MMD) need a licence, a download and a preparation step; this module writes a small
dataset in the same prepared format and the same NTU 25-joint layout, so every method, augmentation and evaluation
protocol can be exercised (and compared) in minutes on a laptop.

How a sample is built:

1. Body model. Each subject gets its own bone lengths (height, torso/arm/leg proportions, shoulder and hip width)
   and posture style (slouch, head tilt, how the arms hang, amplitude of movement). Poses are joint angles (degrees)
   on a kinematic tree rooted at the spine base; forward kinematics gives the 25 NTU joints in a body frame
   (x = the body's right, y = up, the body faces -z). Bones are rigid, so every NTU bone keeps its length over time.
2. Actions (`CLASS_NAMES`). Each class is a smooth joint-angle trajectory over the action's progress u in [0, 1]:
   key poses eased into each other, plus oscillations for periodic actions (1-3 cycles). Confusable pairs share
   everything but their defining detail: left-hand classes are exact mirrors of right-hand ones, `stand_up` is
   `sit_down` played backwards, `clap_hands`/`rub_hands` and `drink_water`/`brush_teeth` use the same arm posture and
   differ only in the hand movement. Eight classes are two-person interactions (body slot 2 is the partner, who is
   another subject from the same cross-subject side); single-person classes leave slot 2 all zeros, as NTU does.
   The feet are pinned to the floor (the root height and, for non-walking actions, the stance foot position follow
   from the legs), so squats, jumps and sitting move the body as they should.
3. Per performance: length 30-150 frames drawn independently of the class (log-uniform), start/end pauses, a
   monotone time warp (speed changes), amplitude and timing jitter, facing direction (within +-60 deg of camera 1),
   position and a slow drift, small idle movements of the whole body and, often, an incidental gesture of an arm
   the action does not use. These nuisances are what a good representation has to see through.
4. Cameras, like NTU: every performance is recorded at once by up to three Kinect-like cameras around the subject:
   camera 1 at 0 deg (in front), camera 2 at -45 deg, camera 3 at +45 deg of yaw; each of `num_setups` setups
   has its own camera distance (about 2.5-3.5 m) and height, with small per-recording changes. Coordinates are in
   camera space in metres (x right, y up, z depth), not normalised. Each camera adds its own sensor noise: Gaussian
   jitter (larger on hand tips/thumbs), occasional dropped frames (all zeros) and corrupt frames (one joint jumps).
5. Skeleton-fit distortion (version 2): every recording passes through its own fixed linear map I + A about the
   body (A's entries uniform in +-`warp`, 0.15 by default), standing in for the calibration and body-build errors
   of a depth sensor's skeleton fit. It is what makes the data separate representations: a random encoder reads
   the distorted recording as a different pose (linear probe 59.6 % instead of 73.6 % without it), while training
   for invariance to the shared shear augmentation sees through it (README, Results). Optional camera tilt
   (`camera_pitch_deg`, `camera_roll_deg`, per setup; 0 by default) adds the same kind of nuisance as a rotation.

Splits follow NTU: `xsub_*` (odd subject ids train, even ids test) and `xview_*` (cameras 2 and 3 train, camera 1
test). Names read `SsssCcccPpppRrrrAaaa` (setup, camera, performer, replication, 1-based action). Everything is
drawn from `numpy.random.default_rng` seeded by (seed, stream), so the same config gives byte-identical arrays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from skelcl.data.formats import PreparedWriter, file_lock
from skelcl.data.layouts import NTU25

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2  # bump when the generated data changes, so cached copies are not reused

CLASS_NAMES: list[str] = [
    "wave_right_hand", "wave_left_hand", "kick_right_leg", "kick_left_leg", "clap_hands", "rub_hands", "squat",
    "sit_down", "stand_up", "jump_up", "bow", "pick_up", "drink_water", "brush_teeth", "phone_call", "salute",
    "touch_head", "cheer_up", "throw", "punch_forward", "arm_circles",
    # two-person interactions (body slot 2 = the partner)
    "handshake", "push_other", "hug", "pass_object", "punch_other", "kick_other", "walk_towards", "walk_apart",
]
TWO_PERSON: frozenset[str] = frozenset(CLASS_NAMES[21:])
CAMERA_YAW_DEG = (0.0, -45.0, 45.0)  # camera 1, 2, 3


@dataclass
class SyntheticConfig:
    """What to generate. Every field takes part in the cache key of `ensure_synthetic`."""

    num_subjects: int = 40
    num_classes: int = len(CLASS_NAMES)  # the first `num_classes` of CLASS_NAMES
    cameras: int = 3  # 1..3: camera 1 (0 deg), 2 (-45 deg), 3 (+45 deg)
    repeats: int = 1  # replications (R) per subject and class
    seed: int = 0
    max_frames: int = 150  # T stored
    min_frames: int = 30
    num_setups: int = 5  # camera rigs (distance, height); subject s uses setup 1 + (s - 1) % num_setups
    noise_std: float = 0.008  # metres, typical sensor jitter (varies per sample 0.5x..1.5x)
    drop_prob: float = 0.25  # chance that a recording has 1-3 dropped (all-zero) frames
    corrupt_prob: float = 0.2  # chance that a recording has 1-2 frames where one joint jumps
    camera_pitch_deg: float = 0.0  # each setup's cameras are tilted by up to +-this about their x axis
    camera_roll_deg: float = 0.0  # ... and rolled by up to +-this about their optical axis
    warp: float = 0.15  # per recording, camera-space points go through I + A, A's entries uniform in +-warp

    def validate(self) -> None:
        if not 1 <= self.num_classes <= len(CLASS_NAMES):
            raise ValueError(f"num_classes must be in 1..{len(CLASS_NAMES)}, got {self.num_classes}")
        if not 1 <= self.cameras <= 3:
            raise ValueError(f"cameras must be in 1..3, got {self.cameras}")
        if self.num_subjects < 1 or self.repeats < 1 or self.num_setups < 1:
            raise ValueError("num_subjects, repeats and num_setups must be >= 1")
        if not 2 <= self.min_frames <= self.max_frames:
            raise ValueError(f"need 2 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")


# ----------------------------------------------------------------------------------------------------------------
# Body model: bone lengths and rest posture per subject
# ----------------------------------------------------------------------------------------------------------------

SIDES = {"r": 1.0, "l": -1.0}  # sign of the body-frame x axis
ARM_JOINTS = {"r": (8, 9, 10, 11, 23, 24), "l": (4, 5, 6, 7, 21, 22)}  # shoulder elbow wrist hand tip thumb
LEG_JOINTS = {"r": (16, 17, 18, 19), "l": (12, 13, 14, 15)}  # hip knee ankle foot
FOOT_JOINTS = (14, 15, 18, 19)

# metres, for a person of about 1.72 m; scaled per subject
BASE_BONES = {
    "spine_low": 0.27, "spine_up": 0.23, "neck": 0.07, "head": 0.13, "clav_w": 0.17, "clav_drop": 0.02,
    "upper_arm": 0.27, "forearm": 0.24, "hand": 0.075, "hand_tip": 0.07, "thumb": 0.05,
    "hip_w": 0.075, "hip_drop": 0.05, "thigh": 0.40, "shank": 0.39, "foot_len": 0.11, "foot_h": 0.05,
}
BONE_GROUP = {
    "spine_low": "torso", "spine_up": "torso", "neck": "torso", "head": "torso", "clav_w": "shoulder",
    "clav_drop": "torso", "upper_arm": "arm", "forearm": "arm", "hand": "arm", "hand_tip": "arm", "thumb": "arm",
    "hip_w": "hip", "hip_drop": "torso", "thigh": "leg", "shank": "leg", "foot_len": "leg", "foot_h": "leg",
}

SIDE_CHANNELS = ("clav", "elev", "az", "twist", "elbow", "wrist", "hip_flex", "hip_abd", "hip_rot", "knee", "ankle")
CHANNELS = ("root_x", "root_y", "root_z", "root_yaw", "spine_pitch", "spine_roll", "spine_yaw", "neck_pitch",
            "neck_yaw") + tuple(f"{s}_{c}" for s in SIDES for c in SIDE_CHANNELS)
# Angles are anatomical and in degrees: elev = arm raised from hanging (forward when az = 0, sideways when az = 90,
# negative = backwards), az = plane of elevation (positive = outwards), twist > 0 = internal rotation, elbow/knee =
# flexion, hip_flex > 0 = thigh forward, spine_pitch > 0 = bend forward, spine_yaw > 0 = turn to the left,
# spine_roll > 0 = lean to the right. root_x/root_z are metres in the body frame (forward = -z), root_y is lift.
MIRRORED_CHANNELS = ("root_x", "root_yaw", "spine_roll", "spine_yaw", "neck_yaw")


def sample_subjects(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Bone lengths (metres) and rest posture/style for n subjects, as name -> (n,) arrays."""
    height = np.clip(rng.normal(1.0, 0.07, n), 0.82, 1.18)
    group = {g: np.clip(rng.normal(1.0, sd, n), 1 - 3 * sd, 1 + 3 * sd)
             for g, sd in (("torso", 0.05), ("arm", 0.05), ("leg", 0.05), ("shoulder", 0.07), ("hip", 0.07))}
    bones = {name: base * height * group[BONE_GROUP[name]] * rng.normal(1.0, 0.015, n)
             for name, base in BASE_BONES.items()}
    style = {
        "spine_pitch": rng.normal(3.0, 3.0, n), "neck_pitch": rng.normal(4.0, 5.0, n),
        "elev": rng.uniform(4.0, 12.0, n), "az": rng.uniform(75.0, 100.0, n), "elbow": rng.uniform(5.0, 20.0, n),
        "twist": rng.uniform(-5.0, 20.0, n), "hip_abd": rng.uniform(2.0, 7.0, n), "knee": rng.uniform(0.0, 6.0, n),
        "clav": rng.normal(0.0, 3.0, n), "amp": np.clip(rng.normal(1.0, 0.15, n), 0.7, 1.3),
        "warp": rng.normal(0.0, 0.15, n),
    }
    return bones, style


def rest_pose(style: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The neutral standing pose of each performance, as channel -> (n, 1) arrays."""
    rest = {c: np.zeros((len(style["amp"]), 1)) for c in CHANNELS}
    rest["spine_pitch"] = style["spine_pitch"][:, None]
    rest["neck_pitch"] = style["neck_pitch"][:, None]
    for s in SIDES:
        for c in ("elev", "az", "elbow", "twist", "hip_abd", "knee", "clav"):
            rest[f"{s}_{c}"] = style[c][:, None]
    return rest


# ----------------------------------------------------------------------------------------------------------------
# Forward kinematics
# ----------------------------------------------------------------------------------------------------------------


def _rot(axis: int, deg: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about body axis 0/1/2 (x/y/z) by `deg` degrees (right-handed)."""
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    m = np.zeros(a.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1.0
    m[..., i, i] = c
    m[..., j, j] = c
    m[..., i, j] = -s
    m[..., j, i] = s
    return m


def _apply(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate per-sample vectors v (n, 3) by r (n, T, 3, 3) -> (n, T, 3)."""
    return (r @ v[:, None, :, None])[..., 0]


def _vec(n: int, x=0.0, y=0.0, z=0.0) -> np.ndarray:
    """Per-sample vectors (n, 3) from scalars or (n,) arrays."""
    out = np.zeros((n, 3))
    out[:, 0], out[:, 1], out[:, 2] = x, y, z
    return out


def forward_kinematics(pose: dict[str, np.ndarray], bones: dict[str, np.ndarray]) -> np.ndarray:
    """Joint positions (n, T, 25, 3) in the body frame, pelvis (spine base) at the origin."""
    n, t = pose["spine_pitch"].shape
    b = bones
    out = np.zeros((n, t, 25, 3))
    yaw = _rot(1, pose["root_yaw"])
    half_spine = _rot(1, pose["spine_yaw"] / 2) @ _rot(0, -pose["spine_pitch"] / 2) @ _rot(2, pose["spine_roll"] / 2)
    r_low = yaw @ half_spine
    r_up = r_low @ half_spine
    out[:, :, 1] = _apply(r_low, _vec(n, y=b["spine_low"]))
    out[:, :, 20] = out[:, :, 1] + _apply(r_up, _vec(n, y=b["spine_up"]))
    r_neck = r_up @ _rot(1, pose["neck_yaw"]) @ _rot(0, -pose["neck_pitch"])
    out[:, :, 2] = out[:, :, 20] + _apply(r_neck, _vec(n, y=b["neck"]))
    out[:, :, 3] = out[:, :, 2] + _apply(r_neck, _vec(n, y=b["head"]))
    for side, sx in SIDES.items():
        p = {c: pose[f"{side}_{c}"] for c in SIDE_CHANNELS}
        sh, el, wr, ha, tip, th = ARM_JOINTS[side]
        out[:, :, sh] = out[:, :, 20] + _apply(r_up @ _rot(2, sx * p["clav"]),
                                               _vec(n, x=sx * b["clav_w"], y=-b["clav_drop"]))
        r_arm = r_up @ _rot(1, -sx * p["az"]) @ _rot(0, p["elev"]) @ _rot(1, sx * p["twist"])
        out[:, :, el] = out[:, :, sh] + _apply(r_arm, _vec(n, y=-b["upper_arm"]))
        r_fore = r_arm @ _rot(0, p["elbow"])
        out[:, :, wr] = out[:, :, el] + _apply(r_fore, _vec(n, y=-b["forearm"]))
        r_hand = r_fore @ _rot(0, p["wrist"])
        out[:, :, ha] = out[:, :, wr] + _apply(r_hand, _vec(n, y=-b["hand"]))
        out[:, :, tip] = out[:, :, ha] + _apply(r_hand, _vec(n, y=-b["hand_tip"]))
        out[:, :, th] = out[:, :, ha] + _apply(r_hand, _vec(n, y=-0.5 * b["thumb"], z=-0.85 * b["thumb"]))
        hip, knee, ankle, foot = LEG_JOINTS[side]
        out[:, :, hip] = _apply(yaw, _vec(n, x=sx * b["hip_w"], y=-b["hip_drop"]))
        r_thigh = yaw @ _rot(2, sx * p["hip_abd"]) @ _rot(0, p["hip_flex"]) @ _rot(1, sx * p["hip_rot"])
        out[:, :, knee] = out[:, :, hip] + _apply(r_thigh, _vec(n, y=-b["thigh"]))
        r_shank = r_thigh @ _rot(0, -p["knee"])
        out[:, :, ankle] = out[:, :, knee] + _apply(r_shank, _vec(n, y=-b["shank"]))
        r_foot = r_shank @ _rot(0, p["ankle"])
        out[:, :, foot] = out[:, :, ankle] + _apply(r_foot, _vec(n, y=-b["foot_h"], z=-b["foot_len"]))
    return out


def place_on_floor(joints: np.ndarray, pose: dict[str, np.ndarray], stance: str) -> np.ndarray:
    """Move the body so the lowest foot joint touches the floor (y = 0.03 m) and, unless walking, the stance foot
    (or both feet) stays where it started; then add the explicit root motion (walking, jump lift)."""
    feet_y = joints[:, :, FOOT_JOINTS, 1]
    k = 60.0
    lowest = feet_y.min(-1, keepdims=True)
    soft_min = lowest[..., 0] - np.log(np.exp(-k * (feet_y - lowest)).sum(-1)) / k
    shift = np.zeros(joints.shape[:2] + (3,))
    shift[..., 1] = 0.03 - soft_min
    if stance != "free":
        anchor = {"both": (14, 18), "left": (14,), "right": (18,)}[stance]
        xz = joints[:, :, anchor][..., [0, 2]].mean(2)
        shift[..., [0, 2]] = -(xz - xz[:, :1])
    shift[..., 0] += pose["root_x"]
    shift[..., 1] += pose["root_y"]
    shift[..., 2] += pose["root_z"]
    return joints + shift[:, :, None, :]


def mirror_pose(pose: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The left/right mirror image of a pose trajectory (swap sides, negate lateral channels)."""
    out = {}
    for c, v in pose.items():
        if c[:2] in ("r_", "l_"):
            out[("l_" if c[0] == "r" else "r_") + c[2:]] = v
        else:
            out[c] = -v if c in MIRRORED_CHANNELS else v
    return out


# ----------------------------------------------------------------------------------------------------------------
# Motion primitives
# ----------------------------------------------------------------------------------------------------------------


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def hold(u: np.ndarray, up: float | np.ndarray, down: float | np.ndarray) -> np.ndarray:
    """0 -> 1 over [0, up], 1 until `down`, back to 0 at u = 1."""
    return smoothstep(u / up) * smoothstep((1.0 - u) / (1.0 - down))


def keyframes(u: np.ndarray, knots: Sequence, values: Sequence) -> np.ndarray:
    """Ease between key values (scalars or (n, 1) arrays) at increasing knots; constant outside."""
    out = np.broadcast_to(np.asarray(values[0], dtype=float), u.shape).copy()
    for k0, k1, v0, v1 in zip(knots[:-1], knots[1:], values[:-1], values[1:]):
        w = smoothstep((u - k0) / np.maximum(np.asarray(k1) - k0, 1e-6))
        out = out + (np.asarray(v1) - np.asarray(v0)) * w
    return out


def pulses(u: np.ndarray, count: np.ndarray, lo: float, hi: float, sharp: float = 4.0) -> np.ndarray:
    """`count` quick strokes (0 -> 1 -> 0) evenly spread over [lo, hi] of the action (punches)."""
    x = np.clip((u - lo) / (hi - lo), 0.0, 1.0)
    return np.sin(np.pi * x * count) ** sharp


class Motion:
    """Timing, style and randomness of n performances of one class; builds pose channels as (n, T) arrays."""

    def __init__(self, u: np.ndarray, reps: np.ndarray, rest: dict[str, np.ndarray], amp: np.ndarray,
                 rng: np.random.Generator) -> None:
        self.u, self.reps, self.rest, self.amp, self.rng = u, reps, rest, amp, rng
        self.n = u.shape[0]

    def draw(self, lo: float, hi: float) -> np.ndarray:
        """One uniform value per performance, (n, 1)."""
        return self.rng.uniform(lo, hi, (self.n, 1))

    def jitter(self, knots: Sequence[float], sd: float = 0.025) -> list[np.ndarray]:
        """Per-performance key times, jittered but kept increasing."""
        ks = [np.full((self.n, 1), k) + (self.rng.normal(0, sd, (self.n, 1)) if 0 < k < 1 else 0) for k in knots]
        for i in range(1, len(ks)):
            ks[i] = np.maximum(ks[i], ks[i - 1] + 0.02)
        return ks

    def phase(self) -> np.ndarray:
        return self.draw(0.0, 2 * np.pi)

    def toward(self, channel: str, target, weight: np.ndarray) -> np.ndarray:
        """Blend a channel from its rest value to `target` with `weight` in [0, 1]."""
        r = self.rest[channel]
        return r + (np.asarray(target) - r) * weight


Pose = dict[str, np.ndarray]


# --- single-person actions (right-handed; left versions are mirrors) ---------------------------------------------


def act_wave_right_hand(m: Motion) -> Pose:
    w = hold(m.u, m.draw(0.15, 0.25), m.draw(0.75, 0.85))
    osc = np.sin(2 * np.pi * (m.reps + 1) * m.u + m.phase())
    return {
        "r_elev": m.toward("r_elev", m.draw(125, 155), w), "r_az": m.toward("r_az", m.draw(55, 80), w),
        "r_elbow": m.toward("r_elbow", m.draw(35, 55), w) + w * m.amp * m.draw(18, 30) * osc,
        "r_twist": m.toward("r_twist", m.draw(-25, -5), w), "r_wrist": w * 10 * osc,
        "spine_roll": -w * m.draw(0, 5),
    }


def act_kick_right_leg(m: Motion) -> Pose:
    ks = m.jitter([0.0, 0.25, 0.45, 0.6, 0.8, 1.0])
    hip = m.amp * m.draw(60, 90)
    return {
        "r_hip_flex": keyframes(m.u, ks, [0, m.draw(40, 60), hip, m.draw(40, 60), 0, 0]),
        "r_knee": keyframes(m.u, ks, [m.rest["r_knee"], m.draw(60, 90), m.draw(0, 12), m.draw(60, 90),
                                      m.rest["r_knee"], m.rest["r_knee"]]),
        "r_ankle": keyframes(m.u, ks, [0, 0, -m.draw(10, 30), 0, 0, 0]),
        "l_knee": m.rest["l_knee"] + 10 * hold(m.u, 0.25, 0.8),
        "spine_pitch": m.rest["spine_pitch"] - keyframes(m.u, ks, [0, 3, m.draw(5, 15), 3, 0, 0]),
        "r_elev": m.rest["r_elev"] + keyframes(m.u, ks, [0, 10, m.draw(15, 35), 10, 0, 0]),
        "l_elev": m.rest["l_elev"] + keyframes(m.u, ks, [0, 10, m.draw(15, 35), 10, 0, 0]),
    }


def _hands_in_front(m: Motion, w: np.ndarray) -> Pose:
    """Both hands together in front of the chest (shared by clap and rub)."""
    elev, az, twist, elbow = m.draw(18, 28), m.draw(5, 15), m.draw(35, 45), m.draw(104, 110)
    pose = {}
    for s in SIDES:
        pose.update({f"{s}_elev": m.toward(f"{s}_elev", elev, w), f"{s}_az": m.toward(f"{s}_az", az, w),
                     f"{s}_twist": m.toward(f"{s}_twist", twist, w), f"{s}_elbow": m.toward(f"{s}_elbow", elbow, w)})
    return pose


def act_clap_hands(m: Motion) -> Pose:
    w = hold(m.u, m.draw(0.15, 0.25), m.draw(0.75, 0.85))
    pose = _hands_in_front(m, w)
    opening = w * m.amp * m.draw(30, 45) * (0.5 - 0.5 * np.cos(2 * np.pi * (m.reps + 1) * m.u))
    for s in SIDES:
        pose[f"{s}_twist"] = pose[f"{s}_twist"] - opening
    return pose


def act_rub_hands(m: Motion) -> Pose:
    w = hold(m.u, m.draw(0.15, 0.25), m.draw(0.75, 0.85))
    pose = _hands_in_front(m, w)
    slide = w * m.amp * m.draw(4, 8) * np.sin(2 * np.pi * (m.reps + 1) * m.u + m.phase())
    pose["r_elev"] = pose["r_elev"] + slide
    pose["l_elev"] = pose["l_elev"] - slide
    pose["r_elbow"] = pose["r_elbow"] - slide
    pose["l_elbow"] = pose["l_elbow"] + slide
    return pose


def act_squat(m: Motion) -> Pose:
    w = hold(m.u, 0.08, 0.92)
    depth = w * (0.5 - 0.5 * np.cos(2 * np.pi * m.reps * m.u + 0.0)) * np.minimum(m.amp, 1.1)
    arms = m.draw(15, 70)
    pose = {"spine_pitch": m.rest["spine_pitch"] + depth * m.draw(20, 35),
            "neck_pitch": m.rest["neck_pitch"] - depth * 10}
    for s in SIDES:
        pose.update({f"{s}_hip_flex": depth * m.draw(100, 120), f"{s}_knee": m.toward(f"{s}_knee", 125, depth),
                     f"{s}_ankle": depth * 25, f"{s}_elev": m.toward(f"{s}_elev", arms, depth),
                     f"{s}_az": m.toward(f"{s}_az", 15, depth)})
    return pose


def _sitting(m: Motion, s: np.ndarray) -> Pose:
    """Pose along the stand -> sit transition, s in [0, 1] (1 = seated)."""
    lean = m.draw(20, 35) * np.sin(np.pi * s) ** 2
    pose = {"spine_pitch": m.rest["spine_pitch"] + lean + 5 * s}
    for side in SIDES:
        pose.update({f"{side}_hip_flex": s * m.draw(80, 95), f"{side}_knee": m.toward(f"{side}_knee", 92, s),
                     f"{side}_ankle": 5 * s, f"{side}_elev": m.toward(f"{side}_elev", m.draw(20, 40), s),
                     f"{side}_az": m.toward(f"{side}_az", m.draw(0, 15), s),
                     f"{side}_elbow": m.toward(f"{side}_elbow", m.draw(30, 50), s)})
    return pose


def act_sit_down(m: Motion) -> Pose:
    return _sitting(m, smoothstep(m.u))


def act_stand_up(m: Motion) -> Pose:
    return _sitting(m, smoothstep(1.0 - m.u))


def act_jump_up(m: Motion) -> Pose:
    w = hold(m.u, 0.05, 0.95)
    cyc = np.mod(m.reps * m.u, 1.0)
    ks = [0.0, 0.3, 0.42, 0.55, 0.68, 0.8, 1.0]
    crouch = keyframes(cyc, ks, [0, 1, 0, 0, 0.8, 0, 0]) * w
    lift = keyframes(cyc, ks, [0, 0, 0.3, 1, 0, 0, 0]) * w * m.amp * m.draw(0.08, 0.22)
    arms = keyframes(cyc, ks, [0, -1, 1, 0.6, -0.3, 0, 0]) * w
    pose = {"root_y": lift, "spine_pitch": m.rest["spine_pitch"] + 25 * crouch}
    for s in SIDES:
        pose.update({f"{s}_hip_flex": 55 * crouch, f"{s}_knee": m.rest[f"{s}_knee"] + 75 * crouch,
                     f"{s}_ankle": 25 * crouch - 20 * np.clip(lift * 8, 0, 1),
                     f"{s}_elev": m.rest[f"{s}_elev"] + m.draw(60, 100) * arms,
                     f"{s}_az": m.toward(f"{s}_az", 10, np.abs(arms))})
    return pose


def act_bow(m: Motion) -> Pose:
    ks = m.jitter([0.0, 0.35, 0.6, 1.0])
    bend = keyframes(m.u, ks, [0, 1, 1, 0])
    return {"spine_pitch": m.rest["spine_pitch"] + bend * m.amp * m.draw(35, 60),
            "neck_pitch": m.rest["neck_pitch"] + bend * m.draw(5, 15),
            "r_elev": m.rest["r_elev"] + bend * 10, "l_elev": m.rest["l_elev"] + bend * 10}


def act_pick_up(m: Motion) -> Pose:
    ks = m.jitter([0.0, 0.35, 0.5, 0.85, 1.0])
    down = keyframes(m.u, ks, [0, 1, 1, 0, 0])
    carry = keyframes(m.u, ks, [0, 0, 0, 1, 1])
    pose = {"spine_pitch": m.rest["spine_pitch"] + down * m.draw(55, 80),
            "r_elev": m.rest["r_elev"] + down * m.draw(20, 40) + carry * 20,
            "r_az": m.toward("r_az", 20, np.maximum(down, carry)),
            "r_elbow": m.toward("r_elbow", m.draw(90, 110), carry),
            "r_twist": m.toward("r_twist", 30, carry)}
    for s in SIDES:
        pose.update({f"{s}_hip_flex": down * m.draw(25, 45), f"{s}_knee": m.rest[f"{s}_knee"] + down * m.draw(30, 55)})
    return pose


def _hand_to_face(m: Motion, w: np.ndarray) -> Pose:
    """Right hand at the mouth (shared by drink and brush teeth)."""
    return {"r_elev": m.toward("r_elev", m.draw(60, 70), w), "r_az": m.toward("r_az", m.draw(-15, -5), w),
            "r_elbow": m.toward("r_elbow", m.draw(127, 133), w), "r_twist": m.toward("r_twist", m.draw(30, 40), w)}


def act_drink_water(m: Motion) -> Pose:
    ks = m.jitter([0.0, 0.3, 0.7, 0.95])
    w = keyframes(m.u, ks, [0, 1, 1, 0])
    tilt = keyframes(m.u, m.jitter([0.0, 0.3, 0.42, 0.62, 0.75]), [0, 0, 1, 1, 0])
    pose = _hand_to_face(m, w)
    pose["r_elev"] = pose["r_elev"] + tilt * m.draw(15, 25)
    pose["neck_pitch"] = m.rest["neck_pitch"] - tilt * m.amp * m.draw(20, 35)
    return pose


def act_brush_teeth(m: Motion) -> Pose:
    ks = m.jitter([0.0, 0.3, 0.7, 0.95])
    w = keyframes(m.u, ks, [0, 1, 1, 0])
    scrub = hold(m.u, 0.35, 0.65) * np.sin(2 * np.pi * (m.reps + 2) * m.u + m.phase())
    pose = _hand_to_face(m, w)
    pose["r_twist"] = pose["r_twist"] + scrub * m.amp * m.draw(15, 25)
    pose["r_elev"] = pose["r_elev"] + scrub * m.draw(4, 8)
    pose["neck_pitch"] = m.rest["neck_pitch"] + w * m.draw(0, 8)
    return pose


def act_phone_call(m: Motion) -> Pose:
    w = keyframes(m.u, m.jitter([0.0, 0.25, 0.8, 1.0]), [0, 1, 1, 0])
    return {"r_elev": m.toward("r_elev", m.draw(100, 110), w), "r_az": m.toward("r_az", m.draw(0, 20), w),
            "r_elbow": m.toward("r_elbow", m.draw(132, 138), w), "r_twist": m.toward("r_twist", m.draw(15, 25), w),
            "neck_yaw": -w * m.draw(0, 10), "spine_roll": w * m.draw(0, 4)}


def act_salute(m: Motion) -> Pose:
    w = keyframes(m.u, m.jitter([0.0, 0.2, 0.6, 0.75]), [0, 1, 1, 0])
    return {"r_elev": m.toward("r_elev", m.draw(88, 95), w), "r_az": m.toward("r_az", m.draw(10, 20), w),
            "r_elbow": m.toward("r_elbow", m.draw(117, 123), w), "r_twist": m.toward("r_twist", m.draw(25, 35), w),
            "spine_pitch": m.rest["spine_pitch"] - 3 * w, "neck_pitch": m.rest["neck_pitch"] * (1 - w)}


def act_touch_head(m: Motion) -> Pose:
    w = keyframes(m.u, m.jitter([0.0, 0.25, 0.75, 1.0]), [0, 1, 1, 0])
    elev, az, elbow, twist = m.draw(120, 130), m.draw(10, 30), m.draw(107, 113), m.draw(15, 25)
    pose = {"neck_pitch": m.rest["neck_pitch"] + w * m.draw(8, 20)}
    for s in SIDES:
        pose.update({f"{s}_elev": m.toward(f"{s}_elev", elev, w), f"{s}_az": m.toward(f"{s}_az", az, w),
                     f"{s}_elbow": m.toward(f"{s}_elbow", elbow, w), f"{s}_twist": m.toward(f"{s}_twist", twist, w)})
    return pose


def act_cheer_up(m: Motion) -> Pose:
    w = hold(m.u, m.draw(0.15, 0.25), m.draw(0.75, 0.85))
    pump = w * m.amp * m.draw(8, 18) * np.sin(2 * np.pi * (m.reps + 1) * m.u + m.phase())
    elev, az, elbow = m.draw(145, 170), m.draw(25, 50), m.draw(5, 25)
    pose = {"neck_pitch": m.rest["neck_pitch"] - w * 8}
    for s in SIDES:
        pose.update({f"{s}_elev": m.toward(f"{s}_elev", elev, w) + pump, f"{s}_az": m.toward(f"{s}_az", az, w),
                     f"{s}_elbow": m.toward(f"{s}_elbow", elbow, w) + pump})
    return pose


def act_throw(m: Motion) -> Pose:
    ks = m.jitter([0.0, 0.35, 0.5, 0.62, 0.9])
    return {
        "r_elev": keyframes(m.u, ks, [m.rest["r_elev"], m.draw(120, 145), m.draw(95, 115), m.draw(30, 50),
                                      m.rest["r_elev"]]),
        "r_az": keyframes(m.u, ks, [m.rest["r_az"], m.draw(95, 115), m.draw(-5, 15), -m.draw(15, 35), m.rest["r_az"]]),
        "r_elbow": keyframes(m.u, ks, [m.rest["r_elbow"], m.draw(80, 100), m.draw(10, 30), m.draw(20, 40),
                                       m.rest["r_elbow"]]),
        "r_twist": keyframes(m.u, ks, [m.rest["r_twist"], -m.draw(40, 70), m.draw(10, 30), 30, m.rest["r_twist"]]),
        "l_elev": keyframes(m.u, ks, [m.rest["l_elev"], m.draw(50, 80), 40, 20, m.rest["l_elev"]]),
        "l_az": keyframes(m.u, ks, [m.rest["l_az"], 10, 30, 50, m.rest["l_az"]]),
        "spine_yaw": keyframes(m.u, ks, [0, -m.draw(15, 30) * m.amp, m.draw(10, 25), m.draw(15, 30), 0]),
        "spine_pitch": m.rest["spine_pitch"] + keyframes(m.u, ks, [0, -5, 10, m.draw(10, 25), 0]),
    }


def _guard_and_punch(m: Motion, count: np.ndarray) -> tuple[Pose, np.ndarray]:
    """Boxing guard with `count` right punches; returns the pose and the punch stroke signal."""
    g = hold(m.u, m.draw(0.1, 0.2), m.draw(0.8, 0.9))
    p = pulses(m.u, count, 0.25, 0.75, sharp=6.0) * g
    pose = {}
    for s in SIDES:
        pose.update({f"{s}_elev": m.toward(f"{s}_elev", m.draw(35, 50), g), f"{s}_az": m.toward(f"{s}_az", 15, g),
                     f"{s}_elbow": m.toward(f"{s}_elbow", m.draw(110, 130), g),
                     f"{s}_twist": m.toward(f"{s}_twist", m.draw(20, 40), g)})
    pose["r_elev"] = pose["r_elev"] + p * (m.draw(80, 95) - pose["r_elev"])
    pose["r_az"] = pose["r_az"] + p * (-m.draw(0, 10) - pose["r_az"])
    pose["r_elbow"] = pose["r_elbow"] * (1 - p) + p * m.draw(0, 10)
    pose["r_twist"] = pose["r_twist"] * (1 - p)
    pose["spine_yaw"] = p * m.amp * m.draw(10, 25)
    return pose, p


def act_punch_forward(m: Motion) -> Pose:
    return _guard_and_punch(m, m.reps)[0]


def act_arm_circles(m: Motion) -> Pose:
    w = hold(m.u, m.draw(0.15, 0.25), m.draw(0.75, 0.85))
    angle = 2 * np.pi * (m.reps + 1) * m.u + m.phase()
    radius = w * m.amp * m.draw(12, 25)
    elev, az = m.draw(80, 95), m.draw(80, 95)
    pose = {}
    for s in SIDES:
        pose.update({f"{s}_elev": m.toward(f"{s}_elev", elev, w) + radius * np.sin(angle),
                     f"{s}_az": m.toward(f"{s}_az", az, w) + radius * np.cos(angle),
                     f"{s}_elbow": m.toward(f"{s}_elbow", 5, w)})
    return pose


# --- two-person interactions: (actor pose, partner pose, pelvis distance (n, T) in metres or None) ---------------
# None: the distance follows from the contact (`ActionSpec.contact`), so hands, fists or a foot meet the partner.


def _reach_arm(m: Motion, w: np.ndarray, side: str = "r", across: float = 15.0) -> Pose:
    return {f"{side}_elev": m.toward(f"{side}_elev", m.draw(45, 60), w),
            f"{side}_az": m.toward(f"{side}_az", -m.draw(across - 5, across + 5), w),
            f"{side}_elbow": m.toward(f"{side}_elbow", m.draw(25, 40), w),
            f"{side}_twist": m.toward(f"{side}_twist", m.draw(10, 30), w),
            "spine_pitch": m.rest["spine_pitch"] + w * m.draw(3, 10)}


def act_handshake(a: Motion, b: Motion) -> tuple[Pose, Pose, None]:
    w = keyframes(a.u, a.jitter([0.0, 0.3, 0.75, 0.95]), [0, 1, 1, 0])
    shake = hold(a.u, 0.35, 0.7) * np.sin(2 * np.pi * (2 * a.reps + 1) * a.u + a.phase()) * a.draw(4, 8)
    pa, pb = _reach_arm(a, w), _reach_arm(b, w)
    pa["r_elev"] = pa["r_elev"] + shake
    pb["r_elev"] = pb["r_elev"] - shake
    return pa, pb, None


def act_pass_object(a: Motion, b: Motion) -> tuple[Pose, Pose, None]:
    wa = keyframes(a.u, a.jitter([0.0, 0.3, 0.55, 0.8]), [0, 1, 1, 0])
    wb = keyframes(a.u, a.jitter([0.0, 0.3, 0.5, 0.6, 0.85]), [0, 0, 1, 1, 0])
    carry = keyframes(a.u, [0.0, 0.6, 0.85], [0, 0, 1])
    pa, pb = _reach_arm(a, wa, across=5.0), _reach_arm(b, wb, across=5.0)
    pb["r_elbow"] = pb["r_elbow"] + carry * (b.draw(90, 110) - pb["r_elbow"])
    pb["r_elev"] = pb["r_elev"] + carry * 20
    return pa, pb, None


def act_push_other(a: Motion, b: Motion) -> tuple[Pose, Pose, None]:
    ks = a.jitter([0.0, 0.3, 0.45, 0.55, 0.85])
    prep, ext = keyframes(a.u, ks, [0, 1, 1, 1, 0]), keyframes(a.u, ks, [0, 0, 1, 0.3, 0])
    hit = smoothstep((a.u - ks[2]) / 0.15) * keyframes(a.u, [0.0, 0.7, 1.0], [1, 1, 0.3])
    pa = {"root_z": -ext * a.draw(0.05, 0.2), "spine_pitch": a.rest["spine_pitch"] + ext * a.draw(8, 18)}
    elev, elbow = a.draw(65, 85), a.draw(60, 80)
    for s in SIDES:
        pa.update({f"{s}_elev": a.toward(f"{s}_elev", elev, prep), f"{s}_az": a.toward(f"{s}_az", 10, prep),
                   f"{s}_elbow": a.toward(f"{s}_elbow", elbow, prep) - ext * (elbow - 10)})
    step = smoothstep((a.u - ks[2]) / 0.3) * b.amp * b.draw(0.15, 0.4)
    pb = {"root_z": step, "spine_pitch": b.rest["spine_pitch"] - hit * b.draw(8, 20),
          "neck_pitch": b.rest["neck_pitch"] + hit * 10, "r_elev": b.rest["r_elev"] + hit * b.draw(10, 40),
          "l_elev": b.rest["l_elev"] + hit * b.draw(10, 40)}
    return pa, pb, None


def act_hug(a: Motion, b: Motion) -> tuple[Pose, Pose, np.ndarray]:
    ks = a.jitter([0.0, 0.3, 0.75, 1.0])
    w = keyframes(a.u, ks, [0, 1, 1, 0])
    rock = hold(a.u, 0.35, 0.7) * np.sin(2 * np.pi * a.reps * a.u + a.phase()) * a.draw(2, 6)
    poses = []
    for m, hi in ((a, "r"), (b, "l")):
        p = {"spine_pitch": m.rest["spine_pitch"] + w * m.draw(8, 15), "spine_roll": rock}
        for s in SIDES:
            up = 15 if s == hi else -10
            p.update({f"{s}_elev": m.toward(f"{s}_elev", m.draw(70, 85) + up, w),
                      f"{s}_az": m.toward(f"{s}_az", m.draw(-25, -5), w),
                      f"{s}_elbow": m.toward(f"{s}_elbow", m.draw(60, 90), w)})
        poses.append(p)
    far, near = a.draw(0.9, 1.2), a.draw(0.35, 0.45)
    return poses[0], poses[1], far + (near - far) * w


def act_punch_other(a: Motion, b: Motion) -> tuple[Pose, Pose, None]:
    count = np.minimum(a.reps, 2)
    pa, p = _guard_and_punch(a, count)
    delayed = np.concatenate([np.zeros((a.n, 2)), p[:, :-2]], axis=1)  # the partner reacts 2 frames later
    pb = {"spine_pitch": b.rest["spine_pitch"] - delayed * b.draw(10, 20),
          "neck_pitch": b.rest["neck_pitch"] - delayed * b.draw(10, 20),
          "root_z": smoothstep((a.u - 0.5) / 0.3) * b.draw(0.05, 0.2),
          "r_elev": b.rest["r_elev"] + delayed * 25, "l_elev": b.rest["l_elev"] + delayed * 25}
    return pa, pb, None


def act_kick_other(a: Motion, b: Motion) -> tuple[Pose, Pose, None]:
    pa = act_kick_right_leg(a)
    hit = keyframes(a.u, [0.0, 0.42, 0.55, 0.85], [0, 0, 1, 0])
    pb = {"spine_pitch": b.rest["spine_pitch"] + hit * b.draw(20, 35), "neck_pitch": b.rest["neck_pitch"] + hit * 10,
          "root_z": smoothstep((a.u - 0.45) / 0.3) * b.draw(0.1, 0.3)}
    for s in SIDES:
        pb.update({f"{s}_elev": b.toward(f"{s}_elev", 40, hit), f"{s}_az": b.toward(f"{s}_az", 0, hit),
                   f"{s}_elbow": b.toward(f"{s}_elbow", 70, hit)})
    return pa, pb, None


def _walk(m: Motion, progress: np.ndarray, steps: np.ndarray, distance: np.ndarray) -> Pose:
    """Walking forward `distance` metres along the body's initial facing, legs swinging in step."""
    theta = 2 * np.pi * steps * progress
    intensity = hold(m.u, 0.1, 0.9)
    swing = {"r": np.sin(theta), "l": -np.sin(theta)}
    pose = {"root_z": -distance * progress}
    for s in SIDES:
        pose.update({f"{s}_hip_flex": intensity * m.draw(20, 30) * swing[s],
                     f"{s}_knee": m.rest[f"{s}_knee"] + intensity * 55 * ((1 + np.sin(theta + (s == "l") * np.pi
                                                                                 + 1.3)) / 2) ** 3,
                     f"{s}_elev": m.rest[f"{s}_elev"] - intensity * m.draw(12, 25) * swing[s],
                     f"{s}_az": m.toward(f"{s}_az", 10, intensity)})
    return pose


def act_walk_towards(a: Motion, b: Motion) -> tuple[Pose, Pose, np.ndarray]:
    progress = smoothstep(a.u)
    far, near = a.draw(2.3, 3.0), a.draw(0.7, 0.95)
    steps = np.round((far - near) / 2 / 1.2 * 2) / 2 + 0.5
    pa, pb = _walk(a, progress, steps, (far - near) / 2), _walk(b, progress, steps, (far - near) / 2)
    return pa, pb, np.full(a.u.shape, far)


def act_walk_apart(a: Motion, b: Motion) -> tuple[Pose, Pose, np.ndarray]:
    turn = smoothstep(a.u / 0.25)
    progress = smoothstep((a.u - 0.15) / 0.85)
    far, near = a.draw(2.3, 3.0), a.draw(0.7, 0.95)
    steps = np.round((far - near) / 2 / 1.2 * 2) / 2 + 0.5
    pa, pb = _walk(a, progress, steps, -(far - near) / 2), _walk(b, progress, steps, -(far - near) / 2)
    pa["root_yaw"], pb["root_yaw"] = 180 * turn, -180 * turn
    return pa, pb, np.full(a.u.shape, near)


@dataclass(frozen=True)
class ActionSpec:
    make: Callable  # Motion -> Pose, or (Motion, Motion) -> (Pose, Pose, distance) for two-person classes
    stance: str = "both"  # which feet stay put: both, left, right, free (walking)
    mirror: bool = False  # mirror the pose (left-handed twin of a right-handed action)
    contact: tuple[int, int | None] | None = None  # actor joint meeting the partner's same joint (or chest: None)
    min_cycle: int = 12  # fewest frames per repetition, caps the repetitions of short performances


ACTIONS: dict[str, ActionSpec] = {
    "wave_right_hand": ActionSpec(act_wave_right_hand),
    "wave_left_hand": ActionSpec(act_wave_right_hand, mirror=True),
    "kick_right_leg": ActionSpec(act_kick_right_leg, stance="left"),
    "kick_left_leg": ActionSpec(act_kick_right_leg, stance="right", mirror=True),
    "clap_hands": ActionSpec(act_clap_hands),
    "rub_hands": ActionSpec(act_rub_hands),
    "squat": ActionSpec(act_squat, min_cycle=25),
    "sit_down": ActionSpec(act_sit_down),
    "stand_up": ActionSpec(act_stand_up),
    "jump_up": ActionSpec(act_jump_up, min_cycle=25),
    "bow": ActionSpec(act_bow),
    "pick_up": ActionSpec(act_pick_up),
    "drink_water": ActionSpec(act_drink_water),
    "brush_teeth": ActionSpec(act_brush_teeth, min_cycle=15),
    "phone_call": ActionSpec(act_phone_call),
    "salute": ActionSpec(act_salute),
    "touch_head": ActionSpec(act_touch_head),
    "cheer_up": ActionSpec(act_cheer_up),
    "throw": ActionSpec(act_throw),
    "punch_forward": ActionSpec(act_punch_forward, min_cycle=15),
    "arm_circles": ActionSpec(act_arm_circles),
    "handshake": ActionSpec(act_handshake, contact=(11, 11)),
    "push_other": ActionSpec(act_push_other, stance="free", contact=(11, None)),
    "hug": ActionSpec(act_hug, stance="free"),
    "pass_object": ActionSpec(act_pass_object, contact=(11, 11)),
    "punch_other": ActionSpec(act_punch_other, stance="free", min_cycle=20, contact=(11, None)),
    "kick_other": ActionSpec(act_kick_other, stance="free", contact=(19, None)),
    "walk_towards": ActionSpec(act_walk_towards, stance="free"),
    "walk_apart": ActionSpec(act_walk_apart, stance="free"),
}
assert list(ACTIONS) == CLASS_NAMES


# ----------------------------------------------------------------------------------------------------------------
# Performances: timing, full poses, placement in the room
# ----------------------------------------------------------------------------------------------------------------


def sample_timing(rng: np.random.Generator, n: int, cfg: SyntheticConfig, style_warp: np.ndarray,
                  min_cycle: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lengths (n,), action progress u (n, T) and repetitions (n, 1) for n performances; independent of the class."""
    t_max = cfg.max_frames
    lengths = np.exp(rng.uniform(np.log(cfg.min_frames), np.log(cfg.max_frames + 1), n)).astype(int)
    lengths = np.clip(lengths, cfg.min_frames, cfg.max_frames)
    start = rng.uniform(0.0, 0.25, n) * lengths
    end = lengths - 1 - rng.uniform(0.0, 0.25, n) * lengths
    t = np.arange(t_max)[None, :]
    u = np.clip((t - start[:, None]) / (end - start)[:, None], 0.0, 1.0)
    beta = np.clip(style_warp + rng.uniform(-0.35, 0.35, n), -0.6, 0.6)[:, None]
    u = u + beta * np.sin(np.pi * u) / np.pi  # monotone: du'/du = 1 + beta cos(pi u) > 0
    reps = rng.integers(1, 4, n)
    reps = np.minimum(reps, np.maximum(1, ((end - start) // min_cycle).astype(int)))
    return lengths, u, reps[:, None].astype(float)


def smooth_noise(rng: np.random.Generator, n: int, t: int, amp: float, cycles: float = 2.0) -> np.ndarray:
    """Slow random wiggle (sum of three random sinusoids), (n, t), roughly within +-amp."""
    x = np.linspace(0.0, 1.0, t)[None, :]
    out = np.zeros((n, t))
    for _ in range(3):
        f = rng.uniform(0.3, cycles, (n, 1))
        out += rng.normal(0, amp / 2, (n, 1)) * np.sin(2 * np.pi * f * x + rng.uniform(0, 2 * np.pi, (n, 1)))
    return out


IDLE_DEG = {"spine_pitch": 2.0, "spine_roll": 1.5, "spine_yaw": 5.0, "neck_pitch": 4.0, "neck_yaw": 6.0,
            "root_yaw": 10.0, "r_elev": 5.0, "l_elev": 5.0, "r_elbow": 6.0, "l_elbow": 6.0, "r_twist": 6.0,
            "l_twist": 6.0}


def arm_gesture(rng: np.random.Generator, clock: np.ndarray, rest: Pose, side: str) -> Pose:
    """An incidental movement of an arm the action does not use (scratching, adjusting clothes): in 60 % of the
    performances it moves to a random pose below shoulder height and back, at a random time."""
    n = clock.shape[0]
    start, duration = rng.uniform(0.0, 0.6, (n, 1)), rng.uniform(0.25, 0.5, (n, 1))
    w = hold((clock - start) / duration, 0.3, 0.7) * (rng.random((n, 1)) < 0.6)
    target = {"elev": rng.uniform(15, 70, (n, 1)), "az": rng.uniform(-10, 90, (n, 1)),
              "elbow": rng.uniform(20, 110, (n, 1)), "twist": rng.uniform(-20, 40, (n, 1))}
    return {f"{side}_{c}": rest[f"{side}_{c}"] + (v - rest[f"{side}_{c}"]) * w for c, v in target.items()}


def complete_pose(pose: Pose, rest: Pose, rng: np.random.Generator, clock: np.ndarray) -> Pose:
    """Fill the channels the action leaves unset with the rest pose (or an incidental arm gesture), and add idle
    movements everywhere (sway, breathing, turning, fidgeting). clock: (n, T) time in [0, 1] over the valid frames."""
    n, t = clock.shape
    pose = dict(pose)
    for side in SIDES:
        if not any(f"{side}_{c}" in pose for c in ("elev", "az", "elbow")):
            pose.update(arm_gesture(rng, clock, rest, side))
    full = {}
    for c in CHANNELS:
        v = np.broadcast_to(pose[c] if c in pose else rest[c], (n, t))
        full[c] = v + smooth_noise(rng, n, t, IDLE_DEG[c]) if c in IDLE_DEG else np.array(v)
    full["root_x"] = full["root_x"] + smooth_noise(rng, n, t, 0.03, 1.0)
    full["root_z"] = full["root_z"] + smooth_noise(rng, n, t, 0.02, 1.0)
    return full


def contact_distance(ja: np.ndarray, jb: np.ndarray, contact: tuple[int, int | None], shape: tuple) -> np.ndarray:
    """Pelvis distance (n, T) at which the actor's contact joint, at its furthest forward reach, meets the partner:
    the partner's same joint (hands meeting) or the partner's chest (about 0.12 m in front of the pelvis)."""
    ia, ib = contact
    reach = np.max(-ja[:, :, ia, 2], axis=1)  # forward is -z in the body frame
    reach = reach + (np.max(-jb[:, :, ib, 2], axis=1) - 0.03 if ib is not None else 0.12)
    return np.broadcast_to(reach[:, None], shape)


def _yaw(deg: np.ndarray) -> np.ndarray:
    return _rot(1, np.asarray(deg, dtype=float))


def to_room(joints: np.ndarray, facing_deg: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Body frame (n, T, V, 3) -> room frame: turn by `facing_deg` about the vertical, then move to origin (n, T, 3)."""
    return joints @ np.swapaxes(_yaw(facing_deg), -1, -2)[:, None] + origin[:, :, None, :]


def root_drift(rng: np.random.Generator, n: int, t: int) -> np.ndarray:
    """Slow horizontal drift of the body (n, T, 3): a small linear walk-off plus a wobble."""
    x = np.linspace(0.0, 1.0, t)[None, :]
    drift = np.zeros((n, t, 3))
    for axis in (0, 2):
        drift[..., axis] = rng.normal(0.0, 0.08, (n, 1)) * x + smooth_noise(rng, n, t, 0.03, 1.0)
    return drift


def perform(name: str, idx: np.ndarray, partner: np.ndarray, bones: dict, style: dict, cfg: SyntheticConfig,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n performances of one class by subjects `idx` (0-based): joints in the room frame (n, T, M=2, 25, 3),
    lengths (n,), and the horizontal scene centre (n, 3) the cameras aim at."""
    spec, n, t = ACTIONS[name], len(idx), cfg.max_frames
    lengths, u, reps = sample_timing(rng, n, cfg, style["warp"][idx], spec.min_cycle)
    clock = np.clip(np.arange(t)[None, :] / (lengths[:, None] - 1), 0.0, 1.0)

    def motion(subj: np.ndarray) -> Motion:
        st = {k: v[subj] for k, v in style.items()}
        return Motion(u, reps, rest_pose(st), (st["amp"] * rng.normal(1.0, 0.1, n))[:, None], rng)

    def body(pose: Pose, subj: np.ndarray, rest: Pose, stance: str) -> np.ndarray:
        full = complete_pose(mirror_pose(pose) if spec.mirror else pose, rest, rng, clock)
        return place_on_floor(forward_kinematics(full, {k: v[subj] for k, v in bones.items()}), full, stance)

    room = np.zeros((n, t, 2, 25, 3))
    offset = np.stack([rng.uniform(-0.3, 0.3, n), np.zeros(n), rng.uniform(-0.3, 0.3, n)], -1)
    drift = root_drift(rng, n, t) + offset[:, None, :]
    if name not in TWO_PERSON:
        ma = motion(idx)
        ja = body(spec.make(ma), idx, ma.rest, spec.stance)
        room[:, :, 0] = to_room(ja, rng.uniform(-60, 60, n), drift)
        return room, lengths, offset
    ma, mb = motion(idx), motion(partner[idx])
    pa, pb, distance = spec.make(ma, mb)
    ja = body(pa, idx, ma.rest, spec.stance)
    jb = body(pb, partner[idx], mb.rest, spec.stance)
    if distance is None:
        distance = contact_distance(ja, jb, spec.contact, (n, t))
    scene = rng.uniform(-30, 30, n) + 180.0 * rng.integers(0, 2, n)  # which side of the picture the actor is on
    half = np.zeros((n, t, 3))
    half[..., 0] = distance / 2
    side = np.einsum("nij,ntj->nti", _yaw(scene), half)
    room[:, :, 0] = to_room(ja, scene - 90.0, drift - side)  # actor faces +x (towards the partner)
    room[:, :, 1] = to_room(jb, scene + 90.0, drift + side)
    return room, lengths, offset


# ----------------------------------------------------------------------------------------------------------------
# Cameras and sensor noise
# ----------------------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------------------
# The dataset
# ----------------------------------------------------------------------------------------------------------------


def sample_name(setup: int, camera: int, subject: int, replication: int, label: int) -> str:
    return f"S{setup:03d}C{camera:03d}P{subject:03d}R{replication:03d}A{label + 1:03d}"


def partners(num_subjects: int) -> np.ndarray:
    """Partner (0-based) of each subject in two-person classes: the next subject on the same cross-subject side, so
    test subjects never appear in training recordings."""
    ids = np.arange(num_subjects)
    out = ids.copy()
    for side in (0, 1):
        same = ids[ids % 2 == side]
        out[same] = np.roll(same, -1)
    return out


def sample_index(cfg: SyntheticConfig, subject: int, label: int, rep: int, cam: int) -> int:
    """Position of a recording in the arrays (0-based arguments): subject-major, then class, replication, camera."""
    return ((subject * cfg.num_classes + label) * cfg.repeats + rep) * cfg.cameras + cam


def record_class(label: int, cfg: SyntheticConfig, bones: dict, style: dict, rigs: tuple) -> tuple[np.ndarray, ...]:
    """All recordings of one class: data (n, cams, C, T, V, M) float32, lengths (n,), subject (n,) 0-based."""
    rng = np.random.default_rng([cfg.seed, 1, label])
    subj = np.repeat(np.arange(cfg.num_subjects), cfg.repeats)
    room, lengths, centre = perform(CLASS_NAMES[label], subj, partners(cfg.num_subjects), bones, style, cfg, rng)
    bodies = 2 if CLASS_NAMES[label] in TWO_PERSON else 1
    setup = subj % cfg.num_setups
    noise_rng = np.random.default_rng([cfg.seed, 3, label])
    warp_rng = np.random.default_rng([cfg.seed, 5, label])
    out = np.zeros((len(subj), cfg.cameras, 3, cfg.max_frames, 25, 2), dtype=np.float32)
    for cam in range(cfg.cameras):
        pos, axes = camera_frames(rng, CAMERA_YAW_DEG[cam], *(r[setup, cam] for r in rigs[:2]), centre,
                                  *(r[setup, cam] for r in rigs[2:]))
        body_centre = np.einsum("ni,nij->nj", centre + np.array([0.0, 1.0, 0.0]) - pos, axes)  # ~1 m up
        x = warp_recording(warp_rng, to_camera(room, pos, axes), body_centre, cfg.warp)
        x = add_sensor_noise(noise_rng, x, bodies, lengths, cfg)
        out[:, cam] = x.transpose(0, 4, 1, 3, 2)  # (n, T, M, V, C) -> (n, C, T, V, M)
    return out, lengths, subj


def make_splits(subject: np.ndarray, camera: np.ndarray) -> dict[str, np.ndarray]:
    """NTU-style splits: odd subject ids train / even test; cameras 2 and 3 train / camera 1 test."""
    splits = {"xsub_train": np.flatnonzero(subject % 2 == 1), "xsub_test": np.flatnonzero(subject % 2 == 0)}
    if camera.max() > 1:
        splits.update(xview_train=np.flatnonzero(camera != 1), xview_test=np.flatnonzero(camera == 1))
    return splits


def generate_synthetic(out: str | Path, cfg: SyntheticConfig | None = None) -> Path:
    """Generate the dataset described by `cfg` and write it (atomically) as a prepared dataset at `out`."""
    cfg = cfg or SyntheticConfig()
    cfg.validate()
    bones, style = sample_subjects(np.random.default_rng([cfg.seed, 0]), cfg.num_subjects)
    rigs = camera_rigs(cfg)
    total = cfg.num_subjects * cfg.num_classes * cfg.repeats * cfg.cameras
    subject_of, camera_of = np.zeros(total, dtype=int), np.zeros(total, dtype=int)
    out = Path(out)
    with PreparedWriter(out, total, cfg.max_frames, NTU25, bodies=2, name="synthetic") as writer:
        for label in range(cfg.num_classes):
            data, lengths, subj = record_class(label, cfg, bones, style, rigs)
            for p, s in enumerate(subj):
                rep = p % cfg.repeats
                for cam in range(cfg.cameras):
                    i = sample_index(cfg, int(s), label, rep, cam)
                    setup = 1 + int(s) % cfg.num_setups
                    writer.write(i, data[p, cam, :, : lengths[p]], label,
                                 sample_name(setup, cam + 1, int(s) + 1, rep + 1, label),
                                 subject=int(s) + 1, view=cam + 1, setup=setup)
                    subject_of[i], camera_of[i] = int(s) + 1, cam + 1
        writer.commit(make_splits(subject_of, camera_of), cfg.num_classes, CLASS_NAMES[: cfg.num_classes],
                      source={"generator": "skelcl.data.synthetic", "version": GENERATOR_VERSION,
                              "config": asdict(cfg)})
    return out


def config_hash(cfg: SyntheticConfig) -> str:
    """Short stable hash of the config and generator version (the cache key)."""
    blob = json.dumps({"version": GENERATOR_VERSION, **asdict(cfg)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def ensure_synthetic(cache_dir: str | Path, **overrides) -> Path:
    """Path of the synthetic dataset for `SyntheticConfig(**overrides)` under `cache_dir`, generating it only if it
    is not cached yet. Concurrent callers wait for each other (file lock); should two still race, the dataset is
    built in a private directory and renamed into place, and the loser simply reuses the winner's copy."""
    known = {f.name for f in fields(SyntheticConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown synthetic dataset option(s) {sorted(unknown)}; known: {sorted(known)}")
    cfg = SyntheticConfig(**overrides)
    cfg.validate()
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"synthetic-{config_hash(cfg)}"
    if (out / "meta.json").is_file():
        return out
    with file_lock(cache_dir / f".{out.name}.lock"):
        if (out / "meta.json").is_file():
            return out
        if out.exists():  # a broken leftover (no meta.json), e.g. from a crash in an older version
            shutil.rmtree(out)
        private = cache_dir / f".{out.name}.build-{os.getpid()}"
        log.info("generating the synthetic dataset into %s (first use; cached afterwards)", out)
        start = time.perf_counter()
        generate_synthetic(private, cfg)
        log.info("synthetic dataset generated in %.1f s", time.perf_counter() - start)
        try:
            os.rename(private, out)
        except OSError:  # someone else finished first
            shutil.rmtree(private, ignore_errors=True)
            if not (out / "meta.json").is_file():
                raise
    return out
