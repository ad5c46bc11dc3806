"""SkeletonCLR: plain MoCo v2 on skeletons (the CrosSCLR paper's single-view baseline), skelcl's reference
method. Two normally augmented views (temporal crop + shear); InfoNCE of the query against its key and
the queue. AS-CAL is this same step on its own encoder and settings."""

from __future__ import annotations

import math

import torch

from skelcl.methods.base import ContrastiveMethod
from skelcl.methods.losses import info_nce, moco_logits


class SkeletonCLR(ContrastiveMethod):
    view_names = ("query", "key")

    def chance_loss(self) -> float:
        """The InfoNCE loss when the positive is no better than any of the K negatives (collapse monitor)."""
        return math.log(1 + self.queue.size)

    def pretrain_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        q = self.embed_q(self.view("query", x))
        k = self.embed_k(self.view("key", x))
        logits = moco_logits(q, k, self.queue.keys, self.temperature)
        self.queue.enqueue(k)
        loss = info_nce(logits)
        with torch.no_grad():
            acc = (logits.argmax(dim=1) == 0).float().mean()
            pos_sim = logits[:, 0].mean() * self.temperature
        return loss, {"instance_acc": acc, "pos_sim": pos_sim}
