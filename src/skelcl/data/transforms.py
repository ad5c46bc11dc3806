"""Deterministic, batched clip preparation on the device: bring every clip to the model's frame count and
(optionally) a canonical body frame, before any random augmentation.

Prepared datasets keep variable-length clips zero-padded to T_max with their valid `length`; the methods
want a fixed T (AimCLR/HiCLR: 50, SkeAttnCLR: 64, AS-CAL: the first 150 frames). Doing this on the batch
keeps the loader a pure indexer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from skelcl.data.layouts import Layout


def resize_valid(x: torch.Tensor, lengths: torch.Tensor, frames: int) -> torch.Tensor:
    """Linearly resample each sample's first `length` frames to `frames` (half-pixel centres, like the frame50
    step); a 1-frame clip becomes `frames` copies."""
    n, c, _, v, m = x.shape
    lengths = lengths.to(x.device, torch.float32).clamp(min=1)
    out_pos = (torch.arange(frames, device=x.device, dtype=torch.float32) + 0.5)  # (T_out,)
    src = out_pos[None, :] * (lengths[:, None] / frames) - 0.5  # (N, T_out)
    src = torch.minimum(src.clamp(min=0), lengths[:, None] - 1)
    lo = src.floor().long()
    hi = torch.minimum(lo + 1, lengths[:, None].long() - 1)
    w = (src - lo.float())[:, None, :, None, None]
    idx_lo = lo[:, None, :, None, None].expand(n, c, frames, v, m)
    idx_hi = hi[:, None, :, None, None].expand(n, c, frames, v, m)
    return torch.gather(x, 2, idx_lo) * (1 - w) + torch.gather(x, 2, idx_hi) * w


def first_frames(x: torch.Tensor, frames: int) -> torch.Tensor:
    """The first `frames` frames, zero-padded if the stored clip is shorter (AS-CAL's input)."""
    t = x.shape[2]
    if t >= frames:
        return x[:, :, :frames]
    return F.pad(x, (0, 0, 0, 0, 0, frames - t))


def center_on_joint(x: torch.Tensor, joint: int) -> torch.Tensor:
    """Subtract one joint per frame and body; all-zero (absent) frames stay zero."""
    present = (x != 0).any(dim=1).any(dim=2)  # (N, T, M)
    out = x - x[:, :, :, joint : joint + 1]
    return out * present[:, None, :, None, :]


def align_shoulders(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Rotate each frame and body about the vertical (y) axis so that left->right shoulder points along +x."""
    vec = x[:, :, :, right] - x[:, :, :, left]  # (N, C, T, M)
    vx, vz = vec[:, 0], vec[:, 2]
    norm = torch.sqrt(vx**2 + vz**2)
    ok = norm > 1e-6
    cos = torch.where(ok, vx / norm.clamp(min=1e-6), torch.ones_like(vx))
    sin = torch.where(ok, vz / norm.clamp(min=1e-6), torch.zeros_like(vz))
    cos, sin = cos[:, :, None], sin[:, :, None]  # (N, T, 1, M)
    xs, ys, zs = x[:, 0], x[:, 1], x[:, 2]
    # rotation by -phi about y maps (cos phi, ., sin phi) to (1, ., 0)
    nx = cos * xs + sin * zs
    nz = -sin * xs + cos * zs
    return torch.stack([nx, ys, nz], dim=1)


@dataclass
class ClipSpec:
    """How raw stored clips become model inputs (from the dataset + method configs)."""

    frames: int = 50
    temporal: str = "resize"  # resize | first
    center_joint: int | None = None
    align_shoulders: bool = False


def prepare_clips(x: torch.Tensor, lengths: torch.Tensor, spec: ClipSpec, layout: Layout) -> torch.Tensor:
    if spec.temporal == "resize":
        x = resize_valid(x, lengths, spec.frames)
    elif spec.temporal == "first":
        x = first_frames(x, spec.frames)
    else:
        raise ValueError(f"unknown temporal mode '{spec.temporal}'; choose 'resize' or 'first'")
    if spec.center_joint is not None:
        x = center_on_joint(x, spec.center_joint)
    if spec.align_shoulders:
        if layout.shoulders is None:
            raise ValueError(f"layout '{layout.name}' defines no shoulders; set align_shoulders: false")
        x = align_shoulders(x, *layout.shoulders)
    return x
