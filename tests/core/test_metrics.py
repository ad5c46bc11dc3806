"""Accuracy figures (skelcl.eval.metrics): top-k over clips and the mean over classes of each class's top-1, the
figure a long-tailed test split needs."""

from __future__ import annotations

import pytest
import torch

from skelcl.eval.metrics import accuracies, mean_class_accuracy


def _scores(predicted: list[int], num_classes: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(predicted), num_classes).float()


def test_mean_class_accuracy_weighs_every_class_alike():
    """Eight clips of class 0 all right, two of class 1 both wrong: 80 % of the clips, 50 % of the classes."""
    labels = torch.tensor([0] * 8 + [1] * 2)
    res = accuracies(_scores([0] * 10, 3), labels, 3)
    assert res["top1"] == pytest.approx(80.0)
    assert res["mean_class_top1"] == pytest.approx(50.0)
    assert res["top5"] == pytest.approx(100.0)  # top-3 of three classes


def test_classes_without_test_clips_do_not_count():
    """Class 2 has no test clip: its accuracy is undefined, not 0, so the mean is over classes 0 and 1."""
    labels = torch.tensor([0, 0, 1, 1])
    assert mean_class_accuracy(_scores([0, 1, 1, 1], 3), labels, 3) == pytest.approx((50.0 + 100.0) / 2)


def test_on_a_balanced_split_it_is_the_top1():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(5).repeat(6)
    scores = torch.randn(30, 5, generator=g)
    res = accuracies(scores, labels, 5)
    assert res["mean_class_top1"] == pytest.approx(res["top1"])
