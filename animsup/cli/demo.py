"""``animsup demo``: train the pentagon and render it — the one command to see what animsup does.

Trains n=5 features in m=2 hidden dimensions with sparse inputs (1-S = 0.05, importance
0.9^i) for several seeds in one batched run, writes logs/demo.jsonl (replacing an earlier
demo log), and renders the lowest-loss instance to outputs/demo.mp4, .gif and .png.
Every training and rendering option can be changed.
"""

from __future__ import annotations

import argparse
import os

from animsup.cli.output import say
from animsup.errors import plural

DEMO_LOG = os.path.join("logs", "demo.jsonl")
DEMO_PREFIX = os.path.join("outputs", "demo")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    from animsup.cli.helpfmt import override_defaults
    from animsup.cli.render import HelpFormatter, add_render_options
    from animsup.cli.train import add_train_options

    p = subparsers.add_parser(
        "demo",
        help="train the pentagon (n=5, m=2) and render it to outputs/demo.mp4, .gif and .png",
        description=__doc__.split("\n\n")[1],
        formatter_class=HelpFormatter,
    )
    add_train_options(p)
    add_render_options(p)
    override_defaults(p, n_features=5, n_hidden=2, feature_probability=[0.05], seeds=[4], importance=["0.9"])
    g = p.add_argument_group("demo files")
    g.add_argument("--log", default=DEMO_LOG, help="the run log to (over)write")
    g.add_argument("--out-prefix", default=DEMO_PREFIX, metavar="PATH",
                   help="outputs are PATH.mp4, PATH.gif and PATH.png")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import time

    from animsup.cli.progress import make_progress
    from animsup.cli import sigterm_as_interrupt
    from animsup.cli.render import render_kwargs
    from animsup.cli.train import config_from_args
    from animsup.errors import AnimsupError

    cfg = config_from_args(args)
    outs = [f"{args.out_prefix}{ext}" for ext in (".mp4", ".gif", ".png")]
    for path in [args.log] + outs:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                raise AnimsupError(f"{folder} is not a folder")
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as e:
                raise AnimsupError(f"{path}: cannot create the folder {folder}: {e.strerror or e}") from None
    sig = sigterm_as_interrupt()
    try:
        from animsup.rendering.video import render
        from animsup.train.loop import train

        t0 = time.perf_counter()
        bar, cb = make_progress("train", cfg.steps, unit="step", enabled=False if args.quiet else None)
        try:
            result = train(cfg, args.log, force=True, progress=sig.wrap(cb))
        finally:
            bar.close()
        t_train = time.perf_counter() - t0
        if result.status == "interrupted":
            raise KeyboardInterrupt
        if result.status != "completed":
            raise AnimsupError(f"training {result.status} at step {result.step}; nothing rendered")
        bar, cb = make_progress("render", None, unit="frame", enabled=False if args.quiet else None)
        try:
            res = render(args.log, outs, progress=sig.wrap(cb), **render_kwargs(args))
            sig.check()
        finally:
            bar.close()
    finally:
        sig.restore()
    if not args.quiet:
        losses = ", ".join(f"{v:.4g}" for v in result.final_loss)
        say(f"trained {cfg.n_features} features in {cfg.n_hidden} dims, {plural(len(result.final_loss), 'instance')}, "
            f"{plural(result.step, 'step')} in {t_train:.1f} s -> {args.log}")
        say(f"final losses: {losses}")
        say(res.summary())
        say(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
