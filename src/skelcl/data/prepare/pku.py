"""PKU-MMD Part I / Part II: per-video skeleton text + label intervals + official split files -> prepared.

Raw layout, found below `--raw` (or given explicitly):
  skeleton dir  `PKU_Skeleton_Renew/<video>-<view>.txt`: one line per frame, 150 floats = 2 bodies x 25 joints
                x (x, y, z) in Kinect v2 order; body 2 all zeros when absent.
  label dir     `Train_Label_PKU_final/<video>-<view>.txt`: one instance per line, `label,start,end,confidence`
                (1-based label and frame numbers; the confidence column is optional here).
  split files   Part I `cross-subject.txt`, `cross-view.txt`; Part II `cross_subject_v2.txt`, `cross_view_v2.txt`:
                line 2 = comma-separated training video ids, line 4 = test ids.
Video ids: Part I `0002-L` (0002..0364), Part II `A01N01-L`.

Each instance is cut from its video (AimCLR: frames start..end inclusive, slice [start-1, end);
`interval='halfopen'` slices [start, end) like other codebases). An interval running past the last frame
of the skeleton file is clipped (counted in the summary). Instances longer than `max_frames` (300) are
centre-cropped to it (AimCLR; the crop starts at (T - 300) // 2), then optionally normalised (`frame50`).
Labels are class - 1; `num_classes` is 51 for both parts by default (the observed label range is logged).
Samples are named as AimCLR does: Part I `F<vvv>V<view>C<ccc>L<iii>`, Part II `A<aaa>N<nnn>V<view>C<ccc>L<iii>`
(view L/M/R -> 001/002/003; iii = 1-based instance line in the label file).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from skelcl.data.formats import PreparedWriter
from skelcl.data.layouts import NTU25
from skelcl.data.normalize import EmptySequenceError, frame50
from skelcl.data.prepare.common import RawFormatError, check_options, parallel_map, read_raw, where
from skelcl.data.prepared_dir import Summary, check_output, finish

log = logging.getLogger("skelcl.data.prepare")

VIEWS = {"L": 1, "M": 2, "R": 3}


@dataclass(frozen=True)
class PartSpec:
    name: str
    video_re: re.Pattern
    split_files: dict  # benchmark -> candidate file names
    skeleton_dirs: tuple[str, ...]
    label_dirs: tuple[str, ...]


PARTS = {
    "pku1": PartSpec("pku1", re.compile(r"(\d{4})-([LMR])"),
                     {"xsub": ("cross-subject.txt", "cross_subject.txt"),
                      "xview": ("cross-view.txt", "cross_view.txt")},
                     ("PKU_Skeleton_Renew", "skeleton", "Skeleton", "skeletons"),
                     ("Train_Label_PKU_final", "label", "Label", "labels")),
    "pku2": PartSpec("pku2", re.compile(r"A(\d{2})N(\d{2})-([LMR])"),
                     {"xsub": ("cross_subject_v2.txt", "cross-subject_v2.txt", "cross-subject-v2.txt"),
                      "xview": ("cross_view_v2.txt", "cross-view_v2.txt", "cross-view-v2.txt")},
                     ("skeleton", "Skeleton", "skeletons", "PKU_Skeleton_Renew", "Skeleton_v2", "skeleton_v2"),
                     ("label", "Label", "labels", "Train_Label_PKU_final", "Label_v2", "label_v2")),
}


def instance_name(part: str, video: str, label: int, index: int) -> str:
    """AimCLR-style instance name (label is the 1-based class id, index the 1-based line)."""
    spec = PARTS[part]
    m = spec.video_re.fullmatch(video)
    if m is None:
        raise ValueError(f"'{video}' is not a {part} video id")
    view = VIEWS[m.groups()[-1]]
    if part == "pku1":
        return f"F{int(m.group(1)):03d}V{view:03d}C{label:03d}L{index:03d}"
    return f"A{int(m.group(1)):03d}N{int(m.group(2)):03d}V{view:03d}C{label:03d}L{index:03d}"


def interval_slice(start: int, end: int, interval: str = "inclusive") -> slice:
    """Frames of an instance `label,start,end` (1-based): inclusive -> [start-1, end), halfopen -> [start, end)."""
    if interval == "inclusive":
        return slice(start - 1, end)
    if interval == "halfopen":
        return slice(start, end)
    raise ValueError(f"interval must be 'inclusive' or 'halfopen', got '{interval}'")


def center_crop(x: np.ndarray, max_frames: int, axis: int = 0) -> np.ndarray:
    t = x.shape[axis]
    if t <= max_frames:
        return x
    s = (t - max_frames) // 2
    return np.take(x, np.arange(s, s + max_frames), axis=axis)


# ------------------------------------------------------------------------------------------------ raw files


def read_split_file(path: str | Path, part: str) -> tuple[list[str], list[str]]:
    """(train ids, test ids) from line 2 and line 4 of an official split file."""
    path = Path(path)
    lines = path.read_text(errors="replace").splitlines()
    if len(lines) < 4:
        raise RawFormatError(f"{path}: expected 4 lines (header, train ids, header, test ids), got {len(lines)}")
    out = []
    for no in (2, 4):
        ids = [tok.strip() for tok in lines[no - 1].split(",") if tok.strip()]
        for tok in ids:
            if not PARTS[part].video_re.fullmatch(tok):
                raise RawFormatError(f"{where(path, no)}: '{tok[:40]}' is not a {part} video id")
        out.append(ids)
    return out[0], out[1]


def read_label_file(path: str | Path, num_classes: int) -> list[tuple[int, int, int, int]]:
    """[(line number, label, start, end)] of one label file; labels checked against 1..num_classes."""
    rows = []
    path = Path(path)
    for no, raw in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        toks = [t.strip() for t in line.split(",")]
        if len(toks) not in (3, 4):
            raise RawFormatError(f"{where(path, no)}: expected 'label,start,end,confidence', got '{line[:60]}'")
        try:
            label, start, end = (int(t) for t in toks[:3])
            if len(toks) == 4:
                float(toks[3])
        except ValueError:
            raise RawFormatError(f"{where(path, no)}: non-numeric field in '{line[:60]}'") from None
        if not 1 <= label <= num_classes:
            raise RawFormatError(f"{where(path, no)}: label {label} is out of range 1..{num_classes} "
                                 "(see --num-classes)")
        if start < 1 or end < start:
            raise RawFormatError(f"{where(path, no)}: bad frame interval start={start}, end={end}")
        rows.append((no, label, start, end))
    return rows


def read_skeleton(path: str | Path) -> np.ndarray:
    """(T, 2, 25, 3) float32 from a PKU-MMD skeleton file; strict about field counts and finite values."""
    path = str(path)
    with open(path, encoding="ascii", errors="replace") as f:
        lines = f.read().split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise RawFormatError(f"{path}: empty skeleton file")
    try:
        x = np.loadtxt(lines, dtype=np.float64, comments=None, ndmin=2)
        if x.shape[1] != 150:
            raise ValueError
    except ValueError:
        for no, line in enumerate(lines, 1):
            toks = line.split()
            if len(toks) != 150:
                raise RawFormatError(f"{where(path, no)}: {len(toks)} values, expected 150 (2 bodies x 25 joints "
                                     "x 3)") from None
            for tok in toks:
                try:
                    float(tok)
                except ValueError:
                    raise RawFormatError(f"{where(path, no)}: '{tok[:40]}' is not a number") from None
        raise
    if not np.isfinite(x).all():
        t, k = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise RawFormatError(f"{where(path, t + 1)}: non-finite value in column {k + 1}")
    return x.reshape(len(x), 2, 25, 3).astype(np.float32)


# ---------------------------------------------------------------------------------------------------- worker


@dataclass(frozen=True)
class Options:
    interval: str = "inclusive"
    max_frames: int = 300
    normalize: str = "none"
    frames: int = 50

    @property
    def t_max(self) -> int:
        return self.frames if self.normalize == "frame50" else self.max_frames


def process_video(task: tuple[str, list[tuple[int, int, int, int]]], opts: Options) -> tuple:
    """Worker: ('ok', [per-instance result]) or ('error', msg). Per instance: ('ok', clip, length, source
    frames, clipped) or ('skip', reason)."""
    path, rows = task
    seq, error = read_raw(read_skeleton, path)
    if error:
        return ("error", error)
    out = []
    for _, _, start, end in rows:
        sl = interval_slice(start, end, opts.interval)
        clipped = sl.stop > len(seq)
        x = seq[sl]
        if len(x) == 0:
            out.append(("skip", f"interval outside the skeleton file: {start}-{end}, the file has {len(seq)} frames"))
            continue
        if not np.any(x):
            out.append(("skip", f"all-zero: every joint is zero in frames {start}-{end}"))
            continue
        src = len(x)
        x = center_crop(x, opts.max_frames).transpose(3, 0, 2, 1)  # (3, T, 25, 2)
        if opts.normalize == "frame50":
            try:
                x, _ = frame50(x, opts.frames)
            except EmptySequenceError as e:
                out.append(("skip", f"frame50: frames {start}-{end}: {e}"))
                continue
        out.append(("ok", np.ascontiguousarray(x), x.shape[1], src, clipped))
    return ("ok", out)


# ---------------------------------------------------------------------------------------------------- driver


def _find_dir(raw: Path, given: str | Path | None, candidates: Sequence[str], what: str, option: str) -> Path:
    if given is not None:
        p = Path(given)
        if not p.is_dir():
            raise FileNotFoundError(f"{p}: {what} directory not found")
        return p
    for c in candidates:
        if (raw / c).is_dir():
            return raw / c
    for c in candidates:
        hits = sorted(p for p in raw.rglob(c) if p.is_dir())
        if hits:
            return hits[0]
    raise FileNotFoundError(f"{raw}: no {what} directory found (looked for {', '.join(candidates)}); "
                            f"pass it with {option}")


def _find_split_files(raw: Path, split_dir: str | Path | None, part: str) -> dict[str, Path]:
    base = Path(split_dir) if split_dir is not None else raw
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: split directory not found")
    found = {}
    for bench, names in PARTS[part].split_files.items():
        for n in names:
            hits = [base / n] if (base / n).is_file() else sorted(base.rglob(n))
            if hits:
                found[bench] = hits[0]
                break
    if not found:
        wanted = [n for names in PARTS[part].split_files.values() for n in names]
        raise FileNotFoundError(f"{base}: no split file found (looked for {', '.join(wanted)}); pass --split-dir")
    return found


def prepare_pku(part: str, raw: str | Path, out: str | Path, *, interval: str = "inclusive",
                max_frames: int = 300, normalize: str = "none", frames: int = 50, num_classes: int = 51,
                skeleton_dir: str | Path | None = None, label_dir: str | Path | None = None,
                split_dir: str | Path | None = None, on_error: str = "raise", workers: int | None = None,
                overwrite: bool = False, progress: bool = True, echo: bool = True) -> Path:
    """Prepare PKU-MMD Part I (`pku1`) or Part II (`pku2`)."""
    if part not in PARTS:
        raise ValueError(f"unknown PKU-MMD part '{part}'; known: {sorted(PARTS)}")
    interval_slice(1, 1, interval)  # validates the option
    check_options(normalize, on_error)
    raw = Path(raw)
    if not raw.is_dir():
        raise FileNotFoundError(f"{raw}: raw PKU-MMD directory not found")
    spec = PARTS[part]
    out = check_output(out, overwrite)
    opts = Options(interval, int(max_frames), normalize, int(frames))
    summary = Summary(part, [raw], {"interval": interval, "max_frames": max_frames, "normalize": normalize,
                                    "frames": opts.t_max, "num_classes": num_classes, "on_error": on_error})
    skel_dir = _find_dir(raw, skeleton_dir, spec.skeleton_dirs, "skeleton", "--skeleton-dir")
    lab_dir = _find_dir(raw, label_dir, spec.label_dirs, "label", "--label-dir")
    split_files = _find_split_files(raw, split_dir, part)
    splits_ids = {b: read_split_file(p, part) for b, p in split_files.items()}
    for bench in spec.split_files:
        if bench not in splits_ids:
            summary.note(f"no {bench} split file found; only {', '.join(splits_ids)} splits are built")

    videos = sorted(p.stem for p in lab_dir.glob("*.txt") if spec.video_re.fullmatch(p.stem))
    if not videos:
        raise FileNotFoundError(f"{lab_dir}: no {part} label files (<video>-<view>.txt)")
    tasks, task_videos = [], []
    for v in videos:
        rows = read_label_file(lab_dir / f"{v}.txt", num_classes)
        if not rows:
            summary.skip(lab_dir / f"{v}.txt", "label file has no instances")
            continue
        sk = skel_dir / f"{v}.txt"
        if not sk.is_file():
            summary.skip(sk, f"skeleton file missing: {len(rows)} labelled instances not prepared")
            continue
        tasks.append((str(sk), rows))
        task_videos.append(v)
    n_inst = sum(len(r) for _, r in tasks)
    if n_inst == 0:
        raise FileNotFoundError(f"{raw}: no labelled instances with a skeleton file")
    all_labels = [lab for _, rows in tasks for _, lab, _, _ in rows]
    summary.note(f"observed class ids {min(all_labels)}..{max(all_labels)} ({len(set(all_labels))} distinct); "
                 f"num_classes = {num_classes}", warn=False)

    kept_videos: list[str] = []
    source_lengths: list[int] = []
    work = parallel_map(partial(process_video, opts=opts), tasks, workers, f"{part} videos", progress)
    with PreparedWriter(out, n_inst, opts.t_max, NTU25, 2, name=part) as w:
        k = 0
        with work as results:
            for video, (path, rows), res in zip(task_videos, tasks, results):
                if res[0] == "error":
                    if on_error == "raise":
                        raise RawFormatError(res[1])
                    summary.skip(path, f"malformed: {res[1]} ({len(rows)} instances not prepared)")
                    continue
                view = VIEWS[video[-1]]
                for (no, label, _, _), r in zip(rows, res[1]):
                    src = f"{lab_dir / (video + '.txt')}:{no}"
                    if r[0] == "skip":
                        summary.skip(src, r[1])
                        continue
                    _, clip, length, src_len, clipped = r
                    if clipped:
                        summary.counters["instances clipped at the end of the skeleton file"] += 1
                    if src_len > opts.max_frames:
                        summary.counters[f"instances longer than {opts.max_frames} frames (centre-cropped)"] += 1
                    w.write(k, clip, label - 1, instance_name(part, video, label, no), length, view=view)
                    kept_videos.append(video)
                    source_lengths.append(src_len)
                    k += 1
        splits: dict[str, list[int]] = {}
        for bench, (train, test) in splits_ids.items():
            tr, te = set(train), set(test)
            both = tr & te
            if both:
                raise RawFormatError(f"{split_files[bench]}: {len(both)} video ids are both train and test, "
                                     f"e.g. {sorted(both)[0]}")
            splits[f"{bench}_train"] = [i for i, v in enumerate(kept_videos) if v in tr]
            splits[f"{bench}_test"] = [i for i, v in enumerate(kept_videos) if v in te]
            unlisted = sorted({v for v in kept_videos if v not in tr and v not in te})
            if unlisted:
                summary.note(f"{bench}: {len(unlisted)} videos are in neither list of {split_files[bench].name} "
                             f"(e.g. {unlisted[0]}); their instances are in no {bench} split")
            absent = sorted((tr | te) - set(kept_videos))
            if absent:
                summary.note(f"{bench}: {len(absent)} listed videos have no prepared instances (e.g. {absent[0]})")
        return finish(w, k, splits, num_classes, summary, source_lengths, len(tasks),
                      [f"C{c:03d}" for c in range(1, num_classes + 1)],
                      {"kind": "pku-mmd", "part": part, "interval": interval}, echo)
