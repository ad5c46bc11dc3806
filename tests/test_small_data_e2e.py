"""The small-data rule end to end on a tiny custom dataset: the pretext task is learnt (each clip's positive beats
its negatives far above chance), and a run forced to collapse is flagged in results.json (a healthy one is not)."""

from __future__ import annotations

import csv
import json
import math
import pickle

import numpy as np
import pytest
import torch
import yaml

from tests.conftest import run_train

TINY_CUSTOM = ["trainer=cpu", "progress_bar=false", "protocol=[knn]", "encoder=stgcn", "encoder.hidden_channels=8",
               "dataset=custom", "dataset.split=main", "method.linear.epochs=2"]


def ntu_layout_yaml() -> str:
    """The NTU 25-joint layout written out as a user's custom layout file (0-based joint numbers)."""
    from skelcl.data.layouts import NTU25

    return yaml.safe_dump({"name": "my25", "num_joints": 25, "center": NTU25.center,
                           "bones": [list(b) for b in NTU25.bones], "pairs": [list(p) for p in NTU25.pairs],
                           "parts": [list(p) for p in NTU25.parts], "shoulders": list(NTU25.shoulders)})


def write_custom(root, cache, identical: bool = False) -> list[str]:
    """Clips of the built-in generator (4 subjects, 3 cameras) written as a user's pyskl pickle + layout YAML, so
    the run goes through `dataset=custom` like anyone's own data; `identical` repeats the first clip everywhere."""
    from skelcl.data.open import open_dataset

    p = open_dataset(str(cache), format="synthetic", cache_dir=str(cache), num_subjects=4)
    annotations, split = [], {"main_train": [], "main_test": []}
    for part, idx in (("main_train", p.split("xsub_train")), ("main_test", p.split("xsub_test"))):
        for i in idx:
            j = int(p.split("xsub_train")[0]) if identical else int(i)
            n = int(p.lengths[j])
            kp = np.asarray(p.data[j][:, :n]).transpose(3, 1, 2, 0)  # (C, T, V, M) -> (M, T, V, C)
            annotations.append({"frame_dir": f"c{i:04d}", "label": int(p.labels[i]), "total_frames": n,
                                "keypoint": kp.astype(np.float32)})
            split[part].append(f"c{i:04d}")
    with open(root / "data.pkl", "wb") as f:
        pickle.dump({"split": split, "annotations": annotations, "class_names": list(p.class_names)}, f)
    (root / "layout.yaml").write_text(ntu_layout_yaml())
    return [f"dataset.root={root / 'data.pkl'}", f"dataset.layout={root / 'layout.yaml'}"]


def epoch_metric(run_dir, name: str) -> list[float]:
    rows = list(csv.DictReader(open(run_dir / "logs" / "metrics.csv")))
    return [float(r[name]) for r in rows if r.get(name)]


@pytest.mark.slow
def test_rule_learns_on_a_tiny_custom_dataset(tmp_path, cache_dir):
    data = write_custom(tmp_path, cache_dir)
    run_train([*TINY_CUSTOM, *data, "small_data.samples=1600", "small_data.frames=24"], tmp_path / "run", cache_dir,
              tiny=[])
    cfg = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    train_clips = len(pickle.load(open(tmp_path / "data.pkl", "rb"))["split"]["main_train"])
    queue = cfg["method"]["model"]["queue_size"]
    assert queue < train_clips / 2 and cfg["method"]["model"]["key_init"] == "copy"  # not the official 32768
    chance = math.log(1 + queue)
    losses = epoch_metric(tmp_path / "run", "train/loss_epoch")
    assert len(losses) == cfg["epochs"] == 20  # 1,600 clips drawn as 20 epochs of 80 of the 174 (epoch_slices.py)
    # the positive is found among the queue's negatives (below chance) and ever more surely (the loss keeps falling)
    assert np.mean(losses[-3:]) < chance and np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.2, (losses, chance)
    rows = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rows and not any(r["collapsed"] for r in rows)
    assert all(r["feature_rank"] > 2 for r in rows if r["protocol"] == "linear" or r["protocol"].startswith("knn"))
    # and the features beat the same seed's random encoder, which the rule measures in the run (+19 / +21 here)
    assert all(r["top1"] > r["floor_top1"] + 5 for r in rows), rows


@pytest.mark.slow
def test_a_collapsed_run_is_flagged(tmp_path, cache_dir, capsys):
    """Every clip identical and the rule off (plain MLP head, independent key encoder): all embeddings coincide."""
    data = write_custom(tmp_path, cache_dir, identical=True)
    run_train([*TINY_CUSTOM, *data, "small_data.enabled=false", "epochs=3", "method.schedule.batch_size=16",
               "method.model.queue_size=32"], tmp_path / "run", cache_dir, tiny=[])
    rows = json.loads((tmp_path / "run" / "results.json").read_text())
    assert rows and all(r["collapsed"] for r in rows)
    assert all(r["feature_rank"] < 1.5 for r in rows)  # one feature vector for every clip: one direction
    assert "pretraining collapsed" in capsys.readouterr().out


@pytest.mark.slow
def test_the_random_floor_is_measured_in_the_run(tmp_path, cache_dir, capsys):
    """Under the rule every frozen-feature record carries the figure of the same seed's random encoder: exactly what
    a separate `pretrain=false` run reports, and the pretrained figures and their logits are left as they were."""
    data = write_custom(tmp_path, cache_dir)
    common = [*TINY_CUSTOM, *data, "protocol=[linear,knn]", "small_data.samples=320", "small_data.frames=24",
              "plots=false"]
    pretrained = run_train(common, tmp_path / "run", cache_dir, tiny=[])
    out = capsys.readouterr().out
    floor = run_train([*common, "pretrain=false"], tmp_path / "floor", cache_dir, tiny=[])
    assert [r.protocol for r in pretrained] == [r.protocol for r in floor] == ["linear", "knn(k=20)", "knn(k=1)"]
    for p, f in zip(pretrained, floor):
        assert p.floor_top1 == f.top1 and f.floor_top1 is None
    assert any(p.top1 != p.floor_top1 for p in pretrained)  # the pretrained encoder was evaluated, not the floor
    rows = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [r["floor_top1"] for r in rows] == [f.top1 for f in floor]
    saved = torch.load(tmp_path / "run" / "logits" / "linear_joint.pt")  # the stream ensemble reads these
    accuracy = 100 * (saved["logits"].argmax(1) == saved["labels"]).float().mean().item()
    assert accuracy == pytest.approx(pretrained[0].top1)
    assert "random encoder (same seed" in out
