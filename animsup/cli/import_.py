"""``animsup import --format FORMAT FILE --out LOG``: convert another program's log into an
animsup run log, so it can be inspected, analysed and rendered (animsup.importers)."""

from __future__ import annotations

import argparse

# keep in step with animsup.importers.FORMATS (not imported here: --help stays fast)
FORMAT_HELP = "c-log: the output of seed 002's C program (run:/L: lines and b/W/grad w/grad b blocks)"


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import",
        help="convert a foreign log (e.g. seed 002's C program output) into an animsup run log",
        description=__doc__.split("\n", 1)[0] + " " + __doc__.split("\n", 1)[1].strip(),
    )
    p.add_argument("file", metavar="FILE", help="the log to convert")
    p.add_argument("--format", required=True, metavar="FORMAT", help=FORMAT_HELP)
    p.add_argument("--out", required=True, metavar="LOG", help="the animsup log to write (.jsonl)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument(
        "--importance", type=float, metavar="BASE",
        help="c-log: importance base, I_i = BASE^i (not in the C log; default 0.7, seed 002's n=5 run; its n=32 run used 0.9)",
    )
    p.add_argument(
        "--feature-probability", type=float, metavar="P",
        help="c-log: 1 - S of the run (not in the C log; default 0.1)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="c-log: the program's srandom() seed, if known (default: unknown)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import sys

    from animsup import importers
    from animsup.cli.progress import make_progress

    options = {k: getattr(args, k) for k in ("importance", "feature_probability", "seed") if getattr(args, k) is not None}
    bar, progress = make_progress(f"import {args.format}", None, unit="B")
    try:
        result = importers.convert(args.format, args.file, args.out, force=args.force, progress=progress, **options)
    finally:
        bar.close()
    print(
        f"{result.out_path}: {result.n_features} features, {result.n_hidden} hidden, {result.steps:,} steps, "
        f"{result.snapshots} snapshots, {result.loss_points:,} losses, status {result.status}",
        file=sys.stdout,
    )
    for note in result.notes:
        print(f"  {note}")
    return 0
