"""pyskl's compressed pose annotations (`custom_2d_skeleton.py --compress`), expanded to body slots.

A compressed annotation stores one row per detection instead of a [M, T, V, C] array: `keypoint` [N, V, C + 1] with
the detector's keypoint score as the last channel, and `frame_inds` [N], the 0-based frame of each row (optionally
`anno_inds`, the rows to use). Expanded as pyskl's `DecompressPose` does without squeezing: the j-th detection of a
frame goes to body slot j, M is the most detections in one frame, and frames without a detection stay empty (they
are real time; the conversion drops only the empty frames before the first and after the last detection). The slots
then change person as the detector's order does; the conversion re-links them (`skelcl.data.tracks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from skelcl.data.formats import DataFormatError


def expand(path: Path, fd: str, ann: Mapping) -> dict:
    """The annotation with `keypoint` [M, T, V, C], `keypoint_score` [M, T, V] and `total_frames` T."""
    kp = np.asarray(ann["keypoint"])
    inds = np.asarray(ann["frame_inds"])
    if ann.get("anno_inds") is not None:
        rows = np.asarray(ann["anno_inds"])
        kp, inds = kp[rows], inds[rows]
    if kp.ndim != 3 or kp.shape[-1] < 3:
        raise DataFormatError(f"{path}: {fd}: a compressed annotation (with frame_inds) needs keypoint [N, V, C + 1] "
                              f"(coordinates, then the keypoint score), got shape {kp.shape}")
    if inds.shape != kp.shape[:1] or not np.issubdtype(inds.dtype, np.integer):
        raise DataFormatError(f"{path}: {fd}: frame_inds must be {kp.shape[0]} integer frame numbers, one per "
                              f"keypoint row, got {inds.dtype} {inds.shape}")
    inds = inds.astype(np.int64)
    frames = int(ann.get("total_frames", inds.max() + 1 if inds.size else 0))
    if inds.size and (inds.min() < 0 or inds.max() >= frames):
        raise DataFormatError(f"{path}: {fd}: frame_inds run from {inds.min()} to {inds.max()} but total_frames = "
                              f"{frames}: they must be 0-based frame numbers below total_frames (1-based ones: "
                              "subtract 1)")
    counts = np.bincount(inds, minlength=frames)
    order = np.argsort(inds, kind="stable")
    slot = np.empty_like(inds)
    slot[order] = np.arange(inds.size) - (np.cumsum(counts) - counts)[inds[order]]  # rank within its frame
    bodies = int(counts.max(initial=0))
    keypoint = np.zeros((bodies, frames) + kp.shape[1:-1] + (kp.shape[-1] - 1,), dtype=np.float32)
    score = np.zeros((bodies, frames, kp.shape[1]), dtype=np.float32)
    keypoint[slot, inds] = kp[..., :-1]
    score[slot, inds] = kp[..., -1]
    return {**ann, "keypoint": keypoint, "keypoint_score": score, "total_frames": frames}
