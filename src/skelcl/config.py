"""Structured schemas for the config nodes every run shares. Merging a YAML node into its schema fails on an
unknown or mistyped key, so typos stop a run before any data is touched."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf


@dataclass
class ScheduleConfig:
    """Pretraining optimiser and LR schedule (epochs are 1-based in the papers; milestones: x gamma after)."""

    epochs: int = 300
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd | adam
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 1e-4
    milestones: list[int] = field(default_factory=lambda: [250])
    gamma: float = 0.1
    warmup_epochs: int = 0
    drop_last: bool = True  # the ST-GCN family drops the last partial batch; AS-CAL keeps it


@dataclass
class ClipConfig:
    """How stored clips become model inputs: frame count and temporal mode (resize valid frames | first T)."""

    frames: int = 50
    temporal: str = "resize"


@dataclass
class LinearConfig:
    lr: float = 3.0
    epochs: int = 100
    milestones: list[int] = field(default_factory=lambda: [80])
    gamma: float = 0.1
    batch_size: int = 128
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    init_std: float = 0.02


@dataclass
class KNNConfig:
    k: int = 20
    temperature: float = 0.1
    nearest: bool = True  # also report 1-NN (cosine), the figure unsupervised-skeleton papers quote


LABELLED_SUBSETS = ("balanced", "first_k")


@dataclass
class FinetuneConfig:
    lr: float = 0.1
    epochs: int = 70
    milestones: list[int] = field(default_factory=lambda: [30, 55])
    gamma: float = 0.1
    warmup_epochs: int = 5
    batch_size: int = 64
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 1e-4
    bn_frozen: bool = False
    label_fraction: float = 1.0
    subset: str = "balanced"  # labelled subset: 'balanced' (seeded random per class) | 'first_k' (AS-CAL, file order)
    augment: bool = False

    def __post_init__(self) -> None:  # checked with the config, so a typo fails before pretraining, not after
        if self.subset not in LABELLED_SUBSETS:
            raise ValueError(f"subset '{self.subset}' is unknown; choose one of {list(LABELLED_SUBSETS)}")


@dataclass
class DatasetConfig:
    name: str = "synthetic"
    format: str = "synthetic"  # prepared | crossclr | pyskl | custom | synthetic
    root: str = ""
    split: str = "xsub"  # uses <split>_train / <split>_test
    layout: Any = None  # null = from the data; a mapping = custom layout
    center_joint: Any = None  # centre each frame on this joint (0-based) on the device
    align_shoulders: bool = False
    normalize: str = "frame"  # frame: per-frame center_joint / align_shoulders | sequence: one transform per clip
    recipe: str = "auto"  # auto: the small-data rule decides from the split's size | paper: the method's own recipe
    num_workers: int = 0
    options: dict = field(default_factory=dict)  # format-specific (e.g. synthetic generator settings)


PROTOCOL_SCHEMAS = {"linear": LinearConfig, "knn": KNNConfig, "finetune": FinetuneConfig, "semi": FinetuneConfig}


def checked(schema: type, node: DictConfig | dict, where: str) -> Any:
    """Merge `node` into `schema`; raise a ValueError that names the config node on any unknown key or bad type."""
    try:
        if isinstance(node, DictConfig):  # resolve interpolations against the whole config first
            node = OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
        merged = OmegaConf.merge(OmegaConf.structured(schema), node)
        return OmegaConf.to_object(merged)  # runs the schema's own checks (__post_init__)
    except Exception as e:  # omegaconf raises several error types; one clear message is what users need
        raise ValueError(f"invalid config '{where}': {e}") from None
