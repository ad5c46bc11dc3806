"""bf16 on a CPU pays only where the CPU computes in bf16 (AVX512-BF16 / AMX: recent Xeons, Zen 4 and later).

Elsewhere (AVX2-only CPUs) PyTorch converts every bf16 operand to float32 and back: `trainer.precision=bf16-mixed`
then runs several times slower than fp32 (docs/performance.md) with no warning from torch or Lightning. The training
command says so at start instead.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger("skelcl")


def cpu_has_bf16_units() -> bool:
    """What torch reports (private helpers); a torch without them is given the benefit of the doubt: no warning."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    checks = [check for check in checks if check is not None]
    return not checks or any(bool(check()) for check in checks)


def warn_if_bf16_emulated(precision: str | int | None, on_cpu: bool) -> bool:
    """Warn (and return True) when bf16 precision would run on a CPU without bf16 units."""
    if not on_cpu or "bf16" not in str(precision) or cpu_has_bf16_units():
        return False
    log.warning("trainer.precision=%s on a CPU without bf16 units (no AVX512-BF16 / AMX): every bf16 operation is "
                "emulated and the run will be several times slower than fp32; use trainer.precision=32-true",
                precision)
    return True
