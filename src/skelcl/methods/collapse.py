"""A collapse monitor for contrastive pretraining.

When every query embedding points the same way the InfoNCE loss sits at log(1 + K) and the encoder gets almost no
gradient, yet training "runs". The default quick schedule does exactly that with the faithful ST-GCN-family
initialisation (README, Results), so the framework logs the symptom as `train/query_cosine` on every run.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def mean_pairwise_cosine(z: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity over distinct pairs of rows of z (N, D): ~0 for spread embeddings, 1 when collapsed."""
    n = z.shape[0]
    if n < 2:
        return z.new_tensor(float("nan"))
    u = F.normalize(z.detach().float(), dim=1)
    s = u.sum(dim=0)
    return (s @ s - n) / (n * (n - 1))  # sum over i != j of u_i . u_j, without the N x N matrix
