"""The comparison as text and files: a rich table on the console, markdown, long-format CSV and a bar chart."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console
from rich.table import Table

from skelcl.report.compare import Comparison
from skelcl.report.optional import pyplot


def _label(keys: tuple) -> str:
    return " / ".join(str(k) for k in keys)


def title(cmp: Comparison) -> str:
    what = "top1 - floor_top1 (points over the random encoder)" if cmp.metric == "margin" else f"{cmp.metric} %"
    return f"{what} (final epoch), mean ± std over runs (n)"


def to_rich(cmp: Comparison) -> Table:
    table = Table(title=title(cmp))
    table.add_column(" / ".join(cmp.rows))
    for c in cmp.col_keys:
        table.add_column(_label(c), justify="right")
    for r in cmp.row_keys:
        table.add_row(_label(r), *[cmp.cells[(r, c)].text() if (r, c) in cmp.cells else "" for c in cmp.col_keys])
    return table


def to_markdown(cmp: Comparison) -> str:
    head = [" / ".join(cmp.rows), *(_label(c) for c in cmp.col_keys)]
    lines = [f"{title(cmp)}; columns: {' / '.join(cmp.cols)}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for r in cmp.row_keys:
        cells = [cmp.cells[(r, c)].text() if (r, c) in cmp.cells else "" for c in cmp.col_keys]
        lines.append("| " + " | ".join([_label(r), *cells]) + " |")
    return "\n".join(lines) + "\n"


def write_csv(cmp: Comparison, path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*cmp.rows, *cmp.cols, f"{cmp.metric}_mean", f"{cmp.metric}_std", "n", "flagged"])
        for r in cmp.row_keys:
            for c in cmp.col_keys:
                cell = cmp.cells.get((r, c))
                if cell is None:
                    continue
                w.writerow([*r, *c, _num(cell.mean), _num(cell.std), cell.n, ";".join(cell.excluded)])


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def write_bar_chart(cmp: Comparison, path: Path) -> None:
    """Grouped bars: one group per row, one bar per column, error bars = std over runs."""
    plt = pyplot()
    n_rows, n_cols = len(cmp.row_keys), len(cmp.col_keys)
    width = 0.8 / max(n_cols, 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 + n_rows * n_cols * 0.45), 4.0))
    for j, c in enumerate(cmp.col_keys):
        means, stds = [], []
        for r in cmp.row_keys:
            cell = cmp.cells.get((r, c))
            means.append(cell.mean if cell is not None and cell.mean is not None else float("nan"))  # no bar
            stds.append(cell.std if cell is not None and cell.std is not None else 0.0)
        xs = [i + (j - (n_cols - 1) / 2) * width for i in range(n_rows)]
        ax.bar(xs, means, width, yerr=stds, capsize=3, label=_label(c))
    ax.set_xticks(range(n_rows), [_label(r) for r in cmp.row_keys], rotation=20, ha="right")
    ax.set_ylabel(f"{cmp.metric} (%)")
    ax.set_title(title(cmp), fontsize=9)
    ax.legend(fontsize=7, title=" / ".join(cmp.cols), title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_comparison(cmp: Comparison, console: Console) -> None:
    Console(width=max(console.width, 150)).print(to_rich(cmp))
