"""protocol.linear.standardize: the probe z-scores features with the training split's statistics only."""

import dataclasses

import torch

from skelcl.config import LinearConfig
from skelcl.eval.linear import train_linear


def blobs(seed: int, n: int = 120):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, 8, generator=g) + 2.0 * torch.nn.functional.one_hot(y, 8).float()
    return x, y


def test_standardised_probe_ignores_per_feature_scale_and_offset():
    (x, y), (xt, yt) = blobs(0), blobs(1)
    cfg = LinearConfig(lr=0.5, epochs=20, milestones=[15], standardize=True)
    scale, shift = torch.logspace(-2, 2, 8), torch.linspace(-5, 5, 8)
    a = train_linear(x, y, xt, yt, 3, cfg)
    b = train_linear(x * scale + shift, y, xt * scale + shift, yt, 3, cfg)
    assert torch.allclose(a["logits"], b["logits"], atol=1e-2)
    # without it, the same badly scaled features give another (here: worse) probe
    raw = train_linear(x * scale + shift, y, xt * scale + shift, yt, 3, dataclasses.replace(cfg, standardize=False))
    assert raw["top1"] < a["top1"]


def test_test_split_statistics_are_not_used():
    (x, y), (xt, yt) = blobs(0), blobs(1)
    cfg = LinearConfig(lr=0.5, epochs=5, milestones=[4], standardize=True)
    a = train_linear(x, y, xt, yt, 3, cfg)["logits"]
    b = train_linear(x, y, xt + 10.0, yt, 3, cfg)["logits"]  # a shifted test split is not re-centred on itself
    assert not torch.allclose(a, b)
