"""Recurrent sequence encoder: AS-CAL's LSTM with the "CAE" mean tap, plus GRU / RNN variants.

The whole skeleton of a frame (all coordinates, joints and bodies) is one input vector; the sequence of frames
goes through a sequence-first recurrent net; the representation is a tap over its top-layer outputs. AS-CAL
uses a unidirectional 1-layer LSTM (its class is called `Bi_lstm` but is not bidirectional) and the mean over
all T steps, padded steps included. Config `lstm` is AS-CAL; `bigru` is the bidirectional GRU variant.
"""

from __future__ import annotations

import torch
from torch import nn

from skelcl.augment.ops import clip_lengths
from skelcl.data.layouts import Layout, get_layout

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
TAPS = ("mean", "last", "sum", "clip_mean")


def reshape_for_rnn(x: torch.Tensor) -> torch.Tensor:
    """(N, C, T, V, M) → (T, N, C·V·M); feature index c·(V·M) + v·M + m (AS-CAL `reshap_input_for_lstm`)."""
    n, c, t, v, m = x.shape
    return x.permute(2, 0, 1, 3, 4).reshape(t, n, c * v * m)


class RNNEncoder(nn.Module):
    """(N, C, T, V, M) → (N, hidden · directions).

    tap: 'mean' = CAE, (1/T) Σ_t h_t over all steps (AS-CAL default); 'clip_mean' = the mean over each clip's own
    steps (up to its last nonzero frame: a unidirectional net then reads the clip as if unpadded; the backward half
    of a bidirectional one still reads the padding); 'last' = h_T, the top layer's output at the
    last step (for a bidirectional net the backward half of that output has only seen the last frame, as in the
    reference's `out[-1]`); 'sum' = Σ_t h_t. Zero initial state, no dropout, PyTorch's default initialisation.
    `frames` is informational: frame selection (AS-CAL takes the first T frames) belongs to the data pipeline.
    """

    CAPABILITIES = frozenset()  # pooled features only (skelcl.encoders.contract)

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int = 3,
        frames: int = 150,
        bodies: int = 2,
        hidden: int = 256,
        layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        tap: str = "mean",
    ):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell '{cell}'; known: {sorted(CELLS)}")
        if tap not in TAPS:
            raise ValueError(f"unknown tap '{tap}'; known: {list(TAPS)}")
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.frames = frames
        self.bodies = bodies
        self.tap = tap
        self.input_dim = in_channels * self.layout.num_joints * bodies
        self.rnn = CELLS[cell](self.input_dim, hidden, num_layers=layers, bidirectional=bidirectional)
        self.out_dim = hidden * (2 if bidirectional else 1)

    def forward_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Top-layer outputs for every step: (T, N, out_dim)."""
        _, c, _, v, m = x.shape
        if c * v * m != self.input_dim:
            raise ValueError(
                f"RNNEncoder built for C·V·M = {self.input_dim} ({self.in_channels}·{self.layout.num_joints}·"
                f"{self.bodies}), got input with C={c}, V={v}, M={m}"
            )
        out, _ = self.rnn(reshape_for_rnn(x))
        return out

    def apply_tap(self, seq: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Reduce (T, N, D) outputs to (N, D) with the configured tap (`x`, the input, gives each clip's length)."""
        if self.tap == "clip_mean":  # the steps after a clip's end are left out
            length = clip_lengths(x).clamp(min=1)
            inside = torch.arange(seq.shape[0], device=seq.device)[:, None] < length[None]  # (T, N)
            return (seq * inside[..., None].to(seq.dtype)).sum(dim=0) / length[:, None].to(seq.dtype)
        if self.tap == "mean":
            return seq.mean(dim=0)
        if self.tap == "sum":
            return seq.sum(dim=0)
        return seq[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.apply_tap(self.forward_sequence(x), x)
