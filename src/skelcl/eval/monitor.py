"""Online KNN monitor during pretraining (solo-learn style), as a Lightning callback.

Every `every_n_epochs` epochs: frozen features (eval mode, no augmentation) of a fixed, seeded labelled subset,
the bank from the training split and the queries from the test split, and weighted KNN top-1, logged as
`monitor/knn`. It shows whether the representation is learning while it trains; it is a monitor on a subset,
never the headline (that stays the final-epoch protocol result).
"""

from __future__ import annotations

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader

from skelcl.data.datamodule import ClipDataset
from skelcl.eval.features import extract_features
from skelcl.eval.knn import knn_scores
from skelcl.eval.metrics import topk_accuracy


def fixed_subset(indices: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` of `indices` (all if fewer), chosen once by a seeded draw, in file order."""
    if size >= len(indices):
        return np.asarray(indices)
    return np.sort(np.random.default_rng(seed).choice(indices, size=size, replace=False))


class KNNMonitor(Callback):
    def __init__(self, every_n_epochs: int, bank_size: int = 1024, query_size: int = 512, k: int = 20,
                 temperature: float = 0.1, seed: int = 0, batch_size: int = 256) -> None:
        self.every_n_epochs = every_n_epochs
        self.bank_size, self.query_size = bank_size, query_size
        self.k, self.temperature, self.seed, self.batch_size = k, temperature, seed, batch_size
        self.bank_idx: np.ndarray | None = None
        self.query_idx: np.ndarray | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        dm = trainer.datamodule
        self.bank_idx = fixed_subset(dm.train_idx, self.bank_size, self.seed)
        self.query_idx = fixed_subset(dm.test_idx, self.query_size, self.seed + 1)

    def _loader(self, prepared, idx: np.ndarray) -> DataLoader:
        # own generator: iterating must not draw from the global RNG (exact resume)
        return DataLoader(ClipDataset(prepared, idx), batch_size=self.batch_size, shuffle=False,
                          generator=torch.Generator().manual_seed(0))

    def measure(self, model, prepared, num_classes: int) -> float:
        bank_x, bank_y = extract_features(model, self._loader(prepared, self.bank_idx), model.device)
        query_x, query_y = extract_features(model, self._loader(prepared, self.query_idx), model.device)
        scores = knn_scores(bank_x, bank_y, query_x, num_classes, self.k, self.temperature)
        return topk_accuracy(scores, query_y, num_classes, 1)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.every_n_epochs <= 0 or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        dm = trainer.datamodule
        acc = self.measure(pl_module, dm.prepared, dm.num_classes)
        pl_module.log("monitor/knn", acc, on_step=False, on_epoch=True, rank_zero_only=True)
