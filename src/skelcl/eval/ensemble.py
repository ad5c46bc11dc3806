"""Multi-stream ensemble of linear-evaluation logits (joint / motion / bone).

    python -m skelcl.eval.ensemble RUN_JOINT RUN_MOTION RUN_BONE [--weights joint=0.6,motion=0.4,bone=0.6]

Weights are fixed beforehand (default joint:motion:bone = 0.6:0.4:0.6, AimCLR's), never searched on the test
set (the official HiCLR/SkeAttnCLR scripts print the better of two weightings on the test set). Raw logits are
summed, as in the official scripts; test samples must be the same, in the same order, in every run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from skelcl.eval.metrics import accuracies, topk_accuracy

DEFAULT_WEIGHTS = {"joint": 0.6, "motion": 0.4, "bone": 0.6}


def load_stream_logits(run_dir: str | Path) -> dict:
    files = sorted(Path(run_dir).glob("logits/linear_*.pt"))
    if len(files) != 1:
        raise FileNotFoundError(f"{run_dir}: expected one logits/linear_<stream>.pt (run protocol=linear), "
                                f"found {len(files)}")
    return torch.load(files[0], map_location="cpu")


def ensemble(parts: list[dict], weights: dict[str, float]) -> dict:
    streams = [p["stream"] for p in parts]
    repeated = sorted({s for s in streams if streams.count(s) > 1})
    if repeated:  # the same stream twice would silently re-weight it
        raise ValueError(f"stream(s) {repeated} given more than once ({streams}); give one run per stream")
    ref = parts[0]
    score = torch.zeros_like(ref["logits"])
    for p in parts:
        if not torch.equal(p["index"], ref["index"]) or not torch.equal(p["labels"], ref["labels"]):
            raise ValueError(f"stream '{p['stream']}' was evaluated on different test samples than '{ref['stream']}'")
        if p["stream"] not in weights:
            raise ValueError(f"no ensemble weight for stream '{p['stream']}'; weights: {weights}")
        score += weights[p["stream"]] * p["logits"]
    c = score.shape[1]
    return {"streams": [p["stream"] for p in parts], "weights": {p["stream"]: weights[p["stream"]] for p in parts},
            **accuracies(score, ref["labels"], c),
            "per_stream_top1": {p["stream"]: topk_accuracy(p["logits"], ref["labels"], c, 1) for p in parts}}


def parse_weights(text: str | None) -> dict[str, float]:
    if not text:
        return dict(DEFAULT_WEIGHTS)
    out = {}
    for item in text.split(","):
        key, _, val = item.partition("=")
        out[key.strip()] = float(val)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="run directories, one per stream")
    ap.add_argument("--weights", default=None, help="e.g. joint=0.6,motion=0.4,bone=0.6 (fixed a priori)")
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = ap.parse_args(argv)
    res = ensemble([load_stream_logits(r) for r in args.runs], parse_weights(args.weights))
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)
    return res


if __name__ == "__main__":
    main()
