"""Stop pretraining at the first non-finite loss (or weight) instead of training on, and reporting, NaN.

The loss is checked before the backward pass, and the model state (weights, BatchNorm statistics, queue)
after every optimiser step. A run with a too-high learning rate can keep a
finite loss while its activations overflow (the embeddings are normalised), leaving inf BatchNorm
statistics that turn every feature into zero: that is caught too. Raising stops the run before the next
checkpoint is written, so `last.ckpt` stays the last good state and no results are recorded.
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

    def __init__(self, checkpoint_dir: str | None = None) -> None:
        self.checkpoint_dir = checkpoint_dir

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        self._check(trainer, pl_module, {"loss": loss.detach()}, state=False)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        # after the optimiser step; steps without a backward pass (queue warm-up) get their loss checked here
        self._check(trainer, pl_module, {}, state=True)

    def _check(self, trainer: L.Trainer, pl_module: L.LightningModule, extra: dict, state: bool) -> None:
        terms = {**getattr(pl_module, "step_terms", {}), **extra}
        bad_terms = nonfinite_terms(terms)
        bad_state = nonfinite_state(pl_module) if state and not bad_terms else []
        if not trainer.strategy.reduce_boolean_decision(bool(bad_terms or bad_state), all=False):
            return
        if bad_terms:
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
            f"training diverged at step {trainer.global_step} (epoch {trainer.current_epoch}): {what}. "
            f"Stopped before saving anything{where}; no results were written. Lower the learning rate{now} "
            "or check the input data for extreme values.")
