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


def read_raw(read: Callable[[str], Any], path: str) -> tuple[Any, str | None]:
    """`(read(path), None)`, or `(None, message)` for a malformed or unreadable file: workers report, never raise."""
    try:
        return read(path), None
    except RawFormatError as e:
        return None, str(e)
    except OSError as e:
        return None, f"{path}: cannot read: {e}"


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
    """First thing in a worker: keep none of the parent's Python signal handlers, and die with the parent.

    The worker was forked holding SIGINT/SIGTERM (`_stop_signals_held`) but with the parent's Python handlers
    installed, e.g. the CLI's SIGTERM -> SystemExit. With such a handler the parent's SIGTERM could be lost
    (CPython clears the flags of caught but not yet handled signals right after fork, so one that reaches a
    just-forked worker vanishes) and the worker would wait for work for ever. Resetting the handler here alone
    would not close that window; holding the signals across the fork does. Here: SIGINT ignored (Ctrl-C is the
    parent's business; it stops the workers), every other Python-level handler back to the default action, then
    the held signals are released, so a SIGTERM already sent ends the worker now.
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
    """Context manager giving `map(func, items)` (in input order) over worker processes, with a progress bar.

    Leaving the block once every result has arrived stops the workers (each takes a stop message and exits 0);
    leaving it earlier, by an exception, Ctrl-C or (in the CLI) SIGTERM, terminates them. Workers keep none of the
    parent's signal handlers (see `_init_worker`) and, on Linux, die with the parent. A worker that dies (e.g.
    killed by the OOM killer) fails the map with an error instead of hanging it.

    Not `multiprocessing.Pool`: its `terminate()` can deadlock waiting for the task queue's shared lock while an
    idle worker that missed its stop sentinel holds it (CPython issue 78178, seen here under load). Each worker
    here has its own pipe and no lock is shared, so stopping them cannot block.
    """
    workers = default_workers() if workers is None else max(1, int(workers))
    total = len(items)
    with ExitStack() as stack:
        if workers == 1 or total <= 1:
            results: Iterator = map(func, items)
        else:
            chunk = chunksize or max(1, min(32, total // (workers * 8)))
            chunks = [list(items[i:i + chunk]) for i in range(0, total, chunk)]
            ctx = get_context("fork" if os.name == "posix" else "spawn")
            procs: list[_Worker] = []
            in_order = _InOrder(procs, chunks)
            # a Ctrl-C or SIGTERM during the forks is handled once the workers are registered for shutdown below
            with _stop_signals_held():
                stack.callback(lambda: _stop_workers(procs, graceful=in_order.all_arrived))
                procs.extend(_Worker(ctx, func) for _ in range(min(workers, len(chunks))))
            results = iter(in_order)
        if progress:  # started after the fork: the workers never inherit the bar's thread
            bar, task = _progress(desc, total)
            stack.callback(bar.stop)
            results = _advance(results, bar, task)
        yield results


class _Worker:
    """One worker process and the parent's end of its private duplex pipe."""

    def __init__(self, ctx, func: Callable[[Any], Any]) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_work, args=(child, func, os.getpid()), daemon=True)
        self.proc.start()
        child.close()


def _work(conn, func: Callable[[Any], Any], parent: int) -> None:
    """Worker loop: (index, items) -> ("ok", index, results) or ("error", index, exception); None stops it."""
    _init_worker(parent)
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent closed its end
            return
        if task is None:
            return
        index, chunk = task
        try:
            reply = ("ok", index, [func(x) for x in chunk])
        except Exception as e:  # sent to the parent, which raises it
            reply = ("error", index, e)
        try:
            conn.send(reply)
        except Exception as e:  # e.g. an unpicklable exception or result
            conn.send(("error", index, RuntimeError(f"{type(e).__name__}: {e} (sending {reply[1]!r})")))


class _InOrder:
    """Hands chunks to idle workers and yields their results in input order. `all_arrived` is true once every
    chunk's result is in and no worker is busy: the workers can then be stopped cleanly, even if the caller never
    reads the iterator to its end."""

    def __init__(self, procs: list[_Worker], chunks: list[list]) -> None:
        self.procs, self.chunks = procs, chunks
        self.all_arrived = False

    def __iter__(self) -> Iterator:
        from multiprocessing.connection import wait

        chunks = self.chunks
        idle, busy = list(self.procs), {}
        ready: dict[int, list] = {}
        sent = emitted = 0
        while emitted < len(chunks):
            while idle and sent < len(chunks):
                w = idle.pop()
                w.conn.send((sent, chunks[sent]))
                busy[w.conn] = w
                sent += 1
            for conn in wait(list(busy)):
                w = busy.pop(conn)
                try:
                    kind, index, payload = conn.recv()
                except EOFError:
                    w.proc.join(1)
                    raise RuntimeError(f"a parsing worker died (exit code {w.proc.exitcode}); e.g. out of memory: "
                                       "retry with fewer --workers") from None
                if kind == "error":
                    raise payload
                ready[index] = payload
                idle.append(w)
            self.all_arrived = sent == len(chunks) and not busy
            while emitted in ready:
                yield from ready.pop(emitted)
                emitted += 1


def _stop_workers(procs: list[_Worker], graceful: bool) -> None:
    """After a finished map each idle worker takes a stop message; otherwise SIGTERM (the workers hold no shared
    lock, so killing one mid-task cannot block the others or the parent)."""
    for w in procs:
        if graceful:
            try:
                w.conn.send(None)
            except OSError:
                pass
        elif w.proc.is_alive():
            w.proc.terminate()
    for w in procs:
        w.proc.join(None if graceful else 10)
        if w.proc.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
            w.proc.kill()
            w.proc.join()
        w.conn.close()


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
