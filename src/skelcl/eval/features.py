"""Frozen features, extracted once per (encoder weights, split, stream, clip settings) without augmentation and
cached on disk, so the linear probe trains on a small tensor and KNN reads the same cache.

The cache file is named by a hash of everything the features depend on, the encoder's weights included, so
evaluating another checkpoint into the same run directory (or resuming into an old one) never reads stale
features.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from skelcl.progress import progress as progress_bar


@torch.no_grad()
def extract_features(model, loader: DataLoader, device: torch.device | str,
                     progress: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, D) float32, labels (N,)) on the CPU, the model in eval mode (BN running stats, no dropout).
    `progress`: a bar with this description."""
    was_training = model.training
    model.eval().to(device)
    feats, labels = [], []
    for batch in progress_bar(loader, progress or "", enabled=progress is not None):
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        feats.append(model.embed(batch).float().cpu())
        labels.append(batch["label"].cpu())
    model.train(was_training)
    return torch.cat(feats), torch.cat(labels)


def feature_key(model, datamodule, which: str) -> str:
    """Hash of what `which`'s features depend on: the query encoder's weights and buffers, the stream, the clip
    settings, the layout, the dataset (its meta.json) and the split's sample indices."""
    h = hashlib.sha256()
    for name, t in sorted(model.encoder_q.state_dict().items()):
        t = t.detach().cpu().contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{t.numel()};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    p = datamodule.prepared
    idx = {"train": datamodule.train_idx, "test": datamodule.test_idx}[which]
    h.update(json.dumps({"which": which, "stream": model.stream, "clip": repr(model.clip_spec),
                         "layout": repr(model.layout), "root": str(Path(p.root).resolve()), "meta": p.meta},
                        sort_keys=True, default=str).encode())
    h.update(torch.as_tensor(idx, dtype=torch.int64).numpy().tobytes())
    return h.hexdigest()[:20]


def cached_features(model, datamodule, which: str, cache_dir: str | Path | None,
                    device: torch.device | str, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Features of the 'train' or 'test' split, read from `cache_dir` when these exact features were extracted
    before (same weights, split, stream and clip settings)."""
    key = feature_key(model, datamodule, which) if cache_dir is not None else None
    path = Path(cache_dir) / f"{which}-{key}.pt" if cache_dir is not None else None
    if path is not None and path.is_file():
        d = torch.load(path)
        if d.get("key") == key:
            return d["features"], d["labels"]
    feats, labels = extract_features(model, datamodule.feature_loader(which), device,
                                     progress=f"features ({which})" if progress else None)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"features": feats, "labels": labels, "key": key}, tmp)
        tmp.replace(path)
    return feats, labels


#: the encoders whose features a run caches, in the order it writes them (`files_in_write_order`)
WRITE_ORDER = ("pretrained", "floor")


def files_in_write_order(cache_dir: str | Path, which: str) -> list[Path]:
    """`which`'s cached feature files, oldest first: in a run directory the pretrained encoder's come first, the
    random-encoder floor's (measured after the protocols) after them."""
    return sorted(Path(cache_dir).glob(f"{which}-*.pt"), key=lambda p: p.stat().st_mtime)


def clear_feature_cache(cache_dir: str | Path) -> None:
    for p in Path(cache_dir).glob("*.pt"):
        p.unlink()


@torch.no_grad()
def calibrate_batchnorm(model, loader: DataLoader, device: torch.device | str, progress: bool = False) -> None:
    """Estimate the query encoder's BatchNorm running statistics on un-augmented training clips (no labels, no
    gradient, dropout off).

    A randomly initialised encoder still has running statistics (0, 1); in eval mode its features then shrink
    layer by layer to ~1e-7, and a linear probe with the papers' lr cannot move. Calibrating gives the random
    encoder a fair floor; pretrained encoders already carry statistics from pretraining and skip this.
    """
    encoder = model.encoder_q
    was_training = model.training
    model.eval().to(device)
    bns = [m for m in encoder.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the whole pass
        bn.train()
    for batch in progress_bar(loader, "BN calibration", enabled=progress):
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        model.embed(batch)
    for bn in bns:
        bn.momentum = 0.1
    model.train(was_training)
