"""dataset.normalize=sequence: one view-invariant transform per clip."""

import math

import pytest
import torch

from skelcl.augment.clips import ClipSpec, normalize_sequence, prepare_clips, resize_valid
from skelcl.data.layouts import KINECT20, NTU25


def clip(seed: int = 0, n: int = 3, t: int = 12, layout=KINECT20, m: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, t, layout.num_joints, m, generator=g) + 2.0  # away from the origin, never exactly 0


def rotate_y(x: torch.Tensor, angle: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.stack([c * x[:, 0] - s * x[:, 2], x[:, 1], s * x[:, 0] + c * x[:, 2]], dim=1)


def test_invariant_to_camera_azimuth_position_and_distance_scale():
    x = clip()
    ref = normalize_sequence(x, KINECT20.center, KINECT20.shoulders)
    moved = rotate_y(x, 1.1) * 2.5 + torch.tensor([0.3, -0.2, 4.0])[None, :, None, None, None]
    assert torch.allclose(normalize_sequence(moved, KINECT20.center, KINECT20.shoulders), ref, atol=1e-5)


def test_the_clip_faces_plus_x_and_is_centred_on_average():
    out = normalize_sequence(clip(1), KINECT20.center, KINECT20.shoulders)
    left, right = KINECT20.shoulders
    shoulder = (out[:, :, :, right, 0] - out[:, :, :, left, 0]).mean(dim=2)  # (N, C)
    assert torch.allclose(shoulder[:, 2], torch.zeros(3), atol=1e-5) and (shoulder[:, 0] > 0).all()
    assert torch.allclose(out[:, :, :, KINECT20.center, 0].mean(dim=2), torch.zeros(3, 3), atol=1e-5)


def test_one_transform_per_clip_keeps_the_bodys_own_motion():
    """Unlike per-frame centring, walking (a translation over time) and turning survive."""
    x = clip(2, n=1)
    walk = x + torch.linspace(0, 3, x.shape[2])[None, None, :, None, None] * torch.tensor([1.0, 0, 0])[
        None, :, None, None, None]
    a, b = normalize_sequence(x, 2, KINECT20.shoulders), normalize_sequence(walk, 2, KINECT20.shoulders)
    assert not torch.allclose(a, b, atol=1e-3)
    per_frame_step = (b[:, :, 1:] - b[:, :, :-1] - (a[:, :, 1:] - a[:, :, :-1])).mean(dim=(0, 2, 3, 4))
    assert per_frame_step.norm() > 0.01  # the displacement is still there (rotated and scaled)


def test_absent_frames_and_bodies_stay_zero_and_bodies_share_the_transform():
    x = clip(3, layout=NTU25, m=2)
    x[0, :, 8:] = 0  # clip 0 ends at frame 8
    x[1, :, :, :, 1] = 0  # clip 1 has one body
    out = normalize_sequence(x, NTU25.center, NTU25.shoulders)
    assert out[0, :, 8:].abs().sum() == 0 and out[1, :, :, :, 1].abs().sum() == 0
    # the second body's position relative to the first is kept up to the shared rotation and scale
    gap_in = (x[2, :, :, :, 1] - x[2, :, :, :, 0]).norm(dim=0)
    gap_out = (out[2, :, :, :, 1] - out[2, :, :, :, 0]).norm(dim=0)
    ratio = gap_out / gap_in
    assert torch.allclose(ratio, ratio.flatten()[0].expand_as(ratio), rtol=1e-4)


def test_layout_without_shoulders_centres_and_scales_only():
    x = clip(4)
    out = normalize_sequence(x, KINECT20.center, None)
    assert torch.allclose(normalize_sequence(x * 3, KINECT20.center, None), out, atol=1e-5)
    assert not torch.allclose(normalize_sequence(rotate_y(x, 0.7), KINECT20.center, None), out, atol=1e-3)


def test_prepare_clips_selects_the_mode_and_rejects_unknown_ones():
    x, lengths = clip(5), torch.tensor([12, 10, 7])
    seq = prepare_clips(x, lengths, ClipSpec(8, "resize", None, False, "sequence"), KINECT20)
    frame = prepare_clips(x, lengths, ClipSpec(8, "resize", 2, True, "frame"), KINECT20)
    assert seq.shape == frame.shape == (3, 3, 8, 20, 1) and not torch.allclose(seq, frame)
    with pytest.raises(ValueError, match="dataset.normalize 'global'"):
        prepare_clips(x, lengths, ClipSpec(8, "resize", None, False, "global"), KINECT20)


def test_2d_clips_are_centred_and_scaled_without_a_rotation():
    """Image keypoints (C = 2) carry no depth: the clip is centred and scaled, and equals the 3-D transform of the
    same figure placed in the z = 0 plane facing the camera (where that transform's rotation is the identity)."""
    x = clip(6)
    x[:, 2] = 0
    left, right = KINECT20.shoulders
    x[:, 0, :, right] = x[:, 0, :, left] + 0.5  # shoulders left -> right along +x: the 3-D rotation is the identity
    out3 = normalize_sequence(x, KINECT20.center, KINECT20.shoulders)
    out2 = normalize_sequence(x[:, :2].contiguous(), KINECT20.center, KINECT20.shoulders)
    assert out2.shape[1] == 2 and torch.allclose(out2, out3[:, :2], atol=1e-5)
    pixels = x[:, :2] * 120 + torch.tensor([320.0, 240.0])[None, :, None, None, None]  # image coordinates
    assert torch.allclose(normalize_sequence(pixels, KINECT20.center, KINECT20.shoulders), out2, atol=1e-4)


def test_per_frame_shoulder_alignment_needs_3d():
    x, lengths = clip(7)[:, :2].contiguous(), torch.tensor([12, 10, 7])
    with pytest.raises(ValueError, match="needs 3-D"):
        prepare_clips(x, lengths, ClipSpec(8, "resize", None, True, "frame"), KINECT20)


def pixel_clip(seed: int = 6, n: int = 4, t: int = 16) -> torch.Tensor:
    """2-D pose-estimator keypoints in pixels: figures ~300 px tall placed around (900, 500) in a 1920 x 1080 image."""
    g = torch.Generator().manual_seed(seed)
    figure = torch.randn(n, 2, 1, KINECT20.num_joints, 1, generator=g) * torch.tensor([40.0, 120.0])[None, :, None,
                                                                                                  None, None]
    where = torch.tensor([900.0, 500.0])[None, :, None, None, None] + 200 * torch.randn(n, 2, 1, 1, 1, generator=g)
    return figure + where + 3 * torch.randn(n, 2, t, KINECT20.num_joints, 1, generator=g)


def test_joints_the_pose_estimator_missed_stay_at_the_centre_and_do_not_move_the_others():
    """OpenPose-style output writes a missed joint as (0, 0). Counted as a coordinate it would land ~10 body sizes
    away (at minus the clip's position) and inflate the size every other joint is divided by."""
    x = pixel_clip()
    g = torch.Generator().manual_seed(7)
    missed = torch.rand(x.shape[0], 1, x.shape[2], x.shape[3], 1, generator=g) < 0.15
    missed[:, :, :, KINECT20.center] = False
    missed[:, :, 3, KINECT20.center] = True  # the centre joint too, in one frame
    holes = x * ~missed
    full = normalize_sequence(x, KINECT20.center, KINECT20.shoulders)
    out = normalize_sequence(holes, KINECT20.center, KINECT20.shoulders)
    assert (out * missed).abs().sum() == 0  # missed joints sit at the centre
    assert out.abs().max() < 5
    kept = ~missed.expand_as(out)
    assert (out - full)[kept].abs().max() < 0.1  # the others barely move (origin / size from fewer joints)


def test_resampling_never_blends_a_joint_with_its_absence():
    x = torch.full((1, 2, 10, 3, 1), 100.0) + torch.arange(10.0)[None, None, :, None, None]
    x[:, :, 5, 1] = 0  # joint 1 missed in frame 5
    out = resize_valid(x, torch.tensor([10]), 23)
    joint = out[0, 0, :, 1, 0]
    assert ((joint == 0) | (joint >= 100)).all() and (joint == 0).any()
    assert torch.allclose(out[:, :, :, [0, 2]], resize_valid(x[:, :, :, [0, 2]], torch.tensor([10]), 23))


@pytest.mark.parametrize("axis,lay_down", [(2, lambda x: torch.stack([x[:, 0], -x[:, 2], x[:, 1]], 1)),
                                            (0, lambda x: torch.stack([x[:, 1], -x[:, 0], x[:, 2]], 1))])
def test_bodies_standing_along_z_or_x_are_turned_to_stand_along_y_first(axis, lay_down):
    """dataset.vertical_axis: clips recorded z-up (motion capture) or x-up become the y-up clips they are a quarter
    turn of, exactly, before the per-clip view normalisation turns them about y."""
    from skelcl.augment.clips import stand_upright

    x = clip(7)
    lying = lay_down(x)
    assert torch.equal(stand_upright(lying, axis), x) and stand_upright(x, 1) is x
    lengths = torch.full((x.shape[0],), x.shape[2])
    upright = prepare_clips(x, lengths, ClipSpec(frames=8, normalize="sequence"), KINECT20)
    turned = prepare_clips(lying, lengths, ClipSpec(frames=8, normalize="sequence", vertical_axis=axis), KINECT20)
    kept = prepare_clips(lying, lengths, ClipSpec(frames=8, normalize="sequence"), KINECT20)
    assert torch.allclose(turned, upright, atol=1e-6) and not torch.allclose(kept, upright, atol=1e-2)
