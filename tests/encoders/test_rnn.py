"""Recurrent encoder: AS-CAL reshape, CAE tap and parameter counts."""

import math

import pytest
import torch

from skelcl.data.layouts import KINECT20, NTU25, Layout
from skelcl.encoders.rnn import RNNEncoder, reshape_for_rnn

# UWA3D-II has 15 joints; topology is irrelevant to the RNN, a chain will do
CHAIN15 = Layout(name="chain15", num_joints=15, bones=tuple((j, max(j - 1, 0)) for j in range(15)), center=0)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def coded_input(n: int, t: int) -> torch.Tensor:
    """x[n, c, t, v, m] = 100000·t + 1000·c + 10·v + m (the AS-CAL reshape test vector plus a time term)."""
    c = torch.arange(3).view(1, 3, 1, 1, 1)
    tt = torch.arange(t).view(1, 1, t, 1, 1)
    v = torch.arange(25).view(1, 1, 1, 25, 1)
    m = torch.arange(2).view(1, 1, 1, 1, 2)
    return (100000 * tt + 1000 * c + 10 * v + m).expand(n, 3, t, 25, 2).double()


def test_reshape_test_vector():
    x = coded_input(2, 1)
    seq = reshape_for_rnn(x)
    assert seq.shape == (1, 2, 150)
    for c in range(3):
        for v in range(25):
            for m in range(2):
                assert seq[0, 1, c * 50 + v * 2 + m].item() == 1000 * c + 10 * v + m
    seq = reshape_for_rnn(coded_input(2, 4))
    assert seq.shape == (4, 2, 150)
    assert seq[3, 0, 2 * 50 + 24 * 2 + 1].item() == 300000 + 2000 + 240 + 1


def test_lstm_receives_reshaped_sequence_first_input():
    enc = RNNEncoder(NTU25).double()
    seen = []
    enc.rnn.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
    x = coded_input(3, 5)
    enc(x)
    torch.testing.assert_close(seen[0], reshape_for_rnn(x))
    assert seen[0].shape == (5, 3, 150)  # (T, N, D): sequence-first


def _lstm_with_known_outputs(tap: str) -> RNNEncoder:
    """Zero weights; gates i = o = 1, f = 1/2, g = 1/2, so c_t = c_{t-1}/2 + 1/2 = 1 − 2^−t, h_t = tanh(1 − 2^−t)."""
    enc = RNNEncoder(NTU25, hidden=8, tap=tap)
    with torch.no_grad():
        for p in enc.rnn.parameters():
            p.zero_()
        b = enc.rnn.bias_ih_l0.view(4, 8)  # gate order i, f, g, o
        b[0] = 30.0
        b[1] = 0.0
        b[2] = math.atanh(0.5)
        b[3] = 30.0
    return enc


@pytest.mark.parametrize("tap", ["mean", "last", "sum"])
def test_cae_test_vector(tap):
    t = 6
    h = [math.tanh(1 - 2.0**-k) for k in range(1, t + 1)]
    expected = {"mean": sum(h) / t, "last": h[-1], "sum": sum(h)}[tap]
    enc = _lstm_with_known_outputs(tap)
    x = torch.randn(2, 3, t, 25, 2)
    out = enc(x)
    assert out.shape == (2, 8)
    torch.testing.assert_close(out, torch.full((2, 8), expected), atol=1e-6, rtol=1e-6)


def test_cae_is_mean_over_all_steps_including_padding():
    enc = RNNEncoder(NTU25, hidden=32)
    x = torch.randn(2, 3, 10, 25, 2)
    x[:, :, 6:] = 0  # zero-padded tail still counts
    seq = enc.forward_sequence(x)
    assert seq.shape == (10, 2, 32)
    torch.testing.assert_close(enc(x), seq.mean(dim=0))
    assert not torch.allclose(enc(x), seq[:6].mean(dim=0))


def test_clip_mean_tap_reads_each_clip_as_if_it_were_unpadded():
    enc = RNNEncoder(NTU25, hidden=32, tap="clip_mean")
    x = torch.randn(3, 3, 10, 25, 2)
    x[0, :, 6:] = 0
    x[1, :, 8:] = 0
    feats = enc(x)
    enc.tap = "mean"
    for i, length in enumerate((6, 8, 10)):  # a unidirectional net: the steps after the clip cannot change it
        torch.testing.assert_close(feats[i], enc(x[i : i + 1, :, :length])[0])


def test_parameter_counts_from_spec():
    assert n_params(RNNEncoder(NTU25, bodies=2)) == 417_792  # D = 150
    assert n_params(RNNEncoder(KINECT20, bodies=1)) == 325_632  # N-UCLA, D = 60
    assert n_params(RNNEncoder(CHAIN15, bodies=1)) == 310_272  # UWA3D-II, D = 45
    assert len(list(RNNEncoder(NTU25).parameters())) == 4  # one layer: 4 LSTM tensors


@pytest.mark.parametrize(
    ("kwargs", "dim"),
    [
        ({}, 256),
        ({"cell": "gru", "bidirectional": True}, 512),  # config 'bigru'
        ({"cell": "rnn", "layers": 2, "hidden": 64}, 64),
        ({"cell": "lstm", "bidirectional": True, "tap": "last"}, 512),
    ],
)
def test_variants_shapes_and_gradients(kwargs, dim):
    enc = RNNEncoder(NTU25, frames=12, **kwargs)
    x = torch.randn(3, 3, 12, 25, 2)
    out = enc(x)
    assert out.shape == (3, dim) and enc.out_dim == dim
    out.pow(2).sum().backward()
    for name, p in enc.rnn.named_parameters():
        if name == "weight_hh_l0_reverse" and enc.tap == "last":
            # the backward direction's output at the last step comes from the zero initial state only
            assert torch.all(p.grad == 0)
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_single_body_and_errors():
    enc = RNNEncoder(KINECT20, bodies=1)
    assert enc(torch.randn(2, 3, 7, 20, 1)).shape == (2, 256)
    with pytest.raises(ValueError, match="C·V·M"):
        enc(torch.randn(2, 3, 7, 20, 2))
    with pytest.raises(ValueError, match="unknown cell"):
        RNNEncoder(NTU25, cell="transformer")
    with pytest.raises(ValueError, match="unknown tap"):
        RNNEncoder(NTU25, tap="max")
