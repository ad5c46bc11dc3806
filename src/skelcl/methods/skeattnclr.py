"""SkeAttnCLR (Hua et al., IJCAI 2023): part-aware contrastive learning.

MoCo with BYOL-style query predictors. Per batch: two normally augmented views x_q, x_k, and x_mix = SkeleMix
body-part swap of x_q (one (parts, frames, partner offset) draw per batch, done on the augmented JOINT view, before
the stream conversion, like `SkeAttnMask.forward`). The query encoder embeds x_q globally (q_z); on x_mix's final
map an attention module (MHSAM) gives a soft per-token, per-channel mask that splits mean pooling into a salient and
a non-salient feature (q_s, q_ns). The key encoder pools its own map of x_k globally (k_z) and with the QUERY's mask
(k_s, k_ns). Three InfoNCE terms share one queue of global keys; q_s and q_ns are each other's detached extra negative:

    L = L_g + mu·L_s + (1 − mu)·L_ns,   tau = 0.2.

Heads: one projector (`mlp_bn`, shared by the three paths; EMA copy on the key side) and three query-only predictors.
The key side needs no MHSAM (it reuses the query's mask), so the EMA pairs are the base ones. Downstream features are
the query encoder's pooled output (evaluation loads the backbone by prefix only).

Quirks of the official code (numbered) and how they are handled:
  1. `predictor_p/_c` vs `predictor_s/_ns` name clash (AttributeError): fixed, the `_s`/`_ns` heads are used.
  2. Evaluation ignore lists miss the dead queues: fixed, evaluation loads `encoder_q.*` only.
  3. Dead salient/non-salient queues and the unused mixed-view global embedding: dropped (no effect on the loss).
  4. Swap ran in evaluation forwards and crashed for N <= 2: fixed, the swap lives in `pretrain_loss` only and the
     `part_swap` op returns its input for N <= 2.
  5. `mu` (default 0.5) is 1.0 for the NTU-60 joint presets, 0.5 elsewhere: kept per preset. With mu = 1 the
     non-salient loss has zero weight, but q_ns is still the extra negative of L_s.
  6. NTU-120 configs read a camera split: the dataset configs use the standard xset; the data side's
     `ntu120_camera_split` flag (not this module) gives the camera split for parity checks.
  9. Finetune in eval mode: `finetune.bn_frozen: true` (faithful default); clipping is not emulated (a no-op there);
     the NTU-120 bone/motion finetune lr 3.0 is treated as a typo (presets use the joint value 0.01).
  10. Key encoder initialised independently (`key_init: independent`) and EMA of the whole state dict incl. BN
     running stats (`ema_scope: state`), after the optimizer step (`momentum_update: after_step`), cosine ramp
     0.996 -> 1 (`momentum_schedule: cosine`), started one epoch in as in the reference, whose iteration count
     uses the 1-based epoch (`momentum_offset_epochs: 1`; 0 starts it at the first step; docs/faithfulness.md).
  11. The key is pooled with the query's mask computed on a different view (x_mix vs x_k): kept, it is the method
     (tested explicitly).
  12. Full-width ST-GCN (`encoder=stgcn_full`, hidden 64) and a (N·M, 8, 400, 400) attention: kept for parity;
     `encoder=stgcn` (hidden 16) is the cheap option, `encoder.hidden_channels` any other width (report it);
     the attention runs through fused SDPA kernels where available (same math).
  7, 8, 13, 14 are framework-level: the final epoch is evaluated and reported (best-on-test only as a labelled
     side note), features are un-augmented and extracted in eval mode, augmentation RNG is per-rank seeded on the
     device, the queue all-gathers under DDP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from skelcl.encoders.contract import require as require_capability
from skelcl.encoders.init import weights_init
from skelcl.methods.attention_mask import AttentionMask, map_to_tokens, mask_pool
from skelcl.methods.base import ContrastiveMethod, build_projector
from skelcl.methods.losses import info_nce, moco_logits, moco_logits_extra_negative


class SkeAttnCLR(ContrastiveMethod):
    """Views: `query`, `key` (normal augmentation of the clips) and `mix` (applied to the augmented query clips,
    joint coordinates, before the stream conversion: the SkeleMix `part_swap`)."""

    view_names = ("query", "key", "mix")

    def __init__(
        self,
        *,
        mu: float = 0.5,
        mask_heads: int = 8,
        mask_scale: float = 2.0,
        mask_qkv_bias: bool = True,
        pred_hidden: int = 256,
        temperature: float = 0.2,
        momentum: float = 0.996,
        momentum_schedule: str = "cosine",
        momentum_offset_epochs: int = 1,
        ema_scope: str = "state",
        momentum_update: str = "after_step",
        projector: str = "mlp_bn",
        init: str = "normal",
        **kwargs,
    ) -> None:
        super().__init__(temperature=temperature, momentum=momentum, momentum_schedule=momentum_schedule,
                         momentum_offset_epochs=momentum_offset_epochs, ema_scope=ema_scope,
                         momentum_update=momentum_update, projector=projector, init=init, **kwargs)
        if not 0.0 <= mu <= 1.0:
            raise ValueError(f"SkeAttnCLR: mu={mu} must lie in [0, 1] (L = L_g + mu L_s + (1 - mu) L_ns)")
        require_capability(self.encoder_q, "feature_map", "SkeAttnCLR", "its attention pools the pre-pool map")
        self.mu = float(mu)
        self.mhsam = AttentionMask(self.feature_dim, mask_heads, mask_scale, mask_qkv_bias)
        # query-only predictors (global, salient, non-salient): Linear-BN-ReLU-Linear without biases
        self.predictor = build_projector("mlp_bn", self.embed_dim, pred_hidden, self.embed_dim)
        self.predictor_s = build_projector("mlp_bn", self.embed_dim, pred_hidden, self.embed_dim)
        self.predictor_ns = build_projector("mlp_bn", self.embed_dim, pred_hidden, self.embed_dim)
        if init == "normal":  # the reference applies weights_init to the whole model (LayerNorm untouched)
            for m in (self.mhsam, self.predictor, self.predictor_s, self.predictor_ns):
                m.apply(weights_init)

    # ------------------------------------------------------------------ pieces (also test hooks)
    def _unit(self, z: torch.Tensor) -> torch.Tensor:
        return F.normalize(z, dim=1) if self.normalize else z

    def draw_views(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_q, x_k, x_mix) in the configured stream; the swap acts on the augmented joint view of x_q."""
        g = self.generator
        xq = self.views["query"](x, g)
        xk = self.views["key"](x, g)
        xmix = self.views["mix"](xq, g)
        return tuple(self.inputs.to_stream(v) for v in (xq, xk, xmix))

    def query_global(self, xq: torch.Tensor) -> torch.Tensor:
        """q_z = l2(predictor(proj(f_g))), f_g = GAP over (T', V) and bodies."""
        z = self.predictor(self.projector_q(self.encoder_q(xq)))
        self.monitor_collapse(z)
        return self._unit(z)

    def query_parts(self, xmix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(q_s, q_ns, mask) of the mixed view; mask (N·M, L, D) is what the key side pools with."""
        tokens = map_to_tokens(self.encoder_q.forward_map(xmix))
        mask = self.mhsam(tokens)
        f_s, f_ns = mask_pool(tokens, mask, xmix.shape[-1])
        q_s = self._unit(self.predictor_s(self.projector_q(f_s)))
        q_ns = self._unit(self.predictor_ns(self.projector_q(f_ns)))
        return q_s, q_ns, mask

    @torch.no_grad()
    def key_embeddings(self, xk: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(k_z, k_s, k_ns): the key encoder's map of x_k pooled globally and with the query's (detached) mask."""
        if self.momentum_update_at == "before_key" and self.learning_now:
            self.momentum_update()
        fmap = self.encoder_k.forward_map(xk)
        f_s, f_ns = mask_pool(map_to_tokens(fmap), mask.detach(), xk.shape[-1])
        f_g = self.encoder_k.pool(fmap, xk.shape[-1])
        return tuple(self._unit(self.projector_k(f)) for f in (f_g, f_s, f_ns))

    # ------------------------------------------------------------------ loss
    def pretrain_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        xq, xk, xmix = self.draw_views(x)
        q_z = self.query_global(xq)
        q_s, q_ns, mask = self.query_parts(xmix)
        k_z, k_s, k_ns = self.key_embeddings(xk, mask)
        queue, tau = self.queue.keys, self.temperature
        logits_g = moco_logits(q_z, k_z, queue, tau)
        logits_s = moco_logits_extra_negative(q_s, k_s, queue, q_ns, tau)
        logits_ns = moco_logits_extra_negative(q_ns, k_ns, queue, q_s, tau)
        self.queue.enqueue(k_z)  # only the global keys are ever read (quirk 3)
        loss_g, loss_s, loss_ns = info_nce(logits_g), info_nce(logits_s), info_nce(logits_ns)
        loss = loss_g + self.mu * loss_s + (1 - self.mu) * loss_ns
        logs = {
            "loss_global": loss_g,
            "loss_salient": loss_s,
            "loss_nonsalient": loss_ns,
            "instance_acc": (logits_g.argmax(dim=1) == 0).float().mean(),
            "mask_mean": mask.detach().mean(),
        }
        return loss, logs
