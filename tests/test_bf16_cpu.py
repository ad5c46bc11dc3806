"""trainer.precision=bf16-mixed on the CPU (bf16 autocast; fast only on CPUs with AMX / AVX512-BF16 units)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from skelcl.cpu_precision import cpu_has_bf16_units
from tests.conftest import TINY, TINY_RUN, run_train

# Without bf16 units (AVX2-only CPUs) bf16 is emulated and each run takes most of a minute: there the ST-GCN and LSTM
# paths are checked (SkeletonCLR, AS-CAL) and the other three methods only where the hardware is.
NEEDS_BF16_UNITS = pytest.mark.skipif(not cpu_has_bf16_units(), reason="no bf16 units (AVX512-BF16 / AMX) on this "
                                      "CPU: emulated bf16 is slow; SkeletonCLR and AS-CAL still run")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["skeletonclr", pytest.param("aimclr", marks=NEEDS_BF16_UNITS),
                                    pytest.param("hiclr", marks=NEEDS_BF16_UNITS),
                                    pytest.param("skeattnclr", marks=NEEDS_BF16_UNITS), "ascal"])
def test_bf16_mixed_pretraining_runs_on_cpu(method, tmp_path, cache_dir):
    tiny, extra = TINY, ["encoder=stgcn", "encoder.hidden_channels=8"] if method == "skeattnclr" else []
    if method == "ascal":  # LSTM encoder; epoch 1 only fills AS-CAL's queue
        tiny, extra = [*TINY_RUN, "method.clip.frames=24"], ["encoder.hidden=32", "epochs=2"]
    run_train([f"method={method}", *extra, "trainer.precision=bf16-mixed", "protocol=[knn]"], tmp_path, cache_dir,
              tiny=tiny)
    rows = json.loads((tmp_path / "results.json").read_text())
    assert rows and all(math.isfinite(r["top1"]) for r in rows)
    assert "precision: bf16-mixed" in (tmp_path / "config.yaml").read_text()
    # the weights stay float32 (mixed precision): only the compute runs in bf16
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert all(v.dtype == torch.float32 for k, v in state.items() if v.is_floating_point())
