"""protocol.linear.solver=logistic: an exact, cross-validated logistic-regression probe."""

import torch

from skelcl.eval.logistic import fit_logistic_cv


def blobs(seed: int, n: int = 150, classes: int = 3, d: int = 16):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(n, d, generator=g) + 3.0 * torch.nn.functional.one_hot(y, d).float()
    return x, y


def test_separable_features_are_read_well_and_scale_does_not_matter():
    (x, y), (xt, yt) = blobs(0), blobs(1)
    res = fit_logistic_cv(x, y, xt, yt, 3)
    assert res["top1"] > 80 and res["logits"].shape == (150, 3) and res["best_on_test_top1"] is None
    scale = torch.logspace(-3, 3, 16)
    again = fit_logistic_cv(x * scale + 7, y, xt * scale + 7, yt, 3)
    assert abs(again["top1"] - res["top1"]) < 1e-6 and again["C"] == res["C"]


def test_the_test_split_does_not_choose_the_regularisation():
    (x, y), (xt, yt) = blobs(0), blobs(1)
    a = fit_logistic_cv(x, y, xt, yt, 3)
    b = fit_logistic_cv(x, y, xt, yt[torch.randperm(len(yt), generator=torch.Generator().manual_seed(0))], 3)
    assert a["C"] == b["C"] and torch.equal(a["logits"], b["logits"])  # only the score changes


def test_class_missing_from_training_is_never_predicted_and_tiny_classes_work():
    (x, y), (xt, yt) = blobs(0), blobs(1, classes=4)
    res = fit_logistic_cv(x, y, xt, yt, 4)  # class 3 exists only in the test split
    assert res["logits"].shape[1] == 4 and (res["logits"].argmax(1) != 3).all()
    x1, y1 = x[:7], torch.tensor([0, 0, 0, 1, 1, 1, 2])  # class 2 has a single clip: no stratified folds
    single = fit_logistic_cv(x1, y1, xt, yt, 4)
    assert 0 <= single["top1"] <= 100 and single["C"] == 1.0 and single["criterion"].startswith("none")


def test_two_classes_give_two_logit_columns_that_rank_as_the_probabilities():
    """Binary data (e.g. fall / no fall): scikit-learn returns one log-odds column, which the probe spreads over two."""
    (x, y), (xt, yt) = blobs(0, classes=2), blobs(1, classes=2)
    res = fit_logistic_cv(x, y, xt, yt, 2)
    assert res["logits"].shape == (150, 2) and res["top1"] > 80
    assert torch.equal(res["logits"].argmax(1), res["logits"].softmax(1)[:, 1].gt(0.5).long())
    three = fit_logistic_cv(x, y, xt, yt, 3)  # a third class absent from the split: never predicted
    assert three["top1"] == res["top1"] and bool((three["logits"][:, 2] == -1e9).all())


def test_the_cv_criterion_follows_the_clips_per_class_unless_one_is_asked_for():
    """`cv_score: auto`: the held-out log-likelihood under 8 training clips per class (accuracy moves in steps of a
    clip there), accuracy from 8 on; `accuracy` / `log_loss` fix it. Each is scikit-learn's choice for its score."""
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.preprocessing import StandardScaler

    from skelcl.config import LinearConfig
    from skelcl.eval.logistic import C_GRID, cv_criterion

    assert LinearConfig().cv_score == "auto"
    auto = [cv_criterion("auto", torch.arange(n) % 10) for n in (60, 79, 80, 1019)]  # 10 classes
    assert auto == ["log_loss", "log_loss", "accuracy", "accuracy"]
    assert cv_criterion("log_loss", torch.arange(1019) % 10) == "log_loss"
    assert cv_criterion("accuracy", torch.arange(60) % 10) == "accuracy"

    (x, y), (xt, yt) = blobs(0, n=28, classes=4), blobs(1, n=28, classes=4)  # 7 clips per class: auto = log_loss
    z = StandardScaler().fit_transform(x.double().numpy())
    chosen = {}
    for criterion, scoring in (("log_loss", "neg_log_loss"), ("accuracy", "accuracy")):
        ref = LogisticRegressionCV(Cs=list(C_GRID), cv=5, max_iter=2000, scoring=scoring, l1_ratios=(0.0,),
                                   use_legacy_attributes=True).fit(z, y.numpy())
        chosen[criterion] = float(ref.C_[0])
        res = fit_logistic_cv(x, y, xt, yt, 4, cv_score=criterion)
        assert res["C"] == chosen[criterion] and res["criterion"] == criterion
    auto = fit_logistic_cv(x, y, xt, yt, 4)
    assert auto["criterion"] == "log_loss" and auto["C"] == chosen["log_loss"] != chosen["accuracy"]
    (x, y), (xt, yt) = blobs(0, n=32, classes=4), blobs(1, n=32, classes=4)  # 8 clips per class: accuracy
    assert fit_logistic_cv(x, y, xt, yt, 4)["criterion"] == "accuracy"
