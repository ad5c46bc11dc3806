"""The real command lines in subprocesses: strict failure, a 2-job multirun, and 2-process DDP (gloo, CPU)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TINY, run_cli

pytestmark = pytest.mark.slow  # end-to-end runs / entry-point subprocesses


def test_cli_typo_fails_fast(tmp_path, cache_dir):
    proc = run_cli("skelcl.train", ["method.bogus=1"], tmp_path, cache_dir, timeout=120)
    assert proc.returncode != 0
    assert "bogus" in proc.stderr + proc.stdout


def test_multirun_two_jobs_get_their_own_directories(tmp_path, cache_dir):
    proc = run_cli("skelcl.train", ["-m", "seed=1,2", *TINY, "protocol=[knn]", f"hydra.sweep.dir={tmp_path}/sweep"],
                   tmp_path, cache_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = sorted((tmp_path / "sweep").glob("*/results.json"))
    assert len(results) == 2
    seeds = sorted(json.loads(p.read_text())[0]["seed"] for p in results)
    assert seeds == [1, 2]


def test_ddp_two_cpu_processes(tmp_path, cache_dir):
    args = [*TINY, "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.limit_train_batches=2",
            "protocol=[knn]", f"hydra.run.dir={tmp_path}/run"]
    proc = run_cli("skelcl.train", args, tmp_path, cache_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [r["protocol"] for r in rows] == ["knn(k=20)", "knn(k=1)"]  # only rank 0 evaluates and writes results
    log = (tmp_path / "run" / "logs" / "metrics.csv").read_text()
    assert "train/loss" in log
