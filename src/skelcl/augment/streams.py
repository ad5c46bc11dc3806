"""Input streams (joint / motion / bone), computed on the device from an augmented batch (N, C, T, V, M).

Definitions as in every ST-GCN method's official code: motion is the forward
frame difference with a zero last frame; bone is joint minus its parent, the root's bone being zero.
"""

from __future__ import annotations

import torch

from skelcl.data.layouts import Layout

STREAMS = ("joint", "motion", "bone")


def motion(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(x)
    out[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return out


def bone(x: torch.Tensor, layout: Layout) -> torch.Tensor:
    parents = torch.as_tensor(layout.parents, device=x.device)
    return x - x.index_select(3, parents)


def to_stream(x: torch.Tensor, stream: str, layout: Layout) -> torch.Tensor:
    if stream == "joint":
        return x
    if stream == "motion":
        return motion(x)
    if stream == "bone":
        return bone(x, layout)
    raise ValueError(f"unknown stream '{stream}'; choose one of {STREAMS}")
