"""ST-GCN encoder, its graph builder and the CrosSCLR initialiser."""

import pytest
import torch
from torch import nn

from skelcl.data.layouts import KINECT20, NTU25, Layout, get_layout
from skelcl.encoders.graph import agcn_adjacency, build_adjacency, hop_distance, stgcn_adjacency
from skelcl.encoders.init import weights_init
from skelcl.encoders.stgcn import STGCN, GraphConv

# 4-joint chain 0 - 1 - 2 - 3, centre 1 (1 is the root: its own parent)
CHAIN4 = Layout(name="chain4", num_joints=4, bones=((0, 1), (1, 1), (2, 1), (3, 2)), center=1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


# ----------------------------------------------------------------------------------------------- graph


def test_hop_distance_chain_and_cap():
    d = hop_distance(4, CHAIN4.edges)
    assert d[3].tolist() == [3, 2, 1, 0]
    capped = hop_distance(4, CHAIN4.edges, max_hop=1)
    assert capped[3].tolist() == [float("inf"), float("inf"), 1, 0]


def test_stgcn_graph_tiny_layout_by_hand():
    a = build_adjacency(CHAIN4, "stgcn")
    # degrees incl. self loop: 2, 3, 3, 2; distances to the centre: 1, 0, 1, 2
    root = torch.diag(torch.tensor([1 / 2, 1 / 3, 1 / 3, 1 / 2]))
    toward = torch.zeros(4, 4)
    toward[0, 1] = 1 / 3  # joint 1 (centre) reads joint 0, which is farther out
    toward[2, 1] = 1 / 3
    toward[3, 2] = 1 / 3
    away = torch.zeros(4, 4)
    away[1, 0] = 1 / 2  # joint 0 reads the centre
    away[1, 2] = 1 / 3
    away[2, 3] = 1 / 2
    torch.testing.assert_close(a, torch.stack([root, toward, away]))


def test_agcn_graph_tiny_layout_by_hand():
    a = build_adjacency(CHAIN4, "agcn")
    e_in = torch.zeros(4, 4)
    e_in[1, 0] = e_in[1, 2] = e_in[2, 3] = 1.0  # [parent, child]
    out = torch.zeros(4, 4)
    out[0, 1] = out[2, 1] = 0.5  # joint 1 reads the mean of its two children
    out[3, 2] = 1.0
    torch.testing.assert_close(a, torch.stack([torch.eye(4), e_in, out]))


def test_stgcn_graph_ntu_entries():
    a = build_adjacency(NTU25, "stgcn")
    assert a.shape == (3, 25, 25) and a.dtype == torch.float32
    # every column of Â sums to 1 over the three partitions (each joint has a self loop)
    torch.testing.assert_close(a.sum(dim=(0, 1)), torch.ones(25))
    c = 20  # spine shoulder (21 one-based): neighbours 1, 2, 4, 8 plus itself -> 1/5
    assert a[0, c, c].item() == pytest.approx(1 / 5)
    assert a[1, 1, c].item() == pytest.approx(1 / 5)  # centre reads spine-mid: toward the centre
    assert a[2, c, 1].item() == pytest.approx(1 / 3)  # spine-mid (degree 3) reads the centre: away
    assert a[2, 4, 5].item() == pytest.approx(1 / 3)  # left elbow reads left shoulder: away
    assert a[0, 21, 21].item() == pytest.approx(1 / 2)  # hand tip: one neighbour
    # reference quirk: distances to the centre are capped at max_hop, so the wrist-elbow edge in the away
    # direction is a tie (inf == inf) and lands in the toward partition
    assert a[1, 5, 6].item() == pytest.approx(1 / 3) and a[2, 5, 6].item() == 0.0
    assert int((a[2] > 0).sum()) == 8  # only edges leaving the centre or its neighbours
    true = build_adjacency(NTU25, "stgcn", capped_distance=False)
    assert true[2, 5, 6].item() == pytest.approx(1 / 3) and true[1, 5, 6].item() == 0.0
    assert int((true[1] > 0).sum()) == int((true[2] > 0).sum()) == 24  # each bone once per direction
    torch.testing.assert_close(true.sum(0), a.sum(0))


def test_agcn_graph_ntu_entries():
    a = agcn_adjacency(NTU25)
    torch.testing.assert_close(a[0], torch.eye(25))
    assert a[1, 20, 1].item() == 1.0  # spine-mid reads its parent, the spine shoulder
    assert a[1, :, 20].sum().item() == 0.0  # the root has no parent
    torch.testing.assert_close(a[2, [1, 2, 4, 8], 20], torch.full((4,), 0.25))  # mean of 4 children
    torch.testing.assert_close(a[2, [12, 16], 0], torch.full((2,), 0.5))
    assert int((a[1] > 0).sum()) == int((a[2] > 0).sum()) == 24


def test_graph_other_layouts_and_errors():
    assert build_adjacency(KINECT20).shape == (3, 20, 20)
    assert build_adjacency("kinect20", "agcn").shape == (3, 20, 20)
    assert stgcn_adjacency(NTU25, max_hop=2).shape == (5, 25, 25)
    with pytest.raises(ValueError, match="unknown graph strategy"):
        build_adjacency(NTU25, "uniform")


# ----------------------------------------------------------------------------------------------- ST-GCN


@pytest.mark.parametrize("graph", ["stgcn", "agcn"])
def test_parameter_counts_from_specs(graph):
    assert n_params(STGCN(NTU25, hidden_channels=16, graph=graph)) == 821_380  # AimCLR's quarter width
    assert n_params(STGCN(NTU25, hidden_channels=64, graph=graph)) == 3_083_412  # SkeAttnCLR's full width


def test_edge_importance_off_and_block_plan():
    m = STGCN(NTU25)
    assert n_params(STGCN(NTU25, edge_importance=False)) == 821_380 - 10 * 3 * 25 * 25
    assert len(m.edge_importance) == 10 and all(torch.all(e == 1) for e in m.edge_importance)
    outs = [b.gcn.conv.out_channels // 3 for b in m.st_gcn_networks]
    assert outs == [16, 16, 16, 16, 32, 32, 32, 64, 64, 256]
    assert [b.tcn[4].p for b in m.st_gcn_networks] == [0.0] + [0.5] * 9
    assert not m.st_gcn_networks[0].has_residual
    full = STGCN(NTU25, hidden_channels=64, graph="agcn")
    assert [b.gcn.conv.out_channels // 3 for b in full.st_gcn_networks] == [64] * 4 + [128] * 3 + [256] * 3


@pytest.mark.parametrize("bodies", [1, 2])
def test_shapes_t50(bodies):
    m = STGCN(NTU25, frames=50, bodies=bodies)
    x = torch.randn(3, 3, 50, 25, bodies)
    fmap = m.forward_map(x)
    assert fmap.shape == (3 * bodies, 256, 13, 25)
    assert m(x).shape == (3, 256) and m.out_dim == 256


def test_shapes_full_width_t64():
    m = STGCN(NTU25, frames=64, hidden_channels=64, graph="agcn")
    x = torch.randn(2, 3, 64, 25, 2)
    assert m.forward_map(x).shape == (4, 256, 16, 25)
    assert m(x).shape == (2, 256)


def test_forward_is_pool_of_map_and_sample_major():
    m = STGCN(NTU25).eval()
    x = torch.randn(2, 3, 20, 25, 2)
    with torch.no_grad():
        fmap = m.forward_map(x)
        torch.testing.assert_close(m(x), m.pool(fmap, 2))
        torch.testing.assert_close(m(x), fmap.mean(dim=(2, 3)).view(2, 2, 256).mean(1))
        # row n·M + m is body m of sample n (data_bn is shared across bodies, so each body runs alone)
        for b in range(2):
            torch.testing.assert_close(fmap[b::2], m.forward_map(x[..., b : b + 1]), atol=1e-5, rtol=1e-4)


def test_kinect20_layout_and_dtype_follow_module():
    m = STGCN("kinect20", bodies=1)
    assert m.A.shape == (3, 20, 20)
    x = torch.randn(2, 3, 30, 20, 1)
    assert m.forward_map(x).shape == (2, 256, 8, 20)
    m = m.double()  # buffers and edge importance follow .to(); nothing is pinned to a device or dtype
    assert m(x.double()).dtype == torch.float64


def test_gradients_reach_every_parameter():
    m = STGCN(NTU25)
    x = torch.randn(2, 3, 24, 25, 2)
    (m(x) * torch.randn(2, 256)).sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


# ----------------------------------------------------------------------------------------------- init


def test_weights_init():
    torch.manual_seed(1)
    model = nn.ModuleDict(
        {
            "enc": STGCN(NTU25),
            "conv1d": nn.Conv1d(64, 256, 3),
            "fc": nn.Linear(256, 512),
            "ln": nn.LayerNorm(256),
            "lstm": nn.LSTM(150, 64),
        }
    )
    with torch.no_grad():
        model["ln"].weight.fill_(3.0)
    lstm_before = [p.clone() for p in model["lstm"].parameters()]
    model.apply(weights_init)
    enc = model["enc"]

    big = enc.st_gcn_networks[9].tcn[2].weight  # 256·256·9 values
    assert big.mean().abs() < 1e-3 and big.std().item() == pytest.approx(0.02, rel=0.01)
    for mod in (model["conv1d"], model["fc"]):
        assert mod.weight.std().item() == pytest.approx(0.02, rel=0.05)
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    assert len(convs) > 20 and all(torch.all(m.bias == 0) for m in convs)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    gammas = torch.cat([m.weight.flatten() for m in bns])
    assert any(isinstance(m, nn.BatchNorm1d) for m in bns)  # data_bn is included
    assert gammas.mean().item() == pytest.approx(1.0, abs=2e-3) and gammas.std().item() == pytest.approx(0.02, rel=0.1)
    assert all(torch.all(m.bias == 0) for m in bns)
    # left alone: LayerNorm, LSTM, edge importance
    assert torch.all(model["ln"].weight == 3.0) and torch.all(model["ln"].bias == 0)
    for before, after in zip(lstm_before, model["lstm"].parameters()):
        assert torch.equal(before, after)
    assert all(torch.all(e == 1) for e in enc.edge_importance)


@pytest.mark.parametrize("graph", ["stgcn", "agcn"])
def test_graph_conv_equals_the_textbook_order(graph):
    """Aggregate-then-mix (the fast path) computes the 1x1-conv-then-einsum of ST-GCN, values and gradients."""
    torch.manual_seed(0)
    gc = GraphConv(5, 7, 3).double()
    a = (build_adjacency(get_layout("ntu25"), graph).double() * torch.rand(3, 25, 25, dtype=torch.float64))
    a.requires_grad_(True)
    x = torch.randn(4, 5, 6, 25, dtype=torch.float64, requires_grad=True)
    fast, ref = gc(x, a), gc.reference(x, a)
    assert fast.shape == ref.shape == (4, 7, 6, 25)
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-12)
    g = torch.randn_like(ref)
    grads_fast = torch.autograd.grad(fast, [x, a, gc.conv.weight, gc.conv.bias], g)
    grads_ref = torch.autograd.grad(ref, [x, a, gc.conv.weight, gc.conv.bias], g)
    for gf, gr in zip(grads_fast, grads_ref):
        torch.testing.assert_close(gf, gr, rtol=1e-10, atol=1e-12)


def test_fast_dropout_keeps_the_distribution():
    from skelcl.encoders.stgcn import Dropout

    d = Dropout(0.5).train()
    x = torch.ones(200_000)
    y = d(x)
    assert set(y.unique().tolist()) == {0.0, 2.0} and abs((y == 0).float().mean().item() - 0.5) < 0.01
    assert abs(y.mean().item() - 1.0) < 0.02
    assert torch.equal(d.eval()(x), x) and torch.equal(Dropout(0.0).train()(x), x)
