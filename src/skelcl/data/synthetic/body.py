"""Body model (bone lengths and rest posture per subject) and forward kinematics to the 25 NTU joints."""

from __future__ import annotations

import numpy as np

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
