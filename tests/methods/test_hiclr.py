"""HiCLR: loss assembly against fixed test vectors, the joint mask and its learnable fill, growing views,
DAE / SkeleAdaIN flags, gradient / EMA / queue contracts, other layouts and encoders, configs and presets, and a
tiny end-to-end run through the Hydra entry point."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from skelcl.data.layouts import KINECT20, NTU25
from skelcl.methods.hiclr import HiCLR, hierarchical_losses, perturb_adjacency
from skelcl.schedules import lr_factor
from tests.conftest import TINY_RUN, compose_config, run_train

K, TAU = 32768, 0.07
H_P = 0.30691  # entropy of softmax([1/tau, 0 x K])
NCE = math.log(1 + K * math.exp(-1 / TAU))  # 0.020269
CONF = Path(__file__).resolve().parents[2] / "src" / "skelcl" / "conf"
TINY_STGCN = {"_target_": "skelcl.encoders.stgcn.STGCN", "hidden_channels": 4, "hidden_dim": 16, "dropout": 0.5}
TINY_DSTA = {"_target_": "skelcl.encoders.dsta.DSTANet", "blocks": [[8, 8, 4, 1], [8, 16, 4, 2]],
             "attention_dropout": 0.5}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: intra-op threads only add contention on a shared CPU (tenfold slower under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def method_kwargs() -> dict:
    kw = OmegaConf.to_container(OmegaConf.load(CONF / "method" / "hiclr.yaml").model)
    kw.pop("_target_")
    return kw


def make(layout=NTU25, bodies=2, frames=12, seed=0, encoder=None, **over) -> HiCLR:
    torch.manual_seed(seed)
    kw = method_kwargs()
    kw.update(queue_size=16, proj_hidden=16, proj_dim=8)
    kw.update(over)
    return HiCLR(layout=layout, num_classes=5, bodies=bodies, encoder=OmegaConf.create(encoder or TINY_STGCN),
                 clip={"frames": frames, "temporal": "resize"}, **kw)


def clips(n=4, frames=12, v=25, m=2, seed=1) -> torch.Tensor:
    return torch.randn(n, 3, frames, v, m, generator=torch.Generator().manual_seed(seed))


def unit(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


# ------------------------------------------------------------------------------------------------ loss
def test_loss_vectors_at_epoch_one():
    z = unit(3, 128)
    out = hierarchical_losses(z, z, z, z, torch.zeros(K, 128, dtype=torch.float64), TAU)
    assert out["logits"].shape == (3, 1 + K)
    assert out["contrast"].item() == pytest.approx(0.020269, abs=1e-6)
    assert out["contrast"].item() == pytest.approx(NCE, rel=1e-6)
    assert out["h1"].item() == pytest.approx(H_P, abs=1e-5) and out["h2"].item() == pytest.approx(H_P, abs=1e-5)
    assert out["loss"].item() == pytest.approx(NCE + H_P, abs=1e-5)  # L_nce + (h1 + h2) / 2


def test_hierarchical_terms_are_asymmetric():
    k, queue = unit(4, 16, seed=1), unit(32, 16, seed=2)
    q0, q1, q2 = (unit(4, 16, seed=s).requires_grad_(True) for s in (3, 4, 5))
    hierarchical_losses(q0, q1, q2, k, queue, TAU)["h1"].backward()
    assert q0.grad is None or torch.count_nonzero(q0.grad) == 0  # weak branch is a detached target
    assert torch.count_nonzero(q1.grad) > 0 and q2.grad is None
    q0.grad = q1.grad = None
    hierarchical_losses(q0, q1, q2, k, queue, TAU)["h2"].backward()
    assert q1.grad is None or torch.count_nonzero(q1.grad) == 0
    assert torch.count_nonzero(q2.grad) > 0 and q0.grad is None


def test_nnm_positives_and_loss():
    queue = unit(50, 16, seed=7)
    k = unit(6, 16, seed=8)
    q0, q1, q2 = unit(6, 16, seed=9), unit(6, 16, seed=10), unit(6, 16, seed=11)
    out = hierarchical_losses(q0, q1, q2, k, queue, TAU, mining=True)
    pos = out["positives"]
    assert pos.shape == (6, 51) and pos[:, 0].all()
    assert set(pos.sum(1).tolist()) <= {2, 3, 4}
    logp = F.log_softmax(out["logits"], dim=1)
    expect = -((logp * pos).sum(1) / pos.sum(1)).mean()
    assert out["contrast"].item() == pytest.approx(expect.item(), rel=1e-9)
    # all three branches agree on the nearest queue entry j: P = {0, 1 + j}
    q = unit(1, 16, seed=12)
    queue2 = queue.clone()
    queue2[5] = q[0]
    same = hierarchical_losses(q, q, q, k[:1], queue2, TAU, mining=True)
    assert same["positives"].nonzero()[:, 1].tolist() == [0, 6]
    lp = F.log_softmax(same["logits"], dim=1)[0]
    assert same["contrast"].item() == pytest.approx(-0.5 * (lp[0] + lp[6]).item(), rel=1e-9)
    # h terms do not change when NNM replaces InfoNCE
    plain = hierarchical_losses(q0, q1, q2, k, queue, TAU)
    assert torch.equal(plain["h1"], out["h1"]) and torch.equal(plain["h2"], out["h2"])


def test_nnm_switches_on_at_epoch_151_and_rescales():
    m = make()
    assert not m.nnm_active(149) and m.nnm_active(150)  # 0-based 150 = 1-based epoch 151 of 300
    short = make(run_epochs=30)
    assert not short.nnm_active(14) and short.nnm_active(15)


# ------------------------------------------------------------------------------------------------ joint mask
def masked_entries(x: torch.Tensor, fill: float) -> torch.Tensor:
    """(N, T, V, M) bool of entries equal to the fill; asserts the mask covers all channels or none."""
    eq = x == fill
    assert torch.equal(eq.any(dim=1), eq.all(dim=1))
    return eq.all(dim=1)


def test_views_shapes_and_shared_joint_mask():
    m = make(frames=50)
    with torch.no_grad():
        m.mask_param.fill_(0.375)
    x = clips(n=3, frames=50) + 5.0
    views = m.draw_views(x)
    assert list(views) == ["query", "key", "stronger", "strongest"]
    assert all(v.shape == (3, 3, 50, 25, 2) for v in views.values())
    g = masked_entries(views["strongest"], 0.375)  # (N, T, V, M)
    assert (g.sum(dim=2) == 2).all()  # floor(25 * 0.1) = 2 joints per frame
    assert int(g[0, :, :, 0].sum()) == 100  # T x 2
    assert (g == g[:1, :, :, :1]).all()  # the same G for every sample and body
    assert not masked_entries(views["stronger"], 0.375).any()


def test_mask_per_sample_and_default_fill_zero():
    m = make(frames=20, mask_per_sample=True)
    assert m.mask_param.item() == 0.0
    with torch.no_grad():
        m.mask_param.fill_(-2.5)
    g = masked_entries(m.draw_views(clips(n=6, frames=20) + 5.0)["strongest"], -2.5)
    assert (g.sum(dim=2) == 2).all() and (g == g[:, :, :, :1]).all()
    assert not (g == g[:1]).all()  # different masks per sample


@pytest.mark.parametrize("stream", ["motion", "bone"])
def test_mask_applies_after_stream_conversion(stream):
    m = make(frames=16, stream=stream)
    with torch.no_grad():
        m.mask_param.fill_(9.0)
    g = masked_entries(m.draw_views(clips(frames=16))["strongest"], 9.0)
    assert (g.sum(dim=2) == 2).all()  # fill survives: not differenced away by the motion / bone transform


# ------------------------------------------------------------------------------------------------ gradients, EMA, queue
def test_gradients_stop_gradient_and_ema():
    m = make(momentum=0.9)
    q0 = {n: p.detach().clone() for n, p in m.encoder_q.named_parameters()}
    k0 = {n: p.detach().clone() for n, p in m.encoder_k.named_parameters()}
    loss, logs = m.pretrain_loss(clips())
    loss.backward()
    assert {"loss_nce", "loss_h1", "loss_h2", "instance_acc", "mask_param"} <= set(logs)
    for p in [*m.encoder_k.parameters(), *m.projector_k.parameters()]:
        assert not p.requires_grad and p.grad is None
    for name, p in [*m.encoder_q.named_parameters(), *m.projector_q.named_parameters()]:
        assert p.grad is not None and torch.count_nonzero(p.grad) > 0, name
    assert m.mask_param.requires_grad and m.mask_param.grad is not None and m.mask_param.grad.abs() > 0
    buffers = dict(m.named_buffers())
    assert "queue.keys" in buffers and all(n != "queue.keys" for n, _ in m.named_parameters())
    # the key encoder moved by exactly one EMA step (before the key pass, from the pre-step query weights)
    for n, p in m.encoder_k.named_parameters():
        assert torch.allclose(p, 0.9 * k0[n] + 0.1 * q0[n], atol=1e-7), n
    # the mask token is not part of the EMA and is trained with weight decay like every parameter
    ema = {id(p) for pair in m.momentum_pairs() for mod in pair for p in mod.parameters()}
    assert id(m.mask_param) not in ema
    with torch.no_grad():
        m.mask_param.fill_(0.5)
    opt = m.configure_optimizers()["optimizer"]
    assert any(p is m.mask_param for grp in opt.param_groups for p in grp["params"])
    assert opt.param_groups[0]["weight_decay"] == pytest.approx(1e-4)


def test_queue_holds_this_steps_keys():
    m = make()
    keys = []
    embed_k = m.embed_k

    def record(x):
        keys.append(embed_k(x))
        return keys[-1]

    m.embed_k = record
    before = m.queue.keys.clone()
    m.pretrain_loss(clips(n=4))
    assert torch.equal(m.queue.keys[:4], keys[0]) and torch.equal(m.queue.keys[4:], before[4:])
    assert int(m.queue.ptr) == 4
    m.pretrain_loss(clips(n=4, seed=2))
    assert torch.equal(m.queue.keys[4:8], keys[1]) and int(m.queue.ptr) == 8


def test_deterministic_under_seed():
    def one_step():
        m = make(seed=3)
        opt = m.configure_optimizers()["optimizer"]
        loss, _ = m.pretrain_loss(clips())
        loss.backward()
        opt.step()
        return loss.detach(), torch.cat([p.detach().flatten() for p in m.parameters()])

    (l1, p1), (l2, p2) = one_step(), one_step()
    assert torch.equal(l1, l2) and torch.equal(p1, p2)


# ------------------------------------------------------------------------------------------------ layouts, encoders
def test_kinect20_single_body_bone_stream():
    m = make(layout=KINECT20, bodies=1, stream="bone")
    with torch.no_grad():
        m.mask_param.fill_(3.0)
    x = clips(v=20, m=1)
    g = masked_entries(m.draw_views(x)["strongest"], 3.0)
    assert g.shape == (4, 12, 20, 1) and (g.sum(dim=2) == 2).all()  # floor(20 * 0.1) = 2
    loss, _ = m.pretrain_loss(x)
    assert torch.isfinite(loss)
    loss.backward()
    assert m.mask_param.grad is not None


def test_dsta_transformer_encoder():
    m = make(encoder=TINY_DSTA, frames=8)
    loss, _ = m.pretrain_loss(clips(frames=8))
    loss.backward()
    assert torch.isfinite(loss) and m.mask_param.grad.abs() > 0
    assert all(not p.requires_grad for p in m.encoder_k.parameters())
    with pytest.raises(ValueError, match="graph.*adjacency.*DSTANet offers"):
        make(encoder=TINY_DSTA, frames=8, dae_drop=0.1)


def test_dsta_finetune_uses_evaluation_settings():
    """Official DSTA recipe: attentiondrop 0 and fix_conv1 in finetuning, while pretraining keeps both as configured."""
    from skelcl.config import FinetuneConfig
    from skelcl.eval.finetune import Classifier

    m = make(encoder=TINY_DSTA, frames=8)
    clf = Classifier(m, FinetuneConfig(bn_frozen=False), seed=0)
    assert all(d.p == 0.0 for d in clf.encoder.modules() if isinstance(d, torch.nn.Dropout))
    assert not any(p.requires_grad for p in clf.encoder.proj.parameters())
    assert all(p.requires_grad for n, p in clf.encoder.named_parameters() if not n.startswith("proj."))
    clf.train()
    batch = {"x": clips(frames=8), "length": torch.full((4,), 8), "label": torch.zeros(4, dtype=torch.long)}
    torch.testing.assert_close(clf(batch), clf(batch))  # no dropout left (BN uses batch statistics either way)
    assert m.encoder_q.graph_layers[0].drop_res.p == 0.5  # the pretrained method is untouched
    assert all(p.requires_grad for p in m.encoder_q.proj.parameters())


# ------------------------------------------------------------------------------------------------ optional strong augs
def test_perturb_adjacency():
    a = torch.rand(3, 25, 25) * (torch.rand(3, 25, 25) < 0.2)
    g = torch.Generator().manual_seed(0)
    d = perturb_adjacency(a, 0.5, 0.0, g)
    kept = d != 0
    ratio = d[kept] / a[kept]
    assert torch.allclose(ratio, ratio[0])  # kept entries share one 1 / (1 - r) rescale, r < 0.5
    assert 1.0 <= ratio[0].item() < 2.0 and not torch.equal(d, a)
    s = perturb_adjacency(a, 0.0, 0.9, torch.Generator().manual_seed(1))
    assert s.sum().item() == pytest.approx(a.sum().item(), rel=1e-5)  # total weight kept
    assert (s[a == 0] > 0).any()  # edges added where there were none
    assert torch.equal(perturb_adjacency(a, 0.0, 0.0, g), a)


def test_dae_perturbs_only_the_strongest_branch():
    m = make(dae_drop=0.5, dae_add=0.05)
    blocks = m.encoder_q.st_gcn_networks
    x = m.draw_views(clips())["strongest"]
    m.eval()  # no dropout: differences come from the adjacency only
    with torch.no_grad():
        plain = m.embed_q(x)
        with m.edge_perturbation():
            dropped = m.embed_q(x)
        again = m.embed_q(x)
    assert not torch.allclose(plain, dropped) and torch.equal(plain, again)
    assert all(len(b._forward_pre_hooks) == 0 for b in blocks)  # hooks removed
    m.train()
    m.pretrain_loss(clips())[0].backward()
    assert all(p.grad is not None for p in m.encoder_q.edge_importance)
    off = make()
    with off.edge_perturbation():
        assert all(len(b._forward_pre_hooks) == 0 for b in off.encoder_q.st_gcn_networks)


def test_skele_adain_flag():
    x = clips() + 1.0
    on, off = make(skele_adain=1.0, mask_ratio=0.0), make(mask_ratio=0.0)
    assert torch.equal(off.strong_augment(x), x)
    y = on.strong_augment(x)
    assert not torch.allclose(y, x) and y.shape == x.shape


def test_nested_views_grow_from_the_weaker_view():
    kw = method_kwargs()
    base = kw["views"]["query"]
    views = {"query": base, "key": base, "stronger": [*base, {"op": "axis_mask", "p": 1.0, "axis": 0}],
             "strongest": [*base, {"op": "axis_mask", "p": 1.0, "axis": 0}]}
    m = make(views=views, nested_views=True, mask_ratio=0.0)
    assert m.nested_tails["stronger"].op_names == ["axis_mask"] and len(m.nested_tails["strongest"]) == 0
    v = m.draw_views(clips())
    expect = v["query"].clone()
    expect[:, 0] = 0
    assert torch.equal(v["stronger"], expect) and torch.equal(v["strongest"], expect)
    indep = make(views=views, mask_ratio=0.0).draw_views(clips())
    assert not torch.equal(indep["stronger"][:, 1:], indep["query"][:, 1:])  # independent draws by default


# ------------------------------------------------------------------------------------------------ configs and presets
def test_finetune_warmup_schedule():
    ft = compose_config(["method=hiclr"]).method.finetune
    assert ft.bn_frozen is False and ft.nesterov is True and ft.warmup_epochs == 5
    lr = [ft.lr * lr_factor(e, list(ft.milestones), ft.gamma, ft.warmup_epochs) for e in range(60)]
    assert lr[:5] == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1])  # 1-based epochs 1-5
    assert lr[29] == pytest.approx(0.1) and lr[30] == pytest.approx(0.01) and lr[55] == pytest.approx(0.001)


def hiclr_presets() -> list[str]:
    return sorted(p.stem for p in (CONF / "experiment").glob("hiclr_*.yaml"))


def test_preset_set_and_headers():
    cells = {f"hiclr_{d}_{s}" for d in ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "pku1", "pku2")
             for s in ("joint", "motion", "bone")} | {"hiclr_dsta_ntu60_xsub_joint"}
    assert set(hiclr_presets()) == cells
    for name in cells:
        text = (CONF / "experiment" / f"{name}.yaml").read_text()
        assert text.startswith("# @package _global_") and "reported:" in text and f"experiment={name}" in text


def test_presets_compose_and_validate():
    from skelcl.build import validate

    expect = {"pku1": (600, [500], 300, 100, [80]), "pku2": (1500, [1250], 750, 200, [160])}
    for name in [p for p in hiclr_presets() if p.endswith("_joint")] + ["hiclr_ntu60_xsub_motion",
                                                                          "hiclr_pku2_bone"]:
        cfg = compose_config([f"experiment={name}", "dataset.root=/data"])
        typed = validate(cfg)
        s, lin = typed.schedule, typed.protocols["linear"]
        assert cfg.method.name == "hiclr" and cfg.stream.name == name.split("_")[-1]
        ds = name.split("_")[-2] if name.split("_")[-2].startswith("pku") else None
        if ds:
            assert (s.epochs, s.milestones, cfg.method.model.mining_epoch, lin.epochs, lin.milestones) == expect[ds]
        else:
            assert (s.epochs, s.milestones, cfg.method.model.mining_epoch) == (300, [250], 150)
        if "dsta" in name:
            assert cfg.encoder.name == "dsta" and s.weight_decay == 5e-4 and lin.milestones == [30, 80]
            assert cfg.method.finetune.epochs == 80 and cfg.method.finetune.augment is True
        else:
            assert cfg.encoder.name == "stgcn" and s.weight_decay == 1e-4


# ------------------------------------------------------------------------------------------------ end to end
def run(tmp_path, overrides):
    return run_train(overrides, tmp_path, tmp_path / "cache", tiny=TINY_RUN)


@pytest.mark.slow
def test_end_to_end_pretrain_linear_knn(tmp_path):
    # a narrower encoder and shorter clips keep the CPU cost small; the wiring under test is the same
    records = run(tmp_path, ["method=hiclr", "method.model.queue_size=64", "encoder.hidden_channels=8",
                             "method.clip.frames=24"])
    assert {r.protocol for r in records} == {"linear", "knn(k=20)", "knn(k=1)"}
    rows = json.loads((tmp_path / "results.json").read_text())
    assert isinstance(rows, list)
    protocols = {r["protocol"] for r in rows}
    assert "linear" in protocols and any(p.startswith("knn") for p in protocols)
    assert all(r["method"] == "hiclr" for r in rows)
