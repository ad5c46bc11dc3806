"""Find run directories under the paths a user gives and load what each one left behind.

A run directory holds `results.json`, a `config.yaml` or `checkpoints/`; multirun directories and globs are
searched recursively (never inside a run directory). Each run is classified so the report never averages a bad
run in silently: `interrupted` (no results.json, e.g. killed mid-pretraining), `diverged` (a non-finite result or
training loss) and, per record, `collapsed` (the flag the training run wrote).
"""

from __future__ import annotations

import csv
import glob
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class Run:
    path: Path
    config: dict
    records: list[dict]
    flags: list[str] = field(default_factory=list)  # run-level: interrupted, diverged, duplicate of ...

    @property
    def ok(self) -> bool:
        return not self.flags

    @property
    def seed(self):
        return self.config.get("seed", self.records[0].get("seed") if self.records else None)


def is_run_dir(path: Path) -> bool:
    return (path / "results.json").is_file() or (path / "config.yaml").is_file() or (path / "checkpoints").is_dir()


def find_run_dirs(patterns: list[str]) -> list[Path]:
    """Run directories under every path or glob, in sorted order, each once."""
    found: dict[Path, None] = {}

    def walk(p: Path) -> None:
        if is_run_dir(p):
            found[p.resolve()] = None
            return
        for child in sorted(c for c in p.iterdir() if c.is_dir() and not c.name.startswith(".")):
            walk(child)

    for pattern in patterns:
        if glob.has_magic(pattern):  # a glob also matches the files beside the runs (logs, notes): keep its directories
            matches = [m for m in sorted(glob.glob(pattern)) if Path(m).is_dir()]
        else:
            matches = [pattern] if Path(pattern).is_dir() else []
        if not matches:
            raise FileNotFoundError(f"{pattern}: not a directory and no glob matching one (give run dirs, multirun "
                                    "dirs or globs)")
        for m in matches:
            walk(Path(m))
    return list(found)


def training_loss_diverged(run_dir: Path) -> bool:
    """True when the CSV log's last epoch loss is not finite."""
    path = run_dir / "logs" / "metrics.csv"
    if not path.is_file():
        return False
    last = None
    with path.open() as f:
        for row in csv.DictReader(f):
            value = row.get("train/loss_epoch")
            if value not in (None, ""):
                last = float(value)
    return last is not None and not math.isfinite(last)


def record_flags(record: dict) -> list[str]:
    flags = []
    if record.get("collapsed"):
        flags.append("collapsed")
    top1 = record.get("top1")
    if record.get("diverged") or top1 is None or not math.isfinite(float(top1)):
        flags.append("diverged")
    return flags


def load_run(path: Path) -> Run:
    config_path = path / "config.yaml"
    config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
    results = path / "results.json"
    if not results.is_file():
        return Run(path, config or {}, [], ["interrupted"])
    records = json.loads(results.read_text())
    flags = ["diverged"] if training_loss_diverged(path) else []
    return Run(path, config or {}, records, flags)


def load_runs(patterns: list[str]) -> list[Run]:
    return [load_run(p) for p in find_run_dirs(patterns)]
