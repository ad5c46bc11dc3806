"""EADM: AimCLR's energy-based attention-guided drop module (official `net/att_drop.py::Simam_Drop`).

Why: the extreme view's most salient activations (those deviating most from their channel's mean, scored by the
parameter-free SimAM energy attention) are dropped, so the query encoder must also recognise the action from the
less obvious joints and frames. Applied to the final ST-GCN feature map F (N·M, C, T', V) of the extreme view only.

Steps, all masks computed once from the attention A of the *undropped* F:
1. joint mask: a joint is dropped where its attention averaged over (C, T') reaches θ; kept entries are rescaled by
   numel/Σmask, one scalar over the whole batch (as in the official code);
2. element mask: every (c, t, v) entry with A ≥ θ is dropped, rescaled the same way.
(Under DDP the scalars are per rank's batch; the official code ran on one GPU.)
Masks are constants: gradients reach F only through kept entries, never through A.

`legacy_noop=True` reproduces the code before commit d12da71 of the official AimCLR code, whose masks were all ones:
EADM is then the identity and z_ed ≡ z_e.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def simam_attention(fmap: Tensor, e_lambda: float = 1e-4) -> Tensor:
    """SimAM energy attention A = sigmoid(d / (4(σ̂² + λ)) + 0.5), d = (F − μ)², statistics per (row, channel) over
    the (T', V) positions with the unbiased σ̂². A ∈ [sigmoid(0.5), 1); larger = more deviant = more salient."""
    t, v = fmap.shape[-2:]
    d = (fmap - fmap.mean(dim=(-2, -1), keepdim=True)).pow(2)
    var = d.sum(dim=(-2, -1), keepdim=True) / max(t * v - 1, 1)
    return torch.sigmoid(d / (4 * (var + e_lambda)) + 0.5)


def _keep_scaled(mask: Tensor) -> Tensor:
    """0/1 keep-mask times numel/Σmask (one scalar for the batch); an all-dropped mask stays zero instead of NaN."""
    mask = mask.to(torch.float32)
    return mask * (mask.numel() / mask.sum().clamp_min(1.0))


def attention_drop(fmap: Tensor, attention: Tensor, threshold: float = 0.7) -> Tensor:
    """Joint mask then element mask (see module docstring); `attention` has fmap's shape and is treated as constant."""
    a = attention.detach()
    joint_keep = _keep_scaled(a.mean(dim=(1, 2), keepdim=True) < threshold)  # (NM, 1, 1, V)
    element_keep = _keep_scaled(a < threshold)  # (NM, C, T', V)
    return fmap * joint_keep.to(fmap.dtype) * element_keep.to(fmap.dtype)


class EADM(nn.Module):
    """Parameter-free module form of `attention_drop(F, simam_attention(F))`; threshold is the official keep_prob θ."""

    def __init__(self, threshold: float = 0.7, e_lambda: float = 1e-4, legacy_noop: bool = False) -> None:
        super().__init__()
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"EADM threshold must lie in (0, 1], got {threshold}")
        self.threshold, self.e_lambda, self.legacy_noop = threshold, e_lambda, legacy_noop

    def forward(self, fmap: Tensor) -> Tensor:
        if fmap.dim() != 4:
            raise ValueError(f"EADM expects a feature map (N·M, C, T', V), got shape {tuple(fmap.shape)}")
        if self.legacy_noop:
            return fmap
        with torch.no_grad():
            attention = simam_attention(fmap.float(), self.e_lambda)
        return attention_drop(fmap, attention, self.threshold)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, e_lambda={self.e_lambda}, legacy_noop={self.legacy_noop}"
