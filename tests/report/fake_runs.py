"""Synthetic run directories (results.json + config.yaml [+ logits]) written by tests, no training."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml


def write_run(path: Path, method: str = "aimclr", seed: int = 0, stream: str = "joint",
              results: dict[str, float] | None = None, collapsed: bool = False, config: dict | None = None,
              logits: torch.Tensor | None = None, labels: torch.Tensor | None = None,
              with_results: bool = True, epochs: int = 1, floors: dict[str, float] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    cfg = {"method": {"name": method, "schedule": {"lr": 0.1}}, "encoder": {"name": "stgcn"},
           "dataset": {"name": "synthetic", "split": "xsub"}, "stream": {"name": stream}, "seed": seed,
           "run_dir": str(path), "cache_dir": "/tmp/cache", **(config or {})}
    (path / "config.yaml").write_text(yaml.safe_dump(cfg))
    (path / "checkpoints").mkdir(exist_ok=True)
    if not with_results:
        return path
    records = [{"method": method, "encoder": "stgcn", "dataset": "synthetic", "split": "xsub", "stream": stream,
                "protocol": protocol, "top1": top1, "top5": min(100.0, top1 + 10), "epochs": epochs, "seed": seed,
                "wall_s": 1.0, "best_on_test_top1": None, "collapsed": collapsed,
                "floor_top1": (floors or {}).get(protocol)}
               for protocol, top1 in (results or {"linear": 50.0}).items()]
    (path / "results.json").write_text(json.dumps(records))
    if logits is not None:
        (path / "logits").mkdir(exist_ok=True)
        torch.save({"logits": logits, "labels": labels, "index": torch.arange(len(labels)), "stream": stream},
                   path / "logits" / f"linear_{stream}.pt")
    return path
