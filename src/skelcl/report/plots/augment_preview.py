"""What each of a method's views does to a pose: a few training clips drawn as skeletons (x-y projection, a few
frames overlaid from light to dark), the original in the first row and one row per view, using the method's own
view pipelines and the dataset layout's bones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from skelcl.data.datamodule import ClipDataset
from skelcl.report.optional import pyplot

FRAMES = 4


def _draw(ax, clip: torch.Tensor, bones, color_map) -> None:
    """clip (C, T, V, M): every body with any non-zero joint, FRAMES frames evenly spaced over T."""
    from matplotlib.collections import LineCollection

    c, t, v, m = clip.shape
    edges = torch.tensor([(a, b) for a, b in bones if a != b], dtype=torch.long).reshape(-1, 2)
    for k, f in enumerate(torch.linspace(0, t - 1, FRAMES).round().long().tolist()):
        color = color_map(0.35 + 0.65 * k / max(FRAMES - 1, 1))
        for body in range(m):
            xy = clip[:2, f, :, body].t()  # (V, 2)
            if not torch.any(xy != 0):
                continue
            ax.add_collection(LineCollection(xy[edges].numpy(), colors=[color], linewidths=1))
            ax.scatter(xy[:, 0], xy[:, 1], s=3, color=color)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])


def distinct_class_clips(datamodule, n: int) -> np.ndarray:
    """The first training clip of each of the first `n` classes present (a varied preview, deterministic)."""
    labels = datamodule.prepared.labels[datamodule.train_idx]
    _, first = np.unique(labels, return_index=True)
    return datamodule.train_idx[np.sort(first)[:n]]


@torch.no_grad()
def plot_augmentation_preview(model, datamodule, out: Path, clips: int = 3, seed: int = 0) -> Path:
    device = next(model.parameters()).device
    batch = next(iter(DataLoader(ClipDataset(datamodule.prepared, distinct_class_clips(datamodule, clips)),
                                 batch_size=clips)))
    batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
    x = model.clips(batch)  # un-augmented, resized clips (N, C, T, V, M)
    g = torch.Generator(device=device).manual_seed(seed)  # its own generator: never touches the training RNG
    views = {"original": x.cpu()}
    for name in model.view_names:
        views[name] = model.views[name](x.clone(), g).float().cpu()
    plt = pyplot()
    n = x.shape[0]
    fig, axes = plt.subplots(len(views), n, figsize=(2.4 * n, 2.4 * len(views)), squeeze=False)
    for row, (name, v) in enumerate(views.items()):
        for col in range(n):
            _draw(axes[row][col], v[col], model.layout.bones, plt.get_cmap("viridis" if row else "Greys"))
            if col == 0:
                axes[row][col].set_ylabel(name, fontsize=9)
            if row == 0:
                axes[row][col].set_title(f"clip {int(batch['index'][col])} (class {int(batch['label'][col])})",
                                         fontsize=8)
    fig.suptitle(f"{type(model).__name__}: views of {n} training clips ({FRAMES} frames overlaid)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
