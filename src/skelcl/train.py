"""`python -m skelcl.train`: pretrain a method, then run the configured evaluation protocols.

    python -m skelcl.train                                   # baseline on the built-in synthetic dataset
    python -m skelcl.train method=hiclr dataset=ntu60_xsub   # a paper setting (dataset.root=... your data)
    python -m skelcl.train -m method=aimclr,hiclr seed=1,2   # Hydra multirun sweep

The composed config is printed as a tree and saved as <run dir>/config.yaml; results go to
<run dir>/results.json and results.md.
"""

from __future__ import annotations

import logging
import time
import warnings

import hydra
import lightning as L
import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf
from rich.console import Console

from skelcl.build import build_data, build_loggers, build_method, build_trainer, run_epochs, validate
from skelcl.checkpoint import check_resume, check_unused_run_dir, read_checkpoint
from skelcl.encoders.official import load_encoder_weights
from skelcl.entry import print_config_tree, run_dir_of, run_reporting_errors, save_console_log
from skelcl.eval.features import calibrate_batchnorm
from skelcl.eval.floor import attach_floor, encoder_state, measure_floor, print_floor, wants_floor
from skelcl.eval.protocols import eval_device, run_protocols
from skelcl.interruption import exit_interrupted
from skelcl.methods.collapse import CollapseMonitor
from skelcl.report.plots import draw_and_log
from skelcl.report.provenance import run_provenance
from skelcl.report.results import print_results, write_results
from skelcl.wandb_run import finish_wandb, log_results_table

log = logging.getLogger("skelcl")


def train(cfg: DictConfig) -> list:
    """Validate, pretrain, evaluate; the console output goes to <run dir>/train.log too."""
    console = Console(record=True)
    state: dict = {}
    try:
        return _train(cfg, console, state)
    finally:
        if int(L.fabric.utilities.rank_zero.rank_zero_only.rank) == 0:
            save_console_log(console, run_dir_of(cfg) / "train.log", state.get("results"))


def _train(cfg: DictConfig, console: Console, state: dict) -> list:
    start = time.time()
    run_dir = run_dir_of(cfg)
    run = validate(cfg)  # before any data is touched
    rank0 = int(L.fabric.utilities.rank_zero.rank_zero_only.rank) == 0
    if rank0 and cfg.pretrain and not cfg.get("ckpt_path"):
        check_unused_run_dir(run_dir)
    # a resumed checkpoint must be readable (checked before any data is opened) and of this setting
    ckpt = read_checkpoint(cfg.ckpt_path, "ckpt_path", need_config=False) if cfg.get("ckpt_path") else None
    run, dm, recipe = build_data(cfg, run)  # the small-data recipe, if any, is written into cfg here
    check_resume(cfg, ckpt)
    del ckpt
    if rank0:
        print_config_tree(cfg, console)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        console.print(f"[bold]data[/] {dm.describe()}")
        if recipe is not None:
            console.print(f"[bold]{recipe.describe()}[/] (skelcl.small_data; small_data.enabled=false for the "
                          "method's own recipe)")
    L.seed_everything(int(cfg.seed), workers=True)
    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    schedule = run.schedule
    epochs = run_epochs(cfg, schedule) if cfg.pretrain else 0
    model = build_method(run, dm, max(epochs, 1))
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    initial = encoder_state(model) if wants_floor(cfg, recipe is not None) else None
    if cfg.get("init_from"):  # official or skelcl weights: evaluate them (pretrain=false) or pretrain from them
        load_encoder_weights(cfg.init_from, model.encoder_q)
        model.encoder_k.load_state_dict(model.encoder_q.state_dict())  # the key encoder starts from them too
        console.print(f"[bold]encoder weights[/] {cfg.init_from}")

    trainer = None
    monitor = CollapseMonitor()
    if epochs > 0:
        trainer = build_trainer(cfg, run_dir, epochs, build_loggers(cfg, run_dir), [monitor])
        try:
            with warnings.catch_warnings():
                # Lightning's on-exception callback turns ckpt_path=None into 'last'; the run directory holds no
                # checkpoint (check_unused_run_dir), so its notes that an earlier fit's model "will be used" are false
                warnings.filterwarnings("ignore", message=r".*ckpt_path=None\)` was called without a model")
                warnings.filterwarnings("ignore", message=r'.*ckpt_path="last"\) is set, but there is no last')
                trainer.fit(model, datamodule=dm, ckpt_path=cfg.ckpt_path)
        except SIGTERMException:
            exit_interrupted(trainer, run_dir / "checkpoints" / "interrupted.ckpt")
        if trainer.global_rank != 0:
            return []
        if monitor.verdict:
            console.print(f"[bold red]warning: pretraining collapsed[/] ({monitor.verdict}); the results below "
                          "describe a degenerate encoder and are marked collapsed: true")
    elif cfg.calibrate_bn and not cfg.get("init_from"):
        # random-init floor: BN statistics from the training clips (no labels, no gradient)
        calibrate_batchnorm(model, dm.feature_loader("train"), eval_device(cfg), progress=bool(cfg.progress_bar))
    records = run_protocols(run, model, dm, run_dir, epochs, start)
    for r in records:
        r.collapsed = monitor.verdict is not None
    if initial:
        attach_floor(records, measure_floor(run, model, initial, dm, run_dir, start))
    checkpoint = run_dir / "checkpoints" / "last.ckpt" if trainer is not None else cfg.get("init_from")
    write_results(run_dir, records, run_provenance(cfg, dm, checkpoint, start))
    state["results"] = run_dir / "results.md"
    print_results(records, console)
    if initial:
        print_floor(records, console)
    if cfg.get("plots", True):
        draw_and_log(run_dir, model, dm, trainer.loggers if trainer is not None else [], console, int(cfg.seed))
    console.print(f"run directory: {run_dir}")
    if trainer is not None:
        log_results_table(trainer.loggers, records)
        for logger in trainer.loggers:
            for name in ("top1", "floor_top1", "mean_class_top1", "floor_mean_class_top1"):
                logger.log_metrics({f"eval/{r.protocol}/{name}": getattr(r, name) for r in records
                                    if getattr(r, name) is not None})
            logger.finalize("success")
        finish_wandb(trainer.loggers)
    return records


@hydra.main(config_path="conf", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_reporting_errors(train, cfg)


if __name__ == "__main__":
    main()
