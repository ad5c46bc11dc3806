"""Assembly shared by the entry points: config validation, data module, method, trainer and loggers."""

from __future__ import annotations

import dataclasses
import inspect
import os
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra.utils import get_class
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.callbacks import ModelCheckpoint, RichProgressBar
from lightning.pytorch.plugins.io import TorchCheckpointIO
from omegaconf import DictConfig, OmegaConf

from skelcl.augment.streams import STREAMS
from skelcl.checkpoint import remove_stale_temporaries
from skelcl.config import (
    PROTOCOL_RECIPES,
    PROTOCOL_SCHEMAS,
    ClipConfig,
    ConfigError,
    DatasetConfig,
    RunConfig,
    ScheduleConfig,
    checked,
)
from skelcl.config_tree import check_tree, small_data_declarations
from skelcl.cpu_precision import warn_if_bf16_emulated
from skelcl.data.checks import warn_coordinates, warn_label_gaps, warn_no_shoulders
from skelcl.data.datamodule import SkeletonDataModule
from skelcl.divergence import DivergenceGuard
from skelcl.encoders.rnn import RNNEncoder
from skelcl.interruption import InterruptCheckpoint
from skelcl.small_data import CHECKPOINT_EVERY, SmallDataConfig


def _check_target(node: DictConfig, where: str, supplied: set[str]) -> None:
    """Fail early if `node`'s keys do not fit the signature of its `_target_` (typos in YAML or CLI)."""
    if "_target_" not in node:
        raise ConfigError(f"config '{where}' has no _target_")
    try:
        target = get_class(node._target_)
    except Exception as e:
        raise ConfigError(f"config '{where}': cannot import _target_ {node._target_!r}: {e}") from None
    params: dict[str, inspect.Parameter] = {}
    for cls in target.__mro__:
        if cls is object or "__init__" not in vars(cls):
            continue
        sig = inspect.signature(cls.__init__)
        params.update({k: p for k, p in sig.parameters.items() if k != "self"})
        if not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            break
    accepted = {k for k, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    given = {k for k in node if not k.startswith("_")} - {"name"}
    reserved = sorted(given & supplied)
    if reserved:
        raise ConfigError(f"config '{where}': key(s) {reserved} are set by the framework (from the dataset, encoder, "
                          "stream and schedule), not in this node")
    unknown = sorted(given - accepted)
    if unknown:
        raise ConfigError(f"config '{where}': unknown key(s) {unknown} for {node._target_}; "
                         f"valid keys: {sorted(accepted - supplied)}")


def _check_trainer(node: DictConfig) -> None:
    """Unknown Trainer arguments fail with the config, not after the data and model are built."""
    params = inspect.signature(L.Trainer.__init__).parameters
    reserved = {"max_epochs", "logger", "callbacks", "default_root_dir", "plugins", "use_distributed_sampler",
                "enable_progress_bar"}  # set by build_trainer
    accepted = {k for k in params if k != "self"} - reserved
    unknown = sorted(str(k) for k in node if str(k) not in accepted)
    if unknown:
        raise ConfigError(f"config 'trainer': unknown or reserved key(s) {unknown}; any other Lightning Trainer "
                          "argument is accepted (epochs are set by `epochs=`)")


def _check_dataset_options(ds: DatasetConfig) -> None:
    """`dataset.options` go to the format's reader as keyword arguments: unknown ones fail with the config."""
    from dataclasses import fields

    from skelcl.data import readers
    from skelcl.data.synthetic import SyntheticConfig

    if ds.format == "synthetic":
        accepted = {f.name for f in fields(SyntheticConfig)}
    elif ds.format in ("crossclr", "pyskl", "custom"):
        reader = readers.convert_crossclr if ds.format == "crossclr" else readers.convert_pyskl
        accepted = set(inspect.signature(reader).parameters) - {"root", "path", "cache_dir", "layout",
                                                                  "require_classes"}
    elif ds.format == "prepared":
        accepted = set()
    else:
        return
    unknown = sorted(set(ds.options) - accepted)
    if unknown:
        raise ConfigError(f"config 'dataset.options': unknown key(s) {unknown} for format '{ds.format}'; "
                          f"valid keys: {sorted(accepted)}")


def _check_views(views: DictConfig | None) -> None:
    """Build every augmentation view once (op names and parameters are checked at construction)."""
    from skelcl.augment.views import build_view
    from skelcl.data.layouts import NTU25

    for name, spec in (views or {}).items():
        try:
            build_view(spec, NTU25)
        except Exception as e:
            raise ConfigError(f"config 'method.model.views.{name}': {e}") from None


def validate(cfg: DictConfig, primary: str = "train") -> RunConfig:
    """Check the whole composed config before any work; return it with its typed nodes. Raises ConfigError."""
    check_tree(cfg, primary)
    _check_target(cfg.method.model, "method.model", FRAMEWORK_KWARGS)
    _check_target(cfg.encoder, "encoder", {"layout", "in_channels", "frames", "bodies"})
    if cfg.stream.name not in STREAMS:
        raise ConfigError(f"config 'stream.name': {cfg.stream.name!r}; choose one of {STREAMS}")
    _check_views(cfg.method.model.get("views"))
    _check_trainer(cfg.trainer)
    dataset = checked(DatasetConfig, cfg.dataset, "dataset")
    checked(SmallDataConfig, cfg.get("small_data") or {}, "small_data")
    _check_dataset_options(dataset)
    protocols = {name: protocol_settings(cfg, name) for name in (cfg.get("protocol") or {})}
    return RunConfig(cfg=cfg, schedule=checked(ScheduleConfig, cfg.method.schedule, "method.schedule"),
                     clip=checked(ClipConfig, cfg.method.clip, "method.clip"), dataset=dataset, protocols=protocols)


def protocol_settings(cfg: DictConfig, name: str) -> Any:
    """The typed settings of protocol `name`: the method's recipe blocks (PROTOCOL_RECIPES) under the protocol's
    own node. Each method block is checked on its own first, so a bad value is reported where it was set."""
    if name not in PROTOCOL_SCHEMAS:
        raise ConfigError(f"unknown protocol '{name}'; choose from {sorted(PROTOCOL_SCHEMAS)}")
    schema, merged = PROTOCOL_SCHEMAS[name], {}
    for block in PROTOCOL_RECIPES[name]:
        node = cfg.method.get(block)
        if node is not None:
            checked(schema, node, f"method.{block}")
            merged.update(OmegaConf.to_container(node, resolve=True))
    merged.update(OmegaConf.to_container(cfg.protocol[name], resolve=True))
    return checked(schema, merged, f"protocol.{name}")


def run_epochs(cfg: DictConfig, schedule: ScheduleConfig) -> int:
    """Pretraining epochs of this run: `epochs=` if given, else the method's reference schedule."""
    return int(cfg.epochs) if cfg.get("epochs") is not None else schedule.epochs


def build_datamodule(ds: DatasetConfig, cache_dir: str, batch_size: int, seed: int,
                     label_fraction: float = 1.0, drop_last: bool = True) -> SkeletonDataModule:
    from skelcl.data.open import open_dataset

    options = dict(ds.options)
    if ds.num_classes is not None:
        options["num_classes"] = ds.num_classes
    prepared = open_dataset(ds.root, format=ds.format, layout=ds.layout, cache_dir=cache_dir,
                            max_bodies=ds.max_bodies, min_body_share=ds.min_body_share,
                            link_bodies=ds.link_bodies, **options)
    warn_label_gaps(prepared)
    vertical_axis = warn_coordinates(prepared, ds.vertical_axis)
    warn_no_shoulders(prepared, ds.normalize)
    train_split, test_split = ds.split_names
    return SkeletonDataModule(prepared, train_split, test_split, batch_size=batch_size, num_workers=ds.num_workers,
                              seed=seed, label_fraction=label_fraction, drop_last=drop_last,
                              vertical_axis=vertical_axis)


def build_data(cfg: DictConfig, run: RunConfig | None = None) -> tuple[RunConfig, SkeletonDataModule, Any]:
    """Typed config, data module and small-data recipe (None when the rule does not apply) of a run: what every
    caller that builds a method for pretraining needs, in the order the entry point uses. `run`: `validate(cfg)`
    when the caller already has it (the config is validated again only if the rule rewrote it)."""
    run = run if run is not None else validate(cfg)
    dm = build_datamodule(run.dataset, cfg.cache_dir, run.schedule.batch_size, run.seed,
                          drop_last=run.schedule.drop_last)
    recipe = apply_small_data_rule(cfg, dm)
    return (validate(cfg) if recipe is not None else run), dm, recipe


def small_data_applies(cfg: DictConfig, dm: SkeletonDataModule) -> bool:
    """Whether the small-data rule covers this config's dataset (its training split's size and `dataset.recipe`)."""
    from skelcl.small_data import applies

    rule = checked(SmallDataConfig, cfg.get("small_data") or {}, "small_data")
    return applies(rule, len(dm.train_idx), str(cfg.dataset.get("recipe", "auto")))


def apply_small_data_rule(cfg: DictConfig, dm: SkeletonDataModule):
    """Derive and apply the small-data recipe (skelcl.small_data) for this run's training split; return it, or None
    when the rule does not apply. Call before `validate` builds the typed nodes the method uses."""
    from skelcl.small_data import apply, derive

    rule = checked(SmallDataConfig, cfg.get("small_data") or {}, "small_data")
    if cfg.get("epochs") is not None and rule.epochs is None:  # an explicit epochs= replaces the step budget
        rule = dataclasses.replace(rule, epochs=int(cfg.epochs))
    clips = len(dm.train_idx)
    if not small_data_applies(cfg, dm):
        return None
    model = cfg.method.model
    budget, turn_2d = small_data_declarations(cfg.method)
    lengths = dm.prepared.lengths[dm.train_idx]
    recipe = derive(rule, clips, float(np.median(lengths)), int(cfg.method.clip.frames),
                    int(cfg.method.schedule.batch_size), int(model.get("queue_size", 32768)),
                    float(model.get("momentum", 0.999)), model.get("projector"),
                    channels=int(dm.prepared.shape[1]), has_pairs=bool(dm.layout.pairs),
                    normalized=bool(model.get("normalize", True)),
                    temporal=str(cfg.method.clip.get("temporal", "resize")),
                    budget=budget, turn_2d=turn_2d,
                    window_length=float(np.quantile(lengths, rule.window_share)) if _recurrent(cfg.encoder) else None)
    apply(cfg, recipe)
    dm.batch_size = recipe.batch_size
    dm.epoch_clips = recipe.epoch_clips
    dm.drop_last = dm.drop_last and clips >= recipe.batch_size
    return recipe


def _recurrent(encoder: DictConfig) -> bool:
    """Whether the encoder reads a clip one frame per step (the small-data rule gives it a window of most clips)."""
    return issubclass(get_class(encoder._target_), RNNEncoder)


def build_method(run: RunConfig, dm: SkeletonDataModule, epochs: int):
    cfg = run.cfg
    model_cfg = OmegaConf.to_container(cfg.method.model, resolve=True)
    target = get_class(model_cfg.pop("_target_"))
    encoder_cfg = OmegaConf.create({k: v for k, v in cfg.encoder.items() if k != "name"})
    ds = run.dataset
    channels = dm.prepared.shape[1]
    where = f"dataset '{ds.name}' ({ds.root or 'built in'})"
    if channels not in (2, 3):
        raise ConfigError(f"{where}: the clips have C = {channels} values per joint; skelcl reads 3-D (x, y, z) or "
                          "2-D (x, y) coordinates (leave confidence scores out of the keypoints)")
    if channels == 2 and ds.align_shoulders:
        raise ConfigError(f"{where}: 'dataset.align_shoulders' rotates about the vertical axis, which needs 3-D "
                          "coordinates; the clips are 2-D (x, y): set dataset.align_shoulders=false")
    from skelcl.augment.views import op_names

    swaps = [name for name, specs in (cfg.method.model.get("views") or {}).items() if "part_swap" in op_names(specs)]
    if swaps and not dm.layout.parts:
        raise ConfigError(f"{where}: method '{cfg.method.name}' swaps body parts (view '{swaps[0]}'), but layout "
                          f"'{dm.layout.name}' defines none: add `parts:` to the layout (lists of joints, e.g. trunk, "
                          "two arms, two legs; docs/datasets.md)")
    return target(**_method_kwargs(layout=dm.layout, num_classes=dm.num_classes, bodies=dm.prepared.shape[4],
                                   channels=channels, encoder=encoder_cfg, stream=cfg.stream.name, clip=run.clip,
                                   schedule=run.schedule, run_epochs=epochs, seed=cfg.seed,
                                   center_joint=ds.center_joint, align_shoulders=ds.align_shoulders,
                                   clip_normalize=ds.normalize, vertical_axis=dm.vertical_axis,
                                   fill_missed=ds.fill_missed), **model_cfg)


def _method_kwargs(*, layout, num_classes, bodies, channels, encoder, stream, clip, schedule, run_epochs, seed,
                   center_joint, align_shoulders, clip_normalize, vertical_axis, fill_missed) -> dict:
    """What the framework gives every method besides its `method.model` node (parameters of the base
    constructor). These parameter names are the one list of them: `validate` reads it (FRAMEWORK_KWARGS)."""
    return dict(locals())


#: keys `method.model` may not set: the framework supplies them (from the data, encoder, stream and schedule)
FRAMEWORK_KWARGS = frozenset(inspect.signature(_method_kwargs).parameters)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write to a temporary file in the same directory, fsync, then rename: a crash never leaves a torn
    checkpoint, and `last.ckpt` is always a complete one."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def build_loggers(cfg: DictConfig, run_dir: Path) -> list:
    from lightning.pytorch import loggers as pl_loggers

    lg = cfg.logger
    if lg.name == "csv":
        loggers = [pl_loggers.CSVLogger(save_dir=str(run_dir), name="logs", version="")]
    elif lg.name == "tensorboard":
        loggers = [pl_loggers.TensorBoardLogger(save_dir=str(run_dir), name="tb", version="")]
    elif lg.name == "wandb":
        from skelcl.wandb_run import current_sweep_dir, wandb_kwargs

        loggers = [pl_loggers.WandbLogger(**wandb_kwargs(lg, cfg, run_dir, current_sweep_dir()))]
    else:
        raise ValueError(f"unknown logger '{lg.name}'; choose csv, tensorboard or wandb")
    if lg.name != "csv":  # the CSV log is what the training-curve figure is drawn from, whatever the dashboard
        loggers.append(pl_loggers.CSVLogger(save_dir=str(run_dir), name="logs", version=""))
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return loggers


def checkpoint_filename(epochs: int) -> str:
    """Lightning's name pattern for the kept checkpoints, zero-padded to the run's last epoch so that names sort in
    epoch order (`epoch059` of 60; `epoch0166` before `epoch1001` of a 60-clip run's 2,500 epochs)."""
    return f"epoch{{epoch:0{max(3, len(str(max(epochs, 1) - 1)))}d}}"


def build_trainer(cfg: DictConfig, run_dir: Path, epochs: int, loggers: list,
                  extra_callbacks: list | None = None) -> L.Trainer:
    trainer_kwargs = OmegaConf.to_container(cfg.trainer, resolve=True)
    remove_stale_temporaries(run_dir / "checkpoints")  # left by a write that a killed process never finished
    callbacks = [*(extra_callbacks or []),
        ModelCheckpoint(dirpath=str(run_dir / "checkpoints"), filename=checkpoint_filename(epochs),
                        auto_insert_metric_name=False, save_top_k=-1, save_last=True,
                        every_n_epochs=cfg.get("checkpoint_every") or CHECKPOINT_EVERY),
        DivergenceGuard(str(run_dir / "checkpoints"), every_n_steps=int(trainer_kwargs.get("log_every_n_steps") or 1)),
        InterruptCheckpoint(run_dir / "checkpoints"),
    ]
    if cfg.get("progress_bar", True):
        callbacks.append(RichProgressBar())
    monitor = cfg.get("monitor")
    if monitor is not None and monitor.every_n_epochs > 0:
        from skelcl.eval.monitor import KNNMonitor

        callbacks.append(KNNMonitor(monitor.every_n_epochs, monitor.bank_size, monitor.query_size, monitor.k,
                                    monitor.temperature, seed=int(cfg.seed)))
    try:
        trainer = L.Trainer(max_epochs=epochs, logger=loggers, callbacks=callbacks, default_root_dir=str(run_dir),
                            plugins=[AtomicCheckpointIO()], use_distributed_sampler=False,
                            enable_progress_bar=bool(cfg.get("progress_bar", True)), **trainer_kwargs)
    except TypeError as e:
        raise ValueError(f"invalid config 'trainer': {e}") from None
    warn_if_bf16_emulated(trainer_kwargs.get("precision"), isinstance(trainer.accelerator, CPUAccelerator))
    return trainer
