"""t-SNE (scikit-learn) of the frozen test features the evaluation cached, coloured by class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from skelcl.report.optional import pyplot, require

MAX_POINTS = 2000  # t-SNE is quadratic-ish; a seeded subsample keeps a big test split to seconds


def plot_tsne(features_pt: Path, out: Path, seed: int = 0) -> Path | None:
    if not features_pt.is_file():
        return None
    manifold = require("sklearn.manifold")
    d = torch.load(features_pt, map_location="cpu")
    x, y = d["features"].float().numpy(), d["labels"].numpy()
    if len(x) < 5:
        return None
    rng = np.random.default_rng(seed)
    if len(x) > MAX_POINTS:
        keep = np.sort(rng.choice(len(x), MAX_POINTS, replace=False))
        x, y = x[keep], y[keep]
    perplexity = float(min(30.0, (len(x) - 1) / 3))
    xy = manifold.TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    classes = np.unique(y)
    cmap = plt.get_cmap("tab20" if len(classes) <= 20 else "nipy_spectral", len(classes))
    for i, c in enumerate(classes):
        m = y == c
        ax.scatter(xy[m, 0], xy[m, 1], s=6, color=cmap(i), label=str(c))
    if len(classes) <= 20:
        ax.legend(fontsize=6, markerscale=2, title="class", title_fontsize=7, loc="best")
    ax.set_title(f"t-SNE of test features ({len(x)} clips, {len(classes)} classes)", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
