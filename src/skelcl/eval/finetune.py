"""End-to-end finetuning (and semi-supervised finetuning on a class-balanced labelled subset) of the
pretrained query encoder plus a new linear classifier, with Lightning.

Also the supervised ceiling: finetune a randomly initialised encoder (`pretrain=false protocol=finetune`).
`bn_frozen: true` keeps the encoder in eval mode while training (AimCLR/SkeAttnCLR's processor);
`false` trains in train mode (HiCLR). The semi subset comes from the training split only: seeded and
class-balanced by default, or AS-CAL's first k per class (`subset: first_k`); the headline is the final epoch.
"""

from __future__ import annotations

import copy
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import RichProgressBar
from omegaconf import DictConfig
from torch import nn

from skelcl.config import FinetuneConfig
from skelcl.data.datamodule import SkeletonDataModule
from skelcl.eval.metrics import accuracies
from skelcl.progress import progress
from skelcl.schedules import lr_factor


class Classifier(L.LightningModule):
    def __init__(self, method, cfg: FinetuneConfig, seed: int) -> None:
        super().__init__()
        self.encoder = copy.deepcopy(method.encoder_q)
        for p in self.encoder.parameters():
            p.requires_grad_(True)
        if hasattr(self.encoder, "for_finetune"):  # encoders whose evaluation differs from pretraining (DSTA)
            self.encoder.for_finetune()
        self.fc = nn.Linear(method.feature_dim, method.num_classes)
        self.cfg = cfg
        self.inputs = method.inputs  # the pretraining input path: same clips, same stream
        self.num_classes = method.num_classes
        self.seed = seed
        self.augment = copy.deepcopy(method.views[method.view_names[0]]) if cfg.augment else None
        self._gen: torch.Generator | None = None

    def forward(self, batch: dict, augment: bool = False) -> torch.Tensor:
        x = self.inputs.clips(batch)
        if augment and self.augment is not None:
            if self._gen is None:
                self._gen = torch.Generator(device=self.device).manual_seed(self.seed)
            x = self.augment(x, self._gen)
        return self.fc(self.encoder(self.inputs.to_stream(x)))

    def on_train_epoch_start(self) -> None:
        # Set both ways: Lightning keeps submodules in the mode they arrive in, and an encoder copied after
        # feature extraction or BN calibration may arrive in eval mode (then it would train on frozen statistics).
        self.encoder.train(not self.cfg.bn_frozen)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        logits = self(batch, augment=True)
        loss = F.cross_entropy(logits, batch["label"])
        self.log("finetune/loss", loss, prog_bar=True, batch_size=logits.shape[0])
        return loss

    def configure_optimizers(self):
        c = self.cfg
        opt = torch.optim.SGD(self.parameters(), lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                              weight_decay=c.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, c.milestones, c.gamma, c.warmup_epochs))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


@torch.no_grad()
def predict(model: Classifier, loader, device, bar: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    model.eval().to(device)
    scores, labels = [], []
    for batch in progress(loader, "finetune: test", enabled=bar):
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        scores.append(model(batch).float().cpu())
        labels.append(batch["label"].cpu())
    return torch.cat(scores), torch.cat(labels)


def run_finetune(cfg: DictConfig, pcfg: FinetuneConfig, method, dm: SkeletonDataModule, out_dir: Path,
                 seed: int) -> dict:
    sub = SkeletonDataModule(dm.prepared, "_", "_", batch_size=pcfg.batch_size, num_workers=dm.num_workers,
                             seed=seed, label_fraction=pcfg.label_fraction, split_indices=(dm.train_idx, dm.test_idx),
                             subset=pcfg.subset)
    model = Classifier(method, pcfg, seed)
    trainer_kwargs = {k: v for k, v in cfg.trainer.items() if k in ("accelerator", "precision", "deterministic")}
    bar = bool(cfg.get("progress_bar", True))
    trainer = L.Trainer(max_epochs=pcfg.epochs, devices=1, logger=False, enable_checkpointing=False,
                        default_root_dir=str(out_dir), enable_progress_bar=bar,
                        callbacks=[RichProgressBar()] if bar else [], enable_model_summary=False, **trainer_kwargs)
    trainer.fit(model, train_dataloaders=sub.train_dataloader())
    device = torch.device("cuda") if torch.cuda.is_available() and trainer_kwargs.get("accelerator") != "cpu" \
        else torch.device("cpu")
    scores, labels = predict(model, dm.feature_loader("test"), device, bar)
    return {**accuracies(scores, labels, dm.num_classes), "train_size": len(sub.train_idx)}
