"""What both entry points (`skelcl.train`, `skelcl.evaluate`) share: the run directory, the printed config tree,
the console log kept in the run directory, and turning a user error into one line and exit status 1."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.syntax import Syntax
from rich.tree import Tree

from skelcl.checkpoint import CheckpointError
from skelcl.config import ConfigError
from skelcl.data.formats import DataFormatError
from skelcl.data.layouts import LayoutError
from skelcl.divergence import TrainingDiverged


def print_config_tree(cfg: DictConfig, console: Console) -> None:
    tree = Tree("config", guide_style="dim")
    for key, node in cfg.items():
        text = OmegaConf.to_yaml(node, resolve=True) if isinstance(node, DictConfig) else str(node)
        tree.add(f"[bold]{key}[/]").add(Syntax(text, "yaml", background_color="default"))
    console.print(tree)


def run_dir_of(cfg: DictConfig) -> Path:
    try:
        return Path(HydraConfig.get().runtime.output_dir)
    except ValueError:  # composed without @hydra.main (tests)
        return Path(cfg.get("run_dir") or ".")


def save_console_log(console: Console, path: Path, results: Path | None = None) -> None:
    """Append what `console` printed (plain text) and the results table to the run's log file, beside Hydra's
    log records, so the run directory keeps the whole console output."""
    if not path.parent.is_dir():
        return
    text = console.export_text(clear=True)
    if results is not None and results.is_file():
        text += "\n" + results.read_text()
    with open(path, "a") as f:
        f.write(text)


#: errors whose message says what is wrong and how to fix it: printed as one line, without a traceback
USER_ERRORS = (ConfigError, CheckpointError, DataFormatError, LayoutError, TrainingDiverged, FileNotFoundError)


def remove_unused_run_dir(run_dir: Path) -> None:
    """Hydra creates the run directory before the config is checked; drop it again if it holds only Hydra's
    own files, so a rejected command line leaves nothing behind."""
    if run_dir.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
        return  # hydra.run.dir=. or above: never remove the working directory
    if run_dir.is_dir() and all(p.name == ".hydra" or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


def run_reporting_errors(fn, cfg: DictConfig) -> None:
    """Run an entry point; a user error ends the process with its one-line message and exit status 1."""
    try:
        fn(cfg)
    except USER_ERRORS as e:
        if isinstance(e, (ConfigError, CheckpointError)):
            remove_unused_run_dir(run_dir_of(cfg))
        sys.exit(f"error: {e}")
