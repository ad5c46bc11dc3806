"""The package's floors (docs/architecture.md): imports point down only.

Checked on the source text, so a new backward import fails here rather than in a review."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "skelcl"
ENTRY_POINTS = {"skelcl.train", "skelcl.evaluate"}

# floor of each top-level module or package (higher may import lower, never the reverse)
FLOORS = {
    "conf": 0,
    "config": 1, "schedules": 1, "wandb_run": 1, "progress": 1, "divergence": 1, "interruption": 1, "pids": 1,
    "cpu_precision": 1,
    "data": 2, "checkpoint": 2, "config_tree": 2,
    "augment": 3, "encoders": 3,
    "methods": 4,
    "eval": 5, "small_data": 5,
    "build": 6, "entry": 6,
    "report": 7,
    "train": 8, "evaluate": 9,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return {m for m in out if m.startswith("skelcl.")}


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__")


def _top(module: str) -> str:
    return module.split(".")[1]


def test_every_module_has_a_floor():
    tops = {_top(_module(p)) for p in SRC.rglob("*.py") if p.name != "__init__.py" or p.parent != SRC}
    assert tops <= set(FLOORS), f"give these a floor in this test and in docs/architecture.md: {tops - set(FLOORS)}"


def test_no_import_points_up_and_none_reaches_an_entry_point():
    upward, entry = [], []
    for path in SRC.rglob("*.py"):
        me = _module(path)
        if me == "skelcl":
            continue
        for imp in _imports(path):
            if imp in ENTRY_POINTS and me not in ENTRY_POINTS | {"skelcl.data.prepare.__main__"}:
                entry.append(f"{me} -> {imp}")
            if FLOORS[_top(imp)] > FLOORS[_top(me)]:
                upward.append(f"{me} (floor {FLOORS[_top(me)]}) -> {imp} (floor {FLOORS[_top(imp)]})")
    assert not entry, entry
    assert not upward, upward


def test_data_does_not_depend_on_its_prepare_commands():
    """`data/` is read by everything; `data/prepare/` (the raw-release converters) sits on top of it."""
    offenders = [f"{_module(p)} -> {imp}" for p in (SRC / "data").glob("*.py") for imp in _imports(p)
                 if imp.startswith("skelcl.data.prepare.")]
    assert not offenders, offenders
