"""Loading the official code bases' checkpoints into skelcl's encoders: every wrapping and naming variant
(AimCLR, HiCLR's edge_importanceN, SkeAttnCLR's backbone/neck, DataParallel, nested dicts), strict errors, and
`init_from=` through the train entry point."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest
import torch

from skelcl.data.layouts import NTU25
from skelcl.encoders.official import load_encoder_weights, official_encoder_state
from skelcl.encoders.stgcn import STGCN
from tests.conftest import run_train


def tiny(seed: int, hidden: int = 4) -> STGCN:
    torch.manual_seed(seed)
    m = STGCN(NTU25, hidden_channels=hidden, hidden_dim=4 * hidden)
    with torch.no_grad():  # make BN statistics and edge importances distinguishable from defaults
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        for b in m.buffers():
            if b.dtype.is_floating_point:
                b.add_(torch.rand_like(b))
    return m


def aimclr_style(enc: STGCN) -> OrderedDict:
    sd = OrderedDict((f"encoder_q.{k}", v) for k, v in enc.state_dict().items())
    sd["encoder_q.fc.0.weight"] = torch.randn(16, 16)  # projector: dropped
    sd["encoder_k.data_bn.weight"] = torch.randn(75)  # key encoder: ignored
    sd["queue"] = torch.randn(8, 4)
    return sd


def hiclr_style(enc: STGCN) -> OrderedDict:
    sd = aimclr_style(enc)
    for i in range(len(enc.st_gcn_networks)):
        sd[f"encoder_q.edge_importance{i + 1}"] = sd.pop(f"encoder_q.edge_importance.{i}")
    return sd


def skeattnclr_style(enc: STGCN) -> OrderedDict:
    sd = OrderedDict((f"module.encoder_q.backbone.{k}", v) for k, v in enc.state_dict().items())
    sd["module.encoder_q.backbone.fc.weight"] = torch.randn(60, 16)
    sd["module.encoder_q.neck.attn.weight"] = torch.randn(4, 4)
    sd["module.predictor.0.weight"] = torch.randn(4, 4)
    return sd


@pytest.mark.parametrize("style", [aimclr_style, hiclr_style, skeattnclr_style,
                                   lambda e: {"state_dict": aimclr_style(e), "epoch": 300},
                                   lambda e: OrderedDict((f"{k}", v) for k, v in e.state_dict().items())])
def test_every_official_layout_loads_exactly(tmp_path, style):
    src, dst = tiny(0), tiny(1)
    path = tmp_path / "official.pt"
    torch.save(style(src), path)
    load_encoder_weights(path, dst)
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    x = torch.randn(2, 3, 12, 25, 2)
    torch.testing.assert_close(src.eval()(x), dst.eval()(x))


def test_hiclr_edge_importance_is_renumbered():
    sd = official_encoder_state(hiclr_style(tiny(0)))
    assert "edge_importance.0" in sd and "edge_importance.9" in sd and "edge_importance10" not in sd


def test_mismatches_fail_loudly(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(aimclr_style(tiny(0, hidden=8)), path)
    with pytest.raises(ValueError, match="do not fit the configured encoder.*stgcn_full"):
        load_encoder_weights(path, tiny(1, hidden=4))
    partial = aimclr_style(tiny(0))
    del partial["encoder_q.data_bn.weight"]
    torch.save(partial, path)
    with pytest.raises(ValueError, match=r"missing \['data_bn.weight'\]"):
        load_encoder_weights(path, tiny(1))
    torch.save({"queue": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match=r"unexpected \['queue'\]"):
        load_encoder_weights(path, tiny(1))
    torch.save({"encoder_q.fc.weight": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="no encoder weights"):
        load_encoder_weights(path, tiny(1))
    with pytest.raises(FileNotFoundError, match="init_from"):
        load_encoder_weights(tmp_path / "nope.pt", tiny(1))


@pytest.mark.slow
def test_init_from_evaluates_given_weights(tmp_path, cache_dir):
    """pretrain=false init_from=<official file>: the protocols see exactly those weights (no BN calibration)."""
    first = tmp_path / "a"
    run_train([], first, cache_dir)
    ckpt = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)
    official = OrderedDict((k, v) for k, v in ckpt["state_dict"].items() if k.startswith(("encoder_q.", "queue")))
    torch.save(official, tmp_path / "official.pt")
    second = tmp_path / "b"
    run_train(["pretrain=false", f"init_from={tmp_path / 'official.pt'}"], second, cache_dir)
    (cache_a,) = (first / "features").glob("test-*.pt")
    (cache_b,) = (second / "features").glob("test-*.pt")
    assert cache_a.name == cache_b.name  # the feature cache is keyed by the weights, and they are the same
    torch.testing.assert_close(torch.load(cache_a)["features"], torch.load(cache_b)["features"])
    assert json.loads((second / "results.json").read_text())[0]["epochs"] == 0
