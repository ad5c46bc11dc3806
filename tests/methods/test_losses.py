"""Loss math against fixed test vectors (AimCLR, HiCLR, AS-CAL)."""

import math

import pytest
import torch
import torch.nn.functional as F

from skelcl.methods.losses import (
    distribution_consistency,
    info_nce,
    moco_logits,
    multi_positive_nce,
    nearest_neighbour_positives,
)

K, TAU = 32768, 0.07


def unit(n, d, seed=0):
    # float64: summing 32768 tiny exp terms onto 1.0 in float32 costs ~6e-5 absolute, more than the vectors' digits
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


def test_info_nce_zero_queue_matches_closed_form():
    z = unit(4, 128)
    logits = moco_logits(z, z, torch.zeros(K, 128, dtype=torch.float64), TAU)
    assert logits.shape == (4, 1 + K)
    assert info_nce(logits).item() == pytest.approx(0.020269, abs=1e-6)
    assert info_nce(logits).item() == pytest.approx(math.log(1 + K * math.exp(-1 / TAU)), rel=1e-6)


def test_info_nce_ascal_unnormalised_vector():
    # K = 16384, tau = 0.06 -> 9.4618e-4; scaling q and k changes the loss
    q = unit(2, 256)
    loss = info_nce(moco_logits(q, q, torch.zeros(16384, 256, dtype=torch.float64), 0.06)).item()
    assert loss == pytest.approx(9.4618e-4, rel=1e-4)
    scaled = info_nce(moco_logits(2 * q, 2 * q, torch.zeros(16384, 256, dtype=torch.float64), 0.06)).item()
    assert scaled < loss


def test_info_nce_hand_computed_small():
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[0.6, 0.8]])
    queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    logits = moco_logits(q, k, queue, 0.5)
    assert torch.allclose(logits, torch.tensor([[1.2, 0.0, -2.0]]))
    expected = -(1.2 - math.log(math.exp(1.2) + 1 + math.exp(-2.0)))
    assert info_nce(logits).item() == pytest.approx(expected, rel=1e-6)


def test_d3m_equals_entropy_and_has_no_gradient_to_target():
    z = unit(3, 128).requires_grad_(True)
    ze = z.detach().clone().requires_grad_(True)
    queue = torch.zeros(K, 128, dtype=torch.float64)
    k = z.detach()
    target = moco_logits(z, k, queue, TAU)
    pred = moco_logits(ze, k, queue, TAU)
    loss = distribution_consistency(target, pred)
    assert loss.item() == pytest.approx(0.30691, abs=1e-5)
    loss.backward()
    assert z.grad is None or torch.count_nonzero(z.grad) == 0
    assert ze.grad is not None and torch.count_nonzero(ze.grad) > 0


def test_key_and_queue_are_stop_gradient():
    q = unit(2, 8).requires_grad_(True)
    k = unit(2, 8, seed=1).requires_grad_(True)
    queue = unit(5, 8, seed=2).requires_grad_(True)
    info_nce(moco_logits(q, k, queue, TAU)).backward()
    assert q.grad is not None and k.grad is None and queue.grad is None


def test_nnm_mask_and_mean_log_loss():
    d = 16
    queue = torch.zeros(10, d, dtype=torch.float64)
    z = unit(1, d)
    queue[3] = z[0]
    mask = nearest_neighbour_positives([z, z, z], queue, topk=1)
    assert mask.shape == (1, 11)
    assert mask[0].nonzero().flatten().tolist() == [0, 4]
    logits = moco_logits(z, z, queue, TAU)
    logp = F.log_softmax(logits, dim=1)
    expected = -0.5 * (logp[0, 0] + logp[0, 4])
    assert multi_positive_nce(logits, mask, "mean_log").item() == pytest.approx(expected.item(), rel=1e-6)
    expected_sum = -torch.logsumexp(logp[0, [0, 4]], dim=0)
    assert multi_positive_nce(logits, mask, "log_sum").item() == pytest.approx(expected_sum.item(), rel=1e-6)


def test_nnm_distinct_neighbours_give_four_positives():
    d = 8
    queue = torch.eye(d)[:6]
    qs = [torch.eye(d)[i : i + 1] for i in (0, 1, 2)]
    mask = nearest_neighbour_positives(qs, queue, topk=1)
    assert int(mask.sum()) == 4 and bool(mask[0, 0])


def test_multi_positive_one_hot_equals_cross_entropy():
    logits = torch.randn(4, 9, generator=torch.Generator().manual_seed(3))
    mask = torch.zeros(4, 9, dtype=torch.bool)
    mask[:, 0] = True
    ce = F.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
    assert multi_positive_nce(logits, mask).item() == pytest.approx(ce.item(), abs=1e-6)
