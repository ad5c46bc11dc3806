"""AimCLR: EADM, loss assembly (test vectors), views and quirk flags, gradient/EMA/queue contracts,
other layouts, and a tiny end-to-end run through the Hydra entry point."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from skelcl.data.layouts import KINECT20, NTU25
from skelcl.methods.aimclr import AimCLR, aimclr_loss, apply_quirk_flags, extreme_ops, normal_ops
from skelcl.methods.eadm import EADM, attention_drop, simam_attention
from skelcl.methods.losses import moco_logits, nearest_neighbour_positives
from skelcl.schedules import lr_factor
from tests.conftest import TINY_RUN, compose_config, run_train

K, TAU = 32768, 0.07
CONF = Path(__file__).resolve().parents[2] / "src" / "skelcl" / "conf"
TINY_ENCODER = {"_target_": "skelcl.encoders.stgcn.STGCN", "hidden_channels": 4, "hidden_dim": 16, "dropout": 0.5,
                "graph": "stgcn"}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: intra-op threads only add synchronisation cost (badly so on a loaded 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def method_views() -> dict:
    return OmegaConf.to_container(OmegaConf.load(CONF / "method" / "aimclr.yaml").model.views)


def make(layout=NTU25, bodies=2, frames=12, seed=0, **kw) -> AimCLR:
    torch.manual_seed(seed)
    args = dict(layout=layout, num_classes=5, bodies=bodies, encoder=OmegaConf.create(TINY_ENCODER),
                clip={"frames": frames, "temporal": "resize"}, views=method_views(), queue_size=16, proj_hidden=16,
                proj_dim=8)
    args.update(kw)
    return AimCLR(**args)


def clips(n=4, frames=12, v=25, m=2, seed=1) -> torch.Tensor:
    return torch.randn(n, 3, frames, v, m, generator=torch.Generator().manual_seed(seed))


def unit(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


# ------------------------------------------------------------------------------------------------------ EADM
def test_eadm_constant_channels_drop_nothing():
    f = torch.arange(6.0).view(1, 6, 1, 1).expand(2, 6, 5, 25).contiguous()
    assert torch.allclose(simam_attention(f), torch.full_like(f, torch.sigmoid(torch.tensor(0.5)).item()))
    assert torch.equal(EADM()(f), f)


def test_eadm_single_spike_is_the_only_drop():
    f = torch.ones(2, 8, 13, 25)
    f[1, 3, 7, 11] = 2.0
    out = EADM(threshold=0.7)(f)
    n = f.numel()
    assert out[1, 3, 7, 11] == 0
    others = torch.ones_like(f, dtype=torch.bool)
    others[1, 3, 7, 11] = False
    assert torch.allclose(out[others], torch.full((n - 1,), n / (n - 1)))  # no joint dropped: only the element mask


def reference_drop(x, theta=0.7, lam=1e-4):
    """The official Simam_Drop formulation (permute/view to (NM, C·V, T), in-place 0/1 masks), for comparison."""
    nm, c, t, v = x.shape
    d = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
    att = torch.sigmoid(d / (4 * (d.sum(dim=[2, 3], keepdim=True) / (v * t - 1) + lam)) + 0.5)
    ms = att.mean(dim=[1, 2]).clone()
    ms = (ms < theta).float().view(nm, 1, 1, v)
    x1 = x * ms * ms.numel() / ms.sum()
    mt = (att.permute(0, 1, 3, 2).reshape(nm, c * v, t) < theta).float()
    x1 = x1.permute(0, 1, 3, 2).reshape(nm, c * v, t)
    return (x1 * mt * mt.numel() / mt.sum()).view(nm, c, v, t).permute(0, 1, 3, 2)


def test_eadm_matches_official_formulation_and_drops_a_salient_joint():
    g = torch.Generator().manual_seed(0)
    f = torch.rand(4, 6, 5, 25, generator=g) * 0.1
    f[:, :, :, 3] += 10 * torch.rand(4, 6, 5, generator=g)  # joint 3 deviates in every channel: its mean A >= θ
    a = simam_attention(f)
    assert (a.mean(dim=(1, 2))[:, 3] >= 0.7).all()
    out = EADM()(f)
    assert torch.allclose(out, reference_drop(f), atol=1e-6)
    assert (out[:, :, :, 3] == 0).all()


def test_eadm_gradient_only_through_kept_entries_and_legacy_noop():
    f = torch.rand(2, 4, 5, 25, generator=torch.Generator().manual_seed(3)).requires_grad_(True)
    out = attention_drop(f, simam_attention(f))
    out.sum().backward()
    keep = out.detach() != 0
    assert (f.grad[~keep] == 0).all() and (f.grad[keep] > 0).all()
    assert torch.allclose(f.grad[keep], (out.detach() / f.detach())[keep])  # the mask scalars, no term through A
    x = torch.randn(2, 4, 5, 25)
    assert torch.equal(EADM(legacy_noop=True)(x), x)


# ---------------------------------------------------------------------------------------------------- losses
def three_logits(z, ze, zed, k, queue):
    return [moco_logits(u, k, queue, TAU) for u in (z, ze, zed)]


def test_infonce_and_d3m_vectors_and_logit_shape():
    z = unit(4, 128).requires_grad_(True)
    queue = torch.zeros(K, 128, dtype=torch.float64)
    k = z.detach()
    logits = three_logits(z, z.detach().clone(), z.detach().clone(), k, queue)
    assert logits[0].shape == (4, 1 + K)
    loss, logs = aimclr_loss(*logits)
    assert logs["loss_contrast"].item() == pytest.approx(math.log(1 + K * math.exp(-1 / TAU)), rel=1e-6)
    assert logs["loss_contrast"].item() == pytest.approx(0.020269, abs=1e-6)
    p = F.softmax(logits[0].detach(), dim=1)
    assert p[0, 0].item() == pytest.approx(0.97993, abs=1e-5)
    entropy = -(p * p.clamp_min(1e-300).log()).sum(1).mean().item()
    assert logs["loss_d3m"].item() == pytest.approx(entropy, rel=1e-9)
    assert logs["loss_d3m"].item() == pytest.approx(0.30691, abs=1e-5)
    assert logs["nnm_active"].item() == 0 and logs["nnm_positives"].item() == 1
    # D3M's target is detached: z's gradient is InfoNCE's alone
    loss.backward()
    grad_total = z.grad.clone()
    z.grad = None
    F.log_softmax(moco_logits(z, k, queue, TAU), dim=1)[:, 0].mean().neg().backward()
    assert torch.allclose(grad_total, z.grad)


def test_nnm_vector_two_positives():
    n = 3
    queue = unit(64, 16, seed=1).clone()
    z = unit(n, 16, seed=2)
    j = torch.tensor([5, 17, 40])
    queue[j] = z  # column j_n of Q equals z_n; z_e = z_ed = z share that arg-max
    k = unit(n, 16, seed=3)
    logits = three_logits(z, z, z, k, queue)
    pos = nearest_neighbour_positives([z, z, z], queue, topk=1)
    assert pos.sum(1).tolist() == [2, 2, 2] and pos[torch.arange(n), j + 1].all()
    loss, logs = aimclr_loss(*logits, positives=pos, nnm_mode="mean_log")
    logp = F.log_softmax(logits[0], dim=1)
    expected = (-(logp[:, 0] + logp[torch.arange(n), j + 1]) / 2).mean()
    assert logs["loss_contrast"].item() == pytest.approx(expected.item(), rel=1e-9)
    assert loss.item() == pytest.approx((expected + logs["loss_d3m"]).item(), rel=1e-9)
    _, logs_sum = aimclr_loss(*logits, positives=pos, nnm_mode="log_sum")
    expected_sum = -(logp[:, 0].exp() + logp[torch.arange(n), j + 1].exp()).log().mean()
    assert logs_sum["loss_contrast"].item() == pytest.approx(expected_sum.item(), rel=1e-9)


def test_nnm_four_positives_when_top1_differ():
    queue = torch.eye(8, dtype=torch.float64)
    z, ze, zed = queue[0:1], queue[1:2], queue[2:3]
    pos = nearest_neighbour_positives([z, ze, zed], queue, topk=1)
    assert pos.sum().item() == 4 and pos[0, [0, 1, 2, 3]].all()
    _, logs = aimclr_loss(*three_logits(z, ze, zed, queue[3:4], queue), positives=pos)
    assert logs["nnm_positives"].item() == 4 and logs["nnm_active"].item() == 1


# ------------------------------------------------------------------------------------------------------ views and flags
def test_config_views_are_the_faithful_recipe():
    views = apply_quirk_flags(method_views(), blur_normalize=False, flip_reflect_coords=False,
                              noise_mask_empty_bodies=False)
    assert views["query"] == normal_ops() and views["key"] == normal_ops()
    assert views["extreme"] == extreme_ops()
    names = [s["op"] for s in extreme_ops("123456")]
    assert names[2:] == ["flip", "rotate", "gaussian_noise", "gaussian_blur", "axis_mask", "time_reverse"]
    legacy = [s["op"] for s in extreme_ops(legacy_release=True)]
    assert legacy[2:] == ["flip", "rotate", "time_reverse", "gaussian_noise", "gaussian_blur", "axis_mask"]


def test_quirk_flags_reach_the_ops_and_conflicts_fail():
    model = make(blur_normalize=True, flip_reflect_coords=True, noise_mask_empty_bodies=True)
    specs = {s["op"]: s for s in model.views["extreme"].specs}
    assert specs["gaussian_blur"]["normalize"] is True
    assert specs["flip"]["reflect_coords"] is True and specs["gaussian_noise"]["mask_empty_bodies"] is True
    faithful = {s["op"]: s for s in make().views["extreme"].specs}
    assert faithful["gaussian_blur"]["normalize"] is False and faithful["flip"]["reflect_coords"] is False
    bad = method_views()
    bad["extreme"][5]["normalize"] = True
    with pytest.raises(ValueError, match="blur_normalize"):
        apply_quirk_flags(bad, blur_normalize=False)


def test_bad_settings_fail_early():
    with pytest.raises(ValueError, match="nnm_loss"):
        make(nnm_loss="sum")
    with pytest.raises(ValueError, match="feature_map.*RNNEncoder offers none"):
        make(encoder=OmegaConf.create({"_target_": "skelcl.encoders.rnn.RNNEncoder", "hidden": 8}))
    views = method_views()
    del views["extreme"]
    with pytest.raises(ValueError, match="extreme"):
        make(views=views)


# ------------------------------------------------------------------------------------------------------ method step
def test_step_gradients_ema_and_queue():
    model = make(momentum=0.9)
    model.train()
    q0 = [p.detach().clone() for p in [*model.encoder_q.parameters(), *model.projector_q.parameters()]]
    k0 = [p.detach().clone() for p in [*model.encoder_k.parameters(), *model.projector_k.parameters()]]
    keys = []
    embed_k = model.embed_k
    model.embed_k = lambda x: keys.append(embed_k(x)) or keys[-1]
    x = clips()
    loss, logs = model.pretrain_loss(x)
    assert torch.isfinite(loss) and logs["nnm_active"].item() == 0  # 300-epoch schedule, epoch 0: InfoNCE
    # the EMA ran once, before the key pass, from the pre-step query weights
    for pq, pk, k_new in zip(q0, k0, [*model.encoder_k.parameters(), *model.projector_k.parameters()]):
        assert torch.allclose(k_new, 0.9 * pk + 0.1 * pq, atol=1e-7)
        assert not k_new.requires_grad
    # queue rows 0..N-1 hold this batch's keys, pointer advanced by N
    assert torch.equal(model.queue.keys[:4], keys[0]) and int(model.queue.ptr) == 4
    loss.backward()
    for name, p in [*model.encoder_q.named_parameters(), *model.projector_q.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in [*model.encoder_k.parameters(), *model.projector_k.parameters()])
    assert "keys" in dict(model.queue.named_buffers())
    assert any("edge_importance" in n for n, _ in model.encoder_q.named_parameters())


def test_extreme_branch_shares_backbone_and_projector():
    model = make(eadm_legacy_noop=True).eval()
    x = clips()
    z_e, z_ed = model.embed_extreme(x)
    assert torch.equal(z_e, z_ed)  # legacy no-op EADM: z_ed ≡ z_e
    assert torch.allclose(z_e, model.embed_q(x), atol=1e-6)  # same f_q and projector as the normal branch
    z_e, z_ed = make().eval().embed_extreme(x)
    assert z_e.shape == z_ed.shape == (4, 8) and torch.allclose(z_e.norm(dim=1), torch.ones(4))


def test_deterministic_under_seed():
    def run():
        model = make(seed=7).train()
        loss, _ = model.pretrain_loss(clips())
        loss.backward()
        return loss.detach(), model.encoder_q.data_bn.weight.grad.clone(), model.queue.keys.clone()

    a, b = run(), run()
    assert all(torch.equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("stream", ["joint", "motion", "bone"])
def test_other_layout_single_body_and_streams(stream):
    model = make(layout=KINECT20, bodies=1, stream=stream, mining_epoch=0).train()  # NNM from the first epoch
    loss, logs = model.pretrain_loss(clips(v=20, m=1))
    assert torch.isfinite(loss) and logs["nnm_active"].item() == 1
    assert 2 <= logs["nnm_positives"].item() <= 4
    loss.backward()


def test_schedule_switches():
    model = make()
    assert model.run_epochs == 300 and model.mining_epoch == 150
    assert not model.nnm_active(149) and model.nnm_active(150)  # 1-based 150 InfoNCE, 151 NNM
    assert lr_factor(249, [250], 0.1, 0) == 1.0 and lr_factor(250, [250], 0.1, 0) == pytest.approx(0.1)
    short = make(run_epochs=30)
    assert not short.nnm_active(14) and short.nnm_active(15)


# ------------------------------------------------------------------------------------------------------ configs
def test_method_config_values():
    cfg = compose_config(["method=aimclr"]).method  # the family's shared recipe plus AimCLR's own values
    assert cfg.schedule.lr == 0.1 and list(cfg.schedule.milestones) == [250] and cfg.schedule.epochs == 300
    assert cfg.linear.lr == 3.0 and cfg.linear.epochs == 100 and list(cfg.linear.milestones) == [80]
    assert cfg.finetune.bn_frozen is True
    m = cfg.model
    assert (m.mining_epoch, m.topk, m.nnm_loss, m.key_init, m.init) == (150, 1, "mean_log", "independent", "normal")
    assert m.blur_normalize is False and m.eadm_legacy_noop is False


PRESETS = sorted(p.stem for p in (CONF / "experiment").glob("aimclr_*.yaml"))


def test_presets_cover_the_reported_cells():
    cells = {f"aimclr_{d}_{s}" for d in ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "pku1")
             for s in ("joint", "motion", "bone")}
    assert set(PRESETS) == cells
    for name in PRESETS:
        text = (CONF / "experiment" / f"{name}.yaml").read_text()
        assert text.startswith("# @package _global_") and "reported:" in text and f"experiment={name}" in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_composes(name):
    dataset = OmegaConf.load(CONF / "experiment" / f"{name}.yaml").defaults[2]["override /dataset"]
    cfg = compose_config([f"experiment={name}"])
    assert cfg.method.name == "aimclr" and cfg.stream.name == name.split("_")[-1]
    assert dataset in (cfg.dataset.name, f"{cfg.dataset.name}_{cfg.dataset.split}")
    assert cfg.method.model.queue_size == 32768 and cfg.get("epochs") is None


# ------------------------------------------------------------------------------------------------------ end to end
def run(tmp_path, overrides):
    return run_train(overrides, tmp_path, tmp_path / "cache", tiny=TINY_RUN)


@pytest.mark.slow
def test_end_to_end_pretrain_linear_knn(tmp_path):
    # a slim encoder and short clips keep this a smoke test of the wiring (pretrain -> features -> linear, knn)
    run(tmp_path, ["method=aimclr", "method.model.queue_size=64", "encoder.hidden_channels=4", "encoder.hidden_dim=32",
                   "method.clip.frames=16"])
    rows = json.loads((tmp_path / "results.json").read_text())
    assert isinstance(rows, list)
    protocols = {r["protocol"] for r in rows}
    assert "linear" in protocols and any(p.startswith("knn") for p in protocols)
