"""Log -> the viewer's data: which snapshots and instances it shows, fixed axes, and the arrays.

The viewer is built from the video's render plan (:func:`animsup.rendering.plan.build_plan` with
the same :class:`animsup.rendering.config.RenderConfig`, every instance as in ``--grid``): the
same instances, frame times, fixed axes, loss curve, moving average and title. A viewer
scrubs over *snapshots* and never interpolates: one frame per snapshot, unless the page
would grow past its byte budget; then the plan is resampled to that many frames evenly over
the snapshots and each frame is rounded to its nearest snapshot (the rule is printed on the
page).

Per-feature quantities come from :mod:`animsup.analysis.geometry` (norms, D_i, shape names) and
events from :mod:`animsup.analysis.events`; the page only draws them. Arrays travel as base64
float32 (little-endian), so the page shows exactly the logged float32 weights.
"""

from __future__ import annotations

import base64
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from animsup.errors import AnimsupError
from animsup.escape import plain_text

if TYPE_CHECKING:
    from animsup.analysis.ranking import ViewChoice
    from animsup.rendering.frames import LogSummary, Scene
    from animsup.rendering.plan import RenderPlan

#: the page's data budget in bytes (base64 arrays); above it snapshots are subsampled
DATA_BUDGET = 4_000_000
#: never more snapshots than this on one page (scrubbing stays one snapshot per slider pixel or so)
MAX_SNAPSHOTS = 2000
#: loss-curve bins on the page (the plan's bins are averaged in pairs down to this)
LOSS_BINS = 2000


@dataclass
class ViewerPlan:
    """What the page shows: the video's :class:`animsup.rendering.plan.RenderPlan` for every instance
    of the log (a grid when there are several), the snapshot indices kept, and which
    instance is shown large first.

    :param snapshots: (shape: [T_shown]) indices into the log's snapshots, increasing
    """

    path: str
    render: RenderPlan  # instances, frame times, fixed axes, scene
    instances: tuple
    selected: int  # index into ``instances`` shown large first (the best instance by default)
    snapshots: np.ndarray
    rule: str
    choice: ViewChoice | None = None  # what a render of the log shows by default (ranking.default_view), and why

    @property
    def summary(self) -> LogSummary:
        return self.render.summary

    @property
    def scene(self) -> Scene:
        return self.render.scene


def subsample(n_snapshots: int, limit: int) -> tuple[np.ndarray, str]:
    """Indices of the snapshots to keep: all of them when ``n_snapshots <= limit``, else
    ``limit`` evenly spaced by index (the frame positions of :func:`animsup.rendering.plan.plan_frames`
    with ``frames=limit``, rounded to the nearest snapshot), first and last always kept.

    Returns (indices (shape: [<= limit]), the rule in words)."""
    if n_snapshots <= limit:
        return np.arange(n_snapshots), _rule(n_snapshots, n_snapshots)
    idx = _rounded(np.linspace(0, n_snapshots - 1, max(2, limit)))
    return idx, _rule(len(idx), n_snapshots)


def _rounded(positions) -> np.ndarray:
    return np.unique(np.round(np.asarray(positions, dtype=np.float64)).astype(np.int64))


def _rule(kept: int, total: int) -> str:
    if kept >= total:
        return f"all {total:,} snapshots" if total != 1 else "its one snapshot"
    return (f"{kept:,} of {total:,} snapshots, evenly spaced by snapshot index "
            f"(about every {(total - 1) / max(kept - 1, 1):.1f}th; first and last kept)")


def snapshot_limit(n_instances: int, n_hidden: int, n_features: int, untied: bool, budget: int = DATA_BUDGET) -> int:
    """How many snapshots fit the byte budget: W (and W_dec), b, norms and D_i per
    instance as base64 float32 (4/3 bytes per byte)."""
    floats = n_instances * (n_hidden * n_features * (2 if untied else 1) + 3 * n_features)
    per_snapshot = floats * 4 * 4 / 3
    return int(max(2, min(MAX_SNAPSHOTS, budget // max(per_snapshot, 1))))


def viewer_config(config=None, *, n_instances: int = 2, **options):
    """The video's :class:`RenderConfig` for the page: every instance (a grid when the log has
    several), no resampling
    beyond the snapshot budget, no final hold, no poster. ``options``: RenderConfig fields
    (``instance``, ``smooth``, ``theme`` matter to the page)."""
    from dataclasses import replace

    from animsup.rendering.config import RenderConfig

    cfg = config if config is not None else RenderConfig(**{k: v for k, v in options.items() if v is not None})
    # the page is light-themed: the light theme's feature colours (the video's default)
    return replace(cfg, grid=n_instances > 1, annotate=False, frames=None, fps=None, duration=None, time=None, hold=0.0, at=None,
                   theme="light")


def plan_viewer(log, config=None, *, smooth: int | None = None, instance="best", max_snapshots: int | None = None,
                budget: int = DATA_BUDGET) -> ViewerPlan:
    """Plan the page for a log from the video's render plan (:func:`animsup.rendering.plan.build_plan`).

    ``config``: a :class:`RenderConfig` (its ``instance`` picks the instance shown large first,
    "best" = lowest final loss as in the video; ``smooth`` the moving average), or pass
    ``smooth`` / ``instance``. Raises :class:`AnimsupError` / ``LogFormatError`` on a bad log.
    """
    from dataclasses import replace

    from animsup.analysis import ranking
    from animsup.log.reader import read_header
    from animsup.rendering import frames as fr
    from animsup.rendering import plan as rp

    path = os.fspath(log)
    h = read_header(path)
    cfg = viewer_config(config, n_instances=h.n_instances, smooth=smooth, instance=instance)
    limit = snapshot_limit(h.n_instances, h.n_hidden, h.n_features, h.has_decoder, budget)
    if _summary(h.n_features, h.n_hidden, cfg):  # a large model: summaries, not W (animsup.viewer.large)
        from animsup.viewer import large as vlarge

        limit = vlarge.snapshot_limit(h.n_instances, h.n_features, budget, MAX_SNAPSHOTS)
    if max_snapshots is not None:
        if int(max_snapshots) != max_snapshots or max_snapshots < 2:
            raise AnimsupError(f"max_snapshots must be a whole number >= 2, got {max_snapshots!r}")
        limit = min(limit, int(max_snapshots))
    summary = fr.scan_log(path)  # read once, for the snapshot count and the plan
    T = summary.n_snapshots
    if T > limit:  # the same plan, resampled to `limit` frames evenly over the snapshots
        cfg = replace(cfg, frames=limit)
    plan = rp.build_plan(path, cfg, video=True, summary=summary)
    snaps = _rounded(plan.timing.position)  # the page never interpolates: the nearest snapshot
    if cfg.instance in (None, "best"):  # the one default every output follows (animsup.analysis.ranking.default_view)
        choice = ranking.default_view(h, plan.summary.final_loss)
    else:
        first = rp.choose_instances(plan.summary, cfg.instance, grid=False)[0]
        choice = ranking.ViewChoice(False, first, f"instance {first} (instance={cfg.instance!r})")
    first = choice.instance
    return ViewerPlan(path, plan, tuple(plan.instances), tuple(plan.instances).index(first), snaps, _rule(len(snaps), T),
                      choice)


def _summary(n_features: int, n_hidden: int, cfg) -> bool:
    """Whether the page shows the summary of a large model (the video's rule, ``cfg.view``)."""
    from animsup.analysis import large

    return large.use_summary(n_features, n_hidden, cfg.view)


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _read_snapshots(path, positions: np.ndarray):
    """The kept snapshots as arrays: steps [T], W [T, k, m, n], b [T, k, n], W_dec or None (the page's
    loss is the scene's readout loss, not a snapshot's)."""
    from animsup.log.reader import open_log

    keep = set(int(p) for p in positions)
    steps, W, b, Wd = [], [], [], []
    with open_log(path) as reader:
        for t, s in enumerate(reader.snapshots()):
            if t in keep:
                steps.append(s.step)
                W.append(s.W)
                b.append(s.b)
                if s.W_dec is not None:
                    Wd.append(s.W_dec)
            if t >= positions[-1]:
                break
    if len(steps) != len(positions):
        raise AnimsupError(f"{path}: the log changed while reading it (fewer snapshots on the second read)")
    return (np.asarray(steps, np.int64), np.asarray(W, np.float32), np.asarray(b, np.float32),
            np.asarray(Wd, np.float32) if Wd else None)


def _shapes(W: np.ndarray) -> tuple[list, list, list]:
    """Shape names (as indices into a table) and polygon vertex orders, per snapshot and instance,
    from :func:`animsup.analysis.geometry.describe` (any n_hidden: "pentagon", "square antiprism";
    the vertex orders are drawn as a polygon for n_hidden = 2 only, else empty). (shape: [T][k])"""
    from animsup.analysis import geometry

    table: list[str] = []
    lookup: dict[str, int] = {}
    names, orders = [], []
    for t in range(W.shape[0]):
        row_n, row_o = [], []
        for i in range(W.shape[1]):
            g = geometry.describe(W[t, i])
            label = g.label()
            if label not in lookup:
                lookup[label] = len(table)
                table.append(label)
            row_n.append(lookup[label])
            row_o.append([int(v) for v in g.order] if W.shape[2] == 2 else [])
        names.append(row_n)
        orders.append(row_o)
    return table, names, orders


def _events(plan: ViewerPlan) -> list:
    """Events per shown instance, [[step, kind, text], ...] in the plan's order: the one event list
    (:func:`animsup.analysis.timeline.run_events`, on every snapshot of the log, not only the
    page's) that ``animsup events`` prints and the video's captions and key show, LLC jumps
    included when the log's sidecar measured them)."""
    from animsup.analysis import timeline
    from animsup.log.measurements import read_for_log
    from animsup.log.reader import read_log

    run = read_log(plan.path, sorted(set(plan.instances)))
    measured = read_for_log(plan.path, run.steps)[0]  # once for all instances (beside the path the page was asked for)
    return [[list(e) for e in timeline.as_tuples(timeline.run_events(run, i, measurements=measured))] for i in plan.instances]


def loss_labels(scene: Scene, scope: str) -> dict:
    """What each loss on the page is, in words. The readout's name and label are the video's
    (:attr:`Scene.readout_name`, :attr:`Scene.loss_label`: one place for that text); this function
    only adds the page's words for the grey curve and the note under the chart:

    - ``readout``: the short name beside the number ("avg loss"), ``label``: what it is
      ("loss (moving average of 50 logged losses)"); the number is :meth:`Scene.readout_loss` at the
      snapshot's step, the quantity the video's readout shows at that step (the red dot too);
    - ``raw``: the grey curve (the loss records, or the snapshots' losses when there are none);
    - ``smooth``: the blue curve, the same moving average (the label without its scope note);
    - ``note``: the words under the chart: what grey, blue, the dot and the readout show (with a
      moving average of one point, blue is the logged loss itself and says so).
    """
    who = " (one loss for all instances)" if scope == "aggregate" else ""
    label = scene.loss_label
    return {
        "readout": scene.readout_name,
        "label": label,
        "raw": (f"loss per logged step{who}" if scene.loss_source == "loss records" else f"loss at each snapshot{who}"),
        "smooth": label.split(";")[0],
        "note": (f"grey: the loss from {scene.loss_source}; blue, the red dot and the readout: its moving "
                 "average, the number the video's readout shows at the same step") if scene.smooth > 1 else
                (f"blue: the loss from {scene.loss_source}, as logged (no moving average: the grey curve lies under it); "
                 "the red dot and the readout: that loss, the number the video's readout shows at the same step"),
    }


def _llc(path, order: list, steps=None) -> dict | None:
    """The LLC over training from the log's measurements sidecar (``animsup measure --llc``,
    :func:`animsup.log.measurements.read_measurements`), or None when it has none:
    ``{"steps" [T'], "mean", "std" (base64 float32, shape [T', k]: a column per shown instance in
    the page's order, NaN for an instance not measured), "chains", "draws"}``.

    A sidecar that is not this run's is left out (:func:`animsup.log.measurements.read_for_log`;
    the render's notes say why).
    """
    from animsup.log.measurements import read_for_log

    m = read_for_log(path, steps)[0]
    if m is None or m.llc is None or not len(m.steps):
        return None
    T = len(m.steps)
    mean = np.full((T, len(order)), np.nan, np.float32)
    std = np.full((T, len(order)), np.nan, np.float32)
    for q, inst in enumerate(order):
        col = m.column(int(inst))
        if col is not None:
            mean[:, q], std[:, q] = m.llc_mean[:, col], m.llc_std[:, col]
    settings = m.llc.get("settings", {})
    count = lambda key: int(v) if isinstance((v := settings.get(key)), (int, float)) and math.isfinite(v) else None  # noqa: E731
    return {"steps": [int(v) for v in m.steps], "mean": _b64(mean), "std": _b64(std),
            "chains": count("chains"), "draws": count("draws")}


def _hessian(path, order: list, steps=None) -> dict | None:
    """The Hessian spectrum over training from the log's measurements sidecar (``animsup measure
    --hessian``; the series of the video's hessian panel,
    :func:`animsup.rendering.panels.hessian.hessian_series`), or None when it has none: ``{"steps"
    [T'], "top" (base64 float32, shape [T', k, L]: the L largest eigenvalues, descending),
    "lowest", "degeneracy", "negative", "threshold" (base64 float32, shape [T', k]), "lines" (L),
    "eigenvalues" (E), "parameters" (P or None), "exact", "rel_tol"}``, a column per shown
    instance in the page's order (NaN where not measured). Numbers only: the sidecar's strings stay out.

    A sidecar that is not this run's is left out (:func:`animsup.log.measurements.read_for_log`;
    the render's notes say why).
    """
    from animsup.log.measurements import read_for_log
    from animsup.rendering.panels.hessian import hessian_series

    m = read_for_log(path, steps)[0]
    h = None if m is None else hessian_series(m, [int(i) for i in order])
    if h is None:
        return None
    return {"steps": [int(v) for v in h["steps"]], "top": _b64(h["top"]), "lines": int(h["top"].shape[2]),
            **{key: _b64(h[key]) for key in ("lowest", "degeneracy", "negative", "threshold")},
            "eigenvalues": h["eigenvalues"], "parameters": h["parameters"], "exact": h["exact"],
            "rel_tol": None if h["rel_tol"] is None else _num(h["rel_tol"])}


def _sae(scene: Scene, order: list, notes: tuple = ()) -> dict | None:
    """The SAE decoder directions drawn over W (:mod:`animsup.rendering.sae`, the video's), or None:
    ``{"column": the instance's position in the page's order, "steps" [T'], "decoders" (base64
    float32, shape [T', n_latents, n_hidden]), "n_latents", "key", "when", "path"}`` or ``{"note"}`` (not
    drawn, e.g. n_hidden >= 3: the render's note, :data:`animsup.rendering.sae.NOT_DRAWN`); the page
    shows at each snapshot the SAE of the latest trained step <= it (the first before it)."""
    from animsup.rendering.sae import NOT_DRAWN

    ov = scene.sae
    if ov is None or ov.instance not in order:  # n_hidden >= 3: the render's note, said on the page
        note = next((n for n in notes if n.startswith(NOT_DRAWN)), None)
        return None if note is None else {"note": note}
    return {"column": order.index(ov.instance), "steps": [int(v) for v in ov.steps], "decoders": _b64(ov.decoders),
            "n_latents": int(ov.decoders.shape[1]), "key": ov.key, "when": ov.when,
            "path": os.path.basename(ov.path)}  # (already escaped text; the name only, as the log's "path")


def _datapoints(scene: Scene, order: list, notes: tuple = ()) -> dict | None:
    """A finite-data run's training examples drawn over W (:mod:`animsup.rendering.datapoints`, the
    video's), or None: ``{"items": [{"column": the instance's position in the page's order, "drawn",
    "example", "feature", "value" (base64 float32 [nnz]: the drawn examples, sparse; the page computes
    h = W x at each snapshot from its W), "key"}]}`` or ``{"note"}`` (not drawn: the render's note,
    :data:`animsup.rendering.datapoints.NOT_DRAWN`). Sparse: ~12 bytes per non-zero, whatever the
    number of snapshots."""
    from animsup.rendering.datapoints import NOT_DRAWN

    items = [{"column": order.index(i), "drawn": int(p.drawn), "example": _b64(p.example), "feature": _b64(p.feature),
              "value": _b64(p.value), "key": p.key} for i, p in sorted(scene.datapoints.items()) if i in order]
    if items:
        return {"items": items}
    note = next((n for n in notes if n.startswith(NOT_DRAWN)), None)
    return None if note is None else {"note": note}


def _curves(path, order: list, n_instances: int, curves: dict | None = None) -> list:
    """The log's extra named curves (schema v2 ``curve`` records: test loss, accuracy, lr...) for the
    page: ``[{"name", "steps", "values" (base64 float32, shape [C, width]), "width"}]``, the columns
    of a per-instance curve in the page's instance order (width = shown instances), a curve of one
    value for all instances as one column. Names reach the page as text (escaped by the page)."""
    from animsup.log.reader import open_log

    if curves is None:
        with open_log(path) as reader:
            for _ in reader.iter_all():
                pass
            curves = reader.curves
    out = []
    for name, (steps, values) in sorted(curves.items()):
        vals = values[:, order] if values.shape[1] == n_instances and n_instances > 1 else values
        out.append({"name": plain_text(name), "steps": [int(v) for v in steps], "values": _b64(vals),
                    "width": int(vals.shape[1])})
    return out


def _halve_bins(step, raw, smooth, limit: int):
    """The video's loss bins, averaged in neighbouring pairs until at most ``limit`` remain
    (the page's loss panel is < 1000 px wide). (shapes: [B], [B, k], [B, k])"""
    while len(step) > limit:
        n = len(step) // 2 * 2
        pair = lambda a: np.concatenate([(a[:n:2] + a[1:n:2]) / 2, a[n:]])  # noqa: E731
        step, raw, smooth = pair(step), pair(raw), pair(smooth)
    return step, raw, smooth


def _colors(importance, theme: str = "light", sets=()) -> tuple[list, list]:
    """Feature colours (the video's importance colours, one scale for every instance; features of
    a correlated/anticorrelated set in its colour family, :func:`animsup.rendering.feature_sets.set_colors`)
    and the heatmap's 256-colour table. (importance: shape [k, n_features]; colours: [k][n_features])"""
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    from animsup.rendering.draw import THEMES, feature_colors

    t = THEMES[theme]
    imp = np.asarray(importance, dtype=np.float64)
    rgba, _, _ = feature_colors(imp.ravel(), t)
    if sets:
        from animsup.rendering.feature_sets import set_colors

        n = imp.shape[-1]
        rgba = np.concatenate([set_colors(rgba[i * n:(i + 1) * n], sets, theme) for i in range(len(rgba) // n)])
    hexes = [to_hex(c) for c in rgba]
    n = imp.shape[-1]
    heat = mpl.colormaps[str(t["heat"])](np.linspace(0, 1, 256))
    return [hexes[i * n:(i + 1) * n] for i in range(imp.shape[0])], [to_hex(c) for c in heat]


def _importance(header, instances) -> np.ndarray:
    """Importance of each shown instance's features, (shape: [k, n_features]) (a log with one
    importance vector for all instances, or one per instance)."""
    imp = np.asarray(header.importance, dtype=np.float64)
    if imp.ndim == 1:
        return np.broadcast_to(imp, (len(instances), imp.shape[0]))
    return imp[list(instances)]


def build_payload(plan: ViewerPlan, *, live: bool = False) -> dict:
    """Everything the page needs, JSON-ready (arrays as base64 float32)."""
    from animsup.analysis import geometry

    h, sc = plan.summary.header, plan.scene
    if sc.summary:  # a large model: per-snapshot summaries instead of W (animsup.viewer.large)
        return _summary_payload(plan, live)
    steps, W, b, Wd = _read_snapshots(plan.path, plan.snapshots)
    # the plan's instance order (the video's grid may order instances, e.g. by 1-S then loss)
    order = list(plan.instances)
    W, b = W[:, order], b[:, order]
    Wd = None if Wd is None else Wd[:, order]
    W64 = W.astype(np.float64)
    norms = geometry.feature_norms(W64)  # [T, k, n]
    dims = geometry.dimensionality(W64)
    table, names, orders = _shapes(W)
    importance = _importance(h, plan.instances)
    colors, heat = _colors(importance, plan.render.config.theme, sc.feature_sets)
    return {
        **_small_payload(plan, live, steps),
        "importance": importance.tolist(),
        "colors": colors,
        "heat": heat,
        "W": _b64(W),
        "W_dec": None if Wd is None else _b64(Wd),
        "b": _b64(b),
        "norms": _b64(norms),
        "dims": _b64(dims),
        "shape_names": table,
        "shape": names,
        "polygon": orders if h.n_hidden == 2 else [],
        "events": _events(plan),
    }


def _small_payload(plan: ViewerPlan, live: bool, steps: np.ndarray, curves: dict | None = None) -> dict:
    """The entries of the page that hold no per-feature array (the loss, the axes, the labels).
    ``curves``: the log's curves already read (``plan.summary.curves``), else the log is read for them."""
    from animsup.analysis import geometry
    from animsup.rendering.frames import QUIET_FRACTION

    s, h, sc = plan.summary, plan.summary.header, plan.scene
    order = list(plan.instances)
    loss_step, loss_raw, loss_smooth = _halve_bins(sc.loss_step, sc.loss_raw, sc.loss_smooth, LOSS_BINS)
    has_loss = bool(np.isfinite(sc.loss_raw).any())
    end = s.end or {}
    return {
        "version": 1,
        "live": live,
        "title": sc.title,
        "path": plain_text(os.path.basename(plan.path)),  # shown as text: a bidi override or control character escaped
        "model": h.model,
        "n_features": h.n_features,
        "n_hidden": h.n_hidden,
        "n_instances": h.n_instances,
        "instances": list(plan.instances),
        "selected": plan.selected,
        # "1-S=0.05  seed 3": the video's longest grid title of each instance, without its "#i"
        "labels": [titles[0].removeprefix(f"#{i}").strip() for i, titles in zip(plan.instances, sc.instance_labels)],
        "quiet_fraction": QUIET_FRACTION,
        "threshold": geometry.THRESHOLD,
        "lim": sc.lim,
        "gram_max": sc.gram_max,
        "norm_max": _num(np.max(sc.norm_max)) if np.size(sc.norm_max) else None,  # the heatmap's norm bars' fixed range
        "b_range": list(sc.b_range),
        "n_snapshots_log": int(s.n_snapshots),
        "rule": plan.rule,
        "steps": [int(v) for v in steps],
        # the readout's number at each shown snapshot (shape [T, loss_width]): the video's readout
        # quantity (Scene.readout_loss, the moving average) at the snapshot's step
        "readout_loss": _b64(sc.readout_loss(steps)),
        "has_loss": has_loss,
        "loss_source": sc.loss_source,
        # columns of loss_raw / loss_smooth: one per shown instance, or 1 (loss_scope "aggregate": one for all)
        "loss_width": int(np.asarray(sc.loss_raw).shape[1]) if np.ndim(sc.loss_raw) == 2 else 1,
        "loss_scope": h.loss_scope,
        "loss_labels": loss_labels(sc, h.loss_scope),
        "curves": _curves(plan.path, order, h.n_instances, curves),
        "llc": _llc(plan.path, order, plan.render.summary.steps),
        "hessian": _hessian(plan.path, order, plan.render.summary.steps),
        "sae": _sae(sc, order, plan.render.notes),
        "datapoints": _datapoints(sc, order, plan.render.notes),
        "loss_step": _b64(loss_step),
        "loss_raw": _b64(loss_raw),
        "loss_smooth": _b64(loss_smooth),
        "loss_xlim": [_num(v) for v in sc.loss_xlim],
        "loss_ylim": [_num(v) for v in sc.loss_ylim],
        "loss_xscale": "asinh" if sc.loss_xscale == "symlog" else "linear",
        "smooth": int(sc.smooth),
        "final_loss": [None if s.final_loss is None else _num(s.final_loss[i]) for i in order],
        # a staged run: [first step, 1-S text] per stage (animsup.rendering.stages), the page shows the current one
        "stages": [[int(st), text] for st, text in sc.stages],
        "status": end.get("status", "unfinished") if s.end is not None else "unfinished",
        "end": {k: v for k, v in end.items() if isinstance(v, (int, float, str))} if s.end is not None else None,
    }


def _summary_payload(plan: ViewerPlan, live: bool) -> dict:
    """The page of a large model (:mod:`animsup.viewer.large`): every entry of :func:`build_payload`
    that does not hold per-feature arrays, W, b, norms and D_i left out (None), no shape names and
    no events (computed on every snapshot's n features: not for a summary), and ``summary``."""
    from animsup.viewer import large as vlarge

    h = plan.summary.header
    steps, summary = vlarge.summary_payload(plan.path, plan.snapshots, plan.instances, h.feature_probability)
    # the curves that scan_log read with the plan: the 35 MB-per-snapshot log is not read a third time
    base = _small_payload(plan, live, np.asarray(steps, np.int64), plan.summary.curves)
    base.update(summary=summary, W=None, W_dec=None, b=None, norms=None, dims=None, shape_names=[],
                shape=[], polygon=[], events=[[] for _ in plan.instances],
                colors=[[] for _ in plan.instances], importance=[], heat=[])
    return base
