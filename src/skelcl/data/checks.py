"""Warnings about data that opens cleanly but is probably not what the user meant: class ids no clip uses, bodies
standing along an axis other than y, a third coordinate that is not depth. Each names the file and the fix; none
stops the run (the data may be right after all)."""

from __future__ import annotations

import logging

import numpy as np

from skelcl.data.formats import PreparedDataset

log = logging.getLogger("skelcl.data")

AXES = "xyz"


def warn_label_gaps(ds: PreparedDataset) -> list[int]:
    """Warn about class ids in 0..num_classes-1 that no sample has (often 1-based labels or a wrong num_classes);
    returns them."""
    counts = np.bincount(ds.labels, minlength=ds.num_classes)
    empty = np.flatnonzero(counts == 0).tolist()
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (f" and {len(empty) - 10} more" if len(empty) > 10 else "")
        log.warning("%s: %d of %d classes have no sample (class ids %s); labels must be 0-based ids 0..%d: check "
                    "dataset.num_classes and the labels", ds.origin, len(empty), ds.num_classes, shown,
                    ds.num_classes - 1)
    return empty


def _sample(ds: PreparedDataset, sample: int) -> np.ndarray:
    """Up to `sample` clips spread evenly over the file, as float32 (N, C, T, V, M)."""
    idx = np.unique(np.linspace(0, len(ds.data) - 1, min(sample, len(ds.data))).astype(int))
    return np.asarray(ds.data[idx], dtype=np.float32)


def body_extents(clips: np.ndarray) -> np.ndarray:
    """Median extent (max - min over the joints) of the first body along each axis, over the frames in which it is
    present; clips (N, C, T, V, M). A person is taller than wide or deep in almost every frame of every action, so
    the largest extent names the vertical axis."""
    body = clips[..., 0]  # (N, C, T, V)
    present = (body != 0).any(axis=(1, 3))  # (N, T)
    spans = body.max(axis=3) - body.min(axis=3)  # (N, C, T)
    return np.median(spans.transpose(1, 0, 2)[:, present], axis=1)


def warn_coordinates(ds: PreparedDataset, sample: int = 256) -> None:
    """Both coordinate checks on one sample of clips (read once from the memory-mapped file)."""
    if ds.data.shape[1] != 3 or len(ds.data) == 0:
        return
    clips = _sample(ds, sample)
    warn_vertical_axis(ds, clips=clips)
    warn_not_depth(ds, clips=clips)


def warn_vertical_axis(ds: PreparedDataset, sample: int = 256, clips: np.ndarray | None = None) -> int | None:
    """Warn when 3-D bodies stand along an axis other than y (e.g. z-up motion capture): the view normalisation
    (`dataset.normalize=sequence`, `align_shoulders`) rotates about y and the rotation views assume y is vertical.
    Only a clearly taller axis (1.5x y's extent; a standing person is 3x taller than wide) is warned about, so that
    figures with no dominant axis (random test data, people lying down) pass. Returns the tallest axis (None for
    2-D data). `clips`: a sample already drawn by `_sample`."""
    if ds.data.shape[1] != 3 or len(ds.data) == 0:
        return None
    extents = body_extents(_sample(ds, sample) if clips is None else clips)
    axis = int(np.argmax(extents))
    if axis != 1 and extents[axis] > 1.5 * extents[1]:
        shown = " / ".join(f"{AXES[i]} {e:.3g}" for i, e in enumerate(extents))
        log.warning("%s: the bodies are tallest along %s (median extent %s), but skelcl takes y as the vertical "
                    "axis (the per-clip view normalisation and the rotation views turn about it): reorder the "
                    "coordinates so that y points up or down, e.g. (x, y, z) -> (x, z, y)", ds.origin, AXES[axis],
                    shown)
    return axis


def warn_not_depth(ds: PreparedDataset, sample: int = 256, clips: np.ndarray | None = None) -> str | None:
    """Warn when the third of three coordinates is not depth: constant over every body's joints (2-D keypoints
    padded with a zero or a one), or within [0, 1] while x / y span pixels (a pose estimator's (x, y, score)).
    Coordinates all normalised to [0, 1] (SBU Kinect Interaction's release, depth included) are not flagged.
    skelcl reads C = 3 as x, y, z: the rotation views and the per-clip turn would mix that channel into the
    coordinates, and 2-D clips would miss the 2-D views. Returns "constant", "score" or None. `clips`: a sample
    already drawn by `_sample`."""
    if ds.data.shape[1] != 3 or len(ds.data) == 0:
        return None
    clips = _sample(ds, sample) if clips is None else clips
    body = clips[..., 0]  # (N, C, T, V)
    present = (body != 0).any(axis=(1, 3))  # (N, T)
    depth = body[:, 2][present]  # (frames present, V)
    if depth.size == 0:
        return None
    extents = body_extents(clips)
    if float(np.ptp(depth)) == 0.0:
        kind, what = "constant", f"is {float(depth.flat[0]):g} for every joint of every body"
    elif depth.min() >= 0 and depth.max() <= 1 and max(extents[0], extents[1]) > max(2.0, 4 * extents[2]):
        kind, what = "score", (f"lies in [0, 1] (median extent {extents[2]:.3g}) while x / y span {extents[0]:.3g} / "
                               f"{extents[1]:.3g}: it looks like a detection score, not depth")
    else:
        return None
    log.warning("%s: the third coordinate %s. skelcl reads three coordinates as x, y, z (depth); for 2-D keypoints "
                "write `keypoint` as [M, T, V, 2] (a separate `keypoint_score` is not read), so that the 2-D views "
                "apply", ds.origin, what)
    return kind
