"""``animsup inspect LOG``: what a run log holds and what the weights look like.

Shows the header, the steps, snapshot count and status, the loss of each instance, and for
each instance its represented features (norm > threshold) and, for n_hidden = 2, the shape
they form (animsup.geometry). Reads the final snapshot, or the last one at or before ``--at``.
Works on logs still being written or cut off (the reader warns and reads what is complete).
"""

from __future__ import annotations

import argparse

OUTPUT_VERSION = 1


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "inspect",
        help="summarise a run log: header, status, losses, represented features and their geometry",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("log", metavar="LOG", help="a run log (.jsonl or .jsonl.gz)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--at", type=int, metavar="STEP", help="use the last snapshot at or before STEP (default: the final one)")
    p.add_argument("--instance", type=int, nargs="+", metavar="I", help="only these instances (default: all)")
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


def tail_loss(loss_steps, loss_curve, fraction: float = 0.05):
    """Mean loss over the last ``fraction`` of the steps (at least the last point): a final
    loss that single-batch noise does not move. :param loss_curve: (shape: [L, k]) → [k]"""
    import numpy as np

    if len(loss_steps) == 0:
        return None
    last = loss_steps[-1]
    keep = loss_steps >= last - fraction * max(last, 1)
    return np.asarray(loss_curve)[keep].mean(axis=0)


def describe_importance(importance) -> str:
    """"0.9^i", "constant", or the first values."""
    import numpy as np

    imp = np.asarray(importance, dtype=np.float64)
    if len(imp) > 1 and np.allclose(imp, imp[0]):
        return "constant" if imp[0] == 1 else f"constant {imp[0]:g}"
    if len(imp) > 2 and imp[0] == 1 and np.all(imp > 0):
        base = imp[1]
        if np.allclose(imp, base ** np.arange(len(imp)), rtol=1e-4):
            return f"{base:.4g}^i"
    shown = ", ".join(f"{v:.3g}" for v in imp[:6])
    return f"[{shown}{', ...' if len(imp) > 6 else ''}]"


def _uniform_or_list(row):
    """One float when every feature shares the value, else the list (one per feature)."""
    return float(row[0]) if (row == row[0]).all() else [float(v) for v in row]


def inspect_log(path, *, at: int | None = None, instances=None, threshold: float = 0.5) -> dict:
    """Stream a log once and return the report as a JSON-ready dict."""
    import numpy as np

    from animsup import geometry
    from animsup.errors import AnimsupError
    from animsup.runlog import open_log

    n_snapshots, chosen, last_step = 0, None, None
    loss_steps, loss_rows, loss_every = [], [], None
    with open_log(path, instances) as reader:
        h = reader.header
        for kind, _, item in reader.iter_all():
            if kind == "snapshot":
                n_snapshots += 1
                last_step = item.step if last_step is None else max(last_step, item.step)
                if at is None or item.step <= at:
                    chosen = item
            elif len(item[0]):
                loss_steps.append(item[0])
                loss_rows.append(item[1])
                last_step = int(item[0][-1]) if last_step is None else max(last_step, int(item[0][-1]))
                if len(item[0]) > 1:
                    loss_every = int(item[0][1] - item[0][0])
        end, sel, truncated = reader.end, reader.instances, reader.truncated
    if chosen is None:
        if n_snapshots and at is not None:
            raise AnimsupError(f"{path}: no snapshot at or before step {at}")
        raise AnimsupError(f"{path}: the log has no snapshots yet")
    ls = np.concatenate(loss_steps) if loss_steps else np.zeros(0, dtype=np.int64)
    lc = np.concatenate(loss_rows) if loss_rows else np.zeros((0, len(sel)))
    if at is not None and len(ls):
        lc, ls = lc[ls <= chosen.step], ls[ls <= chosen.step]
    smooth = tail_loss(ls, lc)
    per_instance = h.loss_scope == "instance"  # else one aggregate number (or none) for all instances
    if end is not None:
        last_step = max(last_step, int(end.get("step", last_step)))

    inst = []
    for k, i in enumerate(sel):
        geo = geometry.describe(chosen.W[k], threshold)
        row = {
            "index": i,
            "feature_probability": _uniform_or_list(h.feature_probability[i]),
            "probability_text": h.probability_text(i),
            "seed": h.seed[i],
            "loss": float(chosen.loss[k]) if per_instance else None,
            "loss_smoothed": None if smooth is None or not per_instance else float(smooth[k]),
            "geometry": geo.to_dict(),
        }
        if chosen.W_dec is not None:
            row["decoder_norms"] = [round(float(v), 6) for v in geometry.feature_norms(chosen.W_dec[k])]
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
        "importance_text": describe_importance(imp) if shared else "per instance",
        "loss_scope": h.loss_scope,
        "aggregate_loss": float(chosen.loss[0]) if h.loss_scope == "aggregate" else None,
        "importance_source": h.raw.get("importance_source"),
        "config": h.config,
        "status": end["status"] if end else "unfinished",
        "truncated": truncated,
        "steps": last_step,
        "planned_steps": h.config.get("steps"),
        "wall_seconds": end.get("wall_seconds") if end else None,
        "snapshots": n_snapshots,
        "loss_every": loss_every,
        "at_step": chosen.step,
        "threshold": threshold,
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
    for row in r["instances"]:
        lines += _format_instance(row, r["n_features"])
    return "\n".join(lines) + "\n"


def _loss_scope_text(r: dict) -> str:
    if r["loss_scope"] == "none":
        return "no loss recorded"
    return f"one aggregate loss for all instances, {r['aggregate_loss']:.5g} at step {r['at_step']:,}"


def _format_instance(row: dict, n_features: int) -> list[str]:
    g = row["geometry"]
    smooth = f" (last 5%: {row['loss_smoothed']:.5g})" if row.get("loss_smoothed") is not None else ""
    seed = "unknown" if row["seed"] is None else row["seed"]
    loss = "" if row["loss"] is None else f"  loss {row['loss']:.5g}{smooth}"
    head = f"instance {row['index']}  {row['probability_text']} seed={seed}{loss}"
    rep = g["represented"]
    dpf = g["dims_per_feature"]
    shape = ""
    if g["shape"] is not None:
        shape = g["shape"] + (f" (regularity {g['regularity']:.2f})" if g["regularity"] is not None else "") + ", "
    out = [head, f"  {shape}{len(rep)} of {n_features} features represented"
           + (f", {dpf:.3g} dimensions per feature" if dpf is not None else "")]
    if rep:
        if g["shape"] is not None:
            ang = dict(zip(g["order"], g["angles"]))
            out.append("  feature   norm      D  angle")
            order = list(g["order"]) + [f for f in rep if f not in ang]
            stacked = {s["feature"]: s["vertex"] for s in g["stacked"]}
            for f in order:
                where = f"{ang[f]:6.1f}°" if f in ang else f"stacked on {stacked.get(f)}"
                out.append(f"  {f:7d}  {g['norms'][f]:5.3f}  {g['dimensionality'][f]:5.3f}  {where}")
            if g["gaps"] and len(g["gaps"]) > 1:
                out.append("  gaps " + " ".join(f"{x:.0f}°" for x in g["gaps"]))
        else:
            out.append("  feature   norm      D")
            for f in rep:
                out.append(f"  {f:7d}  {g['norms'][f]:5.3f}  {g['dimensionality'][f]:5.3f}")
    for w in g.get("weak", []):
        on = f", on vertex {w['vertex']}'s line" if w["vertex"] is not None else ""
        out.append(f"  weak feature {w['feature']}: norm {w['norm']:.2f}{on}")
    out.append("")
    return out
