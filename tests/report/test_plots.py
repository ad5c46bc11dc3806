"""Per-run figures: written by a real tiny run, redrawn from saved files, logged as images, content checked."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

from skelcl.report.plots.__main__ import main as plots_main
from skelcl.report.plots.__main__ import rebuild
from skelcl.report.plots.augment_preview import plot_augmentation_preview
from tests.conftest import TINY, compose_train, run_train

FIGURES = ["training_curves.png", "tsne_test.png", "confusion_linear_joint.png", "augmentation_preview.png"]


def _is_png(path) -> bool:
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.mark.slow
def test_a_run_writes_every_figure(tiny_run):
    run_dir, _ = tiny_run
    for name in FIGURES:
        assert _is_png(run_dir / "plots" / name), name


@pytest.mark.slow
def test_confusion_matrix_sums_to_the_test_count_and_matches_top1(tiny_run):
    run_dir, records = tiny_run
    cm = np.loadtxt(run_dir / "plots" / "confusion_linear_joint.csv", delimiter=",", dtype=np.int64)
    _, dm = rebuild(run_dir)
    assert cm.shape == (dm.num_classes, dm.num_classes)
    assert cm.sum() == len(dm.test_idx)
    linear = next(r for r in records if r.protocol == "linear")
    assert np.trace(cm) / cm.sum() * 100 == pytest.approx(linear.top1, abs=1e-4)


@pytest.mark.slow
def test_plots_are_redrawn_from_saved_files(tiny_run, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(tiny_run[0], run_dir, ignore=shutil.ignore_patterns("plots", "checkpoints"))
    assert plots_main([str(run_dir)]) == 0
    for name in FIGURES:
        assert _is_png(run_dir / "plots" / name), name


def test_augmentation_preview_draws_every_view_of_the_method(tmp_path, cache_dir):
    from skelcl.build import build_datamodule, build_method, validate

    cfg = compose_train([*TINY, "method=aimclr"], tmp_path, cache_dir)
    typed = validate(cfg)
    dm = build_datamodule(typed.dataset, cfg.cache_dir, 16, 0)
    model = build_method(typed, dm, 1)
    import matplotlib.figure

    saved = []
    orig = matplotlib.figure.Figure.savefig
    try:
        matplotlib.figure.Figure.savefig = lambda fig, *a, **k: (saved.append(fig), orig(fig, *a, **k))[1]
        plot_augmentation_preview(model, dm, tmp_path / "p.png", clips=2)
    finally:
        matplotlib.figure.Figure.savefig = orig
    rows = [ax.get_ylabel() for ax in saved[0].axes if ax.get_ylabel()]
    assert rows == ["original", "query", "key", "extreme"]
    assert _is_png(tmp_path / "p.png")


@pytest.mark.slow
def test_tensorboard_receives_the_figures(tmp_path, cache_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_train(["logger=tensorboard", "protocol=[linear]"], tmp_path, cache_dir)
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0})
    acc.Reload()
    expected = {"plots/confusion_linear_joint", "plots/tsne_test", "plots/augmentation_preview"}
    assert expected <= set(acc.Tags()["images"])
    assert (tmp_path / "logs" / "metrics.csv").is_file()  # curves are drawn from the CSV log whatever the dashboard


def test_missing_plot_library_gives_an_install_hint(monkeypatch):
    from skelcl.report.optional import MissingExtra, require

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(MissingExtra, match=r"pip install 'skelcl\[report\]'"):
        require("sklearn.manifold")


@pytest.mark.slow
def test_results_json_is_unchanged_by_plotting(tiny_run):
    rows = json.loads((tiny_run[0] / "results.json").read_text())
    assert [r["protocol"] for r in rows] == ["linear", "knn(k=20)", "knn(k=1)"]


@pytest.mark.slow
def test_evaluate_writes_figures_and_provenance(tiny_run, tmp_path, cache_dir):
    from skelcl.evaluate import evaluate
    from tests.conftest import compose_config

    ckpt = tiny_run[0] / "checkpoints" / "last.ckpt"
    evaluate(compose_config([f"ckpt={ckpt}", f"+run_dir={tmp_path}", f"cache_dir={cache_dir}", "protocol=[linear]",
                             "+protocol.linear.epochs=2", "progress_bar=false", "trainer=cpu"], config="evaluate"))
    for name in ["tsne_test.png", "confusion_linear_joint.png", "augmentation_preview.png"]:
        assert _is_png(tmp_path / "plots" / name), name
    assert json.loads((tmp_path / "results.json").read_text())[0]["provenance"]["checkpoint"] == str(ckpt)
