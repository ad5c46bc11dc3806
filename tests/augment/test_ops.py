"""Tests for the batched augmentation ops (skelcl.augment.ops): contract checks for every op plus test vectors."""

from __future__ import annotations

import math

import pytest
import torch

from skelcl.augment import ops
from skelcl.augment.ops import OPS
from skelcl.data.layouts import NTU25, Layout

N, C, T, V, M = 8, 3, 50, 25, 2

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


def gen(seed: int = 0, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def batch(seed: int = 123, device: str = "cpu", n: int = N, t: int = T, dtype=torch.float32) -> torch.Tensor:
    x = torch.randn(n, C, t, V, M, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return x.to(device)


def call(name: str, x: torch.Tensor, g: torch.Generator, **params) -> torch.Tensor:
    fn = OPS[name]
    if "layout" in fn.__code__.co_varnames[: fn.__code__.co_argcount]:
        params.setdefault("layout", NTU25)
    return fn(x, g, **params)


# per op: (default params, zero-strength params or None, params making every sample draw its own randomness or None)
CASES: dict[str, tuple[dict, dict | None, dict | None]] = {
    "temporal_crop": ({}, {"pad_ratio": 0}, {}),
    "temporal_crop_resize": ({}, {"min_ratio": 1.0, "max_ratio": 1.0}, {}),
    "time_reverse": ({}, {"p": 0.0}, {"p": 0.5}),
    "shear": ({}, {"amplitude": 0.0}, {}),
    "rotate": ({}, {"max_angle": 0.0, "minor_angle": 0.0}, {}),
    "flip": ({}, {"p": 0.0}, {"p": 0.5}),
    "center": ({}, None, None),
    "gaussian_noise": ({}, {"std": 0.0, "p": 1.0}, {"p": 1.0}),
    "gaussian_blur": ({}, {"p": 0.0}, {"p": 1.0}),
    "axis_mask": ({}, {"p": 0.0}, {"p": 1.0}),
    "zero_out_axis": ({}, None, {}),
    "zero_out_joints": ({}, {"num_joints": 0}, {}),
    "joint_mask": ({}, {"ratio": 0.0}, {"shared": False}),
    "part_swap": ({}, {"num_parts": 0}, None),  # one draw per batch by design
    "skele_adain": ({}, {"p": 0.0}, None),  # one partner offset per batch by design
}
RANDOM_OPS = [k for k in CASES if k != "center"]


def test_registry_covers_cases_and_docstrings():
    assert set(CASES) == set(OPS)
    for name, fn in OPS.items():
        assert fn.__doc__ and fn.__doc__.strip(), name


# --------------------------------------------------------------------------------------------------------------------
# the contract, for every op


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(CASES))
def test_shape_dtype_device(name, device):
    for dtype in (torch.float32, torch.float64):
        x = batch(device=device, dtype=dtype)
        y = call(name, x, gen(0, device), **CASES[name][0])
        assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
        assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", [k for k, v in CASES.items() if v[1] is not None])
def test_identity_at_zero_strength(name):
    x = batch()
    y = call(name, x, gen(0), **CASES[name][1])
    torch.testing.assert_close(y, x, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", [k for k, v in CASES.items() if v[2] is not None])
def test_per_sample_randomness(name):
    x = batch(n=1).expand(N, -1, -1, -1, -1).contiguous()  # N copies of one clip
    y = call(name, x, gen(0), **CASES[name][2])
    distinct = {tuple(y[i].flatten().tolist()) for i in range(N)}
    assert len(distinct) > 1, f"{name}: all samples received the same parameters"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", RANDOM_OPS)
def test_reproducible_under_seed(name, device):
    x = batch(device=device)
    params = CASES[name][0]
    a = call(name, x, gen(7, device), **params)
    b = call(name, x, gen(7, device), **params)
    assert torch.equal(a, b)
    # another seed gives another draw (batch-level draws such as skele_adain's offset may collide for one seed)
    assert any(not torch.equal(a, call(name, x, gen(s, device), **params)) for s in (8, 9, 10))


def test_ops_do_not_modify_input():
    x = batch()
    ref = x.clone()
    for name in CASES:
        call(name, x, gen(0), **CASES[name][0])
        assert torch.equal(x, ref), name


def test_bad_inputs_fail_clearly():
    with pytest.raises(ValueError, match="C = 3 .* or C = 2"):
        ops.shear(torch.zeros(2, 4, 5, V, M), gen())
    with pytest.raises(ValueError, match="layout"):
        ops.flip(torch.zeros(2, 3, 5, 20, M), gen(), layout=NTU25)
    with pytest.raises(ValueError, match="odd"):
        ops.gaussian_blur(batch(), gen(), kernel=14)
    with pytest.raises(ValueError, match="mode"):
        ops.rotate(batch(), gen(), mode="textbook")
    with pytest.raises(ValueError):
        ops.time_reverse(batch(), gen(), p=1.5)


# --------------------------------------------------------------------------------------------------------------------
# temporal crop


def frame_coded(n: int = N, t: int = T) -> torch.Tensor:
    """x[n, c, t, v, m] = t, so a frame's value names its source frame."""
    return torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).expand(n, C, t, V, M).contiguous()


def test_crop_identity_at_start_p_and_reversed_head_at_zero():
    x = batch()
    pad = T // 6
    assert pad == 8
    starts = torch.full((N,), pad)
    torch.testing.assert_close(ops.crop_at(x, starts, pad), x, rtol=0, atol=0)
    y = ops.crop_at(x, torch.zeros(N, dtype=torch.long), pad)
    torch.testing.assert_close(y[:, :, :8], x[:, :, [7, 6, 5, 4, 3, 2, 1, 0]], rtol=0, atol=0)
    torch.testing.assert_close(y[:, :, 8:], x[:, :, : T - 8], rtol=0, atol=0)
    z = ops.crop_at(x, torch.full((N,), 2 * pad), pad)  # reversed tail: frames T-1 ... T-P
    torch.testing.assert_close(z[:, :, -8:], x[:, :, [49, 48, 47, 46, 45, 44, 43, 42]], rtol=0, atol=0)


def test_crop_starts_cover_zero_to_2p_per_sample():
    x = frame_coded(n=400)
    y = ops.temporal_crop(x, gen(3))
    pad = 8
    seen = set()
    for i in range(400):
        first = y[i, 0, :, 0, 0]
        # find the start that reproduces this sample
        s = [
            s
            for s in range(2 * pad + 1)
            if torch.equal(ops.crop_at(x[i : i + 1], torch.tensor([s]), pad)[0, 0, :, 0, 0], first)
        ]
        assert len(s) == 1
        seen.add(s[0])
    assert seen == set(range(2 * pad + 1))


def test_crop_resize_is_linear_interpolation_of_a_window():
    x = frame_coded()
    y = ops.temporal_crop_resize(x, gen(1), min_ratio=0.5, max_ratio=0.9)
    seq = y[:, 0, :, 0, 0].double()
    d = seq.diff(dim=1)
    torch.testing.assert_close(d, d[:, :1].expand_as(d), rtol=0, atol=1e-4)  # affine in t
    span = seq[:, -1] - seq[:, 0]
    assert ((span >= 0.5 * (T - 1) - 1e-3) & (span <= 0.9 * (T - 1) + 1e-3)).all()
    assert (seq >= 0).all() and (seq <= T - 1).all()


def test_time_reverse_twice_is_identity_and_reverses():
    x = batch()
    y = ops.time_reverse(x, gen(0), p=1.0)
    assert torch.equal(y, x.flip(2))
    assert torch.equal(ops.time_reverse(y, gen(0), p=1.0), x)


def test_time_reverse_within_clip_keeps_the_padding_after_the_clip():
    x = frame_coded(n=3, t=10) + 1  # frame t holds t + 1: no frame is all zero by chance
    x[0, :, 6:] = 0  # clip 0 ends after 6 frames, clip 1 after 9 (one empty frame inside it), clip 2 fills the window
    x[1, :, 9:] = 0
    x[1, :, 4] = 0
    assert ops.clip_lengths(x).tolist() == [6, 9, 10]
    y = ops.time_reverse(x, gen(0), p=1.0, within_clip=True)
    assert torch.equal(y[0, :, :6], x[0, :, :6].flip(1)) and torch.equal(y[0, :, 6:], x[0, :, 6:])
    assert torch.equal(y[1, :, :9], x[1, :, :9].flip(1)) and bool((y[1, :, 4] == 0).all())
    assert torch.equal(y[2], x[2].flip(1))  # a clip without padding: the official op
    assert torch.equal(ops.time_reverse(y, gen(0), p=1.0, within_clip=True), x)
    kept = ops.time_reverse(x, gen(0), p=0.0, within_clip=True)
    assert torch.equal(kept, x)


# --------------------------------------------------------------------------------------------------------------------
# shear and rotation


def basis_batch(n: int = N) -> torch.Tensor:
    """Joints 0, 1, 2 of frame 0 are e_x, e_y, e_z, so an op's output there is its matrix's columns."""
    x = torch.zeros(n, 3, 4, V, 1)
    for j in range(3):
        x[:, j, 0, j, 0] = 1.0
    return x


def recovered_matrices(y: torch.Tensor) -> torch.Tensor:
    return y[:, :, 0, :3, 0]  # (N, 3 rows, 3 columns)


def test_shear_zero_matrix_is_identity_and_matrix_is_applied():
    x = batch()
    torch.testing.assert_close(ops.apply_matrix(x, torch.eye(3)), x, rtol=0, atol=0)
    s = torch.tensor([[1.0, 0.2, -0.3], [0.4, 1.0, 0.1], [-0.2, 0.3, 1.0]])
    y = ops.apply_matrix(x, s)
    torch.testing.assert_close(y[2, :, 5, 7, 1], s @ x[2, :, 5, 7, 1])


def test_shear_draws_unit_diagonal_bounded_entries_per_sample():
    s = recovered_matrices(ops.shear(basis_batch(), gen(0), amplitude=0.5))
    torch.testing.assert_close(torch.diagonal(s, dim1=1, dim2=2), torch.ones(N, 3))
    off = s[:, ~torch.eye(3, dtype=torch.bool)]
    assert (off.abs() < 0.5).all() and off.std() > 0.1
    assert len({tuple(m.flatten().tolist()) for m in s}) == N


def test_rotation_matrix_faithful_sign_convention():
    r = ops.rotation_matrix(torch.tensor([[90.0, 0.0, 0.0]]))[0]
    torch.testing.assert_close(r @ torch.tensor([0.0, 1.0, 0.0]), torch.tensor([0.0, 0.0, -1.0]), atol=1e-6, rtol=0)
    r = ops.rotation_matrix(torch.tensor([[0.0, 90.0, 0.0]]))[0]
    torch.testing.assert_close(r @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0]), atol=1e-6, rtol=0)
    r = ops.rotation_matrix(torch.tensor([[0.0, 0.0, 90.0]]))[0]
    torch.testing.assert_close(r @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, -1.0, 0.0]), atol=1e-6, rtol=0)
    # order: x first, then y, then z
    a = torch.tensor([[20.0, 0.0, 0.0], [0.0, 30.0, 0.0], [0.0, 0.0, 40.0]])
    rx, ry, rz = ops.rotation_matrix(a)
    torch.testing.assert_close(ops.rotation_matrix(torch.tensor([[20.0, 30.0, 40.0]]))[0], rz @ ry @ rx)


def test_rotation_matrices_orthonormal():
    angles = torch.rand(64, 3, generator=gen(0)) * 360 - 180
    r = ops.rotation_matrix(angles)
    torch.testing.assert_close(r @ r.transpose(1, 2), torch.eye(3).expand(64, 3, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(64), atol=1e-5, rtol=0)


def test_rotate_aimclr_angles_one_main_axis():
    r = recovered_matrices(ops.rotate(basis_batch(256), gen(0)))
    torch.testing.assert_close(r @ r.transpose(1, 2), torch.eye(3).expand(256, 3, 3), atol=1e-5, rtol=0)
    # total rotation angle ≤ about 30° + 2·1°, and > 0 (always applied)
    angle = torch.rad2deg(torch.arccos(((torch.diagonal(r, dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1)))
    assert (angle <= 32.5).all() and (angle > 0).all() and angle.max() > 20


def test_rotate_single_mode_one_sided_about_fixed_axis():
    r = recovered_matrices(ops.rotate(basis_batch(64), gen(0), mode="single", axis=1))
    torch.testing.assert_close(r[:, 1], torch.tensor([0.0, 1.0, 0.0]).expand(64, 3))  # y untouched
    sin = -r[:, 0, 2]  # R_y = [[c, 0, -s], ...]: one-sided angle in (0, 30°) means r[0, 2] <= 0
    assert (sin >= 0).all() and (sin <= math.sin(math.radians(30)) + 1e-6).all()
    rs = recovered_matrices(ops.rotate(basis_batch(64), gen(0), mode="single", axis=1, symmetric=True))
    assert (rs[:, 0, 2] > 0).any() and (rs[:, 0, 2] < 0).any()


# --------------------------------------------------------------------------------------------------------------------
# flip (official: joint labels swapped, x not negated)


def test_flip_permutation_involution_and_ntu_fixed_joints():
    perm = NTU25.flip_permutation
    assert [perm[p] for p in perm] == list(range(V))
    assert perm == [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12, 13, 14, 15, 20, 23, 24, 21, 22]
    x = batch()
    y = ops.flip(x, gen(0), layout=NTU25, p=1.0)
    assert torch.equal(y, x[:, :, :, perm])
    assert torch.equal(ops.flip(y, gen(0), layout=NTU25, p=1.0), x)


def test_flip_reads_a_custom_layout():
    tiny = Layout(
        name="tiny", num_joints=5, bones=((0, 0), (1, 0), (2, 0), (3, 1), (4, 2)), center=0, pairs=((1, 2), (3, 4))
    )
    x = torch.arange(5, dtype=torch.float32).view(1, 1, 1, 5, 1).expand(4, 3, 6, 5, 2).contiguous()
    y = ops.flip(x, gen(0), layout=tiny, p=1.0)
    assert y[0, 0, 0, :, 0].tolist() == [0.0, 2.0, 1.0, 4.0, 3.0]
    yr = ops.flip(x, gen(0), layout=tiny, p=1.0, reflect_coords=True)
    assert yr[0, 0, 0, :, 0].tolist() == [-0.0, -2.0, -1.0, -4.0, -3.0]
    assert torch.equal(yr[:, 1:], y[:, 1:])


def test_flip_p_half_flips_some_samples_whole():
    x = batch(n=64)
    y = ops.flip(x, gen(0), layout=NTU25, p=0.5)
    flipped = torch.tensor([torch.equal(y[i], x[i, :, :, NTU25.flip_permutation]) for i in range(64)])
    same = torch.tensor([torch.equal(y[i], x[i]) for i in range(64)])
    assert (flipped ^ same).all() and 16 < int(flipped.sum()) < 48


# --------------------------------------------------------------------------------------------------------------------
# centring, noise, blur, masks


def test_center_subtracts_joint_and_keeps_zero_frames():
    x = batch()
    x[:, :, 40:] = 0  # zero padding
    x[:, :, :, :, 1] = 0  # absent body
    y = ops.center(x, None, joint=1)
    torch.testing.assert_close(y[:, :, :40, :, 0], x[:, :, :40, :, 0] - x[:, :, :40, 1:2, 0])
    assert (y[:, :, :, 1, 0] == 0).all()
    assert (y[:, :, 40:] == 0).all() and (y[..., 1] == 0).all()
    yc = ops.center(x, gen(0), layout=NTU25)  # layout.center = 20 by default
    assert (yc[:, :, :40, 20, 0] == 0).all()


def test_noise_std_and_empty_body_mask():
    x = batch(n=N)
    x[:, :, :, :, 1] = 0
    y = ops.gaussian_noise(x, gen(0), std=0.01, p=1.0)
    assert (y[..., 1] != 0).all()  # faithful: the empty slot gets noise too
    assert abs((y - x).std().item() - 0.01) < 1e-3
    yf = ops.gaussian_noise(x, gen(0), std=0.01, p=1.0, mask_empty_bodies=True)
    assert (yf[..., 1] == 0).all() and (yf[..., 0] != x[..., 0]).all()


@pytest.mark.parametrize("sigma,gain", [(2.0, 5.0125), (1.0, 2.5066), (0.1, 1.0)])
def test_blur_gain_unnormalised(sigma, gain):
    x = torch.ones(2, 3, 40, 4, 1)
    y = ops.gaussian_blur(x, gen(0), p=1.0, sigma=(sigma, sigma), normalize=False)
    torch.testing.assert_close(y[:, :, 7:-7], torch.full_like(y[:, :, 7:-7], gain), atol=1e-4, rtol=0)
    assert (y[:, :, 0] < y[:, :, 20]).all() or sigma == 0.1  # zero padding fades the edges
    yn = ops.gaussian_blur(x, gen(0), p=1.0, sigma=sigma, normalize=True)
    torch.testing.assert_close(yn[:, :, 7:-7], torch.ones_like(yn[:, :, 7:-7]), atol=1e-5, rtol=0)


def test_blur_kernels_and_per_sample_sigma():
    w = ops.blur_kernels(torch.tensor([2.0, 1.0, 0.1]), 15, normalize=False)
    torch.testing.assert_close(w.sum(-1), torch.tensor([5.0125, 2.5066, 1.0]), atol=1e-4, rtol=0)
    x = torch.ones(N, 1 + 2, 40, 2, 1)
    y = ops.gaussian_blur(x, gen(0), p=1.0, normalize=False)
    gains = y[:, 0, 20, 0, 0]
    assert (gains >= 1.0 - 1e-6).all() and (gains <= 5.0125 + 1e-4).all() and len(set(gains.tolist())) == N
    # matches a per-sample reference convolution
    xs = batch(n=3)
    sig = torch.tensor([0.5, 1.0, 2.0])
    w = ops.blur_kernels(sig, 15, normalize=True)
    out = ops.blur_with_kernels(xs, w)
    ref = torch.nn.functional.conv1d(xs[1].permute(0, 2, 3, 1).reshape(-1, 1, T), w[1].view(1, 1, 15), padding=7)
    torch.testing.assert_close(out[1], ref.view(C, V, M, T).permute(0, 3, 1, 2))


def test_axis_mask_zeroes_exactly_one_axis():
    x = batch(n=64).abs() + 1
    y = ops.axis_mask(x, gen(0), p=1.0)
    zero_axes = (y == 0).flatten(2).all(-1)  # (N, C)
    assert (zero_axes.sum(1) == 1).all() and len(set(zero_axes.float().argmax(1).tolist())) == 3
    assert torch.equal(y[~zero_axes], x[~zero_axes])
    ya = ops.zero_out_axis(x, gen(0), axis=1)
    assert (ya[:, 1] == 0).all() and torch.equal(ya[:, [0, 2]], x[:, [0, 2]])
    yp = ops.axis_mask(x, gen(0), p=0.5)
    n_masked = int((yp == 0).flatten(2).all(-1).any(1).sum())
    assert 16 < n_masked < 48


def test_zero_out_joints_counts():
    x = torch.ones(32, 3, T, V, M)
    y = ops.zero_out_joints(x, gen(0))
    zero = (y == 0).all(dim=1).all(dim=-1)  # (N, T, V): all channels and bodies zeroed together
    assert torch.equal((y == 0).any(dim=1).any(dim=-1), zero)
    joints = zero.any(1).sum(-1)
    frames = zero.any(2).sum(-1)
    assert ((joints >= 5) & (joints <= 15)).all() and ((frames >= 20) & (frames <= 50)).all()
    # the mask is a product: every chosen joint is zero on every chosen frame
    assert torch.equal(zero.sum((1, 2)), joints * frames)
    long = ops.zero_out_joints(torch.ones(16, 3, 120, V, 1), gen(0))
    lf = (long == 0).all(1).all(-1).any(2).sum(-1)
    assert ((lf >= 50) & (lf <= 100)).all()


def test_joint_mask_exact_count_shared_and_fill_gradient():
    x = batch()
    fill = torch.zeros((), requires_grad=True)
    y = ops.joint_mask(x, gen(0), ratio=0.1, fill=fill)
    masked = y == 0
    assert torch.equal(masked, masked[:1].expand_as(masked))  # same for every sample
    assert torch.equal(masked, masked[:, :1].expand_as(masked))  # every channel
    assert torch.equal(masked, masked[..., :1].expand_as(masked))  # every body
    per_frame = masked[0, 0, :, :, 0].sum(-1)
    assert (per_frame == 2).all() and int(masked[0, 0, :, :, 0].sum()) == 100
    y.sum().backward()
    assert fill.grad is not None and fill.grad.item() == N * C * T * 2 * M
    # a non-zero fill lands exactly on the masked entries
    y2 = ops.joint_mask(x, gen(0), ratio=0.1, fill=torch.tensor(0.7))
    assert torch.equal(y2[masked], torch.full_like(y2[masked], 0.7)) and torch.equal(y2[~masked], x[~masked])


def test_joint_mask_per_sample_option():
    x = batch(n=1).expand(N, -1, -1, -1, -1).contiguous()
    y = ops.joint_mask(x, gen(0), ratio=0.2, shared=False)
    m = (y == 0)[:, 0, :, :, 0]
    assert (m.sum(-1) == 5).all() and not torch.equal(m[0], m[1])
    assert ops.joint_mask_grid((T, 20), 0.1, gen(0), "cpu").logical_not().sum(-1).eq(2).all()


# --------------------------------------------------------------------------------------------------------------------
# SkeleMix part swap


def test_part_swap_region_partner_and_sizes():
    part_sizes = [len(p) for p in NTU25.parts]
    sizes_r = set()
    for seed in range(20):
        x = batch(seed=seed, t=64)
        y, joints, frames, n = ops.part_swap_with_params(x, gen(seed), layout=NTU25)
        n = int(n)
        assert 1 <= n <= N - 2
        region = frames.view(1, 1, -1, 1, 1) & joints.view(1, 1, 1, -1, 1)
        region = region.expand_as(x)
        assert torch.equal(y[~region], x[~region])
        partner = x.roll(-n, dims=0)  # partner of i is (i + n) mod N
        assert torch.equal(y[region], partner[region])
        r = int(frames.sum())
        assert r in {16, 20, 24, 28}
        idx = frames.nonzero().flatten()
        assert idx[0] % 4 == 0 and torch.equal(idx, torch.arange(int(idx[0]), int(idx[0]) + r))  # contiguous chunks
        chosen = [i for i, p in enumerate(NTU25.parts) if joints[list(p)].all()]
        assert len(chosen) in (3, 4)
        assert int(joints.sum()) == sum(part_sizes[i] for i in chosen)
        assert 13 <= int(joints.sum()) <= 21
        sizes_r.add(r)
        assert torch.equal(ops.part_swap(x, gen(seed), layout=NTU25), y)
    assert len(sizes_r) > 1


def test_part_swap_small_batches():
    x3 = batch(n=3, t=64)
    for seed in range(5):
        _, _, _, n = ops.part_swap_with_params(x3, gen(seed), layout=NTU25)
        assert int(n) == 1
    for n in (1, 2):
        x = batch(n=n, t=64)
        assert torch.equal(ops.part_swap(x, gen(0), layout=NTU25), x)


def test_part_swap_explicit_and_short_clip():
    x = batch(n=4)
    joints = torch.zeros(V, dtype=torch.bool)
    joints[[3, 5]] = True
    frames = torch.zeros(T, dtype=torch.bool)
    frames[10:14] = True
    y = ops.part_swap_at(x, joints, frames, 2)
    assert torch.equal(y[0, :, 10:14][:, :, [3, 5]], x[2, :, 10:14][:, :, [3, 5]])
    assert torch.equal(y[3, :, 10:14][:, :, [3, 5]], x[1, :, 10:14][:, :, [3, 5]])
    # T = 50 is not a multiple of the chunk: the range is clipped to the clip
    _, _, fr, _ = ops.part_swap_with_params(batch(), gen(1), layout=NTU25)
    assert 0 < int(fr.sum()) <= 28


def test_skele_adain_takes_partner_statistics():
    x = batch()
    y = ops.skele_adain(x, gen(0), p=1.0)
    mu_x, mu_y = x.mean((2, 3)), y.mean((2, 3))
    sd_x, sd_y = x.std((2, 3), unbiased=False), y.std((2, 3), unbiased=False)
    shifts = [s for s in range(1, N - 1) if torch.allclose(mu_y, mu_x.roll(-s, 0), atol=1e-5)]
    assert len(shifts) == 1
    torch.testing.assert_close(sd_y, sd_x.roll(-shifts[0], 0), atol=1e-4, rtol=1e-4)
    assert torch.equal(ops.skele_adain(x[:2], gen(0)), x[:2])


@pytest.mark.parametrize("name,params", [("shear", {"amplitude": 0.5}), ("rotate", {"max_angle": 60.0}),
                                         ("rotate", {"mode": "single", "axis": 1, "max_angle": 90.0})])
def test_2d_clips_move_as_the_z0_plane_of_3d_space(name, params):
    """2-D keypoints (C = 2) under a geometric op: exactly the 3-D op on (x, y, 0), projected back onto (x, y),
    with the same random draws."""
    x3 = batch()
    x3[:, 2] = 0
    out3 = call(name, x3, gen(5), **params)
    out2 = call(name, x3[:, :2].contiguous(), gen(5), **params)
    assert out2.shape == (N, 2, T, V, M)
    assert torch.allclose(out2, out3[:, :2], atol=1e-6)
    assert not torch.allclose(out2, x3[:, :2])


def test_a_quarter_turn_about_the_vertical_axis_flattens_a_2d_figure():
    x = batch()[:, :2]
    out = ops.rotate(x, gen(), mode="single", axis=1, max_angle=90.0, minor_angle=0.0, symmetric=False)
    angle = torch.rand(N, 1, generator=gen()) * 90.0  # the draw rotate made (main angle first)
    expected_x = x[:, 0] * torch.cos(torch.deg2rad(angle)).view(N, 1, 1, 1)
    assert torch.allclose(out[:, 1], x[:, 1])  # heights are kept
    assert torch.allclose(out[:, 0], expected_x, atol=1e-5)  # widths foreshortened by cos(angle)
