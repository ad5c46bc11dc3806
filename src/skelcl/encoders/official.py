"""Encoder weights from the official code bases' checkpoints, so their released models can be evaluated with
skelcl's protocols (`python -m skelcl.train pretrain=false init_from=<file> method=... dataset=...`).

The ST-GCN encoder keeps the official module names, so a checkpoint maps onto it by key once the wrapping is
removed. What differs between the code bases:

* a checkpoint is a bare state dict (AimCLR / HiCLR `save_model`) or a dict holding one (`state_dict`, `model`);
  DataParallel adds `module.` to every key;
* the query encoder sits under `encoder_q.` (CrosSCLR, AimCLR, HiCLR) or `encoder_q.backbone.` (SkeAttnCLR);
  a supervised / finetuned model has no prefix;
* heads are not part of skelcl's encoder: `fc.` (projector or classifier) and `neck.` are dropped, like the
  official evaluation's ignore lists;
* HiCLR registers the edge importances as `edge_importance1 ... edge_importance10` (one attribute each) where
  the others use a ParameterList (`edge_importance.0 ... .9`).

Loading is strict: anything missing or left over is an error naming the keys, never a silent partial load
(the official loaders only print them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

HEADS = ("fc.", "neck.")
PREFIXES = ("encoder_q.backbone.", "encoder_q.")  # tried in this order
_HICLR_EDGE = re.compile(r"^edge_importance(\d+)$")


def _unwrap(obj: Mapping, where: str) -> Mapping:
    for key in ("state_dict", "model", "model_state_dict"):
        if key in obj and isinstance(obj[key], Mapping):
            return obj[key]
    if not all(torch.is_tensor(v) for v in obj.values()):
        raise ValueError(f"{where}: not a state dict (values that are not tensors, and no 'state_dict' entry)")
    return obj


def official_encoder_state(raw: Mapping, where: str = "checkpoint") -> dict[str, torch.Tensor]:
    """The query encoder's tensors from an official checkpoint, renamed to skelcl's encoder keys."""
    state = {k.removeprefix("module."): v for k, v in _unwrap(raw, where).items()}
    prefix = next((p for p in PREFIXES if any(k.startswith(p) for k in state)), "")
    out = {}
    for key, value in state.items():
        if not key.startswith(prefix):
            continue  # key encoder, queue, predictors, ...
        key = key[len(prefix):]
        if key.startswith(HEADS):
            continue
        m = _HICLR_EDGE.match(key)
        out[f"edge_importance.{int(m[1]) - 1}" if m else key] = value
    if not out:
        raise ValueError(f"{where}: no encoder weights found (looked under {list(PREFIXES)} and bare keys)")
    return out


def load_encoder_weights(path: str | Path, encoder: nn.Module) -> None:
    """Load an official or skelcl checkpoint's query encoder into `encoder` (strict)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"init_from: checkpoint not found: {path}")
    raw = torch.load(path, map_location="cpu", weights_only=False)  # skelcl .ckpt: unwrapped via 'state_dict'
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected a state dict, found {type(raw).__name__}")
    state = official_encoder_state(raw, str(path))
    hint = "Check encoder= (e.g. stgcn_full for SkeAttnCLR) and the dataset's joint layout."
    try:
        result = encoder.load_state_dict(state, strict=False)
    except RuntimeError as e:  # shape mismatches
        raise ValueError(f"{path}: weights do not fit the configured encoder ({type(encoder).__name__}): "
                         f"{str(e).splitlines()[-1].strip()} {hint}") from None
    problems = []
    if result.missing_keys:
        problems.append(f"missing {result.missing_keys[:8]}{' ...' if len(result.missing_keys) > 8 else ''}")
    if result.unexpected_keys:
        problems.append(f"unexpected {result.unexpected_keys[:8]}"
                        f"{' ...' if len(result.unexpected_keys) > 8 else ''}")
    if problems:
        raise ValueError(f"{path}: weights do not match the configured encoder "
                         f"({type(encoder).__name__}): {'; '.join(problems)}. {hint}")
