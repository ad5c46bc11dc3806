"""Readers for datasets already prepared by other codebases: converted once into the skelcl prepared format.

- CrosSCLR / AimCLR (`convert_crossclr`): a directory with `{train,val}_data_joint.npy` (CrosSCLR),
  `{train,val}_position.npy` (AimCLR frame50) or `{train,val}_data.npy` (A1 output), float32
  (N, 3, T, V, M), and `{train,val}_label.pkl` = pickle of (sample_names, labels). Splits `train` / `test`
  (val -> test), plus `<benchmark>_train` / `<benchmark>_test` when the benchmark is known (given, or the
  directory is named xsub / xview / xset / xsub1 ...). Length = last frame with any non-zero value + 1
  (zero frames inside a sample, e.g. 0-body frames, are kept and counted).
- pyskl (`convert_pyskl`): one pickle, dict(split={name: [frame_dir]}, annotations=[{frame_dir, label,
  total_frames, keypoint [M, T, V, C] (often float16)}]). `None` annotations (a pyskl quirk) are skipped
  with a warning; split names are kept except `*_val`, which become `*_test`. A clip runs from its first to its
  last frame with a body: frames of zeros that pad clips to a fixed length, or come before anyone is in view, are
  dropped (the small-data rule reads the clips' lengths, AS-CAL its first frames). The clips are stored back to
  back (`skelcl.data.ragged`), not padded to the longest: a video dataset's clips differ in length by 10x or more.
  pyskl's compressed annotations (`keypoint` [N, V, C + 1] rows with `frame_inds`) are expanded to body slots
  first (`skelcl.data.compressed`).
- custom (`convert_pyskl(..., layout=...)`): a pyskl-style pickle with any joint layout, given by name,
  mapping or YAML file (keys of `Layout.from_dict`: name, num_joints, bones, center, pairs, parts, ...).

The converted dataset is cached, by default next to the source (`<dir>/skelcl-prepared-<variant>` for
CrosSCLR directories, `<file stem>.skelcl-prepared` beside a pickle) or under `cache_dir`, and rebuilt
only when the source files (size, mtime) or the options change. Conversion streams into a
`PreparedWriter`, so the cache is written atomically too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from skelcl.config import MAX_BODIES, MIN_BODY_SHARE
from skelcl.data.bodies import rank_bodies
from skelcl.data.compressed import expand
from skelcl.data.formats import DataFormatError, PreparedWriter, build_once
from skelcl.data.layouts import LAYOUTS, Layout, LayoutError, get_layout
from skelcl.data.names import name_metadata
from skelcl.data.prepared_dir import Summary, check_output, finish
from skelcl.data.tracks import LINK_VERSION, relink

log = logging.getLogger("skelcl.data.readers")

CROSSCLR_VARIANTS = ("data_joint", "position", "data")
BENCHMARKS = ("xsub", "xview", "xset", "xsub1", "xsub2", "xview1", "xview2", "xset1")


# ------------------------------------------------------------------------------------------------------ layouts


def load_layout(spec: str | Path | Mapping | Layout | None, joints: int | None = None,
                where: str = "") -> Layout:
    """A layout from a name, a mapping, a YAML file or None (then a built-in one with `joints` joints).

    Errors name the YAML file (or `where`) and the problem.
    """
    if isinstance(spec, Layout):
        return spec
    if spec is None:
        for lay in LAYOUTS.values():
            if lay.num_joints == joints:
                return lay
        raise LayoutError(f"{where}: no built-in layout has {joints} joints (built-in: "
                          + ", ".join(f"{k} ({v.num_joints})" for k, v in LAYOUTS.items())
                          + "); pass layout=<name, mapping or YAML file>")
    if isinstance(spec, Mapping):
        try:
            return get_layout(_unwrap(spec))
        except LayoutError as e:
            raise LayoutError(f"{where + ': ' if where else ''}custom layout: {e}") from None
    p = Path(str(spec))
    if str(spec) in LAYOUTS and not p.is_file():
        return LAYOUTS[str(spec)]
    if p.suffix in (".yaml", ".yml") or p.is_file():
        if not p.is_file():
            raise FileNotFoundError(f"{p}: layout file not found")
        import yaml

        try:
            d = yaml.safe_load(p.read_text())
        except yaml.YAMLError as e:
            raise LayoutError(f"{p}: invalid YAML: {e}") from None
        if not isinstance(d, Mapping):
            raise LayoutError(f"{p}: expected a mapping of layout keys, got {type(d).__name__}")
        try:
            return get_layout(_unwrap(d))
        except LayoutError as e:
            raise LayoutError(f"{p}: {e}") from None
    return get_layout(str(spec))


def _unwrap(d: Mapping) -> Mapping:
    """Accept both `{name: ..., bones: ...}` and `{layout: {name: ..., ...}}`."""
    if set(d) == {"layout"} and isinstance(d["layout"], Mapping):
        return d["layout"]
    return d


# -------------------------------------------------------------------------------------------------- metadata


def _strip(name: str) -> str:
    name = str(name)
    return name[: -len(".skeleton")] if name.endswith(".skeleton") else name


# ----------------------------------------------------------------------------------------------------- caching


def _fingerprint(files: Sequence[Path], options: Mapping[str, Any]) -> dict:
    return {"files": [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}}


def _cache_dir(source: Path, default: Path, cache_dir: str | Path | None, fp: dict) -> Path:
    if cache_dir is None:
        return default
    digest = hashlib.sha1(json.dumps(fp["options"] | {"source": str(source.resolve())}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:10]
    return Path(cache_dir) / f"{source.stem}-{digest}"


def _writable(out: Path, source: Path) -> Path:
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"{source}: cannot write the converted copy to {out} (read-only location); "
                              "pass cache_dir=<a writable directory>")
    return out


def _convert_once(source: Path, out: Path, fp: dict, build: Callable[[Path], Path]) -> Path:
    """Return `out` if it holds a conversion of exactly this source; else build it, holding a file lock so that
    concurrent callers (e.g. DDP ranks) convert once and the others reuse the result."""
    if _cached(out, fp):
        return out
    _writable(out, source)
    return build_once(out, lambda o: _cached(o, fp), lambda: build(check_output(out, overwrite=True)))


def _cached(out: Path, fp: dict) -> bool:
    if not (out / "meta.json").is_file():
        return False
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("source", {}).get("fingerprint") == json.loads(json.dumps(fp))


def _layout_key(layout: Any) -> Any:
    if isinstance(layout, Layout):
        return layout.name
    if isinstance(layout, Mapping):
        return json.loads(json.dumps(dict(layout), default=str))
    return None if layout is None else str(layout)


# ---------------------------------------------------------------------------------------------------- CrosSCLR


def _load_label_pkl(path: Path, n: int) -> tuple[list[str], np.ndarray]:
    try:
        with open(path, "rb") as f:
            try:
                obj = pickle.load(f)
            except UnicodeDecodeError:  # pickles written by Python 2
                f.seek(0)
                obj = pickle.load(f, encoding="latin1")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: label file not found") from None
    except Exception as e:  # noqa: BLE001 (any unpickling failure)
        raise DataFormatError(f"{path}: cannot read the label pickle: {e}") from None
    if not isinstance(obj, (tuple, list)) or len(obj) != 2:
        raise DataFormatError(f"{path}: expected a pickle of (sample_names, labels), got {type(obj).__name__}")
    names, labels = [_strip(x) for x in obj[0]], np.asarray(obj[1])
    if len(names) != n or labels.shape != (n,):
        raise DataFormatError(f"{path}: {len(names)} names and {labels.size} labels for {n} samples in the data file")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.mod(labels.astype(np.float64), 1) == 0):
            raise DataFormatError(f"{path}: labels are not integers")
    return names, labels.astype(np.int64)


def _find_crossclr(root: Path, variant: str | None) -> dict[str, tuple[Path, Path]]:
    variants = CROSSCLR_VARIANTS if variant is None else (variant,)
    if variant is not None and variant not in CROSSCLR_VARIANTS:
        raise ValueError(f"unknown CrosSCLR/AimCLR data variant '{variant}'; known: {CROSSCLR_VARIANTS}")
    for v in variants:
        parts = {}
        for src, dst in (("train", "train"), ("val", "test"), ("test", "test")):
            data = root / f"{src}_{v}.npy"
            if data.is_file():
                if dst in parts:
                    raise DataFormatError(f"{root}: both val_{v}.npy and test_{v}.npy exist; keep one")
                parts[dst] = (data, root / f"{src}_label.pkl")
        if parts:
            return parts
    wanted = ", ".join(f"{{train,val}}_{v}.npy" for v in variants)
    raise FileNotFoundError(f"{root}: no CrosSCLR/AimCLR data files found (looked for {wanted})")


def convert_crossclr(root: str | Path, cache_dir: str | Path | None = None, layout: Any = None,
                     variant: str | None = None, num_classes: int | None = None, benchmark: str | None = None,
                     name: str | None = None, chunk: int = 256) -> Path:
    """Convert a CrosSCLR/AimCLR directory (once, cached) and return the prepared directory."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: CrosSCLR/AimCLR data directory not found")
    parts = _find_crossclr(root, variant)
    used = parts[next(iter(parts))][0].stem.split("_", 1)[1]
    for data, label in parts.values():
        if not label.is_file():
            raise FileNotFoundError(f"{label}: label file not found (needed for {data.name})")
    if benchmark is None and root.name in BENCHMARKS:
        benchmark = root.name
    options = {"kind": "crossclr", "variant": used, "layout": _layout_key(layout), "num_classes": num_classes,
               "benchmark": benchmark}
    files = [f for pair in parts.values() for f in pair]
    fp = _fingerprint(files, options)
    out = _cache_dir(root, root / f"skelcl-prepared-{used}", cache_dir, fp)
    return _convert_once(root, out, fp, partial(_build_crossclr, root=root, parts=parts, layout=layout,
                                                num_classes=num_classes, benchmark=benchmark, name=name,
                                                chunk=chunk, options=options, fp=fp, n_files=len(files)))


def _build_crossclr(out: Path, root: Path, parts: dict, layout: Any, num_classes: int | None,
                    benchmark: str | None, name: str | None, chunk: int, options: dict, fp: dict,
                    n_files: int) -> Path:
    arrays, names, labels = {}, {}, {}
    for part, (data, label) in parts.items():
        try:
            arr = np.load(data, mmap_mode="r")
        except (ValueError, OSError) as e:
            raise DataFormatError(f"{data}: cannot read as .npy: {e}") from None
        if arr.ndim != 5 or arr.shape[1] not in (2, 3):
            raise DataFormatError(f"{data}: expected (N, C, T, V, M) with C = 3, got shape {arr.shape}")
        arrays[part] = arr
        names[part], labels[part] = _load_label_pkl(label, arr.shape[0])
    shapes = {a.shape[1:] for a in arrays.values()}
    if len(shapes) != 1:
        raise DataFormatError(f"{root}: train and test arrays differ in (C, T, V, M): {sorted(shapes)}")
    _, c, t, v, m = next(iter(arrays.values())).shape
    lay = load_layout(layout, v, where=str(root))
    if lay.num_joints != v:
        raise LayoutError(f"{root}: layout '{lay.name}' has {lay.num_joints} joints, the data has V = {v}")
    all_labels = np.concatenate(list(labels.values()))
    if all_labels.size and all_labels.min() < 0:
        raise DataFormatError(f"{root}: negative label {int(all_labels.min())}")
    inferred = int(all_labels.max()) + 1 if all_labels.size else 0
    ncls = int(num_classes) if num_classes is not None else inferred
    if inferred > ncls:
        part = next(p for p in labels if labels[p].size and labels[p].max() >= ncls)
        raise DataFormatError(f"{parts[part][1]}: label {int(labels[part].max())} is out of range "
                              f"0..{ncls - 1} (num_classes={ncls})")

    summary = Summary(name or root.name, [root], options)
    if num_classes is None:
        summary.note(f"num_classes inferred from the labels: {ncls}", warn=False)
    total = sum(a.shape[0] for a in arrays.values())
    splits: dict[str, list[int]] = {}
    src_lengths: list[int] = []
    with PreparedWriter(out, total, t, lay, m, channels=c, name=name or root.name) as w:
        k = 0
        for part, arr in arrays.items():
            idx = []
            data_file = parts[part][0]
            for s in range(0, arr.shape[0], chunk):
                block = np.asarray(arr[s : s + chunk], dtype=np.float32)
                if not np.isfinite(block).all():
                    i, *_ = np.argwhere(~np.isfinite(block))[0]
                    raise DataFormatError(f"{data_file}: sample {s + int(i)} ({names[part][s + int(i)]}) has a "
                                          "non-finite coordinate (NaN/inf)")
                nz = np.any(block != 0, axis=(1, 3, 4))  # (n, T)
                last = t - np.argmax(nz[:, ::-1], axis=1)
                for j in range(block.shape[0]):
                    i = s + j
                    if not nz[j].any():
                        summary.skip(f"{data_file}[{i}] {names[part][i]}", "empty sequence: every value is zero")
                        continue
                    nm = names[part][i]
                    w.write(k, block[j], int(labels[part][i]), nm, int(last[j]), **name_metadata(nm))
                    idx.append(k)
                    src_lengths.append(int(last[j]))
                    k += 1
            splits[part] = idx
            if benchmark:
                splits[f"{benchmark}_{part}"] = idx
        return finish(w, k, splits, ncls, summary, src_lengths, n_files, None,
                      {"fingerprint": fp, "converted_from": str(root)}, echo=False)


# ------------------------------------------------------------------------------------------------------- pyskl


def _load_pickle(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pickle file not found")
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as e:  # noqa: BLE001
        raise DataFormatError(f"{path}: cannot read the pickle: {e}") from None


def convert_pyskl(path: str | Path, cache_dir: str | Path | None = None, layout: Any = None,
                  num_classes: int | None = None, name: str | None = None, require_classes: bool = False,
                  max_bodies: int | None = MAX_BODIES, min_body_share: float = MIN_BODY_SHARE,
                  link_bodies: bool = True) -> Path:
    """Convert a pyskl-style annotation pickle (once, cached) and return the prepared directory.

    `require_classes` (custom data): the class count must be declared, by `num_classes` or by the pickle's own
    `class_names` list, instead of being inferred from the largest label. `max_bodies`, `min_body_share`: each
    clip's bodies are ordered by how much of them was seen (by `keypoint_score` where given); at most `max_bodies`
    are kept (None: no limit), after the first only those seen at least `min_body_share` as much as it
    (`skelcl.data.bodies`). `link_bodies`: before that, a clip whose body slots jump between people from frame to
    frame (a pose estimator's per-frame detection order) has them re-linked into one person each
    (`skelcl.data.tracks`).
    """
    path = Path(path)
    lay_key = _layout_key(layout)
    files = [path] + ([Path(str(layout))] if isinstance(layout, (str, Path)) and Path(str(layout)).is_file() else [])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pyskl annotation pickle not found")
    if max_bodies is not None and (isinstance(max_bodies, bool) or int(max_bodies) != max_bodies or max_bodies < 1):
        raise ValueError(f"{path}: max_bodies must be null or an integer >= 1, got {max_bodies!r}")
    if not 0 <= min_body_share <= 1:
        raise ValueError(f"{path}: min_body_share must be in [0, 1], got {min_body_share!r}")
    options = {"kind": "pyskl", "layout": lay_key, "num_classes": num_classes, "max_bodies": max_bodies,
               "min_body_share": float(min_body_share), "length": "first_to_last_frame_with_a_body"}
    if link_bodies:  # absent from the options of conversions made before linking existed: their caches stay valid
        options["link_bodies"] = LINK_VERSION  # a conversion cached by another version of the linking is redone
    fp = _fingerprint(files, options)
    out = _cache_dir(path, path.with_name(f"{path.stem}.skelcl-prepared"), cache_dir, fp)
    return _convert_once(path, out, fp, partial(_build_pyskl, path=path, layout=layout, num_classes=num_classes,
                                                name=name, options=options, fp=fp, n_files=len(files),
                                                require_classes=require_classes, max_bodies=max_bodies,
                                                min_body_share=min_body_share, link_bodies=link_bodies))


def _declared_classes(path: Path, obj: Mapping, num_classes: int | None,
                      require: bool) -> tuple[int | None, list[str] | None]:
    """(num_classes, class_names) from `num_classes` and/or the pickle's `class_names`, which must agree."""
    names = obj.get("class_names")
    if isinstance(names, np.ndarray):
        names = names.tolist()
    if names is not None:
        if isinstance(names, (str, bytes)) or not isinstance(names, Sequence):
            raise DataFormatError(f"{path}: 'class_names' must be a list of class names")
        names = [str(n) for n in names]
        if num_classes is not None and int(num_classes) != len(names):
            raise DataFormatError(f"{path}: dataset.num_classes={num_classes} but the pickle's class_names lists "
                                  f"{len(names)} classes")
        return len(names), names
    if num_classes is None and require:
        raise DataFormatError(f"{path}: declare the number of classes: dataset.num_classes=N (labels are 0-based "
                              "ids 0..N-1), or store the class names in the pickle as a list under 'class_names'")
    return num_classes, None


def _class_name_labels(path: Path, obj: Mapping) -> tuple[Mapping, dict[str, int]]:
    """Labels written as class names: their ids, by the pickle's `class_names` when it has them (every label must be
    one), else the names in sorted order (then recorded as the pickle's `class_names`). Labels that are ids: no ids."""
    labels = [a["label"] for a in obj["annotations"] if isinstance(a, Mapping) and "label" in a]
    named = [lab for lab in labels if isinstance(lab, str)]
    if not named:
        return obj, {}
    if len(named) != len(labels):
        raise DataFormatError(f"{path}: some labels are class names, others are not (e.g. {named[0]!r} and "
                              f"{next(lab for lab in labels if not isinstance(lab, str))!r}): use one kind")
    if obj.get("class_names") is None:
        obj = {**obj, "class_names": sorted(set(named))}
    names = [str(n) for n in obj["class_names"]]
    unknown = sorted(set(named) - set(names))
    if unknown:
        raise DataFormatError(f"{path}: label {unknown[0]!r} is not one of the pickle's class_names ({len(names)})")
    return obj, {n: i for i, n in enumerate(names)}


def _build_pyskl(out: Path, path: Path, layout: Any, num_classes: int | None, name: str | None, options: dict,
                 fp: dict, n_files: int, require_classes: bool = False, *, max_bodies: int | None,
                 min_body_share: float, link_bodies: bool) -> Path:
    obj = _load_pickle(path)
    if not isinstance(obj, Mapping) or "annotations" not in obj or "split" not in obj:
        raise DataFormatError(f"{path}: expected a dict with 'split' and 'annotations' (pyskl format)")
    if not isinstance(obj["split"], Mapping):
        raise DataFormatError(f"{path}: 'split' must map split names to lists of frame_dir")
    summary = Summary(name or path.stem, [path], options)
    obj, class_ids = _class_name_labels(path, obj)
    anns = []
    dims: set[tuple[int, int]] = set()
    seen: dict[str, int] = {}
    crowded = reordered = trimmed = relinked = 0
    for i, a in enumerate(obj["annotations"]):
        if a is None:
            summary.skip(f"{path}: annotations[{i}]", "annotation is None: pyskl writes None for a file with no bodies")
            continue
        if not isinstance(a, Mapping) or not {"frame_dir", "label", "keypoint"} <= set(a):
            raise DataFormatError(f"{path}: annotations[{i}] lacks frame_dir / label / keypoint")
        fd = str(a["frame_dir"])
        if a.get("frame_inds") is not None:  # pyskl's compressed form: one row per detection
            a = expand(path, fd, a)
        kp = np.asarray(a["keypoint"])
        if kp.ndim != 4:
            raise DataFormatError(f"{path}: {fd}: keypoint has shape {kp.shape}, expected [M, T, V, C]")
        tf = int(a.get("total_frames", kp.shape[1]))
        if kp.shape[1] != tf:
            raise DataFormatError(f"{path}: {fd}: keypoint has {kp.shape[1]} frames but total_frames = {tf}")
        if fd in seen:
            raise DataFormatError(f"{path}: frame_dir {fd} appears twice (annotations[{seen[fd]}] and [{i}])")
        seen[fd] = i
        if tf == 0 or kp.shape[0] == 0:
            summary.skip(f"{path}: {fd}", "empty sequence: 0 frames or 0 bodies")
            continue
        if not np.isfinite(kp).all():
            mm, tt, vv, cc = (int(x) for x in np.argwhere(~np.isfinite(kp))[0])
            raise DataFormatError(f"{path}: {fd}: non-finite coordinate (NaN/inf) at body {mm}, frame {tt}, "
                                  f"joint {vv}, channel {cc}; if NaN marks a joint that was not found, write it as 0 "
                                  "(np.nan_to_num(keypoint, nan=0.0)): a joint at exactly 0 is a missed joint")
        label = class_ids[a["label"]] if isinstance(a["label"], str) else a["label"]
        if isinstance(label, (bool, float)) or int(label) != label or int(label) < 0:
            raise DataFormatError(f"{path}: {fd}: label {label!r} is not a 0-based class id")
        score = _scores(path, fd, a, kp)
        seen_frames = np.flatnonzero(np.any(kp != 0, axis=(0, 2, 3)))
        if seen_frames.size == 0:
            summary.skip(f"{path}: {fd}", "empty sequence: every keypoint is zero")
            continue
        first, last = int(seen_frames[0]), int(seen_frames[-1]) + 1
        if (first, last) != (0, tf):  # padded to a fixed length, or no one in view yet: frames with a body only
            trimmed += 1
            kp = kp[:, first:last]
            score = None if score is None else score[:, first:last]
        if link_bodies:
            kp, score, moved = relink(kp, score)
            relinked += moved
        keep = rank_bodies(kp, score, max_bodies, min_body_share)
        crowded += len(keep) < kp.shape[0]
        reordered += len(keep) == kp.shape[0] and bool((keep != np.arange(len(keep))).any())
        dims.add(kp.shape[2:])
        anns.append((fd, int(label), kp[keep]))
    if not anns:
        raise DataFormatError(f"{path}: no usable annotations")
    if len(dims) != 1:
        raise DataFormatError(f"{path}: annotations differ in (V, C): {sorted(dims)}")
    v, c = dims.pop()
    lay = load_layout(layout, v, where=str(path))
    if lay.num_joints != v:
        raise LayoutError(f"{path}: layout '{lay.name}' has {lay.num_joints} joints, the keypoints have V = {v}")
    num_classes, class_names = _declared_classes(path, obj, num_classes, require_classes)
    inferred = max(lab for _, lab, _ in anns) + 1
    ncls = int(num_classes) if num_classes is not None else inferred
    if inferred > ncls:
        fd, lab, _ = next(x for x in anns if x[1] >= ncls)
        one_based = " (labels start at 1? they must be 0-based: subtract 1)" if lab == ncls and min(
            x[1] for x in anns) == 1 else ""
        raise DataFormatError(f"{path}: {fd}: label {lab} is out of range 0..{ncls - 1} (num_classes={ncls})"
                              f"{one_based}")
    if num_classes is None:
        summary.note(f"num_classes inferred from the labels: {ncls}", warn=False)
    if trimmed:
        summary.note(f"{trimmed} clip(s) start or end with frames where every keypoint is zero (padded to a fixed "
                     "length?): each clip runs from its first to its last frame with a body", warn=False)
    if relinked:
        summary.note(f"{relinked} clip(s) stored body slots that change person from frame to frame (a pose "
                     "estimator's per-frame detection order): re-linked into one person per slot by position "
                     "(dataset.link_bodies=false keeps the stored slots)")
    if crowded:
        summary.note(f"{crowded} clip(s) lost bodies: at most {max_bodies} kept per clip, after the first only those "
                     f"seen at least {min_body_share:g} as much as it (summed keypoint_score where given, else joints "
                     "found; dataset.max_bodies, dataset.min_body_share)")
    if reordered:
        summary.note(f"{reordered} clip(s) stored a less-seen body first: bodies reordered, most seen first",
                     warn=False)
    index = {fd: k for k, (fd, _, _) in enumerate(anns)}
    splits: dict[str, list[int]] = {}
    n_none = sum(1 for a in obj["annotations"] if a is None)
    for sname, members in obj["split"].items():
        target = split_name(str(sname))
        if target in splits:
            raise DataFormatError(f"{path}: split '{sname}' collides with another split named '{target}'")
        idx, unknown = [], []
        for fd in members:
            (idx.append(index[str(fd)]) if str(fd) in index else unknown.append(str(fd)))
        dropped = [fd for fd in unknown if fd in seen]  # skipped (empty) samples
        unknown = [fd for fd in unknown if fd not in seen]
        if unknown and not n_none:
            raise DataFormatError(f"{path}: split '{sname}' names {len(unknown)} frame_dir(s) with no annotation, "
                                  f"e.g. {unknown[0]}")
        if unknown or dropped:
            summary.note(f"split '{sname}': {len(unknown) + len(dropped)} entries dropped (no usable annotation, "
                         f"e.g. {(unknown + dropped)[0]})")
        splits[target] = idx
    t_max = max(kp.shape[1] for _, _, kp in anns)
    m_max = max(kp.shape[0] for _, _, kp in anns)
    total = sum(kp.shape[1] for _, _, kp in anns)  # clips stored back to back: video lengths differ widely
    with PreparedWriter(out, len(anns), t_max, lay, m_max, channels=c, name=name or path.stem,
                        total_frames=total) as w:
        for k, (fd, label, kp) in enumerate(anns):
            clip = np.asarray(kp, dtype=np.float32).transpose(3, 1, 2, 0)  # [M, T, V, C] -> (C, T, V, M)
            w.write(k, clip, label, fd, kp.shape[1], **name_metadata(fd))
        return finish(w, len(anns), splits, ncls, summary, [kp.shape[1] for _, _, kp in anns], n_files, class_names,
                      {"fingerprint": fp, "converted_from": str(path)}, echo=False)


def _scores(path: Path, fd: str, ann: Mapping, kp: np.ndarray) -> np.ndarray | None:
    """The annotation's `keypoint_score` [M, T, V] (checked against its keypoints), or None without one."""
    if ann.get("keypoint_score") is None:
        return None
    score = np.asarray(ann["keypoint_score"], dtype=np.float32)
    if score.shape != kp.shape[:3]:
        raise DataFormatError(f"{path}: {fd}: keypoint_score has shape {score.shape}, expected [M, T, V] = "
                              f"{kp.shape[:3]} as its keypoint")
    if not np.isfinite(score).all():
        raise DataFormatError(f"{path}: {fd}: keypoint_score has a non-finite value (NaN/inf)")
    return score


def split_name(name: str) -> str:
    """A pickle's split name as stored: `val` is the test split (`NAME_val` -> `NAME_test`, plain `val` -> `test`);
    pyskl's numbered splits (UCF101 / HMDB51: `train1`, `test1`, ...) become `1_train`, `1_test`, ... so that
    `dataset.split=1` picks them; every other name is kept, so `train` / `test` and `NAME_train` / `NAME_test` work
    as they are."""
    if name == "val":
        return "test"
    numbered = re.fullmatch(r"(train|test|val)(\d+)", name)
    if numbered:
        return f"{numbered[2]}_{'train' if numbered[1] == 'train' else 'test'}"
    return f"{name[:-4]}_test" if name.endswith("_val") else name
