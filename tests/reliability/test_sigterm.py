"""SIGTERM during pretraining: non-zero exit, the interrupted state saved, and the run resumable from it."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from skelcl.methods.skeletonclr import SkeletonCLR
from tests.conftest import run_train


@pytest.mark.slow
def test_sigterm_saves_interrupted_state_exits_non_zero_and_resumes(tmp_path, cache_dir, monkeypatch):
    original = SkeletonCLR.training_step

    def terminated_at_step_2(self, batch, batch_idx):  # epoch 1, first of its 2 batches: mid-epoch
        if self.global_step == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # Lightning's handler turns it into a stop at the batch end
        return original(self, batch, batch_idx)

    monkeypatch.setattr(SkeletonCLR, "training_step", terminated_at_step_2)
    common = ["epochs=3", "checkpoint_every=1", "protocol=[knn]"]
    with pytest.raises(SystemExit) as exit_:
        run_train(common, tmp_path, cache_dir)
    assert exit_.value.code == 128 + signal.SIGTERM
    ckpts = tmp_path / "checkpoints"
    interrupted = torch.load(ckpts / "interrupted.ckpt", map_location="cpu", weights_only=False)
    assert interrupted["global_step"] == 3  # the batch in flight finished, then the run stopped
    assert torch.load(ckpts / "last.ckpt", map_location="cpu", weights_only=False)["global_step"] == 2
    assert not (tmp_path / "results.json").exists()

    monkeypatch.setattr(SkeletonCLR, "training_step", original)
    records = run_train([*common, f"ckpt_path={ckpts / 'interrupted.ckpt'}"], tmp_path, cache_dir)
    assert records[0].epochs == 3
    assert torch.load(ckpts / "last.ckpt", map_location="cpu", weights_only=False)["global_step"] == 6
