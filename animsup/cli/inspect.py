"""``animsup inspect LOG``: what a run log holds and what the weights look like.

Shows the header, the steps, snapshot count and status, the loss of each instance, and for
each instance its represented features (norm > threshold) and, for n_hidden = 2, the shape
they form (animsup.analysis.geometry). Reads the final snapshot, or the last one at or before ``--at``.
Works on logs still being written or cut off (the reader warns and reads what is complete).

The report itself is animsup.analysis.report (also :func:`animsup.summary`); this module parses
the options and formats it.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from animsup.cli.output import error, say_json
from animsup.errors import plural
from animsup.escape import terminal

#: up to this many reported instances, each is shown in full; above it one table per group
DETAIL_LIMIT = 4


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
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
    p.add_argument("--all", action="store_true",
                   help=f"every instance's features in full (default: in full up to {DETAIL_LIMIT} instances, "
                        "else one table per group of comparable instances)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import sys

    from animsup.analysis.report import report_log
    from animsup.errors import AnimsupError
    from animsup.options import check_positive

    check_positive("--threshold", args.threshold)
    if args.at is not None and args.at < 0:
        raise AnimsupError(f"--at must be a step >= 0, got {args.at}")
    result = report_log(args.log, at=args.at, instances=args.instance, threshold=args.threshold)
    report = result.to_dict()
    measured, note = measurements_of(args.log)  # the sidecar of `animsup measure` (LLC, Hessian, PCA)
    if note:
        report["measurements_note"] = note
        error(note, prefix="animsup: note: ")
    if measured is not None:
        from animsup.log.measurements import sections_of, sidecar_path

        summary = measured.summary()
        if measured.llc is not None:
            shown = [int(r.index) for r in result.instances]
            summary["llc"]["jumps"] = _llc_jumps(args.log, measured, shown)
        report["measurements"] = {"file": os.path.basename(sidecar_path(args.log)), "sections": sections_of(measured),
                                  **summary}
    sae, sae_note = sae_of(args.log)  # the sidecar of `animsup sae` (drawn by render and the viewer)
    if sae_note:
        report["sae_note"] = sae_note
        error(sae_note, prefix="animsup: note: ")
    if sae is not None:
        report["sae"] = sae
    if args.json:
        say_json(report)
    else:
        detail = args.all or args.instance is not None or len(result.instances) <= DETAIL_LIMIT
        sys.stdout.write(terminal(format_report(report, detail=detail), newlines=True))
    return 0


def measurements_of(log: str) -> tuple[Any, str]:
    """The measurements sidecar beside ``log`` when it is this run's (checked against the log's header
    digest, instances and snapshot steps; :func:`animsup.log.measurements.read_for_log`), else None
    and the one-line note saying why it was skipped and what to run."""
    from animsup.log.measurements import read_for_log, sidecar_path
    from animsup.log.reader import read_log

    if not os.path.exists(sidecar_path(log)):
        return None, ""
    return read_for_log(log, read_log(log, [0], require_snapshots=False).steps)


def sae_of(log: str) -> tuple[dict | None, str]:
    """A short summary of the SAE sidecar beside ``log`` (``animsup sae``) when it is this run's
    (:func:`animsup.log.sae_file.check_log`): its file, instance, kind, latents, how many SAEs, the
    snapshot steps and the best SAE's scores at the last one; else None and a one-line note
    saying why it is not this run's (or is unreadable)."""
    from animsup.errors import AnimsupError
    from animsup.log.reader import read_log
    from animsup.log.sae_file import check_log, read_sae, sidecar_path

    path = sidecar_path(log)
    if not os.path.exists(path):
        return None, ""
    try:
        sf = read_sae(path)
        run = read_log(log, [0], require_snapshots=False)
        check_log(sf, run.header, run.steps, log)
    except AnimsupError as e:
        return None, f"the SAE sidecar is left out: {e}"
    v, s = sf.best()
    return {"file": os.path.basename(path), "instance": sf.instance, "kind": sf.kind, "n_latents": sf.n_latents,
            "saes": len(sf.values) * len(sf.seeds), "snapshots": len(sf.steps), "first_step": int(sf.steps[0]),
            "last_step": int(sf.steps[-1]), "best": sf.value_text(v), "matched": float(sf.matched[-1, v, s]),
            "mmcs": float(sf.mmcs[-1, v, s])}, ""


def _llc_jumps(log: str, measured, shown: list[int]) -> list[dict]:
    """The LLC jumps of the shown measured instances, each with its ``instance``: the ``llc_jump``
    events of the one event list (:func:`animsup.analysis.timeline.run_events`), so lined up with
    the same loss drops that ``animsup events`` prints."""
    from animsup.analysis.timeline import run_events
    from animsup.log.reader import read_log

    chosen = [i for i in shown if measured.column(i) is not None]
    if not chosen:
        return []
    run = read_log(log, chosen)
    return [{"instance": i, **e.to_dict()} for i in chosen
            for e in run_events(run, i, measurements=measured) if e.kind == "llc_jump"]


# --------------------------------------------------------------------------- text


def format_report(r: dict, *, detail: bool = True) -> str:
    """The text of ``animsup inspect``: the run's facts, then every instance in full
    (``detail``) or one table per group of comparable instances."""
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
        terminal(r["log"]),
        f"  model {r['model']}, n_features {r['n_features']}, n_hidden {r['n_hidden']}, "
        f"{plural(r['n_instances'], 'instance')}, importance {imp}",
        f"  status {status}",
        *([f"  loss: {_loss_scope_text(r)}"] if r.get("loss_scope", "instance") != "instance" else []),
        f"  steps {r['steps']:,}{planned}{wall}, {plural(r['snapshots'], 'snapshot')}"
        + (f", loss every {'step' if r['loss_every'] == 1 else plural(r['loss_every'], 'step')}" if r.get("loss_every") else ""),
        f"  geometry at step {r['at_step']:,} (represented: norm > {r['threshold']:g})",
        "",
    ]
    lines += _format_curves(r)
    lines += _format_sidecars(r)
    groups = _format_groups(r)
    lines += groups if detail else groups[:1] + [""]
    if detail:
        for k, row in enumerate(r["instances"]):
            lines += _format_instance(row, r["n_features"], r.get("curves") or {}, k)
    else:
        lines += _group_tables(r)
    return "\n".join(lines) + "\n"


def _steps_text(first: int, last: int, count: int) -> str:
    return f"step {first:,}" if count == 1 else f"{count} snapshots, steps {first:,}–{last:,}"


def _format_sidecars(r: dict) -> list[str]:
    """One line per sidecar beside the log: what ``animsup measure`` measured (sections, snapshots)
    and what ``animsup sae`` trained, each with the command that shows it."""
    out = []
    log = shlex.quote(r["log"])
    m = r.get("measurements")
    if m and m.get("sections"):
        panels = [p for p in ("llc", "hessian") if p in m["sections"]]
        show = [f"animsup render {log} --panels {','.join(panels)}"] if panels else []
        show += [f"animsup events {log} (LLC jumps)"] if "llc" in m["sections"] else []
        show += [f"animsup inspect {log} --json" + (" (PCA)" if "pca" in m["sections"] else "")]
        inst = m["instances"]
        out.append(f"  measurements in {m['file']}: {', '.join(m['sections'])} at "
                   f"{_steps_text(m['first_step'], m['last_step'], m['steps'])} of "
                   f"{'instance' if len(inst) == 1 else 'instances'} {', '.join(map(str, inst))}; shown by: "
                   + "; ".join(show))
    sae = r.get("sae")
    if sae:
        out.append(f"  SAEs in {sae['file']}: {plural(sae['saes'], sae['kind'] + ' SAE')} of "
                   f"{plural(sae['n_latents'], 'latent')} on instance {sae['instance']} at "
                   f"{_steps_text(sae['first_step'], sae['last_step'], sae['snapshots'])} (best {sae['best']}: "
                   f"matched {sae['matched']:.3f}, MMCS {sae['mmcs']:.3f}); drawn over W by: animsup render {log} "
                   f"(or animsup view {log}; --sae none leaves them out)")
    return out + ([""] if out else [])


def _format_curves(r: dict) -> list[str]:
    """One line naming the recorded extra curves (test loss, accuracy, lr, ...), if any."""
    curves = r.get("curves") or {}
    if not curves:
        return []
    parts = [f"{terminal(name)} ({plural(c['points'], 'point')}, {'per instance' if c['scope'] == 'instance' else 'one for all'})"
             for name, c in curves.items()]
    return ["  recorded curves: " + ", ".join(parts), ""]


def _curve_values(curves: dict, position: int) -> list[str]:
    """``name value`` of each curve at the report's step for the ``position``-th reported instance."""
    out = []
    for name, c in curves.items():
        if c["step"] is None:
            continue
        v = c["values"][position if c["scope"] == "instance" else 0]
        out.append(f"{terminal(name)} {_number(v)}")
    return out


def _number(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _group_tables(r: dict) -> list[str]:
    """One table per group of comparable instances: a row per reported instance (its seed,
    final loss, represented features and shape, and the recorded curves' values)."""
    curves = {n: c for n, c in (r.get("curves") or {}).items() if c["step"] is not None}
    position = {row["index"]: k for k, row in enumerate(r["instances"])}
    heads = ["instance", "seed", "final loss", "represented", "shape"] + [terminal(n) for n in curves]
    out: list[str] = []
    for g in r["groups"] or [{"group": "all", "label": "", "instances": list(position), "best": None}]:
        rows = [r["instances"][position[i]] for i in g["instances"] if i in position]
        if not rows:
            continue
        table = [heads] + [_table_row(row, g["best"], curves, position[row["index"]], r["n_features"]) for row in rows]
        widths = [max(len(t[c]) for t in table) for c in range(len(heads))]
        best = ""
        if g["best"] is not None:
            best = f", best {g['best']} (final loss {_number(g['final_loss'][str(g['best'])])})"
        out.append(f"{g['group']} {terminal(g['label'])}".rstrip() + f": {len(rows)} instance{'s' * (len(rows) != 1)}{best}")
        out += ["  " + "  ".join(cell.rjust(w) if c < 4 else cell.ljust(w) for c, (cell, w) in enumerate(zip(t, widths))).rstrip()
                for t in table]
        out.append("")
    return out + ["(* best in its group; --all or --instance I for each instance's features)", ""]


def _table_row(row: dict, best: object, curves: dict, position: int, n_features: int) -> list[str]:
    g = row["geometry"]
    seed = "?" if row["seed"] is None else terminal(row["seed"])
    final = row.get("final_loss")
    cells = [f"{row['index']}{'*' if row['index'] == best else ' '}", seed,
             "-" if final is None else _number(final), f"{len(g['represented'])} of {n_features}", g["label"]]
    for c in curves.values():
        cells.append(_number(c["values"][position if c["scope"] == "instance" else 0]))
    return cells


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
           + (f" ({len(groups)} groups: 1-S, importance or another setting differ)" if len(groups) > 1 else "")]
    for g in groups:
        b = g["best"]
        loss = g["final_loss"][str(b)]
        loss = f"{loss:.5g}" if isinstance(loss, float) else loss
        out.append(f"  {g['group']} {terminal(g['label'])}: {len(g['instances'])} instance{'s' * (len(g['instances']) != 1)}, "
                   f"best {b} (final loss {loss})")
    return out + [""]


def _format_instance(row: dict, n_features: int, curves: dict, position: int) -> list[str]:
    g = row["geometry"]
    final = row.get("final_loss")
    final = "" if final is None else f", final loss {final:.5g}" if isinstance(final, float) else f", final loss {final}"
    best = ", best in group" if row.get("best_in_group") else ""
    loss = "" if row["loss"] is None else f"  loss at snapshot {row['loss']:.5g}{final}"
    head = f"instance {row['index']} ({row['group']}{best})  {terminal(row['label'])}{loss}"  # strings from the log: one line
    rep = g["represented"]
    dpf = g["dims_per_feature"]
    out = [head, f"  {g['label']}, {len(rep)} of {n_features} feature{'s' * (n_features != 1)} represented"
           + (f", {dpf:.3g} dimensions per feature" if dpf is not None else "")]
    values = _curve_values(curves, position)
    if values:
        out.append("  curves: " + ", ".join(values))
    if n_features > _summary_above():  # a large model: numbers and the first rows, not thousands of lines
        return out + _large_instance(g, n_features)
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


#: a large model's text report lists this many represented features (--json lists every one)
LARGE_ROWS = 20


def _summary_above() -> int:
    from animsup.analysis import large

    return large.SUMMARY_ABOVE


def _large_instance(g: dict, n_features: int) -> list[str]:
    """The rest of an instance's text for a model of more than SUMMARY_ABOVE features: φ½ and Σ D_i
    (animsup.analysis.large), the number of orthogonal groups, the strongest represented features."""
    norms, dims = g["norms"], g["dimensionality"]
    rep = [int(f) for f in g["represented"]]
    groups = f"{plural(len(g['groups']), 'orthogonal group')}; " if g["groups"] else ""  # none above geometry.NAME_ABOVE
    out = [f"  φ½ {sum(v > 0.5 for v in norms) / n_features:.3f} (features with ‖W_i‖ > 1/2), Σ D_i {sum(dims):.1f}, "
           f"{groups}the overlaps and the histograms: animsup render LOG --view summary"]
    if rep:
        top = sorted(rep, key=lambda f: -norms[f])[:LARGE_ROWS]
        out.append(f"  the {len(top)} longest represented feature{'s' * (len(top) != 1)} of {len(rep):,}:")
        out.append("  feature   norm      D")
        out += [f"  {f:7d}  {norms[f]:5.3f}  {dims[f]:5.3f}" for f in top]
        if len(rep) > len(top):
            out.append(f"  … {len(rep) - len(top):,} more (animsup inspect LOG --json lists every feature)")
    return out + [""]
