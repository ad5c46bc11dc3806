"""A prepared dataset's directory, the other half of `formats.py`: refusing to clobber what is not a prepared
dataset, clearing (or restoring) the `.NAME.partial-PID` / `.NAME.old-PID` leftovers of killed runs, and finishing a
write with its summary (`summary.json` / `summary.md`) before the atomic commit. Used by the prepare commands and
by the readers that convert already-prepared files."""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skelcl.data.formats import FORMAT_TAG, DataFormatError, PreparedWriter
from skelcl.pids import pid_alive

log = logging.getLogger("skelcl.data.prepare")


def check_output(out: str | Path, overwrite: bool) -> Path:
    """Refuse to clobber anything that is not a prepared dataset; clear leftovers of killed runs."""
    out = Path(out)
    if out.parent.is_dir():
        clean_stale(out)  # first: it may restore `out` from a swap that a killed run left half done
    if out.exists():
        is_prepared = _is_prepared(out)
        if not out.is_dir() or (not is_prepared and any(out.iterdir())):
            raise FileExistsError(f"{out}: exists and is not a prepared skelcl dataset; refusing to replace it")
        if is_prepared and not overwrite:
            raise FileExistsError(f"{out}: a prepared dataset is already there; pass --overwrite to rebuild it")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _is_prepared(path: Path) -> bool:
    try:
        return json.loads((path / "meta.json").read_text()).get("format") == FORMAT_TAG
    except (OSError, ValueError):
        return False


def clean_stale(out: Path) -> list[Path]:
    """Remove `.NAME.partial-PID` / `.NAME.old-PID` siblings left by runs whose process no longer exists.

    Replacing a dataset renames `out` to `.NAME.old-PID`, then the new one into place. A run killed between the
    two renames leaves no `out`: then the `.old` copy is the only complete dataset and is renamed back instead
    of being deleted.
    """
    removed = []
    if not out.exists():
        for p in sorted(out.parent.glob(f".{out.name}.old-*")):
            if _stale(p) and _is_prepared(p):
                os.replace(p, out)
                log.warning("restored %s from %s: a killed run had left it half replaced", out, p)
                break
    for kind in ("partial", "old"):
        for p in out.parent.glob(f".{out.name}.{kind}-*"):
            if not _stale(p):
                continue
            shutil.rmtree(p, ignore_errors=True)
            log.warning("removed leftover %s of an interrupted run", p)
            removed.append(p)
    return removed


def _stale(p: Path) -> bool:
    """A `.NAME.KIND-PID` leftover whose process is gone (or is this one)."""
    try:
        pid = int(p.name.rsplit("-", 1)[1])
    except ValueError:
        return False
    return pid == os.getpid() or not pid_alive(pid)


class Summary:
    """What a prepare run did: kept samples per split and class, frame lengths, skipped files and why."""

    def __init__(self, dataset: str, raw: Sequence[str | Path] | str | Path, options: Mapping[str, Any]) -> None:
        self.dataset = dataset
        self.raw = [str(r) for r in (raw if isinstance(raw, (list, tuple)) else [raw])]
        self.options = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}
        self.skipped: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.counters: Counter = Counter()
        self.start = time.perf_counter()
        self.data: dict[str, Any] = {}

    def skip(self, file: str | Path, reason: str) -> None:
        log.warning("skipped %s: %s", file, reason)
        self.skipped.append({"file": str(file), "reason": reason})

    def note(self, text: str, warn: bool = True) -> None:
        if warn:
            log.warning("%s", text)
        self.notes.append(text)

    def build(self, labels: np.ndarray, source_lengths: np.ndarray, stored_lengths: np.ndarray,
              splits: Mapping[str, Sequence[int]], num_classes: int, class_names: Sequence[str] | None,
              files_parsed: int, shape: Sequence[int]) -> dict:
        wall = time.perf_counter() - self.start
        names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]

        def per_class(idx: np.ndarray) -> dict[str, int]:
            counts = np.bincount(labels[idx], minlength=num_classes)
            return {names[c]: int(counts[c]) for c in range(num_classes)}

        all_idx = np.arange(len(labels))
        reasons = Counter(s["reason"].split(":")[0] for s in self.skipped)
        self.data = {
            "dataset": self.dataset,
            "raw": self.raw,
            "options": self.options,
            "samples": int(len(labels)),
            "shape": [int(s) for s in shape],
            "num_classes": int(num_classes),
            "splits": {k: int(len(v)) for k, v in splits.items()},
            "per_class": {"all": per_class(all_idx),
                          **{k: per_class(np.asarray(v, dtype=np.int64)) for k, v in splits.items()}},
            "frames_source": length_stats(source_lengths),
            "frames_stored": length_stats(stored_lengths),
            "skipped": self.skipped,
            "skipped_by_reason": dict(reasons),
            "counters": dict(self.counters),
            "notes": self.notes,
            "files_parsed": int(files_parsed),
            "wall_s": round(wall, 2),
            "files_per_s": round(files_parsed / wall, 1) if wall > 0 else None,
        }
        return self.data

    def markdown(self) -> str:
        d = self.data
        lines = [f"# {d['dataset']}: prepare summary", "",
                 f"- raw: {', '.join(d['raw'])}",
                 "- options: " + ", ".join(f"{k}={v}" for k, v in d["options"].items()),
                 f"- samples kept: {d['samples']}; array shape {tuple(d['shape'])}; classes: {d['num_classes']}",
                 f"- files parsed: {d['files_parsed']} in {d['wall_s']} s ({d['files_per_s']} files/s)", "",
                 "## Splits", "", "| split | samples |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in d["splits"].items()]
        lines += ["", "## Frames per sample", "", "| | min | median | mean | max | total |", "|---" * 6 + "|"]
        for key in ("frames_source", "frames_stored"):
            s = d[key]
            cells = [key.split("_")[1]] + [str(s[k]) for k in ("min", "median", "mean", "max", "total")]
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", "## Samples per class", ""]
        cols = list(d["per_class"])
        lines += ["| class | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for c in d["per_class"]["all"]:
            lines.append(f"| {c} | " + " | ".join(str(d["per_class"][k][c]) for k in cols) + " |")
        lines += ["", f"## Skipped ({len(d['skipped'])})", ""]
        if d["skipped_by_reason"]:
            lines += [f"- {r}: {n}" for r, n in d["skipped_by_reason"].items()]
            lines += [""] + [f"- `{s['file']}`: {s['reason']}" for s in d["skipped"][:200]]
            if len(d["skipped"]) > 200:
                lines.append(f"- ... {len(d['skipped']) - 200} more in summary.json")
        else:
            lines.append("none")
        if d["counters"]:
            lines += ["", "## Counters", ""] + [f"- {k}: {v}" for k, v in d["counters"].items()]
        if d["notes"]:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in d["notes"]]
        return "\n".join(lines) + "\n"

    def short(self) -> str:
        d = self.data
        s = d["frames_source"]
        parts = [f"{d['dataset']}: {d['samples']} samples, shape {tuple(d['shape'])}",
                 "splits: " + ", ".join(f"{k}={v}" for k, v in d["splits"].items()),
                 f"frames (source): min {s['min']} / median {s['median']} / mean {s['mean']} / max {s['max']}",
                 f"skipped: {len(d['skipped'])}" + (f" ({dict(d['skipped_by_reason'])})" if d["skipped"] else ""),
                 f"time: {d['wall_s']} s for {d['files_parsed']} files ({d['files_per_s']} files/s)"]
        parts += [f"note: {n}" for n in d["notes"]]
        return "\n".join(parts)

    def write(self, directory: Path) -> None:
        (directory / "summary.json").write_text(json.dumps(self.data, indent=1))
        (directory / "summary.md").write_text(self.markdown())


def length_stats(lengths: np.ndarray) -> dict[str, float | int]:
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        return {"min": 0, "median": 0, "mean": 0, "max": 0, "total": 0}
    return {"min": int(lengths.min()), "median": float(statistics.median(lengths.tolist())),
            "mean": round(float(lengths.mean()), 2), "max": int(lengths.max()), "total": int(lengths.sum())}


def finish(writer: PreparedWriter, kept: int, splits: Mapping[str, Sequence[int]], num_classes: int,
           summary: Summary, source_lengths: Sequence[int], files_parsed: int,
           class_names: Sequence[str] | None = None, source: Mapping | None = None,
           echo: bool = True) -> Path:
    """Shrink to the kept samples, write summary.{json,md} into the temporary dir, then commit atomically."""
    if kept < 1:
        raise DataFormatError(f"{writer.out}: no usable samples ({len(summary.skipped)} skipped); nothing written")
    writer.shrink(kept)
    summary.build(writer.labels, np.asarray(source_lengths[:kept]), writer.lengths, splits, num_classes,
                  class_names, files_parsed, (kept, *writer.data.shape[1:]))
    summary.write(writer.tmp)
    src = {"summary": "summary.json", **dict(source or {})}
    out = writer.commit(splits, num_classes, class_names, src)
    if echo:
        print(summary.short())
        print(f"wrote {out} (summary: {out / 'summary.md'})")
    return out
