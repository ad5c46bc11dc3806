"""Strictness above the typed nodes: Hydra's `+key=value` can add a key anywhere, so the top level and the
`method`, `stream` and `logger` nodes are checked against what the packaged configs declare.

The allowed top-level keys are read from the primary config file itself (train.yaml / evaluate.yaml): a key
added there is allowed at once, and a `+typo=1` on the command line fails before any work.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from skelcl.config import ConfigError, FinetuneConfig, LinearConfig, checked, require

CONF = Path(str(resources.files("skelcl") / "conf"))
#: keys the Python API may add on top of a primary config (tests and scripts compose without @hydra.main)
API_KEYS = {"run_dir"}
#: config groups whose node's own keys are checked against the union of what their packaged options declare
#: (method: name, schedule, clip, linear, finetune, semi, model; the typed sub-nodes are checked by their schemas)
NODE_GROUPS = ("method", "stream", "logger")


def declared_keys(primary: str) -> set[str]:
    """Top-level keys of the packaged primary config `primary`.yaml plus the config groups it composes."""
    spec = OmegaConf.load(CONF / f"{primary}.yaml")
    keys = {k for k in spec if k not in ("defaults", "hydra")}
    for entry in spec.get("defaults", []):
        if isinstance(entry, (dict, DictConfig)):
            for group in entry:
                name = str(group).split()[-1].lstrip("/")  # "optional budget" -> budget
                if not _global_package(name):  # e.g. experiment: its keys land at the top level, not under a node
                    keys.add(name)
    return keys | API_KEYS


def packaged_keys(group: str) -> set[str]:
    """Keys the packaged options of config group `group` declare (any of them)."""
    keys: set[str] = set()
    for path in (CONF / group).glob("*.yaml"):
        node = OmegaConf.load(path)
        keys |= {str(k) for k in node if k != "defaults"} if isinstance(node, DictConfig) else set()
    return keys


def _global_package(group: str) -> bool:
    options = sorted((CONF / group).glob("*.yaml"))
    return bool(options) and "@package _global_" in options[0].read_text().split("\n", 1)[0]


def check_keys(node: DictConfig, allowed: set[str], where: str, hint: str) -> None:
    unknown = sorted(str(k) for k in node if str(k) not in allowed)
    if unknown:
        place = f"config '{where}'" if where else "the top level of the config"
        raise ConfigError(f"unknown key(s) {unknown} at {place}; valid keys: {sorted(allowed)}. {hint}")


def _null_or_count(value: Any) -> bool:
    """None, or an integer >= 1 (not a bool)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)


@dataclass
class TopLevelConfig:
    """Types and ranges of the top-level run settings shared by train.yaml and evaluate.yaml."""

    seed: int = 0
    epochs: Any = None
    checkpoint_every: Any = None
    pretrain: bool = True
    calibrate_bn: bool = True
    floor: str = "auto"
    progress_bar: bool = True

    def __post_init__(self) -> None:
        require(self, "seed", 0 <= self.seed < 2**32, "must be an integer in [0, 2**32)")
        require(self, "epochs", _null_or_count(self.epochs),
                "must be null (the method's schedule) or an integer >= 1; pretrain=false skips pretraining")
        require(self, "checkpoint_every", _null_or_count(self.checkpoint_every),
                "must be null (every 10 epochs; spread over the run under the small-data rule) or an integer >= 1")
        require(self, "floor", str(self.floor).lower() in ("auto", "true", "false"), "choose auto, true or false")


def check_tree(cfg: DictConfig, primary: str = "train") -> None:
    """Unknown keys at the top level or in method / stream / logger, and top-level types and ranges."""
    hint = "Check the spelling; `+key=value` only adds keys the config declares."
    check_keys(cfg, declared_keys(primary), "", hint)
    run = {k: cfg[k] for k in ("seed", "epochs", "checkpoint_every", "pretrain", "calibrate_bn", "floor",
                               "progress_bar") if k in cfg}
    _check_run(run)
    for group in NODE_GROUPS:
        if isinstance(cfg.get(group), DictConfig):
            check_keys(cfg[group], packaged_keys(group), group, hint)
    if "method" in cfg:
        small_data_declarations(cfg.method)
        for name, schema in (("linear", LinearConfig), ("finetune", FinetuneConfig), ("semi", FinetuneConfig)):
            node = cfg.method.get(name)
            if node is not None and not isinstance(node, ListConfig):
                _check_partial(schema, node, f"method.{name}")


def _check_run(run: dict) -> None:
    """Top-level types and ranges, reported under the top-level key names."""
    try:
        checked(TopLevelConfig, run, "run")
    except ConfigError as e:
        raise ConfigError(str(e).replace("'run.", "'", 1)) from None


def small_data_declarations(method: DictConfig) -> tuple[float, float]:
    """What a method declares for the small-data rule, (budget, turn_2d), checked: its multiple of the rule's
    budget (a number > 0, default 1) and its turn about the vertical for 2-D clips (degrees in [0, 90], default 0:
    none). Called before the data is opened and again where the rule is derived."""
    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    budget, turn = method.get("small_data_budget", 1.0), method.get("small_data_turn_2d", 0.0)
    if not (number(budget) and budget > 0):
        raise ConfigError(f"method.small_data_budget must be a number > 0 (a multiple of small_data.samples), "
                          f"got {budget!r}")
    if not (number(turn) and 0 <= turn <= 90):
        raise ConfigError(f"method.small_data_turn_2d must be a number of degrees in [0, 90] (0: no turn), "
                          f"got {turn!r}")
    return float(budget), float(turn)


def _check_partial(schema: type, node: DictConfig, where: str) -> None:
    """Unknown keys of a node that may give only some of the schema's fields (the protocols fill the rest)."""
    fields = set(schema.__dataclass_fields__)
    check_keys(node, fields, where, "Check the spelling.")
