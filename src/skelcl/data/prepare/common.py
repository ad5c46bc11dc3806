"""Shared machinery of the `prepare` commands: parallel parsing, streaming writes, summaries, output safety.

Workers parse raw files (one task per file, results in input order); the parent writes every accepted
sample into a `PreparedWriter`, whose temporary directory is renamed into place only at the very end.
Ctrl-C (or SIGTERM, via the CLI) anywhere before that removes the temporary directory, so the output
path either holds the previous complete dataset or nothing; a re-run starts from scratch and also
clears leftovers of runs that were killed outright (SIGKILL, power loss).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from skelcl.data.formats import FORMAT_TAG, DataFormatError, PreparedWriter
from skelcl.pids import pid_alive

log = logging.getLogger("skelcl.data.prepare")


class RawFormatError(DataFormatError):
    """A raw input file is malformed. The message names the file (and line where it applies)."""


def where(path: str | Path, line: int | None = None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


# ----------------------------------------------------------------------------------------------------- output


def check_output(out: str | Path, overwrite: bool) -> Path:
    """Refuse to clobber anything that is not a prepared dataset; clear leftovers of killed runs."""
    out = Path(out)
    if out.parent.is_dir():
        clean_stale(out)  # first: it may restore `out` from a swap that a killed run left half done
    if out.exists():
        meta = out / "meta.json"
        is_prepared = False
        if meta.is_file():
            try:
                is_prepared = json.loads(meta.read_text()).get("format") == FORMAT_TAG
            except (OSError, ValueError):
                is_prepared = False
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


def check_options(normalize: str, on_error: str) -> None:
    """The options every prepare command shares, checked before any file is read."""
    if normalize not in ("none", "frame50"):
        raise ValueError(f"--normalize must be 'none' or 'frame50', got '{normalize}'")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"--on-error must be 'raise' or 'skip', got '{on_error}'")


# --------------------------------------------------------------------------------------------------- parallel


#: the signals that stop a prepare run: the parent handles them (KeyboardInterrupt / the CLI's SIGTERM handler)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM pending in this thread, and in every process forked inside the block, until the
    block ends; one that arrived meanwhile is handled (raises) when the block ends, not lost."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _init_worker(parent: int) -> None:
    """Pool initializer: a worker keeps none of the parent's Python signal handlers, and dies with the parent.

    The worker was forked holding SIGINT/SIGTERM (`_stop_signals_held`) but with the parent's Python handlers
    installed, e.g. the CLI's SIGTERM -> SystemExit. With such a handler `Pool.terminate()`'s SIGTERM could be
    lost (CPython clears the flags of caught but not yet handled signals right after fork, so one that reaches a
    just-forked worker vanishes) and the worker would block for ever on the task queue lock, which `terminate()`
    holds while it waits for the worker (issue 16). Resetting the handler here alone would not close that
    window; holding the signals across the fork does. Here: SIGINT ignored (Ctrl-C is the parent's business; it
    terminates the pool), every other Python-level handler back to the default action, then the held signals
    are released, so a SIGTERM already sent ends the worker now.
    """
    for sig in signal.valid_signals():
        try:
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _die_with_parent(parent: int) -> None:
    """Linux: SIGKILL this worker when the parent dies (e.g. SIGKILL of `prepare`), instead of letting it run on
    and print a BrokenPipeError traceback when it next sends a result to the vanished parent.

    The kernel sends it when the thread that forked the worker ends: for the pool's workers that is the thread
    in the `parallel_map` block, which outlives the pool."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the worker ends at its next queue read or write (noisily)
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@contextmanager
def parallel_map(func: Callable[[Any], Any], items: Sequence, workers: int | None = None,
                 desc: str = "parsing", progress: bool = True, chunksize: int | None = None) -> Iterator[Iterator]:
    """Context manager giving `map(func, items)` (in input order) over a process pool, with a progress bar.

    Leaving the block after every result was read closes the pool and waits for its workers to finish; leaving
    it early, by an exception, Ctrl-C or (in the CLI) SIGTERM, terminates the pool. Workers keep none of the
    parent's signal handlers (see `_init_worker`) and, on Linux, die with the parent.
    """
    workers = default_workers() if workers is None else max(1, int(workers))
    total = len(items)
    with ExitStack() as stack:
        if workers == 1 or total <= 1:
            results: Iterator = map(func, items)
        else:
            chunk = chunksize or max(1, min(32, total // (workers * 8)))
            ctx = get_context("fork" if os.name == "posix" else "spawn")
            read = [0]
            # a Ctrl-C or SIGTERM during the forks is handled once the pool is registered for shutdown below
            with _stop_signals_held():
                pool = ctx.Pool(workers, _init_worker, (os.getpid(),))
                stack.push(lambda exc_type, exc, tb: _shut_down(pool, exc_type is None and read[0] == total))
            results = _count(pool.imap(func, items, chunk), read)
        if progress:  # started after the fork: the workers never inherit the bar's thread
            bar, task = _progress(desc, total)
            stack.callback(bar.stop)
            results = _advance(results, bar, task)
        yield results


def _shut_down(pool, finished: bool) -> None:
    if finished:  # every worker is idle: each takes its stop sentinel from the queue and exits
        pool.close()
    else:
        pool.terminate()
    pool.join()


def _count(results: Iterable, read: list[int]) -> Iterator:
    # counts results handed out: callers zip them with their inputs, so the iterator is never read to its end
    for r in results:
        read[0] += 1
        yield r


def _advance(results: Iterable, bar, task) -> Iterator:
    for r in results:
        bar.advance(task)
        yield r


def _progress(desc: str, total: int):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f} files/s")

    p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                 TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
    p.start()
    return p, p.add_task(desc, total=total)


# ---------------------------------------------------------------------------------------------------- summary


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


def split_indices(keys: Sequence, rules: Mapping[str, Callable[[Any], bool]]) -> dict[str, list[int]]:
    """Split name -> indices of samples whose key satisfies the rule."""
    return {name: [i for i, k in enumerate(keys) if rule(k)] for name, rule in rules.items()}
