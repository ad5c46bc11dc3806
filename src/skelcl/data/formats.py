"""The prepared-dataset format: one directory every dataset is turned into, and the only thing loaders read.

    <root>/
      meta.json     format tag, version, dataset name, layout (name or full definition), num_classes,
                    class_names, shape [N, C, T_max, V, M], split sizes, free-form `source` notes
      data.npy      float32 (N, C, T_max, V, M), zero-padded after each sample's last valid frame; or, with
                    `"storage": "ragged"` in meta.json (version 2), float32 (F, C, V, M) with the clips back to back
      clips.npy     ragged storage only: int64 (N, 2), each clip's first row in data.npy and its frame count
      labels.npy    int64 (N,), 0-based
      lengths.npy   int32 (N,), valid frames per sample (1..T_max)
      samples.npz   per-sample metadata: name (str), subject, view (camera), setup (int32, -1 = unknown)
      splits.npz    split name -> int64 sample indices (e.g. xsub_train, xsub_test)

`data.npy` is opened memory-mapped, so datasets larger than RAM load instantly. Writing goes through
`PreparedWriter`, which streams into a temporary sibling directory and renames it into place only when
everything has been validated: a crash or Ctrl-C never leaves a half-written dataset behind.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelcl.data.layouts import Layout, get_layout
from skelcl.data.ragged import RaggedClips

FORMAT_TAG = "skelcl-prepared"
FORMAT_VERSION = 2  # 2: ragged storage (`skelcl.data.ragged`); dense datasets are still written as version 1
META_FIELDS = ("subject", "view", "setup")


class DataFormatError(ValueError):
    """A prepared dataset (or a file being converted into one) is malformed."""


def _layout_to_json(layout: Layout) -> str | dict:
    from skelcl.data.layouts import LAYOUTS

    if LAYOUTS.get(layout.name) == layout:
        return layout.name
    return {
        "name": layout.name,
        "num_joints": layout.num_joints,
        "bones": [list(b) for b in layout.bones],
        "center": layout.center,
        "pairs": [list(p) for p in layout.pairs],
        "parts": [list(p) for p in layout.parts],
        "joint_names": list(layout.joint_names),
        "shoulders": None if layout.shoulders is None else list(layout.shoulders),
    }


def _layout_from_json(spec: str | dict) -> Layout:
    if isinstance(spec, dict) and spec.get("shoulders") is None:
        spec = {k: v for k, v in spec.items() if k != "shoulders"}
    return get_layout(spec)


class PreparedWriter:
    """Streams samples into a new prepared dataset; `commit()` validates and moves it into place atomically.

    Use as a context manager: leaving the block with an exception removes the temporary directory.
    With `total_frames` (the sum of the clips' frame counts) the clips are stored back to back instead of padded to
    `frames` (`skelcl.data.ragged`): for sources whose clip lengths differ widely.
    """

    def __init__(self, out: str | Path, num_samples: int, frames: int, layout: Layout, bodies: int,
                 channels: int = 3, name: str = "dataset", total_frames: int | None = None) -> None:
        if num_samples < 1:
            raise DataFormatError(f"{out}: refusing to write an empty dataset (0 samples)")
        self.out = Path(out)
        self.layout = layout
        self.name = name
        self.t_max = frames
        self.tmp = self.out.parent / f".{self.out.name}.partial-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.ragged = total_frames is not None
        if self.ragged:
            shape = (int(total_frames), channels, layout.num_joints, bodies)
            self.index = np.zeros((num_samples, 2), dtype=np.int64)
            self.cursor = 0
        else:
            shape = (num_samples, channels, frames, layout.num_joints, bodies)
        self.data = np.lib.format.open_memmap(self.tmp / "data.npy", mode="w+", dtype=np.float32, shape=shape)
        self.labels = np.full(num_samples, -1, dtype=np.int64)
        self.lengths = np.zeros(num_samples, dtype=np.int32)
        self.names = np.array([""] * num_samples, dtype=object)
        self.meta = {k: np.full(num_samples, -1, dtype=np.int32) for k in META_FIELDS}
        self.written = np.zeros(num_samples, dtype=bool)

    def __enter__(self) -> PreparedWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def abort(self) -> None:
        del self.data
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, i: int, clip: np.ndarray, label: int, name: str, length: int | None = None,
              **meta: int) -> None:
        """Store sample i. `clip` is (C, T, V, M) with T <= T_max; it is zero-padded to T_max (ragged storage: its
        T frames are appended, fewer bodies than M zero-padded)."""
        c, v, m, t_max = self.data.shape[1], self.data.shape[-2], self.data.shape[-1], self.t_max
        if clip.ndim != 4 or clip.shape[0] != c or clip.shape[2] != v or clip.shape[3] > m:
            raise DataFormatError(
                f"{name}: sample has shape {tuple(clip.shape)}, expected (C={c}, T<={t_max}, V={v}, M<={m})")
        t = clip.shape[1]
        if t < 1 or t > t_max:
            raise DataFormatError(f"{name}: {t} frames, expected 1..{t_max}")
        if not np.isfinite(clip).all():
            bad = np.argwhere(~np.isfinite(clip))[0]
            raise DataFormatError(f"{name}: non-finite coordinate (NaN/inf) at (c, t, v, m) = {tuple(bad.tolist())}")
        if self.ragged:
            self._append(i, clip, name)
        else:
            self.data[i] = 0.0
            self.data[i, :, :t, :, : clip.shape[3]] = clip
        self.labels[i] = int(label)
        self.lengths[i] = t if length is None else int(length)
        self.names[i] = name
        for k, val in meta.items():
            if k not in self.meta:
                raise DataFormatError(f"unknown metadata field '{k}'; known: {list(META_FIELDS)}")
            self.meta[k][i] = int(val)
        self.written[i] = True

    def _append(self, i: int, clip: np.ndarray, name: str) -> None:
        t = clip.shape[1]
        if self.written[i]:
            raise DataFormatError(f"{name}: sample {i} written twice (ragged storage appends each clip once)")
        if self.cursor + t > len(self.data):
            raise DataFormatError(f"{name}: {t} more frames do not fit: {self.cursor} of the {len(self.data)} "
                                  "frames announced (total_frames) are used")
        block = self.data[self.cursor : self.cursor + t]
        block[...] = 0.0
        block[..., : clip.shape[3]] = clip.transpose(1, 0, 2, 3)
        self.index[i] = (self.cursor, t)
        self.cursor += t

    def shrink(self, n: int) -> None:
        """Keep only samples 0..n-1 (for streams where some planned samples turned out unusable).

        `data.npy` is cut in place (ragged storage: at commit, after the last frame written), so nothing is copied.
        """
        total = len(self.labels)
        if not 1 <= n <= total:
            raise DataFormatError(f"{self.out}: cannot shrink {total} samples to {n}")
        if n == total:
            return
        if self.ragged:
            self.index = self.index[:n]
        else:
            self._cut_rows(n)
        self.labels, self.lengths, self.names = self.labels[:n], self.lengths[:n], self.names[:n]
        self.meta = {k: v[:n] for k, v in self.meta.items()}
        self.written = self.written[:n]

    def _cut_rows(self, rows: int) -> None:
        """Keep the first `rows` entries of data.npy: its header gets the new shape (same header length) and the
        file is truncated."""
        shape = (rows, *self.data.shape[1:])
        dtype = self.data.dtype
        self.data.flush()
        del self.data
        path = self.tmp / "data.npy"
        with open(path, "r+b") as f:
            version = np.lib.format.read_magic(f)
            prefix = f.tell() + (2 if version == (1, 0) else 4)
            if version == (1, 0):
                np.lib.format.read_array_header_1_0(f)  # leaves f at the first data byte
            else:
                np.lib.format.read_array_header_2_0(f)
            offset = f.tell()
            header = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape})
            f.seek(prefix)
            f.write((header.ljust(offset - prefix - 1) + "\n").encode("latin1"))
            f.truncate(offset + int(np.prod(shape)) * dtype.itemsize)
        self.data = np.load(path, mmap_mode="r+")

    def commit(self, splits: Mapping[str, Sequence[int]], num_classes: int,
               class_names: Sequence[str] | None = None, source: Mapping | None = None) -> Path:
        """Validate, then atomically replace `out` with the new dataset. Returns `out`."""
        n = len(self.labels)
        if not self.written.all():
            missing = int((~self.written).sum())
            raise DataFormatError(f"{self.out}: {missing} of {n} samples were never written")
        _check_labels(self.labels, num_classes, self.out)
        split_arrays = {}
        for sname, idx in splits.items():
            arr = np.asarray(idx, dtype=np.int64)
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise DataFormatError(f"{self.out}: split '{sname}' has indices outside 0..{n - 1}")
            split_arrays[sname] = arr
        shape = [n, *self.data.shape[1:]]
        if self.ragged:
            self._cut_rows(self.cursor)
            np.save(self.tmp / "clips.npy", self.index)
            c, v, m = self.data.shape[1:]
            shape = [n, c, int(self.index[:, 1].max()), v, m]
        self.data.flush()
        del self.data
        np.save(self.tmp / "labels.npy", self.labels)
        np.save(self.tmp / "lengths.npy", self.lengths)
        np.savez(self.tmp / "samples.npz", name=self.names.astype(str), **self.meta)
        np.savez(self.tmp / "splits.npz", **split_arrays)
        meta = {
            "format": FORMAT_TAG,
            "version": FORMAT_VERSION if self.ragged else 1,
            **({"storage": "ragged"} if self.ragged else {}),
            "name": self.name,
            "layout": _layout_to_json(self.layout),
            "num_classes": int(num_classes),
            "class_names": list(class_names) if class_names is not None else [str(i) for i in range(num_classes)],
            "shape": shape,
            "splits": {k: int(len(v)) for k, v in split_arrays.items()},
            "source": dict(source or {}),
        }
        (self.tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        _atomic_replace_dir(self.tmp, self.out)
        return self.out


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock on `path` (POSIX flock), so two processes do not build the same dataset at once;
    a no-op where fcntl is missing (the final rename stays atomic)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_once(out: Path, ready: Callable[[Path], bool], build: Callable[[], Path]) -> Path:
    """The one cache-and-lock helper: return `out` if `ready(out)`, else run `build` while holding a lock next to
    `out`, so concurrent callers (DDP ranks, parallel sweeps) build once and the others reuse the result. `build`
    must write `out` atomically (PreparedWriter does), so a killed build never leaves a half-written cache."""
    if ready(out):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(out.parent / f".{out.name}.lock"):
        return out if ready(out) else build()


def _atomic_replace_dir(src: Path, dst: Path) -> None:
    old = dst.parent / f".{dst.name}.old-{os.getpid()}"
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    if old.exists():
        shutil.rmtree(old)


def _check_labels(labels: np.ndarray, num_classes: int, where: object) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = int(np.flatnonzero((labels < 0) | (labels >= num_classes))[0])
        raise DataFormatError(
            f"{where}: label {int(labels[bad])} of sample {bad} is out of range 0..{num_classes - 1}")


@dataclass
class PreparedDataset:
    """A prepared dataset opened from disk (data memory-mapped)."""

    root: Path
    data: np.ndarray | RaggedClips  # (N, C, T_max, V, M), memory-mapped; RaggedClips reads ragged storage as that
    labels: np.ndarray
    lengths: np.ndarray
    names: np.ndarray
    meta_fields: dict[str, np.ndarray]
    splits: dict[str, np.ndarray]
    layout: Layout
    num_classes: int
    class_names: list[str]
    meta: dict

    @property
    def origin(self) -> str:
        """The user's file or directory this dataset was converted from (else its own directory), for messages."""
        return str(self.meta.get("source", {}).get("converted_from") or self.root)

    def split(self, name: str) -> np.ndarray:
        if name not in self.splits:
            raise DataFormatError(
                f"{self.origin}: no split named '{name}'; available splits: {sorted(self.splits)}. dataset.split=NAME "
                "uses NAME_train / NAME_test, dataset.split=null the plain train / test")
        return self.splits[name]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def read(self, idx: np.ndarray) -> np.ndarray:
        """Clips `idx` as float32 (len(idx), C, T, V, M): dense storage in one fancy-indexed read (T = T_max);
        ragged storage padded to the longest of them."""
        idx = np.asarray(idx, dtype=np.int64)
        if isinstance(self.data, RaggedClips):
            return self.data.read(idx)
        order = np.argsort(idx)  # memmap reads are fastest in file order
        x = np.empty((len(idx), *self.data.shape[1:]), dtype=np.float32)
        x[order] = self.data[idx[order]]
        return x


def rebuild_hint(root: Path, meta: dict) -> str:
    """How to get a complete copy of the prepared dataset at `root` back."""
    source = meta.get("source", {}) if isinstance(meta, dict) else {}
    if source.get("converted_from") or "generator" in source:
        return f"delete {root} and run again: it is rebuilt from its source on the next use"
    return (f"rebuild it with `python -m skelcl.data.prepare {meta.get('name', '<dataset>')} --raw <raw data dir> "
            f"--out {root} --overwrite`")


def _check_npy_size(path: Path, root: Path, meta: dict) -> None:
    """A truncated .npy (interrupted copy or download) fails with the expected and actual size, not numpy's
    'mmap length is greater than file size'."""
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            shape, fortran, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0)
                                     else np.lib.format.read_array_header_2_0(f))
        except ValueError as e:
            raise DataFormatError(f"{path}: not a readable .npy file ({e}); {rebuild_hint(root, meta)}") from None
        expected = f.tell() + int(np.prod(shape)) * dtype.itemsize
    actual = path.stat().st_size
    if actual < expected:
        raise DataFormatError(f"{path}: truncated: {actual:,} bytes, expected {expected:,} for shape {tuple(shape)} "
                              f"{dtype}; {rebuild_hint(root, meta)}")


def load_prepared(root: str | Path, mmap: bool = True) -> PreparedDataset:
    """Open a prepared dataset, checking it is complete and consistent (cheap checks only)."""
    root = Path(root)
    meta_path = root / "meta.json"
    if not meta_path.is_file():
        raise DataFormatError(
            f"{root}: not a prepared skelcl dataset (no meta.json). Prepare raw data with "
            f"`python -m skelcl.data.prepare <dataset> --raw DIR --out {root}`")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT_TAG:
        raise DataFormatError(f"{meta_path}: format tag is {meta.get('format')!r}, expected {FORMAT_TAG!r}")
    if meta.get("version", 0) > FORMAT_VERSION:
        raise DataFormatError(f"{meta_path}: format version {meta['version']} is newer than this skelcl supports")
    ragged = meta.get("storage") == "ragged"
    files = ("data.npy", "labels.npy", "lengths.npy") + (("clips.npy",) if ragged else ())
    for f in (*files, "samples.npz", "splits.npz"):
        if not (root / f).is_file():
            raise DataFormatError(f"{root}: missing file {f}")
    for f in files:
        _check_npy_size(root / f, root, meta)
    data = np.load(root / "data.npy", mmap_mode="r" if mmap else None)
    if data.ndim != (4 if ragged else 5) or data.dtype != np.float32:
        want = "(F, C, V, M) (ragged storage)" if ragged else "(N, C, T, V, M)"
        raise DataFormatError(f"{root / 'data.npy'}: expected float32 {want}, got {data.dtype} {data.shape}")
    if ragged:
        try:
            data = RaggedClips(data, np.load(root / "clips.npy"), where=root / "clips.npy")
        except ValueError as e:
            raise DataFormatError(f"{e}; {rebuild_hint(root, meta)}") from None
    n = data.shape[0]
    labels = np.load(root / "labels.npy")
    lengths = np.load(root / "lengths.npy")
    if labels.shape != (n,) or lengths.shape != (n,):
        raise DataFormatError(f"{root}: labels/lengths have shapes {labels.shape}/{lengths.shape}, expected ({n},)")
    if lengths.min() < 1 or lengths.max() > data.shape[2]:
        raise DataFormatError(f"{root}: lengths must lie in 1..{data.shape[2]}")
    if ragged and (lengths > data.counts).any():
        i = int(np.flatnonzero(lengths > data.counts)[0])
        raise DataFormatError(f"{root}: clip {i} has length {int(lengths[i])} but stores {int(data.counts[i])} frames")
    layout = _layout_from_json(meta["layout"])
    if layout.num_joints != data.shape[3]:
        raise DataFormatError(
            f"{root}: layout '{layout.name}' has {layout.num_joints} joints but data has V={data.shape[3]}")
    num_classes = int(meta["num_classes"])
    _check_labels(labels, num_classes, root / "labels.npy")
    with np.load(root / "samples.npz") as s:
        names = s["name"]
        meta_fields = {k: s[k] for k in META_FIELDS if k in s}
    with np.load(root / "splits.npz") as s:
        splits = {k: s[k] for k in s.files}
    return PreparedDataset(root, data, labels, lengths, names, meta_fields, splits, layout, num_classes,
                           list(meta.get("class_names", [])), meta)
