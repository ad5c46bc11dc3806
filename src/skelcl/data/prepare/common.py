"""Shared machinery of the `prepare` commands: raw-file errors that name the file and line, option checks, and
parallel parsing (one task per file, results in input order, workers that die with their parent; Ctrl-C or SIGTERM
stops the pool). The output directory's protocol (temporary write, atomic swap, leftovers, summary) lives in
`skelcl.data.prepared_dir`."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from skelcl.data.formats import DataFormatError

log = logging.getLogger("skelcl.data.prepare")


class RawFormatError(DataFormatError):
    """A raw input file is malformed. The message names the file (and line where it applies)."""


def where(path: str | Path, line: int | None = None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


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


def split_indices(keys: Sequence, rules: Mapping[str, Callable[[Any], bool]]) -> dict[str, list[int]]:
    """Split name -> indices of samples whose key satisfies the rule."""
    return {name: [i for i, k in enumerate(keys) if rule(k)] for name, rule in rules.items()}
