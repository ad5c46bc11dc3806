"""One training step of every method on each available device and precision, as `scripts/throughput.py` and a GPU
run take it: clips prepared, views drawn and encoded under autocast, loss, backward, optimiser, queue.

On CUDA the step must not wait for the device: `torch.cuda.set_sync_debug_mode("error")` turns any host-device
synchronisation inside `pretrain_loss` (an `.item()`, a data-dependent shape, a CPU copy) into an error. CUDA cases
skip with a reason where no GPU is present; the CPU cases always run.
"""

from __future__ import annotations

import contextlib

import pytest
import torch

from skelcl.build import build_datamodule, build_method, validate
from tests.conftest import compose_config
from tests.methods.test_learning_signal import CASES

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                reason="no CUDA device"))]


@pytest.mark.parametrize("precision", ["32", "bf16"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", sorted(CASES))
def test_one_training_step(method, device, precision, cache_dir):
    cfg = compose_config([f"method={method}", f"cache_dir={cache_dir}", "dataset.options.num_subjects=4",
                          "method.clip.frames=16", "method.model.queue_size=64", *CASES[method]])
    typed = validate(cfg)
    torch.manual_seed(0)
    dm = build_datamodule(typed.dataset, cfg.cache_dir, 16, seed=0)
    dm.setup("fit")
    model = build_method(typed, dm, 1).to(device).train()
    opt = model.configure_optimizers()["optimizer"]
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in next(iter(dm.train_dataloader())).items()}
    before = model.queue.keys.clone()
    no_sync = (lambda: _sync_debug("error")) if device == "cuda" else contextlib.nullcontext
    with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
        x = model.clips(batch)
        with no_sync():
            loss, logs = model.pretrain_loss(x)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    opt.step()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not torch.equal(model.queue.keys, before)  # keys were enqueued on the device
    assert model.queue.keys.device.type == device and int(model.queue.ptr) == 16 % model.queue.size


@contextlib.contextmanager
def _sync_debug(mode: str):
    torch.cuda.set_sync_debug_mode(mode)
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")
