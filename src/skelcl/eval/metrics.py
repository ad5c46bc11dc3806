"""Top-k accuracy in percent, via torchmetrics."""

from __future__ import annotations

import torch
from torchmetrics.functional.classification import multiclass_accuracy


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, num_classes: int, k: int) -> float:
    k = min(k, num_classes)
    acc = multiclass_accuracy(scores, labels, num_classes=num_classes, top_k=k, average="micro")
    return float(acc) * 100.0
