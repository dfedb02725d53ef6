"""``animsup import FILE... --out LOG``: convert other people's checkpoints, histories and logs
into an animsup run log, so they can be inspected, analysed and rendered (animsup.importers).

The container is recognised by content: safetensors (also when named .pt), torch zip
checkpoints (loaded on the CPU with torch's weights-only loader), .npz/.npy (no pickled
objects), pickles (an allow-list: no code in them runs), Lightning checkpoints, the d3 HTML weight
histories of ARENA / tms-kit, a directory or glob of checkpoints (ordered by the step each file
states, else the number in its name), a folder of such folders (instances or stages), and seed
002's C log. See docs/importing.md.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from animsup import models
from animsup.cli.output import say
from animsup.escape import terminal

if TYPE_CHECKING:
    from animsup.importers.result import ImportResult

# the formats of animsup.importers.FORMATS with a line each (the modules are not imported: --help stays fast);
# a registered format without a line here is still listed by name
FORMAT_LINES = {"c-log": "the output of seed 002's C program (run:/L: lines and b/W/grad w/grad b blocks)"}


def format_help() -> str:
    from animsup.importers import FORMATS

    return "; ".join(["auto (default): recognise the file by its content",
                      *(f"{name}: {FORMAT_LINES.get(name, 'see docs/importing.md')}" for name in FORMATS)])


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "import",
        help="convert checkpoints, histories or a foreign log into an animsup run log",
        description=__doc__.split("\n", 1)[0] + " " + __doc__.split("\n", 1)[1].strip(),
    )
    p.add_argument("file", metavar="FILE", nargs="+", help="the file(s), a directory, or a glob ('ckpt/*.pt')")
    p.add_argument("--format", default="auto", metavar="FORMAT", help=format_help())
    p.add_argument("--out", required=True, metavar="LOG", help="the animsup log to write (.jsonl)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--w", metavar="KEY", help="the name of W (the encoder / tied weights) in the file")
    p.add_argument("--b", metavar="KEY", help="the name of the output bias b in the file")
    p.add_argument("--w-dec", metavar="KEY", help="the name of the decoder of an untied model")
    p.add_argument("--layout", choices=("kmn", "knm", "mn", "nm"),
                   help="W's axes: kmn [instances, hidden, features] (ARENA), knm (notebook, JAX), mn, nm "
                        "(default: inferred, the smaller axis taken as hidden)")
    p.add_argument("--run", type=int, metavar="I", help="a pickled list of runs: import only run I")
    p.add_argument("--model", choices=models.names(), help="the model (default: inferred)")
    p.add_argument(
        "--importance", metavar="BASE|LIST|FILE",
        help="importance: a base (I_i = BASE^i), a list (1,0.9,0.81) or a file of numbers (c-log: the base, default 0.7)",
    )
    p.add_argument(
        "--feature-probability", metavar="P|LIST",
        help="1 - S: one value, or one per instance (c-log: one value, default 0.1)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="the seed of the run, if known (default: the file's, else unknown)")
    p.add_argument("--model-label", metavar="TEXT",
                   help="the model's name in titles, for a variant (e.g. 'RNN auto-encoder'; as Recorder(model_label=))")
    p.add_argument("--model-formula", metavar="TEXT",
                   help="the model's formula in titles (e.g. 'W_dec ReLU(W x)'; as Recorder(model_formula=))")
    p.add_argument("--folders", choices=("instances", "stages"),
                   help="a folder of folders of checkpoints: each subfolder one instance (default) or one stage "
                        "of one run; a sparsity in a folder's name (s_0.9, p_0.1) is read and said")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import os

    from animsup import importers
    from animsup.cli.progress import make_progress
    from animsup.errors import AnimsupError

    from animsup.atomic import check_regular

    for f in args.file:  # a FIFO, device or socket is refused before anything reads (and blocks on) it
        check_regular(f, folders=True, what="input file")
    fmt = args.format
    if fmt == "auto" and len(args.file) == 1 and os.path.isfile(args.file[0]):
        from animsup.importers.checkpoint import sniff

        if sniff(args.file[0]) == "c-log":
            fmt = "c-log"
    if fmt == "c-log":
        if len(args.file) != 1:
            raise AnimsupError("--format c-log reads one file")
        extra = [k for k in ("w", "b", "w_dec", "layout", "run", "model", "model_label", "model_formula", "folders")
                 if getattr(args, k) is not None]
        if extra:
            raise AnimsupError(f"format 'c-log' does not take {', '.join('--' + k.replace('_', '-') for k in extra)}")
        options = {}
        for k in ("importance", "feature_probability"):
            v = getattr(args, k)
            if v is not None:
                try:
                    options[k] = float(v)
                except ValueError:
                    raise AnimsupError(f"--{k.replace('_', '-')} takes one number for a c-log, got {v!r}") from None
        if args.seed is not None:
            options["seed"] = args.seed
        bar, progress = make_progress("import c-log", None, unit="B")
        try:
            result = importers.convert("c-log", args.file[0], args.out, force=args.force, progress=progress, **options)
        finally:
            bar.close()
    elif fmt == "auto":
        from animsup.importers import auto

        for f in args.file:
            if os.path.realpath(f) == os.path.realpath(args.out):
                raise AnimsupError(f"--out {args.out} is an input file; write the animsup log to another path")
        result = auto.convert(
            list(args.file), args.out, w=args.w, b=args.b, w_dec=args.w_dec, layout=args.layout, run=args.run,
            importance=args.importance, feature_probability=args.feature_probability, model=args.model,
            seed=args.seed, model_label=args.model_label, model_formula=args.model_formula, folders=args.folders,
            force=args.force,
        )
    elif fmt in importers.FORMATS:  # any other registered format: its own options, refused when it takes none
        options = {k: getattr(args, k) for k in ("w", "b", "w_dec", "layout", "run", "model", "importance",
                                                 "feature_probability", "seed", "model_label", "model_formula",
                                                 "folders") if getattr(args, k) is not None}
        if len(args.file) != 1:
            raise AnimsupError(f"--format {fmt} reads one file")
        result = importers.convert(fmt, args.file[0], args.out, force=args.force, **options)
    else:
        raise AnimsupError(f"unknown import format {fmt!r} (known: auto, {', '.join(importers.FORMATS)})")
    say(_summary(result))
    for note in result.notes:
        say(f"  {terminal(note)}")  # a note quotes the file's keys and metadata: one line each
    return 0


def _summary(result: ImportResult) -> str:
    """The import's one summary line; what the log's header marks as assumed (1-S, importance) reads
    "unknown (1 assumed)", as inspect and the titles say it (:meth:`animsup.log.schema.Header.assumed`)."""
    from animsup.errors import plural
    from animsup.log.reader import read_header

    header = read_header(result.out_path)
    unknown = [f"{label} unknown (1 assumed)" for name, label in (("feature_probability", "1-S"), ("importance", "importance"))
               if header.assumed(name)]
    return ", ".join([f"{result.out_path}: {plural(result.n_features, 'feature')}", f"{result.n_hidden} hidden",
                      plural(result.steps, "step"), plural(result.snapshots, "snapshot"),
                      plural(result.loss_points, "loss", "losses"), *unknown, f"status {result.status}"])
