"""``animsup inspect LOG``: what a run log holds and what the weights look like.

Shows the header, the steps, snapshot count and status, the loss of each instance, and for
each instance its represented features (norm > threshold) and, for n_hidden = 2, the shape
they form (animsup.analysis.geometry). Reads the final snapshot, or the last one at or before ``--at``.
Works on logs still being written or cut off (the reader warns and reads what is complete).
"""

from __future__ import annotations

import argparse

OUTPUT_VERSION = 2  # 2: final_loss (was loss_smoothed), group, best_in_group, groups


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "inspect",
        help="summarise a run log: header, status, losses, represented features and their geometry",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--at", type=int, metavar="STEP", help="use the last snapshot at or before STEP (default: the final one)")
    p.add_argument("--instance", nargs="+", metavar="I",
                   help="only these instances: indices, 'best' (the best of each group of comparable instances), "
                        "'best:g<N>' or 'best:p=<1-S>' (default: all)")
    p.add_argument("--threshold", type=float, default=0.5, help="norm above which a feature counts as represented (default 0.5)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import sys

    from animsup.errors import AnimsupError

    if args.threshold <= 0:
        raise AnimsupError(f"--threshold must be positive, got {args.threshold}")
    if args.at is not None and args.at < 0:
        raise AnimsupError(f"--at must be a step >= 0, got {args.at}")
    report = inspect_log(args.log, at=args.at, instances=args.instance, threshold=args.threshold)
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        sys.stdout.write(format_report(report))
    return 0


# --------------------------------------------------------------------------- collect


def _uniform_or_list(row):
    """One float when every feature shares the value, else the list (one per feature)."""
    return float(row[0]) if (row == row[0]).all() else [float(v) for v in row]


def inspect_log(path, *, at: int | None = None, instances=None, threshold: float = 0.5) -> dict:
    """Stream a log once and return the report as a JSON-ready dict.

    ``instances``: indices or ``--instance`` specs ("best", "best:g1", "best:p=0.05"; see
    animsup.analysis.ranking); None for all. Final losses and groups always cover every instance."""
    import numpy as np

    from animsup.analysis import geometry, ranking
    from animsup.errors import AnimsupError
    from animsup.log.reader import open_log

    n_snapshots, chosen, last_step = 0, None, None
    loss_every = None
    fine, coarse = ranking.FinalLoss(), ranking.FinalLoss()
    with open_log(path) as reader:
        h = reader.header
        for kind, _, item in reader.iter_all():
            if kind == "snapshot":
                n_snapshots += 1
                last_step = item.step if last_step is None else max(last_step, item.step)
                if at is None or item.step <= at:
                    chosen = item
                    if item.loss is not None:  # loss_scope "none": snapshots carry no loss
                        coarse.add([item.step], np.asarray(item.loss).reshape(1, -1))
            elif len(item[0]):
                if at is not None:
                    keep = item[0] <= at
                    if keep.any():
                        fine.add(item[0][keep], item[1][keep])
                else:
                    fine.add(item[0], item[1])
                last_step = int(item[0][-1]) if last_step is None else max(last_step, int(item[0][-1]))
                if len(item[0]) > 1:
                    loss_every = int(item[0][1] - item[0][0])
        end, truncated = reader.end, reader.truncated
        resumes = list(getattr(reader, "resumes", []))
    if chosen is None:
        if n_snapshots and at is not None:
            raise AnimsupError(f"{path}: no snapshot at or before step {at}")
        raise AnimsupError(f"{path}: the log has no snapshots yet")
    per_instance = h.loss_scope == "instance"  # else one aggregate number (or none) for all instances
    final = (fine.value() if fine.last_step is not None else coarse.value()) if per_instance else None
    groups = ranking.groups(h)
    if instances is None:
        sel = list(range(h.n_instances))
    else:
        try:
            sel = [i for spec in instances for i in ranking.resolve(spec, groups, final, h.n_instances, one=False)]
        except AnimsupError as e:
            raise AnimsupError(f"{path}: {e}") from None
        sel = list(dict.fromkeys(sel))
    if end is not None:
        last_step = max(last_step, int(end.get("step", last_step)))

    inst = []
    for i in sel:
        geo = geometry.describe(chosen.W[i], threshold)
        g = ranking.group_of(groups, i)
        row = {
            "index": i,
            "group": g.name,
            "best_in_group": final is not None and g.best(final) == i,
            "feature_probability": _uniform_or_list(h.feature_probability[i]),
            "probability_text": h.probability_text(i),
            "seed": h.seed[i],
            "loss": float(chosen.loss[i]) if per_instance else None,
            "final_loss": None if final is None else ranking._num(final[i]),
            "geometry": geo.to_dict(),
        }
        if chosen.W_dec is not None:
            row["decoder_norms"] = [round(float(v), 6) for v in geometry.feature_norms(chosen.W_dec[i])]
        inst.append(row)
    rows = h.importance[list(sel)]
    shared = bool((rows == rows[:1]).all())
    imp = [float(v) for v in rows[0]]
    return {
        "version": OUTPUT_VERSION,
        "log": str(path),
        "model": h.model,
        "n_features": h.n_features,
        "n_hidden": h.n_hidden,
        "n_instances": h.n_instances,
        "importance": imp if shared else [[float(v) for v in row] for row in rows],
        "importance_text": ("unknown (1 assumed)" if h.assumed("importance")
                            else ranking.describe_importance(imp) if shared else "per instance"),
        "loss_scope": h.loss_scope,
        "aggregate_loss": float(np.asarray(chosen.loss).reshape(-1)[0]) if h.loss_scope == "aggregate" else None,
        "importance_source": h.raw.get("importance_source"),
        "config": h.config,
        "status": end["status"] if end else "unfinished",
        "truncated": truncated,
        "steps": last_step,
        # a resumed run's total is its last resume record's (the header keeps the first session's)
        "planned_steps": resumes[-1].get("steps", h.config.get("steps")) if resumes else h.config.get("steps"),
        "resumed_from": [r.get("from_step", r.get("step")) for r in resumes],
        "wall_seconds": end.get("wall_seconds") if end else None,  # of the last session only
        "snapshots": n_snapshots,
        "loss_every": loss_every,
        "at_step": chosen.step,
        "threshold": threshold,
        "final_loss_definition": f"mean of the logged losses in the last {100 * ranking.TAIL:g}% of the steps",
        "groups": ranking.group_report(groups, final),
        "instances": inst,
    }


# --------------------------------------------------------------------------- text


def format_report(r: dict) -> str:
    status = r["status"]
    if status == "unfinished":
        status += " (no end record: still running, or killed)"
    if r["truncated"]:
        status += "; last line incomplete, ignored"
    planned = f" of {r['planned_steps']:,}" if isinstance(r.get("planned_steps"), int) else ""
    wall = f" in {r['wall_seconds']:.1f} s" if r.get("wall_seconds") else ""
    if r.get("resumed_from"):
        last = r["resumed_from"][-1]
        times = len(r["resumed_from"])
        wall = (f", resumed {times} time{'s' * (times != 1)} (last from step {last:,}"
                + (f"; that session took {r['wall_seconds']:.1f} s)" if r.get("wall_seconds") else ")"))
    imp = r["importance_text"] + (f" ({r['importance_source']})" if r.get("importance_source") else "")
    lines = [
        f"{r['log']}",
        f"  model {r['model']}, n_features {r['n_features']}, n_hidden {r['n_hidden']}, "
        f"{r['n_instances']} instance{'s' * (r['n_instances'] != 1)}, importance {imp}",
        f"  status {status}",
        *([f"  loss: {_loss_scope_text(r)}"] if r.get("loss_scope", "instance") != "instance" else []),
        f"  steps {r['steps']:,}{planned}{wall}, {r['snapshots']} snapshots"
        + (f", loss every {r['loss_every']} steps" if r.get("loss_every") else ""),
        f"  geometry at step {r['at_step']:,} (represented: norm > {r['threshold']:g})",
        "",
    ]
    lines += _format_groups(r)
    for row in r["instances"]:
        lines += _format_instance(row, r["n_features"])
    return "\n".join(lines) + "\n"


def _loss_scope_text(r: dict) -> str:
    if r["loss_scope"] == "none":
        return "no loss recorded"
    return f"one aggregate loss for all instances, {r['aggregate_loss']:.5g} at step {r['at_step']:,}"


def _format_groups(r: dict) -> list[str]:
    """One line per group of comparable instances: its best instance and final loss."""
    groups = r["groups"]
    if not groups or groups[0]["best"] is None:
        return ["  no loss per instance recorded: no best instance", ""]
    out = [f"  final loss = {r['final_loss_definition']}; best = lowest final loss within a group"
           + (f" ({len(groups)} groups: 1-S or importance differ)" if len(groups) > 1 else "")]
    for g in groups:
        b = g["best"]
        loss = g["final_loss"][str(b)]
        loss = f"{loss:.5g}" if isinstance(loss, float) else loss
        out.append(f"  {g['group']} {g['label']}: {len(g['instances'])} instance{'s' * (len(g['instances']) != 1)}, "
                   f"best {b} (final loss {loss})")
    return out + [""]


def _format_instance(row: dict, n_features: int) -> list[str]:
    g = row["geometry"]
    final = row.get("final_loss")
    final = "" if final is None else f", final loss {final:.5g}" if isinstance(final, float) else f", final loss {final}"
    best = ", best in group" if row.get("best_in_group") else ""
    seed = "unknown" if row["seed"] is None else row["seed"]
    loss = "" if row["loss"] is None else f"  loss at snapshot {row['loss']:.5g}{final}"
    head = f"instance {row['index']} ({row['group']}{best})  {row['probability_text']} seed={seed}{loss}"
    rep = g["represented"]
    dpf = g["dims_per_feature"]
    out = [head, f"  {g['label']}, {len(rep)} of {n_features} features represented"
           + (f", {dpf:.3g} dimensions per feature" if dpf is not None else "")]
    if len(g["groups"]) > 1:
        out.append("  groups (orthogonal spans): " + "; ".join(
            f"{gr['name']} {{{','.join(map(str, gr['features']))}}}" for gr in g["groups"]))
    role = {s["feature"]: f"stacked on {s['vertex']}" for s in g["stacked"]}
    role |= {w["feature"]: "weak extra" + (f" on {w['vertex']}'s line" if w["vertex"] is not None else "") for w in g["weak"]}
    if rep:
        ang = dict(zip(g["order"], g["angles"]))
        out.append("  feature   norm      D  " + ("angle" if ang else "role"))
        for f in list(g["order"]) + [f for f in rep if f not in g["order"]]:
            where = f"{ang[f]:6.1f}°" if f in ang else role.get(f, "vertex")
            out.append(f"  {f:7d}  {g['norms'][f]:5.3f}  {g['dimensionality'][f]:5.3f}  {where}")
        if g["gaps"] and len(g["gaps"]) > 1:
            out.append("  gaps " + " ".join(f"{x:.0f}°" for x in g["gaps"]))
    for w in g.get("faint", []):
        on = f", on vertex {w['vertex']}'s line" if w["vertex"] is not None else ""
        out.append(f"  faint feature {w['feature']} (not represented): norm {w['norm']:.2f}{on}")
    out.append("")
    return out
