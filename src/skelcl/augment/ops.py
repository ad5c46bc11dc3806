"""Batched skeleton augmentation ops on (N, C, T, V, M) tensors.

Every op is a pure function ``op(x, g, **params) -> Tensor``:

- ``x`` is a floating tensor (N, C, T, V, M) on any device; the output has the same shape, dtype and device.
- ``g`` is a ``torch.Generator`` on x's device (or None for the global generator); all randomness is drawn from it,
  on x's device, so a seeded generator makes the op deterministic.
- Random parameters are drawn per sample (one draw per batch where the official code does: ``joint_mask(shared=True)``,
  ``part_swap``, the partner offset of ``skele_adain``); ``p`` is a per-sample Bernoulli(p) of applying the op.
- Each op is the identity at zero strength (p = 0, amplitude 0, ...).
- Ops that name joints take ``layout`` (a :class:`~skelcl.data.layouts.Layout`); nothing here knows NTU indices.

Parameter defaults are the official code's values. ``OPS`` maps the config names
to the functions; ``skelcl.augment.views`` builds pipelines from it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from skelcl.data.layouts import Layout

__all__ = [
    "OPS",
    "apply_matrix",
    "axis_mask",
    "blur_kernels",
    "blur_with_kernels",
    "center",
    "clip_lengths",
    "crop_at",
    "flip",
    "gaussian_blur",
    "gaussian_noise",
    "joint_mask",
    "joint_mask_grid",
    "part_swap",
    "part_swap_at",
    "part_swap_with_params",
    "rotate",
    "rotation_matrix",
    "shear",
    "skele_adain",
    "temporal_crop",
    "temporal_crop_resize",
    "time_reverse",
    "zero_out_axis",
    "zero_out_joints",
]


# --------------------------------------------------------------------------------------------------------------------
# helpers


def _check(x: Tensor, name: str) -> None:
    if x.dim() != 5:
        raise ValueError(f"{name}: expected a (N, C, T, V, M) tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating tensor, got {x.dtype}")


def _check_xyz(x: Tensor, name: str) -> None:
    """A geometric op needs coordinates: 3-D (x, y, z) or 2-D (x, y, image keypoints; see `apply_matrix`)."""
    _check(x, name)
    if x.shape[1] not in (2, 3):
        raise ValueError(f"{name}: needs C = 3 (x, y, z) or C = 2 (x, y) coordinates, got C = {x.shape[1]}")


def _check_layout(x: Tensor, layout: Layout | None, name: str) -> Layout:
    if layout is None:
        raise ValueError(f"{name}: needs a joint layout (layout=...)")
    if x.shape[3] != layout.num_joints:
        raise ValueError(
            f"{name}: tensor has V = {x.shape[3]} joints but layout '{layout.name}' has {layout.num_joints}"
        )
    return layout


def _pair(v: float | Sequence[float], name: str) -> tuple[float, float]:
    """A (low, high) range from a scalar (fixed value) or a 2-sequence (YAML lists welcome)."""
    if isinstance(v, (int, float)):
        return v, v
    v = tuple(v)
    if len(v) != 2:
        raise ValueError(f"{name}: expected a number or a (low, high) pair, got {list(v)}")
    lo, hi = v
    if hi < lo:
        raise ValueError(f"{name}: range ({lo}, {hi}) has high < low")
    return lo, hi


def _apply_mask(x: Tensor, p: float, g: torch.Generator | None) -> Tensor | None:
    """Per-sample Bernoulli(p) as a bool (N,) tensor; None means 'every sample' (p >= 1)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability p must lie in [0, 1], got {p}")
    if p >= 1.0:
        return None
    return torch.rand(x.shape[0], generator=g, device=x.device) < p


def _select(mask: Tensor | None, new: Tensor, old: Tensor) -> Tensor:
    if mask is None:
        return new
    return torch.where(mask.view(-1, *([1] * (new.dim() - 1))), new, old)


def _uniform(shape: Sequence[int], lo: float, hi: float, g, x: Tensor) -> Tensor:
    return torch.rand(*shape, generator=g, device=x.device, dtype=x.dtype) * (hi - lo) + lo


def _randint(lo: int, hi: int, shape: Sequence[int], g, device) -> Tensor:
    """Integers uniform in {lo, ..., hi} (inclusive)."""
    return torch.randint(int(lo), int(hi) + 1, tuple(shape), generator=g, device=device)


def _random_subset(scores_shape: Sequence[int], k: Tensor, g, device) -> Tensor:
    """Bool mask over the last axis with k (broadcastable) distinct random True entries per row."""
    ranks = torch.rand(*scores_shape, generator=g, device=device).argsort(-1).argsort(-1)
    return ranks < k.unsqueeze(-1)


# --------------------------------------------------------------------------------------------------------------------
# temporal


def crop_at(x: Tensor, starts: Tensor, pad: int) -> Tensor:
    """Temporal crop with explicit per-sample starts (N,) in [0, 2·pad]; see temporal_crop (test hook)."""
    n, _, t = x.shape[:3]
    if pad <= 0:
        return x
    q = torch.arange(t + 2 * pad, device=x.device)
    # padded position q -> source frame: reversed head (pad-1 ... 0), the clip, reversed tail (T-1 ... T-pad)
    src = torch.where(q < pad, pad - 1 - q, torch.where(q < pad + t, q - pad, 2 * t + pad - 1 - q)).clamp(0, t - 1)
    idx = src[starts.to(x.device).long().view(n, 1) + torch.arange(t, device=x.device)]  # (N, T)
    return x.gather(2, idx.view(n, 1, t, 1, 1).expand_as(x))


def temporal_crop(x: Tensor, g: torch.Generator | None, pad_ratio: int = 6) -> Tensor:
    """Shift by up to ±⌊T/pad_ratio⌋ frames with reversed-frame padding, T kept (as in the AimCLR and SkeAttnCLR code).

    Start s ~ U{0..2P} per sample; s = P is the identity. pad_ratio <= 0 (or P = 0) disables the op."""
    _check(x, "temporal_crop")
    if pad_ratio is None or pad_ratio <= 0:
        return x
    pad = x.shape[2] // int(pad_ratio)
    if pad == 0:
        return x
    starts = _randint(0, 2 * pad, (x.shape[0],), g, x.device)
    return crop_at(x, starts, pad)


def temporal_crop_resize(
    x: Tensor, g: torch.Generator | None, min_ratio: float = 0.5, max_ratio: float = 1.0, p: float = 1.0
) -> Tensor:
    """Crop a random window of ratio U(min_ratio, max_ratio)·T per sample and linearly resize it back to T.

    Framework extra (not in the official code bases); ratio 1 is the identity."""
    _check(x, "temporal_crop_resize")
    lo, hi = _pair((min_ratio, max_ratio), "temporal_crop_resize ratio")
    if not 0.0 < lo <= hi <= 1.0:
        raise ValueError(f"temporal_crop_resize: need 0 < min_ratio <= max_ratio <= 1, got ({lo}, {hi})")
    n, _, t = x.shape[:3]
    mask = _apply_mask(x, p, g)
    length = (_uniform((n,), lo, hi, g, x) * (t - 1)).to(torch.float64)  # window spans `length` frame intervals
    start = torch.rand(n, generator=g, device=x.device, dtype=torch.float64) * ((t - 1) - length)
    if mask is not None:
        length = torch.where(mask, length, torch.full_like(length, t - 1))
        start = torch.where(mask, start, torch.zeros_like(start))
    step = torch.arange(t, device=x.device, dtype=torch.float64)
    pos = (start.view(n, 1) + length.view(n, 1) * step / max(t - 1, 1)).clamp(0, t - 1)  # (N, T) source positions
    i0 = pos.floor().long().clamp(0, t - 1)
    i1 = (i0 + 1).clamp(max=t - 1)
    w = (pos - i0).to(x.dtype).view(n, 1, t, 1, 1)
    x0 = x.gather(2, i0.view(n, 1, t, 1, 1).expand_as(x))
    x1 = x.gather(2, i1.view(n, 1, t, 1, 1).expand_as(x))
    return x0 + w * (x1 - x0)


def clip_lengths(x: Tensor) -> Tensor:
    """Frames (N,) up to each clip's last frame with a nonzero coordinate: the zero padding after a clip's end is
    not counted (an all-zero frame inside the clip is)."""
    t = x.shape[2]
    nonzero = (x != 0).flatten(3).any(dim=(1, 3))  # (N, T)
    step = torch.arange(1, t + 1, device=x.device)
    return torch.where(nonzero, step, 0).amax(dim=1)


def time_reverse(x: Tensor, g: torch.Generator | None, p: float = 0.5, within_clip: bool = False) -> Tensor:
    """Reverse the frame order per sample with probability p (AimCLR op '6', AS-CAL 'randomFlip'/Reverse).

    The official op reverses the whole window, so a zero-padded clip's padding moves to its front;
    `within_clip` reverses each clip's own frames (`clip_lengths`) and leaves the padding after them."""
    _check(x, "time_reverse")
    mask = _apply_mask(x, p, g)
    if not within_clip:
        return _select(mask, x.flip(2), x)
    n, t = x.shape[0], x.shape[2]
    length = clip_lengths(x).view(n, 1)
    step = torch.arange(t, device=x.device).view(1, t)
    idx = torch.where(step < length, length - 1 - step, step)  # (N, T)
    return _select(mask, x.gather(2, idx.view(n, 1, t, 1, 1).expand_as(x)), x)


# --------------------------------------------------------------------------------------------------------------------
# spatial: linear maps of the coordinates


def apply_matrix(x: Tensor, mat: Tensor) -> Tensor:
    """x'[n, :, t, v, m] = mat[n] @ x[n, :, t, v, m] for a (N, C, C) (or (C, C)) matrix batch.

    2-D clips (C = 2) under a 3 x 3 matrix are treated as the z = 0 plane of 3-D space: the matrix acts on
    (x, y, 0) and the result is projected back onto (x, y), i.e. its top-left 2 x 2 block is applied. A rotation
    about the vertical axis then foreshortens the figure as a camera turning around it would, and the random draws
    are the same as for 3-D clips."""
    if mat.dim() == 2:
        mat = mat.expand(x.shape[0], -1, -1)
    c = x.shape[1]
    if mat.shape[-1] > c:
        mat = mat[:, :c, :c]
    return torch.einsum("nij,njtvm->nitvm", mat.to(x.dtype), x)


def shear(x: Tensor, g: torch.Generator | None, amplitude: float = 0.5, p: float = 1.0) -> Tensor:
    """x' = S x, S unit-diagonal with six off-diagonal U(−a, a) entries per sample (AS-CAL: a = 1); 2-D clips get
    its top-left block (`apply_matrix`)."""
    _check_xyz(x, "shear")
    n = x.shape[0]
    off = _uniform((n, 3, 3), -amplitude, amplitude, g, x)
    eye = torch.eye(3, device=x.device, dtype=x.dtype)
    s = eye + off * (1 - eye)
    mask = _apply_mask(x, p, g)
    if mask is not None:
        s = torch.where(mask.view(n, 1, 1), s, eye)
    return apply_matrix(x, s)


def rotation_matrix(angles_deg: Tensor) -> Tensor:
    """(…, 3) angles in degrees about x, y, z -> (…, 3, 3) matrix Rz·Ry·Rx with AimCLR's transposed convention.

    R_x = [[1,0,0],[0,c,s],[0,−s,c]], R_y = [[c,0,−s],[0,1,0],[s,0,c]], R_z = [[c,s,0],[−s,c,0],[0,0,1]]
    (rotations by −θ), applied x first, then y, then z (as in the AimCLR code)."""
    rad = angles_deg * (math.pi / 180.0)
    c, s = rad.cos(), rad.sin()
    one, zero = torch.ones_like(c[..., 0]), torch.zeros_like(c[..., 0])

    def mat(rows):
        return torch.stack([torch.stack(r, -1) for r in rows], -2)

    cx, sx, cy, sy, cz, sz = c[..., 0], s[..., 0], c[..., 1], s[..., 1], c[..., 2], s[..., 2]
    rx = mat([[one, zero, zero], [zero, cx, sx], [zero, -sx, cx]])
    ry = mat([[cy, zero, -sy], [zero, one, zero], [sy, zero, cy]])
    rz = mat([[cz, sz, zero], [-sz, cz, zero], [zero, zero, one]])
    return rz @ ry @ rx


def rotate(
    x: Tensor,
    g: torch.Generator | None,
    max_angle: float = 30.0,
    minor_angle: float = 1.0,
    mode: str = "aimclr",
    symmetric: bool = False,
    axis: int | None = None,
    p: float = 1.0,
) -> Tensor:
    """Random 3-D rotation per sample, transposed matrices, order x→y→z (as in the AimCLR and AS-CAL code); 2-D
    clips are rotated as the z = 0 plane and projected back (`apply_matrix`).

    'aimclr': main axis U{x,y,z} with angle U(0, max), the others U(0, minor); 'single' (AS-CAL): the others 0.
    symmetric=True draws from (−max, max) / (−minor, minor); axis fixes the main axis (AS-CAL: y when first token)."""
    _check_xyz(x, "rotate")
    if mode not in ("aimclr", "single"):
        raise ValueError(f"rotate: unknown mode '{mode}'; valid: ['aimclr', 'single']")
    n = x.shape[0]
    lo_main = -max_angle if symmetric else 0.0
    lo_minor = -minor_angle if symmetric else 0.0
    main = _uniform((n, 1), lo_main, max_angle, g, x)
    if mode == "aimclr":
        minor = _uniform((n, 3), lo_minor, minor_angle, g, x)
    else:
        minor = torch.zeros(n, 3, device=x.device, dtype=x.dtype)
    if axis is None:
        ax = torch.randint(0, 3, (n, 1), generator=g, device=x.device)
    else:
        if axis not in (0, 1, 2):
            raise ValueError(f"rotate: axis must be 0, 1 or 2 (x, y, z), got {axis}")
        ax = torch.full((n, 1), int(axis), device=x.device, dtype=torch.long)
    is_main = torch.arange(3, device=x.device).view(1, 3) == ax
    angles = torch.where(is_main, main, minor)
    r = rotation_matrix(angles)
    mask = _apply_mask(x, p, g)
    if mask is not None:
        r = torch.where(mask.view(n, 1, 1), r, torch.eye(3, device=x.device, dtype=x.dtype))
    return apply_matrix(x, r)


def flip(
    x: Tensor, g: torch.Generator | None, layout: Layout | None = None, p: float = 0.5, reflect_coords: bool = False
) -> Tensor:
    """Swap left/right joints (layout.flip_permutation) per sample with probability p.

    reflect_coords=True also negates x (channel 0) of flipped samples; False is the faithful official behaviour."""
    _check(x, "flip")
    layout = _check_layout(x, layout, "flip")
    perm = torch.tensor(layout.flip_permutation, device=x.device, dtype=torch.long)
    flipped = x.index_select(3, perm)
    if reflect_coords:
        sign = torch.ones(x.shape[1], device=x.device, dtype=x.dtype)
        sign[0] = -1
        flipped = flipped * sign.view(1, -1, 1, 1, 1)
    return _select(_apply_mask(x, p, g), flipped, x)


def center(
    x: Tensor, g: torch.Generator | None = None, layout: Layout | None = None, joint: int | None = None
) -> Tensor:
    """Subtract one joint per frame and body; all-zero frames stay zero (AS-CAL 'subtract'; no randomness).

    joint defaults to layout.center; AS-CAL uses joint=1."""
    _check(x, "center")
    v = x.shape[3]
    if joint is None:
        if layout is None:
            raise ValueError("center: give joint=... or a layout (its centre joint is used)")
        _check_layout(x, layout, "center")
        joint = layout.center
    if not 0 <= int(joint) < v:
        raise ValueError(f"center: joint {joint} out of range 0..{v - 1}")
    j = int(joint)
    present = (x != 0).any(dim=1, keepdim=True).any(dim=3, keepdim=True)  # (N, 1, T, 1, M): frame/body non-empty
    return torch.where(present, x - x[:, :, :, j : j + 1], x)


# --------------------------------------------------------------------------------------------------------------------
# noise and blur


def gaussian_noise(
    x: Tensor, g: torch.Generator | None, std: float = 0.01, p: float = 0.5, mask_empty_bodies: bool = False
) -> Tensor:
    """Add N(0, std²) to every entry with probability p per sample (AS-CAL: std 0.05, p 1).

    mask_empty_bodies=True leaves all-zero body slots zero (the official AimCLR code adds noise there too)."""
    _check(x, "gaussian_noise")
    noise = torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype) * std
    if mask_empty_bodies:
        present = (x != 0).flatten(1, 3).any(dim=1)  # (N, M)
        noise = noise * present.view(x.shape[0], 1, 1, 1, -1).to(x.dtype)
    mask = _apply_mask(x, p, g)
    if mask is not None:
        noise = noise * mask.view(-1, 1, 1, 1, 1).to(x.dtype)
    return x + noise


def blur_kernels(sigma: Tensor, kernel: int = 15, normalize: bool = True) -> Tensor:
    """(N,) sigmas -> (N, kernel) Gaussian taps exp(−k²/2σ²), k = −K//2 … K//2; normalised to sum 1 if asked."""
    half = kernel // 2
    k = torch.arange(-half, half + 1, device=sigma.device, dtype=sigma.dtype)
    w = torch.exp(-(k**2) / (2 * sigma.view(-1, 1) ** 2))
    if normalize:
        w = w / w.sum(-1, keepdim=True)
    return w


def blur_with_kernels(x: Tensor, w: Tensor) -> Tensor:
    """Convolve along T with a per-sample (N, K) symmetric kernel, zero padding K//2, length kept (one grouped conv)."""
    n, c, t, v, m = x.shape
    k = w.shape[-1]
    seq = x.permute(1, 3, 4, 0, 2).reshape(c * v * m, n, t)  # batch = (c, v, m), channels = samples
    out = F.conv1d(seq, w.to(x.dtype).view(n, 1, k), padding=k // 2, groups=n)
    return out.reshape(c, v, m, n, t).permute(3, 0, 4, 1, 2).contiguous()


def gaussian_blur(
    x: Tensor,
    g: torch.Generator | None,
    p: float = 0.5,
    sigma: float | Sequence[float] = (0.1, 2.0),
    kernel: int = 15,
    normalize: bool = True,
) -> Tensor:
    """Temporal Gaussian blur, σ ~ U(sigma) per sample, zero padding, with probability p.

    normalize=False is the faithful un-normalised kernel (official AimCLR: gain 1.0 at σ = 0.1 up to 5.01 at σ = 2)."""
    _check(x, "gaussian_blur")
    kernel = int(kernel)
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"gaussian_blur: kernel must be a positive odd number of taps, got {kernel}")
    lo, hi = _pair(sigma, "gaussian_blur sigma")
    if lo <= 0:
        raise ValueError(f"gaussian_blur: sigma must be > 0, got ({lo}, {hi})")
    n = x.shape[0]
    sig = _uniform((n,), lo, hi, g, x)
    w = blur_kernels(sig, kernel, normalize)
    mask = _apply_mask(x, p, g)
    if mask is not None:
        delta = torch.zeros(kernel, device=x.device, dtype=w.dtype)
        delta[kernel // 2] = 1
        w = torch.where(mask.view(n, 1), w, delta)
    return blur_with_kernels(x, w)


# --------------------------------------------------------------------------------------------------------------------
# masking


def axis_mask(x: Tensor, g: torch.Generator | None, p: float = 0.5, axis: int | None = None) -> Tensor:
    """Zero one random coordinate axis (all frames, joints, bodies) per sample with probability p."""
    _check(x, "axis_mask")
    n, c = x.shape[:2]
    if axis is None:
        ax = torch.randint(0, c, (n, 1), generator=g, device=x.device)
    else:
        if not 0 <= int(axis) < c:
            raise ValueError(f"axis_mask: axis must be in 0..{c - 1}, got {axis}")
        ax = torch.full((n, 1), int(axis), device=x.device, dtype=torch.long)
    drop = torch.arange(c, device=x.device).view(1, c) == ax  # (N, C)
    mask = _apply_mask(x, p, g)
    if mask is not None:
        drop = drop & mask.view(n, 1)
    return x * (~drop).to(x.dtype).view(n, c, 1, 1, 1)


def zero_out_axis(x: Tensor, g: torch.Generator | None, axis: int | None = None) -> Tensor:
    """AS-CAL 'zeroOutAxis': always zero one random coordinate axis per sample (y when first token)."""
    return axis_mask(x, g, p=1.0, axis=axis)


def zero_out_joints(
    x: Tensor,
    g: torch.Generator | None,
    num_joints: int | Sequence[int] = (5, 15),
    frames: int | Sequence[int] | None = None,
    p: float = 1.0,
) -> Tensor:
    """AS-CAL 'zeroOutJoints': per sample zero U{5..15} random joints on a random subset of frames.

    frames: (low, high) frame count; default 50–100 if T ≥ 100 else 20–50 (capped at T)."""
    _check(x, "zero_out_joints")
    n, _, t, v, _ = x.shape
    jlo, jhi = _pair(num_joints, "zero_out_joints num_joints")
    if frames is None:
        frames = (50, 100) if t >= 100 else (20, 50)
    flo, fhi = _pair(frames, "zero_out_joints frames")
    jlo, jhi = min(int(jlo), v), min(int(jhi), v)
    flo, fhi = min(int(flo), t), min(int(fhi), t)
    kj = _randint(jlo, jhi, (n,), g, x.device)
    kf = _randint(flo, fhi, (n,), g, x.device)
    jm = _random_subset((n, v), kj, g, x.device)  # (N, V)
    fm = _random_subset((n, t), kf, g, x.device)  # (N, T)
    drop = fm.view(n, t, 1) & jm.view(n, 1, v)
    mask = _apply_mask(x, p, g)
    if mask is not None:
        drop = drop & mask.view(n, 1, 1)
    return x * (~drop).to(x.dtype).view(n, 1, t, v, 1)


def joint_mask_grid(shape: Sequence[int], ratio: float, g: torch.Generator | None, device) -> Tensor:
    """Bool keep-grid of `shape` (…, T, V) with exactly ⌊V·ratio⌋ False (masked) joints per frame."""
    v = shape[-1]
    k = int(math.floor(v * ratio + 1e-9))
    k = max(0, min(k, v))
    idx = torch.rand(*shape, generator=g, device=device).argsort(-1)[..., :k]
    return torch.ones(*shape, dtype=torch.bool, device=device).scatter(-1, idx, False)


def joint_mask(
    x: Tensor, g: torch.Generator | None, ratio: float = 0.1, fill: float | Tensor = 0.0, shared: bool = True
) -> Tensor:
    """HiCLR random joint mask: ⌊V·ratio⌋ distinct joints per frame, x̃ = x·G + (1 − G)·fill.

    shared=True: one (T, V) mask for the whole batch, bodies and channels (faithful); fill may be a learnable
    0-dim tensor (the graph is kept)."""
    _check(x, "joint_mask")
    n, _, t, v, _ = x.shape
    shape = (t, v) if shared else (n, t, v)
    keep = joint_mask_grid(shape, ratio, g, x.device).to(x.dtype)
    keep = keep.view(1 if shared else n, 1, t, v, 1)
    if isinstance(fill, Tensor):
        fill = fill.to(x.dtype)
    elif fill == 0:
        return x * keep
    return x * keep + (1 - keep) * fill


def part_swap_at(x: Tensor, joints: Tensor, frames: Tensor, offset: Tensor | int) -> Tensor:
    """x_mix = x except x_mix[i, :, R, J, :] = x[(i + offset) mod N, :, R, J, :]; joints (V,), frames (T,) bool."""
    n, _, t, v, _ = x.shape
    partner = (torch.arange(n, device=x.device) + torch.as_tensor(offset, device=x.device)) % n
    region = frames.to(x.device).view(1, 1, t, 1, 1) & joints.to(x.device).view(1, 1, 1, v, 1)
    return torch.where(region, x.index_select(0, partner), x)


def part_swap_with_params(
    x: Tensor,
    g: torch.Generator | None,
    layout: Layout | None = None,
    num_parts: int | Sequence[int] = (3, 4),
    chunk: int = 4,
    chunks: int | Sequence[int] = (4, 7),
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """part_swap that also returns its batch draw: (x_mix, J (V,) bool, R (T,) bool, offset n (0-dim long))."""
    _check(x, "part_swap")
    layout = _check_layout(x, layout, "part_swap")
    n, _, t, v, _ = x.shape
    dev = x.device
    no_j = torch.zeros(v, dtype=torch.bool, device=dev)
    no_r = torch.zeros(t, dtype=torch.bool, device=dev)
    zero = torch.zeros((), dtype=torch.long, device=dev)
    if n <= 2:
        return x, no_j, no_r, zero
    if not layout.parts:
        raise ValueError(f"part_swap: layout '{layout.name}' defines no body parts")
    nparts = len(layout.parts)
    plo, phi = _pair(num_parts, "part_swap num_parts")
    clo, chi = _pair(chunks, "part_swap chunks")
    chunk = int(chunk)
    if chunk < 1:
        raise ValueError(f"part_swap: chunk must be >= 1 frame, got {chunk}")
    total = -(-t // chunk)  # ⌈T / chunk⌉ chunks
    plo, phi = min(int(plo), nparts), min(int(phi), nparts)
    clo, chi = min(int(clo), total), min(int(chi), total)
    # spatial: c_s parts without replacement, J = union of their joints
    c_s = _randint(plo, phi, (), g, dev)
    chosen = _random_subset((nparts,), c_s, g, dev)  # (P,)
    member = torch.zeros(nparts, v, dtype=torch.bool, device=dev)
    for i, part in enumerate(layout.parts):
        member[i, list(part)] = True
    joints = (member & chosen.view(-1, 1)).any(0)
    # temporal: c_t chunks starting at chunk t0 ~ U{0 .. total - c_t}
    c_t = _randint(clo, chi, (), g, dev)
    t0 = (torch.rand((), generator=g, device=dev) * (total - c_t + 1).to(torch.float32)).floor().long()
    t0 = torch.minimum(t0, total - c_t)
    frame = torch.arange(t, device=dev)
    frames = (frame >= chunk * t0) & (frame < chunk * (t0 + c_t))
    # partner offset n ~ U{1 .. N-2}
    offset = _randint(1, n - 2, (), g, dev)
    return part_swap_at(x, joints, frames, offset), joints, frames, offset


def part_swap(x: Tensor, g: torch.Generator | None, layout: Layout | None = None, **params: Any) -> Tensor:
    """SkeleMix: swap a random set of body parts over a random chunk range with partner (i+n) mod N.

    One draw of (parts, frame range, offset) per batch; N ≤ 2 returns x unchanged. Parameters as
    `part_swap_with_params` (its signature is this op's, so views check the same YAML keys)."""
    return part_swap_with_params(x, g, layout, **params)[0]


part_swap.__signature__ = inspect.signature(part_swap_with_params).replace(return_annotation=Tensor)


def skele_adain(x: Tensor, g: torch.Generator | None, p: float = 1.0, eps: float = 1e-5) -> Tensor:
    """SkeleAdaIN: per (sample, body, channel) restyle with a partner's T×V mean/std, partner (i+n) mod N.

    One offset n ~ U{1..N−2} per batch, applied per sample with probability p; N ≤ 2 returns x unchanged."""
    _check(x, "skele_adain")
    n = x.shape[0]
    if n <= 2:
        return x
    mu = x.mean(dim=(2, 3), keepdim=True)
    sd = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    offset = _randint(1, n - 2, (), g, x.device)
    partner = (torch.arange(n, device=x.device) + offset) % n
    out = (x - mu) / sd * sd.index_select(0, partner) + mu.index_select(0, partner)
    return _select(_apply_mask(x, p, g), out, x)


# --------------------------------------------------------------------------------------------------------------------

OPS: dict[str, Callable[..., Tensor]] = {
    "temporal_crop": temporal_crop,
    "temporal_crop_resize": temporal_crop_resize,
    "time_reverse": time_reverse,
    "shear": shear,
    "rotate": rotate,
    "flip": flip,
    "center": center,
    "gaussian_noise": gaussian_noise,
    "gaussian_blur": gaussian_blur,
    "axis_mask": axis_mask,
    "zero_out_axis": zero_out_axis,
    "zero_out_joints": zero_out_joints,
    "joint_mask": joint_mask,
    "part_swap": part_swap,
    "skele_adain": skele_adain,
}
