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


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    import os

    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)  # same initial queue on every rank, as the seeded method gives
    q = NegativeQueue(size=10, dim=2)
    for step in range(3):  # each rank enqueues its own 2 keys per step: rank r, step s -> value 100 s + 10 r + i
        keys = torch.tensor([[100.0 * step + 10 * rank + i] * 2 for i in range(2)])
        q.enqueue(keys)
    torch.save({"keys": q.keys, "ptr": q.ptr}, f"{out}/rank{rank}.pt")
    dist.destroy_process_group()


def test_ddp_queue_gathers_every_rank_and_stays_identical(tmp_path):
    """Two gloo processes: each step writes both ranks' keys in rank order, the pointer advances by the global
    batch, and the two queues end identical."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert torch.equal(r0["keys"], r1["keys"]) and int(r0["ptr"]) == int(r1["ptr"]) == 2  # 3 steps x 4 keys mod 10
    expected = [100.0 * s + 10 * r + i for s in range(3) for r in range(2) for i in range(2)]  # 12 keys, ring of 10
    assert r0["keys"][:, 0].tolist() == expected[10:] + expected[2:10]
