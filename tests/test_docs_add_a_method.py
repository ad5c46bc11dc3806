"""docs/architecture.md's worked example of adding a method runs as written: its Python and YAML blocks are
written to a temporary module and config directory and run through the train entry point (Hydra search path)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_worked_method_example_trains(tmp_path, cache_dir, monkeypatch):
    from tests.conftest import run_train

    code = next(b for b in _blocks("python") if "class TwoCrop" in b)
    yaml = next(b for b in _blocks("yaml") if "TwoCrop" in b)
    (tmp_path / "twocrop_example.py").write_text(code)
    (tmp_path / "conf" / "method").mkdir(parents=True)
    (tmp_path / "conf" / "method" / "twocrop.yaml").write_text(
        yaml.replace("skelcl.methods.twocrop.TwoCrop", "twocrop_example.TwoCrop"))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("twocrop_example", None)

    records = run_train([f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "method=twocrop", "protocol=[knn]"],
                        tmp_path / "run", cache_dir)
    assert [r.method for r in records] == ["twocrop", "twocrop"]  # knn(k=20) and 1-NN
    assert all(0.0 <= r.top1 <= 100.0 for r in records)
