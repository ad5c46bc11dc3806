"""The random-encoder floor measured in the run (skelcl.eval.floor): when it is measured, how records carry it, and
that the model's own (pretrained) encoder is back in place afterwards."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from skelcl.eval.floor import attach_floor, floor_line, shortfalls, wants_floor
from skelcl.eval.record import ResultRecord


def _cfg(**kw):
    return OmegaConf.create({"pretrain": True, "floor": "auto", "init_from": None, **kw})


@pytest.mark.parametrize("kw, small_data, expected", [
    ({}, True, True),                                   # auto: under the small-data rule
    ({}, False, False),                                 # auto: the papers' recipes (NTU, PKU-MMD) skip it
    ({"init_from": "w.ckpt"}, True, False),             # auto: pretraining starts from given weights, not random
    ({"floor": True}, False, True),                     # forced on
    ({"floor": "false"}, True, False),                  # forced off
    ({"pretrain": False, "floor": True}, True, False),  # a run that does not pretrain is its own floor
])
def test_when_the_floor_is_measured(kw, small_data, expected):
    assert wants_floor(_cfg(**kw), small_data) is expected


def _record(protocol, top1, mean_class=None):
    return ResultRecord(method="m", encoder="e", dataset="d", split="s", stream="joint", protocol=protocol, top1=top1,
                        top5=100.0, epochs=1, seed=0, wall_s=0.0, mean_class_top1=mean_class)


def test_records_get_their_floor_and_shortfalls_are_named():
    records = [_record("linear", 60.0), _record("knn(k=20)", 40.0), _record("finetune", 90.0)]
    attach_floor(records, {"linear": _record("linear", 50.0, 45.0), "knn(k=20)": _record("knn(k=20)", 41.5, 30.0)})
    assert [r.floor_top1 for r in records] == [50.0, 41.5, None]  # finetune has no frozen-feature floor
    assert [r.floor_mean_class_top1 for r in records] == [45.0, 30.0, None]
    assert shortfalls(records) == ["knn(k=20) 40.0 <= 41.5"]
    assert floor_line(records).endswith("linear 50.0 (+10.0), knn(k=20) 41.5 (-1.5)")


def test_the_floor_is_measured_on_the_initial_weights_and_the_trained_ones_are_put_back(monkeypatch):
    import dataclasses

    import skelcl.eval.floor as floor

    @dataclasses.dataclass(frozen=True)
    class Run:
        cfg: object
        protocols: dict

    model = torch.nn.Module()
    model.encoder_q = torch.nn.Linear(3, 2)
    trained = {k: v.clone() for k, v in model.encoder_q.state_dict().items()}
    initial = {k: torch.zeros_like(v) for k, v in trained.items()}
    seen = {}

    def protocols(run, model, *args, **kwargs):
        seen["protocols"] = list(run.protocols)
        seen["weights"] = {k: v.clone() for k, v in model.encoder_q.state_dict().items()}
        raise RuntimeError("probe failed")

    monkeypatch.setattr(floor, "run_protocols", protocols)
    run = Run(OmegaConf.create({"calibrate_bn": False}), {"linear": None, "knn": None, "finetune": None})
    with pytest.raises(RuntimeError, match="probe failed"):
        floor.measure_floor(run, model, initial, dm=None, run_dir=None, start_time=0.0)
    assert seen["protocols"] == ["linear", "knn"]  # frozen-feature probes only
    assert all(torch.equal(v, initial[k]) for k, v in seen["weights"].items())
    assert all(torch.equal(v, trained[k]) for k, v in model.encoder_q.state_dict().items())
