"""DSTA-Net, the transformer encoder of HiCLR: spatial self-attention over joints, plain temporal conv.

Structure (HiCLR's `net/dsta.py`, spatial attention on, temporal attention off):
  input: `proj` 1×1 conv C→32, then `input_map` = BN + LeakyReLU(0.1) (kept apart so `fix_conv1` can freeze `proj`);
  8 blocks [in, out, inter, stride]; pool over T'·V and bodies → 256.
Block, for x (n, C_in, T, V) and S = num_subset heads:
  q, k = split(Conv1×1(x + PE)) into S heads of `inter` channels;
  att_s = tanh(Σ_{c,t} q[s,c,t,u]·k[s,c,t,v] / (inter·T)) · α_s      (data-dependent, α_s init 1)
  A = att_s + G_s                                                     (G = learnable global attention, init 1/V)
  y = BN(Conv1×1(concat_s x·A_s));  y = LReLU(down_s1(x) + y)
  y = BN(Conv1×1(y));               y = LReLU(down_s2(x) + y)
  z = BN(Conv(k×1, stride)(y));     z = LReLU(drop(down_t(y)) + z)
where the down_* are identities when shapes match and 1×1 conv + BN otherwise (down_t strided).

Choices, documented because they differ between sources:
* Dropout site (`dropout_on`): HiCLR's code comments out the attention-map dropout of the original DSTA-Net and
  applies `attentiondrop` to the temporal residual branch instead; 'residual' (default) reproduces HiCLR,
  'attention' the original DSTA-Net (dropout on A), 'both' does both.
* Positional encoding: DSTA-Net's spatial PE is a fixed sinusoid of the joint index (identical for every frame),
  added to the queries/keys' input only. Default fixed; `pes_learnable=True` makes it a parameter initialised to
  that sinusoid. Being frame-independent, it works for any T.
* DSTA-Net's constant zero attention buffer and unused temporal-attention modules are omitted; the parameter
  names otherwise follow the reference (`graph_layers.{i}.in_nets`, `alphas`, `attention0s`, `out_nets`,
  `ff_nets`, `out_nett`, `downs1`, `downs2`, `downt2`).
* Init: convs kaiming-normal (fan_out), BN γ=1, β=0, as DSTA-Net; a method may re-initialise with `weights_init`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from skelcl.data.layouts import Layout, get_layout
from skelcl.encoders.stgcn import pool_bodies

# fmt: off
HICLR_BLOCKS: tuple[tuple[int, int, int, int], ...] = (
    (32, 32, 16, 1), (32, 32, 16, 1), (32, 64, 16, 2), (64, 64, 16, 1),
    (64, 128, 32, 2), (128, 128, 32, 1), (128, 128, 32, 1), (128, 256, 32, 1),
)
# fmt: on
DROPOUT_SITES = ("residual", "attention", "both")


def joint_sinusoid(channels: int, num_joints: int) -> torch.Tensor:
    """(1, C, 1, V) sinusoidal encoding of the joint index: sin on even channels, cos on odd ones."""
    pos = torch.arange(num_joints, dtype=torch.float32).unsqueeze(1)  # (V, 1)
    div = torch.exp(torch.arange(0, channels, 2, dtype=torch.float32) * -(math.log(10000.0) / channels))
    pe = torch.zeros(num_joints, channels)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: channels // 2])
    return pe.T.reshape(1, channels, 1, num_joints)


def _conv_bn(cin: int, cout: int, kernel: tuple[int, int] = (1, 1), stride: int = 1) -> nn.Sequential:
    pad = ((kernel[0] - 1) // 2, (kernel[1] - 1) // 2)
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, (stride, 1), pad, bias=True), nn.BatchNorm2d(cout))


class SpatialAttentionBlock(nn.Module):
    """One DSTA block: multi-head spatial attention over joints, then a strided temporal conv (see module doc)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        inter_channels: int,
        stride: int,
        num_joints: int,
        num_subset: int = 3,
        temporal_kernel: int = 7,
        att_s: bool = True,
        glo_reg_s: bool = True,
        use_pes: bool = True,
        pes_learnable: bool = False,
        dropout: float = 0.0,
        dropout_on: str = "residual",
    ):
        super().__init__()
        if not (att_s or glo_reg_s):
            raise ValueError("DSTA block needs att_s or glo_reg_s (otherwise the attention is all zeros)")
        if dropout_on not in DROPOUT_SITES:
            raise ValueError(f"unknown dropout_on '{dropout_on}'; known: {list(DROPOUT_SITES)}")
        if temporal_kernel % 2 != 1:
            raise ValueError(f"temporal_kernel must be odd, got {temporal_kernel}")
        self.in_channels, self.inter_channels, self.num_subset = in_channels, inter_channels, num_subset
        self.use_pes = use_pes
        if use_pes:
            pe = joint_sinusoid(in_channels, num_joints)
            if pes_learnable:
                self.pes = nn.Parameter(pe)
            else:
                self.register_buffer("pes", pe, persistent=False)
        if att_s:
            self.in_nets = nn.Conv2d(in_channels, 2 * num_subset * inter_channels, 1, bias=True)
            self.alphas = nn.Parameter(torch.ones(1, num_subset, 1, 1))
        else:
            self.in_nets = None
        if glo_reg_s:
            self.attention0s = nn.Parameter(torch.full((1, num_subset, num_joints, num_joints), 1.0 / num_joints))
        else:
            self.attention0s = None
        self.out_nets = _conv_bn(in_channels * num_subset, out_channels)
        self.ff_nets = _conv_bn(out_channels, out_channels)
        self.out_nett = _conv_bn(out_channels, out_channels, (temporal_kernel, 1), stride)
        if in_channels != out_channels or stride != 1:
            self.downs1 = _conv_bn(in_channels, out_channels)
            self.downs2 = _conv_bn(in_channels, out_channels)
            self.downt2 = _conv_bn(out_channels, out_channels, (1, 1), stride)
        else:
            self.downs1 = self.downs2 = self.downt2 = nn.Identity()
        self.act = nn.LeakyReLU(0.1)
        p_att = dropout if dropout_on in ("attention", "both") else 0.0
        p_res = dropout if dropout_on in ("residual", "both") else 0.0
        self.drop_att = nn.Dropout(p_att)
        self.drop_res = nn.Dropout(p_res)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """(n, S, V, V) joint-to-joint attention; column v of head s mixes the joints u into joint v."""
        n, _, t, v = x.shape
        att = x.new_zeros(1, self.num_subset, v, v)
        if self.in_nets is not None:
            y = x + self.pes if self.use_pes else x
            qk = self.in_nets(y).view(n, 2 * self.num_subset, self.inter_channels * t, v)
            q, k = qk.chunk(2, dim=1)  # (n, S, inter·T, V) each
            att = att + torch.tanh(q.transpose(2, 3) @ k / (self.inter_channels * t)) * self.alphas
        if self.attention0s is not None:
            att = att + self.attention0s
        return self.drop_att(att.expand(n, -1, -1, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        att = self.attention(x)
        # y[n, s, c, t, v] = Σ_u x[n, c, t, u] · att[n, s, u, v]
        y = (x.reshape(n, 1, c * t, v) @ att).view(n, self.num_subset * c, t, v)
        y = self.act(self.downs1(x) + self.out_nets(y))
        y = self.act(self.downs2(x) + self.ff_nets(y))
        z = self.out_nett(y)
        return self.act(self.drop_res(self.downt2(y)) + z)


class DSTANet(nn.Module):
    """DSTA-Net encoder: (N, C, T, V, M) → (N, 256) with HiCLR's 8-block configuration (see module docstring).

    `attention_dropout` is HiCLR's `attentiondrop` (0.5 in pretraining, 0 in evaluation); where it acts is set by
    `dropout_on`. `fix_conv1` freezes the input projection during pretraining; `for_finetune()` switches a copy to
    HiCLR's evaluation settings (attention dropout 0, `proj` frozen: `fix_conv1: true` in linear and finetune).
    `blocks` overrides the [in, out, inter, stride] plan (its first `in` is the width of the input projection).
    """

    CAPABILITIES = frozenset({"feature_map"})  # skelcl.encoders.contract

    def __init__(
        self,
        layout: Layout | str,
        in_channels: int = 3,
        frames: int = 50,
        bodies: int = 2,
        blocks: tuple | list | None = None,
        num_subset: int = 3,
        attention_dropout: float = 0.0,
        dropout_on: str = "residual",
        temporal_kernel: int = 7,
        att_s: bool = True,
        glo_reg_s: bool = True,
        use_pes: bool = True,
        pes_learnable: bool = False,
        fix_conv1: bool = False,
    ):
        super().__init__()
        self.layout = get_layout(layout)
        self.in_channels = in_channels
        self.frames = frames  # informational: no frame-dependent parameters (temporal attention is off)
        self.bodies = bodies
        plan = [tuple(int(x) for x in b) for b in (HICLR_BLOCKS if blocks is None else blocks)]
        v = self.layout.num_joints
        width = plan[0][0]
        self.out_dim = plan[-1][1]
        self.proj = nn.Conv2d(in_channels, width, 1)
        self.input_map = nn.Sequential(nn.BatchNorm2d(width), nn.LeakyReLU(0.1))
        common = dict(
            num_subset=num_subset,
            temporal_kernel=temporal_kernel,
            att_s=att_s,
            glo_reg_s=glo_reg_s,
            use_pes=use_pes,
            pes_learnable=pes_learnable,
            dropout=attention_dropout,
            dropout_on=dropout_on,
        )
        self.graph_layers = nn.ModuleList(
            SpatialAttentionBlock(cin, cout, inter, stride, v, **common) for cin, cout, inter, stride in plan
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if fix_conv1:
            self.proj.requires_grad_(False)

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """Final feature map (N·M, 256, T', V), sample-major (row n·M + m)."""
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 1, 2, 3).reshape(n * m, c, t, v)
        x = self.input_map(self.proj(x))
        for block in self.graph_layers:
            x = block(x)
        return x

    def for_finetune(self, fix_conv1: bool = True) -> DSTANet:
        """HiCLR's evaluation configuration, applied in place to the (copied) encoder that finetuning trains."""
        for m in self.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
        if fix_conv1:
            self.proj.requires_grad_(False)
        return self

    pool = staticmethod(pool_bodies)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_map(x), x.shape[-1])
