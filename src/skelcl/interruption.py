"""SIGTERM (a scheduler's preemption, `kill`) during pretraining: save the interrupted state, exit non-zero.

Lightning turns SIGTERM into `SIGTERMException` at the next batch boundary; left alone that is a `SystemExit`
with status 0, so a killed run looked like a finished one (without results). The state is saved as
`interrupted.ckpt` beside the epoch checkpoints; `last.ckpt` stays the exact end-of-epoch state.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from lightning.pytorch.callbacks import OnExceptionCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

#: exit status of a run stopped by SIGTERM (the shell convention 128 + signal number)
SIGTERM_STATUS = 128 + signal.SIGTERM


class InterruptCheckpoint(OnExceptionCheckpoint):
    """Lightning's on-exception checkpoint, restricted to interruptions (SIGTERM, Ctrl-C): a crash or a
    diverged loss must not leave a checkpoint of a broken state behind."""

    def __init__(self, dirpath: str | Path) -> None:
        super().__init__(dirpath=str(dirpath), filename="interrupted")

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, (SIGTERMException, KeyboardInterrupt)):
            super().on_exception(trainer, pl_module, exception)


def exit_interrupted(trainer, checkpoint: Path) -> None:
    """Report where the interrupted state is and end the process with SIGTERM_STATUS."""
    last = checkpoint.with_name("last.ckpt")
    exact = f" ({last} holds the end of the last finished epoch)" if last.is_file() else ""
    sys.stderr.write(f"interrupted by SIGTERM at epoch {trainer.current_epoch}, step {trainer.global_step}; no "
                     f"results were written. Resume with ckpt_path={checkpoint}{exact}\n")
    raise SystemExit(SIGTERM_STATUS)
