"""The encoder contract (skelcl.encoders.contract) holds for every packaged encoder, and a method that needs a
capability its encoder lacks fails when it is built, naming both."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

import skelcl.conf
from skelcl.data.layouts import NTU25
from skelcl.encoders.contract import CAPABILITIES, capabilities, check_encoder, has, require

ENCODER_YAMLS = sorted((Path(skelcl.conf.__file__).parent / "encoder").glob("*.yaml"))


def build(node, in_channels: int = 3) -> nn.Module:
    """As the methods build them: a partial from the YAML, the layout passed as an object."""
    node = OmegaConf.create({k: v for k, v in node.items() if k != "name"})
    return instantiate(node, _partial_=True)(layout=NTU25, in_channels=in_channels, frames=8, bodies=2)


@pytest.mark.parametrize("channels", [3, 2], ids=["xyz", "image_xy"])
@pytest.mark.parametrize("path", ENCODER_YAMLS, ids=lambda p: p.stem)
def test_every_packaged_encoder_keeps_the_contract_it_declares(path, channels):
    torch.manual_seed(0)
    enc = build(OmegaConf.load(path), channels).eval()
    check_encoder(enc)
    x = torch.randn(2, channels, 8, 25, 2)
    with torch.no_grad():
        z = enc(x)
        assert z.shape == (2, enc.out_dim)
        if has(enc, "feature_map"):
            fmap = enc.forward_map(x)
            assert fmap.shape[:2] == (2 * 2, enc.out_dim) and fmap.shape[-1] == 25
            torch.testing.assert_close(enc.pool(fmap, 2), z)
    if has(enc, "graph"):
        k = enc.A.shape[0]
        assert enc.A.shape == (k, 25, 25)
        assert enc.edge_importance is None or len(enc.edge_importance) == len(enc.st_gcn_networks)


def test_the_packaged_encoders_declare_what_the_methods_rely_on():
    declared = {}
    for path in ENCODER_YAMLS:
        declared[path.stem] = capabilities(build(OmegaConf.load(path)))
    assert declared["stgcn"] == declared["stgcn_full"] == {"feature_map", "graph"}
    assert declared["dsta"] == {"feature_map"}
    assert declared["lstm"] == declared["bigru"] == frozenset()


class _NoWidth(nn.Module):
    def forward(self, x):
        return x.flatten(1)


class _ClaimsAMap(nn.Module):
    CAPABILITIES = frozenset({"feature_map"})
    out_dim = 4

    def forward(self, x):
        return x.flatten(1)[:, :4]


def test_broken_encoders_are_named_with_what_they_lack():
    with pytest.raises(TypeError, match="_NoWidth must set `out_dim`"):
        check_encoder(_NoWidth())
    with pytest.raises(TypeError, match=r"_ClaimsAMap declares 'feature_map' but lacks \['forward_map', 'pool'\]"):
        check_encoder(_ClaimsAMap())
    with pytest.raises(KeyError, match="unknown encoder capability"):
        has(_ClaimsAMap(), "feature-map")
    assert set(CAPABILITIES) == {"feature_map", "graph"}


def test_require_names_the_method_the_capability_and_the_encoder():
    lstm = build(OmegaConf.create({"_target_": "skelcl.encoders.rnn.RNNEncoder", "hidden": 8}))
    with pytest.raises(ValueError, match=r"SkeAttnCLR needs an encoder with 'feature_map' \(why\); RNNEncoder "
                                         r"offers none"):
        require(lstm, "feature_map", "SkeAttnCLR", "why")


def test_skeattnclr_on_a_recurrent_encoder_fails_when_built():
    from tests.methods.test_skeattnclr import make_model

    rnn = OmegaConf.create({"_target_": "skelcl.encoders.rnn.RNNEncoder", "hidden": 8})
    with pytest.raises(ValueError, match="SkeAttnCLR needs an encoder with 'feature_map'"):
        make_model(encoder=rnn)
