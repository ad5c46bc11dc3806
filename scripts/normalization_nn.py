"""How much does an input normalisation alone separate the classes? (a benchmark, no training)

Nearest-neighbour accuracy on the normalised, resampled raw clips (no encoder): cosine 1-NN and weighted KNN
(k=20) of the flattened (C, T, V, M) inputs, train split as the bank, test split as the queries. It shows what the
`dataset.normalize` modes do to cross-view data before any network sees it.

    python scripts/normalization_nn.py data/nucla --split xview --frames 30
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from skelcl.augment.clips import ClipSpec, prepare_clips
from skelcl.config import KNNConfig
from skelcl.data.formats import load_prepared
from skelcl.eval.knn import evaluate_knn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prepared")
    ap.add_argument("--split", default="xview")
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    p = load_prepared(args.prepared)

    def part(name: str):
        idx = p.split(f"{args.split}_{name}")
        return (torch.from_numpy(np.asarray(p.data[idx])), torch.from_numpy(p.lengths[idx].astype(np.int64)),
                torch.from_numpy(p.labels[idx].astype(np.int64)))

    train, test = part("train"), part("test")
    modes = {
        "none": ClipSpec(args.frames, "resize", None, False, "frame"),
        "frame: centre": ClipSpec(args.frames, "resize", p.layout.center, False, "frame"),
        "frame: centre + shoulders": ClipSpec(args.frames, "resize", p.layout.center, p.layout.shoulders is not None,
                                              "frame"),
        "sequence": ClipSpec(args.frames, "resize", None, False, "sequence"),
    }
    print("| normalisation | 1-NN | KNN k=20 |\n|---|---|---|")
    for name, spec in modes.items():
        a = prepare_clips(train[0], train[1], spec, p.layout).flatten(1)
        b = prepare_clips(test[0], test[1], spec, p.layout).flatten(1)
        mean = a.mean(0)  # centre on the training mean so cosine compares deviations, not the mean pose
        res = [evaluate_knn(a - mean, train[2], b - mean, test[2], p.num_classes, KNNConfig(k=k))["top1"]
               for k in (1, 20)]
        print(f"| {name} | {res[0]:.1f} | {res[1]:.1f} |")


if __name__ == "__main__":
    main()
