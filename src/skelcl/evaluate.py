"""`python -m skelcl.evaluate ckpt=<run>/checkpoints/last.ckpt`: run protocols on a saved checkpoint.

The method, encoder, stream and clip settings come from the config stored in the checkpoint; the dataset is
the pretraining one unless `dataset=` is given (transfer: pretrain on one dataset, evaluate on another with
the same joint layout).
"""

from __future__ import annotations

import time
from pathlib import Path

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf, open_dict
from rich.console import Console

from skelcl.build import build_datamodule, build_method, small_data_applies, validate
from skelcl.checkpoint import epochs_completed, read_checkpoint
from skelcl.config_tree import check_tree
from skelcl.entry import print_config_tree, run_dir_of, run_reporting_errors
from skelcl.eval.floor import attach_floor, encoder_state, measure_floor, print_floor, wants_floor
from skelcl.eval.protocols import run_protocols
from skelcl.report.plots import draw_and_log
from skelcl.report.provenance import run_provenance
from skelcl.report.results import print_results, write_results
from skelcl.small_data import use_rule_probe


def load_run_config(ckpt_path: str | Path, key: str = "ckpt") -> tuple[DictConfig, dict]:
    ckpt = read_checkpoint(ckpt_path, key)
    return OmegaConf.create(ckpt["skelcl_config"]), ckpt


def evaluate(cfg: DictConfig) -> list:
    start = time.time()
    console = Console()
    run_dir = run_dir_of(cfg)
    check_tree(cfg, "evaluate")
    saved, ckpt = load_run_config(cfg.ckpt)
    merged = saved.copy()
    with open_dict(merged):
        merged.protocol = cfg.protocol
        merged.trainer = cfg.trainer
        merged.seed = cfg.seed
        merged.cache_dir = cfg.cache_dir
        merged.progress_bar = cfg.get("progress_bar", True)
        merged.floor = cfg.get("floor", "auto")
        if cfg.get("dataset") is not None:
            merged.dataset = cfg.dataset
    run = validate(merged)
    L.seed_everything(int(cfg.seed))
    dm = build_datamodule(run.dataset, merged.cache_dir, run.schedule.batch_size, int(cfg.seed))
    small_data = small_data_applies(merged, dm)
    if small_data:  # the probe pretraining reported with (skelcl.small_data)
        use_rule_probe(merged)
        run = validate(merged)
    print_config_tree(merged, console)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(merged, resolve=True))
    epochs = epochs_completed(ckpt)
    initial = None
    if wants_floor(merged, small_data):  # the encoder the checkpoint's run started from: its seed, built as it was
        L.seed_everything(int(saved.seed))
        initial = encoder_state(build_method(run, dm, max(epochs, 1)))
        L.seed_everything(int(cfg.seed))
    model = build_method(run, dm, max(epochs, 1))
    # The query encoder must load completely (fail loudly, unlike the official code's silent partial loads);
    # the queue and heads are not used by the protocols.
    saved_weights = {k[len("encoder_q."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("encoder_q.")}
    try:
        model.encoder_q.load_state_dict(saved_weights, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{cfg.ckpt}: checkpoint does not match the configured encoder: {e}") from None
    records = run_protocols(run, model, dm, run_dir, epochs, start)
    if initial:
        attach_floor(records, measure_floor(run, model, initial, dm, run_dir, start))
    write_results(run_dir, records, run_provenance(merged, dm, cfg.ckpt, start))
    print_results(records, console)
    if initial:
        print_floor(records, console)
    if cfg.get("plots", True):
        draw_and_log(run_dir, model, dm, [], console, int(cfg.seed))
    return records


@hydra.main(config_path="conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_reporting_errors(evaluate, cfg)


if __name__ == "__main__":
    main()
