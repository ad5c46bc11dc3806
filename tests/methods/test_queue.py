import torch

from skelcl.methods.queue import NegativeQueue


def test_enqueue_wraps_around():
    torch.manual_seed(0)
    q = NegativeQueue(size=5, dim=2)
    assert torch.allclose(q.keys.norm(dim=1), torch.ones(5))
    a = torch.arange(6.0).reshape(3, 2)
    q.enqueue(a)
    assert int(q.ptr) == 3 and torch.equal(q.keys[:3], a)
    b = 10 + torch.arange(6.0).reshape(3, 2)
    q.enqueue(b)
    # rows 3, 4 then wrap to row 0
    assert int(q.ptr) == 1
    assert torch.equal(q.keys[3:5], b[:2]) and torch.equal(q.keys[0], b[2]) and torch.equal(q.keys[1:3], a[1:])


def test_batch_larger_than_queue_keeps_newest():
    q = NegativeQueue(size=3, dim=1)
    q.enqueue(torch.arange(7.0)[:, None])
    assert sorted(q.keys.flatten().tolist()) == [4.0, 5.0, 6.0]


def test_uniform_init_bounds():
    q = NegativeQueue(size=100, dim=256, init="uniform")
    assert q.keys.abs().max() <= 0.10826
    assert q.keys.requires_grad is False
