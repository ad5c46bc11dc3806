"""One tiny real run (pretrain 1 epoch -> linear + knn) shared by the report tests that need real files."""

from __future__ import annotations

import pytest

from tests.conftest import run_train


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, cache_dir):
    run_dir = tmp_path_factory.mktemp("tiny-run")
    records = run_train(["protocol=[linear,knn]"], run_dir, cache_dir)
    return run_dir, records
