"""Write a prepared dataset (or a part of it) as a `dataset=custom` pickle + layout YAML (a benchmark tool).

Used to check that the small-data rule generalises to datasets it was not tuned on: new small real datasets are cut
out of a prepared one by camera view, subject or size, and trained through `dataset=custom` exactly as a user's own
data would be (the layout travels as a YAML file, not as a built-in name).

    python scripts/export_custom.py data/nucla out/v1v2 --train view=1 --test view=2
    python scripts/export_custom.py data/nucla out/small300 --train view=1,2 --test view=3 --max-train 300
    python scripts/export_custom.py data/nucla out/xsub --train subject=1,2,3,4,5,6 --test subject=7,8,9,10
    python scripts/export_custom.py data/nucla out/xview2d --train view=1,2 --test view=3 --image-2d
    python scripts/export_custom.py data/nucla out/xview_x12 --train view=1,2 --test view=3 --frame-rate 12
    python scripts/export_custom.py data/nucla out/xview2d_miss --train view=1,2 --test view=3 --image-2d --miss 0.1
    python scripts/export_custom.py data/nucla out/xview_coco --train view=1,2 --test view=3 --image-2d \
        --pose-layout coco17
    python scripts/export_custom.py data/nucla out/xview_crowd --train view=1,2 --test view=3 --image-2d \
        --pose-layout coco17 --bystanders 3
    python scripts/export_custom.py data/nucla out/pairs15 --train subject=1,2,3,4,5,6 --test subject=7,8,9,10 \
        --max-train 225 --frame-rate 0.5 --joints 4,3,2,5,6,8,9,10,12,13,14,16,17,18,20 --pair --unit-box
    python scripts/export_custom.py data/nucla out/pairs15_untracked --train subject=1,2,3,4,5,6 \
        --test subject=7,8,9,10 --max-train 225 --frame-rate 0.5 --joints 4,3,2,5,6,8,9,10,12,13,14,16,17,18,20 \
        --pair --unit-box --untracked
    python scripts/export_custom.py data/nucla out/xview_pad --train view=1,2 --test view=3 --pad
    python scripts/export_custom.py data/nucla out/xview_zup --train view=1,2 --test view=3 --z-up
    python scripts/export_custom.py data/nucla out/xview_tail --train view=1,2 --test view=3 --mixed-rate 0.2,12
    python scripts/export_custom.py data/nucla out/xview_lt --train view=1,2 --test view=3 --long-tail 10
    python scripts/export_custom.py data/nucla out/xsub_wild --train subject=1,2,3,4,5,6 --test subject=7,8,9,10 \
        --image-2d --pose-layout coco17 --miss 0.1 --bystanders 2 --long-tail 5 --mixed-rate 0.3,2
then: python -m skelcl.train dataset=custom dataset.root=out/v1v2.pkl dataset.layout=out/v1v2_layout.yaml \
          dataset.split=main
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
import yaml

from skelcl.data.formats import load_prepared
from skelcl.data.layouts import COCO17, OPENPOSE18, Layout

# A 2-D pose estimator's joints from a depth sensor's, by name: the head stands in for the nose and the shoulder
# centre for OpenPose's neck; the eyes and ears (no depth sensor tracks them) are placed around the head from the
# shoulder line, so a turned body foreshortens them as a pose estimator would see it.
POSE_LAYOUTS = {"coco17": COCO17, "openpose18": OPENPOSE18}
# in order of preference; OpenPose's neck is the shoulders' midpoint: Kinect's shoulder centre, NTU's spine_shoulder
# (NTU's own "neck" sits higher, towards the head)
SOURCES = {"nose": ("nose", "head"), "neck": ("shoulder_center", "spine_shoulder", "neck")}
FACE_OFFSETS = {"left_eye": (-0.08, 0.04), "right_eye": (0.08, 0.04), "left_ear": (-0.2, 0.0),
                "right_ear": (0.2, 0.0)}  # (along left->right shoulder, up) in shoulder widths


def _select(meta: dict, spec: str) -> np.ndarray:
    """Indices whose metadata field is in the given values: 'view=1,2' or 'subject=3'."""
    field, values = spec.split("=")
    wanted = {int(v) for v in values.split(",")}
    return np.flatnonzero(np.isin(meta[field], list(wanted)))


def long_tail(train: np.ndarray, labels: np.ndarray, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """A long-tailed training split: the k-th of the C classes present (in label order) keeps a seeded sample of
    round(n_k x ratio^(-k / (C - 1))) of its n_k clips, at least one: the first keeps all, the last about 1/ratio
    (the exponential profile of the long-tailed benchmarks)."""
    classes = np.unique(labels[train])
    kept = []
    for k, c in enumerate(classes):
        own = train[labels[train] == c]
        share = ratio ** (-k / max(1, len(classes) - 1))
        kept.append(rng.choice(own, max(1, round(len(own) * share)), replace=False))
    return np.sort(np.concatenate(kept))


def _layout_yaml(layout, keep: list[int] | None = None) -> dict:
    """The layout in the user-facing YAML form (1-based joint numbers, bone = [joint, parent]); with `keep` (0-based
    joints, in their new order) the layout of that subset: a kept joint's parent is its nearest kept ancestor (the
    centre joint where that chain ends at a dropped root), and pairs, parts, shoulders and names keep their kept
    joints."""
    keep = list(range(layout.num_joints)) if keep is None else keep
    new = {j: i + 1 for i, j in enumerate(keep)}
    parent = dict(layout.bones)
    if layout.center not in new or (layout.shoulders and not set(layout.shoulders) <= set(new)):
        raise SystemExit(f"--joints must keep the centre joint {layout.center + 1} and the shoulders "
                         f"{[s + 1 for s in layout.shoulders or ()]}")

    def kept_parent(j: int) -> int:
        while j not in new:
            if j == parent[j]:  # the old root is dropped: the centre joint becomes the root
                return new[layout.center]
            j = parent[j]
        return new[j]

    bones = [[new[j], new[j] if j == parent[j] else kept_parent(parent[j])] for j in keep]
    out = {"name": f"{layout.name}_custom", "num_joints": len(keep), "one_based": True,
           "center": new[layout.center], "bones": bones,
           "pairs": [[new[a], new[b]] for a, b in layout.pairs if a in new and b in new],
           "parts": [[new[j] for j in part if j in new] for part in layout.parts if set(part) & set(new)]}
    if layout.shoulders is not None:
        out["shoulders"] = [new[s] for s in layout.shoulders]
    if layout.joint_names:
        out["joint_names"] = [layout.joint_names[j] for j in keep]
    return out


def project_to_image(kp: np.ndarray, focal: float = 525.0, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """Camera-space 3-D keypoints (M, T, V, 3), depth along +z in metres, -> pixel coordinates (M, T, V, 2) of a
    pinhole camera (a Kinect's colour camera by default; image y points down), as a 2-D pose estimator would report
    them. Absent joints (all zero) stay zero."""
    x, y, z = kp[..., 0], kp[..., 1], kp[..., 2]
    present = (kp != 0).any(axis=-1)
    safe = np.where(present, z, 1.0)
    if (safe[present] <= 0).any():
        raise SystemExit("--image-2d needs camera-space coordinates with positive depth (z > 0)")
    uv = np.stack([size[0] / 2 + focal * x / safe, size[1] / 2 - focal * y / safe], axis=-1)
    return np.where(present[..., None], uv, 0.0).astype(np.float32)


def to_pose_layout(kp: np.ndarray, layout: Layout, target: Layout) -> np.ndarray:
    """(M, T, V, C) camera-space clips of a named depth-sensor layout -> (M, T, V', C) in a pose estimator's joint
    order (`target`: COCO-17 or OpenPose-18): the joints both have by name, the sources above, eyes and ears offset
    from the head along the shoulder line and up (the head minus the shoulder centre's direction; zero where the head
    or a shoulder is missing). Frames where a body is absent stay zero."""
    names = layout.joint_names or ()

    sources = {joint: next((n for n in SOURCES.get(joint, (joint,)) if n in names), None)
               for joint in target.joint_names if joint not in FACE_OFFSETS}
    lacking = [joint for joint, src in sources.items() if src is None]
    lacking += [n for n in ("head", "left_shoulder", "right_shoulder") if n not in names]
    if lacking:
        raise SystemExit(f"--pose-layout {target.name}: layout '{layout.name}' has no joint for {sorted(set(lacking))}")
    j = {n: kp[:, :, names.index(n)] for n in ("head", "left_shoulder", "right_shoulder")}
    side = j["right_shoulder"] - j["left_shoulder"]  # (M, T, C), one shoulder width long
    up = j["head"] - (j["left_shoulder"] + j["right_shoulder"]) / 2
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9) * np.linalg.norm(side, axis=-1,
                                                                                          keepdims=True)
    face_seen = np.stack([(v != 0).any(axis=-1) for v in j.values()]).all(0)
    out = np.zeros(kp.shape[:2] + (target.num_joints, kp.shape[-1]), np.float32)
    for i, name in enumerate(target.joint_names):
        if name in FACE_OFFSETS:
            a, b = FACE_OFFSETS[name]
            out[:, :, i] = np.where(face_seen[..., None], j["head"] + a * side + b * up, 0.0)
        else:
            out[:, :, i] = kp[:, :, names.index(sources[name])]
    present = (kp != 0).any(axis=(2, 3))  # (M, T)
    return np.where(present[:, :, None, None], out, 0.0).astype(np.float32)


def resample_time(kp: np.ndarray, factor: float) -> np.ndarray:
    """(M, T, V, C) -> (M, round(factor * T), V, C) (at least one frame): the clip as a recording at `factor` x the
    frame rate, each body's coordinates interpolated linearly between neighbouring frames (the nearer frame where
    either is absent, so no half-present body appears)."""
    t = kp.shape[1]
    pos = np.linspace(0, t - 1, max(1, round(factor * t)))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo)[None, :, None, None]
    present = (kp != 0).any(axis=(2, 3))[:, :, None, None]  # (M, T, 1, 1)
    both = present[:, lo] & present[:, hi]
    nearest = np.where(w < 0.5, kp[:, lo], kp[:, hi])
    return np.where(both, kp[:, lo] * (1 - w) + kp[:, hi] * w, nearest).astype(np.float32)


def _fit_length(kp: np.ndarray, t: int) -> np.ndarray:
    """(M, T', V, C) resampled to exactly t frames (the last frame repeated where rounding leaves it short)."""
    kp = resample_time(kp, t / kp.shape[1])[:, :t]
    if kp.shape[1] < t:
        kp = np.concatenate([kp, np.repeat(kp[:, -1:], t - kp.shape[1], axis=1)], axis=1)
    return kp


def _with_partner(kp: np.ndarray, clip, candidates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(1, T, V, C) -> (2, T, V, C): a second performer, another clip of the class resampled to T frames, 1 m to the
    side along x (camera space), as in two-person recordings."""
    if kp.shape[0] != 1 or not len(candidates):
        raise SystemExit("--pair needs single-body clips and at least two clips of every class in each part")
    other = _fit_length(clip(int(rng.choice(candidates))), kp.shape[1])
    shift = np.zeros(kp.shape[-1], np.float32)
    shift[0] = 1.0
    present = (other != 0).any(axis=-1, keepdims=True)
    return np.concatenate([kp, np.where(present, other + shift, 0.0)], axis=0).astype(np.float32)


def _with_bystanders(kp: np.ndarray, clip, candidates: np.ndarray, k: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(M, T, V, C) -> (M + k, T, V, C) and each body's detection confidence (M + k,): k people in the background, as
    a pose estimator also reports them. Each is another clip of the same part (any class) resampled to T frames,
    1.5-3 m to either side and 0-2 m further from the camera, seen in one stretch of 30-90 % of the frames, with a
    confidence of 0.3-0.7 against the performer's 1; the bodies are stored in a random order, so the performer is
    not always the first."""
    t = kp.shape[1]
    bodies, conf = [kp], [np.ones(kp.shape[0], np.float32)]
    for _ in range(k):
        other = _fit_length(clip(int(rng.choice(candidates)))[:1], t)
        shift = np.zeros(kp.shape[-1], np.float32)
        shift[0] = rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 3.0)
        if kp.shape[-1] > 2:
            shift[2] = rng.uniform(0.0, 2.0)
        seen = max(1, round(t * rng.uniform(0.3, 0.9)))
        start = int(rng.integers(0, t - seen + 1))
        window = np.zeros((1, t, 1, 1), bool)
        window[:, start:start + seen] = True
        present = window & (other != 0).any(axis=-1, keepdims=True)
        bodies.append(np.where(present, other + shift, 0.0).astype(np.float32))
        conf.append(np.full(1, rng.uniform(0.3, 0.7), np.float32))
    order = rng.permutation(kp.shape[0] + k)
    return np.concatenate(bodies, axis=0)[order], np.concatenate(conf)[order]


def untrack(ann: dict, conf: np.ndarray, rng: np.random.Generator, jitter: float = 0.1) -> None:
    """Store each frame's bodies in the first slots, in order of that frame's detection confidence (each body's
    `conf` plus N(0, jitter) noise drawn per frame), in place: how a pose estimator run frame by frame without a
    tracker writes them (pyskl's custom_2d_skeleton.py). Two performers scored alike trade slots about every other
    frame."""
    kp = ann["keypoint"]
    m, t = kp.shape[:2]
    present = (kp != 0).any(axis=(2, 3))
    key = np.where(present, -(conf[:, None] + rng.normal(0.0, jitter, (m, t))), np.inf)
    order, frames = np.argsort(key, axis=0, kind="stable"), np.arange(t)
    ann["keypoint"] = kp[order, frames]
    if "keypoint_score" in ann:
        ann["keypoint_score"] = ann["keypoint_score"][order, frames]


def z_up(kp: np.ndarray) -> np.ndarray:
    """3-D keypoints [..., 3] turned a quarter about x, (x, y, z) -> (x, -z, y): y-up clips as a z-up motion-capture
    system writes them."""
    return np.stack([kp[..., 0], -kp[..., 2], kp[..., 1]], axis=-1)


def pad_to_longest(annotations: list[dict]) -> None:
    """Zero-pad every clip (and its keypoint_score) to the longest, in place: how (N, C, T, V, M) arrays store clips."""
    t = max(a["total_frames"] for a in annotations)
    for a in annotations:
        extra = t - a["total_frames"]
        a["keypoint"] = np.pad(a["keypoint"], ((0, 0), (0, extra), (0, 0), (0, 0)))
        if "keypoint_score" in a:
            a["keypoint_score"] = np.pad(a["keypoint_score"], ((0, 0), (0, extra), (0, 0)))
        a["total_frames"] = t


def _to_unit_box(keypoints: list[np.ndarray]) -> None:
    """Rescale every coordinate axis, in place, to [0, 1] over all present joints of all clips."""
    present = [(k != 0).any(axis=-1) for k in keypoints]
    lo = np.min([k[m].min(axis=0) for k, m in zip(keypoints, present) if m.any()], axis=0)
    hi = np.max([k[m].max(axis=0) for k, m in zip(keypoints, present) if m.any()], axis=0)
    for k, m in zip(keypoints, present):
        k[m] = (k[m] - lo) / np.maximum(hi - lo, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prepared")
    ap.add_argument("out", help="output stem: writes OUT.pkl and OUT_layout.yaml")
    ap.add_argument("--train", required=True, help="field=values selecting the training clips, e.g. view=1,2")
    ap.add_argument("--test", required=True, help="field=values selecting the test clips")
    ap.add_argument("--max-train", type=int, default=None, help="keep this many training clips (seeded sample)")
    ap.add_argument("--long-tail", type=float, default=None, metavar="R",
                    help="keep a long-tailed training split: class k of C (label order) keeps a share "
                         "R^(-k/(C-1)) of its clips (seeded; the most frequent R times the least), as collections "
                         "recorded in the wild are; the test split stays as it is")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-2d", action="store_true",
                    help="write 2-D pixel keypoints (pinhole projection of camera-space 3-D) with a keypoint_score "
                         "of ones, as a 2-D pose estimator's output")
    ap.add_argument("--frame-rate", type=float, default=1.0, metavar="K",
                    help="write every clip as recorded at K x its frame rate (K x the frames, interpolated; K < 1 "
                         "for a lower rate)")
    ap.add_argument("--mixed-rate", default=None, metavar="P,K",
                    help="write a seeded share P of the clips as recorded at K x the frame rate, the others as they "
                         "are: a collection from cameras at two frame rates (clip lengths with a long tail)")
    ap.add_argument("--joints", default=None, metavar="J1,J2,...",
                    help="keep these joints (1-based, in this order; the layout follows), as a sensor with fewer "
                         "joints would record")
    ap.add_argument("--pose-layout", choices=sorted(POSE_LAYOUTS), default=None,
                    help="write the clips in a 2-D pose estimator's joint order with that built-in layout (the "
                         "head as the nose, eyes and ears placed around it); with --image-2d, as HRNet / pyskl "
                         "(coco17) or OpenPose / Kinetics-skeleton (openpose18) files store them")
    ap.add_argument("--pair", action="store_true",
                    help="two bodies per clip: the second is another clip of the same class from the same part "
                         "(seeded), resampled to the first's length and standing 1 m to its side along x")
    ap.add_argument("--unit-box", action="store_true",
                    help="rescale every axis to [0, 1] over the whole export (present joints only), as releases "
                         "with normalised coordinates store them")
    ap.add_argument("--miss", type=float, default=0.0, metavar="P",
                    help="write each joint of each frame as (0, 0[, 0]) with probability P (seeded), as the joints "
                         "an OpenPose-style estimator misses")
    ap.add_argument("--bystanders", type=int, default=0, metavar="K",
                    help="add K people in the background of every clip (other clips of the same part, 1.5-3 m to "
                         "the side, seen in part of the frames, lower keypoint_score with --image-2d), the bodies "
                         "stored in a random order: a pose estimator's detections of a filmed scene")
    ap.add_argument("--untracked", type=float, nargs="?", const=0.1, default=None, metavar="SD",
                    help="store each frame's bodies in the first slots by that frame's detection confidence plus "
                         "N(0, SD) noise (default 0.1), as a pose estimator run without a tracker writes them: the "
                         "slots change person")
    ap.add_argument("--z-up", action="store_true",
                    help="write 3-D clips turned a quarter about x, (x, y, z) -> (x, -z, y), as z-up motion capture")
    ap.add_argument("--pad", action="store_true",
                    help="zero-pad every clip to the longest written, as (N, C, T, V, M) arrays store them")
    args = ap.parse_args()
    if args.z_up and args.image_2d:
        raise SystemExit("--z-up turns 3-D clips; --image-2d writes 2-D ones")
    if args.bystanders < 0:
        raise SystemExit(f"--bystanders must be >= 0, got {args.bystanders}")
    if not 0 <= args.miss < 1:
        raise SystemExit(f"--miss must be in [0, 1), got {args.miss}")
    if args.frame_rate <= 0:
        raise SystemExit(f"--frame-rate must be > 0, got {args.frame_rate}")
    mixed = None if args.mixed_rate is None else tuple(float(x) for x in args.mixed_rate.split(","))
    if mixed is not None and (len(mixed) != 2 or not 0 < mixed[0] <= 1 or mixed[1] <= 0):
        raise SystemExit(f"--mixed-rate takes P,K with 0 < P <= 1 and K > 0, got {args.mixed_rate}")
    rng = np.random.default_rng(args.seed + 1)  # the misses' draws (--max-train's sample uses args.seed)
    rate_rng = np.random.default_rng(args.seed + 4)  # --mixed-rate's draws

    p = load_prepared(args.prepared)
    meta = {f: np.asarray(p.meta_fields[f]) for f in p.meta_fields}
    train, test = _select(meta, args.train), _select(meta, args.test)
    if np.intersect1d(train, test).size:
        raise SystemExit(f"--train {args.train} and --test {args.test} share clips")
    if args.max_train and args.max_train < len(train):
        train = np.sort(np.random.default_rng(args.seed).choice(train, args.max_train, replace=False))
    if args.long_tail is not None:
        if args.long_tail < 1:
            raise SystemExit(f"--long-tail takes the ratio of the most to the least frequent class, >= 1, got "
                             f"{args.long_tail}")
        train = long_tail(train, np.asarray(p.labels), args.long_tail, np.random.default_rng(args.seed + 5))
    keep = None if args.joints is None else [int(j) - 1 for j in args.joints.split(",")]
    if keep is not None and (min(keep) < 0 or max(keep) >= p.layout.num_joints or len(set(keep)) < len(keep)):
        raise SystemExit(f"--joints must name distinct joints 1..{p.layout.num_joints}, got {args.joints}")
    if keep is not None and args.pose_layout:
        raise SystemExit("--joints and --pose-layout both choose the joints; give one")
    pose = POSE_LAYOUTS.get(args.pose_layout)
    pair_rng = np.random.default_rng(args.seed + 2)
    crowd_rng = np.random.default_rng(args.seed + 3)
    track_rng = np.random.default_rng(args.seed + 6)  # --untracked's per-frame confidences

    def clip(i: int) -> np.ndarray:
        kp = np.asarray(p.data[i][:, : int(p.lengths[i])]).transpose(3, 1, 2, 0)  # (C, T, V, M) -> (M, T, V, C)
        if pose is not None:
            return to_pose_layout(kp, p.layout, pose)
        return kp[:, :, keep] if keep is not None else kp

    annotations, split = [], {"main_train": [], "main_test": []}
    for part, idx in (("main_train", train), ("main_test", test)):
        for i in idx:
            kp = clip(i)
            if args.pair:
                kp = _with_partner(kp, clip, idx[(p.labels[idx] == p.labels[i]) & (idx != i)], pair_rng)
            conf = np.ones(kp.shape[0], np.float32)
            if args.bystanders:
                kp, conf = _with_bystanders(kp, clip, idx[idx != i], args.bystanders, crowd_rng)
            if args.frame_rate != 1:
                kp = resample_time(kp, args.frame_rate)
            if mixed is not None and rate_rng.random() < mixed[0]:
                kp = resample_time(kp, mixed[1])
            if args.z_up:
                kp = z_up(kp)
            name = f"{p.names[i]}"
            ann = {"frame_dir": name, "label": int(p.labels[i]), "total_frames": kp.shape[1],
                   "keypoint": kp.astype(np.float32)}
            if args.image_2d:
                ann["keypoint"] = project_to_image(kp)
                present = (kp != 0).any(axis=-1)
                ann["keypoint_score"] = np.where(present, conf[:, None, None], 0.0).astype(np.float32)
            if args.miss:
                missed = rng.random(ann["keypoint"].shape[:3]) < args.miss
                ann["keypoint"] = np.where(missed[..., None], 0.0, ann["keypoint"]).astype(np.float32)
                if "keypoint_score" in ann:
                    ann["keypoint_score"] = np.where(missed, 0.0, ann["keypoint_score"]).astype(np.float32)
            if args.untracked is not None:
                untrack(ann, conf, track_rng, args.untracked)
            annotations.append(ann)
            split[part].append(name)
    if args.unit_box:
        _to_unit_box([a["keypoint"] for a in annotations])
    if args.pad:
        pad_to_longest(annotations)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".pkl"), "wb") as f:
        pickle.dump({"split": split, "annotations": annotations, "class_names": list(p.class_names)}, f)
    layout = _layout_yaml(pose) if pose is not None else _layout_yaml(p.layout, keep)
    Path(f"{out}_layout.yaml").write_text(yaml.safe_dump(layout, sort_keys=False))
    print(f"{out}.pkl: {len(train)} train / {len(test)} test clips, {p.num_classes} classes "
          f"(labels present: train {len(np.unique(p.labels[train]))}, test {len(np.unique(p.labels[test]))})")


if __name__ == "__main__":
    main()
