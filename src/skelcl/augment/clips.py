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

from skelcl.augment.ops import center
from skelcl.data.layouts import Layout


def resize_valid(x: torch.Tensor, lengths: torch.Tensor, frames: int) -> torch.Tensor:
    """Linearly resample each sample's first `length` frames to `frames` (half-pixel centres, like the frame50
    step); a 1-frame clip becomes `frames` copies. Where a joint is absent (all coordinates 0: a body out of view, a
    joint the pose estimator missed) in either neighbouring frame, the nearer frame is taken instead of a blend, so
    no joint is drawn part-way towards the origin."""
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
    a, b = torch.gather(x, 2, idx_lo), torch.gather(x, 2, idx_hi)
    both = (a != 0).any(dim=1, keepdim=True) & (b != 0).any(dim=1, keepdim=True)
    return torch.where(both, a * (1 - w) + b * w, torch.where(w < 0.5, a, b))


def first_frames(x: torch.Tensor, frames: int, stride: int = 1) -> torch.Tensor:
    """The first `frames` frames, zero-padded if the stored clip is shorter (AS-CAL's input); with `stride` s, the
    first `frames` of every s-th stored frame (the same span of motion at 1/s of the frame rate)."""
    x = x[:, :, ::stride]
    t = x.shape[2]
    if t >= frames:
        return x[:, :, :frames]
    return F.pad(x, (0, 0, 0, 0, 0, frames - t))


def fill_missed(x: torch.Tensor) -> torch.Tensor:
    """Fill each missed joint (exactly 0 in a frame where its body has other joints: a pose estimator's miss) by
    linear interpolation in time between the nearest frames that have it, or the nearest one at either end of the
    clip; a joint the clip never has stays 0, and so do absent bodies and the padding after a clip's end. Resampling,
    striding and the normalisation then see a joint where the body had one, not a jump to 0 (the body's centre after
    the normalisation) in every frame where the estimator lost it."""
    seen = (x != 0).any(dim=1)  # (N, T, V, M)
    missed = seen.any(dim=2, keepdim=True) & ~seen  # no early return on "no misses": that would sync the device
    t = x.shape[2]
    step = torch.arange(t, device=x.device).view(1, t, 1, 1).expand_as(seen)
    prev = torch.where(seen, step, -1).cummax(dim=1).values  # the last frame at or before t that has the joint
    nxt = torch.where(seen, step, t).flip(1).cummin(dim=1).values.flip(1)  # the first at or after t
    has_prev, has_next = prev >= 0, nxt < t
    lo, hi = prev.clamp(min=0), nxt.clamp(max=t - 1)
    a = torch.gather(x, 2, lo[:, None].expand_as(x))
    b = torch.gather(x, 2, hi[:, None].expand_as(x))
    w = ((step - lo) / (hi - lo).clamp(min=1)).to(x.dtype)[:, None]
    filled = torch.where((has_prev & has_next)[:, None], a + (b - a) * w, torch.where(has_prev[:, None], a, b))
    return torch.where((missed & (has_prev | has_next))[:, None], filled, x)


def _turn_to_plus_x(x: torch.Tensor, vx: torch.Tensor, vz: torch.Tensor) -> torch.Tensor:
    """Rotate x (N, C, ...) about the vertical (y) axis so that the direction (vx, ., vz), broadcastable against
    x[:, 0], points along +x; a vector with no horizontal extent leaves x as it is."""
    norm = torch.sqrt(vx**2 + vz**2)
    ok = norm > 1e-6
    cos = torch.where(ok, vx / norm.clamp(min=1e-6), torch.ones_like(vx))
    sin = torch.where(ok, vz / norm.clamp(min=1e-6), torch.zeros_like(vz))
    xs, ys, zs = x[:, 0], x[:, 1], x[:, 2]
    # rotation by -phi about y maps (cos phi, ., sin phi) to (1, ., 0)
    return torch.stack([cos * xs + sin * zs, ys, -sin * xs + cos * zs], dim=1)


def align_shoulders(x: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """Rotate each frame and body about the vertical (y) axis so that left->right shoulder points along +x."""
    vec = x[:, :, :, right] - x[:, :, :, left]  # (N, C, T, M)
    return _turn_to_plus_x(x, vec[:, 0, :, None], vec[:, 2, :, None])  # (N, T, 1, M) against (N, T, V, M)


def stand_upright(x: torch.Tensor, vertical_axis: int) -> torch.Tensor:
    """Turn 3-D clips (N, 3, ...) whose bodies stand along `vertical_axis` (0 = x, 2 = z: z-up motion capture) by a
    quarter turn so that they stand along y, the axis the view normalisation and the rotation views turn about; a
    proper rotation (no mirror image). y-up clips are returned as they are."""
    if vertical_axis == 1:
        return x
    xs, ys, zs = x[:, 0], x[:, 1], x[:, 2]
    if vertical_axis == 2:  # (x, y, z) -> (x, z, -y)
        return torch.stack([xs, zs, -ys], dim=1)
    if vertical_axis == 0:  # (x, y, z) -> (-y, x, z)
        return torch.stack([-ys, xs, zs], dim=1)
    raise ValueError(f"vertical_axis must be 0, 1 or 2 (x, y, z), got {vertical_axis!r}")


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of values (N, C, T) over the frames where mask (N, T) holds; zero where no frame does."""
    w = mask.to(values.dtype)[:, None]
    return (values * w).sum(dim=2) / w.sum(dim=2).clamp(min=1)


def normalize_sequence(x: torch.Tensor, center_joint: int, shoulders: tuple[int, int] | None) -> torch.Tensor:
    """View-invariant normalisation, one transform per clip (not per frame, so the body's own turning and walking
    survive): move the first body's mean `center_joint` to the origin, rotate about the vertical (y) axis so that
    its mean left->right shoulder vector points along +x (skipped when the layout names no shoulders), and divide
    by its mean joint distance from the centre (body size). Every body of a clip gets the same transform; absent
    frames stay zero.

    Cross-view data (one performance filmed by cameras at different azimuths) then looks the same from every camera
    up to the camera's tilt, which a random or briefly trained encoder cannot learn from a thousand clips. 2-D
    clips (C = 2, image keypoints) are centred and scaled only: the depth a rotation about the vertical needs is
    not in them.

    A joint at exactly (0, 0[, 0]) in a frame where its body is present is a joint the pose estimator missed (the
    convention of OpenPose-style output): it counts towards neither the centre, the shoulders nor the size, and stays
    at 0, the body's centre, instead of landing at minus the clip's position. Data without such joints, and data
    already centred on `center_joint` (that joint at 0 throughout), get the same transform as without this care."""
    seen = (x != 0).any(dim=1)  # (N, T, V, M): joints with a coordinate
    present = seen.any(dim=2)  # (N, T, M): frames in which a body is present
    first = seen[..., 0]  # (N, T, V)
    centre = x[:, :, :, center_joint, 0]  # (N, C, T)
    origin = _masked_mean(centre, first[:, :, center_joint])  # (N, C); 0 for data already centred on the joint
    out = x - origin[:, :, None, None, None]
    if shoulders is not None and x.shape[1] == 3:
        left, right = shoulders
        both = first[:, :, left] & first[:, :, right]
        vec = _masked_mean(x[:, :, :, right, 0] - x[:, :, :, left, 0], both)  # (N, C)
        out = _turn_to_plus_x(out, vec[:, 0, None, None, None], vec[:, 2, None, None, None])
    # per-frame distances from the centre joint (the clip's mean centre in frames that miss it); the centre joint
    # itself counts with distance 0 so that centred data keeps its size
    frame_centre = torch.where(first[:, None, :, center_joint], centre, origin[:, :, None])  # (N, C, T)
    dist = (x[:, :, :, :, 0] - frame_centre[..., None]).norm(dim=1)  # (N, T, V)
    counted = first.clone()
    counted[:, :, center_joint] = present[:, :, 0]
    dist = torch.where(counted, dist, torch.zeros_like(dist))
    dist[:, :, center_joint] = 0
    per_frame = dist.sum(dim=2) / counted.sum(dim=2).clamp(min=1)  # (N, T)
    size = _masked_mean(per_frame[:, None], present[:, :, 0])[:, 0]  # (N,)
    out = out / torch.where(size > 1e-6, size, torch.ones_like(size))[:, None, None, None, None]
    return out * seen[:, None]


NORMALIZE_MODES = ("frame", "sequence")


@dataclass
class ClipSpec:
    """How raw stored clips become model inputs (from the dataset + method configs)."""

    frames: int = 50
    temporal: str = "resize"  # resize | first
    center_joint: int | None = None
    align_shoulders: bool = False
    normalize: str = "frame"  # frame: center_joint / align_shoulders per frame | sequence: normalize_sequence
    stride: int = 1  # temporal 'first': every stride-th stored frame
    vertical_axis: int = 1  # the axis the stored bodies stand along (dataset.vertical_axis); turned to y first
    fill_missed: bool = False  # interpolate missed joints (exact 0 in a frame with the body) from their neighbours


def prepare_clips(x: torch.Tensor, lengths: torch.Tensor, spec: ClipSpec, layout: Layout) -> torch.Tensor:
    x = stand_upright(x, spec.vertical_axis)
    if spec.temporal == "first":
        x = x[:, :, : spec.frames * spec.stride]  # the span the window reads: no work on frames it never sees
    if spec.fill_missed:
        x = fill_missed(x)
    if spec.temporal == "resize":
        x = resize_valid(x, lengths, spec.frames)
    elif spec.temporal == "first":
        x = first_frames(x, spec.frames, spec.stride)
    else:
        raise ValueError(f"unknown temporal mode '{spec.temporal}'; choose 'resize' or 'first'")
    if spec.normalize == "sequence":
        joint = layout.center if spec.center_joint is None else spec.center_joint
        return normalize_sequence(x, joint, layout.shoulders)
    if spec.normalize != "frame":
        raise ValueError(f"unknown dataset.normalize '{spec.normalize}'; choose one of {list(NORMALIZE_MODES)}")
    if spec.center_joint is not None:
        x = center(x, joint=spec.center_joint)  # the augmentation op, without randomness
    if spec.align_shoulders:
        if layout.shoulders is None:
            raise ValueError(f"layout '{layout.name}' defines no shoulders; set align_shoulders: false")
        if x.shape[1] != 3:
            raise ValueError(f"dataset.align_shoulders rotates about the vertical axis and needs 3-D (x, y, z) "
                             f"coordinates; these clips have C = {x.shape[1]}: set dataset.align_shoulders=false")
        x = align_shoulders(x, *layout.shoulders)
    return x
