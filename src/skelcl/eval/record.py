"""One result of one evaluation protocol: what results.json holds per row and what reports aggregate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ResultRecord:
    method: str
    encoder: str
    dataset: str
    split: str
    stream: str
    protocol: str
    top1: float
    top5: float
    epochs: int
    seed: int
    wall_s: float
    # The official code's figure: the best of the periodic test evaluations, i.e. chosen on the test set.
    # Kept for comparison with papers only; top1 (the final epoch) is the honest headline.
    best_on_test_top1: float | None = None
    # True when pretraining ended collapsed (skelcl.methods.collapse): the numbers describe a degenerate encoder.
    collapsed: bool = False
    # RankMe effective rank of the frozen training features (linear / KNN records; skelcl.eval.feature_rank)
    feature_rank: float | None = None
    # stem of dataset.root (e.g. fold3 for folds/fold3.pkl): tells folds apart in a sweep over dataset files
    dataset_file: str | None = None
    # the same protocol on the randomly initialised encoder of the same seed (skelcl.eval.floor; `floor: auto`)
    floor_top1: float | None = None
    # top-1 of each test class averaged over the classes (skelcl.eval.metrics): on a long-tailed dataset, where top1
    # is mostly the frequent classes', the figure its papers report; and the floor's
    mean_class_top1: float | None = None
    floor_mean_class_top1: float | None = None
