"""The small-data rule end to end on a tiny custom dataset: the pretext task is learnt (each clip's positive beats
its negatives far above chance), and a run forced to collapse is flagged in results.json (a healthy one is not)."""

from __future__ import annotations

import csv
import json
import math
import pickle

import numpy as np
import pytest

from tests.conftest import run_train
from tests.test_custom_dataset import LAYOUT

TINY_CUSTOM = ["trainer=cpu", "progress_bar=false", "protocol=[knn]", "encoder=stgcn", "encoder.hidden_channels=8",
               "dataset=custom", "dataset.split=main", "method.linear.epochs=2"]


def write_custom(root, identical: bool = False, clips: int = 96, frames: int = 32) -> list[str]:
    """A pyskl pickle of periodic motions, each clip with its own pose, frequencies and phases (or one clip
    repeated)."""
    rng = np.random.default_rng(0)
    t = np.arange(frames)[None, :, None, None] / frames
    annotations = []
    for i in range(clips):
        r = np.random.default_rng(0) if identical else rng
        pose = r.normal(size=(1, 1, 15, 3))
        freq, phase = r.uniform(0.5, 3, size=(1, 1, 15, 3)), r.uniform(0, 2 * np.pi, size=(1, 1, 15, 3))
        motion = 0.5 * np.sin(2 * np.pi * freq * t + phase)
        annotations.append({"frame_dir": f"c{i:03d}", "label": i % 4, "total_frames": frames,
                            "keypoint": (pose + motion).astype(np.float32)})
    split = {"main_train": [a["frame_dir"] for a in annotations[: clips * 2 // 3]],
             "main_test": [a["frame_dir"] for a in annotations[clips * 2 // 3:]]}
    with open(root / "data.pkl", "wb") as f:
        pickle.dump({"split": split, "annotations": annotations}, f)
    (root / "layout.yaml").write_text(LAYOUT)
    return [f"dataset.root={root / 'data.pkl'}", f"dataset.layout={root / 'layout.yaml'}"]


def epoch_metric(run_dir, name: str) -> list[float]:
    rows = list(csv.DictReader(open(run_dir / "logs" / "metrics.csv")))
    return [float(r[name]) for r in rows if r.get(name)]


@pytest.mark.slow
def test_rule_learns_on_a_tiny_custom_dataset(tmp_path, cache_dir):
    data = write_custom(tmp_path)
    run_train([*TINY_CUSTOM, *data, "small_data.samples=1280"], tmp_path / "run", cache_dir, tiny=[])
    cfg = (tmp_path / "run" / "config.yaml").read_text()
    assert "queue_size: 16" in cfg and "key_init: copy" in cfg  # 64 training clips -> a queue of 16, not 32768
    losses, accuracy = epoch_metric(tmp_path / "run", "train/loss_epoch"), epoch_metric(tmp_path / "run",
                                                                                         "train/instance_acc")
    assert len(losses) == 20  # 1280 clips drawn / (4 steps of 16) per epoch
    # The positive beats all 16 negatives far more often than chance (1/17) would have it. (The InfoNCE value itself
    # is no such test here: at tau = 0.07 one near negative among 64 clips outweighs a good positive.)
    assert np.mean(accuracy[-5:]) > 3 / 17 and np.mean(accuracy[-5:]) > accuracy[0], accuracy
    assert all(math.isfinite(v) for v in losses)
    rows = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rows and not any(r["collapsed"] for r in rows)


@pytest.mark.slow
def test_a_collapsed_run_is_flagged(tmp_path, cache_dir, capsys):
    """Every clip identical and the rule off (plain MLP head, independent key encoder): all embeddings coincide."""
    data = write_custom(tmp_path, identical=True)
    run_train([*TINY_CUSTOM, *data, "small_data.enabled=false", "epochs=3", "method.schedule.batch_size=16",
               "method.model.queue_size=32"], tmp_path / "run", cache_dir, tiny=[])
    rows = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rows and all(r["collapsed"] for r in rows)
    assert "pretraining collapsed" in capsys.readouterr().out
