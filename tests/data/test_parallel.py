"""The prepare worker pool: it never hangs at shutdown, a finished map closes it, an interrupted one terminates it,
and the CLI's SIGTERM / Ctrl-C / SIGKILL leave no workers and no partial output behind (issue 16).

Everything that could hang on a regression runs in a subprocess under a timeout, in its own session, and is
killed with its whole process group if the timeout passes, so a failure never hangs the suite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from skelcl.data.formats import load_prepared
from skelcl.data.prepare.common import parallel_map
from skelcl.data.prepare.ntu import prepare_ntu
from tests.data import fixtures as fx

posix_signals = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals and /proc (Linux)")


def square(x: int) -> int:
    return x * x


def dispositions(_) -> tuple:
    """In a worker: its SIGTERM / SIGINT handlers and whether either signal is still blocked."""
    def name(h):
        return h.name if isinstance(h, signal.Handlers) else f"Python handler {h!r}"

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return (name(signal.getsignal(signal.SIGTERM)), name(signal.getsignal(signal.SIGINT)),
            signal.SIGTERM in blocked or signal.SIGINT in blocked)


def _run(args: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    """Run to the end, or kill the whole process group (workers included) after `timeout` and fail."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"hung for {timeout} s (killed): stdout {out[-2000:]!r} stderr {err[-2000:]!r}")
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


# ----------------------------------------------------------------------------------------------- stop vs terminate


@pytest.fixture
def started(monkeypatch):
    """The workers each map starts (their Process objects, inspected after the map)."""
    from skelcl.data.prepare import common

    workers: list = []
    real = common._Worker.__init__

    def record(self, *args, **kw):
        real(self, *args, **kw)
        workers.append(self.proc)

    monkeypatch.setattr(common._Worker, "__init__", record)
    return workers


@pytest.mark.parametrize("progress", [False, True])
def test_a_finished_map_stops_its_workers_cleanly(started, progress):
    items = list(range(40))
    with parallel_map(square, items, workers=2, progress=progress, chunksize=3) as results:
        # the prepare commands zip results with their inputs: the result iterator itself is never exhausted
        pairs = list(zip(items, results))
    assert pairs == [(i, i * i) for i in items]
    assert [p.exitcode for p in started] == [0, 0]  # each took its stop message


def slow_after_one(x: int) -> int:
    if x >= 1:
        time.sleep(1.0)
    return x


def test_an_early_or_failed_exit_terminates_the_busy_workers(started):
    t0 = time.monotonic()
    with parallel_map(slow_after_one, list(range(40)), workers=2, progress=False, chunksize=1) as results:
        assert next(results) == 0
    assert [p.exitcode for p in started] == [-signal.SIGTERM] * 2
    with pytest.raises(RuntimeError), parallel_map(slow_after_one, list(range(40)), workers=2, progress=False,
                                                   chunksize=1) as results:
        next(results)
        raise RuntimeError
    assert [p.exitcode for p in started[2:]] == [-signal.SIGTERM] * 2
    assert time.monotonic() - t0 < 10  # not the 20 s the remaining items would take


def fail_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError("item 7 is malformed")
    return x


def test_a_worker_error_reaches_the_parent_and_stops_the_others(started):
    with pytest.raises(ValueError, match="item 7 is malformed"), parallel_map(
            fail_on_seven, list(range(40)), workers=2, progress=False, chunksize=2) as results:
        list(results)
    assert all(p.exitcode is not None for p in started)


def die_on_five(x: int) -> int:
    if x == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_worker_that_dies_fails_the_map_instead_of_hanging_it():
    with pytest.raises(RuntimeError, match="worker died.*exit code -9"), parallel_map(
            die_on_five, list(range(20)), workers=2, progress=False, chunksize=1) as results:
        list(results)


@posix_signals
def test_workers_keep_none_of_the_parents_signal_handlers():
    def on_term(signum, frame):  # pragma: no cover - never called
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        with parallel_map(dispositions, list(range(8)), workers=2, progress=False, chunksize=1) as results:
            seen = set(results)
    finally:
        signal.signal(signal.SIGTERM, old)
    assert seen == {("SIG_DFL", "SIG_IGN", False)}
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # the parent's mask is restored


# --------------------------------------------------------------------------------------------------------- hangs

REPEAT = """
    import signal, sys
    from multiprocessing import active_children
    from skelcl.data.prepare.common import parallel_map

    def on_term(signum, frame):  # what the prepare CLI installs
        raise SystemExit(128 + signum)

    def square(x):
        return x * x

    signal.signal(signal.SIGTERM, on_term)
    items = list(range(12))
    for _ in range(int(sys.argv[1])):
        with parallel_map(square, items, workers=3, progress=False, chunksize=1) as results:
            assert list(results) == [x * x for x in items]
        try:  # leaving early: Pool.terminate() while the workers wait on the task queue
            with parallel_map(square, items, workers=3, progress=False, chunksize=1) as results:
                next(results)
                raise RuntimeError
        except RuntimeError:
            pass
    assert not active_children(), active_children()
    print("ok")
"""


@posix_signals
def test_repeated_maps_with_a_sigterm_handler_in_the_parent_never_hang(tmp_path):
    """Before the fix a worker forked with the CLI's Python SIGTERM handler could lose Pool.terminate()'s SIGTERM
    and block on the task-queue lock for ever (here: within a few dozen rounds on a 2-core machine)."""
    script = tmp_path / "repeat.py"
    script.write_text(textwrap.dedent(REPEAT))
    proc = _run([sys.executable, str(script), "150"], timeout=300)  # a hang never ends; 120 s was hit under load
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


# ------------------------------------------------------------------------------------------ the CLI under signals

SLOW_PREPARE = """
    import os, sys, time
    from pathlib import Path
    import skelcl.data.prepare.ntu as ntu
    from skelcl.data.prepare.__main__ import main

    marks, delay = Path(sys.argv[1]), float(sys.argv[2])
    parse = ntu.process_file

    def slow(path, opts):  # each worker leaves its pid, then parses slowly
        (marks / str(os.getpid())).touch()
        time.sleep(delay)
        return parse(path, opts)

    ntu.process_file = slow
    sys.exit(main(sys.argv[3:]))
"""

NAMES = [f"S001C00{c}P0{p:02d}R001A0{a:02d}" for c in (1, 2) for p in (1, 2, 3, 4, 5) for a in (1, 2, 3, 4)]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie has exited (its new parent may not reap it)


def _workers(marks: Path) -> list[int]:
    return [int(p.name) for p in marks.iterdir()]


def _wait(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.fixture
def slow_prepare(tmp_path):
    """Start `prepare ntu60` (2 workers, 0.2 s per file) in its own session; yields once both workers parse."""
    raw = fx.make_ntu_tree(tmp_path / "raw", NAMES, frames=4, bodies=1)
    script, marks, out = tmp_path / "slow.py", tmp_path / "marks", tmp_path / "out" / "ntu"
    script.write_text(textwrap.dedent(SLOW_PREPARE))
    marks.mkdir()
    args = [sys.executable, str(script), str(marks), "0.2", "ntu60", "--raw", str(raw), "--out", str(out),
            "--workers", "2", "--no-progress", "--missing", "none"]
    # as from a terminal: a shell without job control starts background jobs with SIGINT ignored, which the child
    # would inherit (and then never see Ctrl-C)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        if not _wait(lambda: len(_workers(marks)) >= 2 or proc.poll() is not None, 60) or proc.poll() is not None:
            pytest.fail(f"prepare did not start two workers: {proc.communicate(timeout=30)}")
        yield proc, marks, out, raw
    finally:
        if proc.poll() is None or any(not _gone(p) for p in _workers(marks)):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.communicate(timeout=30)


def _finish(proc: subprocess.Popen, timeout: float = 60) -> str:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"prepare did not exit within {timeout} s of the signal (killed)")
    return err


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir()) if out.parent.exists() else []


@posix_signals
@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_sigterm_and_ctrl_c_stop_workers_and_remove_the_partial_output(slow_prepare, how):
    proc, marks, out, _ = slow_prepare
    assert any(p.startswith(".ntu.partial-") for p in _leftovers(out))  # the writer is open while workers parse
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)
    else:  # a terminal's Ctrl-C reaches the whole foreground process group, workers included
        os.killpg(proc.pid, signal.SIGINT)
    err = _finish(proc)
    assert proc.returncode == (143 if how == "sigterm" else 130), err
    assert _leftovers(out) == []
    assert all(_gone(p) for p in _workers(marks))
    assert "Traceback" not in err, err
    if how == "ctrl-c":
        assert "interrupted: no output written" in err


@posix_signals
def test_sigkill_leaves_no_workers_and_no_tracebacks_and_a_rerun_cleans_up(slow_prepare):
    proc, marks, out, raw = slow_prepare
    proc.kill()
    assert _wait(lambda: all(_gone(p) for p in _workers(marks)), 10), "workers outlived the killed parent"
    err = _finish(proc, 30)  # stderr closes once no worker holds it
    assert proc.returncode == -signal.SIGKILL
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert [p for p in _leftovers(out) if p.startswith(".ntu.partial-")]  # killed outright: cleaned by a re-run
    prepare_ntu("ntu60", raw, out, workers=2, progress=False, echo=False, missing="none")
    assert load_prepared(out).shape[0] == len(NAMES) and _leftovers(out) == ["ntu"]
