"""`--help` of every entry point shows usage and examples, not only Hydra's raw config dump."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow  # end-to-end runs / entry-point subprocesses


@pytest.mark.parametrize("module, expected", [
    ("skelcl.train", ["usage: python -m skelcl.train", "examples:", "python -m skelcl.report multirun/",
                      "monitor: disabled, knn"]),
    ("skelcl.evaluate", ["usage: python -m skelcl.evaluate ckpt=", "examples:"]),
    ("skelcl.report", ["usage: python -m skelcl.report", "examples:", "--rows"]),
    ("skelcl.report.plots", ["usage: python -m skelcl.report.plots", "examples:"]),
])
def test_help_shows_usage_and_examples(tmp_path, cache_dir, module, expected):
    proc = run_cli(module, ["--help"], tmp_path, cache_dir, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for text in expected:
        assert text in proc.stdout, text
    assert "== Config ==" not in proc.stdout  # no full config dump
