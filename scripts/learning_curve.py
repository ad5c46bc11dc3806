"""Learning curve of a pretraining run (a benchmark, not a test): linear and KNN top-1 after every epoch.

Use it to choose schedules: it shows when a method's features overtake the random-encoder floor. It reads the
test split after each epoch, so it is a diagnostic, never a model-selection tool.

    python scripts/learning_curve.py --every 4 dataset=nucla dataset.root=data/nucla   # the small-data budget
    python scripts/learning_curve.py --epochs 6 --calibrate method=aimclr dataset=nucla dataset.root=data/nucla
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import lightning as L
import torch
from hydra import compose, initialize_config_module

from skelcl.build import build_data, build_method, run_epochs
from skelcl.eval.features import calibrate_batchnorm, extract_features
from skelcl.eval.knn import evaluate_knn
from skelcl.eval.linear import train_linear
from skelcl.eval.logistic import fit_logistic_cv


def evaluate(model, dm, run, seed: int, calibrate: bool) -> dict:
    if calibrate:
        model = copy.deepcopy(model)
        calibrate_batchnorm(model, dm.feature_loader("train"), "cpu")
    tx, ty = extract_features(model, dm.feature_loader("train"), "cpu")
    vx, vy = extract_features(model, dm.feature_loader("test"), "cpu")
    probe = run.protocols["linear"]
    if probe.solver == "logistic":  # the small-data rule's probe
        lin = fit_logistic_cv(tx, ty, vx, vy, dm.num_classes, cv_score=probe.cv_score)
    else:
        lin = train_linear(tx, ty, vx, vy, dm.num_classes, probe, seed=seed)
    knn, nn1 = evaluate_knn(tx, ty, vx, vy, dm.num_classes, run.protocols["knn"],
                            ks=[run.protocols["knn"].k, 1])
    return {"linear": round(lin["top1"], 2), "knn": round(knn["top1"], 2), "1nn": round(nn1["top1"], 2)}


class Curve(L.Callback):
    def __init__(self, dm, run, seed: int, calibrate: bool, start: float, every: int = 1):
        self.dm, self.run, self.seed, self.calibrate, self.start = dm, run, seed, calibrate, start
        self.every = every

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        epoch = trainer.current_epoch + 1
        if epoch % self.every and epoch != trainer.max_epochs:
            return
        row = {"epoch": trainer.current_epoch + 1, "train_s": round(time.time() - self.start, 1)}
        t0 = time.time()
        row.update(evaluate(pl_module, self.dm, self.run, self.seed, False))
        if self.calibrate:
            row.update({f"{k}_bncal": v for k, v in evaluate(pl_module, self.dm, self.run, self.seed, True).items()})
        row["eval_s"] = round(time.time() - t0, 1)
        print(json.dumps(row), flush=True)
        self.start = time.time()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=None, help="default: the small-data rule's (or method's) epochs")
    ap.add_argument("--every", type=int, default=1, help="evaluate every N epochs (and after the last)")
    ap.add_argument("--calibrate", action="store_true", help="also evaluate with BN statistics re-estimated")
    ap.add_argument("--skip-floor", action="store_true", help="do not evaluate the BN-calibrated initial encoder")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    with initialize_config_module(config_module="skelcl.conf", version_base="1.3"):
        epochs = [f"epochs={args.epochs}"] if args.epochs else []  # default: the small-data rule's budget
        cfg = compose("train", overrides=[*epochs, "progress_bar=false", *args.overrides])
    run, dm, recipe = build_data(cfg)
    if recipe is not None:
        print(recipe.describe(), flush=True)
    epochs = run_epochs(cfg, run.schedule)
    L.seed_everything(int(cfg.seed), workers=True)
    model = build_method(run, dm, epochs)
    if not args.skip_floor:
        print(json.dumps({"epoch": 0, **evaluate(model, dm, run, int(cfg.seed), True)}), flush=True)
    trainer = L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        callbacks=[Curve(dm, run, int(cfg.seed), args.calibrate, time.time(),
                                         args.every)],
                        use_distributed_sampler=False, accelerator="cpu", enable_model_summary=False)
    trainer.fit(model, datamodule=dm)


if __name__ == "__main__":
    torch.set_float32_matmul_precision("high")
    main()
