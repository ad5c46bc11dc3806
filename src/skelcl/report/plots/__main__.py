"""Redraw a run's figures from its saved files into <RUN_DIR>/plots/.

examples:
  python -m skelcl.report.plots outputs/skeletonclr/synthetic-xsub-joint/2026-01-01_12-00-00
  python -m skelcl.report.plots multirun/2026-01-01_12-00-00/0_aimclr_synthetic_joint_seed0 --no-preview

Training curves, t-SNE and the confusion matrix need only the run directory. The augmentation preview rebuilds
the method and opens the dataset from the run's config.yaml (skipped, with a note, when the data is not there).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from omegaconf import OmegaConf
from rich.console import Console

from skelcl.report.plots import draw_run_plots


def rebuild(run_dir: Path):
    """The run's method (views and layout; no weights needed) and data module, from config.yaml."""
    from skelcl.build import build_datamodule, build_method, validate

    cfg = OmegaConf.load(run_dir / "config.yaml")
    run = validate(cfg)
    dm = build_datamodule(run.dataset, cfg.cache_dir, run.schedule.batch_size, int(cfg.seed))
    return build_method(run, dm, 1), dm


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m skelcl.report.plots", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dirs", nargs="+", type=Path, help="run directories")
    ap.add_argument("--no-preview", action="store_true", help="skip the augmentation preview (no data needed)")
    args = ap.parse_args(argv)
    console = Console()
    for run_dir in args.run_dirs:
        model = dm = None
        if not args.no_preview:
            try:
                model, dm = rebuild(run_dir)
            except Exception as e:  # the figures from saved files are still worth drawing
                console.print(f"{run_dir}: no augmentation preview ({type(e).__name__}: {e})", markup=False)
        for path in draw_run_plots(run_dir, model, dm):
            console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
