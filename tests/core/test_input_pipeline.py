"""Pretraining, feature extraction and finetuning read their inputs through one `ModelInput`: the same clips and the
same stream, so evaluation can never see a different input than the encoder was trained on."""

from __future__ import annotations

import pytest
import torch

from skelcl.augment.streams import to_stream
from skelcl.build import build_datamodule, build_method, validate
from skelcl.config import FinetuneConfig
from skelcl.eval.finetune import Classifier
from tests.conftest import compose_config


@pytest.mark.parametrize("stream", ["motion", "bone"])
def test_embed_and_finetune_use_the_pretraining_input_path(stream, cache_dir):
    cfg = compose_config([f"stream={stream}", f"cache_dir={cache_dir}", "dataset.options.num_subjects=4",
                          "method.clip.frames=16", "method.model.queue_size=64", "encoder.hidden_channels=4"])
    typed = validate(cfg)
    torch.manual_seed(0)
    dm = build_datamodule(typed.dataset, cfg.cache_dir, 8, seed=0)
    dm.setup("fit")
    model = build_method(typed, dm, 1).eval()
    batch = next(iter(dm.train_dataloader()))
    expected_input = to_stream(model.clips(batch), stream, dm.layout)
    assert model.stream == stream and torch.equal(model.inputs(batch), expected_input)
    assert torch.equal(model.embed(batch), model.encoder_q(expected_input))

    clf = Classifier(model, FinetuneConfig(), seed=0).eval()
    assert clf.inputs is model.inputs
    with torch.no_grad():
        assert torch.allclose(clf(batch), clf.fc(clf.encoder(expected_input)))

    model.stream = "joint"  # one source of truth: the stream lives in the input path
    assert model.inputs.stream == "joint" and torch.equal(model.inputs(batch), model.clips(batch))
