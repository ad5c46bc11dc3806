"""Learning-rate schedules shared by pretraining (methods) and the evaluation protocols (linear probe, finetune)."""

from __future__ import annotations


def lr_factor(epoch: int, milestones: list[int], gamma: float, warmup_epochs: int) -> float:
    """LR multiplier for 0-based `epoch`: linear warm-up base*(e+1)/W for the first W-1 epochs (HiCLR's
    lr = base*epoch/5 for 1-based epochs 1..4), then x gamma for every milestone m with 1-based epoch > m."""
    if warmup_epochs > 0 and epoch + 1 < warmup_epochs:
        return (epoch + 1) / warmup_epochs
    return gamma ** sum(epoch >= m for m in milestones)
