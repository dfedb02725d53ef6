"""``animsup minima``: a local-minima study. Trains many seeds of one configuration as a sweep
(any training option, e.g. ``--n-features 32 --n-hidden 2 --importance 0.9 --seeds 64``; DIR/run, on
--engine local or ray) or analyses existing logs (``animsup minima LOG... --out DIR``), then writes into --out:
results.csv and results.json (per instance: final loss, shape, represented features),
gallery.png (one panel per seed, sorted by loss, suboptimal ones in red), and with --render
videos of the worst (or chosen) instances. Prints, for each group of comparable instances
(same n, m, model, 1-S, importance, loss reduction, data recipe and optimiser: inputs that differ
are split, and the summary says so), each outcome class with its count, mean and min loss and its
loss gap to the best class of its group.
"""

from __future__ import annotations

import argparse

from animsup.cli.output import say
from animsup.errors import plural
from animsup.escape import terminal


RUN = "run"  # the study's sweep folder inside --out


def add_parser(subparsers) -> argparse.ArgumentParser:
    from animsup.cli.train import add_train_options

    p = subparsers.add_parser(
        "minima",
        help="local-minima study: train many seeds (or read logs), classify endings, table + gallery + videos",
        description=__doc__.split("\n", 1)[0].split(": ", 1)[1] + " " + __doc__.split("\n", 1)[1].strip(),
    )
    p.add_argument("logs", nargs="*", metavar="LOG", help="analyse these logs instead of training (training options are then ignored)")
    g = p.add_argument_group("study")
    g.add_argument("--out", required=True, metavar="DIR", help="folder for run/ (the sweep), results.csv/json, gallery.png, videos")
    g.add_argument("--force", action="store_true", help="replace DIR/run when training")
    g.add_argument("--threshold", type=float, default=0.5, help="norm above which a feature counts as represented")
    g.add_argument("--render", type=int, default=0, metavar="K", help="render videos of the K worst instances")
    g.add_argument("--render-instances", type=int, nargs="+", default=[], metavar="ID",
                   help="render these instances (ids as in results.csv)")
    g.add_argument("--video-format", default="mp4", choices=_video_formats(), help="format of the rendered videos")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    g.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="train the study as a sweep on this engine (see animsup sweep)")
    g.add_argument("--shard-size", type=int, metavar="N", help="instances per shard of the sweep (default: what fits)")
    g.add_argument("--address", metavar="ADDR", help="the Ray cluster to join (--engine ray; default: a local Ray)")
    add_train_options(p)
    p.set_defaults(func=run)
    return p


def _video_formats() -> tuple[str, ...]:
    from animsup.rendering.outputs import of_kind

    return tuple(f.name for f in of_kind("video"))


def run(args) -> int:
    import os
    import sys

    from animsup.analysis import minima
    from animsup.cli.progress import make_progress
    from animsup.errors import AnimsupError
    from animsup.options import check_positive
    from animsup.rendering.gallery import draw_gallery

    check_positive("--threshold", args.threshold)
    if args.render < 0:
        raise AnimsupError(f"--render needs K >= 0, got {args.render}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise AnimsupError(f"--out {args.out}: exists and is not a folder")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise AnimsupError(f"--out {args.out}: cannot create the folder: {e.strerror or e}") from None
    enabled = False if args.quiet else None
    logs = list(args.logs)
    if not logs:
        logs = [_train(args, enabled)]
    outcomes = minima.analyse_logs(logs, threshold=args.threshold)
    chosen = _chosen(outcomes, args)  # a bad --render-instances id fails before anything is written
    groups = minima.assign_groups(outcomes)
    classes = minima.summarize(outcomes)
    minima.write_results(outcomes, classes, args.out, extra={"logs": logs, "threshold": args.threshold})
    gallery = os.path.join(args.out, "gallery.png")
    draw_gallery(outcomes, gallery, title=_title(logs, groups))
    note = minima.split_note(groups)
    if note:
        say(note + "\n")
    say(minima.format_summary(classes, len(outcomes), groups=groups))
    shapes = minima.shape_summary(outcomes)
    if len(shapes) < len(classes):
        say()
        say(minima.format_summary(shapes, len(outcomes), title="shape", groups=groups))
    say(f"\nwrote {os.path.join(args.out, 'results.csv')}, results.json, gallery.png")

    for o in chosen:
        path = os.path.join(args.out, f"instance{o.id:03d}_{_slug(o.shape)}.{args.video_format}")
        bar, progress = make_progress(f"render #{o.id}", None, unit="frame", enabled=enabled)
        try:
            _render(o, path, progress)
        finally:
            bar.close()
        say(f"wrote {path}  (#{o.id}, seed {terminal(o.seed)}, loss {o.final_loss:.5f}, {o.outcome})")
    sys.stdout.flush()
    return 0


def _train(args, enabled) -> str:
    """Train the study as a sweep (``--engine local|ray``, :mod:`animsup.train.sweep`) into DIR/run;
    returns that folder (every reader takes it as one run)."""
    import os

    from animsup.cli.progress import make_progress
    from animsup.cli.train import config_from_args
    from animsup.errors import AnimsupError
    from animsup.train.sweep import run_sweep

    cfg = config_from_args(args)
    bad = [i for i in args.render_instances if not 0 <= i < cfg.n_instances]
    if bad:  # before hours of training
        raise AnimsupError(f"--render-instances: no instance {bad[0]} (ids are 0..{cfg.n_instances - 1})")
    run_dir = os.path.join(args.out, RUN)
    if os.path.exists(run_dir) and not args.force:
        raise AnimsupError(f"{run_dir} exists: analyse it with `animsup minima {run_dir} --out {args.out}`, or pass --force "
                           f"to retrain")
    bar, progress = make_progress(f"train {plural(cfg.n_instances, 'instance')}", None, unit="instance-step", enabled=enabled)
    try:
        result = run_sweep([cfg], run_dir, engine=args.engine, shard_size=args.shard_size, address=args.address,
                           force=args.force, progress=lambda done, total: progress(done, total))
    finally:
        bar.close()
    if result.failed:
        s = result.failed[0]
        raise AnimsupError(f"training failed in shard {s['id']}: {s['error']} (sweep folder: {run_dir})")
    return run_dir


def _chosen(outcomes, args):
    from animsup.analysis import minima
    from animsup.errors import AnimsupError

    by_id = {o.id: o for o in outcomes}
    for i in args.render_instances:
        if i not in by_id:
            raise AnimsupError(f"--render-instances: no instance {i} (ids are 0..{len(outcomes) - 1})")
    chosen = [by_id[i] for i in args.render_instances] + minima.pick_worst(outcomes, args.render)
    return list({o.id: o for o in chosen}.values())


def _render(outcome, path, progress) -> None:
    from animsup.errors import AnimsupError

    try:
        from animsup.rendering.video import render
    except ImportError:
        raise AnimsupError("rendering is not available in this version (animsup.rendering.video is missing)") from None
    render(outcome.log, path, instance=outcome.index, annotate=True, progress=progress)


def _title(logs, groups=()) -> str:
    from animsup.log.reader import read_header

    h = read_header(logs[0])
    c = h.config
    parts = [f"n={h.n_features} m={h.n_hidden} {h.model}"]
    for key in ("optimizer", "gradient", "lr", "steps"):
        if c.get(key) is not None:
            parts.append(f"{key} {c[key]}")
    split = f"; {len(groups)} groups compared separately: " + "; ".join(f"{g.name} {g.label}" for g in groups) \
        if len(groups) > 1 else ""
    return (", ".join(parts) + ("" if len(logs) == 1 else f" (+{len(logs) - 1} logs)") + split
            + "\nsorted by final loss; red: not the best outcome of its group")


def _slug(text) -> str:
    return (text or "instance").replace(" ", "-")
