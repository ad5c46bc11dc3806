"""The frozen-feature cache is keyed by what the features depend on: other weights are never served stale."""

from __future__ import annotations

import pytest
import torch

from skelcl.build import build_datamodule, build_method, validate
from skelcl.eval.features import cached_features, extract_features
from tests.conftest import TINY, compose_train


def _model_and_data(tmp_path, cache_dir, overrides=()):
    cfg = compose_train([*TINY, *overrides], tmp_path, cache_dir)
    typed = validate(cfg)
    dm = build_datamodule(typed.dataset, cfg.cache_dir, 16, 0)
    return build_method(typed, dm, 1), dm


def test_other_weights_in_the_same_directory_are_re_extracted(tmp_path, cache_dir):
    model, dm = _model_and_data(tmp_path, cache_dir)
    cache = tmp_path / "features"
    first, _ = cached_features(model, dm, "test", cache, "cpu")
    again, _ = cached_features(model, dm, "test", cache, "cpu")
    assert torch.equal(first, again)  # same weights: served from the cache
    with torch.no_grad():  # "another checkpoint": different encoder weights, same run directory
        for p in model.encoder_q.parameters():
            p.add_(0.05 * torch.randn_like(p))
    second, _ = cached_features(model, dm, "test", cache, "cpu")
    fresh, _ = extract_features(model, dm.feature_loader("test"), "cpu")
    assert not torch.equal(first, second)
    assert torch.allclose(second, fresh, rtol=1e-5, atol=0)


@pytest.mark.slow
def test_stream_and_clip_settings_are_part_of_the_key(tmp_path, cache_dir):
    cache = tmp_path / "features"
    joint, dm = _model_and_data(tmp_path, cache_dir)
    cached_features(joint, dm, "train", cache, "cpu")
    for overrides in (["stream=bone"], ["method.clip.frames=20"]):
        other, dm2 = _model_and_data(tmp_path, cache_dir, overrides)
        other.encoder_q.load_state_dict(joint.encoder_q.state_dict())  # same weights, other inputs
        got, _ = cached_features(other, dm2, "train", cache, "cpu")
        fresh, _ = extract_features(other, dm2.feature_loader("train"), "cpu")
        assert torch.allclose(got, fresh, rtol=1e-5, atol=0), overrides  # features are ~1e-8
    assert len(list(cache.glob("train-*.pt"))) == 3
