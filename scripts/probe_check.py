"""Is the linear probe the bottleneck? (a benchmark) Compares, on a run's cached frozen features, the configured
probe (SGD on raw features, the papers' recipe) with the same probe on standardised features and with
`protocol.linear.solver=logistic` (exact logistic regression, C chosen by 5-fold cross-validation on the training
split only). A run that measured its random-encoder floor gets a second column for the floor's features.

    python scripts/probe_check.py outputs/skeletonclr/nucla-xview-joint/<time>
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from skelcl.config import LinearConfig
from skelcl.eval.features import WRITE_ORDER, files_in_write_order
from skelcl.eval.linear import train_linear
from skelcl.eval.logistic import fit_logistic_cv


def load(run: Path, which: str, index: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Features of the `index`-th encoder a run wrote: 0 the pretrained one, 1 its random-encoder floor."""
    files = files_in_write_order(run / "features", which)
    if not files:
        raise SystemExit(f"{run}/features has no {which} features: run a linear or knn protocol first")
    d = torch.load(files[index])
    return d["features"].float(), d["labels"].long()


def probe_cells(run: Path, index: int, linear: LinearConfig) -> list[str]:
    """Top-1 of the three probes (PROBES) on one encoder's cached features."""
    x, y = load(run, "train", index)
    xt, yt = load(run, "test", index)
    classes = int(max(y.max(), yt.max())) + 1
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    sgd = train_linear(x, y, xt, yt, classes, linear)["top1"]
    sgd_std = train_linear((x - mean) / std, y, (xt - mean) / std, yt, classes, linear)["top1"]
    res = fit_logistic_cv(x, y, xt, yt, classes, cv_score=linear.cv_score)
    return [f"{sgd:.1f}", f"{sgd_std:.1f}", f"{res['top1']:.1f} (C={res['C']:.3g}, {res['criterion']})"]


PROBES = ("configured probe (SGD, raw features)", "same probe, standardised features",
          "protocol.linear.solver=logistic (the small-data rule's probe; C by CV on the training split)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    args = ap.parse_args()
    cfg = yaml.safe_load((args.run_dir / "config.yaml").read_text())
    linear = LinearConfig(**cfg["protocol"]["linear"])
    written = min(len(files_in_write_order(args.run_dir / "features", w)) for w in ("train", "test"))
    if written == 0:
        raise SystemExit(f"{args.run_dir}/features has no train and test features: run a linear or knn protocol first")
    names = WRITE_ORDER[: min(written, len(WRITE_ORDER))]
    columns = [probe_cells(args.run_dir, i, linear) for i in range(len(names))]
    print(f"| probe | {' | '.join(names)} |\n|---|{'---|' * len(names)}")
    for r, probe in enumerate(PROBES):
        print(f"| {probe} | {' | '.join(col[r] for col in columns)} |")


if __name__ == "__main__":
    main()
