"""Performances: timing and time warp, full poses with idle movements and gestures, placement in the room."""

from __future__ import annotations

import numpy as np

from skelcl.data.synthetic.actions import ACTIONS, Motion, Pose, hold
from skelcl.data.synthetic.body import CHANNELS, SIDES, _rot, forward_kinematics, mirror_pose, place_on_floor, rest_pose
from skelcl.data.synthetic.config import TWO_PERSON, SyntheticConfig


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
