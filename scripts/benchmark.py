"""Benchmark runner (not a test): random encoder / pretrained methods / supervised ceiling on one dataset.

Runs `python -m skelcl.train` once per row in a subprocess, sequentially, and writes one markdown table of the
final-epoch linear / KNN / finetune top-1 with wall times, plus the exact commands used.

    python scripts/benchmark.py --dataset synthetic --out benchmarks/synthetic
    python scripts/benchmark.py --dataset nucla --root /data/nucla_prepared --out benchmarks/nucla \
        --methods skeletonclr,aimclr --extra trainer=gpu
    # a method row may carry its own overrides after colons (row label = the whole entry):
    python scripts/benchmark.py --methods "ascal,ascal:encoder=stgcn:method.model.projector=mlp" --out b
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path


def rows_for(methods: list[str], supervised_epochs: int) -> list[tuple[str, list[str]]]:
    rows = [("random init (floor)", ["pretrain=false"])]
    for entry in methods:
        name, *overrides = entry.split(":")
        rows.append((entry, [f"method={name}", *overrides]))
    # the method's finetune recipe (70 epochs, 5 warm-up, steps [30, 55]) shrunk proportionally
    rows.append(("supervised (ceiling)", ["pretrain=false", "protocol=[finetune]",
                                          f"method.finetune.epochs={supervised_epochs}",
                                          f"method.finetune.warmup_epochs={round(5 * supervised_epochs / 70)}",
                                          f"method.finetune.milestones=[{round(supervised_epochs * 30 / 70)},"
                                          f"{round(supervised_epochs * 55 / 70)}]"]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="synthetic")
    ap.add_argument("--root", default=None, help="dataset.root for datasets that need files")
    ap.add_argument("--methods", default="skeletonclr", help="comma-separated method configs")
    ap.add_argument("--supervised-epochs", type=int, default=70)
    ap.add_argument("--extra", nargs="*", default=[], help="overrides added to every run")
    ap.add_argument("--only", default=None, help="comma-separated row labels to run (default: all)")
    ap.add_argument("--no-floor", action="store_true", help="skip the random-encoder row")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the supervised row")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = [f"dataset={args.dataset}", "progress_bar=false"]
    if args.root:
        base.append(f"dataset.root={args.root}")
    lines = []
    results = []
    for label, overrides in rows_for(args.methods.split(","), args.supervised_epochs):
        if args.only and label not in args.only.split(","):
            continue
        if (args.no_floor and label.startswith("random")) or (args.no_ceiling and label.startswith("supervised")):
            continue
        slug = label.split(" ")[0].replace(":", "_").replace("=", "-").replace("/", "-")
        run_dir = args.out / slug
        cmd = [sys.executable, "-m", "skelcl.train", *base, *overrides, *args.extra, f"hydra.run.dir={run_dir}"]
        print(f"[benchmark] {label}: {shlex.join(cmd[1:])}", flush=True)
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.time() - t0
        (args.out / f"{slug}.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            results.append({"label": label, "error": proc.returncode, "wall_s": wall})
            continue
        recs = json.loads((run_dir / "results.json").read_text())
        results.append({"label": label, "records": recs, "wall_s": wall, "command": shlex.join(cmd[1:])})
        lines.append(f"- {label}: `python {shlex.join(cmd[1:-1])}` ({wall:.0f} s)")
    (args.out / "benchmark.json").write_text(json.dumps(results, indent=1))
    table = ["| encoder / method | epochs | linear top-1 | KNN top-1 | finetune top-1 | wall (s) |",
             "|---|---|---|---|---|---|"]
    for r in results:
        if "records" not in r:
            table.append(f"| {r['label']} | failed (rc {r['error']}) | | | | {r['wall_s']:.0f} |")
            continue
        by = {rec["protocol"].split("(")[0]: f"{rec['top1']:.1f}" for rec in r["records"]}
        epochs = r["records"][0]["epochs"]
        cells = " | ".join(by.get(p, "-") for p in ("linear", "knn", "finetune"))
        table.append(f"| {r['label']} | {epochs} | {cells} | {r['wall_s']:.0f} |")
    machine = f"{platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores"
    text = "\n".join(table) + f"\n\nMachine: {machine}. Commands:\n" + "\n".join(lines) + "\n"
    (args.out / "benchmark.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
