"""Loss math as pure functions, shared by the methods (unit-tested against fixed test vectors).

Conventions: q, k (N, D); queue (K, D) rows; logits (N, 1 + K) with the positive at index 0.

Every function runs in float32 with autocast off, whatever precision the encoders ran in: similarities over tens of
thousands of negatives divided by a temperature of 0.07 lose their ranking in bf16 (8-bit mantissa), and the CPU's
autocast, unlike CUDA's, leaves `log_softmax` in bf16. The cost is a few (N, D) x (D, K) products.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F


def _float32(value: Any) -> Any:
    if torch.is_tensor(value):
        return value.float() if value.dtype in (torch.float16, torch.bfloat16) else value  # float64 stays
    if isinstance(value, (list, tuple)):
        return type(value)(_float32(v) for v in value)
    return value


def _first_tensor(values: Any) -> torch.Tensor | None:
    for v in values:
        found = v if torch.is_tensor(v) else _first_tensor(v) if isinstance(v, (list, tuple)) else None
        if found is not None:
            return found
    return None


def full_precision(fn):
    """Call `fn` with its half-precision tensor arguments in float32 and autocast disabled."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        first = _first_tensor([*args, *kwargs.values()])
        with torch.autocast(first.device.type if first is not None else "cpu", enabled=False):
            return fn(*_float32(args), **{k: _float32(v) for k, v in kwargs.items()})

    return wrapped


@full_precision
def moco_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """[q.k, q.Q] / tau; k and the queue are constants (stop-gradient). The queue is copied because the method
    enqueues this step's keys in place before backward."""
    pos = (q * k.detach()).sum(dim=1, keepdim=True)
    neg = q @ queue.detach().clone().t()
    return torch.cat([pos, neg], dim=1) / temperature


@full_precision
def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """-mean log softmax(logits)[:, 0]."""
    return -F.log_softmax(logits, dim=1)[:, 0].mean()


@full_precision
def distribution_consistency(target_logits: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """H(sg(softmax(target)), softmax(logits)): AimCLR's D3M term and HiCLR's hierarchical term.

    The target is detached, so gradients reach only `logits` (the stronger / extreme branch).
    """
    p = F.softmax(target_logits.detach(), dim=1)
    return -(p * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


@full_precision
def nearest_neighbour_positives(queries: list[torch.Tensor], queue: torch.Tensor, topk: int = 1) -> torch.Tensor:
    """NNM positive mask (N, 1 + K): column 0 plus each query's top-k queue entries by raw dot product."""
    n, k = queries[0].shape[0], queue.shape[0]
    mask = torch.zeros(n, 1 + k, dtype=torch.bool, device=queue.device)
    mask[:, 0] = True
    for q in queries:
        idx = (q.detach() @ queue.detach().t()).topk(topk, dim=1).indices
        mask.scatter_(1, idx + 1, True)
    return mask


@full_precision
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


@full_precision
def moco_logits_extra_negative(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, extra: torch.Tensor,
                               temperature: float) -> torch.Tensor:
    """[q.k, q.Q, q.sg(extra)] / tau, (N, 1 + K + 1): MoCo logits with one more negative per row, last.

    SkeAttnCLR's salient / non-salient terms: q_s takes sg(q_ns) as an extra negative and vice
    versa, so the two views of the same sample are pushed apart while only q receives the gradient. Use with
    `info_nce` (positive at index 0).
    """
    extra_logit = (q * extra.detach()).sum(dim=1, keepdim=True) / temperature
    return torch.cat([moco_logits(q, k, queue, temperature), extra_logit], dim=1)
