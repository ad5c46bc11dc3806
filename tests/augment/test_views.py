"""Tests for the config-built augmentation pipelines (skelcl.augment.views)."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from skelcl.augment import ops
from skelcl.augment.views import View, ViewConfigError, build_view
from skelcl.data.layouts import KINECT20, NTU25


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def batch(n: int = 8, t: int = 50, v: int = 25) -> torch.Tensor:
    return torch.randn(n, 3, t, v, 2, generator=gen(99))


AIMCLR_EXTREME = [
    {"op": "temporal_crop", "pad_ratio": 6},
    {"op": "shear", "amplitude": 0.5},
    {"op": "flip", "p": 0.5},
    {"op": "rotate", "max_angle": 30, "minor_angle": 1},
    {"op": "gaussian_noise", "std": 0.01, "p": 0.5},
    {"op": "gaussian_blur", "p": 0.5, "sigma": [0.1, 2.0], "normalize": False},
    {"op": "axis_mask", "p": 0.5},
]


def test_view_applies_ops_in_order_with_one_generator():
    x = batch()
    view = build_view(AIMCLR_EXTREME, NTU25)
    assert isinstance(view, View) and isinstance(view, torch.nn.Module)
    assert view.op_names == [s["op"] for s in AIMCLR_EXTREME] and len(view) == 7
    y = view(x, gen(5))
    g = gen(5)
    ref = ops.temporal_crop(x, g, pad_ratio=6)
    ref = ops.shear(ref, g, amplitude=0.5)
    ref = ops.flip(ref, g, layout=NTU25, p=0.5)
    ref = ops.rotate(ref, g, max_angle=30, minor_angle=1)
    ref = ops.gaussian_noise(ref, g, std=0.01, p=0.5)
    ref = ops.gaussian_blur(ref, g, p=0.5, sigma=(0.1, 2.0), normalize=False)
    ref = ops.axis_mask(ref, g, p=0.5)
    assert torch.equal(y, ref)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert torch.equal(view(x, gen(5)), y) and not torch.equal(view(x, gen(6)), y)


def test_view_from_omegaconf_and_yaml_lists():
    cfg = OmegaConf.create(
        {
            "views": [
                {"op": "zero_out_joints", "num_joints": [5, 15], "frames": [20, 50]},
                {"op": "part_swap", "chunks": [4, 7]},
            ]
        }
    )
    view = build_view(cfg.views, NTU25)
    assert view.specs[0]["num_joints"] == (5, 15)
    y = view(batch(t=64), gen(0))
    assert y.shape == (8, 3, 64, 25, 2)
    assert "zero_out_joints" in repr(view)


def test_view_injects_layout():
    tiny_batch = batch(v=20)
    view = build_view([{"op": "flip", "p": 1.0}], KINECT20)
    assert torch.equal(view(tiny_batch, gen(0)), tiny_batch[:, :, :, KINECT20.flip_permutation])
    with pytest.raises(ViewConfigError, match="layout"):
        build_view([{"op": "flip"}])
    with pytest.raises(ViewConfigError, match="unknown parameter"):
        build_view([{"op": "flip", "layout": "ntu25"}], NTU25)


def test_unknown_op_lists_valid_ops():
    with pytest.raises(ViewConfigError) as e:
        build_view([{"op": "sheer", "amplitude": 0.5}], NTU25)
    assert "sheer" in str(e.value) and "shear" in str(e.value) and "temporal_crop" in str(e.value)


def test_unknown_param_lists_valid_params():
    with pytest.raises(ViewConfigError) as e:
        build_view([{"op": "shear"}, {"op": "rotate", "max_angel": 30}], NTU25)
    msg = str(e.value)
    assert "max_angel" in msg and "max_angle" in msg and "minor_angle" in msg and "#1" in msg


def test_malformed_specs():
    with pytest.raises(ViewConfigError, match="'op'"):
        build_view([{"amplitude": 0.5}], NTU25)
    with pytest.raises(ViewConfigError):
        build_view({"op": "shear"}, NTU25)
    with pytest.raises(ViewConfigError):
        build_view([42], NTU25)


def test_empty_view_and_name_only_specs():
    x = batch()
    assert torch.equal(build_view([], NTU25)(x, gen()), x)
    assert torch.equal(build_view(None)(x, gen()), x)
    view = build_view(["time_reverse"], NTU25)
    assert view.specs == [{"op": "time_reverse"}]


def test_call_time_learnable_fill_reaches_joint_mask():
    view = build_view([{"op": "shear"}, {"op": "joint_mask", "ratio": 0.1}], NTU25)
    fill = torch.nn.Parameter(torch.zeros(()))
    y = view(batch(), gen(0), fill=fill)
    y.sum().backward()
    assert fill.grad is not None and fill.grad.item() != 0
    with pytest.raises(TypeError, match="fil"):
        view(batch(), gen(0), fil=fill)
