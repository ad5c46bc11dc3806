"""DSTA-Net encoder (HiCLR's transformer)."""

import pytest
import torch

from skelcl.data.layouts import NTU25, Layout
from skelcl.encoders.dsta import HICLR_BLOCKS, DSTANet, SpatialAttentionBlock, joint_sinusoid

CHAIN7 = Layout(name="chain7", num_joints=7, bones=tuple((j, max(j - 1, 0)) for j in range(7)), center=3)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("bodies", [1, 2])
def test_shapes_t50(bodies):
    m = DSTANet(NTU25, frames=50, bodies=bodies, attention_dropout=0.5)
    x = torch.randn(2, 3, 50, 25, bodies)
    assert m.forward_map(x).shape == (2 * bodies, 256, 13, 25)  # 50 -> 25 -> 13
    assert m(x).shape == (2, 256) and m.out_dim == 256


def test_custom_layout_and_short_sequence():
    m = DSTANet(CHAIN7, frames=9, bodies=2)
    x = torch.randn(3, 3, 9, 7, 2)
    assert m.forward_map(x).shape == (6, 256, 3, 7)
    assert m(x).shape == (3, 256)
    assert m.graph_layers[0].attention0s.shape == (1, 3, 7, 7)


def test_structure_matches_hiclr_config():
    m = DSTANet(NTU25)
    assert m.proj.out_channels == 32 and isinstance(m.input_map[1], torch.nn.LeakyReLU)
    plan = [
        (b.in_channels, b.out_nets[0].out_channels, b.inter_channels, b.out_nett[0].stride[0]) for b in m.graph_layers
    ]
    assert plan == list(HICLR_BLOCKS)
    assert all(b.num_subset == 3 and b.out_nett[0].kernel_size == (7, 1) for b in m.graph_layers)
    torch.testing.assert_close(m.graph_layers[0].attention0s, torch.full((1, 3, 25, 25), 1 / 25))
    # regression guard on the count of this implementation (no official number to compare with)
    assert n_params(m) == 1_546_480


def test_forward_is_pool_of_map_and_sample_major():
    m = DSTANet(NTU25).eval()
    x = torch.randn(2, 3, 16, 25, 2)
    with torch.no_grad():
        fmap = m.forward_map(x)
        torch.testing.assert_close(m(x), m.pool(fmap, 2))
        for b in range(2):
            torch.testing.assert_close(fmap[b::2], m.forward_map(x[..., b : b + 1]))


def test_gradient_reaches_every_parameter():
    m = DSTANet(NTU25, attention_dropout=0.5, pes_learnable=True)
    x = torch.randn(2, 3, 20, 25, 2)
    (m(x) * torch.randn(2, 256)).sum().backward()
    names = [n for n, _ in m.named_parameters()]
    assert any(n.endswith("alphas") for n in names) and any(n.endswith("attention0s") for n in names)
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_fix_conv1_freezes_projection_only():
    m = DSTANet(NTU25, fix_conv1=True)
    assert not any(p.requires_grad for p in m.proj.parameters())
    assert all(p.requires_grad for n, p in m.named_parameters() if not n.startswith("proj."))


@pytest.mark.parametrize("site", ["residual", "attention", "both"])
def test_dropout_sites(site):
    m = DSTANet(NTU25, attention_dropout=0.5, dropout_on=site)
    b = m.graph_layers[0]
    assert b.drop_att.p == (0.5 if site != "residual" else 0.0)
    assert b.drop_res.p == (0.5 if site != "attention" else 0.0)
    x = torch.randn(2, 3, 12, 25, 1)
    assert not torch.allclose(m(x), m(x))  # stochastic in train mode
    m.eval()
    torch.testing.assert_close(m(x), m(x))


def test_attention_is_data_term_plus_global_term():
    blk = SpatialAttentionBlock(8, 8, 4, 1, num_joints=5).eval()
    x = torch.randn(2, 8, 6, 5)
    att = blk.attention(x)
    assert att.shape == (2, 3, 5, 5)
    with torch.no_grad():
        blk.alphas.zero_()  # switching the data term off leaves the global attention
    torch.testing.assert_close(blk.attention(x), blk.attention0s.expand(2, -1, -1, -1))
    pe = joint_sinusoid(8, 5)
    assert pe.shape == (1, 8, 1, 5)
    torch.testing.assert_close(pe[0, :2, 0, 0], torch.tensor([0.0, 1.0]))  # sin(0), cos(0) for joint 0
    with pytest.raises(ValueError, match="dropout_on"):
        SpatialAttentionBlock(8, 8, 4, 1, num_joints=5, dropout_on="everywhere")
