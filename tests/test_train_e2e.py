"""End to end through the Hydra entry points: pretrain -> linear -> knn, resume, evaluate, wandb offline."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import TINY, compose_config, compose_train, run_train

pytestmark = pytest.mark.slow  # end-to-end runs / entry-point subprocesses


def test_pretrain_linear_knn_writes_results(tmp_path, cache_dir):
    records = run_train([], tmp_path, cache_dir)
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [r["protocol"] for r in rows] == ["linear", "knn(k=20)", "knn(k=1)"]
    for r in rows:
        assert set(r) >= {"method", "encoder", "dataset", "split", "stream", "protocol", "top1", "top5", "epochs",
                          "seed", "wall_s"}
        assert 0.0 <= r["top1"] <= r["top5"] <= 100.0 and 0.0 <= r["mean_class_top1"] <= 100.0
        assert (r["method"], r["encoder"], r["dataset"], r["epochs"]) == ("skeletonclr", "stgcn", "synthetic", 1)
    assert len(records) == 3
    assert "| linear |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "config.yaml").is_file()
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert len(list((tmp_path / "features").glob("train-*.pt"))) == 1  # linear and knn share one feature cache
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert "train/query_cosine" in header  # the collapse monitor is logged on every run


def _weights(path):
    state = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    return {k: v for k, v in state.items() if k.startswith(("encoder_q", "queue"))}


def _stop_after_one_epoch_then_resume(common: list[str], tmp_path, cache_dir, schedule_epochs: int | None = None,
                                      part: tuple[str, ...] = ()):
    """Run `common` straight through, and again (plus the overrides `part`) stopped after its first epoch, the method
    built for the whole schedule (`schedule_epochs`, or the small-data recipe's), then resumed from that run's
    last.ckpt; the two end with the same weights. Returns the recipe and the data module of the stopped run."""
    run_train(common, tmp_path / "straight", cache_dir)
    cfg = compose_train([*TINY, *common, *part], tmp_path / "part", cache_dir)
    from skelcl.build import build_data, build_method, build_trainer

    typed, dm, recipe = build_data(cfg)
    import lightning as L

    L.seed_everything(0, workers=True)
    model = build_method(typed, dm, schedule_epochs or recipe.epochs)
    trainer = build_trainer(cfg, tmp_path / "part", 1, [])
    trainer.fit(model, datamodule=dm)
    run_train([*common, f"ckpt_path={tmp_path / 'part' / 'checkpoints' / 'last.ckpt'}"], tmp_path / "part", cache_dir)
    a = _weights(tmp_path / "straight" / "checkpoints" / "last.ckpt")
    b = _weights(tmp_path / "part" / "checkpoints" / "last.ckpt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-6), k
    return recipe, dm


def test_resume_continues_exactly(tmp_path, cache_dir):
    common = ["epochs=2", "trainer.limit_train_batches=2", "protocol=[knn]", "checkpoint_every=1"]
    _stop_after_one_epoch_then_resume(common, tmp_path, cache_dir, schedule_epochs=2, part=("epochs=1",))


def test_resume_continues_exactly_in_epochs_shorter_than_a_pass(tmp_path, cache_dir):
    """The small-data rule's epochs of part of a pass (data/epoch_slices.py): a resumed run draws the clips the
    uninterrupted one drew in its later epochs."""
    common = ["epochs=null", "small_data.samples=96", "small_data.min_epochs=3", "protocol=[knn]",
              "checkpoint_every=1"]
    recipe, dm = _stop_after_one_epoch_then_resume(common, tmp_path, cache_dir)
    assert (recipe.epochs, recipe.epoch_clips) == (3, 32) and recipe.epoch_clips < len(dm.train_idx)


def test_evaluate_entry_point_on_checkpoint(tmp_path, cache_dir):
    trained = run_train(["protocol=[linear,knn]", "floor=true"], tmp_path / "run", cache_dir)
    from skelcl.evaluate import evaluate

    cfg = compose_config([f"ckpt={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}", f"+run_dir={tmp_path / 'eval'}",
                          f"cache_dir={cache_dir}", "protocol=[linear,knn]", "progress_bar=false", "trainer=cpu"],
                         config="evaluate")
    records = evaluate(cfg)
    assert [r.protocol for r in records] == ["linear", "knn(k=20)", "knn(k=1)"]
    assert json.loads((tmp_path / "eval" / "results.json").read_text())[0]["epochs"] == 1
    # a small-data checkpoint is probed as its run was (the rule's logistic probe), so the numbers reproduce
    assert "solver: logistic" in (tmp_path / "eval" / "config.yaml").read_text()
    assert [r.top1 for r in records] == [r.top1 for r in trained]
    # and it reports the floor its run reported: the random encoder that run started from, through the same probes
    assert [r.floor_top1 for r in records] == [r.floor_top1 for r in trained] and records[0].floor_top1 is not None
    assert [r.floor_mean_class_top1 for r in records] == [r.floor_mean_class_top1 for r in trained]
    assert records[0].floor_mean_class_top1 is not None


def test_random_encoder_floor_skips_pretraining(tmp_path, cache_dir):
    records = run_train(["pretrain=false", "protocol=[knn]"], tmp_path, cache_dir)
    assert records[0].epochs == 0
    assert not (tmp_path / "checkpoints").exists()


def test_wandb_offline_logger(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    run_train(["logger=wandb", "protocol=[knn]"], tmp_path, cache_dir)
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert runs, "wandb wrote no offline run"
    assert any(p.suffix == ".wandb" for p in runs[0].iterdir())


def test_tensorboard_logger(tmp_path, cache_dir):
    run_train(["logger=tensorboard", "protocol=[knn]"], tmp_path, cache_dir)
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))


@pytest.mark.parametrize("stream", ["motion", "bone"])
def test_streams_run(tmp_path, cache_dir, stream):
    records = run_train([f"stream={stream}", "protocol=[knn]"], tmp_path, cache_dir)
    assert records[0].stream == stream


def test_console_output_and_results_table_go_to_train_log(tmp_path, cache_dir):
    run_train(["protocol=[knn]"], tmp_path, cache_dir)
    log = (tmp_path / "train.log").read_text()
    assert "config" in log and "data synthetic:" in log and f"run directory: {tmp_path}" in log
    assert "| skeletonclr | stgcn | synthetic | xsub | joint | knn(k=20) |" in log  # the results table
