"""Peak memory and throughput of one SkeAttnCLR pretraining step, per batch size and ST-GCN width.

SkeAttnCLR is the heaviest method in skelcl: a full-width ST-GCN (hidden 64) run three times per step (x_q, x_mix,
x_k) plus an attention over T'·V = 400 tokens whose weights alone are N·M·8·400² floats (≈ 1.3 GB in fp32 at batch
128, two bodies). This script measures what a step really costs, so batch size / width choices for a
given GPU can be made from numbers:

    python scripts/skeattnclr_memory.py --device cuda --batch 32 64 128 --hidden 16 32 64 --steps 5
    python scripts/skeattnclr_memory.py --device cpu --batch 4 --hidden 16 --steps 1        # smoke test

Each (batch, hidden) configuration runs in a fresh spawned process, so peaks do not leak from one to the next.
CUDA: peak `torch.cuda.max_memory_allocated` (and reserved) over the timed steps. CPU: the process's peak resident
set size (`resource.getrusage`), reported together with the RSS before the first step (model + inputs + torch), the
difference being what the steps add. A step = views + three encoder passes + MHSAM + losses + backward + SGD step +
EMA, like a real training step (random clips; the data loader is not included).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path


def build_model(hidden: int, frames: int, bodies: int, queue: int, stream: str):
    from omegaconf import OmegaConf

    import skelcl.conf
    from skelcl.data.layouts import NTU25
    from skelcl.methods.skeattnclr import SkeAttnCLR

    method = OmegaConf.load(Path(skelcl.conf.__file__).parent / "method" / "skeattnclr.yaml")
    encoder = OmegaConf.load(Path(skelcl.conf.__file__).parent / "encoder" / "stgcn_full.yaml")
    encoder = OmegaConf.create({k: v for k, v in encoder.items() if k != "name"})
    encoder.hidden_channels = hidden
    model_kwargs = OmegaConf.to_container(method.model)
    model_kwargs.pop("_target_")
    model_kwargs["queue_size"] = queue
    return SkeAttnCLR(layout=NTU25, num_classes=60, bodies=bodies, encoder=encoder, stream=stream,
                      clip={"frames": frames, "temporal": "resize"}, schedule=OmegaConf.to_container(method.schedule),
                      **model_kwargs)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(args: dict) -> dict:
    """One configuration, in its own process."""
    import torch

    torch.manual_seed(0)
    device = torch.device(args["device"])
    cuda = device.type == "cuda"
    if args["threads"]:
        torch.set_num_threads(args["threads"])
    batch, hidden = args["batch"], args["hidden"]
    model = build_model(hidden, args["frames"], args["bodies"], args["queue"], args["stream"]).to(device).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9,
                          weight_decay=1e-4)
    x = torch.randn(batch, 3, args["frames"], 25, args["bodies"], device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args["bf16"])

    def step() -> float:
        with autocast:
            loss, _ = model.pretrain_loss(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.momentum_update(model.base_momentum)
        return float(loss.detach())

    out = {"batch": batch, "hidden": hidden, "device": str(device), "bf16": args["bf16"],
           "params_M": round(sum(p.numel() for p in model.encoder_q.parameters()) / 1e6, 3),
           "attention_weights_MB": round(batch * args["bodies"] * 8 * (16 * 25) ** 2 * 4 / 2**20, 1)}
    try:
        out["rss_before_MB"] = round(rss_mb(), 1)
        step()  # warm-up (allocator, cuDNN autotuning); the peak below includes it
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(args["steps"]):
            loss = step()
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        out["loss"] = round(loss, 4)
        out["step_s"] = round(elapsed / args["steps"], 4)
        out["samples_per_s"] = round(batch * args["steps"] / elapsed, 1)
        if cuda:
            out["peak_allocated_MB"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            out["peak_reserved_MB"] = round(torch.cuda.max_memory_reserved() / 2**20, 1)
        out["peak_rss_MB"] = round(rss_mb(), 1)
    except torch.cuda.OutOfMemoryError:
        out["error"] = "CUDA out of memory"
    return out


def _child(args: dict, queue) -> None:
    try:
        queue.put(measure(args))
    except Exception as e:  # report and let the sweep continue
        queue.put({"batch": args["batch"], "hidden": args["hidden"], "error": f"{type(e).__name__}: {e}"})


def run_isolated(args: dict) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(args, queue))
    proc.start()
    proc.join()
    if not queue.empty():
        return queue.get()
    return {"batch": args["batch"], "hidden": args["hidden"], "error": f"process exited with code {proc.exitcode}"}


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[128], help="batch sizes (samples per step)")
    ap.add_argument("--hidden", type=int, nargs="+", default=[64], help="ST-GCN base widths (64 = paper, 16 = quarter)")
    ap.add_argument("--device", default="cuda", help="cuda | cpu | cuda:1 ...")
    ap.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up step")
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--bodies", type=int, default=2)
    ap.add_argument("--queue", type=int, default=32768)
    ap.add_argument("--stream", default="joint", choices=("joint", "motion", "bone"))
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (CUDA); the default is fp32 like the reference")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    ap.add_argument("--json", default=None, help="also write the rows to this file")
    a = ap.parse_args(argv)
    if a.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            sys.exit("CUDA is not available; use --device cpu")
    rows = []
    for hidden in a.hidden:
        for batch in a.batch:
            cfg = {"batch": batch, "hidden": hidden, "device": a.device, "steps": a.steps, "frames": a.frames,
                   "bodies": a.bodies, "queue": a.queue, "stream": a.stream, "bf16": a.bf16, "threads": a.threads}
            row = run_isolated(cfg)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
