"""Structured schemas for the config nodes every run shares. Merging a YAML node into its schema fails on an
unknown or mistyped key, so typos stop a run before any data is touched."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """A config key that is unknown, mistyped or out of range; the message names the key and what is allowed."""


class FieldRangeError(ValueError):
    """Raised by a schema's own checks; `checked` turns it into a ConfigError with the node's full key."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        super().__init__(f"{key}={value!r}: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed


def require(node: Any, key: str, ok: bool, allowed: str) -> None:
    """Fail with the key, its value and the allowed range unless `ok`."""
    if not ok:
        raise FieldRangeError(key, getattr(node, key), allowed)


def _finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _check_schedule(node: Any, epochs: str = "epochs") -> None:
    """Ranges every optimiser schedule shares (pretraining, linear probe, finetuning)."""
    require(node, epochs, getattr(node, epochs) >= 1, "must be an integer >= 1")
    require(node, "batch_size", node.batch_size >= 1, "must be an integer >= 1")
    require(node, "lr", _finite(node.lr) and node.lr > 0, "must be a number > 0")
    require(node, "momentum", 0 <= node.momentum < 1, "must lie in [0, 1)")
    require(node, "weight_decay", _finite(node.weight_decay) and node.weight_decay >= 0, "must be a number >= 0")
    require(node, "gamma", _finite(node.gamma) and node.gamma > 0, "must be a number > 0")
    require(node, "milestones", all(m >= 0 for m in node.milestones), "must be epochs >= 0")


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

    def __post_init__(self) -> None:
        _check_schedule(self)
        require(self, "optimizer", self.optimizer in ("sgd", "adam"), "choose 'sgd' or 'adam'")
        require(self, "warmup_epochs", self.warmup_epochs >= 0, "must be an integer >= 0")


@dataclass
class ClipConfig:
    """How stored clips become model inputs: frame count and temporal mode (resize valid frames | first T, taking
    every `stride`-th stored frame)."""

    frames: int = 50
    temporal: str = "resize"
    stride: int = 1

    def __post_init__(self) -> None:
        require(self, "frames", self.frames >= 1, "must be an integer >= 1")
        require(self, "stride", self.stride >= 1, "must be an integer >= 1")
        require(self, "stride", self.stride == 1 or self.temporal == "first",
                "only 'first' takes strided frames ('resize' resamples the whole clip to `frames` already)")
        require(self, "temporal", self.temporal in ("resize", "first"), "choose 'resize' or 'first'")


#: what the logistic probe's cross-validation maximises (eval/logistic.py: `auto` picks by clips per class)
CV_SCORES = ("auto", "accuracy", "log_loss")


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
    standardize: bool = False  # sgd: z-score the features with the training split's mean / std first
    solver: str = "sgd"  # sgd: the papers' probe (the fields above) | logistic: eval/logistic.py (small-data rule)
    cv_score: str = "auto"  # logistic: what the cross-validation maximises, auto | accuracy | log_loss

    def __post_init__(self) -> None:
        _check_schedule(self)
        require(self, "init_std", _finite(self.init_std) and self.init_std > 0, "must be a number > 0")
        require(self, "solver", self.solver in ("sgd", "logistic"), "choose 'sgd' or 'logistic'")
        require(self, "cv_score", self.cv_score in CV_SCORES, f"choose one of {sorted(CV_SCORES)}")


@dataclass
class KNNConfig:
    k: int = 20
    temperature: float = 0.1
    nearest: bool = True  # also report 1-NN (cosine), the figure unsupervised-skeleton papers quote

    def __post_init__(self) -> None:
        require(self, "k", self.k >= 1, "must be an integer >= 1")
        require(self, "temperature", _finite(self.temperature) and self.temperature > 0, "must be a number > 0")


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
        _check_schedule(self)
        require(self, "warmup_epochs", self.warmup_epochs >= 0, "must be an integer >= 0")
        require(self, "label_fraction", 0 < self.label_fraction <= 1, "must lie in (0, 1]")


#: bodies kept per clip of a pyskl / custom pickle, and the share of the first's visibility another needs
#: (skelcl.data.bodies)
MAX_BODIES = 2
MIN_BODY_SHARE = 0.5
#: dataset.vertical_axis: the axis 3-D bodies stand along (auto: the tallest, data/checks.py), turned to y
VERTICAL_AXES = ("auto", "x", "y", "z")


@dataclass
class DatasetConfig:
    name: str = "synthetic"
    format: str = "synthetic"  # prepared | crossclr | pyskl | custom | synthetic
    root: str = ""
    split: Any = "xsub"  # uses <split>_train / <split>_test; null: the plain train / test splits
    layout: Any = None  # null = from the data; a mapping = custom layout
    center_joint: Any = None  # centre each frame on this joint (0-based) on the device
    align_shoulders: bool = False
    normalize: str = "frame"  # frame: per-frame center_joint / align_shoulders | sequence: one transform per clip
    vertical_axis: str = "auto"  # 3-D: the axis the bodies stand along, turned to y (auto: the clearly tallest)
    fill_missed: bool = False  # interpolate missed joints (exact 0 where the body is present) in time
    recipe: str = "auto"  # auto: the small-data rule decides from the split's size | paper: the method's own recipe
    num_workers: int = 0
    num_classes: Any = None  # declared class count, checked against the labels (custom data: required)
    max_bodies: Any = MAX_BODIES  # pyskl / custom pickles: the most-seen bodies kept per clip (data/bodies.py)
    min_body_share: float = MIN_BODY_SHARE  # pyskl / custom pickles: a body after the first needs this share
    link_bodies: bool = True  # pyskl / custom pickles: re-link body slots that change person between frames
    options: dict = field(default_factory=dict)  # format-specific (e.g. synthetic generator settings)

    def __post_init__(self) -> None:
        if isinstance(self.split, int) and not isinstance(self.split, bool) and self.split >= 0:
            self.split = str(self.split)  # dataset.split=1: a numbered split (1_train / 1_test)
        require(self, "split", self.split is None or (isinstance(self.split, str) and self.split != ""),
                "must be a split name (NAME -> NAME_train / NAME_test) or null (plain train / test)")
        require(self, "max_bodies", self.max_bodies is None or (isinstance(self.max_bodies, int) and not isinstance(
            self.max_bodies, bool) and self.max_bodies >= 1), "must be null (every body) or an integer >= 1")
        require(self, "min_body_share", _finite(self.min_body_share) and 0 <= self.min_body_share <= 1,
                "must be in [0, 1] (0: every body up to max_bodies)")
        require(self, "num_classes", self.num_classes is None or (isinstance(self.num_classes, int)
                                                                  and self.num_classes >= 1),
                "must be null or an integer >= 1 (the number of action classes)")
        require(self, "num_workers", self.num_workers >= 0, "must be an integer >= 0")
        require(self, "vertical_axis", self.vertical_axis in VERTICAL_AXES, f"choose one of {list(VERTICAL_AXES)}")

    @property
    def split_names(self) -> tuple[str, str]:
        """(train split, test split) in the prepared dataset."""
        return ("train", "test") if self.split is None else (f"{self.split}_train", f"{self.split}_test")


PROTOCOL_SCHEMAS = {"linear": LinearConfig, "knn": KNNConfig, "finetune": FinetuneConfig, "semi": FinetuneConfig}
#: the method's config blocks a protocol's recipe comes from, later ones winning; the protocol's own node (its own
#: knobs: solver, label_fraction, k, ...) is merged last. One place per value: a recipe field is set in the method.
PROTOCOL_RECIPES = {"linear": ("linear",), "knn": (), "finetune": ("finetune",), "semi": ("finetune", "semi")}


@dataclass(frozen=True)
class RunConfig:
    """A composed run config and its checked nodes, built once by `build.validate` and passed as one object.

    `cfg` is the Hydra tree itself (the small-data recipe, if any, is written into it before the nodes are built);
    the typed nodes are what the code reads."""

    cfg: DictConfig
    schedule: ScheduleConfig
    clip: ClipConfig
    dataset: DatasetConfig
    protocols: dict[str, Any]

    @property
    def seed(self) -> int:
        return int(self.cfg.seed)

    @property
    def method_name(self) -> str:
        return str(self.cfg.method.name)


def checked(schema: type, node: DictConfig | dict, where: str) -> Any:
    """Merge `node` into `schema`; raise a one-line ConfigError naming the full key on any unknown key, bad type
    or out-of-range value."""
    try:
        if isinstance(node, DictConfig):  # resolve interpolations against the whole config first
            node = OmegaConf.to_container(node, resolve=True, throw_on_missing=True)
        merged = OmegaConf.merge(OmegaConf.structured(schema), node)
        return OmegaConf.to_object(merged)  # runs the schema's own checks (__post_init__)
    except FieldRangeError as e:
        raise ConfigError(f"config '{where}.{e.key}' = {e.value!r}: {e.allowed}") from None
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None)
        msg = str(getattr(e, "msg", e)).splitlines()[0]
        if key and not key.startswith(where + "."):  # keys of a resolved sub-node already carry its path
            key = f"{where}.{key}"
        raise ConfigError(f"invalid config '{key or where}': {msg}") from None
    except Exception as e:  # e.g. a schema's own ValueError; one clear message is what users need
        raise ConfigError(f"invalid config '{where}': {e}") from None
