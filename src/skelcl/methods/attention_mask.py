"""SkeAttnCLR's multi-head self-attention mask (MHSAM) and mask pooling.

The final ST-GCN map (N·M, D, T', V) is read as L = T'·V tokens (index t·V + v). Self-attention over the tokens gives,
per token AND per channel, a soft mask M = sigmoid(λ·O) in (0, 1). Mask pooling then splits the plain mean of the
(un-normalised) tokens into a salient part (M-weighted) and a non-salient part ((1 − M)-weighted), so that
f_s + f_ns = GAP(X). Only the official code's live path is built: the DropPath, the second MLP and the SimAM drop it
constructs are never used and are omitted here.

Memory: the attention matrix is (N·M, heads, L, L), ≈ 1.3 GB in fp32 for batch 128 with two bodies, so
`forward` uses `F.scaled_dot_product_attention` (fused kernels on CUDA, the same math); `attention` materialises
the matrix for inspection and tests.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def map_to_tokens(fmap: torch.Tensor) -> torch.Tensor:
    """(B, D, T', V) feature map -> (B, T'·V, D) tokens, token index t·V + v."""
    return fmap.flatten(2).transpose(1, 2)


def mask_pool(tokens: torch.Tensor, mask: torch.Tensor, bodies: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Salient / non-salient features (N, D) from tokens and a soft mask, both (N·M, L, D).

    f_s = mean_l M·X, f_ns = mean_l (1 − M)·X per body sequence, then the mean over the M bodies (like the global
    feature). The mask multiplies the un-normalised tokens X, not the LayerNorm output the attention reads.
    """
    b, _, d = tokens.shape
    f_s = (mask * tokens).mean(dim=1)
    f_ns = ((1 - mask) * tokens).mean(dim=1)
    return f_s.view(b // bodies, bodies, d).mean(dim=1), f_ns.view(b // bodies, bodies, d).mean(dim=1)


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q·kᵀ/√d)·v through SDPA's fused kernels. On a CPU, half-precision inputs (bf16 autocast) run the
    kernel in fp32: its bf16 backward was ~3x slower than its fp32 one (docs/performance.md)."""
    if q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16):
        with torch.autocast("cpu", enabled=False):
            return F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v)


class AttentionMask(nn.Module):
    """MHSAM: LayerNorm -> qkv projection (bias) -> softmax attention over tokens -> output projection -> sigmoid(λ·O).

    No residual, no dropout, no normalisation of the output and no binarisation: the mask is soft, per token and
    per channel (`Attention_MASK` in the reference code).
    """

    def __init__(self, dim: int = 256, heads: int = 8, scale: float = 2.0, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % heads != 0:
            raise ValueError(f"MHSAM: feature dim {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.scale = scale  # λ of sigmoid(λ·O)
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, L, D) -> q, k, v each (B, heads, L, D / heads)."""
        b, n, d = tokens.shape
        qkv = self.qkv(self.norm(tokens)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def attention(self, tokens: torch.Tensor) -> torch.Tensor:
        """The attention weights A (B, heads, L, L), softmax over key tokens of q·kᵀ/√d_head (inspection only)."""
        q, k, _ = self._heads(tokens)
        return ((q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5).softmax(dim=-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Soft mask (B, L, D) in (0, 1) for tokens (B, L, D)."""
        b, n, d = tokens.shape
        q, k, v = self._heads(tokens)
        out = _attend(q, k, v)  # (B, heads, L, d_head), scale 1/sqrt(d_head)
        out = self.proj(out.transpose(1, 2).reshape(b, n, d))
        return torch.sigmoid(self.scale * out)
