"""Weighted k-nearest-neighbour classification on cached features (cosine similarity, votes weighted by
exp(sim / t), as in instance-discrimination monitors)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skelcl.config import KNNConfig
from skelcl.eval.metrics import topk_accuracy
from skelcl.progress import progress as progress_bar


@torch.no_grad()
def knn_scores(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, num_classes: int,
               k: int, temperature: float, chunk: int = 1024, progress: bool = False) -> torch.Tensor:
    """Class vote scores (N_test, C)."""
    train_x = F.normalize(train_x.float(), dim=1)
    test_x = F.normalize(test_x.float(), dim=1)
    k = min(k, train_x.shape[0])
    out = []
    for i in progress_bar(range(0, test_x.shape[0], chunk), "KNN", enabled=progress):
        sim, idx = (test_x[i : i + chunk] @ train_x.t()).topk(k, dim=1)
        w = (sim / temperature).exp()
        votes = torch.zeros(sim.shape[0], num_classes, device=sim.device)
        votes.scatter_add_(1, train_y[idx], w)
        out.append(votes)
    return torch.cat(out)


def evaluate_knn(train_x, train_y, test_x, test_y, num_classes: int, cfg: KNNConfig, progress: bool = False) -> dict:
    scores = knn_scores(train_x, train_y, test_x, num_classes, cfg.k, cfg.temperature, progress=progress)
    return {"top1": topk_accuracy(scores, test_y, num_classes, 1),
            "top5": topk_accuracy(scores, test_y, num_classes, 5)}
