"""wandb (offline): runs grouped by sweep, results as a Table, figures as images, the same wandb run resumed
with ckpt_path=, checkpoint artifact opt-in."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from skelcl.wandb_run import ID_FILE, wandb_kwargs
from tests.conftest import TINY, compose_config, run_cli, run_train


def _logger_cfg(overrides=()):
    cfg = compose_config(["logger=wandb", "+run_dir=unused", *overrides])
    return cfg.logger, cfg


def test_runs_of_a_sweep_share_a_group_and_get_named(tmp_path):
    lg, cfg = _logger_cfg(["seed=3", "stream=bone"])
    kw = wandb_kwargs(lg, cfg, tmp_path / "a", sweep_dir="multirun/2026-01-01_10-00-00")
    assert kw["group"] == "sweep-2026-01-01_10-00-00"
    assert kw["name"] == "skeletonclr_synthetic_bone_seed3"
    assert kw["resume"] is None and kw["log_model"] is False
    assert (tmp_path / "a" / ID_FILE).read_text() == kw["id"]
    assert wandb_kwargs(lg, cfg, tmp_path / "b", sweep_dir=None)["group"] is None
    lg2, cfg2 = _logger_cfg(["logger.group=mine", "logger.log_model=true"])
    kw2 = wandb_kwargs(lg2, cfg2, tmp_path / "c", sweep_dir="multirun/x")
    assert kw2["group"] == "mine" and kw2["log_model"] is True
    assert kw2["id"] != kw["id"]


def test_resume_from_a_checkpoint_reuses_the_wandb_run_id(tmp_path):
    lg, cfg = _logger_cfg()
    first = wandb_kwargs(lg, cfg, tmp_path / "run", sweep_dir=None)
    (tmp_path / "run" / "checkpoints").mkdir()
    cfg = OmegaConf.merge(cfg, {"ckpt_path": str(tmp_path / "run" / "checkpoints" / "last.ckpt")})
    again = wandb_kwargs(lg, cfg, tmp_path / "resumed", sweep_dir=None)
    assert again["id"] == first["id"] and again["resume"] == "allow"


@pytest.mark.slow
def test_offline_run_has_results_table_images_and_resumes(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    run_train(["logger=wandb", "protocol=[linear]", "checkpoint_every=1"], tmp_path / "run", cache_dir)
    run_id = (tmp_path / "run" / ID_FILE).read_text()
    (offline,) = (tmp_path / "run" / "wandb").glob("offline-run-*")
    assert offline.name.endswith(run_id)
    images = {p.name.split("_")[0] for p in (offline / "files" / "media" / "images" / "plots").glob("*.png")}
    assert {"confusion", "tsne", "training", "augmentation"} <= images
    (table,) = (offline / "files" / "media" / "table").glob("results_*.table.json")
    data = json.loads(table.read_text())
    assert "top1" in data["columns"] and len(data["data"]) == 1
    assert data["data"][0][data["columns"].index("protocol")] == "linear"

    run_train(["logger=wandb", "protocol=[knn]", "epochs=2", "plots=false",
               f"ckpt_path={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}"], tmp_path / "resumed", cache_dir)
    (resumed,) = (tmp_path / "resumed" / "wandb").glob("offline-run-*")
    assert resumed.name.endswith(run_id)


@pytest.mark.slow
def test_multirun_jobs_are_separate_wandb_runs_in_one_group(tmp_path, cache_dir):
    sweep = tmp_path / "sweep"
    proc = run_cli("skelcl.train", ["-m", "seed=0,1", *TINY, "protocol=[knn]", "logger=wandb", "plots=false",
                                    f"hydra.sweep.dir={sweep}"], tmp_path, cache_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ids = set()
    for job in sorted(sweep.glob("*_seed*")):
        (offline,) = (job / "wandb").glob("offline-run-*")
        ids.add((job / ID_FILE).read_text())
        assert offline.name.endswith((job / ID_FILE).read_text())
        assert b"sweep-sweep" in next(offline.glob("run-*.wandb")).read_bytes()  # group = sweep dir name
    assert len(ids) == 2
