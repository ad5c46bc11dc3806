"""Which stored body is which person from frame to frame, for pickles written without tracking.

A pose estimator run frame by frame (pyskl's `custom_2d_skeleton.py` is the common example) stores the j-th
detection of each frame in body slot j: slot 0 is whoever the detector scored highest in that frame. Two performers
of an interaction, scored alike, trade slots from one frame to the next, and a passer-by takes the performer's slot
whenever the detector prefers it; every encoder then reads a slot's motion across frames as one body's, and sees
joints jump between two people. Such a clip shows itself by its storage: every frame's bodies in its first slots,
and a slot that moves `JUMP` body sizes or more between two frames (a slot that never moves that far cannot have
changed between two people who do not overlap). Its slots are re-linked into tracks before the bodies are ranked
(`skelcl.data.bodies`). Any other clip is left as stored: tracked data leaves a person's slot empty while they are
out of view, and raw depth-sensor skeletons jump by a body size or more in one frame now and then (N-UCLA: 1 % of
clips), which re-linking could split into two tracks.

Frame by frame, the bodies present are assigned to the slots (an optimal assignment) so that each lands nearest, in
body sizes, to where its slot's person was last seen; a slot no one has used yet costs one body size, so a newcomer
far from every known person starts its own track instead of taking over a person who is out of view. The stored
slot costs a tenth of a body size less, so two people about as close to either track keep their stored slots; a
detector's swap moves a slot by the distance between two people. The tracks replace the stored slots only if they
move at most half as much from frame to frame, summed over the clip (`MOTION_SHARE`): bodies that no assignment
tells apart (people overlapping, or keypoints as noisy as the distance between them) stay as stored.
"""

from __future__ import annotations

import numpy as np

#: the version of the re-linking below, part of a converted pickle's cache key: raise it when the result changes
LINK_VERSION = 1
#: the cost, in body sizes, of starting a track in a slot that has not been used yet
NEW_TRACK_COST = 1.0
#: the discount, in body sizes, for keeping a body in the slot it was stored in
KEEP_STORED_DISCOUNT = 0.1
#: a clip whose every slot moves less than this many body sizes from one frame to the next is taken as tracked
JUMP = 0.2
#: the tracks are kept only if their slots move at most this share of what the stored slots move, frame to frame
#: (summed): swaps add the distance between two people twice; bodies a linker cannot tell apart add nothing to remove
MOTION_SHARE = 0.5


def clip_body_size(keypoint: np.ndarray, seen: np.ndarray) -> float:
    """The median over bodies and frames of the largest extent of the seen joints ((M, T, V, C), (M, T, V)); frames
    with fewer than two joints seen are left out; 1.0 when no frame has two."""
    lo = np.where(seen[..., None], keypoint, np.inf).min(axis=2)
    hi = np.where(seen[..., None], keypoint, -np.inf).max(axis=2)
    extent = (hi - lo).max(axis=-1)[seen.sum(-1) >= 2]
    extent = extent[extent > 0]
    return float(np.median(extent)) if extent.size else 1.0


def pose_distance(a: np.ndarray, a_seen: np.ndarray, b: np.ndarray, b_seen: np.ndarray) -> np.ndarray:
    """Distance between poses (..., V, C) with seen-joint masks (..., V), broadcast: the mean distance over the joints
    seen in both, else the distance between the centroids of what each saw."""
    both = a_seen & b_seen
    shared = both.sum(-1)
    mean = np.where(both, np.linalg.norm(a - b, axis=-1), 0.0).sum(-1) / np.maximum(shared, 1)

    def centroid(x, seen):
        return np.where(seen[..., None], x, 0.0).sum(-2) / np.maximum(seen.sum(-1), 1)[..., None]

    return np.where(shared > 0, mean, np.linalg.norm(centroid(a, a_seen) - centroid(b, b_seen), axis=-1))


def packed(present: np.ndarray) -> bool:
    """(M, T) body presence: does every frame store its bodies in the first slots, as a detector's list of that frame
    is written? A tracked clip leaves a person's slot empty while they are out of view, whoever else is seen."""
    return bool((present[:-1] >= present[1:]).all())


def slot_moves(keypoint: np.ndarray, seen: np.ndarray, size: float) -> np.ndarray:
    """Every move, in body sizes, of every slot between two frames it is present in one after the other (frames
    without it in between skipped)."""
    moves = [np.zeros(0)]
    for slot, found in zip(keypoint, seen):
        frames = np.flatnonzero(found.any(-1))
        a, b = frames[:-1], frames[1:]
        moves.append(pose_distance(slot[a], found[a], slot[b], found[b]) / size)
    return np.concatenate(moves)


def _costs(poses: np.ndarray, seen: np.ndarray, last: np.ndarray, last_seen: np.ndarray, used: np.ndarray,
           bodies: np.ndarray, size: float) -> np.ndarray:
    """(B, M) cost of putting each present body in each slot: `pose_distance` to the slot's last pose, in body
    sizes; NEW_TRACK_COST for an unused slot; KEEP_STORED_DISCOUNT less for the slot the body was stored in."""
    cost = pose_distance(poses[:, None], seen[:, None], last[None], last_seen[None]) / size
    cost[:, ~used] = NEW_TRACK_COST
    cost[np.arange(len(bodies)), bodies] -= KEEP_STORED_DISCOUNT
    return cost


def link_tracks(keypoint: np.ndarray) -> np.ndarray:
    """(M, T, V, C) keypoints -> (T, M) stored body index for each slot and frame, so that
    `keypoint[order.T, arange(T)]` holds one person per slot. A joint is seen where any coordinate is non-zero;
    a body is present in a frame where any of its joints is seen."""
    from scipy.optimize import linear_sum_assignment

    m, t, v, c = keypoint.shape
    stored_order = np.tile(np.arange(m), (t, 1))
    if m < 2:
        return stored_order
    seen = (keypoint != 0).any(-1)  # (M, T, V)
    present = seen.any(-1)  # (M, T)
    if not packed(present):  # a tracker's storage: nothing more to measure
        return stored_order
    size = clip_body_size(keypoint, seen)
    stored = slot_moves(keypoint, seen, size)
    if stored.max(initial=0.0) < JUMP:
        return stored_order
    order = stored_order.copy()
    last = np.zeros((m, v, c), dtype=np.float64)
    last_seen = np.zeros((m, v), dtype=bool)
    used = np.zeros(m, dtype=bool)
    for f in range(t):
        bodies = np.flatnonzero(present[:, f])
        if bodies.size == 0:
            continue
        poses = keypoint[bodies, f].astype(np.float64)
        found = seen[bodies, f]
        rows, slots = linear_sum_assignment(_costs(poses, found, last, last_seen, used, bodies, size))
        free = np.ones(m, dtype=bool)
        free[slots] = False
        order[f, slots] = bodies[rows]  # every present body gets a slot (B <= M); the absent fill the rest
        order[f, free] = np.flatnonzero(~present[:, f])
        for r, s in zip(rows, slots):  # a joint missed this frame keeps where it was last seen
            last[s, found[r]] = poses[r, found[r]]
            last_seen[s] |= found[r]
        used[slots] = True
    frames = np.arange(t)
    linked = slot_moves(keypoint[order.T, frames], seen[order.T, frames], size)
    return order if linked.sum() <= MOTION_SHARE * stored.sum() else stored_order


def relink(keypoint: np.ndarray, score: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(M, T, V, C) keypoints [and (M, T, V) scores] with each slot holding one person throughout (`link_tracks`),
    and whether anything moved."""
    order = link_tracks(keypoint)
    if (order == np.arange(keypoint.shape[0])).all():
        return keypoint, score, False
    frames = np.arange(keypoint.shape[1])
    kp = keypoint[order.T, frames]
    return kp, (None if score is None else score[order.T, frames]), True
