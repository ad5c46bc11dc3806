"""ContrastiveMethod: the shared MoCo machinery every method builds on.

A method subclass declares its views (augmentation recipes) and implements `pretrain_loss`; this class owns
everything else: query/key encoders and projectors, momentum (EMA) update, the negative queue, on-device
clip preparation + augmentation + stream conversion, optimiser and LR schedule, RNG state for exact resume,
and the frozen-feature `embed` used by evaluation.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import nn

from skelcl.augment.clips import ClipSpec
from skelcl.augment.pipeline import ModelInput
from skelcl.augment.views import build_view
from skelcl.config import ClipConfig, ScheduleConfig
from skelcl.data.layouts import Layout
from skelcl.encoders.contract import check_encoder
from skelcl.encoders.init import weights_init
from skelcl.methods.collapse import mean_pairwise_cosine
from skelcl.methods.queue import NegativeQueue
from skelcl.schedules import lr_factor


def build_projector(kind: str, in_dim: int, hidden: int, out_dim: int) -> nn.Module:
    """mlp: Linear-ReLU-Linear (CrosSCLR/AimCLR/HiCLR); mlp_bn: Linear-BN-ReLU-Linear without biases
    (SkeAttnCLR's 1x1-conv projector); mlp_bn_out: mlp_bn plus a non-affine BN on the output (MoCo v3 style: the
    embeddings are batch-centred, so they cannot all point one way; used by experiment=skeletonclr_quick);
    none: identity (AS-CAL's CAE is the embedding)."""
    if kind == "mlp":
        return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim))
    if kind in ("mlp_bn", "mlp_bn_out"):
        layers = [nn.Linear(in_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                  nn.Linear(hidden, out_dim, bias=False)]
        if kind == "mlp_bn_out":
            layers.append(nn.BatchNorm1d(out_dim, affine=False))
        return nn.Sequential(*layers)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown projector '{kind}'; choose mlp, mlp_bn, mlp_bn_out or none")


class ContrastiveMethod(L.LightningModule):
    """Base class; see module docstring. Keyword arguments are the method config's `model` node plus what the
    framework supplies (layout, num_classes, bodies, encoder, stream, clip, schedule, run_epochs, seed)."""

    #: names of the views this method draws; the config's `views` must define exactly these
    view_names: tuple[str, ...] = ("query", "key")

    def __init__(
        self,
        *,
        layout: Layout,
        num_classes: int,
        bodies: int,
        encoder: Any,
        channels: int = 3,
        stream: str = "joint",
        clip: Any = None,
        schedule: Any = None,
        run_epochs: int | None = None,
        seed: int = 0,
        center_joint: int | None = None,
        align_shoulders: bool = False,
        clip_normalize: str = "frame",
        vertical_axis: int = 1,
        fill_missed: bool = False,
        views: Any = None,
        queue_size: int = 32768,
        queue_init: str = "normal",
        temperature: float = 0.07,
        momentum: float = 0.999,
        momentum_schedule: str = "constant",
        momentum_offset_epochs: int = 0,
        ema_scope: str = "params",
        momentum_update: str = "before_key",
        key_init: str = "independent",
        init: str = "normal",
        projector: str = "mlp",
        proj_hidden: int = 256,
        proj_dim: int = 128,
        normalize: bool = True,
        queue_warmup_epochs: int = 0,
    ) -> None:
        super().__init__()
        self.layout = layout
        self.num_classes = num_classes
        self.clip = clip if isinstance(clip, ClipConfig) else ClipConfig(**(clip or {}))
        spec = ClipSpec(self.clip.frames, self.clip.temporal, center_joint, align_shoulders, clip_normalize,
                        self.clip.stride, vertical_axis, fill_missed)
        self.inputs = ModelInput(spec, layout, stream)
        self.schedule = schedule if isinstance(schedule, ScheduleConfig) else ScheduleConfig(**(schedule or {}))
        self.run_epochs = run_epochs or self.schedule.epochs
        self.seed = seed
        self.temperature = temperature
        self.base_momentum = momentum
        if momentum_offset_epochs < 0:
            raise ValueError(f"{type(self).__name__}: momentum_offset_epochs={momentum_offset_epochs} must be >= 0")
        self.momentum_offset_epochs = int(momentum_offset_epochs)
        self.normalize = normalize
        self.queue_warmup_epochs = queue_warmup_epochs
        for name, value, allowed in [
            ("momentum_schedule", momentum_schedule, ("constant", "cosine")),
            ("ema_scope", ema_scope, ("params", "state")),
            ("momentum_update", momentum_update, ("before_key", "after_step")),
            ("key_init", key_init, ("independent", "copy")),
            ("init", init, ("normal", "default")),
        ]:
            if value not in allowed:
                raise ValueError(f"{type(self).__name__}: {name}={value!r}; choose one of {allowed}")
        self.momentum_schedule, self.ema_scope, self.momentum_update_at = momentum_schedule, ema_scope, momentum_update

        encoder_factory = instantiate(encoder, _partial_=True)  # layout is passed as an object, not config

        def make_encoder() -> nn.Module:
            return encoder_factory(layout=layout, in_channels=channels, frames=self.clip.frames, bodies=bodies)

        self.encoder_q = make_encoder()
        check_encoder(self.encoder_q)
        self.feature_dim = self.encoder_q.out_dim
        self.embed_dim = self.feature_dim if projector == "none" else proj_dim
        self.projector_q = build_projector(projector, self.feature_dim, proj_hidden, proj_dim)
        self.encoder_k = make_encoder()
        self.projector_k = build_projector(projector, self.feature_dim, proj_hidden, proj_dim)
        if init == "normal":
            for m in (self.encoder_q, self.projector_q, self.encoder_k, self.projector_k):
                m.apply(weights_init)
        if key_init == "copy":
            self.encoder_k.load_state_dict(self.encoder_q.state_dict())
            self.projector_k.load_state_dict(self.projector_q.state_dict())
        for p in [*self.encoder_k.parameters(), *self.projector_k.parameters()]:
            p.requires_grad_(False)
        self.queue = NegativeQueue(queue_size, self.embed_dim, init=queue_init)

        views = dict(views or {})
        if set(views) != set(self.view_names):
            raise ValueError(f"{type(self).__name__} needs views {list(self.view_names)}, config gives {list(views)}")
        self.views = nn.ModuleDict({name: build_view(list(spec), layout) for name, spec in views.items()})
        self._generator: torch.Generator | None = None
        self._query_cosine: torch.Tensor | None = None
        self._pending_rng: dict | None = None
        self.step_terms: dict[str, torch.Tensor] = {}  # this step's loss terms, read by the DivergenceGuard

    # ------------------------------------------------------------------ momentum encoder
    def momentum_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        """(online, momentum) module pairs covered by the EMA; subclasses with extra key-side modules extend it."""
        return [(self.encoder_q, self.encoder_k), (self.projector_q, self.projector_k)]

    def current_momentum(self) -> float:
        """Constant, or the cosine ramp m_0 -> 1 over the run's optimiser steps. `momentum_offset_epochs` starts the
        ramp that many epochs in (SkeAttnCLR's reference counts iterations from its 1-based epoch number)."""
        if self.momentum_schedule == "constant":
            return self.base_momentum
        total, offset = 1, 0
        if self._trainer is not None:
            total = max(1, int(self.trainer.estimated_stepping_batches))
            offset = self.momentum_offset_epochs * total // max(1, int(self.trainer.max_epochs or 1))
        progress = (self.global_step + offset) / total  # past 1 only with an offset, as in that reference
        return 1 - (1 - self.base_momentum) * (math.cos(math.pi * progress) + 1) / 2

    @torch.no_grad()
    def momentum_update(self, m: float | None = None) -> None:
        m = self.current_momentum() if m is None else m
        for online, target in self.momentum_pairs():
            if self.ema_scope == "params":
                for pq, pk in zip(online.parameters(), target.parameters()):
                    pk.mul_(m).add_(pq.detach(), alpha=1 - m)
            else:  # whole state dict, BN running statistics included (SkeAttnCLR)
                tk = target.state_dict()
                for name, vq in online.state_dict().items():
                    if vq.dtype.is_floating_point:
                        tk[name].mul_(m).add_(vq.detach(), alpha=1 - m)
                    else:
                        tk[name].copy_(vq)

    # ------------------------------------------------------------------ inputs
    @property
    def stream(self) -> str:
        """The input stream; kept in `self.inputs`, the one input path that training and evaluation share."""
        return self.inputs.stream

    @stream.setter
    def stream(self, value: str) -> None:
        self.inputs = dataclasses.replace(self.inputs, stream=value)

    @property
    def clip_spec(self) -> ClipSpec:
        """How stored clips become model inputs (owned by `self.inputs`; derived here, never stored twice)."""
        return self.inputs.spec

    @property
    def generator(self) -> torch.Generator:
        """The augmentation RNG on the training device, seeded per rank; its state is checkpointed."""
        if self._generator is None or self._generator.device != self.device:
            g = torch.Generator(device=self.device)
            g.manual_seed(self.seed * 1_000_003 + self.global_rank)
            self._generator = g
        return self._generator

    def clips(self, batch: dict) -> torch.Tensor:
        return self.inputs.clips(batch)

    def view(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Draw augmented view `name` of the clips and convert it to the configured stream."""
        return self.inputs.to_stream(self.views[name](x, self.generator))

    def embed_q(self, x: torch.Tensor) -> torch.Tensor:
        z = self.projector_q(self.encoder_q(x))
        self.monitor_collapse(z)
        return F.normalize(z, dim=1) if self.normalize else z

    def monitor_collapse(self, z: torch.Tensor) -> None:
        """Record the step's first query-embedding batch for `train/query_cosine` (the basic view, for methods
        that draw several query views). A one-clip batch has no pair and records nothing."""
        if self._query_cosine is None and z.shape[0] > 1:
            self._query_cosine = mean_pairwise_cosine(z)

    @torch.no_grad()
    def embed_k(self, x: torch.Tensor) -> torch.Tensor:
        """Key embedding; with momentum_update='before_key' the EMA step happens first (AimCLR/HiCLR order)."""
        if self.momentum_update_at == "before_key" and self.learning_now:
            self.momentum_update()
        z = self.projector_k(self.encoder_k(x))
        return F.normalize(z, dim=1) if self.normalize else z

    @torch.no_grad()
    def embed(self, batch: dict) -> torch.Tensor:
        """Frozen downstream feature of un-augmented clips: the query encoder's pooled output."""
        return self.encoder_q(self.inputs(batch))

    @property
    def learning_now(self) -> bool:
        """False during the queue warm-up epochs (AS-CAL: epoch 1 only fills the queue)."""
        return self.current_epoch >= self.queue_warmup_epochs

    def scaled_epoch(self, epoch: int) -> int:
        """An epoch of the method's reference schedule mapped onto this run's length (quick runs)."""
        return int(round(epoch * self.run_epochs / self.schedule.epochs))

    # ------------------------------------------------------------------ training
    def pretrain_loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Return (loss, extra logs) for prepared, un-augmented clips x (N, C, T, V, M). Must enqueue keys."""
        raise NotImplementedError

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor | None:
        x = self.clips(batch)
        self._query_cosine = None
        loss, logs = self.pretrain_loss(x)
        if self._query_cosine is not None:
            logs = {**logs, "query_cosine": self._query_cosine}
        self.step_terms = {"loss": loss.detach(), **{k: v.detach() for k, v in logs.items() if torch.is_tensor(v)}}
        n = x.shape[0]
        self.log("train/loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=True, batch_size=n, sync_dist=True)
        for k, v in logs.items():
            self.log(f"train/{k}", v.detach() if torch.is_tensor(v) else v, on_step=False, on_epoch=True,
                     batch_size=n, sync_dist=True)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], on_step=True, on_epoch=False, batch_size=n)
        return loss if self.learning_now else None

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        if self.momentum_update_at == "after_step" and self.learning_now:
            self.momentum_update()

    def configure_optimizers(self):
        s = self.schedule
        params = [p for p in self.parameters() if p.requires_grad]
        if s.optimizer == "sgd":
            opt = torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, nesterov=s.nesterov,
                                  weight_decay=s.weight_decay)
        elif s.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
        else:
            raise ValueError(f"unknown optimizer '{s.optimizer}'; choose sgd or adam")
        milestones = [self.scaled_epoch(m) for m in s.milestones]
        warm = s.warmup_epochs
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, milestones, s.gamma, warm))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    # ------------------------------------------------------------------ exact resume
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["skelcl_config"] = getattr(self, "run_config", None)
        checkpoint["skelcl_rng"] = {
            "augment": self.generator.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._pending_rng = checkpoint.get("skelcl_rng")

    def on_train_start(self) -> None:
        rng, self._pending_rng = self._pending_rng, None
        if rng is not None:
            self.generator.set_state(rng["augment"])
            torch.set_rng_state(rng["torch"])
            if rng.get("cuda") is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
