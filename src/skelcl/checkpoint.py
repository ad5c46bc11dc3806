"""Reading a checkpoint the user names, checked up front: empty / missing / truncated files and checkpoints
of a different setting fail with a clear message before any data or model is built."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from skelcl.config import MAX_BODIES, MIN_BODY_SHARE
from skelcl.pids import pid_alive

log = logging.getLogger("skelcl")


class CheckpointError(ValueError):
    """A checkpoint path that cannot be used: empty, missing, unreadable, or from a different setting."""


#: what makes a run: a resumed run must agree on these unless `ckpt_allow_changed` names the group
IDENTITY = {
    "method": ("method.name", "method.model"),
    "encoder": ("encoder",),
    "stream": ("stream.name",),
    "dataset": ("dataset.name", "dataset.format", "dataset.root", "dataset.split", "dataset.layout",
                "dataset.max_bodies", "dataset.min_body_share", "dataset.link_bodies", "dataset.options"),
}
#: identity keys added after checkpoints were first written: a checkpoint without one had its default
ADDED_LATER = {"dataset.max_bodies": MAX_BODIES, "dataset.min_body_share": MIN_BODY_SHARE,
               "dataset.link_bodies": False}


def _comparable(config: Mapping, key: str) -> Any:
    """The value of `key` as identity: a dataset is compared by its file or directory name, not where it lies
    (a moved or re-mounted copy, another cache directory for the generated dataset, is the same data)."""
    value = OmegaConf.select(config, key, default=ADDED_LATER.get(key))
    if key == "dataset.root":
        fmt = OmegaConf.select(config, "dataset.format", default=None)
        return None if fmt == "synthetic" or not value else Path(str(value)).name
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


def read_checkpoint(path: Any, key: str = "ckpt_path", need_config: bool = True) -> dict:
    """Load `path` (CPU), naming the config `key` and the fix in every error. `need_config`: it must embed the
    run config (every checkpoint the entry points write does)."""
    if path is None or not str(path).strip():
        raise CheckpointError(f"{key} is empty; give a checkpoint file such as <run dir>/checkpoints/last.ckpt, "
                              "or leave it out")
    p = Path(str(path)).expanduser()
    if not p.exists():
        raise CheckpointError(f"{key}={path}: no such file")
    if p.is_dir():
        raise CheckpointError(f"{key}={path}: is a directory; give a checkpoint file, e.g. {p}/checkpoints/last.ckpt")
    if p.stat().st_size == 0:
        raise CheckpointError(f"{key}={path}: the file is empty (0 bytes), its write was interrupted; use another "
                              f"checkpoint of the run ({p.parent}/epochNNN.ckpt)")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - truncated zip, pickle garbage, EOF: one message for all of them
        reason = (str(e).splitlines() or [""])[0][:200]
        raise CheckpointError(f"{key}={path}: cannot be read ({type(e).__name__}: {reason}); the file is truncated "
                              f"or not a PyTorch checkpoint. Use another checkpoint of the run "
                              f"({p.parent}/epochNNN.ckpt)") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise CheckpointError(f"{key}={path}: not a Lightning checkpoint (no state_dict)")
    if need_config and ckpt.get("skelcl_config") is None:
        raise CheckpointError(f"{key}={path}: not a skelcl checkpoint (no embedded run config)")
    return ckpt


class _Absent:
    def __repr__(self) -> str:
        return "absent"


_ABSENT = _Absent()


def _flat(node: Any, prefix: str) -> dict[str, Any]:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(_flat(v, f"{prefix}.{k}"))
        return out or {prefix: {}}
    return {prefix: node}


def identity_differences(saved: Mapping, now: DictConfig, groups: Iterable[str] = IDENTITY) -> dict[str, list[str]]:
    """group -> 'key: checkpoint value vs now' lines for every identity key that differs."""
    before = OmegaConf.create(dict(saved or {}))
    current = OmegaConf.create(OmegaConf.to_container(now, resolve=True))
    diffs: dict[str, list[str]] = {}
    for group in groups:
        for key in IDENTITY[group]:
            a = _flat(_comparable(before, key), key)
            b = _flat(_comparable(current, key), key)
            for k in sorted(set(a) | set(b)):
                if a.get(k, _ABSENT) != b.get(k, _ABSENT):
                    diffs.setdefault(group, []).append(
                        f"{k}: {a.get(k, _ABSENT)!r} in the checkpoint, {b.get(k, _ABSENT)!r} now")
    return diffs


def check_unused_run_dir(run_dir: Path) -> None:
    """Refuse to pretrain into a run directory that holds another run's checkpoints (unless resuming it).

    Lightning would resume from `<run dir>/checkpoints/last.ckpt` on its own (its on-exception checkpoint callback
    turns `ckpt_path=None` into 'last'), so rerunning a changed command into the same `hydra.run.dir` would report
    the earlier run's encoder as the new run's result."""
    found = sorted(p.name for p in (Path(run_dir) / "checkpoints").glob("*.ckpt"))
    if found:
        resume = "last.ckpt" if "last.ckpt" in found else found[0]
        raise CheckpointError(f"run directory {run_dir} already holds an earlier run's checkpoints "
                              f"({', '.join(found[:3])}{', ...' if len(found) > 3 else ''}): continue that run with "
                              f"ckpt_path={Path(run_dir) / 'checkpoints' / resume}, or give this run a directory of "
                              "its own (hydra.run.dir=...)")


def check_resume(cfg: DictConfig, ckpt: dict | None = None) -> dict | None:
    """The checkpoint `ckpt_path` names (read here unless given), compared with this run's setting; None when not
    resuming. Compare after the small-data rule has written its recipe into `cfg`: the checkpoint holds that too."""
    if "ckpt_path" not in cfg or cfg.ckpt_path is None:
        return None
    if ckpt is None:
        ckpt = read_checkpoint(cfg.ckpt_path, "ckpt_path", need_config=False)
    if ckpt.get("skelcl_config") is None:  # written through the Python API without a run config
        log.warning("ckpt_path=%s embeds no run config; its setting cannot be checked", cfg.ckpt_path)
        return ckpt
    allowed = set(cfg.get("ckpt_allow_changed") or [])
    unknown = allowed - set(IDENTITY)
    if unknown:
        raise CheckpointError(f"ckpt_allow_changed: unknown group(s) {sorted(unknown)}; choose from {list(IDENTITY)}")
    diffs = identity_differences(ckpt["skelcl_config"], cfg, [g for g in IDENTITY if g not in allowed])
    if diffs:
        found = [line for group in diffs.values() for line in group]
        lines = "; ".join(found[:6]) + (f"; and {len(found) - 6} more" if len(found) > 6 else "")
        groups = ",".join(diffs)
        raise CheckpointError(f"ckpt_path={cfg.ckpt_path} was trained with a different setting: {lines}. Resume with "
                              f"the checkpoint's setting, or pass ckpt_allow_changed=[{groups}] to continue from it "
                              "on purpose")
    return ckpt


def epochs_completed(ckpt: dict) -> int:
    """Pretraining epochs finished when the checkpoint was written.

    Lightning writes epoch-end checkpoints before it marks the epoch completed, so the loop's `processed`
    count (the epoch's batches all done) is the one that counts; `completed` lags one behind there.
    """
    try:
        progress = ckpt["loops"]["fit_loop"]["epoch_progress"]["current"]
        return int(max(progress["processed"], progress["completed"]))
    except (KeyError, TypeError):
        return int(ckpt.get("epoch", 0))


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete `.NAME.tmp-PID` files that interrupted checkpoint writes left behind (their process is gone)."""
    removed = []
    for p in Path(directory).glob(".*.tmp-*"):
        try:
            pid = int(p.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid != os.getpid() and pid_alive(pid):
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed
