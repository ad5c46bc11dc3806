"""Training curves from the CSV log (logs/metrics.csv): every `train/*` and `monitor/*` metric against the
step, one panel each (loss terms, lr, query_cosine, method-specific terms)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from skelcl.report.optional import pyplot

PREFIXES = ("train/", "monitor/")


def read_metrics(path: Path) -> dict[str, tuple[list[int], list[float]]]:
    """{metric: (steps, values)} for the logged training and monitor metrics."""
    series: dict[str, tuple[list[int], list[float]]] = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            step = int(float(row.get("step") or 0))
            for key, value in row.items():
                if key and key.startswith(PREFIXES) and value not in (None, ""):
                    steps, values = series.setdefault(key, ([], []))
                    steps.append(step)
                    values.append(float(value))
    return series


def plot_training_curves(metrics_csv: Path, out: Path) -> Path | None:
    if not metrics_csv.is_file():
        return None
    series = read_metrics(metrics_csv)
    if not series:
        return None
    plt = pyplot()
    names = sorted(series)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 2.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        steps, values = series[name]
        ax.plot(steps, values, marker="o" if len(steps) < 30 else None, markersize=3)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
