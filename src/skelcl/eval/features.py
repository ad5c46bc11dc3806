"""Frozen features, extracted once per (checkpoint, split) without augmentation and cached on disk, so the
linear probe trains on a small tensor and KNN reads the same cache."""

from __future__ import annotations

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


def cached_features(model, datamodule, which: str, cache_dir: str | Path | None,
                    device: torch.device | str, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Features of the 'train' or 'test' split, read from `cache_dir` when already extracted by this run."""
    path = Path(cache_dir) / f"{which}.pt" if cache_dir is not None else None
    if path is not None and path.is_file():
        d = torch.load(path)
        return d["features"], d["labels"]
    feats, labels = extract_features(model, datamodule.feature_loader(which), device,
                                     progress=f"features ({which})" if progress else None)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"features": feats, "labels": labels}, tmp)
        tmp.replace(path)
    return feats, labels


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
