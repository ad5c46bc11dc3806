"""Which bodies of a clip to keep when a pose estimator reports more people than the performers.

A pickle written from video (HRNet / pyskl / OpenPose) holds every person the detector saw: the performers and
whoever stood in the background. Every encoder takes a fixed number of body slots (M, the largest count in the
dataset) and ST-GCN averages over them, so one crowded clip would give every clip that many mostly empty slots,
and a background person stored first would become the body the per-clip normalisation centres and scales on.
Bodies are therefore ranked by how much of them was seen, weighted by the detector's confidence where the pickle
has a `keypoint_score` (its summed score over the joints it found, else the number of joints found over the clip),
most first; at most `max_bodies` are kept (2: the NTU convention and pyskl's `num_person`), and a body beyond the
first only if it was seen at least `min_share` (default one half) as much as the first: two performers of an
interaction are both in view most of the clip, a passer-by or a detector's stray box is not.
"""

from __future__ import annotations

import numpy as np

from skelcl.config import MAX_BODIES, MIN_BODY_SHARE


def body_weights(keypoint: np.ndarray, score: np.ndarray | None = None) -> np.ndarray:
    """(M, T, V, C) keypoints [and (M, T, V) scores] -> (M,): how much of each body was seen. A joint counts where
    any of its coordinates is non-zero (missed joints are written as 0), weighted by its score when given."""
    seen = (keypoint != 0).any(axis=-1)
    if score is None:
        return seen.sum(axis=(1, 2)).astype(np.float64)
    return np.where(seen, score, 0.0).sum(axis=(1, 2), dtype=np.float64)


def rank_bodies(keypoint: np.ndarray, score: np.ndarray | None = None, max_bodies: int | None = MAX_BODIES,
                min_share: float = MIN_BODY_SHARE) -> np.ndarray:
    """Indices of the bodies to keep, the most seen first (ties keep their stored order): at most `max_bodies`
    (None: no limit), and after the first only those seen at all and at least `min_share` as much as it."""
    weights = body_weights(keypoint, score)
    order = np.argsort(-weights, kind="stable")
    rest = weights[order[1:]]
    order = order[: 1 + int(((rest >= min_share * weights[order[0]]) & (rest > 0)).sum())]
    return order if max_bodies is None else order[:max_bodies]
