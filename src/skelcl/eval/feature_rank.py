"""RankMe (Garrido et al., ICML 2023): the effective rank of frozen features, a label-free reading of how many
directions a representation uses.

A contrastive encoder can avoid full collapse (every clip the same embedding, which `methods.collapse` flags) and
still fold its features onto few directions ("dimensional collapse"); its nearest neighbours then suffer more than
its linear probe. The figure goes into every frozen-feature record (`feature_rank`) beside the accuracy it helps
explain. Compare pretrained runs of one encoder with each other: a random encoder spreads small weights over many
directions and reads high. On N-UCLA the views that cost AS-CAL's objective its neighbours on ST-GCN read 17 and 8,
SkeletonCLR's views 32 and 23 on the same two inputs (docs/results.md).
"""

from __future__ import annotations

import torch


@torch.no_grad()
def effective_rank(features: torch.Tensor, eps: float = 1e-7) -> float:
    """exp(entropy) of the normalised singular values of the (N, D) feature matrix: 1 when every feature vector
    points one way, D when all D directions carry equal weight."""
    s = torch.linalg.svdvals(features.double())
    p = s / s.sum().clamp(min=eps) + eps
    return float(torch.exp(-(p * p.log()).sum()))
