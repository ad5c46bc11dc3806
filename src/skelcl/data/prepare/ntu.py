"""NTU RGB+D 60 / 120: raw `.skeleton` files -> prepared dataset.

Parsing follows the official `Matlab/read_skeleton_file.m` layout strictly: every
field of every body-info and joint line is checked to be numeric, the joint count must be 25, and the
whole file must be consumed. Any violation raises `RawFormatError` naming the file and the line.

Body handling
  `aimclr` (default, = CrosSCLR/AimCLR `ntu_gendata.py`): body slot m of frame t is the m-th body listed in
      that frame (m < 2); extra bodies are dropped; 0-body frames stay as zero frames at their index.
  `pyskl`: the denoising / ordering of pyskl's `ntu_preproc.py`, see `bodies_pyskl`.
Normalisation
  `none`: raw coordinates, up to `max_frames` (300) frames, zero padded, length = frames kept.
  `frame50`: pipeline A2 (`skelcl.data.normalize.frame50`) to `frames` (50; 64 for SkeAttnCLR).

Missing-skeleton samples: the official lists (`shahroudy/NTURGB-D: Matlab/NTU_RGBD_samples_with_missing_
skeletons.txt`, 302 names, and `NTU_RGBD120_samples_with_missing_skeletons.txt`, 535 names) could not be
shipped here: the packaged resources `resources/ntu60_missing.txt` / `ntu120_missing.txt` hold only the
one entry `S001C002P005R002A008` and explain how to obtain the full files. Pass
the official file with `--missing FILE`. Independently of any list, a file with zero bodies in every frame
is skipped with a warning and a summary line. Whether every officially listed sample is such an empty file
could not be checked here, so the official counts (56,578 / 113,945) are only guaranteed with `--missing`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path

import numpy as np

from skelcl.data.formats import PreparedWriter
from skelcl.data.layouts import NTU25
from skelcl.data.names import NTU_NAME_RE, NtuName, try_parse_ntu_name
from skelcl.data.normalize import EmptySequenceError, frame50
from skelcl.data.prepare.common import (
    RawFormatError,
    check_options,
    parallel_map,
    read_raw,
    split_indices,
    where,
)
from skelcl.data.prepared_dir import Summary, check_output, finish

log = logging.getLogger("skelcl.data.prepare")

NUM_JOINTS = 25
BODY_INFO_FIELDS = ("bodyID", "clipedEdges", "handLeftConfidence", "handLeftState", "handRightConfidence",
                    "handRightState", "isResticted", "leanX", "leanY", "trackingState")
JOINT_FIELDS = ("x", "y", "z", "depthX", "depthY", "colorX", "colorY", "orientationW", "orientationX",
                "orientationY", "orientationZ", "trackingState")
_FLOAT_INFO = (7, 8)  # leanX, leanY; the other body-info fields are integers

NTU60_XSUB_TRAIN = frozenset((1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38))
NTU120_XSUB_TRAIN = NTU60_XSUB_TRAIN | frozenset(
    (45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93,
     94, 95, 97, 98, 100, 103))
NTU60_XVIEW_TRAIN_CAMERAS = frozenset((2, 3))

@dataclass(frozen=True)
class DatasetSpec:
    name: str
    max_setup: int
    max_action: int
    splits: dict  # split name -> rule(NtuName) -> bool

    @property
    def num_classes(self) -> int:
        return self.max_action

    def contains(self, n: NtuName) -> bool:
        return n.setup <= self.max_setup and n.action <= self.max_action


def _xsub60(n: NtuName) -> bool:
    return n.performer in NTU60_XSUB_TRAIN


def _xsub120(n: NtuName) -> bool:
    return n.performer in NTU120_XSUB_TRAIN


def _xview(n: NtuName) -> bool:
    return n.camera in NTU60_XVIEW_TRAIN_CAMERAS


def _xset(n: NtuName) -> bool:
    return n.setup % 2 == 0


DATASETS = {
    "ntu60": DatasetSpec("ntu60", 17, 60, {
        "xsub_train": _xsub60, "xsub_test": lambda n: not _xsub60(n),
        "xview_train": _xview, "xview_test": lambda n: not _xview(n)}),
    "ntu120": DatasetSpec("ntu120", 32, 120, {
        "xsub_train": _xsub120, "xsub_test": lambda n: not _xsub120(n),
        "xset_train": _xset, "xset_test": lambda n: not _xset(n)}),
}


def splits_for(dataset: str, names: Sequence[NtuName]) -> dict[str, list[int]]:
    """Official benchmark splits from sample names (xsub/xview for NTU-60, xsub/xset for NTU-120)."""
    return split_indices(names, DATASETS[dataset].splits)


# --------------------------------------------------------------------------------------------- missing lists


def load_missing_list(path: str | Path | None = None, dataset: str = "ntu60") -> list[str]:
    """Names from an official missing-skeleton list (or the packaged resource when `path` is None).

    Accepts the official files (two prose lines and a blank line, then one name per line), pyskl's copy (names
    only) and the packaged resources ('#' comments). Prose is only allowed before the first name; any
    later line that is not a sample name is an error naming the file and line.
    """
    if path is None:
        ref = resources.files("skelcl.data.prepare").joinpath("resources", f"{dataset}_missing.txt")
        text, src = ref.read_text(), f"skelcl resource {dataset}_missing.txt"
    else:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"{p}: missing-skeleton list not found")
        text, src = p.read_text(errors="replace"), str(p)
    names: list[str] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        stem = line[: -len(".skeleton")] if line.endswith(".skeleton") else line
        if NTU_NAME_RE.fullmatch(stem):
            names.append(stem)
        elif names:
            raise RawFormatError(f"{where(src, no)}: '{line[:60]}' is not an NTU sample name")
    return names


# ----------------------------------------------------------------------------------------------------- parser


@dataclass
class RawSkeleton:
    """One parsed `.skeleton` file. Bodies are listed in file order over all frames."""

    path: str
    body_counts: np.ndarray  # (T,) bodies per frame
    body_ids: np.ndarray  # (B,) int64 tracking ids
    body_info: np.ndarray  # (B, 10) float64, all body-info fields
    joints: np.ndarray  # (B, 25, 12) float32, all joint fields

    @property
    def frames(self) -> int:
        return len(self.body_counts)

    @property
    def xyz(self) -> np.ndarray:
        return self.joints[:, :, :3]

    @property
    def body_frame(self) -> np.ndarray:
        """(B,) frame index of every body."""
        return np.repeat(np.arange(self.frames), self.body_counts)


def _int(tok: str, path: str, line: int, what: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise RawFormatError(f"{where(path, line)}: {what} '{tok.strip()[:40]}' is not an integer") from None


def parse_skeleton(path: str | Path) -> RawSkeleton:
    """Parse one `.skeleton` file strictly (see module docstring). Accepts LF and CRLF line ends."""
    path = str(path)
    with open(path, encoding="ascii", errors="replace") as f:
        lines = f.read().split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    n = len(lines)
    if n == 0:
        raise RawFormatError(f"{path}: empty file (no frame count)")

    def truncated(i: int, what: str) -> RawFormatError:
        return RawFormatError(f"{where(path, n)}: file is truncated: expected {what} at line {i + 1}, "
                              f"but the file ends at line {n}")

    frames = _int(lines[0], path, 1, "frame count")
    if frames < 0:
        raise RawFormatError(f"{where(path, 1)}: negative frame count {frames}")
    counts: list[int] = []
    info_lines: list[int] = []  # 0-based index of every body-info line; joints follow 2 lines later
    i = 1
    for t in range(frames):
        if i >= n:
            raise truncated(i, f"the body count of frame {t + 1}")
        try:
            c = int(lines[i])
        except ValueError:
            c = _int(lines[i], path, i + 1, f"body count of frame {t + 1}")
        if c < 0:
            raise RawFormatError(f"{where(path, i + 1)}: negative body count {c}")
        counts.append(c)
        i += 1
        for b in range(c):
            if i + 2 > n:
                raise truncated(i, f"body {b + 1} of frame {t + 1}")
            try:
                jc = int(lines[i + 1])
            except ValueError:
                jc = _int(lines[i + 1], path, i + 2, "joint count")
            if jc != NUM_JOINTS:
                raise RawFormatError(f"{where(path, i + 2)}: joint count {jc}, expected {NUM_JOINTS}")
            if i + 2 + NUM_JOINTS > n:
                raise truncated(i + 2, f"{NUM_JOINTS} joint lines of body {b + 1} in frame {t + 1}")
            info_lines.append(i)
            i += 2 + NUM_JOINTS
    if i != n:
        raise RawFormatError(f"{where(path, i + 1)}: {n - i} unexpected line(s) after the last of {frames} frames")

    nb = len(info_lines)
    info, ids = _parse_body_info(path, lines, info_lines)
    joint_starts = [i + 2 for i in info_lines]
    if nb:
        block = [line for s in joint_starts for line in lines[s : s + NUM_JOINTS]]
        try:
            joints = np.loadtxt(block, dtype=np.float64, comments=None, ndmin=2)
            if joints.shape[1] != len(JOINT_FIELDS):
                raise ValueError
        except ValueError:
            _locate_bad_joint_line(path, lines, joint_starts)
            raise  # _locate_bad_joint_line always raises; kept for safety
        joints = joints.reshape(nb, NUM_JOINTS, len(JOINT_FIELDS))
        if not np.isfinite(joints).all():
            b, j, k = (int(x) for x in np.argwhere(~np.isfinite(joints))[0])
            raise RawFormatError(f"{where(path, joint_starts[b] + j + 1)}: non-finite {JOINT_FIELDS[k]} "
                                 f"({lines[joint_starts[b] + j].split()[k]}) for joint {j + 1}")
        joints = joints.astype(np.float32)
    else:
        joints = np.zeros((0, NUM_JOINTS, len(JOINT_FIELDS)), dtype=np.float32)
    return RawSkeleton(path, np.array(counts, dtype=np.int64), ids, info, joints)


def _parse_body_info(path: str, lines: list[str], at: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(B, 10) float64 body-info fields and (B,) int64 bodyIDs; integer fields must be integers."""
    rows = [lines[i].split() for i in at]
    for i, r in zip(at, rows):
        if len(r) != len(BODY_INFO_FIELDS):
            raise RawFormatError(f"{where(path, i + 1)}: body-info line has {len(r)} fields, expected "
                                 f"{len(BODY_INFO_FIELDS)} ({' '.join(BODY_INFO_FIELDS)})")
    if not rows:
        return np.zeros((0, len(BODY_INFO_FIELDS))), np.zeros(0, dtype=np.int64)
    try:
        ids = np.array([int(r[0]) for r in rows], dtype=np.int64)  # exact: ids exceed float64's integer range
        info = np.array(rows, dtype=np.float64)
        ints = [k for k in range(1, len(BODY_INFO_FIELDS)) if k not in _FLOAT_INFO]
        if not np.all(np.mod(info[:, ints], 1) == 0) or not np.isfinite(info).all():
            raise ValueError
    except (ValueError, OverflowError):
        for i, r in zip(at, rows):
            for k, tok in enumerate(r):
                if k in _FLOAT_INFO:
                    try:
                        if np.isfinite(float(tok)):
                            continue
                    except ValueError:
                        pass
                    raise RawFormatError(f"{where(path, i + 1)}: {BODY_INFO_FIELDS[k]} '{tok[:40]}' is not a "
                                         "finite number") from None
                _int(tok, path, i + 1, BODY_INFO_FIELDS[k])
        raise RawFormatError(f"{path}: could not read the body-info lines") from None
    info[:, 0] = ids
    return info, ids


def _locate_bad_joint_line(path: str, lines: list[str], starts: list[int]) -> None:
    for s in starts:
        for j in range(NUM_JOINTS):
            fields = lines[s + j].split()
            if len(fields) != len(JOINT_FIELDS):
                raise RawFormatError(f"{where(path, s + j + 1)}: joint line has {len(fields)} fields, expected "
                                     f"{len(JOINT_FIELDS)} ({' '.join(JOINT_FIELDS)})")
            for k, tok in enumerate(fields):
                try:
                    float(tok)
                except ValueError:
                    raise RawFormatError(f"{where(path, s + j + 1)}: {JOINT_FIELDS[k]} of joint {j + 1} "
                                         f"'{tok[:40]}' is not a number") from None
    raise RawFormatError(f"{path}: could not read the joint lines")


# ------------------------------------------------------------------------------------------------ body modes


def bodies_file_order(raw: RawSkeleton, max_bodies: int = 2) -> np.ndarray:
    """CrosSCLR/AimCLR: (3, T, 25, max_bodies); slot m = m-th body listed in the frame, extras dropped."""
    out = np.zeros((raw.frames, max_bodies, NUM_JOINTS, 3), dtype=np.float32)
    if len(raw.body_ids):
        frame = raw.body_frame
        first = np.concatenate([[0], np.cumsum(raw.body_counts)[:-1]])
        slot = np.arange(len(frame)) - first[frame]
        keep = slot < max_bodies
        out[frame[keep], slot[keep]] = raw.xyz[keep]
    return out.transpose(3, 0, 2, 1)


PYSKL_MIN_FRAMES = 11  # bodies must have MORE than this many frames
PYSKL_SPREAD_RATIO = 0.8  # a frame is noisy if x-range > 0.8 * y-range
PYSKL_NOISE_RATIO = 0.69754  # a body with this fraction of noisy frames (or more) is dropped


def _motion(kpt: np.ndarray) -> float:
    """Sum over x, y, z of the variance over all points of the body."""
    return float(np.sum(np.var(kpt.reshape(-1, 3), axis=0))) if kpt.size else 0.0


def bodies_pyskl(raw: RawSkeleton) -> np.ndarray:
    """pyskl `ntu_preproc.py` body denoising and ordering; returns (3, T', 25, 2).

    1. 0-body frames are dropped (frame index compacted); bodies grouped by bodyID with kpt (T_b, 25, 3),
       their first compacted frame and motion = sum_xyz var.
    2. One body: keep it. Else keep bodies with > 11 frames; one left: keep it; else the spread filter
       (frame valid if x-range <= 0.8 y-range; drop a body with noisy ratio >= 0.69754; motion := min(motion,
       motion over valid frames)). Sort by motion, descending. Fallbacks not specified upstream: when the
       length filter or the spread filter would drop every body, the bodies before that filter are used.
    3. Pack: top body in slot 0; further bodies into slot 0 if their frames do not overlap slot 0's frames,
       else slot 1 if they do not overlap slot 1's, else dropped.
    4. Trim leading/trailing frames where both slots are (near) zero; swap slots if slot 0 is empty at
       frame 0 while slot 1 is not. (pyskl then stores float16; we keep float32.)
    """
    nonempty = raw.body_counts > 0
    compact = np.cumsum(nonempty) - 1  # compacted frame index of every original frame
    frames = int(nonempty.sum())
    body_frame = compact[raw.body_frame]
    bodies: dict[int, dict] = {}
    for b, bid in enumerate(raw.body_ids.tolist()):
        d = bodies.setdefault(bid, {"frames": [], "kpt": []})
        d["frames"].append(int(body_frame[b]))
        d["kpt"].append(raw.xyz[b])
    blist = []
    for d in bodies.values():
        kpt = np.stack(d["kpt"])
        blist.append({"frames": np.array(d["frames"]), "kpt": kpt, "motion": _motion(kpt)})

    if len(blist) > 1:
        longer = [b for b in blist if len(b["kpt"]) > PYSKL_MIN_FRAMES]
        blist = longer or blist
    if len(blist) > 1:
        denoised = []
        for b in blist:
            k = b["kpt"]
            xr = k[:, :, 0].max(1) - k[:, :, 0].min(1)
            yr = k[:, :, 1].max(1) - k[:, :, 1].min(1)
            valid = xr <= PYSKL_SPREAD_RATIO * yr
            if 1.0 - valid.mean() >= PYSKL_NOISE_RATIO:
                continue
            denoised.append({**b, "motion": min(b["motion"], _motion(k[valid]))})
        blist = denoised or blist
    blist.sort(key=lambda b: -b["motion"])

    out = np.zeros((2, frames, NUM_JOINTS, 3), dtype=np.float32)
    used = np.zeros((2, frames), dtype=bool)
    for rank, b in enumerate(blist):
        fr = b["frames"]
        for slot in range(2):
            if rank == 0 or not used[slot, fr].any():
                out[slot, fr] = b["kpt"]
                used[slot, fr] = True
                break
    nz = np.abs(out).sum(axis=(2, 3)) > 1e-5  # (2, T) slot non-zero
    anyv = np.flatnonzero(nz.any(axis=0))
    if anyv.size == 0:
        return np.zeros((3, 0, NUM_JOINTS, 2), dtype=np.float32)
    out = out[:, anyv[0] : anyv[-1] + 1]
    nz = nz[:, anyv[0] : anyv[-1] + 1]
    if not nz[0, 0] and nz[1, 0]:
        out = out[::-1]
    return np.ascontiguousarray(out.transpose(3, 1, 2, 0))


# -------------------------------------------------------------------------------------------- per-file work


@dataclass(frozen=True)
class Options:
    bodies: str = "aimclr"  # 'aimclr' | 'pyskl'
    normalize: str = "none"  # 'none' | 'frame50'
    frames: int = 50  # frame50 output length
    max_frames: int = 300  # 'none' output length

    @property
    def t_max(self) -> int:
        return self.frames if self.normalize == "frame50" else self.max_frames


def process_file(path: str, opts: Options) -> tuple:
    """Worker: parse + body handling + normalisation of one file.

    Returns ('ok', clip (3, T, 25, 2), stored_length, source_frames, stats) | ('skip', reason) | ('error', msg).
    """
    raw, error = read_raw(parse_skeleton, path)
    return ("error", error) if error else process_raw(raw, opts)


def process_raw(raw: RawSkeleton, opts: Options) -> tuple:
    stats = {"frames with 0 bodies": int((raw.body_counts == 0).sum()),
             "frames with more than 2 bodies": int((raw.body_counts > 2).sum())}
    if raw.frames == 0:
        return ("skip", "empty sequence: 0 frames")
    if not raw.body_counts.any():
        return ("skip", f"no bodies in any frame: all {raw.frames} frames have 0 bodies (missing skeleton)")
    clip = bodies_pyskl(raw) if opts.bodies == "pyskl" else bodies_file_order(raw)
    if clip.shape[1] == 0:
        return ("skip", "all-zero: every joint is zero in every frame")
    source_frames = clip.shape[1]
    if opts.normalize == "frame50":
        try:
            clip, _ = frame50(clip, opts.frames)
        except EmptySequenceError as e:
            return ("skip", f"frame50: {e}")
        return ("ok", clip, opts.frames, source_frames, stats)
    if source_frames > opts.max_frames:
        stats[f"frames beyond {opts.max_frames} (cut)"] = source_frames - opts.max_frames
        clip = clip[:, : opts.max_frames]
    return ("ok", clip, clip.shape[1], source_frames, stats)


# ---------------------------------------------------------------------------------------------------- driver


def find_skeleton_files(raw_dirs: Sequence[str | Path]) -> dict[str, Path]:
    """Sample name -> path over all `*.skeleton` files below the given directories (duplicates are an error)."""
    found: dict[str, Path] = {}
    for d in raw_dirs:
        d = Path(d)
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: raw NTU directory not found")
        for p in d.rglob("*.skeleton"):
            stem = p.name[: -len(".skeleton")]
            if stem in found and found[stem] != p:
                raise RawFormatError(f"{p}: sample {stem} also found at {found[stem]}")
            found[stem] = p
    return found


def prepare_ntu(dataset: str, raw: Sequence[str | Path] | str | Path, out: str | Path, *,
                bodies: str = "aimclr", normalize: str = "none", frames: int = 50, max_frames: int = 300,
                missing: str | Path | None = "builtin", on_error: str = "raise", workers: int | None = None,
                overwrite: bool = False, progress: bool = True, echo: bool = True) -> Path:
    """Prepare NTU-60 or NTU-120 from raw `.skeleton` files. See the module docstring for the options."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown NTU dataset '{dataset}'; known: {sorted(DATASETS)}")
    if bodies not in ("aimclr", "pyskl"):
        raise ValueError(f"--bodies must be 'aimclr' or 'pyskl', got '{bodies}'")
    check_options(normalize, on_error)
    spec = DATASETS[dataset]
    raw_dirs = [raw] if isinstance(raw, (str, Path)) else list(raw)
    out = check_output(out, overwrite)
    opts = Options(bodies, normalize, int(frames), int(max_frames))
    summary = Summary(dataset, raw_dirs, {"bodies": bodies, "normalize": normalize, "frames": opts.t_max,
                                          "missing": str(missing), "on_error": on_error})

    found = find_skeleton_files(raw_dirs)
    if not found:
        raise FileNotFoundError(f"{', '.join(map(str, raw_dirs))}: no .skeleton files found")
    if missing is None or str(missing) == "none":
        missing_names: set[str] = set()
        summary.note("no missing-skeleton list used (--missing none)", warn=False)
    elif str(missing) == "builtin":
        missing_names = set(load_missing_list(None, dataset))
        official = 302 if dataset == "ntu60" else 535
        summary.note(f"built-in missing-skeleton list has only {len(missing_names)} of the {official} official names "
                     "(the full list is not shipped); pass the official file with --missing. Files with no bodies "
                     "are skipped anyway.")
    else:
        missing_names = set(load_missing_list(missing))
    selected: list[tuple[str, NtuName]] = []
    ignored = 0
    for stem in sorted(found):
        nm = try_parse_ntu_name(stem)
        if nm is None:
            summary.skip(found[stem], "file name is not an NTU sample name")
            continue
        if not spec.contains(nm):
            ignored += 1
            continue
        if stem in missing_names:
            summary.skip(found[stem], "listed in the missing-skeleton list")
            continue
        selected.append((stem, nm))
    if ignored:
        summary.note(f"{ignored} .skeleton files outside {dataset} (setup > {spec.max_setup} or action > "
                     f"{spec.max_action}) ignored", warn=False)
    if not selected:
        raise FileNotFoundError(f"{', '.join(map(str, raw_dirs))}: no {dataset} samples to prepare")

    paths = [str(found[s]) for s, _ in selected]
    kept_names: list[NtuName] = []
    source_lengths: list[int] = []
    work = parallel_map(partial(process_file, opts=opts), paths, workers, f"{dataset} .skeleton", progress)
    with PreparedWriter(out, len(paths), opts.t_max, NTU25, 2, name=dataset) as w:
        k = 0
        with work as results:
            for (stem, nm), res in zip(selected, results):
                if res[0] == "error":
                    if on_error == "raise":
                        raise RawFormatError(res[1])
                    summary.skip(found[stem], f"malformed: {res[1]}")
                    continue
                if res[0] == "skip":
                    summary.skip(found[stem], res[1])
                    continue
                _, clip, length, src_len, stats = res
                for key, v in stats.items():
                    if v:
                        summary.counters[f"{key}: files"] += 1
                        summary.counters[f"{key}: total"] += v
                w.write(k, clip, nm.label, stem, length, subject=nm.performer, view=nm.camera, setup=nm.setup)
                kept_names.append(nm)
                source_lengths.append(src_len)
                k += 1
        cut = summary.counters.get(f"frames beyond {opts.max_frames} (cut): files")
        if cut:
            summary.note(f"{cut} files longer than {opts.max_frames} frames were cut to their first {opts.max_frames}")
        if bodies == "aimclr" and summary.counters.get("frames with more than 2 bodies: files"):
            summary.note("bodies beyond the second listed in a frame were dropped (AimCLR behaviour)", warn=False)
        return finish(w, k, splits_for(dataset, kept_names), spec.num_classes, summary, source_lengths,
                      len(paths), [f"A{a:03d}" for a in range(1, spec.num_classes + 1)],
                      {"kind": "ntu-raw", "bodies": bodies, "normalize": normalize}, echo)
