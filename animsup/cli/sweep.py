"""``animsup sweep``: run a grid of training runs as shards, locally or on Ray, into one folder.

SPEC.toml's keys are `animsup train`'s long option names; list values form the grid (instances of one
batched run for feature-probability, last-importance, seeds and importance; one run per value for any
other option). The grid is cut into shards of at most --shard-size instances (default: what fits a
quarter of the device's memory), run by the engine, and written as DIR/manifest.json, one log per
shard (DIR/shards/) and, once all have completed, DIR/sweep.jsonl: every reader (inspect, render,
events, minima, view, animsup.read_log) takes DIR as one run. A sweep whose runs differ in shape
(n-hidden, n-features, model) or in their snapshot steps is read one run per shard log: the sweep and
every reader given DIR name those logs. Running the same command again finishes
only what is missing. On the CPU every instance's numbers are the same whatever the shard size or engine.
"""

from __future__ import annotations

import argparse
import os

from animsup.cli.helpfmt import HelpFormatter
from animsup.cli.output import error, say


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sweep", help="run a grid of training runs (a TOML spec) as shards, locally or on Ray",
        description=__doc__.split("\n\n")[1], formatter_class=HelpFormatter)
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep: train's long option names as TOML keys")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="the sweep's folder (created; a rerun finishes it)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: shards in this process, one after another (one per GPU when several are "
                        "visible); ray: each shard a Ray task (pip install 'animsup[ray]')")
    p.add_argument("--shard-size", type=int, metavar="N", help="instances per shard (default: what fits in a quarter "
                                                              "of the device's memory)")
    p.add_argument("--address", metavar="ADDR", help="the Ray cluster to join (e.g. auto, or ray://HOST:10001; "
                                                     "default: a local Ray)")
    p.add_argument("--force", action="store_true", help="replace a different sweep already in DIR")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from animsup.cli.progress import make_progress
    from animsup.cli.spec import load_toml
    from animsup.cli.train import spec_configs
    from animsup.train.sweep import run_sweep

    spec = load_toml(args.spec)
    groups = [cfg for _, cfg in spec_configs(spec, args.spec)]
    bar, callback = make_progress("sweep", None, unit="instance-step", enabled=False if args.quiet else None)
    try:
        result = run_sweep(groups, args.out, spec=spec, engine=args.engine, shard_size=args.shard_size,
                           address=args.address, force=args.force, progress=lambda done, total: callback(done, total))
    finally:
        bar.close()
    shards = result.manifest["shards"]
    failed = result.failed
    if not args.quiet:
        done = sum(s["status"] == "completed" for s in shards)
        say(f"sweep: {result.manifest['n_instances']} instances in {len(groups)} run{'s' * (len(groups) != 1)}, "
            f"{len(shards)} shard{'s' * (len(shards) != 1)} ({len(result.ran)} run now, {done} completed, "
            f"{len(failed)} failed) on {args.engine}")
        say(result.read_as())
    for s in failed:
        error(f"shard {s['id']} (instances {s['start']}..{s['stop'] - 1}) failed: {s['error']}")
    if failed:
        error(f"{len(failed)} shard(s) failed; fix the cause and run the same command again to finish "
              f"(completed shards are kept): {os.path.basename(args.spec)}", prefix="animsup: ")
        return 1
    return 0
