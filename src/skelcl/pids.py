"""Whether a process id still names a live process: used to tell leftovers of a killed writer (temporary
checkpoint files, half-prepared dataset directories, named by the writer's pid) from a write still in progress."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
