"""Accuracy figures of class scores, via torchmetrics: top-k over clips, and the mean over classes of each class's
top-1 (the figure long-tailed datasets report, e.g. Toyota Smarthome's mean class accuracy, where a top-1 over clips
is mostly the frequent classes' accuracy)."""

from __future__ import annotations

import torch
from torchmetrics.functional.classification import multiclass_accuracy


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor, num_classes: int, k: int) -> float:
    k = min(k, num_classes)
    acc = multiclass_accuracy(scores, labels, num_classes=num_classes, top_k=k, average="micro")
    return float(acc) * 100.0


def mean_class_accuracy(scores: torch.Tensor, labels: torch.Tensor, num_classes: int) -> float:
    """The top-1 of each class the labels hold, averaged over those classes (classes with no test clip do not
    count: their accuracy is undefined, not 0)."""
    per_class = multiclass_accuracy(scores, labels, num_classes=num_classes, average="none")
    present = torch.bincount(labels.long().cpu(), minlength=num_classes) > 0
    return float(per_class.cpu()[present].mean()) * 100.0


def accuracies(scores: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict[str, float]:
    """top1 / top5 / mean_class_top1 (%) of (N, num_classes) scores against N labels: every protocol's figures."""
    return {"top1": topk_accuracy(scores, labels, num_classes, 1),
            "top5": topk_accuracy(scores, labels, num_classes, 5),
            "mean_class_top1": mean_class_accuracy(scores, labels, num_classes)}
