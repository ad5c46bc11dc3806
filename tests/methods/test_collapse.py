import math

import torch

from skelcl.methods.collapse import mean_pairwise_cosine


def test_collapsed_embeddings_read_one():
    z = torch.tensor([[1.0, 2.0, 0.5]]).repeat(5, 1) * torch.arange(1, 6).float()[:, None]  # one direction
    assert math.isclose(mean_pairwise_cosine(z).item(), 1.0, abs_tol=1e-6)


def test_hand_computed_three_vectors():
    z = torch.tensor([[1.0, 0.0], [0.0, 3.0], [-2.0, 0.0]])  # pairs: 0, -1, 0 -> mean -1/3
    assert math.isclose(mean_pairwise_cosine(z).item(), -1 / 3, abs_tol=1e-6)


def test_matches_the_full_similarity_matrix():
    z = torch.randn(33, 16, generator=torch.Generator().manual_seed(0))
    u = torch.nn.functional.normalize(z, dim=1)
    s = u @ u.t()
    expected = s[~torch.eye(33, dtype=torch.bool)].mean()
    assert torch.allclose(mean_pairwise_cosine(z), expected, atol=1e-6)
    assert abs(expected.item()) < 0.1  # random directions are spread


def test_single_row_is_undefined_not_zero():
    assert math.isnan(mean_pairwise_cosine(torch.ones(1, 4)).item())


def test_bn_output_projector_spreads_nearly_collinear_features():
    """Pooled post-ReLU features of a random encoder are nearly collinear; a plain MLP head keeps them so (the
    collapse the quick recipe avoids), the head with an output BN centres them over the batch."""
    from skelcl.encoders.init import weights_init
    from skelcl.methods.base import build_projector

    torch.manual_seed(0)
    h = 1.0 + 0.05 * torch.randn(64, 256)  # all positive, cosine ~0.998
    plain, centred = build_projector("mlp", 256, 256, 128), build_projector("mlp_bn_out", 256, 256, 128)
    plain.apply(weights_init), centred.apply(weights_init)
    assert mean_pairwise_cosine(plain(h)).item() > 0.95
    assert abs(mean_pairwise_cosine(centred.train()(h)).item()) < 0.05


def test_collapse_verdict_reads_the_tail_of_the_run():
    import math

    from skelcl.methods.collapse import collapse_verdict

    chance = math.log(1 + 256)
    healthy = collapse_verdict([0.4, 0.2, 0.1, 0.05], [5.9, 5.0, 4.6, 4.5], chance)
    assert healthy is None
    # embeddings on one direction at the end, although the run started spread
    assert "query_cosine" in collapse_verdict([0.1, 0.5, 0.97, 0.99], [5.0, 5.2, 5.5, 5.5], chance)
    # spread embeddings, but the loss sits at log(1 + K): the positive is no better than a random negative
    assert "chance" in collapse_verdict([0.1, 0.1, 0.1, 0.1], [5.0, 5.3, 5.55, 5.549], chance)
    # a loss above chance (hard negatives at a sharp temperature) is not collapse
    assert collapse_verdict([0.1] * 4, [7.0, 7.5, 7.9, 8.0], chance) is None
    assert collapse_verdict([], [], chance) is None


def test_a_one_clip_batch_records_no_query_cosine():
    """The last partial batch of a method that keeps it can hold one clip: no pair, no cosine (not NaN, which the
    divergence check would stop the run on)."""
    from types import SimpleNamespace

    from skelcl.methods.base import ContrastiveMethod

    step = SimpleNamespace(_query_cosine=None)
    ContrastiveMethod.monitor_collapse(step, torch.randn(1, 8))
    assert step._query_cosine is None
    ContrastiveMethod.monitor_collapse(step, torch.randn(4, 8))
    assert torch.isfinite(step._query_cosine)
