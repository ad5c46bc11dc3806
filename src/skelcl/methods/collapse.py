"""A collapse monitor for contrastive pretraining.

When every query embedding points the same way the InfoNCE loss sits at log(1 + K) and the encoder gets almost no
gradient, yet training "runs". Short runs with the papers' ST-GCN-family initialisation do exactly that, so every
run logs the symptom as `train/query_cosine`, and `CollapseMonitor` marks a run that ends collapsed: its result
records carry `collapsed: true` and a warning is printed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback


@torch.no_grad()
def mean_pairwise_cosine(z: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity over distinct pairs of rows of z (N, D): ~0 for spread embeddings, 1 when collapsed."""
    n = z.shape[0]
    if n < 2:
        return z.new_tensor(float("nan"))
    u = F.normalize(z.detach().float(), dim=1)
    s = u.sum(dim=0)
    return (s @ s - n) / (n * (n - 1))  # sum over i != j of u_i . u_j, without the N x N matrix


def collapse_verdict(query_cosine: list[float], losses: list[float], chance_loss: float | None,
                     tail: float = 0.25, max_cosine: float = 0.95, loss_margin: float = 0.01) -> str | None:
    """Why the run counts as collapsed, or None. Judged on the last `tail` of the epochs: the mean query cosine above
    `max_cosine` (embeddings on one direction), or the loss within `loss_margin` (relative) of `chance_loss`
    (log(1 + K) for a single InfoNCE term: the positive is no better than a random negative)."""
    n = len(query_cosine) or len(losses)
    if n == 0:
        return None
    k = max(1, int(round(tail * n)))
    cos = [c for c in query_cosine[-k:] if c == c]
    if cos and sum(cos) / len(cos) > max_cosine:
        return f"train/query_cosine {sum(cos) / len(cos):.3f} > {max_cosine} over the last {k} epoch(s)"
    if chance_loss and losses[-k:]:
        mean = sum(losses[-k:]) / len(losses[-k:])
        if abs(mean - chance_loss) <= chance_loss * loss_margin:
            return f"train/loss {mean:.3f} stays at chance log(1+K) = {chance_loss:.3f} over the last {k} epoch(s)"
    return None


class CollapseMonitor(Callback):
    """Records `train/query_cosine` and `train/loss` per epoch and judges the run at the end (`verdict`)."""

    def __init__(self) -> None:
        self.query_cosine: list[float] = []
        self.losses: list[float] = []
        self.verdict: str | None = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        m = trainer.callback_metrics
        if "train/query_cosine" in m:
            self.query_cosine.append(float(m["train/query_cosine"]))
        loss = m.get("train/loss_epoch", m.get("train/loss"))
        if loss is not None:
            self.losses.append(float(loss))

    def on_fit_end(self, trainer, pl_module) -> None:
        chance = pl_module.chance_loss() if hasattr(pl_module, "chance_loss") else None
        self.verdict = collapse_verdict(self.query_cosine, self.losses, chance)
