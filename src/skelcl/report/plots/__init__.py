"""Per-run figures, written into <run dir>/plots/ and logged to the run's loggers as images.

From saved files (redrawn by `python -m skelcl.report.plots RUN_DIR`): training curves (logs/metrics.csv), t-SNE of
the test features (the newest features/test-*.pt), the linear probe's confusion matrix and per-class accuracy
(logits/). With
the method and data at hand (end of training, or rebuilt from config.yaml): the augmentation preview.
"""

from __future__ import annotations

from pathlib import Path

from skelcl.report.plots.augment_preview import plot_augmentation_preview
from skelcl.report.plots.confusion import plot_confusion
from skelcl.report.plots.curves import plot_training_curves
from skelcl.report.plots.tsne import plot_tsne

__all__ = ["draw_and_log", "draw_run_plots", "log_images"]


def _newest(folder: Path, pattern: str) -> Path:
    """The most recently written match (feature caches are named by the weights' key), or a path that is absent."""
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else folder / pattern.replace("*", "")


def draw_run_plots(run_dir: str | Path, model=None, datamodule=None, seed: int = 0) -> list[Path]:
    """Draw every figure the run's files allow; returns the PNGs written."""
    run_dir = Path(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    written = [
        plot_training_curves(run_dir / "logs" / "metrics.csv", out / "training_curves.png"),
        plot_tsne(_newest(run_dir / "features", "test*.pt"), out / "tsne_test.png", seed=seed),
    ]
    for logits in sorted((run_dir / "logits").glob("linear_*.pt")):
        written.append(plot_confusion(logits, out / f"confusion_{logits.stem}.png"))
    if model is not None and datamodule is not None:
        written.append(plot_augmentation_preview(model, datamodule, out / "augmentation_preview.png", seed=seed))
    return [p for p in written if p is not None]


def log_images(loggers, paths: list[Path], step: int | None = None) -> None:
    """Send the figures to every logger that takes images (TensorBoard, wandb); the CSV logger has none."""
    from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger

    from skelcl.report.optional import pyplot

    for logger in loggers:
        for path in paths:
            key = f"plots/{path.stem}"
            if isinstance(logger, WandbLogger):
                logger.log_image(key=key, images=[str(path)], step=step)
            elif isinstance(logger, TensorBoardLogger):
                image = pyplot().imread(str(path))[..., :3]
                logger.experiment.add_image(key, image, global_step=step or 0, dataformats="HWC")


def draw_and_log(run_dir: Path, model, datamodule, loggers, console, seed: int = 0) -> list[Path]:
    """End-of-run hook: draw the figures and log them; a missing plotting extra is reported, not fatal."""
    from skelcl.report.optional import MissingExtra

    try:
        paths = draw_run_plots(run_dir, model, datamodule, seed=seed)
    except MissingExtra as e:
        console.print(f"[yellow]no figures:[/] {e}")
        return []
    log_images(loggers or [], paths)
    console.print(f"figures: {', '.join(p.name for p in paths)} in {Path(run_dir) / 'plots'}", markup=False,
                  highlight=False, soft_wrap=True)
    return paths
