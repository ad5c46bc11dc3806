"""`python -m skelcl.report`: grouping, mean ± std, flags, duplicates, differing keys, the ensemble column."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from skelcl.report.__main__ import main
from skelcl.report.compare import build_comparison, differing_keys, entries_of, mark_duplicates
from skelcl.report.ensemble_column import ensemble_entries
from skelcl.report.runs import find_run_dirs, load_runs
from tests.report.fake_runs import write_run


def _comparison(paths, rows=("method",), cols=("protocol",), ensemble=False):
    runs = load_runs([str(p) for p in paths])
    mark_duplicates(runs)
    entries = entries_of(runs) + (ensemble_entries(runs) if ensemble else [])
    return runs, entries, build_comparison(entries, list(rows), list(cols))


def test_groups_rows_and_columns_with_mean_std_n(tmp_path):
    for seed, (lin, knn) in enumerate([(50.0, 40.0), (54.0, 42.0), (58.0, 44.0)]):
        write_run(tmp_path / f"a{seed}", "aimclr", seed, results={"linear": lin, "knn(k=20)": knn})
    write_run(tmp_path / "h0", "hiclr", 0, results={"linear": 70.0, "knn(k=20)": 60.0})
    _, _, cmp = _comparison([tmp_path])
    assert cmp.row_keys == [("aimclr",), ("hiclr",)]
    assert cmp.col_keys == [("linear",), ("knn(k=20)",)]
    cell = cmp.cells[(("aimclr",), ("linear",))]
    assert cell.n == 3 and cell.mean == 54.0 and math.isclose(cell.std, 4.0)
    assert cell.text() == "54.00 ± 4.00 (n=3)"
    assert cmp.cells[(("hiclr",), ("knn(k=20)",))].text() == "60.00 (n=1)"


def test_margin_over_the_random_encoder_is_averaged_where_a_floor_was_measured(tmp_path, capsys):
    write_run(tmp_path / "a0", "aimclr", 0, results={"linear": 60.0}, floors={"linear": 50.0})
    write_run(tmp_path / "a1", "aimclr", 1, results={"linear": 66.0}, floors={"linear": 52.0})
    write_run(tmp_path / "h0", "hiclr", 0, results={"linear": 70.0})  # measured without a floor
    runs = load_runs([str(tmp_path)])
    cmp = build_comparison(entries_of(runs), ["method"], ["protocol"], "margin")
    assert cmp.cells[(("aimclr",), ("linear",))].values == [10.0, 14.0]
    assert cmp.cells[(("hiclr",), ("linear",))].text() == "-"
    assert build_comparison(entries_of(runs), ["method"], ["protocol"], "floor_top1").cells[
        (("aimclr",), ("linear",))].mean == 51.0
    assert main([str(tmp_path), "--metric", "margin", "--no-chart", "--no-ensemble"]) == 0
    assert "12.00 ± 2.83 (n=2)" in (tmp_path / "report" / "comparison.md").read_text()


def test_config_keys_can_group(tmp_path):
    write_run(tmp_path / "a", "aimclr", 0, results={"linear": 50.0}, config={"method": {"name": "aimclr",
                                                                                          "schedule": {"lr": 0.1}}})
    write_run(tmp_path / "b", "aimclr", 0, results={"linear": 60.0}, config={"method": {"name": "aimclr",
                                                                                          "schedule": {"lr": 0.5}}})
    _, _, cmp = _comparison([tmp_path], rows=("method.schedule.lr",))
    assert cmp.row_keys == [(0.1,), (0.5,)]


def test_collapsed_interrupted_diverged_are_flagged_not_averaged(tmp_path):
    write_run(tmp_path / "ok", seed=0, results={"linear": 50.0})
    write_run(tmp_path / "collapsed", seed=1, results={"linear": 2.0}, collapsed=True)
    write_run(tmp_path / "nan", seed=2, results={"linear": float("nan")})
    write_run(tmp_path / "killed", seed=3, with_results=False)
    runs, _, cmp = _comparison([tmp_path])
    cell = cmp.cells[(("aimclr",), ("linear",))]
    assert cell.values == [50.0]
    assert sorted(cell.excluded) == ["collapsed", "diverged"]
    assert cell.text().endswith("[2 flagged]")
    assert {r.path.name: r.flags for r in runs}["killed"] == ["interrupted"]


def test_duplicate_runs_are_detected_and_counted_once(tmp_path):
    write_run(tmp_path / "first", seed=0, results={"linear": 50.0})
    write_run(tmp_path / "second", seed=0, results={"linear": 52.0})  # same config, same seed, other run dir
    write_run(tmp_path / "other_seed", seed=1, results={"linear": 56.0})
    runs, _, cmp = _comparison([tmp_path])
    flags = {r.path.name: r.flags for r in runs}
    assert flags["second"] == ["duplicate of first"] and flags["first"] == [] and flags["other_seed"] == []
    assert cmp.cells[(("aimclr",), ("linear",))].values == [50.0, 56.0]


def test_evaluations_of_different_checkpoints_are_not_duplicates(tmp_path):
    write_run(tmp_path / "ep100", seed=0, epochs=100, config={"monitor": {"every_n_epochs": 10}})
    write_run(tmp_path / "ep200", seed=0, epochs=200, config={"monitor": {"every_n_epochs": 0}, "plots": False})
    runs, _, _ = _comparison([tmp_path])
    assert all(r.flags == [] for r in runs)


def test_differing_keys_reports_what_the_table_does_not_show(tmp_path):
    write_run(tmp_path / "a", "aimclr", 0, config={"epochs": 10})
    write_run(tmp_path / "b", "hiclr", 1, config={"epochs": 20})
    _, entries, _ = _comparison([tmp_path])
    assert differing_keys(entries, ["method", "protocol"]) == {"epochs": ["10", "20"]}
    assert differing_keys(entries, ["method", "protocol", "epochs"]) == {}


def test_ensemble_column_from_three_streams_of_one_seed(tmp_path):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(12) % 3
    logits = {s: torch.randn(12, 3, generator=g) for s in ("joint", "motion", "bone")}
    for s in logits:
        write_run(tmp_path / f"s0_{s}", stream=s, seed=0, logits=logits[s], labels=labels)
    write_run(tmp_path / "s1_joint", stream="joint", seed=1, logits=logits["joint"], labels=labels)  # no partners
    _, entries, cmp = _comparison([tmp_path], cols=("stream",), ensemble=True)
    cell = cmp.cells[(("aimclr",), ("ensemble",))]
    assert cell.n == 1
    fused = 0.6 * logits["joint"] + 0.4 * logits["motion"] + 0.6 * logits["bone"]
    assert math.isclose(cell.values[0], (fused.argmax(1) == labels).float().mean().item() * 100, abs_tol=1e-4)
    assert cmp.col_keys[-1] == ("ensemble",)


def test_cli_writes_markdown_csv_png_and_lists_flags(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may land in the working directory
    sweep = tmp_path / "multirun" / "2026-01-01_00-00-00"
    for i, (m, s, v) in enumerate([("aimclr", 0, 50.0), ("aimclr", 1, 54.0), ("hiclr", 0, 60.0), ("hiclr", 1, 64.0)]):
        write_run(sweep / f"{i}_{m}_seed{s}", m, s, results={"linear": v})
    write_run(sweep / "4_hiclr_seed2", "hiclr", 2, with_results=False)
    assert main([str(tmp_path / "multirun" / "*"), "--rows", "method", "--cols", "stream,protocol"]) == 0
    out = capsys.readouterr().out
    assert "52.00 ± 2.83 (n=2)" in out and "62.00 ± 2.83 (n=2)" in out
    assert "interrupted" in out
    report = sweep / "report"
    assert "| aimclr | 52.00 ± 2.83 (n=2) |" in (report / "comparison.md").read_text()
    rows = list(csv.DictReader((report / "comparison.csv").open()))
    assert [(r["method"], r["n"]) for r in rows] == [("aimclr", "2"), ("hiclr", "2")]
    png = (report / "comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert not (tmp_path / "report").exists()


def test_report_of_several_directories_goes_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "a" / "r", "aimclr", 0)
    write_run(tmp_path / "b" / "r", "hiclr", 0)
    assert main(["a", "b", "--no-chart"]) == 0
    assert (tmp_path / "report" / "comparison.md").is_file() and not (tmp_path / "a" / "report").exists()


def test_run_dirs_are_found_under_globs_but_not_inside_runs(tmp_path):
    run = write_run(tmp_path / "sweep" / "0_x", seed=0)
    (run / "finetune" / "checkpoints").mkdir(parents=True)  # a nested dir inside a run is not another run
    assert find_run_dirs([str(tmp_path / "sw*")]) == [run.resolve()]


def test_a_glob_skips_the_files_beside_the_runs_but_a_file_or_empty_glob_is_an_error(tmp_path):
    a, b = write_run(tmp_path / "runs" / "a_s0", seed=0), write_run(tmp_path / "runs" / "a_s1", seed=1)
    (tmp_path / "runs" / "a_s0.log").write_text("training log")
    assert find_run_dirs([str(tmp_path / "runs" / "a_*")]) == [a.resolve(), b.resolve()]
    for bad in (tmp_path / "runs" / "a_s0.log", tmp_path / "runs" / "a_*.log", tmp_path / "nothing*"):
        with pytest.raises(FileNotFoundError, match="not a directory"):
            find_run_dirs([str(bad)])


def test_non_finite_training_loss_marks_the_run_diverged(tmp_path):
    run = write_run(tmp_path / "r", results={"linear": 10.0})
    (run / "logs").mkdir()
    (run / "logs" / "metrics.csv").write_text("epoch,step,train/loss_epoch\n0,1,6.2\n1,2,nan\n")
    runs, _, cmp = _comparison([tmp_path])
    assert runs[0].flags == ["diverged"]
    assert cmp.cells[(("aimclr",), ("linear",))].values == []
