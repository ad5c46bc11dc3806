"""Gather finished runs into one comparison table (console, markdown, CSV and a bar chart).

PATH: run directories, multirun directories or globs (searched recursively for results.json / config.yaml).
Cells are mean ± std over the runs that fall into them (seeds), with n; interrupted, diverged, collapsed and
duplicate runs are listed and never averaged in. With joint, motion and bone runs of the same experiment and
seed, a stream 'ensemble' column (fixed weights 0.6/0.4/0.6) is added.

examples:
  python -m skelcl.report multirun/2026-01-01_12-00-00
  python -m skelcl.report 'outputs/*/ntu60-xsub-*/*' --rows method --cols stream,protocol
  python -m skelcl.report multirun/a multirun/b --rows method,method.schedule.lr --cols protocol --metric top5
  python -m skelcl.report multirun/2026-01-01_12-00-00 --metric margin    # points over the random encoder
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path

from rich.console import Console

from skelcl.progress import progress
from skelcl.report.compare import build_comparison, differing_keys, entries_of, mark_duplicates
from skelcl.report.ensemble_column import ensemble_entries
from skelcl.report.render import print_comparison, to_markdown, write_bar_chart, write_csv
from skelcl.report.runs import find_run_dirs, load_run, record_flags


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def parse_args(argv: list[str] | None):
    ap = argparse.ArgumentParser(prog="python -m skelcl.report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="run dirs, multirun dirs or globs")
    ap.add_argument("--rows", default="method,encoder", help="grouping keys of the rows (default: method,encoder)")
    ap.add_argument("--cols", default="dataset,split,stream,protocol",
                    help="grouping keys of the columns (default: dataset,split,stream,protocol)")
    ap.add_argument("--metric", default="top1", choices=["top1", "top5", "floor_top1", "margin", "mean_class_top1",
                                                         "floor_mean_class_top1"],
                    help="floor_top1: the same seed's random encoder (runs that measured one); "
                         "margin: top1 - floor_top1; mean_class_top1: each class's top-1 averaged over the classes")
    ap.add_argument("--out", type=Path, default=None,
                    help="where comparison.md/.csv/.png go (default: <PATH>/report for one directory, else ./report)")
    ap.add_argument("--no-ensemble", action="store_true", help="no 3-stream ensemble column")
    ap.add_argument("--no-chart", action="store_true", help="skip the PNG (no matplotlib needed)")
    return ap.parse_args(argv)


def default_out(patterns: list[str]) -> Path:
    """<dir>/report when the paths name exactly one directory, else ./report."""
    matches = [m for p in patterns for m in (glob.glob(p) or [p])]
    return Path(matches[0]) / "report" if len(matches) == 1 else Path("report")


def flag_lines(runs, entries) -> list[str]:
    lines = [f"- {run.path}: {', '.join(run.flags)}" for run in runs if run.flags]
    for run in runs:
        if run.flags:
            continue
        for rec in run.records:
            if record_flags(rec):
                lines.append(f"- {run.path} [{rec.get('protocol')}]: {', '.join(record_flags(rec))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    dirs = find_run_dirs(args.paths)
    if not dirs:
        console.print(f"[red]no run directories under {args.paths}[/]")
        return 2
    runs = [load_run(d) for d in progress(dirs, "reading runs")]
    mark_duplicates(runs)
    entries = entries_of(runs)
    if not args.no_ensemble:
        entries += ensemble_entries(runs)
    rows, cols = _keys(args.rows), _keys(args.cols)
    cmp = build_comparison(entries, rows, cols, args.metric)
    flagged = flag_lines(runs, entries)
    differ = differing_keys(entries, rows + cols)
    out = args.out or default_out(args.paths)
    out.mkdir(parents=True, exist_ok=True)

    print_comparison(cmp, console)
    notes = []
    if flagged:
        notes += ["", "Flagged runs (not averaged):", *flagged]
    if differ:
        notes += ["", f"Runs in this table also differ in (not grouping keys {rows + cols}):",
                  *(f"- {k}: {', '.join(v)}" for k, v in differ.items())]
    for line in notes:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    (out / "comparison.md").write_text(to_markdown(cmp) + "\n".join(notes) + ("\n" if notes else ""))
    write_csv(cmp, out / "comparison.csv")
    written = ["comparison.md", "comparison.csv"]
    if not args.no_chart:
        write_bar_chart(cmp, out / "comparison.png")
        written.append("comparison.png")
    console.print(f"{len(runs)} runs, {len(flagged)} flagged; wrote {', '.join(str(out / w) for w in written)}",
                  markup=False, highlight=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
