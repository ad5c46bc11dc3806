"""One tidy results table per run: results.json (list of records) + results.md, printed at the end."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

from rich.console import Console
from rich.table import Table

from skelcl.eval.record import ResultRecord


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def write_results(run_dir: str | Path, records: list[ResultRecord], provenance: dict | None = None) -> None:
    """`provenance` (code version, config hash, checkpoint, dataset fingerprint, start time) goes into every
    record of results.json; results.md keeps the result columns only."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) for r in records]
    json_rows = [{**r, "provenance": provenance} for r in rows] if provenance else rows
    (run_dir / "results.json").write_text(json.dumps(json_rows, indent=1))
    names = [f.name for f in fields(ResultRecord)]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_fmt(r[n]) for n in names) + " |" for r in rows]
    (run_dir / "results.md").write_text("\n".join(lines) + "\n")


def print_results(records: list[ResultRecord], console: Console | None = None) -> None:
    table = Table(title="skelcl results (top-1/top-5 %, final epoch)")
    for f in fields(ResultRecord):
        table.add_column(f.name, justify="right" if f.type in ("float", "int") else "left")
    for r in records:
        table.add_row(*[_fmt(v) for v in asdict(r).values()])
    console = console or Console()
    Console(width=max(console.width, 150)).print(table)
