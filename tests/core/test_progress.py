"""Progress bars outside Lightning's loop: they render on a terminal, pass every item through, and a run with
progress_bar=true (bars on in evaluation) gives the same results as one without."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from skelcl.progress import progress
from tests.conftest import run_train


def test_bar_renders_and_yields_every_item():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    assert list(progress(iter(range(7)), "features (train)", total=7, console=console)) == list(range(7))
    assert "features (train)" in out.getvalue() and "7/7" in out.getvalue()


def test_disabled_bar_prints_nothing(capsys):
    assert list(progress(range(3), "x", enabled=False)) == [0, 1, 2]
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_run_with_bars_matches_run_without(tmp_path, cache_dir):
    run_train(["protocol=[linear,knn]", "plots=false"], tmp_path / "quiet", cache_dir)
    run_train(["protocol=[linear,knn]", "plots=false", "progress_bar=true"], tmp_path / "bars", cache_dir)
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("quiet", "bars"))
    assert [(r["protocol"], r["top1"]) for r in a] == [(r["protocol"], r["top1"]) for r in b]
