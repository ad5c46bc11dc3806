"""The 3-stream ensemble as one more `stream` value: when joint, motion and bone runs of the same experiment
(same config apart from the stream, same seed) all have linear logits, their fixed-weight ensemble
(`skelcl.eval.ensemble`, weights chosen a priori) becomes a record with stream='ensemble'."""

from __future__ import annotations

from skelcl.eval.ensemble import DEFAULT_WEIGHTS, ensemble, load_stream_logits
from skelcl.report.compare import Entry
from skelcl.report.provenance import config_hash
from skelcl.report.runs import Run, record_flags

STREAMS = ("joint", "motion", "bone")


def _linear_record(run: Run) -> dict | None:
    recs = [r for r in run.records if r.get("protocol") == "linear"]
    return recs[0] if recs and (run.path / "logits" / f"linear_{recs[0].get('stream')}.pt").is_file() else None


def ensemble_entries(runs: list[Run], weights: dict[str, float] = DEFAULT_WEIGHTS) -> list[Entry]:
    groups: dict[str, dict[str, Run]] = {}
    for run in runs:
        rec = _linear_record(run)
        if run.flags or rec is None or record_flags(rec) or rec.get("stream") not in STREAMS:
            continue
        groups.setdefault(config_hash(run.config, drop=("stream",)), {}).setdefault(rec["stream"], run)
    out = []
    for by_stream in groups.values():
        if set(by_stream) != set(STREAMS):
            continue
        parts = [by_stream[s] for s in STREAMS]
        res = ensemble([load_stream_logits(r.path) for r in parts], weights)
        base = _linear_record(by_stream["joint"])
        record = {**base, "stream": "ensemble", "top1": res["top1"], "top5": res["top5"],
                  "mean_class_top1": res["mean_class_top1"], "wall_s": None,
                  "best_on_test_top1": None, "ensemble_weights": res["weights"],
                  "ensemble_of": [str(r.path) for r in parts]}
        record.pop("provenance", None)
        out.append(Entry(record, parts))
    return out
