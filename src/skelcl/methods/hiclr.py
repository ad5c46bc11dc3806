"""HiCLR: hierarchical consistent contrastive learning with growing augmentations (Zhang et al., AAAI 2023).

MoCo v2 with one key branch and three query branches of growing augmentation strength:

    query     basic augmentation (BA: temporal crop + shear)              -> q0
    key       BA, momentum encoder                                         -> k
    stronger  BA + normal augmentation (NA: flip, rotate, noise, blur, axis mask)  -> q1
    strongest BA + NA, then the random joint mask with a learnable fill  -> q2

With p_i = softmax([q_i.k, q_i.Q] / tau) the loss is

    L = L_nce(p0)  (or, after `mining_epoch`, AimCLR's NNM multi-positive loss on branch 0)
        + (H(sg(p0), p1) + H(sg(p1), p2)) / 2

so each weaker branch's similarity distribution is a detached target for the next stronger one: the hard views
learn from the easy ones, never the reverse. The joint mask is applied after the stream conversion (it masks
motion / bone values for those streams), and its fill value `mask_param` is a learnable scalar trained by SGD
(with weight decay, like every parameter) through q2 only; it is not part of the EMA and not touched by
`weights_init`.

Quirks of the official code (JHang2020/HiCLR @49ffdf8) and how they are handled here:

- `nested_views` (default false, faithful): each branch is an independent draw from its recipe ("growing" is
  distributional). true = an ablation that applies the extra ops of `stronger` to the query view and those of
  `strongest` to the stronger view (see `nested_tail`).
- `mask_per_sample` (default false, faithful): one (T, V) joint mask per iteration, shared by every sample, body
  and channel. It is drawn on the device from the method's seeded generator (the original used Python `random`
  on the CPU).
- Learnable mask token with weight decay, masking after the stream conversion: kept as is.
- AimCLR's augmentation quirks (unnormalised blur, flip without reflection, one-sided rotation, noise in the
  empty body slot) are op parameters in the method config: `normalize: false`, `reflect_coords: false`,
  `symmetric: false`, `mask_empty_bodies: false` (faithful).
- `key_init: independent` (base class; faithful: weights_init undoes the q->k copy) or `copy`.
- `log(softmax)` -> log_softmax; DataParallel queue bug -> the queue all-gathers under DDP; worker reseeding ->
  augmentation runs on the device from a per-rank seeded, checkpointed generator. Best-test-epoch reporting,
  test-set ensemble weights and missing-key checks are handled by the framework's protocols.
- DAE (drop / add graph edges) and SkeleAdaIN exist in the official code but are off at HEAD: here they are
  optional strong augmentations of the strongest branch, off by default (`dae_drop`, `dae_add`, `skele_adain`).
  DAE perturbs the ST-GCN adjacency per layer; other encoders have no adjacency and reject it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from skelcl.augment import ops
from skelcl.augment.views import View, build_view
from skelcl.encoders.contract import require as require_capability
from skelcl.methods.base import ContrastiveMethod
from skelcl.methods.losses import (
    distribution_consistency,
    info_nce,
    moco_logits,
    multi_positive_nce,
    nearest_neighbour_positives,
)


def hierarchical_losses(
    q0: torch.Tensor,
    q1: torch.Tensor,
    q2: torch.Tensor,
    k: torch.Tensor,
    queue: torch.Tensor,
    temperature: float,
    mining: bool = False,
    topk: int = 1,
    nnm_loss: str = "mean_log",
) -> dict[str, torch.Tensor]:
    """HiCLR's loss terms for the three query embeddings, the key and the queue (rows (K, D), pre-enqueue).

    Returns `contrast` (InfoNCE on branch 0, or NNM once `mining`), `h1` = H(sg(p0), p1), `h2` = H(sg(p1), p2),
    `loss` = contrast + (h1 + h2) / 2, the branch-0 `logits` and, when mining, the `positives` mask.
    """
    logits = [moco_logits(q, k, queue, temperature) for q in (q0, q1, q2)]
    out = {
        "h1": distribution_consistency(logits[0], logits[1]),
        "h2": distribution_consistency(logits[1], logits[2]),
        "logits": logits[0],
    }
    if mining:
        positives = nearest_neighbour_positives([q0, q1, q2], queue, topk)
        out["positives"] = positives
        out["contrast"] = multi_positive_nce(logits[0], positives, nnm_loss)
    else:
        out["contrast"] = info_nce(logits[0])
    out["loss"] = out["contrast"] + (out["h1"] + out["h2"]) / 2
    return out


def perturb_adjacency(a: torch.Tensor, drop: float, add: float, g: torch.Generator | None) -> torch.Tensor:
    """DAE on one layer's adjacency (K, V, V); one random draw per call, shared by the whole batch.

    drop: dropout with rate r ~ U(0, drop) on the entries, kept ones scaled by 1/(1 - r) (official `drop_graph`).
    add: with r ~ U(0, add), switch on each absent entry with probability r, then rescale so the total weight is
    unchanged (official `randadd`).
    """
    if drop > 0:
        r = torch.rand((), generator=g, device=a.device, dtype=a.dtype) * drop  # stays on the device: no sync
        keep = torch.rand(a.shape, generator=g, device=a.device, dtype=a.dtype) >= r
        a = a * keep.to(a.dtype) / (1 - r)
    if add > 0:
        r = torch.rand((), generator=g, device=a.device, dtype=a.dtype) * add
        new = (torch.rand(a.shape, generator=g, device=a.device, dtype=a.dtype) < r) & (a == 0)
        total = a.sum()
        a = (a + new.to(a.dtype)) * (total / (total + new.sum()))
    return a


def nested_tail(outer: View, inner: View) -> View:
    """The ops of `outer` after its longest common prefix with `inner`: what a nested chain adds on top of the
    weaker view (e.g. stronger = BA + NA, query = BA -> NA)."""
    n = 0
    while n < min(len(outer.specs), len(inner.specs)) and outer.specs[n] == inner.specs[n]:
        n += 1
    tail = [{k: v for k, v in spec.items() if k != "layout"} for spec in outer.specs[n:]]
    return build_view(tail, outer.layout)


class HiCLR(ContrastiveMethod):
    """See the module docstring. Method-specific keyword arguments:

    mining_epoch: last epoch (1-based, of the reference schedule; rescaled for shorter runs) with InfoNCE; NNM
        after it. topk, nnm_loss: NNM positives per branch and its form (mean_log = code, log_sum = AimCLR paper).
    mask_ratio: fraction of joints masked per frame (floor(V * ratio) joints). mask_per_sample: one mask per sample
        instead of one per batch. nested_views: nested instead of independent growing views (ablation).
    dae_drop, dae_add: maximum edge drop / add rates for the strongest branch (ST-GCN only; 0 = off).
    skele_adain: probability of SkeleAdaIN on the strongest branch, after the stream conversion (0 = off).
    """

    view_names = ("query", "key", "stronger", "strongest")

    def __init__(
        self,
        *,
        mining_epoch: int = 150,
        topk: int = 1,
        nnm_loss: str = "mean_log",
        mask_ratio: float = 0.1,
        mask_per_sample: bool = False,
        nested_views: bool = False,
        dae_drop: float = 0.0,
        dae_add: float = 0.0,
        skele_adain: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if nnm_loss not in ("mean_log", "log_sum"):
            raise ValueError(f"HiCLR: nnm_loss={nnm_loss!r}; choose 'mean_log' or 'log_sum'")
        if not 0.0 <= mask_ratio <= 1.0:
            raise ValueError(f"HiCLR: mask_ratio must lie in [0, 1], got {mask_ratio}")
        for name, rate in (("dae_drop", dae_drop), ("dae_add", dae_add)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"HiCLR: {name} must lie in [0, 1), got {rate}")
        if not 0.0 <= skele_adain <= 1.0:
            raise ValueError(f"HiCLR: skele_adain is a probability in [0, 1], got {skele_adain}")
        if dae_drop > 0 or dae_add > 0:
            require_capability(self.encoder_q, "graph", "HiCLR's DAE (dae_drop / dae_add > 0; set both to 0 to run "
                               "without it)", "it perturbs the graph adjacency")
        self.mining_epoch, self.topk, self.nnm_loss = mining_epoch, topk, nnm_loss
        self.mask_ratio, self.mask_per_sample = mask_ratio, mask_per_sample
        self.dae_drop, self.dae_add, self.skele_adain_p = dae_drop, dae_add, skele_adain
        self.nested_views = nested_views
        if nested_views:
            self.nested_tails = nn.ModuleDict({
                "stronger": nested_tail(self.views["stronger"], self.views["query"]),
                "strongest": nested_tail(self.views["strongest"], self.views["stronger"]),
            })
        # the mask token: a learnable scalar fill, trained through q2 only (not EMA'd, not re-initialised)
        self.mask_param = nn.Parameter(torch.zeros(()))

    # ------------------------------------------------------------------ views
    def nnm_active(self, epoch: int | None = None) -> bool:
        """NNM replaces InfoNCE from 1-based epoch mining_epoch + 1 (epoch 151 of 300), i.e. 0-based epoch >=
        mining_epoch, both rescaled to this run's length."""
        epoch = self.current_epoch if epoch is None else epoch
        return epoch >= self.scaled_epoch(self.mining_epoch)

    def strong_augment(self, x: torch.Tensor) -> torch.Tensor:
        """The strong augmentation on stream values: optional SkeleAdaIN, then the joint mask filled with
        `mask_param` (x * G + (1 - G) * w)."""
        if self.skele_adain_p > 0:
            x = ops.skele_adain(x, self.generator, p=self.skele_adain_p)
        return ops.joint_mask(x, self.generator, self.mask_ratio, fill=self.mask_param, shared=not self.mask_per_sample)

    def draw_views(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The four model inputs of prepared clips x, stream-converted; the strongest one masked."""
        g = self.generator
        raw = {"query": self.views["query"](x, g), "key": self.views["key"](x, g)}
        if self.nested_views:
            raw["stronger"] = self.nested_tails["stronger"](raw["query"], g)
            raw["strongest"] = self.nested_tails["strongest"](raw["stronger"], g)
        else:
            raw["stronger"] = self.views["stronger"](x, g)
            raw["strongest"] = self.views["strongest"](x, g)
        out = {name: self.inputs.to_stream(v) for name, v in raw.items()}
        out["strongest"] = self.strong_augment(out["strongest"])
        return out

    # ------------------------------------------------------------------ DAE
    @contextlib.contextmanager
    def edge_perturbation(self) -> Iterator[None]:
        """While active, every ST-GCN block of the query encoder sees a freshly perturbed adjacency
        (DAE(A) * edge importance) instead of A * edge importance; a no-op when DAE is off."""
        if self.dae_drop <= 0 and self.dae_add <= 0:
            yield
            return
        enc = self.encoder_q

        def make_hook(i: int):
            def hook(module: nn.Module, args: tuple) -> tuple:
                a = perturb_adjacency(enc.A, self.dae_drop, self.dae_add, self.generator)
                if enc.edge_importance is not None:
                    a = a * enc.edge_importance[i]
                return (args[0], a)

            return hook

        handles = [b.register_forward_pre_hook(make_hook(i)) for i, b in enumerate(enc.st_gcn_networks)]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    # ------------------------------------------------------------------ loss
    def pretrain_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        v = self.draw_views(x)
        q0 = self.embed_q(v["query"])
        q1 = self.embed_q(v["stronger"])
        with self.edge_perturbation():
            q2 = self.embed_q(v["strongest"])
        k = self.embed_k(v["key"])  # EMA step first (momentum_update=before_key), as in the official forward
        queue = self.queue.keys.detach().clone()
        self.queue.enqueue(k)
        mining = self.nnm_active()
        out = hierarchical_losses(q0, q1, q2, k, queue, self.temperature, mining, self.topk, self.nnm_loss)
        logs = {
            "loss_nnm" if mining else "loss_nce": out["contrast"],
            "loss_h1": out["h1"],
            "loss_h2": out["h2"],
            "instance_acc": (out["logits"].argmax(dim=1) == 0).float().mean(),
            "mask_param": self.mask_param.detach(),
        }
        return out["loss"], logs
