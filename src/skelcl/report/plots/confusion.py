"""Confusion matrix (torchmetrics) and per-class accuracy of the linear probe, from the saved test logits.

The matrix is also written as CSV next to the figure, so its numbers can be read back (rows: true class)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix

from skelcl.report.optional import pyplot


def confusion_from_logits(logits_pt: Path) -> torch.Tensor:
    d = torch.load(logits_pt, map_location="cpu")
    logits, labels = d["logits"], d["labels"]
    return multiclass_confusion_matrix(logits.argmax(1), labels, num_classes=logits.shape[1])


def plot_confusion(logits_pt: Path, out: Path) -> Path | None:
    if not logits_pt.is_file():
        return None
    cm = confusion_from_logits(logits_pt).numpy()
    np.savetxt(out.with_suffix(".csv"), cm, fmt="%d", delimiter=",")
    support = cm.sum(1)
    per_class = np.divide(np.diag(cm), support, out=np.zeros(len(cm)), where=support > 0) * 100
    plt = pyplot()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.8), gridspec_kw={"width_ratios": [1.1, 1]})
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"linear probe confusion matrix ({int(cm.sum())} test clips, "
                 f"top-1 {np.trace(cm) / max(cm.sum(), 1) * 100:.1f}%)", fontsize=9)
    bx.bar(range(len(cm)), per_class)
    bx.set_xlabel("class")
    bx.set_ylabel("accuracy (%)")
    bx.set_ylim(0, 100)
    bx.set_title("per-class accuracy", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
