"""AimCLR (Guo et al., AAAI 2022): MoCo v2 plus an extremely augmented view, distilled from the normal one.

Why it works: strong augmentations (flip, rotation, noise, blur, axis mask on top of crop + shear) expose new movement
patterns but break plain InfoNCE, so the extreme queries are trained to match the normal query's *distribution* over
[key; queue] (D3M) instead of a one-hot target; EADM drops the extreme view's most salient features so the encoder
also learns from the rest; after the mining epoch, NNM adds each query's nearest queue neighbour as extra positives.

Per step: z = f_q(x_q); one backbone pass on x_e gives z_e = g(pool(F)) and z_ed = g(pool(EADM(F)))
through the same projector g; EMA step; k = f_k(x_k). With ℓ(u) = [u·k, u·Q]/τ:
    L_D = (H(sg(p), p_e) + H(sg(p), p_ed)) / 2,  p = softmax(ℓ(z))     (every epoch)
    L = InfoNCE(ℓ(z)) + L_D                       1-based epochs ≤ mining_epoch
    L = NNM(ℓ(z), P) + L_D                        afterwards; P = {0} ∪ top-k queue indices of z, z_e, z_ed
Only k (never the extreme queries) is enqueued, after the logits are computed.

Quirks of the official code; defaults are the official code's, flags offer the fix:
- blur_normalize (false): the official blur kernel is not normalised (gain 1-5x, faded edges). Faithful by project rule,
  so the method default is false even though the op's framework default (`gaussian_blur(normalize=True)`) is true;
  the published numbers were produced with the un-normalised kernel.
- flip_reflect_coords (false): the spatial flip swaps left/right joint labels without negating x.
- noise_mask_empty_bodies (false): noise is added to absent (all-zero) body slots too; true keeps them zero.
- eadm_legacy_noop (false): HEAD's EADM; true = the pre-d12da71 no-op EADM. The pre-f12a092 release's fixed
  order with time reversal is `extreme_ops(legacy_release=True)` / the commented list in conf/method/aimclr.yaml.
- key_init (independent): weights_init re-draws f_k after the q->k copy; `copy` is standard MoCo.
- nnm_loss (mean_log): the code averages log-probabilities over positives; `log_sum` is the paper's log Σ p.
- D3M uses log_softmax instead of log(softmax) (a plain numerical fix); the queue is all-gathered under DDP (the
  official DataParallel code wrote only device 0's keys); augmentation is float32 on the device.
The three augmentation flags are written into every matching op of the configured views, so each lives in one place;
setting the same op parameter differently in a view is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor

from skelcl.augment.views import op_spec, to_plain
from skelcl.encoders.contract import require as require_capability
from skelcl.methods.base import ContrastiveMethod
from skelcl.methods.eadm import EADM
from skelcl.methods.losses import (
    distribution_consistency,
    info_nce,
    moco_logits,
    multi_positive_nce,
    nearest_neighbour_positives,
)

NNM_MODES = ("mean_log", "log_sum")

#: quirk flag -> (op name, op parameter) it sets
QUIRK_OP_PARAMS: dict[str, tuple[str, str]] = {
    "blur_normalize": ("gaussian_blur", "normalize"),
    "flip_reflect_coords": ("flip", "reflect_coords"),
    "noise_mask_empty_bodies": ("gaussian_noise", "mask_empty_bodies"),
}


# ---------------------------------------------------------------------------------------------- augmentation recipes
def normal_ops() -> list[dict[str, Any]]:
    """AimCLR's normal augmentation (x_q, x_k): reflected-border temporal shift then shear."""
    return [{"op": "temporal_crop", "pad_ratio": 6}, {"op": "shear", "amplitude": 0.5}]


def extreme_ops(
    aug_method: str = "12345",
    *,
    blur_normalize: bool = False,
    flip_reflect_coords: bool = False,
    noise_mask_empty_bodies: bool = False,
    legacy_release: bool = False,
) -> list[dict[str, Any]]:
    """The extreme view as an op list, for AimCLR and any method that wants it.

    Normal ops, then by `aug_method` digit: 1 flip (p .5), 2 rotate (always), 3 noise (p .5), 4 blur (p .5),
    5 axis mask (p .5), 6 time reversal (p .5; off at HEAD). legacy_release=True: the December-2021 release's fixed
    order flip -> rotate -> time reversal -> noise -> blur -> axis mask (all six, aug_method ignored)."""
    by_digit = {
        "1": {"op": "flip", "p": 0.5, "reflect_coords": flip_reflect_coords},
        "2": {"op": "rotate", "max_angle": 30.0, "minor_angle": 1.0, "mode": "aimclr", "symmetric": False, "p": 1.0},
        "3": {"op": "gaussian_noise", "std": 0.01, "p": 0.5, "mask_empty_bodies": noise_mask_empty_bodies},
        "4": {"op": "gaussian_blur", "p": 0.5, "sigma": [0.1, 2.0], "kernel": 15, "normalize": blur_normalize},
        "5": {"op": "axis_mask", "p": 0.5},
        "6": {"op": "time_reverse", "p": 0.5},
    }
    unknown = sorted(set(aug_method) - set(by_digit))
    if unknown:
        raise ValueError(f"aug_method {aug_method!r}: unknown digit(s) {unknown}; valid digits 1-6")
    order = "126345" if legacy_release else "".join(d for d in "123456" if d in aug_method)
    return normal_ops() + [dict(by_digit[d]) for d in order]


def apply_quirk_flags(views: Mapping[str, Sequence[Any]], **flags: bool) -> dict[str, list[dict[str, Any]]]:
    """Copy of `views` with each flag (QUIRK_OP_PARAMS) written into every op it governs; a view that already sets
    that parameter to a different value is a config conflict."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, specs in to_plain(dict(views)).items():
        patched = []
        for spec in to_plain(specs) or []:
            spec = dict(op_spec(to_plain(spec)))
            for flag, value in flags.items():
                op, param = QUIRK_OP_PARAMS[flag]
                if spec.get("op") != op:
                    continue
                if param in spec and bool(spec[param]) != bool(value):
                    raise ValueError(f"AimCLR view '{name}': op '{op}' sets {param}={spec[param]} but the method "
                                     f"flag {flag}={value}; set it once, via the flag")
                spec[param] = bool(value)
            patched.append(spec)
        out[name] = patched
    return out


# ---------------------------------------------------------------------------------------------- loss
def aimclr_loss(
    logits: Tensor,
    logits_e: Tensor,
    logits_ed: Tensor,
    positives: Tensor | None = None,
    nnm_mode: str = "mean_log",
) -> tuple[Tensor, dict[str, Tensor]]:
    """L = contrastive + (D3M_e + D3M_ed)/2 on (N, 1+K) logits of z, z_e, z_ed.

    positives None: contrastive = InfoNCE; a bool (N, 1+K) NNM mask: the multi-positive loss (mode `nnm_mode`).
    The D3M target is softmax of the single-positive `logits`, detached."""
    loss_e = distribution_consistency(logits, logits_e)
    loss_ed = distribution_consistency(logits, logits_ed)
    d3m = (loss_e + loss_ed) / 2
    if positives is None:
        contrast = info_nce(logits)
        n_pos = torch.ones((), device=logits.device)
    else:
        contrast = multi_positive_nce(logits, positives, nnm_mode)
        n_pos = positives.sum(dim=1).float().mean()
    logs = {
        "loss_contrast": contrast.detach(),
        "loss_d3m": d3m.detach(),
        "loss_d3m_e": loss_e.detach(),
        "loss_d3m_ed": loss_ed.detach(),
        "nnm_active": torch.tensor(float(positives is not None), device=logits.device),
        "nnm_positives": n_pos,
        "instance_acc": (logits.detach().argmax(dim=1) == 0).float().mean(),
    }
    return contrast + d3m, logs


# ---------------------------------------------------------------------------------------------- method
class AimCLR(ContrastiveMethod):
    """See module docstring. Extra kwargs: mining_epoch (1-based reference epoch after which NNM replaces InfoNCE,
    rescaled to the run's length), topk (neighbours per query), nnm_loss, EADM's drop_threshold θ / eadm_lambda /
    eadm_legacy_noop, and the augmentation quirk flags."""

    view_names = ("query", "key", "extreme")

    def __init__(
        self,
        *,
        views: Any = None,
        mining_epoch: int = 150,
        topk: int = 1,
        nnm_loss: str = "mean_log",
        drop_threshold: float = 0.7,
        eadm_lambda: float = 1e-4,
        eadm_legacy_noop: bool = False,
        blur_normalize: bool = False,
        flip_reflect_coords: bool = False,
        noise_mask_empty_bodies: bool = False,
        **kwargs: Any,
    ) -> None:
        if nnm_loss not in NNM_MODES:
            raise ValueError(f"AimCLR: nnm_loss={nnm_loss!r}; choose one of {NNM_MODES}")
        if topk < 1:
            raise ValueError(f"AimCLR: topk must be >= 1, got {topk}")
        flags = {"blur_normalize": blur_normalize, "flip_reflect_coords": flip_reflect_coords,
                 "noise_mask_empty_bodies": noise_mask_empty_bodies}
        super().__init__(views=apply_quirk_flags(views or {}, **flags), **kwargs)
        require_capability(self.encoder_q, "feature_map", "AimCLR", "its EADM drops entries of the pre-pool map")
        self.mining_epoch, self.topk, self.nnm_loss = mining_epoch, topk, nnm_loss
        self.eadm = EADM(drop_threshold, eadm_lambda, eadm_legacy_noop)
        self._nnm_logged: bool | None = None

    def nnm_active(self, epoch: int | None = None) -> bool:
        """NNM replaces InfoNCE from 1-based epoch mining_epoch + 1 (0-based `epoch` >= the rescaled mining epoch)."""
        epoch = self.current_epoch if epoch is None else epoch
        return epoch >= self.scaled_epoch(self.mining_epoch)

    def embed_extreme(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(z_e, z_ed): one backbone pass; the pooled map and the pooled EADM-dropped map through the same projector."""
        fmap = self.encoder_q.forward_map(x)
        bodies = x.shape[-1]
        z_e = self.projector_q(self.encoder_q.pool(fmap, bodies))
        z_ed = self.projector_q(self.encoder_q.pool(self.eadm(fmap), bodies))
        if self.normalize:
            z_e, z_ed = F.normalize(z_e, dim=1), F.normalize(z_ed, dim=1)
        return z_e, z_ed

    def pretrain_loss(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        z = self.embed_q(self.view("query", x))
        z_e, z_ed = self.embed_extreme(self.view("extreme", x))
        k = self.embed_k(self.view("key", x))  # EMA step first (momentum_update: before_key)
        queue = self.queue.keys
        logits = [moco_logits(u, k, queue, self.temperature) for u in (z, z_e, z_ed)]
        positives = nearest_neighbour_positives([z, z_e, z_ed], queue, self.topk) if self.nnm_active() else None
        loss, logs = aimclr_loss(*logits, positives=positives, nnm_mode=self.nnm_loss)
        self.queue.enqueue(k)
        return loss, logs

    def on_train_epoch_start(self) -> None:
        active = self.nnm_active()
        if active != self._nnm_logged:
            term = f"NNM (top-{self.topk}, {self.nnm_loss})" if active else "InfoNCE"
            rank_zero_info(f"AimCLR epoch {self.current_epoch + 1}: contrastive term = {term}, plus D3M")
            self._nnm_logged = active
