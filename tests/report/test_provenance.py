"""Every result record says where it came from; the report names runs that differ beyond the swept keys."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from skelcl.report.compare import differing_keys, entries_of
from skelcl.report.provenance import config_hash
from skelcl.report.runs import load_runs
from tests.report.fake_runs import write_run


@pytest.mark.slow
def test_records_carry_provenance(tiny_run):
    run_dir, _ = tiny_run
    rows = json.loads((run_dir / "results.json").read_text())
    prov = rows[0]["provenance"]
    assert all(r["provenance"] == prov for r in rows)
    assert re.fullmatch(r"(git:[0-9a-f]{12}(\+dirty)?|skelcl==.+)", prov["code"])
    assert prov["config_hash"] == config_hash(yaml.safe_load((run_dir / "config.yaml").read_text()))
    assert prov["checkpoint"].endswith("checkpoints/last.ckpt")
    assert re.fullmatch(r"[0-9a-f]{16}", prov["dataset_fingerprint"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", prov["started_at"])


def test_config_hash_ignores_where_a_run_lives():
    a = {"method": {"name": "x"}, "seed": 0, "run_dir": "/a", "cache_dir": "/c", "logger": {"name": "csv"}}
    b = {**a, "run_dir": "/b", "ckpt_path": "/b/last.ckpt", "logger": {"name": "wandb"}}
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash({**a, "seed": 1})


def test_report_names_code_and_data_differences(tmp_path):
    for i, (code, fp) in enumerate([("git:aaa", "f1"), ("git:bbb", "f2")]):
        run = write_run(tmp_path / f"r{i}", seed=i)
        rows = json.loads((run / "results.json").read_text())
        for r in rows:
            r["provenance"] = {"code": code, "dataset_fingerprint": fp}
        (run / "results.json").write_text(json.dumps(rows))
    entries = entries_of(load_runs([str(tmp_path)]))
    assert differing_keys(entries, ["method", "protocol"]) == {"provenance.code": ["git:aaa", "git:bbb"],
                                                               "provenance.dataset_fingerprint": ["f1", "f2"]}
    assert "provenance.dataset_fingerprint" not in differing_keys(entries, ["method", "dataset"])
