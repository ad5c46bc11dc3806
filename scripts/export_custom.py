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


def _select(meta: dict, spec: str) -> np.ndarray:
    """Indices whose metadata field is in the given values: 'view=1,2' or 'subject=3'."""
    field, values = spec.split("=")
    wanted = {int(v) for v in values.split(",")}
    return np.flatnonzero(np.isin(meta[field], list(wanted)))


def _layout_yaml(layout) -> dict:
    """The layout in the user-facing YAML form (1-based joint numbers, bone = [joint, parent])."""
    one = [[int(a) + 1, int(b) + 1] for a, b in layout.bones]
    out = {"name": f"{layout.name}_custom", "num_joints": layout.num_joints, "one_based": True,
           "center": layout.center + 1, "bones": one, "pairs": [[a + 1, b + 1] for a, b in layout.pairs],
           "parts": [[j + 1 for j in part] for part in layout.parts]}
    if layout.shoulders is not None:
        out["shoulders"] = [s + 1 for s in layout.shoulders]
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


def resample_time(kp: np.ndarray, factor: int) -> np.ndarray:
    """(M, T, V, C) -> (M, factor * T, V, C): the clip as a recording at `factor` x the frame rate, each body's
    coordinates interpolated linearly between neighbouring frames (the nearer frame where either is absent, so no
    half-present body appears)."""
    t = kp.shape[1]
    pos = np.linspace(0, t - 1, factor * t)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo)[None, :, None, None]
    present = (kp != 0).any(axis=(2, 3))[:, :, None, None]  # (M, T, 1, 1)
    both = present[:, lo] & present[:, hi]
    nearest = np.where(w < 0.5, kp[:, lo], kp[:, hi])
    return np.where(both, kp[:, lo] * (1 - w) + kp[:, hi] * w, nearest).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prepared")
    ap.add_argument("out", help="output stem: writes OUT.pkl and OUT_layout.yaml")
    ap.add_argument("--train", required=True, help="field=values selecting the training clips, e.g. view=1,2")
    ap.add_argument("--test", required=True, help="field=values selecting the test clips")
    ap.add_argument("--max-train", type=int, default=None, help="keep this many training clips (seeded sample)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-2d", action="store_true",
                    help="write 2-D pixel keypoints (pinhole projection of camera-space 3-D) with a keypoint_score "
                         "of ones, as a 2-D pose estimator's output")
    ap.add_argument("--frame-rate", type=int, default=1, metavar="K",
                    help="write every clip as recorded at K x its frame rate (K x the frames, interpolated)")
    ap.add_argument("--miss", type=float, default=0.0, metavar="P",
                    help="write each joint of each frame as (0, 0[, 0]) with probability P (seeded), as the joints "
                         "an OpenPose-style estimator misses")
    args = ap.parse_args()
    if not 0 <= args.miss < 1:
        raise SystemExit(f"--miss must be in [0, 1), got {args.miss}")
    if args.frame_rate < 1:
        raise SystemExit(f"--frame-rate must be an integer >= 1, got {args.frame_rate}")
    rng = np.random.default_rng(args.seed + 1)  # the misses' draws (--max-train's sample uses args.seed)

    p = load_prepared(args.prepared)
    meta = {f: np.asarray(p.meta_fields[f]) for f in p.meta_fields}
    train, test = _select(meta, args.train), _select(meta, args.test)
    if np.intersect1d(train, test).size:
        raise SystemExit(f"--train {args.train} and --test {args.test} share clips")
    if args.max_train and args.max_train < len(train):
        train = np.sort(np.random.default_rng(args.seed).choice(train, args.max_train, replace=False))
    annotations, split = [], {"main_train": [], "main_test": []}
    for part, idx in (("main_train", train), ("main_test", test)):
        for i in idx:
            n = int(p.lengths[i])
            kp = np.asarray(p.data[i][:, :n]).transpose(3, 1, 2, 0)  # (C, T, V, M) -> (M, T, V, C)
            if args.frame_rate > 1:
                kp = resample_time(kp, args.frame_rate)
            name = f"{p.names[i]}"
            ann = {"frame_dir": name, "label": int(p.labels[i]), "total_frames": kp.shape[1],
                   "keypoint": kp.astype(np.float32)}
            if args.image_2d:
                ann["keypoint"] = project_to_image(kp)
                ann["keypoint_score"] = np.ones(kp.shape[:3], np.float32)
            if args.miss:
                missed = rng.random(ann["keypoint"].shape[:3]) < args.miss
                ann["keypoint"] = np.where(missed[..., None], 0.0, ann["keypoint"]).astype(np.float32)
                if "keypoint_score" in ann:
                    ann["keypoint_score"] = np.where(missed, 0.0, ann["keypoint_score"]).astype(np.float32)
            annotations.append(ann)
            split[part].append(name)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".pkl"), "wb") as f:
        pickle.dump({"split": split, "annotations": annotations, "class_names": list(p.class_names)}, f)
    Path(f"{out}_layout.yaml").write_text(yaml.safe_dump(_layout_yaml(p.layout), sort_keys=False))
    print(f"{out}.pkl: {len(train)} train / {len(test)} test clips, {p.num_classes} classes "
          f"(labels present: train {len(np.unique(p.labels[train]))}, test {len(np.unique(p.labels[test]))})")


if __name__ == "__main__":
    main()
