"""Checks of data that opens cleanly but is probably not what the user meant: class ids no clip uses, a third
coordinate that is not depth (warnings naming the file and the fix; none stops the run: the data may be right after
all), and the axis the bodies stand along (z-up motion capture is turned upright, `resolve_vertical_axis`)."""

from __future__ import annotations

import logging

import numpy as np

from skelcl.config import VERTICAL_AXES
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


def warn_coordinates(ds: PreparedDataset, vertical_axis: str = "auto", sample: int = 256) -> int:
    """Both coordinate checks on one sample of clips (read once from the memory-mapped file); returns the axis the
    bodies stand along (`resolve_vertical_axis`)."""
    if ds.data.shape[1] != 3 or len(ds.data) == 0:
        return resolve_vertical_axis(ds, vertical_axis, tallest=None)
    clips = _sample(ds, sample)
    warn_not_depth(ds, clips=clips)
    return resolve_vertical_axis(ds, vertical_axis, tallest=tallest_axis(ds, clips=clips))


def warn_no_shoulders(ds: PreparedDataset, normalize: str) -> bool:
    """Warn when 3-D clips get the per-clip normalisation but the layout names no shoulders: the turn to face +x,
    what makes clips filmed from different sides alike, is skipped and the clips are only centred and scaled."""
    unturned = normalize == "sequence" and ds.data.shape[1] == 3 and ds.layout.shoulders is None
    if unturned:
        log.warning("%s: layout '%s' names no shoulders, so dataset.normalize=sequence only centres and scales the "
                    "clips and does not turn them to face +x: add `shoulders: [left, right]` to the layout",
                    ds.origin, ds.layout.name)
    return unturned


def tallest_axis(ds: PreparedDataset, sample: int = 256, clips: np.ndarray | None = None) -> int | None:
    """The axis 3-D bodies clearly stand along: the largest median extent when it is 1.5x y's (a standing person is
    3x taller than wide), else y, so that figures with no dominant axis (random test data, people lying down) stay
    as stored. None for 2-D data. `clips`: a sample already drawn by `_sample`."""
    if ds.data.shape[1] != 3 or len(ds.data) == 0:
        return None
    extents = body_extents(_sample(ds, sample) if clips is None else clips)
    axis = int(np.argmax(extents))
    return axis if extents[axis] > 1.5 * extents[1] else 1


def resolve_vertical_axis(ds: PreparedDataset, setting: str, tallest: int | None) -> int:
    """The axis (0-2) the clips' bodies stand along, which the model input turns to y (the axis the per-clip view
    normalisation and the rotation views turn about): `dataset.vertical_axis` x / y / z as given (a warning when the
    bodies are clearly taller along another), `auto` the tallest axis (`tallest_axis`; y when none is clearly
    tallest). 2-D clips stand along y (image rows)."""
    if setting not in VERTICAL_AXES:
        raise ValueError(f"{ds.origin}: dataset.vertical_axis={setting!r}: choose one of {list(VERTICAL_AXES)}")
    if tallest is None:  # 2-D (or no clips)
        if setting not in ("auto", "y"):
            raise ValueError(f"{ds.origin}: dataset.vertical_axis={setting} needs 3-D clips; these are 2-D (x, y): "
                             "leave it at auto or y")
        return 1
    axis = tallest if setting == "auto" else AXES.index(setting)
    if axis != tallest:
        log.warning("%s: the bodies are tallest along %s, but dataset.vertical_axis=%s: the per-clip view "
                    "normalisation and the rotation views will turn about %s (dataset.vertical_axis=auto follows the "
                    "data)", ds.origin, AXES[tallest], setting, setting)
    elif setting == "auto" and axis != 1:  # a warning: data of people mostly lying down would be turned too
        log.warning("%s: the bodies stand along %s: the model input turns them a quarter to stand along y, the axis "
                    "the view normalisation and the rotation views turn about (dataset.vertical_axis=y keeps them as "
                    "stored, e.g. if they mostly lie down)", ds.origin, AXES[axis])
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
                "write `keypoint` as [M, T, V, 2] (a separate `keypoint_score` only ranks the bodies), so that the "
                "2-D views apply", ds.origin, what)
    return kind
