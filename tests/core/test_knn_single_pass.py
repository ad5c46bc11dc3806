"""KNN for several k from one similarity pass equals separate evaluations."""

import torch

from skelcl.config import KNNConfig
from skelcl.eval.knn import evaluate_knn


def test_several_k_in_one_pass_match_separate_runs():
    g = torch.Generator().manual_seed(0)
    x, xt = torch.randn(200, 16, generator=g), torch.randn(50, 16, generator=g)
    y, yt = torch.randint(0, 5, (200,), generator=g), torch.randint(0, 5, (50,), generator=g)
    both = evaluate_knn(x, y, xt, yt, 5, KNNConfig(k=20), ks=[20, 1])
    assert both == [evaluate_knn(x, y, xt, yt, 5, KNNConfig(k=k)) for k in (20, 1)]
    assert both[0] != both[1]  # the two k really differ on this data
