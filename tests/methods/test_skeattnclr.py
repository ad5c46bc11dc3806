"""SkeAttnCLR: MHSAM + mask pooling, the three-term loss, gradient / stop-gradient paths, the key side pooled with the
query's mask, EMA, queue, SkeleMix view, determinism, another layout with M = 1, presets, and a tiny
end-to-end run (test vectors)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
import yaml
from omegaconf import OmegaConf

import skelcl.conf
from skelcl.augment.ops import part_swap_with_params
from skelcl.augment.streams import motion
from skelcl.data.layouts import KINECT20, NTU25
from skelcl.methods.attention_mask import AttentionMask, map_to_tokens, mask_pool
from skelcl.methods.losses import info_nce, moco_logits, moco_logits_extra_negative, multi_positive_nce
from skelcl.methods.skeattnclr import SkeAttnCLR
from tests.conftest import TINY_RUN, compose_config, run_train

CONF = Path(skelcl.conf.__file__).parent
METHOD_CFG = OmegaConf.load(CONF / "method" / "skeattnclr.yaml")
VIEWS = OmegaConf.to_container(METHOD_CFG.model.views)
T = 16


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # tiny tensors: thread start-up costs more than it saves on a shared 2-core machine
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def tiny_encoder(dropout: float = 0.5):
    return OmegaConf.create({"_target_": "skelcl.encoders.stgcn.STGCN", "hidden_channels": 4, "hidden_dim": 16,
                             "dropout": dropout, "graph": "agcn"})


def make_model(layout=NTU25, bodies=2, frames=T, stream="joint", dropout=0.5, seed=0, **kw) -> SkeAttnCLR:
    torch.manual_seed(seed)
    args = dict(layout=layout, num_classes=5, bodies=bodies, encoder=tiny_encoder(dropout), stream=stream,
                clip={"frames": frames, "temporal": "resize"}, views=VIEWS, queue_size=32, mask_heads=2,
                proj_hidden=16, proj_dim=8, pred_hidden=16, seed=seed)
    args.update(kw)
    return SkeAttnCLR(**args)


def clips(n=4, v=25, m=2, t=T, seed=1):
    return torch.randn(n, 3, t, v, m, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------------------- loss test vectors


def test_mask_pooling_identities():
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(6, 10, 8, generator=g, dtype=torch.float64)  # N=3, M=2
    gap = tokens.mean(1).view(3, 2, 8).mean(1)
    f_s, f_ns = mask_pool(tokens, torch.rand(6, 10, 8, generator=g, dtype=torch.float64), bodies=2)
    assert f_s.shape == f_ns.shape == (3, 8)
    assert torch.allclose(f_s + f_ns, gap, atol=1e-12)
    f_s, f_ns = mask_pool(tokens, torch.full_like(tokens, 0.5), bodies=2)
    assert torch.allclose(f_s, gap / 2, atol=1e-12) and torch.allclose(f_ns, gap / 2, atol=1e-12)
    f_s, f_ns = mask_pool(tokens, torch.ones_like(tokens), bodies=2)
    assert torch.equal(f_ns, torch.zeros_like(f_ns)) and torch.allclose(f_s, gap, atol=1e-12)


def test_tokens_are_time_major():
    fmap = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)  # (B, D, T', V)
    tok = map_to_tokens(fmap)
    assert tok.shape == (2, 20, 3)
    assert torch.equal(tok[1, 2 * 5 + 3], fmap[1, :, 2, 3])  # token t*V + v


def test_mhsam_shapes_and_explicit_attention_match():
    torch.manual_seed(0)
    att = AttentionMask(256, heads=8, scale=2.0)
    tokens = map_to_tokens(torch.randn(2, 256, 16, 25))  # N*M = 2
    assert tokens.shape == (2, 400, 256)
    a = att.attention(tokens)
    assert a.shape == (2, 8, 400, 400)
    assert torch.allclose(a.sum(-1), torch.ones(2, 8, 400), atol=1e-5)
    mask = att(tokens)
    assert mask.shape == (2, 400, 256) and bool(((mask > 0) & (mask < 1)).all())
    # forward (fused SDPA) == the reference math: sigmoid(2 * proj(concat_h(A_h V_h)))
    _, _, v = att._heads(tokens)
    ref = torch.sigmoid(2.0 * att.proj((a @ v).transpose(1, 2).reshape(2, 400, 256)))
    assert torch.allclose(mask, ref, atol=1e-5)
    assert att.qkv.bias is not None and att.qkv.weight.shape == (768, 256)


def test_mhsam_under_cpu_bf16_autocast_matches_fp32():
    """bf16 autocast on a CPU runs the attention kernel in fp32 (its bf16 backward is slow): the mask keeps the
    autocast dtype, matches the fp32 mask to bf16 precision and passes gradients to the tokens."""
    torch.manual_seed(0)
    att = AttentionMask(64, heads=8, scale=2.0)
    tokens = torch.randn(4, 60, 64, requires_grad=True)
    ref = att(tokens)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mask = att(tokens)
    assert mask.dtype == torch.bfloat16
    assert torch.allclose(mask.float(), ref, atol=1e-2)
    mask.float().sum().backward()
    assert tokens.grad is not None and bool(torch.isfinite(tokens.grad).all()) and tokens.grad.abs().sum() > 0


def test_logit_shapes_full_queue():
    k = 32768
    q = F.normalize(torch.randn(3, 128), dim=1)
    queue = torch.zeros(k, 128)
    assert moco_logits(q, q, queue, 0.2).shape == (3, k + 1)
    assert moco_logits_extra_negative(q, q, queue, q, 0.2).shape == (3, k + 2)


def test_model_shapes_full_width_heads():
    torch.manual_seed(0)
    m = make_model(encoder=OmegaConf.create({"_target_": "skelcl.encoders.stgcn.STGCN", "hidden_channels": 4,
                                             "hidden_dim": 256, "dropout": 0.0, "graph": "agcn"}),
                   mask_heads=8, proj_hidden=256, proj_dim=128, pred_hidden=256, frames=64)
    x = clips(n=2, t=64)
    fmap = m.encoder_q.forward_map(x)
    assert fmap.shape == (4, 256, 16, 25)
    q_s, q_ns, mask = m.query_parts(x)
    assert mask.shape == (4, 400, 256) and q_s.shape == q_ns.shape == (2, 128)
    f_s, _ = mask_pool(map_to_tokens(fmap), mask, 2)
    assert m.projector_q(f_s).shape == (2, 128)  # (N, 128, 1) of the 1x1-conv projector, squeezed
    # projector / predictors: Linear(no bias) - BN - ReLU - Linear(no bias)
    for head in (m.projector_q, m.predictor, m.predictor_s, m.predictor_ns):
        assert head[0].bias is None and head[3].bias is None and isinstance(head[1], torch.nn.BatchNorm1d)
    assert (m.predictor[0].in_features, m.predictor[0].out_features) == (128, 256)


# ---------------------------------------------------------------------------------------- pooling test vectors


def test_loss_vectors_zero_queue():
    k, tau = 32768, 0.2
    z = F.normalize(torch.randn(4, 128, dtype=torch.float64), dim=1)
    queue = torch.zeros(k, 128, dtype=torch.float64)
    l_g = info_nce(moco_logits(z, z, queue, tau)).item()
    assert l_g == pytest.approx(math.log(1 + k * math.exp(-1 / tau)), rel=1e-9)
    assert l_g == pytest.approx(5.4017, abs=1e-4)
    # salient: q_s = k_s, q_ns orthogonal to q_s -> the extra negative adds e^0
    q_s = torch.eye(128, dtype=torch.float64)[:4]
    q_ns = torch.eye(128, dtype=torch.float64)[4:8]
    l_s = info_nce(moco_logits_extra_negative(q_s, q_s, queue, q_ns, tau)).item()
    assert l_s == pytest.approx(math.log(1 + (k + 1) * math.exp(-5)), rel=1e-9)
    assert l_s == pytest.approx(5.4018, abs=1e-4)


def test_extra_negative_is_last_and_detached():
    q = F.normalize(torch.randn(3, 8), dim=1).requires_grad_(True)
    other = F.normalize(torch.randn(3, 8), dim=1).requires_grad_(True)
    logits = moco_logits_extra_negative(q, q.detach(), torch.randn(5, 8), other, 0.2)
    assert torch.allclose(logits[:, -1], (q * other).sum(1) / 0.2)
    info_nce(logits).backward()
    assert other.grad is None and q.grad is not None


def test_multi_positive_one_hot_equals_cross_entropy():
    logits = torch.randn(5, 40, dtype=torch.float64)
    one_hot = torch.zeros(5, 40, dtype=torch.bool)
    one_hot[:, 0] = True
    ce = F.cross_entropy(logits, torch.zeros(5, dtype=torch.long)).item()
    for mode in ("mean_log", "log_sum"):
        assert multi_positive_nce(logits, one_hot, mode).item() == pytest.approx(ce, abs=1e-6)
    assert info_nce(logits).item() == pytest.approx(ce, abs=1e-12)


# ------------------------------------------------------------------------------ gradients


def grads_of(module):
    return [p.grad for p in module.parameters()]


def test_gradient_paths_and_stop_gradients():
    m = make_model(mu=0.5)
    loss, logs = m.pretrain_loss(clips())
    loss.backward()
    for mod in (m.encoder_q, m.projector_q, m.mhsam, m.predictor, m.predictor_s, m.predictor_ns):
        assert all(g is not None for g in grads_of(mod)), mod
        assert any(g.abs().sum() > 0 for g in grads_of(mod)), mod
    for mod in (m.encoder_k, m.projector_k):
        assert all(not p.requires_grad and p.grad is None for p in mod.parameters())
    assert not m.queue.keys.requires_grad


def test_mu_one_zeroes_nonsalient_predictor_only():
    m = make_model(mu=1.0)
    loss, logs = m.pretrain_loss(clips())
    assert torch.allclose(loss, logs["loss_global"] + logs["loss_salient"])
    loss.backward()
    assert all(g is not None and torch.equal(g, torch.zeros_like(g)) for g in grads_of(m.predictor_ns))
    for mod in (m.projector_q, m.mhsam, m.predictor_s):
        assert any(g is not None and g.abs().sum() > 0 for g in grads_of(mod))


def test_mask_gets_gradient_only_through_part_losses():
    m = make_model()
    _, logs = m.pretrain_loss(clips())
    logs["loss_global"].backward(retain_graph=True)
    assert all(p.grad is None for p in m.mhsam.parameters())
    assert all(p.grad is None for p in [*m.predictor_s.parameters(), *m.predictor_ns.parameters()])
    logs["loss_nonsalient"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.mhsam.parameters())


def test_total_loss_combination():
    m = make_model(mu=0.3)
    loss, logs = m.pretrain_loss(clips())
    expected = logs["loss_global"] + 0.3 * logs["loss_salient"] + 0.7 * logs["loss_nonsalient"]
    assert torch.allclose(loss, expected)


# ----------------------------------------------------------------------------------- key pooled with the query's mask


def test_key_pooled_with_query_mask_from_mixed_view():
    m = make_model(dropout=0.0)
    x = clips()
    seen = {}
    key_embeddings = m.key_embeddings

    def spy(xk, mask):
        seen["xk"], seen["mask"] = xk, mask
        out = key_embeddings(xk, mask)
        seen["keys"] = out
        return out

    m.key_embeddings = spy
    g0 = m.generator.get_state()
    m.pretrain_loss(x)
    # the mask handed to the key side is the query MHSAM's mask of x_mix (not of x_k)
    m.generator.set_state(g0)
    xq, xk, xmix = m.draw_views(x)
    assert torch.equal(seen["xk"], xk)
    with torch.no_grad():
        mask_mix = m.mhsam(map_to_tokens(m.encoder_q.forward_map(xmix)))
        mask_k = m.mhsam(map_to_tokens(m.encoder_q.forward_map(xk)))
    assert torch.allclose(seen["mask"], mask_mix, atol=1e-6)
    assert not torch.allclose(seen["mask"], mask_k, atol=1e-3)
    assert seen["mask"].requires_grad  # it is the query's live mask ...
    k_z, k_s, k_ns = seen["keys"]
    assert not (k_z.requires_grad or k_s.requires_grad or k_ns.requires_grad)  # ... that reaches f_k detached
    # key features: the KEY encoder's own map of x_k, pooled with that mask, through the key projector
    with torch.no_grad():
        fmap = m.encoder_k.forward_map(xk)
        f_s, f_ns = mask_pool(map_to_tokens(fmap), mask_mix, 2)
        assert torch.allclose(k_s, F.normalize(m.projector_k(f_s), dim=1), atol=1e-5)
        assert torch.allclose(k_ns, F.normalize(m.projector_k(f_ns), dim=1), atol=1e-5)
        assert torch.allclose(k_z, F.normalize(m.projector_k(m.encoder_k.pool(fmap, 2)), dim=1), atol=1e-5)
    # a different mask changes the part keys, not the global key
    other = key_embeddings(xk, torch.rand_like(mask_mix))
    assert torch.allclose(other[0], k_z, atol=1e-5) and not torch.allclose(other[1], k_s, atol=1e-3)


# ----------------------------------------------------------------------------------------------- queue


def test_queue_holds_global_keys_only():
    m = make_model(dropout=0.0)
    seen = {}
    key_embeddings = m.key_embeddings
    m.key_embeddings = lambda xk, mask: seen.setdefault("keys", key_embeddings(xk, mask))
    before = m.queue.keys.clone()
    m.pretrain_loss(clips(n=4))
    k_z = seen["keys"][0]
    assert int(m.queue.ptr) == 4
    assert torch.equal(m.queue.keys[:4], k_z)
    assert torch.equal(m.queue.keys[4:], before[4:])


# -------------------------------------------------------------------------------------- SkeleMix


def test_skelemix_on_augmented_query_before_stream():
    m = make_model(frames=64)
    x = clips(n=3, t=64)
    g0 = m.generator.get_state()
    xq, xk, xmix = m.draw_views(x)
    # replay the draws: same generator, same order (query, key, swap)
    g = torch.Generator().set_state(g0)
    rq = m.views["query"](x, g)
    rk = m.views["key"](x, g)
    ref, joints, frames, offset = part_swap_with_params(rq, g, NTU25, (3, 4), 4, (4, 7))
    assert torch.equal(xq, rq) and torch.equal(xk, rk) and torch.equal(xmix, ref)
    assert int(offset) == 1  # N = 3
    assert int(frames.sum()) in (16, 20, 24, 28)
    sizes = {len(p) for p in NTU25.parts}
    assert 13 <= int(joints.sum()) <= 21 and sizes == {4, 5, 6}
    region = frames.view(1, 1, 64, 1, 1) & joints.view(1, 1, 1, 25, 1)
    region = region.expand_as(xq)
    assert torch.equal(xmix[~region], xq[~region])
    partner = xq.roll(-1, dims=0)  # x_q[(i + 1) mod N]
    assert torch.equal(xmix[region], partner[region])
    # motion stream: the swap is done on joints, then the stream is taken
    m.stream = "motion"
    m.generator.set_state(g0)
    mq, _, mmix = m.draw_views(x)
    assert torch.equal(mq, motion(xq)) and torch.equal(mmix, motion(xmix))


def test_skelemix_skipped_for_two_samples():
    m = make_model()
    x = clips(n=2)
    xq, _, xmix = m.draw_views(x)
    assert torch.equal(xq, xmix)
    loss, _ = m.pretrain_loss(x)
    assert torch.isfinite(loss)


# ------------------------------------------------------------------------------------------- EMA


def test_ema_with_zero_momentum_copies_whole_state():
    m = make_model()
    m.pretrain_loss(clips())  # moves BN running stats of both sides
    m.momentum_update(0.0)
    for (name, vq), (_, vk) in zip(m.encoder_q.state_dict().items(), m.encoder_k.state_dict().items()):
        assert torch.equal(vq, vk), name
    for vq, vk in zip(m.projector_q.state_dict().values(), m.projector_k.state_dict().values()):
        assert torch.equal(vq, vk)


def test_key_encoder_starts_independent():
    m = make_model()
    wq, wk = (e.st_gcn_networks[1].gcn.conv.weight for e in (m.encoder_q, m.encoder_k))
    assert not torch.equal(wq, wk)
    assert m.ema_scope == "state" and m.momentum_update_at == "after_step" and m.momentum_schedule == "cosine"


class DictClips(torch.utils.data.Dataset):
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": self.x[i], "length": torch.tensor(self.x.shape[2]), "label": torch.tensor(0),
                "index": torch.tensor(i)}


def test_momentum_ramp_and_exact_ema_after_the_optimizer_step():
    m = make_model(momentum_offset_epochs=0)  # the plain ramp; the reference's offset is tested below
    rec = {"m": []}
    original = m.momentum_update

    def spy(mom=None):
        mom = m.current_momentum() if mom is None else mom
        rec.setdefault("pre_ema", {k: v.clone() for k, v in m.encoder_k.state_dict().items()})
        rec["m"].append(mom)
        original(mom)

    m.momentum_update = spy

    class Probe(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 0:
                rec["m_start"] = pl_module.current_momentum()
                rec["k0"] = {k: v.clone() for k, v in pl_module.encoder_k.state_dict().items()}
                rec["q0"] = {k: v.clone() for k, v in pl_module.encoder_q.state_dict().items()}

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx == 0:
                rec["q1"] = {k: v.clone() for k, v in pl_module.encoder_q.state_dict().items()}
                rec["k1"] = {k: v.clone() for k, v in pl_module.encoder_k.state_dict().items()}
                rec["m_half"] = pl_module.current_momentum()
            else:
                rec["m_end"] = pl_module.current_momentum()

    loader = torch.utils.data.DataLoader(DictClips(clips(n=8)), batch_size=4, shuffle=False)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=2, accelerator="cpu", logger=False, callbacks=[Probe()],
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        use_distributed_sampler=False)
    trainer.fit(m, train_dataloaders=loader)
    # cosine ramp 0.996 -> 1 over the run's steps (it = 0, it_max / 2, it_max)
    assert rec["m_start"] == pytest.approx(0.996)
    assert rec["m"] and rec["m"][0] == pytest.approx(0.996)  # the first EMA (after optimizer step 0) uses it = 0
    assert rec["m_half"] == pytest.approx(0.998)
    assert rec["m_end"] == pytest.approx(1.0)
    mom = rec["m"][0]
    k0, pre, q1, k1 = rec["k0"], rec["pre_ema"], rec["q1"], rec["k1"]
    params = {n for n, _ in m.encoder_k.named_parameters()}
    assert any(not torch.equal(rec["q0"][n], q1[n]) for n in params)  # the optimizer moved the query
    for name, v in k1.items():
        if name in params:  # parameters move only by the EMA (after the optimizer step, with the stepped query)
            assert torch.allclose(v, mom * k0[name] + (1 - mom) * q1[name], atol=1e-7), name
        elif v.dtype.is_floating_point:  # BN running stats: the key's own forward, then the EMA
            assert torch.allclose(v, mom * pre[name] + (1 - mom) * q1[name], atol=1e-7), name
        else:  # num_batches_tracked is copied
            assert torch.equal(v, q1[name]), name
    assert all(p.grad is None for p in m.encoder_k.parameters())


def test_momentum_ramp_starts_one_epoch_in_like_the_reference():
    """Reference: it = epoch * iters_per_epoch + i with a 1-based epoch, it_max = iters_per_epoch * epochs."""
    m = make_model()
    assert m.momentum_offset_epochs == 1  # the faithful default
    seen = []

    class Probe(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append(pl_module.current_momentum())

    loader = torch.utils.data.DataLoader(DictClips(clips(n=8)), batch_size=4, shuffle=False)
    trainer = L.Trainer(max_epochs=2, limit_train_batches=2, accelerator="cpu", logger=False, callbacks=[Probe()],
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                        use_distributed_sampler=False)
    trainer.fit(m, train_dataloaders=loader)
    # 4 steps, 2 per epoch: it = 2, 3, 4, 5 (past it_max = 4 in the last step, uncapped), not 0, 1, 2, 3
    ramp = [1 - 0.004 * (math.cos(math.pi * it / 4) + 1) / 2 for it in (2, 3, 4, 5)]
    assert seen == pytest.approx(ramp, abs=1e-12)


# -------------------------------------------------------------------------------- determinism, layouts


def test_deterministic_under_seed():
    results = []
    for _ in range(2):
        m = make_model(seed=3)
        torch.manual_seed(7)  # dropout draws from the global generator
        loss, _ = m.pretrain_loss(clips())
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                if p.grad is not None:
                    p.sub_(0.1 * p.grad)
        results.append((loss.detach(), [p.detach().clone() for p in m.parameters()], m.queue.keys.clone()))
    (l1, p1, q1), (l2, p2, q2) = results
    assert torch.equal(l1, l2) and torch.equal(q1, q2)
    assert all(torch.equal(a, b) for a, b in zip(p1, p2))


@pytest.mark.parametrize("stream", ["bone", "motion"])
def test_kinect20_single_body(stream):
    m = make_model(layout=KINECT20, bodies=1, stream=stream)
    x = clips(n=4, v=20, m=1)
    xq, xk, xmix = m.draw_views(x)
    assert xmix.shape == (4, 3, T, 20, 1)
    loss, logs = m.pretrain_loss(x)
    assert torch.isfinite(loss)
    loss.backward()
    assert m.embed({"x": x, "length": torch.full((4,), T)}).shape == (4, 16)


# ------------------------------------------------------------------------------------ evaluation


def test_downstream_feature_is_the_query_backbone_only():
    a, b = make_model(seed=0), make_model(seed=1)
    a.eval(), b.eval()
    batch = {"x": clips(), "length": torch.full((4,), T)}
    # evaluation (skelcl.evaluate) loads `encoder_q.*` only: everything else stays as it was
    other_before = {k: v.clone() for k, v in b.state_dict().items() if not k.startswith("encoder_q.")}
    state = {k[len("encoder_q."):]: v for k, v in a.state_dict().items() if k.startswith("encoder_q.")}
    b.encoder_q.load_state_dict(state, strict=True)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in other_before.items())
    assert torch.equal(a.embed(batch), b.embed(batch))  # heads, MHSAM, key side and queue do not matter
    from skelcl.config import FinetuneConfig
    from skelcl.eval.finetune import Classifier

    clf = Classifier(a, FinetuneConfig(bn_frozen=True), seed=0)
    trainable = [n for n, p in clf.named_parameters() if p.requires_grad]
    assert all(n.startswith("encoder.") for n in trainable if not n.startswith("fc."))
    assert sorted(n for n in trainable if n.startswith("fc.")) == ["fc.bias", "fc.weight"]  # the linear head: 2 tensors
    assert not any("mhsam" in n or "predictor" in n for n, _ in clf.named_parameters())


# --------------------------------------------------------------------------------------------- configs


PRESETS = sorted((CONF / "experiment").glob("skeattnclr_*.yaml"))


def test_presets_cover_the_spec_cells():
    names = {p.stem for p in PRESETS}
    for ds in ("ntu60_xsub", "ntu60_xview", "ntu120_xsub", "ntu120_xset", "pku2_xsub"):
        for stream in ("joint", "motion", "bone"):
            assert f"skeattnclr_{ds}_{stream}" in names


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_contents(path):
    text = path.read_text()
    raw = yaml.safe_load(text)
    assert text.startswith("# @package _global_") and "reported:" in text
    mu = raw["method"]["model"]["mu"]
    assert mu == (1.0 if path.stem.startswith("skeattnclr_ntu60") and path.stem.endswith("_joint") else 0.5)
    assert {"override /method": "skeattnclr"} in raw["defaults"]
    assert {"override /encoder": "stgcn_full"} in raw["defaults"]


# one per dataset family (composing all 15 costs ~1 s each; the rest differ only in the checked values above)
COMPOSED = ("skeattnclr_ntu60_xsub_joint", "skeattnclr_ntu120_xset_motion", "skeattnclr_pku2_xsub_bone")


def test_presets_compose_and_validate():
    from skelcl.build import validate

    for path in (CONF / "experiment" / f"{name}.yaml" for name in COMPOSED):
        raw = yaml.safe_load(path.read_text())
        dataset = next(d["override /dataset"] for d in raw["defaults"] if "override /dataset" in d)
        assert (CONF / "dataset" / f"{dataset}.yaml").exists(), dataset
        cfg = compose_config([f"experiment={path.stem}", "dataset.root=/data/somewhere"])
        assert cfg.method.name == "skeattnclr" and cfg.encoder.hidden_channels == 64
        assert cfg.method.model.mu == raw["method"]["model"]["mu"] and cfg.stream.name in path.stem
        validate(cfg)


def test_method_config_is_valid():
    from skelcl.build import validate

    cfg = compose_config(["method=skeattnclr", "encoder=stgcn_full"])
    typed = validate(cfg)
    assert typed.schedule.epochs == 300 and typed.schedule.milestones == [250]
    assert typed.clip.frames == 64
    assert cfg.method.linear.lr == 3.0 and cfg.method.linear.milestones == [60, 100]
    assert cfg.method.finetune.bn_frozen is True and cfg.method.model.temperature == 0.2


# ------------------------------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_end_to_end_pretrain_linear_knn(tmp_path):
    run_train([
        "method.schedule.batch_size=8",
        # a small synthetic set (40 / 40 clips) and a narrow encoder keep this a smoke run
        "dataset.options={num_subjects: 4, cameras: 2, max_frames: 40}", "+dataset.options.num_classes=10",
        "method=skeattnclr", "encoder=stgcn", "encoder.hidden_channels=4", "method.clip.frames=32",
    ], tmp_path, tmp_path / "cache", tiny=TINY_RUN)
    rows = json.loads((tmp_path / "results.json").read_text())
    protocols = {row["protocol"].split("(")[0] for row in rows}
    assert protocols >= {"linear", "knn"}
    assert all(row["method"] == "skeattnclr" and 0.0 <= row["top1"] <= 100.0 for row in rows)
