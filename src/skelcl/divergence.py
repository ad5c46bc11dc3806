"""Stop pretraining at the first non-finite loss (or weight) instead of training on, and reporting, NaN.

Every step's loss terms are kept on the device; every `every_n_steps` steps (the logging interval) and at each
epoch's end they are checked together with the model state (weights, BatchNorm statistics, queue) in one
host-device synchronisation, so the step itself never waits for the accelerator. The error names the first bad
step. A run with a too-high learning rate can keep a finite loss while its activations overflow (the embeddings are
normalised), leaving inf BatchNorm statistics that turn every feature into zero: that is caught too. The epoch-end
check runs before the epoch's checkpoint is written (Lightning runs checkpoint callbacks last), so `last.ckpt`
stays the last good state and no results are recorded.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch


class TrainingDiverged(RuntimeError):
    """The pretraining loss, or the model state, became NaN or infinite."""


def nonfinite_terms(terms: dict[str, torch.Tensor]) -> list[str]:
    """Names of the step's logged loss terms (and diagnostics) that are not finite."""
    return [k for k, v in terms.items() if torch.is_tensor(v) and not bool(torch.isfinite(v).all())]


def nonfinite_state(module: torch.nn.Module) -> list[str]:
    """Names of floating-point parameters and buffers holding a NaN or inf (one device sync)."""
    named = [(n, t) for n, t in module.state_dict().items() if t.is_floating_point() and t.numel()]
    if not named:
        return []
    ok = torch.stack([torch.isfinite(t).all() for _, t in named]).cpu()
    return [named[i][0] for i in torch.nonzero(~ok).flatten().tolist()]


class DivergenceGuard(L.Callback):
    """Raise `TrainingDiverged` naming the step, the epoch and the offending loss term(s) or tensors.

    The method records the step's loss terms in `pl_module.step_terms` (see `ContrastiveMethod.training_step`).
    Every rank takes the same decision, so a NaN on one DDP process stops all of them.
    """

    def __init__(self, checkpoint_dir: str | None = None, every_n_steps: int = 1) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.every_n_steps = max(1, int(every_n_steps))
        self._pending: list[tuple[int, int, dict[str, torch.Tensor]]] = []  # (step, epoch, terms) since last check
        self._loss: torch.Tensor | None = None
        self._step = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._step = trainer.global_step  # the step this batch is, before the optimiser advances the counter

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        self._loss = loss.detach()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # after the optimiser step; steps without a backward pass (queue warm-up) have their terms recorded too
        terms = dict(getattr(pl_module, "step_terms", {}))
        if self._loss is not None:
            terms["loss"] = self._loss
        self._loss = None
        self._pending.append((self._step, trainer.current_epoch, terms))
        if len(self._pending) >= self.every_n_steps:
            self._check(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._check(trainer, pl_module)

    def _check(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pending, self._pending = self._pending, []
        first = first_nonfinite_step(pending)
        bad_state = nonfinite_state(pl_module) if first is None else []
        if not trainer.strategy.reduce_boolean_decision(bool(first is not None or bad_state), all=False):
            return
        step, epoch = trainer.global_step, trainer.current_epoch
        if first is not None:
            step, epoch, terms = pending[first]
            bad_terms = nonfinite_terms(terms)
            losses = [k for k in bad_terms if "loss" in k] or bad_terms
            what = "non-finite loss: " + ", ".join(f"{k}={float(terms[k].float().mean()):g}" for k in losses)
        elif bad_state:
            more = f" and {len(bad_state) - 3} more" if len(bad_state) > 3 else ""
            what = "non-finite model state after the step: " + ", ".join(bad_state[:3]) + more
        else:
            what = "non-finite loss or model state on another process"
        last = Path(self.checkpoint_dir or ".") / "last.ckpt"
        where = f" ({last} is the last good state)" if self.checkpoint_dir and last.is_file() else ""
        lr = getattr(getattr(pl_module, "schedule", None), "lr", None)
        now = f" (method.schedule.lr={lr:g} now)" if lr is not None else ""
        raise TrainingDiverged(
            f"training diverged at step {step} (epoch {epoch}): {what}. "
            f"Stopped before saving anything{where}; no results were written. Lower the learning rate{now} "
            "or check the input data for extreme values.")


def first_nonfinite_step(pending: list[tuple[int, int, dict[str, torch.Tensor]]]) -> int | None:
    """Index of the first recorded step with a non-finite term, from one device synchronisation."""
    flags = [torch.stack([torch.isfinite(v).all() for v in terms.values() if torch.is_tensor(v)]).all()
             for _, _, terms in pending if any(torch.is_tensor(v) for v in terms.values())]
    steps = [i for i, (_, _, terms) in enumerate(pending) if any(torch.is_tensor(v) for v in terms.values())]
    if not flags:
        return None
    bad = torch.nonzero(~torch.stack(flags).cpu()).flatten().tolist()
    return steps[bad[0]] if bad else None
