"""scripts/probe_check.py and scripts/probe_criterion.py tell the pretrained encoder's cached features from the
random-encoder floor's that a run writes after them; probe_criterion compares the CV criteria on the training split."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import torch


def load_script(name: str = "probe_check"):
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
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


def write_run_features(run: Path, clips: int, dim: int, classes: int, spread: float, rows: dict[str, slice]) -> None:
    """Cached features as a run writes them: the pretrained encoder's first (class means `spread` apart), then the
    floor's (no class signal); `rows`: which clips go to each split's file."""
    g = torch.Generator().manual_seed(0)
    feats = run / "features"
    feats.mkdir()
    y = torch.arange(clips) % classes
    for when, shift in enumerate((spread, 0.0)):
        x = torch.randn(clips, dim, generator=g) + shift * torch.nn.functional.one_hot(y, dim).float()
        for which, part in rows.items():
            path = feats / f"{which}-{when}.pt"
            torch.save({"features": x[part], "labels": y[part], "key": str(when)}, path)
            os.utime(path, (1_000_000 + when, 1_000_000 + when))


def test_probe_check_reads_the_pretrained_and_the_floor_features_in_two_columns(tmp_path, capsys, monkeypatch):
    write_run_features(tmp_path, 60, 6, 3, 4.0, {"train": slice(0, 45), "test": slice(45, 60)})
    (tmp_path / "config.yaml").write_text("protocol:\n  linear: {solver: logistic, epochs: 20}\n")
    monkeypatch.setattr(sys, "argv", ["probe_check.py", str(tmp_path)])
    load_script().main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| probe | pretrained | floor |" and len(lines) == 5
    for line in lines[2:]:
        pretrained, floor = (float(cell.split()[0]) for cell in line.strip("| ").split(" | ")[1:])
        assert pretrained > 90 and floor < 60, line


def test_nested_cv_compares_the_criteria_on_the_training_split(tmp_path, capsys, monkeypatch):
    probe_criterion = load_script("probe_criterion")
    write_run_features(tmp_path, 40, 8, 4, 3.0, {"train": slice(None)})
    (tmp_path / "features" / "test-0.pt").write_bytes(b"never read")
    monkeypatch.setattr(sys, "argv", ["probe_criterion.py", str(tmp_path)])
    probe_criterion.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["pretrained", "floor"] and "10.0 per class" in lines[0]
    scores = [[float(w) for w in ln.replace(",", "").split() if w.replace(".", "").isdigit() and "." in w]
              for ln in lines]
    assert min(scores[0]) > 85 and max(scores[1]) < 50  # signal read by both criteria; none in the floor's
