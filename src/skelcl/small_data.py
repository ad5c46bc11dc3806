"""The small-data rule: what the papers' recipes assume of NTU's 40k training clips, re-derived from the size of
the dataset actually in use.

The official schedules (300 epochs of ~300 steps, a queue of 16-32k keys, momentum 0.999, a key encoder that starts
as an independent random network, SGD with dropout) are calibrated for ~90k optimiser steps over 40k clips. On a
thousand clips the same settings fail in measurable ways: a queue larger than the training split holds several
copies of every clip, so the positive is indistinguishable from its own negatives; an EMA with a 1000-step time
constant never leaves its random initialisation within the run; the plain MLP head collapses every embedding onto
one direction within a few steps; SGD at the papers' rate does not move the features off the random floor. The rule
sets each of these from the numbers of the data (training clips N, their median length) and of the method's own
recipe; views, loss terms, temperatures and the shape of the method's schedule (milestones, mining epoch) stay the
method's:

- frames  = the method's clip length, lowered to the split's median clip length (rounded to 10, at least 20):
            resampling a 30-frame recording to 50 frames adds compute, not information. A method that takes the first
            T frames (AS-CAL) instead of resampling the clip takes every s-th frame, s the smallest stride that fits
            the median clip into its T: at ~360 fps its first 150 frames would hold a third of it (N-UCLA at 12x its
            frame rate, docs/results.md: AS-CAL 67.0 / 69.3 linear / KNN with its first 150 frames, 78.6 / 79.3 with
            every 3rd). A recurrent encoder (AS-CAL's LSTM) strides further, until its T steps hold the length
            `window_share` (nine in ten) of the training clips are at most; the official T was longer than the median
            clip too (60 frames on N-UCLA, whose median clip has 34). It reads the window step by step and averages
            every step, the zeros after a clip's end included, so the window carries the clip's duration, a
            view-invariant cue (reading each clip's own steps only, reversal and mean, cost AS-CAL 4-9 KNN points);
            a window of the median length cut the longer half of the clips short. Measured
            (docs/results.md, "AS-CAL's window"): on N-UCLA 78.7 -> 82.3 % linear over three seeds (30 frames, every
            3rd); on 19 sets cut from it +4.0 linear / +3.9 KNN on average (the random LSTM gains too). The stride
            leaves the median clip at least `median_steps` (5) steps, and T grows instead where it would not (clip
            lengths with a long tail): at every 8th / 12th frame N-UCLA's median clip had 4 / 3 steps and read 79.7 /
            78.2 % linear (two seeds; every 3rd-5th: 81.6-83.7). ST-GCN in a
            first-T method keeps the median window: with the longer one its random encoder gained about as much as the
            trained one (AS-CAL's objective on ST-GCN ¼: KNN margin +11.2 / +3.7 at two seeds, +19.2 / +5.8 before).
            A view op that counts frames keeps its share of the clip: SkeAttnCLR's part swap pastes 4-7 chunks of 4
            frames of 64 (a quarter to under half of the clip); at 20 frames the same chunks covered 80-100 % of
            it, so the "mixed" query was mostly another clip while its positive stayed this one. Its chunk is scaled
            by frames / the method's frames (20 frames: chunks of 1)
- batch   = the method's batch, lowered to a power of two so that an epoch has >= `min_steps_per_epoch` steps
            (but not below 16 clips, where BatchNorm statistics turn to noise)
- steps   = `samples` / batch (the budget, counted in clips drawn), as whole epochs; LR milestones, warm-up and
            mining epochs are rescaled to it by the methods (`epochs=` does the same). A split too large for
            `min_epochs` passes within the budget is drawn in `min_epochs` epochs of part of a pass each
            (data/epoch_slices.py): the methods place their schedule events at whole epochs, and at two to four
            passes (10-20k clips) they would land far from where the schedule puts them (AS-CAL: the first of two
            epochs only fills its queue, the second runs at a tenth of the LR). A method may declare a
            multiple of it (`method.small_data_budget`): SkeAttnCLR draws twice the clips. With the common budget
            its instance accuracy ended at 0.27-0.38 on N-UCLA (SkeletonCLR's 0.62) and its features were still
            improving; with twice the steps its 1-NN rose from 71.4 to 79.5 % over three seeds (docs/results.md).
            Every method gains from more steps; the common budget keeps the others' runs within 30 min on one core
- queue   = the method's queue, capped at the power of two nearest to `queue_fraction` x N
- momentum: the EMA's time constant 1/(1-m) becomes `ema_horizon` x steps (never longer than the method's own,
            never below `min_momentum`: MoCo with a key encoder that copies the query one fails to converge)
- key encoder starts as a copy of the query encoder; a projector without a BatchNorm on its output (`mlp`,
            `mlp_bn`) gets one, so the embeddings are batch-centred and cannot all point one way. Measured on N-UCLA
            (docs/results.md): SkeAttnCLR's `mlp_bn` head left its KNN 14 points over the floor; with the output BN
            it learns like the MLP-head methods
- optimiser: Adam 1e-3 without weight decay, and no encoder dropout (`optimizer: adam`). Measured on N-UCLA
            (docs/results.md): with the papers' SGD (LR scaled linearly with the batch) and dropout 0.5, SkeletonCLR's
            online KNN stayed at the random floor (33-38 %) for 12 epochs; with Adam and no dropout it was 57 % after
            4. `optimizer: method` keeps the method's optimiser, its SGD learning rate scaled by batch / method's batch
- augmentation: the official ops' documented bugs are fixed (`augment_fixes`): the Gaussian blur kernel is
            normalised (the official one scales coordinates by 1-5x), the flip mirrors x as well as swapping left and
            right joints, noise leaves absent bodies empty. Measured on N-UCLA (docs/results.md): AimCLR's KNN rose
            from 48.2 to 63.1 % (floor 39.7) with the fixes; the papers' presets keep the bugs, which their
            published numbers were produced with
- 2-D keypoints (C = 2): every view that reshapes the figure (a shear or rotation) and has no left/right flip gets
            one (`mirror_2d`: mirror x and swap the layout's left/right joints, p 0.5). The per-clip normalisation
            turns a 3-D body to face +x, so the camera's azimuth is gone before any view is drawn; an image has no
            depth to turn, and two cameras at +a and -a of a body's front see mirror images of it with its sides
            swapped. The flip teaches that pair. Measured (docs/results.md): on N-UCLA cross-view projected to 2-D,
            the methods whose views had a flip (AimCLR, HiCLR) learned, the others ended barely over or under the random
            floor; adding the flip lifted SkeletonCLR from 65.4 / 58.1 to 80.1 / 74.5 (linear / KNN). A layout
            without left/right pairs gets no flip (said at start). A method may also declare a turn about the
            vertical (`method.small_data_turn_2d`, degrees; AS-CAL: 60): every view with a shear and no rotation
            gets one, the z = 0 figure foreshortened as a camera turning about the body would see it, standing in
            for the depth a 3-D shear mixes into x. Measured on AS-CAL over seven 2-D sets at two seeds each: KNN
            +0.1 to +8.2 on every one (its KNN under its random LSTM's on the one-camera set without it)
- embedding: a method whose loss takes raw dot products of unnormalised embeddings (AS-CAL's CAE) gets them
            L2-normalised (`normalize_embeddings`; the temperature stays the method's). Nothing then bounds the logits
            but the embeddings' norms, and on small data the pretext breaks down within the run: on N-UCLA AS-CAL's
            instance accuracy rose to 0.54 and fell to 0.15 with the loss above chance, with Adam and with its own SGD
            alike. Normalised, it rose steadily to 0.74 and its KNN from 69.3 to 82.1 % (docs/results.md)
- warm-up = `warmup_fraction` of the epochs, at least 2 (the LR ramps per epoch: 1 would be no warm-up)
- checkpoints: with `checkpoint_every: null` one is kept every tenth of the run's epochs (at least every 10
            epochs): on 150 clips the rule runs 278 epochs of 9 steps, and a checkpoint every 10 epochs kept 28 files
            (ST-GCN: ~20 MB each, 1 GB for SkeAttnCLR's doubled run) where ten serve resuming and learning curves
- linear probe: logistic regression on standardised features, solved exactly, L2 by 5-fold cross-validation on
            the training split (`protocol.linear.solver=logistic`; `skelcl.evaluate` probes a saved small-data
            checkpoint the same way). Measured on N-UCLA: the papers' SGD probe reads
            72.6 % from SkeletonCLR's features (74.9 % exactly) but 47.5 % from AimCLR's (69.1 %): on small data it
            ranks encoders by how well their feature scale suits its learning rate. The L2 strength maximises
            held-out accuracy, or under 8 clips per class the held-out log-likelihood (`protocol.linear.cv_score:
            auto`): with six per class accuracy moves in steps of a clip and chose a penalty that read AS-CAL's
            features at 41.9 % (log-likelihood: 47.1 %; KNN: 51.5 %)

It is on (`enabled: auto`) for training splits under `max_clips` clips, except for datasets whose config says
`recipe: paper` (NTU, PKU-MMD: the papers' protocols). Every derived value can be fixed by hand
(`small_data.batch_size=...`), and `small_data.enabled=false` turns the rule off. While it applies, the
`method.schedule` values it sets (batch, optimiser, lr, weight decay, warm-up) replace the method's: change them
through `small_data.*`.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

from omegaconf import DictConfig, open_dict

from skelcl.augment.ops import part_swap_with_params
from skelcl.augment.views import op_names, op_spec
from skelcl.methods.aimclr import QUIRK_OP_PARAMS

CHECKPOINT_EVERY = 10  # epochs between kept checkpoints unless `checkpoint_every` says otherwise


@dataclass
class SmallDataConfig:
    enabled: str = "auto"  # auto | true | false
    max_clips: int = 20000  # auto: the rule applies below this many training clips
    samples: int = 40000  # pretraining budget in clips drawn (steps = samples // batch)
    min_epochs: int = 20  # a split the budget covers in fewer passes: this many epochs of part of a pass each
    min_steps_per_epoch: int = 16
    queue_fraction: float = 0.25
    ema_horizon: float = 0.05  # key-encoder EMA time constant as a fraction of the run's steps
    min_momentum: float = 0.9  # a key encoder that follows the query one too closely fails (MoCo's m ablation)
    warmup_fraction: float = 0.05
    optimizer: str = "adam"  # adam: Adam(lr) without weight decay and no encoder dropout | method: the method's own
    lr: float = 1e-3  # Adam's learning rate (optimizer: adam)
    augment_fixes: bool = True  # views use the fixed blur / flip / noise ops (docs/faithfulness.md)
    mirror_2d: bool = True  # 2-D clips: geometric views without a flip get a left/right flip
    normalize_embeddings: bool = True  # unnormalised embeddings (raw dot-product losses) are L2-normalised
    window_share: float = 0.9  # a recurrent first-T encoder's window holds this share of the training clips whole
    median_steps: int = 5  # ... and reads the median clip in at least this many steps (T grows instead of the stride)
    # fixed by hand (null = derived)
    batch_size: int | None = None
    frames: int | None = None
    stride: int | None = None
    epochs: int | None = None
    queue_size: int | None = None
    momentum: float | None = None

    def __post_init__(self) -> None:
        if str(self.enabled).lower() not in ("auto", "true", "false"):
            raise ValueError(f"small_data.enabled={self.enabled!r}; choose auto, true or false")
        for name in ("max_clips", "samples", "min_steps_per_epoch", "min_epochs", "median_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"small_data.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("queue_fraction", "ema_horizon", "warmup_fraction", "window_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"small_data.{name} must be in [0, 1], got {getattr(self, name)}")
        if self.optimizer not in ("adam", "method"):
            raise ValueError(f"small_data.optimizer={self.optimizer!r}; choose adam or method")
        if not self.lr > 0:
            raise ValueError(f"small_data.lr must be > 0, got {self.lr}")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"small_data.stride must be >= 1, got {self.stride}")
        if not 0 <= self.min_momentum < 1:
            raise ValueError(f"small_data.min_momentum must be in [0, 1), got {self.min_momentum}")


@dataclass
class SmallDataRecipe:
    clips: int
    frames: int
    batch_size: int
    epochs: int
    steps: int
    queue_size: int
    momentum: float
    lr_scale: float  # the factor applied to an SGD learning rate (batch / method's batch)
    warmup_epochs: int
    optimizer: str  # adam | method
    lr: float
    projector: str | None  # the head it switches to, or None when the method's head is kept
    augment_fixes: bool = True
    mirror: str = "no"  # 2-D clips: "added" (views get a left/right flip), "no pairs" (none: the layout has no pairs)
    turn: float = 0.0  # 2-D clips: the method's turn about the vertical (degrees) added to its shear views; 0: none
    normalize: bool = False  # the method's unnormalised embeddings are L2-normalised
    stride: int = 1  # a first-T-frames method takes every stride-th frame
    time_scale: float = 1.0  # frames / the method's frames: view ops that count frames are scaled by it
    swap_chunk: int | None = None  # the part swap's chunk after scaling (set by `apply`; None: no part swap)
    budget: float = 1.0  # the method's budget in multiples of `samples` (`method.small_data_budget`)
    epoch_clips: int | None = None  # clips drawn per epoch when an epoch is shorter than a pass (None: a pass)

    def _optimiser(self) -> str:
        if self.optimizer == "adam":
            return f"Adam {self.lr:g} without dropout"
        return f"the method's optimiser (SGD lr x{self.lr_scale:g})"

    def describe(self) -> str:
        head = f", head {self.projector}" if self.projector else ""
        normalized = ", L2-normalised embeddings" if self.normalize else ""
        fixes = ", fixed blur/flip/noise ops" if self.augment_fixes else ""
        mirror = {"added": ", 2-D: left/right flip in every shear/rotation view",
                  "no pairs": ", 2-D: no left/right flip (the layout names no left/right pairs)"}.get(self.mirror, "")
        if self.turn:
            mirror += f"{', ' if mirror else ', 2-D: '}a turn about the vertical (±{self.turn:g}°) in every shear view"
        timing = f" (stride {self.stride})" if self.stride > 1 else ""
        if self.swap_chunk is not None:
            timing += f" (part swap in chunks of {self.swap_chunk})"
        budget = f"; {self.budget:g}x the clips drawn: the method's small_data_budget" if self.budget != 1 else ""
        epochs = f"{self.epochs} epochs" + (f" of {self.epoch_clips} clips" if self.epoch_clips else "")
        return (f"small dataset: {self.clips} clips -> {self.frames} frames{timing}, batch {self.batch_size}, "
                f"{self.steps} steps ({epochs}, warm-up {self.warmup_epochs}{budget}), "
                f"{self._optimiser()}, queue {self.queue_size}, momentum {self.momentum:g}, "
                f"key encoder copied from the query encoder{head}"
                f"{normalized}{fixes}{mirror}, linear probe: cross-validated logistic regression")


def _tens(length: float) -> int:
    """A clip length in frames rounded to 10, at least 20."""
    return max(20, int(round(length / 10)) * 10)


def _pow2_floor(x: float) -> int:
    return 1 << max(0, int(math.floor(math.log2(max(x, 1.0)))))


def _pow2_nearest(x: float) -> int:
    return 1 << max(0, int(round(math.log2(max(x, 1.0)))))


def applies(rule: SmallDataConfig, clips: int, dataset_recipe: str) -> bool:
    mode = str(rule.enabled).lower()
    if mode in ("true", "false"):
        return mode == "true"
    return dataset_recipe != "paper" and clips < rule.max_clips


def derive(rule: SmallDataConfig, clips: int, median_length: float, frames: int, batch_size: int, queue_size: int,
           momentum: float, projector: str | None, channels: int = 3, has_pairs: bool = True,
           normalized: bool = True, temporal: str = "resize", budget: float = 1.0,
           turn_2d: float = 0.0, window_length: float | None = None) -> SmallDataRecipe:
    """The recipe for `clips` training clips of median length `median_length`, from the method's own clip length
    and how it takes frames (`temporal`), batch, queue, momentum, head, whether its embeddings are L2-normalised
    (`normalized`), its budget in multiples of `samples` (`budget`) and turn for 2-D clips (`turn_2d`), and the
    clips' coordinates (`channels`, whether the layout pairs left and right joints). `window_length`: the length
    `rule.window_share` of the clips are at most, given for a recurrent encoder that takes the first T frames."""
    if not budget > 0:
        raise ValueError(f"a method's small_data_budget must be > 0, got {budget}")
    if clips < 2:
        raise ValueError(f"the training split has {clips} clip(s); contrastive pretraining needs at least 2")
    fewest = min(16, batch_size, clips)  # below 16 clips a batch, BatchNorm statistics become noise
    batch = rule.batch_size or max(fewest, min(batch_size, _pow2_floor(clips / rule.min_steps_per_epoch)))
    steps_per_epoch = max(1, clips // batch)
    epochs = rule.epochs or max(1, round(budget * rule.samples / batch / steps_per_epoch))
    epoch_clips = None
    if not rule.epochs and epochs < rule.min_epochs:  # a large split: epochs of part of a pass (epoch_slices.py)
        shorter = max(1, round(budget * rule.samples / batch / rule.min_epochs))
        if shorter < steps_per_epoch:
            steps_per_epoch, epochs, epoch_clips = shorter, rule.min_epochs, shorter * batch
    steps = epochs * steps_per_epoch
    queue = rule.queue_size or max(batch, min(queue_size, _pow2_nearest(rule.queue_fraction * clips)))
    if rule.momentum is not None:
        m = rule.momentum
    else:
        fastest, own = 1.0 / (1.0 - rule.min_momentum), 1.0 / max(1e-12, 1.0 - momentum)
        tau = min(max(rule.ema_horizon * steps, fastest), own)
        m = round(1.0 - 1.0 / tau, 4)
    warmup = max(2, int(math.ceil(rule.warmup_fraction * epochs))) if rule.warmup_fraction > 0 else 0
    method_frames = frames
    if temporal == "first" and window_length is not None:  # a recurrent encoder: the window holds most clips
        frames = rule.frames or min(frames, _tens(median_length))
        wanted = math.ceil(window_length / frames)
        coarsest = max(1, int(median_length // rule.median_steps))  # the median clip keeps median_steps steps
        stride = rule.stride or max(1, min(wanted, coarsest))
        if not (rule.frames or rule.stride) and stride < wanted:  # held back: T grows (up to the method's) instead
            frames = min(method_frames, 10 * math.ceil(window_length / stride / 10))
    else:
        stride = (rule.stride or max(1, math.ceil(median_length / frames))) if temporal == "first" else 1
        frames = rule.frames or min(frames, _tens(median_length / stride))
    mirror = "no"
    if channels == 2 and rule.mirror_2d:
        mirror = "added" if has_pairs else "no pairs"
    return SmallDataRecipe(clips=clips, frames=frames, batch_size=batch, epochs=epochs, steps=steps, queue_size=queue,
                           momentum=m, lr_scale=batch / batch_size, warmup_epochs=warmup,
                           optimizer=rule.optimizer, lr=rule.lr,
                           projector="mlp_bn_out" if projector in ("mlp", "mlp_bn") else None,
                           augment_fixes=rule.augment_fixes, mirror=mirror,
                           turn=float(turn_2d) if channels == 2 else 0.0,
                           normalize=rule.normalize_embeddings and not normalized, stride=stride,
                           time_scale=frames / method_frames, budget=1.0 if rule.epochs else budget,
                           epoch_clips=epoch_clips)


def apply(cfg: DictConfig, recipe: SmallDataRecipe) -> None:
    """Write the recipe into the composed config (before the method is built)."""
    with open_dict(cfg):
        cfg.epochs = recipe.epochs
        if cfg.get("checkpoint_every") is None:  # hundreds of epochs of a few steps: ~10 kept, not hundreds
            cfg.checkpoint_every = max(CHECKPOINT_EVERY, math.ceil(recipe.epochs / 10))
        cfg.method.schedule.batch_size = recipe.batch_size
        cfg.method.clip.frames = recipe.frames
        if recipe.stride > 1:
            cfg.method.clip.stride = recipe.stride
        schedule = cfg.method.schedule
        schedule.warmup_epochs = max(int(schedule.get("warmup_epochs", 0)), recipe.warmup_epochs)
        if recipe.optimizer == "adam":
            schedule.optimizer, schedule.lr, schedule.weight_decay = "adam", recipe.lr, 0.0
            if "dropout" in cfg.encoder:
                cfg.encoder.dropout = 0.0
        elif schedule.get("optimizer", "sgd") == "sgd":
            schedule.lr = float(schedule.lr) * recipe.lr_scale
        use_rule_probe(cfg)
        model = cfg.method.model
        model.queue_size = recipe.queue_size
        model.momentum = recipe.momentum
        model.key_init = "copy"
        if recipe.projector:
            model.projector = recipe.projector
        if recipe.normalize:
            model.normalize = True
        if recipe.augment_fixes:
            fix_augmentation(model)
        if recipe.turn:
            add_turn(model, recipe.turn)
        if recipe.mirror == "added":
            add_mirror(model)
        recipe.swap_chunk = scale_swap_chunks(model, recipe.time_scale)


def use_rule_probe(cfg: DictConfig) -> None:
    """The rule's linear probe (cross-validated logistic regression): set at pretraining and again when a saved
    checkpoint is evaluated on small data, so that `skelcl.evaluate` reproduces the numbers the run reported."""
    if "linear" in (cfg.get("protocol") or {}):
        with open_dict(cfg):
            cfg.protocol.linear.solver = "logistic"


def fix_augmentation(model: DictConfig) -> None:
    """Turn on the bug fix of every blur / flip / noise op in the method's views, and the method-level flags that
    write them (AimCLR's)."""
    for flag, (op, param) in QUIRK_OP_PARAMS.items():
        if flag in model:
            model[flag] = True
        for name, specs in (model.get("views") or {}).items():
            model.views[name] = [_fixed(spec, op, param) for spec in specs]


def scale_swap_chunks(model: DictConfig, scale: float) -> int | None:
    """Scale the frame chunk of every part-swap op in the method's views by `scale` (at least 1 frame), so that the
    swapped block keeps its share of a shorter clip; return the new chunk, or None when no view swaps parts."""
    chunk = None
    for name, specs in (model.get("views") or {}).items():
        if "part_swap" not in op_names(specs):
            continue  # other views stay exactly as written
        specs = [op_spec(spec) for spec in specs]
        for spec in specs:
            if spec.get("op") == "part_swap":
                spec["chunk"] = chunk = max(1, int(round(int(spec.get("chunk", SWAP_CHUNK)) * scale)))
        model.views[name] = specs
    return chunk


SWAP_CHUNK = inspect.signature(part_swap_with_params).parameters["chunk"].default
GEOMETRIC_OPS = ("shear", "rotate")
MIRROR = {"op": "flip", "p": 0.5, "reflect_coords": True}


def add_mirror(model: DictConfig) -> None:
    """Append a left/right flip to every view that reshapes the figure (a shear or rotation) and has none. Views
    that act on an already augmented clip (SkeAttnCLR's part-swap `mix`) have no geometric op and are left alone;
    views with a flip (AimCLR's extreme view, HiCLR's strong ones) keep their own."""
    for name, specs in (model.get("views") or {}).items():
        ops = op_names(specs)
        if any(op in GEOMETRIC_OPS for op in ops) and "flip" not in ops:
            model.views[name] = [*specs, dict(MIRROR)]


def add_turn(model: DictConfig, max_angle: float) -> None:
    """Put a turn about the vertical axis (±max_angle degrees, the 2-D figure foreshortened) before the first shear
    of every view that has a shear and no rotation; views with a rotation of their own are left alone."""
    turn = {"op": "rotate", "mode": "single", "axis": 1, "max_angle": float(max_angle), "symmetric": True}
    for name, specs in (model.get("views") or {}).items():
        ops = op_names(specs)
        if "shear" in ops and "rotate" not in ops:
            at = ops.index("shear")
            model.views[name] = [*specs[:at], dict(turn), *specs[at:]]


def _fixed(spec, op: str, param: str):
    spec = op_spec(spec)
    if spec.get("op") == op:
        spec[param] = True
    return spec
