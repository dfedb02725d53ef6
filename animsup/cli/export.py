"""``animsup export LOG --to FORMAT --out DIR``: hand a run to other tools (animsup.exporters).

tensorboard: event files (loss per instance and per group, recorded curves, D_i summaries, the
video as an animated image, events as text); wandb: a W&B run, offline unless WANDB_MODE says
otherwise (scalars, the video, tables of the final geometry and the events); safetensors: an
HF-Hub-style folder, cfg.json + one .safetensors per snapshot, that `animsup import DIR` reads
back. See docs/exporting.md.
"""

from __future__ import annotations

import argparse

# keep in step with animsup.exporters.FORMATS (not imported here: --help stays fast)
FORMATS = ("tensorboard", "wandb", "safetensors")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="export a run log to TensorBoard, W&B or safetensors weights",
        description=__doc__.split("\n", 1)[0] + " " + __doc__.split("\n", 1)[1].strip(),
    )
    p.add_argument("log", metavar="LOG", help="the animsup run log (.jsonl or .jsonl.gz)")
    p.add_argument("--to", required=True, choices=FORMATS, help="the format to write")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (refused if it holds files, unless --force)")
    p.add_argument("--instance", action="append", metavar="I|best|best:GROUP",
                   help="export only these instances (repeatable; default: all)")
    p.add_argument("--snapshots", metavar="last|all|STEPS",
                   help="safetensors: the snapshots to write: last (default), all, or steps (0,500,1000)")
    p.add_argument("--no-video", dest="video", action="store_const", const=False,
                   help="tensorboard, wandb: leave out the video (faster)")
    p.add_argument("--project", metavar="NAME", help="wandb: the project name (default: animsup)")
    p.add_argument("--force", action="store_true", help="write into --out even if it holds files")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from animsup import exporters
    from animsup.cli.output import say
    from animsup.escape import terminal

    instance = [int(s) if s.isdigit() else s for s in args.instance] if args.instance else None
    result = exporters.export(args.to, args.log, args.out, instance=instance, snapshots=args.snapshots,
                              video=args.video, project=args.project, force=args.force)
    say(f"{result.out_dir}: {args.to}, {len(result.instances)} instance(s), {len(result.files)} file(s)")
    for note in result.notes:
        say(f"  {terminal(note)}")  # a note may quote the log's strings: one line each
    return 0
