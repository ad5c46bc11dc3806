"""Training-step throughput per method x encoder at the official configuration (not a test).

Random clips shaped like the dataset (default NTU RGB+D: 25 joints, 2 bodies, up to 300 frames) go through the same
data module, clip preparation, batched augmentation, encoders, loss, optimiser and EMA as `python -m skelcl.train`.
Each step is split into loader / clips (preparation) / augment (view ops) / forward (encoders, loss, queue) /
backward / optim (optimiser step + EMA); warm-up steps are excluded and the timed block is repeated. Feature
extraction (frozen encoder over un-augmented clips) and the linear probe (SGD head over cached features) are timed
too. Prints a markdown table; `--json` also writes the figures.

    python scripts/throughput.py                                   # every method, fp32, this machine's CPU
    python scripts/throughput.py --methods aimclr --precision bf16-mixed --steps 8 --repeats 3
    python scripts/throughput.py --device cuda --precision bf16-mixed --json gpu.json
    python scripts/throughput.py --methods skeattnclr --encoder stgcn   # quarter width instead of the paper's

On CUDA the phases are separated by synchronisations that the training step itself does not make.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_module

from skelcl.build import build_method, validate
from skelcl.config import LinearConfig
from skelcl.data.datamodule import SkeletonDataModule
from skelcl.data.formats import PreparedDataset
from skelcl.data.layouts import get_layout
from skelcl.eval.linear import train_linear

METHODS = ("skeletonclr", "aimclr", "hiclr", "skeattnclr", "ascal")
PHASES = ("loader", "clips", "augment", "forward", "backward", "optim")


def random_dataset(clips: int, frames: int, layout: str, bodies: int, num_classes: int, seed: int) -> PreparedDataset:
    """An in-memory prepared dataset of smooth random motion with valid lengths between frames/4 and frames."""
    rng = np.random.default_rng(seed)
    lay = get_layout(layout)
    v = lay.num_joints
    walk = rng.standard_normal((clips, 3, frames, v, bodies)).astype(np.float32).cumsum(axis=2) * 0.01
    data = walk + rng.standard_normal((clips, 3, 1, v, bodies)).astype(np.float32) * 0.3
    lengths = rng.integers(frames // 4, frames + 1, clips).astype(np.int32)
    for i, n in enumerate(lengths):
        data[i, :, n:] = 0
    data[: clips // 2, :, :, :, 1:] = 0  # half the clips have one body, as in NTU
    idx = np.arange(clips)
    return PreparedDataset(
        root=Path("random"), data=data, labels=rng.integers(0, num_classes, clips), lengths=lengths,
        names=np.array([f"clip{i}" for i in idx], dtype=object), meta_fields={},
        splits={"train": idx, "test": idx}, layout=lay, num_classes=num_classes,
        class_names=[str(c) for c in range(num_classes)], meta={"name": "random"})


class PhaseTimer:
    """Accumulates wall time per phase; synchronises CUDA at each boundary so the split is real."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.total = device, dict.fromkeys(PHASES, 0.0)

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextlib.contextmanager
    def phase(self, name: str):
        self.sync()
        t0 = time.perf_counter()
        yield
        self.sync()
        self.total[name] += time.perf_counter() - t0


def time_views(method, timer: PhaseTimer) -> None:
    """Charge every call of the method's view modules (the batched augmentation) to the `augment` phase."""
    starts: list[float] = []

    def pre(*_):
        timer.sync()
        starts.append(time.perf_counter())

    def post(*_):
        timer.sync()
        timer.total["augment"] += time.perf_counter() - starts.pop()

    for view in method.views.values():
        view.register_forward_pre_hook(pre)
        view.register_forward_hook(post)


def compose_run(method: str, encoder: str | None, dataset: str, extra: list[str]):
    over = [f"method={method}", f"dataset={dataset}", "dataset.root=unused", "small_data.enabled=false",
            "progress_bar=false", *extra]
    if encoder:
        over.insert(1, f"encoder={encoder}")
    with initialize_config_module("skelcl.conf", version_base="1.3"):
        return compose("train", overrides=over)


def measure(args, method_name: str) -> dict:
    cfg = compose_run(method_name, args.encoder, args.dataset, args.overrides)
    run = validate(cfg)
    batch = args.batch_size or run.schedule.batch_size
    n_clips = batch * (args.warmup + args.steps)
    data = random_dataset(n_clips, args.raw_frames, args.layout, args.bodies, args.classes, args.seed)
    dm = SkeletonDataModule(data, "train", "test", batch_size=batch, num_workers=args.workers, seed=args.seed)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    method = build_method(run, dm, run.schedule.epochs).to(device)
    method.train()
    opt = method.configure_optimizers()["optimizer"]
    timer = PhaseTimer(device)
    time_views(method, timer)
    bf16 = args.precision == "bf16-mixed"
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext

    def step(it) -> None:
        with timer.phase("loader"):
            b = next(it)
            b = {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in b.items()}
        with autocast():
            with timer.phase("clips"):
                x = method.clips(b)
            aug0 = timer.total["augment"]
            with timer.phase("forward"):
                loss, _ = method.pretrain_loss(x)
            timer.total["forward"] -= timer.total["augment"] - aug0  # the views ran inside the forward
        with timer.phase("backward"):
            loss.backward()
        with timer.phase("optim"):
            opt.step()
            opt.zero_grad(set_to_none=True)
            if method.momentum_update_at == "after_step":
                method.momentum_update()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rates, splits = [], []
    for _ in range(args.repeats):
        it = iter(dm.train_dataloader())
        for _ in range(args.warmup):
            step(it)
        timer.total = dict.fromkeys(PHASES, 0.0)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step(it)
        timer.sync()
        rates.append(batch * args.steps / (time.perf_counter() - t0))
        splits.append({k: 1000 * v / args.steps for k, v in timer.total.items()})
    best = splits[int(np.argsort(rates)[len(rates) // 2])]
    return {"method": method_name, "encoder": cfg.encoder.name, "batch": batch, "frames": run.clip.frames,
            "queue": int(cfg.method.model.get("queue_size", 0)), "samples_per_s": statistics.median(rates),
            "samples_per_s_all": rates, "ms_per_step": best, "peak_mem_mib": peak_memory(device),
            **eval_rates(args, method, dm, device, autocast)}


def eval_rates(args, method, dm, device, autocast) -> dict:
    """Frozen-feature extraction (clips/s) and linear-probe training (feature samples/s per epoch)."""
    method.eval()
    loader = dm.feature_loader("train", batch_size=256)
    feats, labels, t0 = [], [], time.perf_counter()
    with torch.no_grad(), autocast():
        for b in loader:
            feats.append(method.embed({k: v.to(device) if torch.is_tensor(v) else v for k, v in b.items()}).float())
            labels.append(b["label"].to(device))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    x, y = torch.cat(feats), torch.cat(labels)
    extract = len(x) / (time.perf_counter() - t0)
    probe = LinearConfig(epochs=5, milestones=[])  # the papers' SGD probe, batch 128; a few epochs suffice to time
    t0 = time.perf_counter()
    train_linear(x, y, x, y, dm.num_classes, probe, device=device)
    return {"extract_per_s": extract, "probe_per_s": len(x) * probe.epochs / (time.perf_counter() - t0)}


def peak_memory(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)


def table(rows: list[dict], args) -> str:
    head = ("| method | encoder | batch x frames | samples/s (median of runs) | "
            + " | ".join(f"{p} ms" for p in PHASES) + " | peak MiB | extract clips/s | probe samples/s |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        runs = ", ".join(f"{v:.1f}" for v in r["samples_per_s_all"])
        lines.append(f"| {r['method']} | {r['encoder']} | {r['batch']} x {r['frames']} | {r['samples_per_s']:.1f} "
                     f"({runs}) | " + " | ".join(f"{r['ms_per_step'][p]:.0f}" for p in PHASES)
                     + f" | {r['peak_mem_mib']:.0f} | {r['extract_per_s']:.0f} | {r['probe_per_s']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--encoder", default=None, help="encoder config (default: each method's own)")
    ap.add_argument("--dataset", default="ntu60_xsub", help="dataset config (the data itself is random)")
    ap.add_argument("--layout", default="ntu25")
    ap.add_argument("--bodies", type=int, default=2)
    ap.add_argument("--classes", type=int, default=60)
    ap.add_argument("--raw-frames", type=int, default=300, help="stored frames per clip before clip preparation")
    ap.add_argument("--batch-size", type=int, default=None, help="default: the method's official batch")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"])
    ap.add_argument("--workers", type=int, default=0, help="loader workers (they only index and copy)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("overrides", nargs="*", help="extra config overrides, e.g. method.model.queue_size=16384")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name in args.methods.split(","):
        rows.append(measure(args, name))
        print(table(rows[-1:], args).splitlines()[-1], flush=True)
    where = (f"{platform.machine()} {platform.processor() or ''} {torch.get_num_threads()} threads; torch "
             f"{torch.__version__}; device {args.device}"
             + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    print(f"\n{where}; precision {args.precision}; {args.warmup} warm-up + {args.steps} timed steps x {args.repeats}; "
          f"loader workers {args.workers}\n")
    print(table(rows, args))
    if args.json:
        args.json.write_text(json.dumps({"machine": where, "args": {k: str(v) for k, v in vars(args).items()},
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
