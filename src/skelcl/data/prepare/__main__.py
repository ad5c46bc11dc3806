"""`python -m skelcl.data.prepare <dataset> --raw DIR --out DIR [options]` (also `skelcl-prepare`).

Datasets: ntu60, ntu120 (raw .skeleton files), pku1, pku2 (PKU-MMD Part I / II), nucla (N-UCLA all_sqe JSON).
The output is a prepared directory (see skelcl.data.formats) plus summary.json / summary.md inside it. It is
written to a temporary sibling and renamed into place at the end: an interrupted run leaves nothing behind.

Examples
  python -m skelcl.data.prepare ntu60 --raw nturgb+d_skeletons --out data/ntu60 \\
      --missing NTU_RGBD_samples_with_missing_skeletons.txt --normalize frame50
  python -m skelcl.data.prepare ntu120 --raw s001_s017 s018_s032 --out data/ntu120 --bodies pyskl
  python -m skelcl.data.prepare pku1 --raw PKU-MMD --out data/pku1 --normalize frame50
  python -m skelcl.data.prepare nucla --raw NW-UCLA/all_sqe --out data/nucla
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from skelcl.data.formats import DataFormatError


def _common(p: argparse.ArgumentParser, multi_raw: bool = False) -> None:
    if multi_raw:
        p.add_argument("--raw", required=True, nargs="+", help="directories searched recursively for *.skeleton")
    else:
        p.add_argument("--raw", required=True, help="raw dataset directory")
    p.add_argument("--out", required=True, help="output prepared directory")
    p.add_argument("--normalize", choices=("none", "frame50"), default="none",
                   help="none: raw coordinates; frame50: CrosSCLR/AimCLR centre + resize + y-rotation")
    p.add_argument("--frames", type=int, default=50, help="frame50 output length (50; 64 for SkeAttnCLR)")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: all cores)")
    p.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                   help="malformed raw file: stop with an error (default) or skip it with a warning + summary line")
    p.add_argument("--overwrite", action="store_true", help="replace an existing prepared dataset at --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m skelcl.data.prepare", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="dataset", required=True, metavar="dataset")
    for name in ("ntu60", "ntu120"):
        p = sub.add_parser(name, help=f"NTU RGB+D {name[3:]} from raw .skeleton files")
        _common(p, multi_raw=True)
        p.add_argument("--bodies", choices=("aimclr", "pyskl"), default="aimclr",
                       help="aimclr: first 2 bodies per frame in file order (default); pyskl: denoise + order")
        p.add_argument("--max-frames", type=int, default=300, help="frames stored with --normalize none")
        p.add_argument("--missing", default="builtin",
                       help="official missing-skeleton list file, 'builtin' (incomplete packaged copy) or 'none'")
    for name in ("pku1", "pku2"):
        p = sub.add_parser(name, help=f"PKU-MMD Part {'I' if name == 'pku1' else 'II'}")
        _common(p)
        p.add_argument("--interval", choices=("inclusive", "halfopen"), default="inclusive",
                       help="inclusive: frames start..end (AimCLR, default); halfopen: python slice [start, end)")
        p.add_argument("--max-frames", type=int, default=300, help="longer instances are centre-cropped to this")
        p.add_argument("--num-classes", type=int, default=51)
        p.add_argument("--skeleton-dir", default=None, help="default: found below --raw (PKU_Skeleton_Renew, ...)")
        p.add_argument("--label-dir", default=None, help="default: found below --raw (Train_Label_PKU_final, ...)")
        p.add_argument("--split-dir", default=None, help="directory holding the split files (default: --raw)")
    p = sub.add_parser("nucla", help="N-UCLA from the all_sqe JSON release")
    _common(p)
    p.add_argument("--min-frames", type=int, default=2, help="shorter clips are dropped (the two 1-frame clips)")
    p.add_argument("--max-frames", type=int, default=None, help="default: the longest clip")
    return ap


def run(args: argparse.Namespace):
    common = {"normalize": args.normalize, "frames": args.frames, "on_error": args.on_error,
              "workers": args.workers, "overwrite": args.overwrite, "progress": not args.no_progress}
    if args.dataset in ("ntu60", "ntu120"):
        from skelcl.data.prepare.ntu import prepare_ntu

        return prepare_ntu(args.dataset, args.raw, args.out, bodies=args.bodies, max_frames=args.max_frames,
                           missing=args.missing, **common)
    if args.dataset in ("pku1", "pku2"):
        from skelcl.data.prepare.pku import prepare_pku

        return prepare_pku(args.dataset, args.raw, args.out, interval=args.interval, max_frames=args.max_frames,
                           num_classes=args.num_classes, skeleton_dir=args.skeleton_dir, label_dir=args.label_dir,
                           split_dir=args.split_dir, **common)
    from skelcl.data.prepare.nucla import prepare_nucla

    return prepare_nucla(args.raw, args.out, min_frames=args.min_frames, max_frames=args.max_frames, **common)


def _sigterm(signum, frame):  # turn SIGTERM into an exception so the partial output is removed
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    old = signal.signal(signal.SIGTERM, _sigterm)
    try:
        run(args)
    except KeyboardInterrupt:
        print("interrupted: no output written (partial files removed)", file=sys.stderr)
        return 130
    except (DataFormatError, FileNotFoundError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, old)
    return 0


if __name__ == "__main__":
    sys.exit(main())
