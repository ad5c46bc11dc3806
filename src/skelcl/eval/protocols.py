"""Run the configured evaluation protocols on a (pre)trained method and collect result records."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig

from skelcl.config import RunConfig
from skelcl.eval.feature_rank import effective_rank
from skelcl.eval.features import cached_features
from skelcl.eval.finetune import run_finetune
from skelcl.eval.knn import evaluate_knn
from skelcl.eval.linear import train_linear
from skelcl.eval.logistic import fit_logistic_cv
from skelcl.eval.record import ResultRecord

log = logging.getLogger("skelcl")


def eval_device(cfg: DictConfig) -> torch.device:
    accel = str(cfg.trainer.get("accelerator", "auto"))
    if accel in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def dataset_file(ds: DictConfig) -> str | None:
    """The stem of the user's dataset file or directory (a fold's identity in a sweep over dataset.root);
    None for the generated synthetic dataset."""
    if ds.get("format") == "synthetic" or not ds.get("root"):
        return None
    return Path(str(ds.root)).stem


def run_protocols(run: RunConfig, model, dm, run_dir: Path, pretrain_epochs: int,
                  start_time: float, save_logits: bool = True) -> list[ResultRecord]:
    """Every protocol of `run` on `model`'s query encoder, in the configured order; one record per figure.
    `save_logits`: the linear probe's test logits go to <run dir>/logits (for the stream ensemble)."""
    cfg, method_name = run.cfg, run.method_name
    device = eval_device(cfg)
    bars = bool(cfg.get("progress_bar", True))
    cache = run_dir / "features"
    records = []

    def record(protocol: str, res: dict) -> ResultRecord:
        r = ResultRecord(method=method_name, encoder=cfg.encoder.name, dataset=cfg.dataset.name,
                         split=run.dataset.split, stream=cfg.stream.name, protocol=protocol, top1=res["top1"],
                         top5=res["top5"], epochs=pretrain_epochs, seed=int(cfg.seed),
                         wall_s=round(time.time() - start_time, 1),
                         best_on_test_top1=res.get("best_on_test_top1"), dataset_file=dataset_file(cfg.dataset),
                         feature_rank=res.get("feature_rank"), mean_class_top1=res.get("mean_class_top1"))
        records.append(r)
        return r

    rank = None  # of the training features, which the linear and KNN protocols share: one SVD per run
    for name, pcfg in run.protocols.items():
        if name in ("linear", "knn"):
            train_x, train_y = cached_features(model, dm, "train", cache, device, progress=bars)
            test_x, test_y = cached_features(model, dm, "test", cache, device, progress=bars)
            rank = round(effective_rank(train_x), 2) if rank is None else rank
        if name == "linear":
            if pcfg.solver == "logistic":
                res = fit_logistic_cv(train_x, train_y, test_x, test_y, dm.num_classes, cv_score=pcfg.cv_score)
                log.info("linear probe: logistic regression, C=%g chosen by cross-validation (%s) on the training "
                         "split", res["C"], res["criterion"])
            else:
                res = train_linear(train_x, train_y, test_x, test_y, dm.num_classes, pcfg, seed=int(cfg.seed),
                                   device=device, progress=bars)
            if save_logits:
                logits_dir = run_dir / "logits"
                logits_dir.mkdir(exist_ok=True)
                torch.save({"logits": res["logits"], "labels": test_y, "index": torch.as_tensor(dm.test_idx),
                            "stream": cfg.stream.name}, logits_dir / f"linear_{cfg.stream.name}.pt")
            record("linear", {**res, "feature_rank": rank})
        elif name == "knn":
            ks = [pcfg.k, 1] if pcfg.nearest and pcfg.k != 1 else [pcfg.k]
            for k, res in zip(ks, evaluate_knn(train_x, train_y, test_x, test_y, dm.num_classes, pcfg, progress=bars,
                                               ks=ks)):
                record(f"knn(k={k})", {**res, "feature_rank": rank})
        elif name in ("finetune", "semi"):
            res = run_finetune(cfg, pcfg, model, dm, run_dir / name, seed=int(cfg.seed))
            label = name if name == "finetune" else f"semi({pcfg.label_fraction:g})"
            record(label, res)
    return records
