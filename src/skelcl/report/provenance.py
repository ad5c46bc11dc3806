"""Where a result came from: code version, config identity, checkpoint, dataset fingerprint, start time.

The config hash ignores keys that only say where a run lives or how it is displayed (run directory, resume
checkpoint, cache directory, logger, progress bars), so two runs of the same experiment share a hash: that is what
`report` uses to detect duplicates.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

#: config keys (and sub-trees) that do not change what a run computes
RUN_LOCAL_KEYS = ("run_dir", "ckpt_path", "ckpt", "cache_dir", "progress_bar", "plots", "logger", "monitor",
                  "checkpoint_every", "hydra")


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> {'a.b.c': leaf}; lists are leaves (compared as a whole)."""
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: tree} if prefix else {}


def is_under(key: str, roots) -> bool:
    return any(key == r or key.startswith(r + ".") for r in roots)


def experiment_keys(config: dict, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The flattened config without run-local keys (and without the `drop` sub-trees)."""
    return {k: v for k, v in flatten(config).items() if not is_under(k, RUN_LOCAL_KEYS + tuple(drop))}


def config_hash(config: dict, drop: tuple[str, ...] = ()) -> str:
    text = json.dumps(experiment_keys(config, drop), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_version() -> str:
    """`git describe`-like commit of the installed source (+dirty), else the package version."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"git:{commit}{'+dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"skelcl=={version('skelcl')}"
        except PackageNotFoundError:
            return "unknown"


def dataset_fingerprint(prepared, train_idx, test_idx) -> str:
    """Cheap identity of the data a run saw: meta.json, stored shape and the split's indices (no data read)."""
    h = hashlib.sha256(json.dumps(prepared.meta, sort_keys=True, default=str).encode())
    h.update(repr(tuple(prepared.shape)).encode())
    for idx in (train_idx, test_idx):
        h.update(hashlib.sha256(np.ascontiguousarray(idx, dtype=np.int64).tobytes()).digest())
    return h.hexdigest()[:16]


def provenance(config: dict, checkpoint: str | Path | None, fingerprint: str | None, start_time: float) -> dict:
    return {
        "code": code_version(),
        "config_hash": config_hash(config),
        "checkpoint": str(checkpoint) if checkpoint else None,
        "dataset_fingerprint": fingerprint,
        "started_at": datetime.datetime.fromtimestamp(start_time, datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def run_provenance(config, datamodule, checkpoint: str | Path | None, start_time: float) -> dict:
    """Provenance of a train/evaluate run from its composed config (DictConfig or dict) and data module."""
    from omegaconf import DictConfig, OmegaConf

    if isinstance(config, DictConfig):
        config = OmegaConf.to_container(config, resolve=True)
    fp = dataset_fingerprint(datamodule.prepared, datamodule.train_idx, datamodule.test_idx)
    return provenance(config, checkpoint, fp, start_time)
