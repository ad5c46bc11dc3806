"""Weights & Biases specifics: one wandb run per skelcl run, grouped by sweep, resumed with the training.

The wandb run id is chosen up front and written to `<run dir>/wandb_run_id`; a run resumed from
`ckpt_path=<run dir>/checkpoints/last.ckpt` finds it next to the checkpoint and continues the same wandb run.
Runs of one Hydra multirun share the group `sweep-<sweep dir name>` unless `logger.group` is set.
"""

from __future__ import annotations

import secrets
from pathlib import Path

ID_FILE = "wandb_run_id"


def current_sweep_dir() -> str | None:
    """The Hydra multirun directory of this job, or None outside a multirun."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        return str(hc.sweep.dir) if hc.mode == RunMode.MULTIRUN else None
    except ValueError:  # not started by @hydra.main
        return None


def saved_run_id(ckpt_path: str | None) -> str | None:
    """The wandb run id of the run that wrote `ckpt_path` (its run dir is the checkpoint's grandparent)."""
    if not ckpt_path:
        return None
    f = Path(ckpt_path).resolve().parent.parent / ID_FILE
    return f.read_text().strip() if f.is_file() else None


def wandb_kwargs(lg, cfg, run_dir: Path, sweep_dir: str | None) -> dict:
    """WandbLogger arguments: grouping, naming, run id (resumed or new) and the opt-in checkpoint artifact."""
    resumed = saved_run_id(cfg.get("ckpt_path"))
    run_id = resumed or secrets.token_hex(4)  # not the torch/numpy RNGs: seeded runs stay identical
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / ID_FILE).write_text(run_id)
    group = lg.group or (f"sweep-{Path(sweep_dir).name}" if sweep_dir else None)
    name = lg.run_name or f"{cfg.method.name}_{cfg.dataset.name}_{cfg.stream.name}_seed{cfg.seed}"
    return {"project": lg.project, "entity": lg.entity, "name": name, "tags": list(lg.tags), "group": group,
            "save_dir": str(run_dir), "offline": bool(lg.offline), "id": run_id,
            "resume": "allow" if resumed else None, "log_model": lg.get("log_model", False)}


def log_results_table(loggers, records) -> None:
    """The run's result records as one wandb Table (`results`)."""
    from dataclasses import asdict

    from lightning.pytorch.loggers import WandbLogger

    rows = [asdict(r) for r in records]
    if not rows:
        return
    columns = list(rows[0])
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.log_table(key="results", columns=columns, data=[[r[c] for c in columns] for r in rows])


def finish_wandb(loggers) -> None:
    """Close the wandb run: jobs of a Hydra multirun share one process, and WandbLogger would otherwise hand
    the still-open run of the previous job to the next one."""
    from lightning.pytorch.loggers import WandbLogger

    if any(isinstance(logger, WandbLogger) for logger in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()
