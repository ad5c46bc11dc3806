"""The random-encoder floor, measured in the run itself: the query encoder as the seed initialised it, its BatchNorm
statistics from the training clips, through the same frozen-feature probes as the pretrained one.

A researcher's first question of a new dataset is whether pretraining learnt anything a random network does not
already give: on small skeleton sets a random ST-GCN or LSTM is a strong feature extractor (a random LSTM reads ~70 %
linear on N-UCLA), and a pretrained encoder can end below it. Every linear / KNN record then carries `floor_top1`,
the figure `pretrain=false` gives at the same seed, and the run warns when the pretrained encoder does not beat it.
On (`floor: auto`) whenever the small-data rule applies: a few seconds there, a full extra feature pass on NTU.
"""

from __future__ import annotations

import dataclasses

import torch
from omegaconf import DictConfig

from skelcl.eval.features import calibrate_batchnorm
from skelcl.eval.protocols import eval_device, run_protocols
from skelcl.eval.record import ResultRecord

FROZEN_PROTOCOLS = ("linear", "knn")  # finetune / semi train the encoder: their floor is training from scratch


def wants_floor(cfg: DictConfig, small_data: bool) -> bool:
    """`floor: auto` measures it under the small-data rule, for a run that pretrains from a random encoder;
    true / false force it (a run that does not pretrain is its own floor)."""
    mode = str(cfg.get("floor", "auto")).lower()
    if not cfg.get("pretrain", True):
        return False
    if mode in ("true", "false"):
        return mode == "true"
    return small_data and not cfg.get("init_from")


def encoder_state(model) -> dict[str, torch.Tensor]:
    """A copy of the query encoder's weights and buffers (taken as built: the floor's encoder)."""
    return {k: v.detach().clone() for k, v in model.encoder_q.state_dict().items()}


def measure_floor(run, model, initial: dict[str, torch.Tensor], dm, run_dir,
                  start_time: float) -> dict[str, ResultRecord]:
    """The frozen-feature protocols' records on the encoder `initial` (protocol label -> record). The model's own
    encoder is swapped out for the measurement and put back afterwards."""
    protocols = {k: v for k, v in run.protocols.items() if k in FROZEN_PROTOCOLS}
    if not protocols:
        return {}
    cfg = run.cfg
    trained = encoder_state(model)
    try:
        model.encoder_q.load_state_dict(initial)
        if cfg.calibrate_bn:
            calibrate_batchnorm(model, dm.feature_loader("train"), eval_device(cfg),
                                progress=bool(cfg.get("progress_bar", True)))
        records = run_protocols(dataclasses.replace(run, protocols=protocols), model, dm, run_dir, 0, start_time,
                                save_logits=False)
    finally:
        model.encoder_q.load_state_dict(trained)
    return {r.protocol: r for r in records}


def attach_floor(records: list[ResultRecord], floor: dict[str, ResultRecord]) -> None:
    """Write each frozen-feature record's floor (its top-1 and mean class top-1)."""
    for r in records:
        if r.protocol in floor:
            r.floor_top1 = floor[r.protocol].top1
            r.floor_mean_class_top1 = floor[r.protocol].mean_class_top1


def shortfalls(records: list[ResultRecord]) -> list[str]:
    """One line per figure that does not beat its floor."""
    return [f"{r.protocol} {r.top1:.1f} <= {r.floor_top1:.1f}" for r in records
            if r.floor_top1 is not None and r.top1 <= r.floor_top1]


def floor_line(records: list[ResultRecord]) -> str:
    """'random encoder (same seed, ...): linear 49.2 (+28.6), knn(k=20) 39.7 (+32.4)'."""
    parts = [f"{r.protocol} {r.floor_top1:.1f} ({r.top1 - r.floor_top1:+.1f})" for r in records
             if r.floor_top1 is not None]
    return "random encoder (same seed, BN statistics from the training clips): " + ", ".join(parts)


def print_floor(records: list[ResultRecord], console) -> None:
    """The floor line under the results table, and a warning naming every figure that does not beat it."""
    console.print(floor_line(records))
    short = shortfalls(records)
    if short:
        console.print(f"[bold red]warning: pretraining did not beat the randomly initialised encoder[/] "
                      f"({'; '.join(short)}): these features are no better than a random network's")
