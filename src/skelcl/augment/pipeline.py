"""The one path from a stored batch to an encoder's input, shared by pretraining, feature extraction and finetuning.

    batch -> clips (frame count, canonical body frame; deterministic) -> [augmented views, in joint space]
          -> stream (joint / motion / bone) -> encoder

Augmentation sits between the two stages because every op is defined on joint coordinates; methods that
augment after the stream conversion (HiCLR's learnable mask) do so on `to_stream`'s output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from skelcl.augment.clips import ClipSpec, prepare_clips
from skelcl.augment.streams import to_stream
from skelcl.data.layouts import Layout


@dataclass(frozen=True)
class ModelInput:
    spec: ClipSpec
    layout: Layout
    stream: str

    def clips(self, batch: dict) -> torch.Tensor:
        """Stored, zero-padded clips with their lengths -> (N, C, T, V, M) at the model's frame count."""
        return prepare_clips(batch["x"], batch["length"], self.spec, self.layout)

    def to_stream(self, x: torch.Tensor) -> torch.Tensor:
        """Joint-space clips (augmented or not) -> the configured input stream."""
        return to_stream(x, self.stream, self.layout)

    def __call__(self, batch: dict) -> torch.Tensor:
        """Un-augmented encoder input (feature extraction, evaluation)."""
        return self.to_stream(self.clips(batch))
