"""Motion primitives and the actions: each class as a joint-angle trajectory over its progress u in [0, 1]."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from skelcl.data.synthetic.body import SIDES
from skelcl.data.synthetic.config import CLASS_NAMES


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


def arms_toward(m: Motion, w: np.ndarray, **targets: float) -> Pose:
    """Both arms' channels (`r_elev`, `l_elev`, ...) moved toward the same targets by weight `w`."""
    return {f"{s}_{joint}": m.toward(f"{s}_{joint}", value, w) for s in SIDES for joint, value in targets.items()}


def _hands_in_front(m: Motion, w: np.ndarray) -> Pose:
    """Both hands together in front of the chest (shared by clap and rub)."""
    elev, az, twist, elbow = m.draw(18, 28), m.draw(5, 15), m.draw(35, 45), m.draw(104, 110)
    pose = {}
    pose.update(arms_toward(m, w, elev=elev, az=az, twist=twist, elbow=elbow))
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
    pose.update(arms_toward(m, w, elev=elev, az=az, elbow=elbow, twist=twist))
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
