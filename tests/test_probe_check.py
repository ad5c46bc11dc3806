"""scripts/probe_check.py reads the pretrained encoder's cached features, not the random-encoder floor's that a
run writes after them."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch


def load_script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "probe_check.py"
    spec = importlib.util.spec_from_file_location("probe_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pretrained_features_are_read_not_the_floors(tmp_path):
    feats = tmp_path / "features"
    feats.mkdir()
    for when, (name, fill) in enumerate((("aaa", 1.0), ("000", 2.0))):  # pretrained first, the floor's after
        path = feats / f"train-{name}.pt"
        torch.save({"features": torch.full((4, 3), fill), "labels": torch.arange(4) % 2, "key": name}, path)
        os.utime(path, (1_000_000 + when, 1_000_000 + when))
    x, y = load_script().load(tmp_path, "train")
    assert bool((x == 1.0).all()) and y.tolist() == [0, 1, 0, 1]
