"""trainer.precision=bf16-mixed on the CPU (bf16 autocast; this CPU family has AMX / AVX512-BF16 units)."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import run_train


@pytest.mark.slow
def test_bf16_mixed_pretraining_runs_on_cpu(tmp_path, cache_dir):
    run_train(["trainer.precision=bf16-mixed", "protocol=[knn]"], tmp_path, cache_dir)
    rows = json.loads((tmp_path / "results.json").read_text())
    assert rows and all(math.isfinite(r["top1"]) for r in rows)
    cfg = (tmp_path / "config.yaml").read_text()
    assert "precision: bf16-mixed" in cfg
