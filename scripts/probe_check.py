"""Is the linear probe the bottleneck? (a benchmark) Compares, on a run's cached frozen features, the configured
probe (SGD on raw features, the papers' recipe) with the same probe on standardised features and with
`protocol.linear.solver=logistic` (exact logistic regression, C chosen by 5-fold cross-validation on the training
split only).

    python scripts/probe_check.py outputs/skeletonclr/nucla-xview-joint/<time>
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from skelcl.config import LinearConfig
from skelcl.eval.features import files_in_write_order
from skelcl.eval.linear import train_linear
from skelcl.eval.logistic import fit_logistic_cv


def load(run: Path, which: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The pretrained encoder's features: the first written (a run's random-encoder floor writes its own after)."""
    files = files_in_write_order(run / "features", which)
    if not files:
        raise SystemExit(f"{run}/features has no {which} features: run a linear or knn protocol first")
    d = torch.load(files[0])
    return d["features"].float(), d["labels"].long()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    args = ap.parse_args()
    x, y = load(args.run_dir, "train")
    xt, yt = load(args.run_dir, "test")
    classes = int(max(y.max(), yt.max())) + 1
    cfg = yaml.safe_load((args.run_dir / "config.yaml").read_text())
    linear = LinearConfig(**cfg["protocol"]["linear"])
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    rows = [("configured probe (SGD, raw features)", train_linear(x, y, xt, yt, classes, linear)["top1"]),
            ("same probe, standardised features",
             train_linear((x - mean) / std, y, (xt - mean) / std, yt, classes, linear)["top1"])]
    res = fit_logistic_cv(x, y, xt, yt, classes, cv_score=linear.cv_score)
    rows.append((f"protocol.linear.solver=logistic (the small-data rule's probe; C={res['C']:.3g} by 5-fold CV on "
                 f"train, {res['criterion']})", res["top1"]))
    print("| probe | top-1 |\n|---|---|")
    for name, top1 in rows:
        print(f"| {name} | {top1:.1f} |")


if __name__ == "__main__":
    main()
