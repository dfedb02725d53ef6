"""``animsup events LOG``: when features joined or dropped out, when the shape changed, and
which loss plateaus ended in a sudden drop (animsup.analysis.events); with ``--levels`` (the default
for n_hidden ≥ 3) also when a feature's dimensionality D_i moved between the paper's levels
(animsup.analysis.dynamics), each marked with the loss drop it coincides with; and, when
``animsup measure --llc`` measured the run, the jumps of its local learning coefficient
(animsup.analysis.landscape) with the loss drop inside each."""

from __future__ import annotations

import argparse
from typing import Any, TYPE_CHECKING

from animsup.cli.output import say, say_json
from animsup.escape import terminal

if TYPE_CHECKING:
    from animsup.log.reader import Run

OUTPUT_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "events",
        help="list training events: features joining/dropping out, shape changes, loss drops after plateaus, "
             "LLC jumps (when measured)",
        description=" ".join(__doc__.split()).replace("``", ""),
    )
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument(
        "--instance", nargs="+", metavar="I",
        help="instance indices; 'best' (the lowest final loss of each group of comparable instances), "
             "'best:g<N>' or 'best:p=<1-S>' for one group (default: all)",
    )
    p.add_argument("--threshold", type=float, default=0.5, help="norm above which a feature is represented (default 0.5)")
    p.add_argument("--levels", action=argparse.BooleanOptionalAction, default=None,
                   help="list moves of a feature's dimensionality D_i between the levels 1, 3/4, 2/3, 1/2, 2/5, 3/8 "
                        "(default: on for n_hidden >= 3)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)
    return p


def parse_instances(values: list[str] | None, log: Run) -> list[int] | None:
    """'--instance 0 3', 'best' (the best of each group of comparable instances), 'best:g1' or
    'best:p=0.05' → indices into the log (None = all); see animsup.analysis.ranking."""
    from animsup.analysis import ranking
    from animsup.errors import AnimsupError

    if not values:
        return None
    h = log.header
    final = ranking.final_loss(log.loss_steps, log.loss_curve)
    groups = ranking.groups(h)
    try:
        return ranking.select(values, groups, final, h.n_instances)
    except AnimsupError as e:
        raise AnimsupError(f"{log.path}: {e}") from None


def run(args: argparse.Namespace) -> int:
    from animsup.analysis.timeline import run_events
    from animsup.cli.inspect import measurements_of
    from animsup.cli.output import error
    from animsup.log.reader import read_log
    from animsup.options import check_positive

    check_positive("--threshold", args.threshold)
    log = read_log(args.log)
    measured, note = measurements_of(args.log)  # LLC jumps from `animsup measure --llc`: read once for all instances
    if note:
        error(note, prefix="animsup: note: ")
    sel = parse_instances(args.instance, log)
    sel = list(log.instances) if sel is None else sel
    h = log.header
    result: list[dict[str, Any]] = []
    for i in sel:  # the one event list (animsup.analysis.timeline.run_events) the video and the viewer show
        evs: list[Any] = list(run_events(log, i, threshold=args.threshold, levels=args.levels, measurements=measured))
        fp = h.feature_probability[i]
        result.append({"index": i, "feature_probability": float(fp[0]) if (fp == fp[0]).all() else fp.tolist(),
                       "probability_text": h.probability_text(i), "seed": h.seed[i], "label": h.instance_label(i),
                       "events": [e.to_dict() for e in evs]})
    if args.json:
        out = {"version": OUTPUT_VERSION, "log": args.log, "status": log.status, "instances": result}
        say_json(out)
        return 0
    lines = []
    for row in result:
        lines.append(f"instance {row['index']}  {terminal(row['label'])}")
        if not row["events"]:
            lines.append("  (no events)")
        width = max((len(f"{e['step']:,}") for e in row["events"]), default=1)
        for n, e in enumerate(row["events"], 1):
            drop = f"  (with the loss drop at step {e['loss_drop_step']:,})" if e.get("loss_drop_step") is not None else ""
            lines.append(f"  step {e['step']:>{width},}  {n:>2}. {e['text']}{drop}")
    say("\n".join(lines))
    return 0

