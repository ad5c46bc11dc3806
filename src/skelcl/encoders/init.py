"""The CrosSCLR-lineage initialiser (`processor/pretrain.py::weights_init`), applied with `model.apply`.

AimCLR, HiCLR and SkeAttnCLR call it on the whole MoCo model (query and key encoders, heads), which is also why
their key encoder does not start as a copy of the query encoder.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

STD = 0.02


@torch.no_grad()
def weights_init(module: nn.Module) -> None:
    """Conv1d/Conv2d/Linear: weight ~ N(0, 0.02²), bias = 0. BatchNorm (any): γ ~ N(1, 0.02²), β = 0.

    Everything else is left alone: LayerNorm, LSTM/GRU weights, raw parameters such as ST-GCN's edge importance
    or DSTA-Net's attention terms (they are not modules of these types). Non-recursive by design: use
    `model.apply(weights_init)`.
    """
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
        module.weight.normal_(0.0, STD)
        if module.bias is not None:
            module.bias.zero_()
    elif isinstance(module, _BatchNorm):
        if module.weight is not None:
            module.weight.normal_(1.0, STD)
        if module.bias is not None:
            module.bias.zero_()
