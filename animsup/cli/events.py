"""``animsup events LOG``: when features joined or dropped out, when the shape changed, and
which loss plateaus ended in a sudden drop (animsup.events)."""

from __future__ import annotations

import argparse

OUTPUT_VERSION = 1


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "events",
        help="list training events: features joining/dropping out, shape changes, loss drops after plateaus",
        description=__doc__.split("\n", 1)[0],
    )
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument(
        "--instance", nargs="+", metavar="I",
        help="instance indices, or 'best' for the lowest final loss (default: all)",
    )
    p.add_argument("--threshold", type=float, default=0.5, help="norm above which a feature is represented (default 0.5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)
    return p


def parse_instances(values, n_instances: int, best_of=None) -> list[int] | None:
    """'--instance 0 3' or '--instance best' → indices (None = all). ``best_of()`` returns the best index."""
    from animsup.errors import AnimsupError

    if not values:
        return None
    out = []
    for v in values:
        if v == "best":
            out.append(best_of())
            continue
        try:
            i = int(v)
        except ValueError:
            raise AnimsupError(f"--instance takes indices or 'best', got {v!r}") from None
        if not 0 <= i < n_instances:
            raise AnimsupError(f"instance {i} does not exist (the log has instances 0..{n_instances - 1})")
        out.append(i)
    return list(dict.fromkeys(out))


def best_instance(run) -> int:
    """Index (into the log) of the instance with the lowest final loss (mean of the last 5%)."""
    import numpy as np

    from animsup.cli.inspect import tail_loss
    from animsup.errors import AnimsupError

    if run.loss_scope != "instance":
        what = "no loss" if run.loss_scope == "none" else "only one aggregate loss for all instances"
        raise AnimsupError(f"{run.path}: the log records {what}; 'best' needs a loss per instance: pass --instance N")
    return int(run.instances[int(np.argmin(tail_loss(run.loss_steps, run.loss_curve)))])


def run(args) -> int:
    import sys

    from animsup.errors import AnimsupError
    from animsup.events import find_events
    from animsup.runlog import read_log

    if args.threshold <= 0:
        raise AnimsupError(f"--threshold must be positive, got {args.threshold}")
    log = read_log(args.log)
    sel = parse_instances(args.instance, log.header.n_instances, lambda: best_instance(log))
    sel = list(log.instances) if sel is None else sel
    h = log.header
    result = []
    for i in sel:
        k = log.instances.index(i)
        evs = find_events(log.steps, log.W[:, k], log.loss_steps, log.loss_curve_of(k), threshold=args.threshold)
        fp = h.feature_probability[i]
        result.append({"index": i, "feature_probability": float(fp[0]) if (fp == fp[0]).all() else fp.tolist(),
                       "probability_text": h.probability_text(i), "seed": h.seed[i],
                       "events": [e.to_dict() for e in evs]})
    if args.json:
        import orjson

        out = {"version": OUTPUT_VERSION, "log": args.log, "status": log.status, "instances": result}
        sys.stdout.buffer.write(orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        return 0
    lines = []
    for row in result:
        lines.append(f"instance {row['index']}  {row['probability_text']} seed={row['seed']}")
        if not row["events"]:
            lines.append("  (no events)")
        width = max((len(f"{e['step']:,}") for e in row["events"]), default=1)
        for e in row["events"]:
            lines.append(f"  step {e['step']:>{width},}  {e['text']}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
