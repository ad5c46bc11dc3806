"""Which cross-validation criterion should pick the linear probe's L2 strength on this data? (a benchmark)

Nested cross-validation on a run's cached TRAINING features only: outer stratified folds score, on held-out training
clips, the C that each criterion (held-out accuracy, held-out log-likelihood) picked on inner folds of the rest. The
test split is never read. `protocol.linear.cv_score: auto` follows this comparison as measured in docs/results.md
("Linear probe"): the log-likelihood under 8 clips per class, accuracy from there.

    python scripts/probe_criterion.py outputs/ascal/custom-main-joint/<time>

Prints one line for the pretrained encoder's features and one for the in-run floor's, when the run measured it.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch

from skelcl.eval.features import WRITE_ORDER, files_in_write_order
from skelcl.eval.logistic import C_GRID, cv_fold_count


def feature_files(run: Path) -> list[Path]:
    """Training features in the order written: the pretrained encoder's first, the random-encoder floor's after."""
    files = files_in_write_order(run / "features", "train")
    if not files:
        raise SystemExit(f"{run}/features has no training features: run a linear or knn protocol first")
    return files


def path_scores(x, y, xv, yv, classes) -> tuple[np.ndarray, np.ndarray]:
    """Held-out accuracy and mean log-likelihood of every C in the grid."""
    from sklearn.linear_model import LogisticRegression

    acc, loglik = [], []
    for c in C_GRID:
        m = LogisticRegression(C=c, max_iter=2000).fit(x, y)
        p = np.full((len(xv), len(classes)), 1e-12)
        p[:, np.searchsorted(classes, m.classes_)] = np.clip(m.predict_proba(xv), 1e-12, 1)
        acc.append((m.predict(xv) == yv).mean())
        loglik.append(np.log(p[np.arange(len(yv)), np.searchsorted(classes, yv)]).mean())
    return np.array(acc), np.array(loglik)


def picks(x, y, classes, seed: int) -> dict[str, float]:
    """The C each criterion picks by cross-validation of (x, y)."""
    from sklearn.model_selection import StratifiedKFold

    folds = cv_fold_count(y)
    acc, loglik = [], []
    for tr, va in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        a, ll = path_scores(x[tr], y[tr], x[va], y[va], classes)
        acc.append(a)
        loglik.append(ll)
    return {"accuracy": C_GRID[int(np.argmax(np.mean(acc, 0)))],
            "log_loss": C_GRID[int(np.argmax(np.mean(loglik, 0)))]}


def nested_scores(x: np.ndarray, y: np.ndarray, repeats: int = 2) -> dict[str, float]:
    """Outer-fold accuracy (%) of the C each criterion picked on the inner folds, mean over folds and repeats."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    classes = np.unique(y)
    folds = cv_fold_count(y)
    if folds < 3:
        raise SystemExit("nested cross-validation needs at least 3 training clips of every class")
    scores: dict[str, list[float]] = {"accuracy": [], "log_loss": []}
    for rep in range(repeats):
        for tr, va in StratifiedKFold(folds, shuffle=True, random_state=100 + rep).split(x, y):
            scaler = StandardScaler().fit(x[tr])
            xtr, xva = scaler.transform(x[tr]), scaler.transform(x[va])
            for criterion, c in picks(xtr, y[tr], classes, rep).items():
                model = LogisticRegression(C=c, max_iter=2000).fit(xtr, y[tr])
                scores[criterion].append(100 * float((model.predict(xva) == y[va]).mean()))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    for name, path in zip(WRITE_ORDER, feature_files(args.run_dir)):
        d = torch.load(path)
        x, y = d["features"].double().numpy(), d["labels"].numpy()
        per_class = len(y) / len(np.unique(y))
        s = nested_scores(x, y)
        print(f"{name}: {len(y)} training clips ({per_class:.1f} per class): nested-CV accuracy with C picked by "
              f"held-out accuracy {s['accuracy']:.1f}, by held-out log-likelihood {s['log_loss']:.1f}")


if __name__ == "__main__":
    main()
