"""The online KNN monitor: logged every N epochs as monitor/knn, off for trainer=debug, a fixed subset, and
the number it logs is the KNN top-1 of that subset's features (not the headline)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from skelcl.eval.features import extract_features
from skelcl.eval.knn import knn_scores
from skelcl.eval.metrics import topk_accuracy
from skelcl.eval.monitor import KNNMonitor, fixed_subset
from tests.conftest import TINY, compose_config, compose_train, run_train


def test_monitor_is_on_by_default_and_off_for_debug():
    assert compose_config([]).monitor.every_n_epochs > 0
    assert compose_config(["trainer=debug"]).monitor.every_n_epochs == 0
    assert compose_config(["trainer=debug", "monitor=knn"]).monitor.every_n_epochs > 0
    assert compose_config(["trainer=debug"]).trainer.limit_train_batches == 2  # debug's trainer keys still apply


@pytest.mark.slow
def test_monitor_logs_every_n_epochs_and_stays_out_of_results(tmp_path, cache_dir):
    run_train(["epochs=2", "protocol=[knn]", "monitor=knn", "monitor.every_n_epochs=1", "monitor.bank_size=64",
               "monitor.query_size=32"], tmp_path, cache_dir)
    with (tmp_path / "logs" / "metrics.csv").open() as f:
        values = [float(r["monitor/knn"]) for r in csv.DictReader(f) if r.get("monitor/knn")]
    assert len(values) == 2 and all(0.0 <= v <= 100.0 for v in values)
    assert [r["protocol"] for r in json.loads((tmp_path / "results.json").read_text())] == ["knn(k=20)", "knn(k=1)"]


def test_fixed_subset_is_seeded_and_sorted():
    idx = np.arange(100, 200)
    a, b = fixed_subset(idx, 10, 3), fixed_subset(idx, 10, 3)
    assert np.array_equal(a, b) and np.all(np.diff(a) > 0) and set(a) <= set(idx)
    assert not np.array_equal(a, fixed_subset(idx, 10, 4))
    assert np.array_equal(fixed_subset(idx, 1000, 0), idx)


def test_measure_is_knn_top1_of_the_subset(tmp_path, cache_dir):
    from skelcl.build import build_datamodule, build_method, validate
    from skelcl.data.datamodule import ClipDataset

    cfg = compose_train(TINY, tmp_path, cache_dir)
    typed = validate(cfg)
    dm = build_datamodule(typed.dataset, cfg.cache_dir, 16, 0)
    model = build_method(typed, dm, 1)
    mon = KNNMonitor(1, bank_size=40, query_size=20, k=5, temperature=0.1, seed=0, batch_size=16)
    mon.bank_idx = fixed_subset(dm.train_idx, 40, 0)
    mon.query_idx = fixed_subset(dm.test_idx, 20, 1)
    from torch.utils.data import DataLoader

    bx, by = extract_features(model, DataLoader(ClipDataset(dm.prepared, mon.bank_idx), batch_size=7), "cpu")
    qx, qy = extract_features(model, DataLoader(ClipDataset(dm.prepared, mon.query_idx), batch_size=7), "cpu")
    expected = topk_accuracy(knn_scores(bx, by, qx, dm.num_classes, 5, 0.1), qy, dm.num_classes, 1)
    assert mon.measure(model, dm.prepared, dm.num_classes) == pytest.approx(expected, abs=1e-4)
