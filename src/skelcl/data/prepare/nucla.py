"""N-UCLA (Northwestern-UCLA Multiview Action3D), CTR-GCN `all_sqe` JSON release -> prepared dataset.

Each `<name>.json` holds `file_name` (= the stem), `skeletons` (T frames x 20 joints x [x, y, z], Kinect v1
camera space, one person) and `label` (1..10). Names are `aAA_sSS_eEE_vVV`; the label must agree with the
action code (a01..a06 -> 1..6, a08 -> 7, a09 -> 8, a11 -> 9, a12 -> 10). Stored label = label - 1, layout
`kinect20`, M = 1, per-sample metadata subject = SS and view = VV.

Splits: `xview_train` = views 1 + 2, `xview_test` = view 3 (the standard N-UCLA protocol), plus
leave-one-view-out `view{k}_train` (the other two views) / `view{k}_test` (view k), k = 1, 2, 3
(`view3_*` equals `xview_*`). Clips shorter than `min_frames` (2) are dropped with a warning and a summary
line: in the release these are exactly `a02_s09_e04_v02` and `a02_s09_e04_v03` (1 frame each), giving
1,019 / 463 (the variant used by Predict & Cluster). `min_frames=1` keeps them (1,020 / 464).

Frames are stored raw (T_max = the longest clip, or `max_frames`), or with `normalize='frame50'` through
the frame50 pipeline using the kinect20 joints (centre = shoulder centre, length from hip centre,
shoulders 5/9): an adaptation, the reference methods publish no N-UCLA preprocessing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from skelcl.data.formats import PreparedWriter
from skelcl.data.layouts import KINECT20
from skelcl.data.names import ACTIONS, NuclaName, parse_nucla_name
from skelcl.data.normalize import EmptySequenceError, frame50, layout_joints
from skelcl.data.prepare.common import RawFormatError, check_options, parallel_map
from skelcl.data.prepared_dir import Summary, check_output, finish

log = logging.getLogger("skelcl.data.prepare")

NUM_JOINTS = 20

ACTION_NAMES = ("pick up with one hand", "pick up with two hands", "drop trash", "walk around", "sit down",
                "stand up", "donning", "doffing", "throw", "carry")  # names unverified
def read_clip(path: str | Path) -> tuple[NuclaName, np.ndarray]:
    """Parse and validate one JSON clip. Returns (name, skeletons (T, 20, 3) float32)."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise RawFormatError(f"{path}:{e.lineno}: invalid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(obj, dict):
        raise RawFormatError(f"{path}: expected a JSON object, got {type(obj).__name__}")
    for key in ("file_name", "skeletons", "label"):
        if key not in obj:
            raise RawFormatError(f"{path}: missing field '{key}' (has {sorted(obj)})")
    if obj["file_name"] != path.stem:
        raise RawFormatError(f"{path}: file_name '{obj['file_name']}' differs from the file name")
    try:
        name = parse_nucla_name(path.stem)
    except ValueError as e:
        raise RawFormatError(f"{path}: {e}") from None
    label = obj["label"]
    if not isinstance(label, int) or isinstance(label, bool) or not 1 <= label <= len(ACTIONS):
        raise RawFormatError(f"{path}: label {label!r} is out of range 1..{len(ACTIONS)}")
    if label - 1 != name.label:
        raise RawFormatError(f"{path}: label {label} does not match action a{name.action:02d} "
                             f"(expected {name.label + 1})")
    try:
        x = np.asarray(obj["skeletons"], dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise RawFormatError(f"{path}: 'skeletons' is not a numeric (T, 20, 3) array: {e}") from None
    if x.size == 0:
        x = x.reshape(0, NUM_JOINTS, 3)
    if x.ndim != 3 or x.shape[1:] != (NUM_JOINTS, 3):
        raise RawFormatError(f"{path}: 'skeletons' has shape {x.shape}, expected (T, {NUM_JOINTS}, 3)")
    if not np.isfinite(x).all():
        t, j, c = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise RawFormatError(f"{path}: non-finite coordinate in frame {t + 1}, joint {j + 1}, axis {'xyz'[c]}")
    return name, x.astype(np.float32)


@dataclass(frozen=True)
class Options:
    min_frames: int = 2
    normalize: str = "none"
    frames: int = 50


def process_file(path: str, opts: Options) -> tuple:
    """Worker: ('ok', name, clip (3, T, 20, 1), source frames) | ('skip', reason) | ('error', msg)."""
    try:
        name, x = read_clip(path)
    except RawFormatError as e:
        return ("error", str(e))
    except OSError as e:
        return ("error", f"{path}: cannot read: {e}")
    t = len(x)
    if t == 0:
        return ("skip", "empty sequence: 0 frames")
    if t < opts.min_frames:
        return ("skip", f"too short: only {t} frame{'s' if t > 1 else ''} (< min_frames={opts.min_frames})")
    clip = x.transpose(2, 0, 1)[..., None]  # (3, T, 20, 1)
    if opts.normalize == "frame50":
        try:
            clip, _ = frame50(clip, opts.frames, **layout_joints(KINECT20))
        except EmptySequenceError as e:
            return ("skip", f"frame50: {e}")
    return ("ok", name, np.ascontiguousarray(clip), t)


def view_splits(views: list[int]) -> dict[str, list[int]]:
    v = np.asarray(views)
    splits = {"xview_train": np.flatnonzero(v != 3).tolist(), "xview_test": np.flatnonzero(v == 3).tolist()}
    for k in (1, 2, 3):
        splits[f"view{k}_train"] = np.flatnonzero(v != k).tolist()
        splits[f"view{k}_test"] = np.flatnonzero(v == k).tolist()
    return splits


def prepare_nucla(raw: str | Path, out: str | Path, *, min_frames: int = 2, max_frames: int | None = None,
                  normalize: str = "none", frames: int = 50, on_error: str = "raise", workers: int | None = None,
                  overwrite: bool = False, progress: bool = True, echo: bool = True) -> Path:
    """Prepare N-UCLA from the `all_sqe` folder of JSON files."""
    check_options(normalize, on_error)
    raw = Path(raw)
    if not raw.is_dir():
        raise FileNotFoundError(f"{raw}: N-UCLA directory (all_sqe) not found")
    files = sorted(raw.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"{raw}: no .json clips found")
    out = check_output(out, overwrite)
    opts = Options(int(min_frames), normalize, int(frames))
    summary = Summary("nucla", [raw], {"min_frames": min_frames, "max_frames": max_frames, "normalize": normalize,
                                       "frames": frames if normalize == "frame50" else None, "on_error": on_error})
    kept = []
    with parallel_map(partial(process_file, opts=opts), [str(f) for f in files], workers, "nucla .json",
                      progress) as results:
        for path, res in zip(files, results):
            if res[0] == "error":
                if on_error == "raise":
                    raise RawFormatError(res[1])
                summary.skip(path, f"malformed: {res[1]}")
            elif res[0] == "skip":
                summary.skip(path, res[1])
            else:
                kept.append((path.stem, *res[1:]))
    if not kept:
        raise RawFormatError(f"{raw}: no usable clips ({len(summary.skipped)} skipped)")
    longest = max(c.shape[1] for _, _, c, _ in kept)
    t_max = longest if max_frames is None else min(int(max_frames), longest)
    if normalize == "frame50":
        t_max = int(frames)
    cut = sum(c.shape[1] > t_max for _, _, c, _ in kept)
    if cut:
        summary.note(f"{cut} clips longer than {t_max} frames were cut to their first {t_max} (--max-frames)")
    views, source_lengths = [], []
    with PreparedWriter(out, len(kept), t_max, KINECT20, 1, name="nucla") as w:
        for i, (stem, name, clip, t) in enumerate(kept):
            clip = clip[:, :t_max]
            w.write(i, clip, name.label, stem, clip.shape[1], subject=name.subject, view=name.view)
            views.append(name.view)
            source_lengths.append(t)
        splits = view_splits(views)
        dropped = [s["file"] for s in summary.skipped]
        if dropped:
            summary.note(f"variant: {len(splits['xview_train'])} train / {len(splits['xview_test'])} test clips "
                         f"after dropping {len(dropped)} clip(s)", warn=False)
        return finish(w, len(kept), splits, len(ACTIONS), summary, source_lengths, len(files),
                      list(ACTION_NAMES), {"kind": "nucla-json", "min_frames": min_frames}, echo)
