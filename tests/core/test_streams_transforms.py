import numpy as np
import pytest
import torch

from skelcl.augment.clips import align_shoulders, first_frames, resize_valid
from skelcl.augment.ops import center
from skelcl.augment.streams import bone, motion, to_stream
from skelcl.data.layouts import KINECT20, LAYOUTS, NTU25, Layout, LayoutError, get_layout


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_ntu_layout_facts():
    assert NTU25.flip_permutation == [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12, 13, 14, 15, 20, 23,
                                      24, 21, 22]
    perm = NTU25.flip_permutation
    assert [perm[p] for p in perm] == list(range(25))
    assert NTU25.parents[20] == 20 and NTU25.parents[0] == 1 and NTU25.parents[21] == 22
    assert len(NTU25.edges) == 24 and KINECT20.center == 2 and len(KINECT20.edges) == 19


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_builtin_layouts_are_trees_with_named_sides(name):
    """Every built-in layout: one tree rooted at its centre, flip pairs that swap each left_* joint with its right_*
    twin (by name), body parts that cover every joint once, shoulders = (left, right) shoulder."""
    lay = get_layout(name)
    names = lay.joint_names
    for j in range(lay.num_joints):  # every joint reaches the centre
        seen = {j}
        while lay.parents[j] != j:
            j = lay.parents[j]
            assert j not in seen, f"{name}: cycle through joint {j}"
            seen.add(j)
        assert j == lay.center
    flipped = [names[p] for p in lay.flip_permutation]
    swap = {"left": "right", "right": "left"}
    assert flipped == [swap[n.split("_")[0]] + n[n.index("_"):] if n.split("_")[0] in swap else n for n in names]
    assert sorted(j for part in lay.parts for j in part) == list(range(lay.num_joints))
    assert [names[j] for j in lay.shoulders] == ["left_shoulder", "right_shoulder"]
    assert len(lay.edges) == lay.num_joints - 1


def test_bad_layout_names_the_missing_joint():
    with pytest.raises(LayoutError, match="joint 7, which does not exist"):
        Layout.from_dict({"name": "tiny", "num_joints": 3, "bones": [[1, 0], [7, 1]], "center": 0})
    with pytest.raises(LayoutError, match="unknown joint layout"):
        get_layout("ntu26")


def test_motion_and_bone_hand_computed():
    x = torch.zeros(1, 3, 3, 25, 1)
    x[0, 0, :, 0, 0] = torch.tensor([1.0, 3.0, 6.0])  # joint 1 (spine base) x over time
    m = motion(x)
    assert m[0, 0, :, 0, 0].tolist() == [2.0, 3.0, 0.0]
    b = bone(x, NTU25)
    # joint 1's parent is joint 2 (zero) -> bone = x; joint 13 (child of 1) -> -x
    assert b[0, 0, :, 0, 0].tolist() == [1.0, 3.0, 6.0]
    assert b[0, 0, :, 12, 0].tolist() == [-1.0, -3.0, -6.0]
    assert torch.count_nonzero(bone(rand(2, 3, 4, 25, 2), NTU25)[:, :, :, 20]) == 0


def test_streams_translation_invariant():
    x = rand(2, 3, 6, 25, 2)
    shift = torch.tensor([0.3, -1.0, 2.0]).view(1, 3, 1, 1, 1)
    for s in ("motion", "bone"):
        assert torch.allclose(to_stream(x, s, NTU25), to_stream(x + shift, s, NTU25), atol=1e-6)
    with pytest.raises(ValueError, match="unknown stream"):
        to_stream(x, "velocity", NTU25)


def test_resize_valid_matches_half_pixel_linear():
    t_in, t_out = 37, 50
    x = torch.zeros(1, 3, 60, 25, 1)
    x[:, :, :t_in] = rand(1, 3, t_in, 25, 1)
    out = resize_valid(x, torch.tensor([t_in]), t_out)
    src = np.clip((np.arange(t_out) + 0.5) * t_in / t_out - 0.5, 0, t_in - 1)
    ref = np.stack([np.interp(src, np.arange(t_in), x[0, 0, :t_in, v, 0].numpy()) for v in range(25)], axis=1)
    assert np.allclose(out[0, 0, :, :, 0].numpy(), ref, atol=1e-5)
    one = resize_valid(x, torch.tensor([1]), 50)
    assert torch.allclose(one, x[:, :, :1].expand_as(one))
    same = resize_valid(x[:, :, :50], torch.tensor([50]), 50)
    assert torch.allclose(same, x[:, :, :50], atol=1e-6)


def test_first_frames_pads():
    x = rand(1, 3, 10, 25, 2)
    assert first_frames(x, 6).shape[2] == 6
    out = first_frames(x, 15)
    assert out.shape[2] == 15 and torch.count_nonzero(out[:, :, 10:]) == 0


def test_first_frames_with_a_stride_take_every_sth_frame():
    """A clip at 3x the frame rate, taken with stride 3, is the clip at the native rate: frames 0, 3, 6, ..."""
    x = torch.arange(20.0)[None, None, :, None, None].expand(2, 3, 20, 4, 1)
    out = first_frames(x, 5, stride=3)
    assert out[0, 0, :, 0, 0].tolist() == [0, 3, 6, 9, 12]
    padded = first_frames(x, 9, stride=3)  # 7 strided frames exist (0..18), 2 padded
    assert padded[0, 0, :7, 0, 0].tolist() == [0, 3, 6, 9, 12, 15, 18] and torch.count_nonzero(padded[:, :, 7:]) == 0


def test_fill_missed_interpolates_a_missed_joint_from_the_frames_that_have_it():
    """A joint at exactly 0 in a frame whose body has other joints is filled linearly between the nearest frames that
    have it (the nearest one at the clip's ends); absent bodies, the padding after the clip and a joint the clip
    never has stay 0; clips without misses come back unchanged."""
    from skelcl.augment.clips import fill_missed

    x = torch.arange(1.0, 11.0)[None, None, :, None, None].expand(1, 2, 10, 4, 2).clone()
    x[:, :, 8:] = 0  # the clip ends after frame 7
    x[..., 1] = 0  # the second body is absent
    assert torch.equal(fill_missed(x), x)
    x[:, :, 2:4, 1, 0] = 0  # joint 1 missed in frames 2-3: between frames 1 (2.0) and 4 (5.0)
    x[:, :, 0, 2, 0] = 0  # joint 2 missed in the first and last frames: the nearest frames that have it
    x[:, :, 7, 2, 0] = 0
    x[:, :, :, 3, 0] = 0  # joint 3 never seen
    out = fill_missed(x)
    assert out[0, 1, :, 1, 0].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0]
    assert out[0, 0, :, 2, 0].tolist() == [2, 2, 3, 4, 5, 6, 7, 7, 0, 0]
    assert torch.count_nonzero(out[:, :, :, 3]) == 0 and torch.count_nonzero(out[..., 1]) == 0
    assert torch.equal(out[:, :, :, 0], x[:, :, :, 0])


def test_clip_stride_is_checked():
    from skelcl.config import ClipConfig, ConfigError, checked

    assert checked(ClipConfig, {"frames": 60, "temporal": "first", "stride": 3}, "method.clip").stride == 3
    for bad, says in (({"temporal": "first", "stride": 0}, ">= 1"),
                      ({"temporal": "resize", "stride": 2}, "only 'first'")):
        with pytest.raises(ConfigError, match=says):
            checked(ClipConfig, bad, "method.clip")


def test_center_and_align():
    x = rand(2, 3, 5, 25, 2)
    x[:, :, 3] = 0  # an absent frame stays absent
    c = center(x, joint=20)
    assert torch.count_nonzero(c[:, :, :, 20]) == 0 and torch.count_nonzero(c[:, :, 3]) == 0
    a = align_shoulders(c, 4, 8)
    v = a[:, :, :, 8] - a[:, :, :, 4]
    present = torch.ones(2, 5, 2, dtype=torch.bool)
    present[:, 3] = False
    assert torch.allclose(v[:, 2][present], torch.zeros(int(present.sum())), atol=1e-5)  # z == 0
    assert (v[:, 0][present] > 0).all()  # points along +x
    assert torch.allclose(a[:, 1], c[:, 1])  # y untouched
