import pytest
import torch

from skelcl.eval.ensemble import ensemble, main, parse_weights


def part(stream, logits, labels, index=None):
    return {"stream": stream, "logits": torch.tensor(logits), "labels": torch.tensor(labels),
            "index": torch.arange(len(labels)) if index is None else torch.tensor(index)}


def test_weighted_sum_of_raw_logits():
    labels = [0, 1]
    j = part("joint", [[2.0, 0.0], [1.0, 0.0]], labels)  # right, wrong
    b = part("bone", [[0.0, 1.0], [0.0, 3.0]], labels)  # wrong, right
    res = ensemble([j, b], {"joint": 0.6, "bone": 0.6})
    # sample 0: 1.2 vs 0.6 -> class 0 (right); sample 1: 0.6 vs 1.8 -> class 1 (right)
    assert res["top1"] == 100.0 and res["per_stream_top1"] == {"joint": 50.0, "bone": 50.0}
    res = ensemble([j, b], {"joint": 1.0, "bone": 0.1})
    assert res["top1"] == 50.0


def test_mismatched_test_sets_fail():
    with pytest.raises(ValueError, match="different test samples"):
        ensemble([part("joint", [[1.0, 0.0]], [0]), part("bone", [[1.0, 0.0]], [0], index=[5])],
                 {"joint": 1, "bone": 1})


def test_cli_reads_run_dirs(tmp_path):
    for stream, logits in [("joint", [[3.0, 0.0], [0.0, 1.0]]), ("motion", [[0.0, 1.0], [0.0, 1.0]])]:
        (tmp_path / stream / "logits").mkdir(parents=True)
        torch.save(part(stream, logits, [0, 1]), tmp_path / stream / "logits" / f"linear_{stream}.pt")
    res = main([str(tmp_path / "joint"), str(tmp_path / "motion"), "--out", str(tmp_path / "ens.json")])
    assert res["top1"] == 100.0 and (tmp_path / "ens.json").is_file()
    assert parse_weights(None) == {"joint": 0.6, "motion": 0.4, "bone": 0.6}


def test_the_same_stream_twice_is_refused():
    j = part("joint", [[1.0, 0.0]], [0])
    with pytest.raises(ValueError, match=r"stream\(s\) \['joint'\] given more than once"):
        ensemble([j, j, j], {"joint": 0.6})
