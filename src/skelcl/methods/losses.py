"""Loss math as pure functions, shared by the methods (unit-tested against fixed test vectors).

Conventions: q, k (N, D); queue (K, D) rows; logits (N, 1 + K) with the positive at index 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def moco_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """[q.k, q.Q] / tau; k and the queue are constants (stop-gradient). The queue is copied because the method
    enqueues this step's keys in place before backward."""
    pos = (q * k.detach()).sum(dim=1, keepdim=True)
    neg = q @ queue.detach().clone().t()
    return torch.cat([pos, neg], dim=1) / temperature


def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """-mean log softmax(logits)[:, 0]."""
    return -F.log_softmax(logits, dim=1)[:, 0].mean()


def distribution_consistency(target_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """H(sg(softmax(target)), softmax(logits)): AimCLR's D3M term and HiCLR's hierarchical term.

    The target is detached, so gradients reach only `logits` (the stronger / extreme branch).
    """
    p = F.softmax(target_logits.detach(), dim=1)
    return -(p * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def nearest_neighbour_positives(queries: list[torch.Tensor], queue: torch.Tensor, topk: int = 1) -> torch.Tensor:
    """NNM positive mask (N, 1 + K): column 0 plus each query's top-k queue entries by raw dot product."""
    n, k = queries[0].shape[0], queue.shape[0]
    mask = torch.zeros(n, 1 + k, dtype=torch.bool, device=queue.device)
    mask[:, 0] = True
    for q in queries:
        idx = (q.detach() @ queue.detach().t()).topk(topk, dim=1).indices
        mask.scatter_(1, idx + 1, True)
    return mask


def multi_positive_nce(logits: torch.Tensor, positives: torch.Tensor, mode: str = "mean_log") -> torch.Tensor:
    """Multi-positive InfoNCE.

    mean_log (official AimCLR/HiCLR code): -mean over positives of log p_j.
    log_sum (AimCLR paper wording): -log sum over positives of p_j.
    """
    logp = F.log_softmax(logits, dim=1)
    pos = positives.to(logp.dtype)
    if mode == "mean_log":
        return (-(logp * pos).sum(dim=1) / pos.sum(dim=1)).mean()
    if mode == "log_sum":
        return -torch.logsumexp(logp.masked_fill(~positives, float("-inf")), dim=1).mean()
    raise ValueError(f"unknown multi-positive mode '{mode}'; choose 'mean_log' or 'log_sum'")


def moco_logits_extra_negative(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, extra: torch.Tensor,
                               temperature: float) -> torch.Tensor:
    """[q.k, q.Q, q.sg(extra)] / tau, (N, 1 + K + 1): MoCo logits with one more negative per row, last.

    SkeAttnCLR's salient / non-salient terms: q_s takes sg(q_ns) as an extra negative and vice
    versa, so the two views of the same sample are pushed apart while only q receives the gradient. Use with
    `info_nce` (positive at index 0).
    """
    extra_logit = (q * extra.detach()).sum(dim=1, keepdim=True) / temperature
    return torch.cat([moco_logits(q, k, queue, temperature), extra_logit], dim=1)
