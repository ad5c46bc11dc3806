"""Clips of very different lengths stored back to back, read as if zero-padded to the longest.

A pose estimator's pickle (pyskl's UCF101 / HMDB51, a user's videos) holds clips from a second to minutes long.
Padding every clip to the longest makes the stored array many times larger than the frames it holds (UCF101's
videos last 1 to 71 s, 7 s on average: ten times). The ragged layout keeps only the frames:

    data.npy    float32 (F, C, V, M): every clip's frames, one clip after another
    clips.npy   int64 (N, 2): each clip's first row in data.npy and its number of stored frames

`RaggedClips` reads it with the dense array's indexing (`clips[i]`, `clips[idx]`, `clips[idx, :, :t]`, `.shape`
(N, C, T_max, V, M)), so checks and tests see one kind of array; the loader calls `read(idx, frames)`, which pads
a batch only to its own longest clip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class RaggedClips:
    """A read-only (N, C, T_max, V, M) view of back-to-back clips; see the module docstring."""

    ndim = 5
    dtype = np.dtype(np.float32)

    def __init__(self, frames: np.ndarray, index: np.ndarray, where: str | Path = "ragged clips") -> None:
        check_index(index, len(frames), where)
        self.frames = frames
        self.starts = index[:, 0]
        self.counts = index[:, 1]
        self.t_max = int(self.counts.max()) if len(self.counts) else 0
        _, c, v, m = frames.shape
        self.shape = (len(index), c, self.t_max, v, m)

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, idx: np.ndarray, frames: int | None = None) -> np.ndarray:
        """Clips `idx` as float32 (len(idx), C, T, V, M), zero-padded to `frames` (default: the longest of them)."""
        idx = np.asarray(idx, dtype=np.int64)
        counts = self.counts[idx]
        t = int(counts.max()) if frames is None and len(idx) else int(frames or 0)
        _, c, _, v, m = self.shape
        out = np.zeros((len(idx), c, t, v, m), dtype=np.float32)
        for k in np.argsort(self.starts[idx], kind="stable"):  # file order: sequential reads of a memory map
            s, n = int(self.starts[idx[k]]), min(int(counts[k]), t)
            out[k, :, :n] = self.frames[s : s + n].transpose(1, 0, 2, 3)
        return out

    def __getitem__(self, key):
        rest: tuple = ()
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        if isinstance(key, (int, np.integer)):
            return self.read(np.arange(len(self))[[key]], self.t_max)[(0, *rest)]
        return self.read(np.arange(len(self))[key], self.t_max)[(slice(None), *rest)]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.read(np.arange(len(self)), self.t_max)
        return out if dtype is None else out.astype(dtype)


def check_index(index: np.ndarray, rows: int, where: str | Path) -> None:
    """Every clip lies inside the frame array and holds at least one frame: a truncated or mismatched `clips.npy`
    fails here, naming the file, instead of reading zeros or another clip's frames."""
    if index.ndim != 2 or index.shape[1] != 2 or not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"{where}: clips.npy must be int64 (N, 2) [first row, frames]; got {index.dtype} "
                         f"{index.shape}")
    starts, counts = index[:, 0], index[:, 1]
    bad = np.flatnonzero((counts < 1) | (starts < 0) | (starts + counts > rows))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{where}: clip {i} claims rows {int(starts[i])}..{int(starts[i] + counts[i]) - 1} of a "
                         f"frame array with {rows} rows")
