"""A diverging run stops at the first non-finite loss or weight: clear message, last good checkpoint kept,
non-zero exit, no results records."""

from __future__ import annotations

import pytest
import torch

from skelcl.methods.skeletonclr import SkeletonCLR
from tests.conftest import TINY, run_cli, run_train


def _finite_state(path):
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    return all(torch.isfinite(v.float()).all() for v in state.values() if v.is_floating_point())


def test_nan_loss_stops_with_step_epoch_and_term(tmp_path, cache_dir, monkeypatch):
    original = SkeletonCLR.pretrain_loss

    def nan_from_step_2(self, x):  # epoch 0 = steps 0, 1 (2 batches); the loss turns NaN in epoch 1
        loss, logs = original(self, x)
        return (loss * float("nan"), logs) if self.global_step >= 2 else (loss, logs)

    monkeypatch.setattr(SkeletonCLR, "pretrain_loss", nan_from_step_2)
    ckpts = tmp_path / "checkpoints"
    with pytest.raises(RuntimeError, match=r"step 2 \(epoch 1\): non-finite loss: loss=nan") as err:
        run_train(["epochs=3", "checkpoint_every=1", "protocol=[knn]"], tmp_path, cache_dir)
    assert "last.ckpt is the last good state" in str(err.value)
    assert sorted(p.name for p in ckpts.glob("*.ckpt")) == ["epoch000.ckpt", "last.ckpt"]
    last = torch.load(ckpts / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] == 2 and _finite_state(ckpts / "last.ckpt")
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "features").exists()


def test_huge_learning_rate_is_caught_even_with_a_finite_loss(tmp_path, cache_dir):
    # lr=1e6: the normalised loss stays finite but activations overflow into inf BatchNorm statistics
    with pytest.raises(RuntimeError, match=r"training diverged at step \d+ \(epoch \d+\): non-finite"):
        run_train(["small_data.optimizer=method", "method.schedule.lr=1e6", "epochs=4", "protocol=[knn]"], tmp_path,
                  cache_dir)
    assert not (tmp_path / "results.json").exists()


@pytest.mark.slow
def test_cli_divergence_exits_non_zero_without_traceback(tmp_path, cache_dir):
    proc = run_cli("skelcl.train", [*TINY, "small_data.optimizer=method", "method.schedule.lr=1e6", "epochs=4",
                                    "protocol=[knn]",
                                    f"hydra.run.dir={tmp_path}/run"], tmp_path, cache_dir)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "error: training diverged at step" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "results.json").exists()


def test_deferred_check_names_the_first_bad_step():
    """The guard checks the buffered steps together (one synchronisation) and reports the first non-finite one."""
    from skelcl.divergence import first_nonfinite_step

    ok, nan = torch.tensor(1.0), torch.tensor(float("nan"))
    pending = [(0, 0, {"loss": ok}), (1, 0, {}), (2, 0, {"loss": ok, "loss_d3m": nan}), (3, 0, {"loss": nan})]
    assert first_nonfinite_step(pending) == 2
    assert first_nonfinite_step(pending[:2]) is None and first_nonfinite_step([]) is None
    assert first_nonfinite_step([(5, 1, {"loss": torch.tensor([1.0, float("inf")])})]) == 0
