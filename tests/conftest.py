"""Shared fixtures: a tiny cached synthetic dataset and a helper that composes + runs the train entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# The suite's tensors are tiny: one intra-op thread is faster than two fighting over a 2-core CI machine (the whole
# suite took 19 min with the default threads, 8 min with one). Subprocesses inherit the setting.
os.environ.setdefault("OMP_NUM_THREADS", "1")

#: overrides that make any run tiny: 4 subjects, 1 epoch of 2 batches, a short linear probe (the method tests add
#: their own encoder and clip sizes to these)
TINY_RUN = [
    "trainer=debug",
    "progress_bar=false",
    "floor=false",  # the same seed's random encoder through the probes: tested where it is the subject
    "epochs=1",
    "dataset.options.num_subjects=4",
    "method.schedule.batch_size=16",
    "method.linear.epochs=2",
]

#: TINY_RUN plus short clips and a narrow ST-GCN
TINY = [*TINY_RUN, "method.clip.frames=24", "encoder.hidden_channels=8"]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One synthetic cache for the whole session (generation happens once)."""
    return tmp_path_factory.mktemp("skelcl-cache")


def compose_config(overrides: list[str], config: str = "train"):
    """The packaged Hydra config with `overrides`, as the entry points compose it."""
    from hydra import compose, initialize_config_module

    with initialize_config_module("skelcl.conf", version_base="1.3"):
        return compose(config, overrides=overrides)


def compose_train(overrides: list[str], run_dir: Path, cache_dir: Path, config: str = "train"):
    return compose_config([f"+run_dir={run_dir}", f"cache_dir={cache_dir}", *overrides], config)


def run_train(overrides: list[str], run_dir: Path, cache_dir: Path, tiny: list[str] = TINY):
    from skelcl.train import train

    return train(compose_train([*tiny, *overrides], run_dir, cache_dir))


def run_cli(module: str, args: list[str], cwd: Path, cache_dir: Path,
            timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "SKELCL_CACHE": str(cache_dir), "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore",
           "OMP_NUM_THREADS": "1"}  # DDP tests start two processes on a 2-core machine
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return proc
