"""AS-CAL: loss and queue test vectors, the warm-up epoch, EMA from an exact copy,
stop-gradients, schedules, centring on every path, presets, and tiny end-to-end runs (LSTM and ST-GCN)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torch.utils.data import DataLoader, Dataset

import skelcl.conf
from skelcl.augment.clips import first_frames
from skelcl.augment.ops import shear, time_reverse
from skelcl.augment.views import build_view
from skelcl.data.layouts import COCO17, KINECT20, NTU25, OPENPOSE18, Layout
from skelcl.encoders.rnn import reshape_for_rnn
from skelcl.methods.ascal import ASCAL, spine_joint
from skelcl.methods.losses import moco_logits
from skelcl.schedules import lr_factor
from tests.conftest import TINY_RUN, compose_config, run_train

CONF = Path(skelcl.conf.__file__).parent
YAML = OmegaConf.load(CONF / "method" / "ascal.yaml")


def lstm(hidden=8):
    return OmegaConf.create({"_target_": "skelcl.encoders.rnn.RNNEncoder", "hidden": hidden, "layers": 1,
                             "cell": "lstm", "bidirectional": False, "tap": "mean"})


def make(layout=NTU25, bodies=2, frames=12, hidden=8, queue=64, stream="joint", encoder=None, seed=0, **model):
    """An ASCAL built from the shipped YAML (so the tests check the configured defaults), shrunk for speed."""
    kwargs = OmegaConf.to_container(YAML.model, resolve=True)
    kwargs.pop("_target_")
    kwargs.update(queue_size=queue, **model)
    torch.manual_seed(seed)
    return ASCAL(layout=layout, num_classes=4, bodies=bodies, encoder=encoder or lstm(hidden), stream=stream,
                 clip={"frames": frames, "temporal": "first"}, schedule=OmegaConf.to_container(YAML.schedule),
                 seed=seed, **kwargs)


def clips(n=4, frames=12, v=25, m=2, seed=1, pad_from=None):
    """Random camera-space clips; frames >= pad_from are zero (padding), as stored."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, frames, v, m, generator=g)
    if pad_from is not None:
        x[:, :, pad_from:] = 0
    return x


class ClipSet(Dataset):
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, i):
        return {"x": self.x[i], "length": self.x.shape[2], "label": i % 4, "index": i}


def fit(model, x, epochs, batches, batch_size=4, callbacks=()):
    trainer = L.Trainer(max_epochs=epochs, limit_train_batches=batches, accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        use_distributed_sampler=False, callbacks=list(callbacks))
    trainer.fit(model, train_dataloaders=DataLoader(ClipSet(x), batch_size=batch_size, shuffle=False))
    return trainer


def params(module):
    return [p.detach().clone() for p in module.parameters()]


# ------------------------------------------------------------------------------------------------ configuration
def test_yaml_defaults_are_the_official_ones():
    m = YAML.model
    assert (m.queue_size, m.temperature, m.momentum, m.queue_init) == (16384, 0.06, 0.999, "uniform")
    assert (m.projector, m.normalize, m.key_init, m.init) == ("none", False, "copy", "default")
    assert (m.momentum_update, m.queue_warmup_epochs, m.subtract_joint) == ("after_step", 1, "spine")
    assert make(center_joint=20).subtract_joint == 1  # NTU's spine_mid, the official index
    official = [{"op": "time_reverse", "p": 0.5}, {"op": "shear", "amplitude": 1.0}]  # subtract_randomFlip_shear
    assert OmegaConf.to_container(m.views.query) == official
    assert m.views.query == m.views.key
    assert (YAML.clip.frames, YAML.clip.temporal) == (150, "first")
    s = YAML.schedule
    assert (s.epochs, s.batch_size, s.lr, s.momentum, s.nesterov, s.weight_decay) == (61, 32, 0.01, 0.9, False, 1e-4)
    f = YAML.finetune
    assert (f.lr, f.epochs, list(f.milestones), f.weight_decay, f.augment) == (0.01, 35, [15, 30], 0.0, False)


def test_lstm_parameter_counts_and_no_head():
    # 417,792 parameters for NTU (D = 150), 325,632 for N-UCLA (D = 60); no projection head
    ntu = make(hidden=256, queue=8)
    assert sum(p.numel() for p in ntu.encoder_q.parameters()) == 417_792
    assert isinstance(ntu.projector_q, nn.Identity) and ntu.embed_dim == 256
    ucla = make(layout=KINECT20, bodies=1, hidden=256, queue=8)
    assert sum(p.numel() for p in ucla.encoder_q.parameters()) == 325_632


def test_shapes_ntu():
    # views (N,3,150,25,2) -> (150,N,150) -> outputs (150,N,256) -> CAE (N,256); logits (N,16385)
    model = make(frames=150, hidden=256, queue=16384)
    x = clips(n=2, frames=150)
    v = model.view("query", x)
    assert v.shape == (2, 3, 150, 25, 2)
    assert reshape_for_rnn(v).shape == (150, 2, 150)
    assert model.encoder_q.forward_sequence(v).shape == (150, 2, 256)
    q = model.embed_q(v)
    assert q.shape == (2, 256)
    assert moco_logits(q, q, model.queue.keys, model.temperature).shape == (2, 16385)
    assert model.queue.keys.shape == (16384, 256)


def test_reshape_feature_index():
    # x[n,c,t,v,m] = 1000c + 10v + m (T = 1) sits at feature c*50 + v*2 + m
    c, v, m = torch.meshgrid(torch.arange(3), torch.arange(25), torch.arange(2), indexing="ij")
    x = (1000 * c + 10 * v + m).float()[None, :, None].expand(2, 3, 1, 25, 2)
    seq = reshape_for_rnn(x)
    assert seq.shape == (1, 2, 150)
    assert torch.equal(seq[0, 1, (c * 50 + v * 2 + m).flatten()], (1000 * c + 10 * v + m).float().flatten())


# ------------------------------------------------------------------------------------------------ loss
class Fixed(nn.Module):
    """Stands in for the LSTM: returns a fixed embedding for every clip."""

    def __init__(self, z):
        super().__init__()
        self.z = nn.Parameter(z.clone())

    def forward(self, x):
        return self.z.expand(x.shape[0], -1)


def test_loss_test_vector_zero_queue():
    # Q = 0, q = k, |q| = 1 -> L = log(1 + K e^{-1/tau}) = 9.4618e-4 (K = 16384, tau = 0.06); no L2 norm,
    # so scaling q and k by a makes the positive logit a^2 / tau
    model = make(hidden=8, queue=16384).double()
    model.queue.keys.zero_()
    z = torch.nn.functional.normalize(torch.randn(1, 8, dtype=torch.float64), dim=1)
    x = clips(n=3).double()
    for a in (1.0, 2.0):
        model.encoder_q, model.encoder_k = Fixed(a * z), Fixed(a * z)
        loss, _ = model.pretrain_loss(x)
        assert loss.item() == pytest.approx(math.log(1 + 16384 * math.exp(-(a**2) / 0.06)), rel=1e-6)
        if a == 1.0:
            assert loss.item() == pytest.approx(9.4618e-4, rel=1e-4)
        model.queue.keys.zero_()
    q = 2 * z
    assert moco_logits(q, q, model.queue.keys, model.temperature)[0, 0].item() == pytest.approx(4 / 0.06)


def test_gradients_reach_only_the_query_lstm():
    # only f_q's 4 LSTM tensors get gradients; f_k and the queue are constants
    model = make()
    loss, logs = model.pretrain_loss(clips())
    loss.backward()
    q_params = list(model.encoder_q.parameters())
    assert len(q_params) == 4
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in q_params)
    assert all(p.grad is None and not p.requires_grad for p in model.encoder_k.parameters())
    assert model.queue.keys.grad is None and not model.queue.keys.requires_grad
    opt = model.configure_optimizers()["optimizer"]
    assert [p for g in opt.param_groups for p in g["params"]] == q_params
    assert set(logs) == {"instance_acc", "pos_sim"}


def test_queue_gets_this_steps_keys():
    model = make(queue=6)
    x = clips(n=4)
    state = model.generator.get_state()
    model.pretrain_loss(x)
    model.generator.set_state(state)
    model.view("query", x)  # the query view is drawn first
    k1 = model.embed_k(model.view("key", x))
    assert int(model.queue.ptr) == 4 and torch.equal(model.queue.keys[:4], k1)
    model.pretrain_loss(x)  # wraps: rows 4, 5, 0, 1
    assert int(model.queue.ptr) == 2 and torch.equal(model.queue.keys[2:4], k1[2:4])


# ------------------------------------------------------------------------------------------------ queue + warm-up
def test_queue_uniform_init_bounds_and_pointer_arithmetic():
    # U(-s, s), s = 1/sqrt(256/3) = 0.10825; NTU-60 xsub warm-up: 1,252 batches of 32 + one of 27 -> 7,323
    model = make(hidden=256, queue=16384)
    s = 1 / math.sqrt(256 / 3)
    assert s == pytest.approx(0.10825, abs=1e-5)
    assert model.queue.keys.abs().max() <= s and model.queue.keys.abs().max() > 0.99 * s
    queue = make(hidden=1, queue=16384).queue  # the pointer does not depend on D; 1-d keys keep this fast
    keys = torch.zeros(32, 1)
    for n in [32] * 1252 + [27]:
        queue.enqueue(keys[:n])
    assert int(queue.ptr) == 40_091 % 16_384 == 7_323


def test_warmup_epoch_fills_queue_and_changes_no_parameter():
    # epoch 1 = forward + enqueue only (no backward, step or EMA); short last batch allowed
    model = make(queue=64)
    before_q, before_k = params(model.encoder_q), params(model.encoder_k)
    seen = []
    enqueue = model.queue.enqueue
    model.queue.enqueue = lambda k, gather=True: (seen.append(k.detach().clone()), enqueue(k, gather))[1]
    fit(model, clips(n=10), epochs=1, batches=3)
    assert [k.shape[0] for k in seen] == [4, 4, 2]
    assert int(model.queue.ptr) == 10 and torch.equal(model.queue.keys[:10], torch.cat(seen))
    assert all(torch.equal(a, b) for a, b in zip(before_q, params(model.encoder_q)))
    assert all(torch.equal(a, b) for a, b in zip(before_k, params(model.encoder_k)))


class EMACheck(L.Callback):
    """Snapshots f_q / f_k around the learning epoch's only batch."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == 1:
            self.k_before = params(pl_module.encoder_k)
            self.q_before = params(pl_module.encoder_q)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.current_epoch == 1:
            self.k_after = params(pl_module.encoder_k)
            self.q_after = params(pl_module.encoder_q)


def test_key_encoder_is_an_exact_copy_then_moves_only_by_ema_after_the_step():
    # f_k == f_q at init; after one step theta_k = 0.999 theta_k + 0.001 theta_q (the updated theta_q)
    model = make()
    assert all(torch.equal(a, b) for a, b in zip(model.encoder_q.state_dict().values(),
                                                  model.encoder_k.state_dict().values()))
    cb = EMACheck()
    fit(model, clips(n=4), epochs=2, batches=1, callbacks=[cb])
    assert any(not torch.equal(a, b) for a, b in zip(cb.q_before, cb.q_after))
    for k0, k1, q1 in zip(cb.k_before, cb.k_after, cb.q_after):
        assert torch.allclose(k1, 0.999 * k0 + 0.001 * q1, atol=1e-7, rtol=0)
        assert not torch.equal(k1, k0)


def test_deterministic_under_seed():
    def run():
        model = make(seed=3)
        opt = model.configure_optimizers()["optimizer"]
        losses = []
        for _ in range(2):
            loss, _ = model.pretrain_loss(clips(n=4))
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.momentum_update()
            losses.append(loss.item())
        return losses, params(model)

    (l1, p1), (l2, p2) = run(), run()
    assert l1 == l2 and all(torch.equal(a, b) for a, b in zip(p1, p2))


# ------------------------------------------------------------------------------------------------ schedules
def test_pretraining_lr_schedule():
    # 1-based epoch 30 -> 0.01, epoch 31 -> 0.001 (61 epochs, decay after 30)
    model = make()
    out = model.configure_optimizers()
    opt, sched = out["optimizer"], out["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(61):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[29] == pytest.approx(0.01) and lrs[30] == pytest.approx(0.001)
    assert lrs[0] == pytest.approx(0.01) and lrs[60] == pytest.approx(0.001)


def test_linear_lr_schedule():
    # 1.0 (1-15), 0.5 (16-35), 0.25 (36-60), 0.125 (61-75), 0.0625 (76-90)
    lin = YAML.linear
    assert (lin.lr, lin.epochs, lin.nesterov, lin.weight_decay, lin.init_std) == (1.0, 90, True, 0.0, 0.01)
    lrs = [lin.lr * lr_factor(e, list(lin.milestones), lin.gamma, 0) for e in range(lin.epochs)]
    expected = [1.0] * 15 + [0.5] * 20 + [0.25] * 25 + [0.125] * 15 + [0.0625] * 15
    assert lrs == pytest.approx(expected)


# ------------------------------------------------------------------------------------------------ centring + views
def test_subtract1_is_applied_on_every_path():
    model = make()
    assert model.clip_spec.center_joint == 1  # finetune / semi read clip_spec directly
    x = clips(n=3, frames=20, pad_from=9)
    batch = {"x": x, "length": torch.full((3,), 9)}
    prepared = model.clips(batch)
    assert prepared.shape[2] == 12  # the first 12 frames, no resampling
    assert torch.equal(prepared[:, :, 9:], torch.zeros_like(prepared[:, :, 9:]))  # padding stays zero
    assert prepared[:, :, :9, 1].abs().max() == 0
    ref = first_frames(x, 12)
    assert torch.allclose(prepared[:, :, :9], ref[:, :, :9] - ref[:, :, :9, 1:2])
    assert torch.allclose(model.embed(batch), model.encoder_q(prepared))


def test_subtract_joint_replaces_dataset_centring_or_defers_to_it():
    assert make(center_joint=20).clip_spec.center_joint == 1
    assert make(center_joint=20, subtract_joint=None).clip_spec.center_joint == 20
    with pytest.raises(ValueError, match="subtract_joint"):
        make(layout=KINECT20, bodies=1, subtract_joint=22)


def test_spine_is_found_by_name_on_any_layout():
    """The official joint 1 is NTU's spine_mid; on another layout index 1 may be anything (COCO: the left eye)."""
    assert (spine_joint(NTU25), spine_joint(KINECT20)) == (1, 1)  # the official index
    assert spine_joint(COCO17) == COCO17.center == 0 and COCO17.joint_names[1] == "left_eye"
    assert spine_joint(OPENPOSE18) == OPENPOSE18.center == 1  # the neck
    bones = ((0, 0), (1, 0), (2, 1))
    assert spine_joint(Layout(name="nameless", num_joints=3, bones=bones, center=2)) == 2
    named = Layout(name="named", num_joints=3, bones=bones, center=0, joint_names=("hips", "chest", "spine"))
    assert spine_joint(named) == 2
    assert make(layout=COCO17, bodies=1).clip_spec.center_joint == 0
    assert make(layout=KINECT20, bodies=1, subtract_joint=3).clip_spec.center_joint == 3
    with pytest.raises(ValueError, match="subtract_joint must be 'spine'"):
        make(subtract_joint="pelvis")


def test_official_view_identities():
    # shear with all six entries 0 is the identity; Reverse applied twice is the identity
    x = clips()
    g = torch.Generator().manual_seed(0)
    assert torch.equal(shear(x, g, amplitude=0.0), x)
    assert torch.equal(time_reverse(time_reverse(x, g, p=1.0), g, p=1.0), x)


def test_warns_when_the_run_is_only_warm_up():
    with pytest.warns(UserWarning, match="only fills the queue"):
        make(run_epochs=1)


@pytest.mark.parametrize("stream", ["joint", "motion", "bone"])
def test_other_layout_single_body_streams(stream):
    # N-UCLA-like: kinect20, M = 1
    model = make(layout=KINECT20, bodies=1, stream=stream, queue=16)
    loss, _ = model.pretrain_loss(clips(v=20, m=1))
    assert torch.isfinite(loss)
    loss.backward()
    assert all(p.grad is not None for p in model.encoder_q.parameters())


# ------------------------------------------------------------------------------------------------ presets
PRESETS = sorted(p.stem for p in (CONF / "experiment").glob("ascal_*.yaml"))
CELLS = ["ascal_ntu120_xset_joint", "ascal_ntu120_xsub_joint", "ascal_ntu60_xsub_joint", "ascal_ntu60_xview_joint",
         "ascal_nucla_joint"]


@pytest.mark.parametrize("name", CELLS)
def test_benchmark_presets(name):
    assert name in PRESETS
    text = (CONF / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_") and "reported:" in text and f"experiment={name}" in text
    cfg = compose_config([f"experiment={name}"])
    assert (cfg.method.name, cfg.encoder.name, cfg.stream.name) == ("ascal", "lstm", "joint")
    assert cfg.dataset.align_shoulders is False
    nucla = name == "ascal_nucla_joint"
    assert cfg.method.clip.frames == (60 if nucla else 150)
    assert cfg.method.model.queue_size == (500 if nucla else 16384)
    assert cfg.get("epochs") is None


@pytest.mark.parametrize("name", [p for p in PRESETS if p.startswith("ascal_aug_")])
def test_augmentation_presets_build_valid_views(name):
    cfg = compose_config([f"experiment={name}"])
    assert cfg.method.name == "ascal" and cfg.method.model.views.query == cfg.method.model.views.key
    view = build_view(cfg.method.model.views.query, NTU25)
    x = clips(frames=12)
    assert view(x, torch.Generator().manual_seed(0)).shape == x.shape


# ------------------------------------------------------------------------------------------------ end to end
def run(tmp_path, cache_dir, overrides):
    return run_train(overrides, tmp_path, cache_dir, tiny=TINY_RUN)


def read_protocols(run_dir):
    return {r["protocol"] for r in json.loads((run_dir / "results.json").read_text())}


@pytest.mark.slow
def test_end_to_end_lstm_pretrain_linear_knn(tmp_path, cache_dir):
    # 2 epochs: the warm-up epoch, then one learning epoch
    run(tmp_path, cache_dir, ["method=ascal", "encoder=lstm", "epochs=2", "method.clip.frames=30"])
    protocols = read_protocols(tmp_path)
    assert "linear" in protocols and any(p.startswith("knn") for p in protocols)
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    size = ckpt["state_dict"]["queue.keys"].shape[0]  # capped by the small-data rule on this tiny split
    assert int(ckpt["state_dict"]["queue.ptr"]) == 64 % size  # 2 epochs x 2 batches x 16 keys, wrapped


def test_runs_with_stgcn_encoder():
    # `method=ascal encoder=stgcn` composes and validates; AS-CAL's defaults (no head, raw dot products) train it
    from skelcl.build import validate

    cfg = compose_config(["method=ascal", "encoder=stgcn"])
    validate(cfg)
    encoder = OmegaConf.create({k: v for k, v in cfg.encoder.items() if k != "name"})
    model = make(encoder=encoder, frames=12, queue=16)
    assert model.embed_dim == model.encoder_q.out_dim
    opt = model.configure_optimizers()["optimizer"]
    for _ in range(2):
        loss, _ = model.pretrain_loss(clips(n=4))
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.momentum_update()
        assert torch.isfinite(loss)
    assert all(p.grad is None for p in model.encoder_k.parameters())
