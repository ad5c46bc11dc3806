"""Weighted k-nearest-neighbour classification on cached features (cosine similarity, votes weighted by
exp(sim / t), as in instance-discrimination monitors)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from skelcl.config import KNNConfig
from skelcl.eval.metrics import accuracies
from skelcl.progress import progress as progress_bar


@torch.no_grad()
def knn_scores_for(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, num_classes: int,
                   ks: Sequence[int], temperature: float, chunk: int = 1024,
                   progress: bool = False) -> list[torch.Tensor]:
    """Class vote scores (N_test, C) for each k in `ks`, from one similarity pass: the neighbours come sorted, so the
    k nearest are the first k of the largest k's."""
    train_x = F.normalize(train_x.float(), dim=1)
    test_x = F.normalize(test_x.float(), dim=1)
    ks = [min(k, train_x.shape[0]) for k in ks]
    out: list[list[torch.Tensor]] = [[] for _ in ks]
    for i in progress_bar(range(0, test_x.shape[0], chunk), "KNN", enabled=progress):
        sim, idx = (test_x[i : i + chunk] @ train_x.t()).topk(max(ks), dim=1)
        w = (sim / temperature).exp()
        for scores, k in zip(out, ks):
            votes = torch.zeros(sim.shape[0], num_classes, device=sim.device)
            votes.scatter_add_(1, train_y[idx[:, :k]], w[:, :k])
            scores.append(votes)
    return [torch.cat(scores) for scores in out]


def knn_scores(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, num_classes: int,
               k: int, temperature: float, chunk: int = 1024, progress: bool = False) -> torch.Tensor:
    """Class vote scores (N_test, C)."""
    return knn_scores_for(train_x, train_y, test_x, num_classes, [k], temperature, chunk, progress)[0]


def evaluate_knn(train_x, train_y, test_x, test_y, num_classes: int, cfg: KNNConfig, progress: bool = False,
                 ks: Sequence[int] | None = None) -> dict | list[dict]:
    """top1 / top5 / mean_class_top1 for cfg.k; with `ks`, a list of them, one per k, from a single similarity
    pass."""
    many = knn_scores_for(train_x, train_y, test_x, num_classes, ks or [cfg.k], cfg.temperature, progress=progress)
    res = [accuracies(scores, test_y, num_classes) for scores in many]
    return res if ks is not None else res[0]
