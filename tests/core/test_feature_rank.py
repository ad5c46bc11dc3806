"""RankMe's effective rank: known values on matrices whose singular values are known."""

import math

import torch

from skelcl.eval.feature_rank import effective_rank


def test_one_direction_reads_one_and_d_equal_directions_read_d():
    g = torch.Generator().manual_seed(0)
    same = torch.randn(1, 16, generator=g).repeat(50, 1)  # every clip the same feature vector
    assert abs(effective_rank(same) - 1.0) < 1e-3
    q, _ = torch.linalg.qr(torch.randn(64, 8, generator=g))  # 8 orthonormal columns: singular values all 1
    assert abs(effective_rank(q) - 8.0) < 1e-3


def test_unequal_singular_values():
    x = torch.zeros(10, 4)
    x[0, 0], x[1, 1] = 3.0, 1.0  # singular values 3 and 1: p = 0.75, 0.25
    want = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert abs(effective_rank(x) - want) < 1e-4
    assert abs(effective_rank(x * 7.5) - want) < 1e-4  # scale does not matter
