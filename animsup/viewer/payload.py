"""Log -> the viewer's data: which snapshots and instances it shows, fixed axes, and the arrays.

The viewer is built from the same plan as the video (:mod:`animsup.frames`): the same
pass-1 summary (:func:`animsup.frames.scan_log`), the same instance choice
(:func:`animsup.frames.choose_instances`) and the same fixed axes, loss curve, moving
average and title (:func:`animsup.frames.build_scene`). Only the time mapping differs: a
viewer scrubs over *snapshots* (no interpolation), so every snapshot is shown unless the
page would grow past its byte budget; then evenly spaced snapshots are kept
(:func:`subsample`, the rule is printed on the page).

Per-feature quantities come from :mod:`animsup.geometry` (norms, D_i, shape names) and
events from :mod:`animsup.events`; the page only draws them. Arrays travel as base64
float32 (little-endian), so the page shows exactly the logged float32 weights.
"""

from __future__ import annotations

import base64
import math
import os
from dataclasses import dataclass

import numpy as np

from animsup.errors import AnimsupError

#: the page's data budget in bytes (base64 arrays); above it snapshots are subsampled
DATA_BUDGET = 4_000_000
#: never more snapshots than this on one page (scrubbing stays one snapshot per slider pixel or so)
MAX_SNAPSHOTS = 2000
#: loss-curve bins (frames.scan_log keeps at most twice this many)
LOSS_BINS = 1000


@dataclass
class ViewerPlan:
    """What the page shows: all instances of the log (a grid when there are several),
    the snapshot indices kept, and the video's fixed parts (``scene``).

    :param snapshots: (shape: [T_shown]) indices into the log's snapshots, increasing
    """

    path: str
    summary: object  # animsup.frames.LogSummary
    scene: object  # animsup.frames.Scene (fixed axes, loss curve, title)
    instances: tuple
    selected: int  # index into ``instances`` shown large first (the best instance)
    snapshots: np.ndarray
    rule: str


def subsample(n_snapshots: int, limit: int) -> tuple[np.ndarray, str]:
    """Indices of the snapshots to keep: all of them when ``n_snapshots <= limit``, else
    ``limit`` evenly spaced by index, rounded, first and last always kept.

    Returns (indices (shape: [<= limit]), the rule in words)."""
    if n_snapshots <= limit:
        return np.arange(n_snapshots), f"all {n_snapshots:,} snapshots"
    idx = np.unique(np.round(np.linspace(0, n_snapshots - 1, max(2, limit))).astype(np.int64))
    return idx, (
        f"{len(idx):,} of {n_snapshots:,} snapshots, evenly spaced by snapshot index "
        f"(about every {(n_snapshots - 1) / (len(idx) - 1):.1f}th; first and last kept)"
    )


def snapshot_limit(n_instances: int, n_hidden: int, n_features: int, untied: bool, budget: int = DATA_BUDGET) -> int:
    """How many snapshots fit the byte budget: W (and W_dec), b, norms and D_i per
    instance as base64 float32 (4/3 bytes per byte)."""
    floats = n_instances * (n_hidden * n_features * (2 if untied else 1) + 3 * n_features)
    per_snapshot = floats * 4 * 4 / 3
    return int(max(2, min(MAX_SNAPSHOTS, budget // max(per_snapshot, 1))))


def plan_viewer(log, *, smooth: int | None = None, instance="best", max_snapshots: int | None = None,
                budget: int = DATA_BUDGET) -> ViewerPlan:
    """Plan the page for a log (raises :class:`AnimsupError` / ``LogFormatError`` on a bad log).

    ``instance``: the instance shown large first ("best" = lowest final loss, as in the video).
    """
    from animsup import frames as fr

    path = os.fspath(log)
    summary = fr.scan_log(path, max_bins=LOSS_BINS)
    h = summary.header
    instances = fr.choose_instances(summary, grid=True)
    first = fr.choose_instances(summary, instance, grid=False)[0]
    limit = snapshot_limit(h.n_instances, h.n_hidden, h.n_features, h.has_decoder, budget)
    if max_snapshots is not None:
        if int(max_snapshots) != max_snapshots or max_snapshots < 2:
            raise AnimsupError(f"max_snapshots must be a whole number >= 2, got {max_snapshots!r}")
        limit = min(limit, int(max_snapshots))
    snaps, rule = subsample(summary.n_snapshots, limit)
    steps = summary.steps[snaps].astype(np.float64)
    scene = fr.build_scene(summary, instances, grid=len(instances) > 1, smooth=smooth, frame_steps=steps)
    return ViewerPlan(path, summary, scene, tuple(instances), instances.index(first), snaps, rule)


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _read_snapshots(path, positions: np.ndarray):
    """The kept snapshots as arrays: steps [T], loss [T, k], W [T, k, m, n], b [T, k, n], W_dec or None."""
    from animsup.runlog import open_log

    keep = set(int(p) for p in positions)
    steps, loss, W, b, Wd = [], [], [], [], []
    with open_log(path) as reader:
        for t, s in enumerate(reader.snapshots()):
            if t in keep:
                steps.append(s.step)
                loss.append(s.loss)
                W.append(s.W)
                b.append(s.b)
                if s.W_dec is not None:
                    Wd.append(s.W_dec)
            if t >= positions[-1]:
                break
    if len(steps) != len(positions):
        raise AnimsupError(f"{path}: the log changed while reading it (fewer snapshots on the second read)")
    return (np.asarray(steps, np.int64), np.asarray(loss, np.float32), np.asarray(W, np.float32),
            np.asarray(b, np.float32), np.asarray(Wd, np.float32) if Wd else None)


def _shapes(W: np.ndarray) -> tuple[list, list, list]:
    """Shape names (as indices into a table) and polygon vertex orders, per snapshot and instance,
    from :func:`animsup.geometry.describe` (n_hidden = 2 only). (shape: [T][k])"""
    from animsup import geometry

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
            row_o.append([int(v) for v in g.order])
        names.append(row_n)
        orders.append(row_o)
    return table, names, orders


def _events(steps, W, loss_step, loss_mean) -> list:
    """Events per instance (:func:`animsup.events.find_events` on the shown snapshots)."""
    from animsup import events as ev

    out = []
    for i in range(W.shape[1]):
        found = ev.find_events(steps, W[:, i], loss_step, loss_mean[:, i])
        out.append([[int(e.step), e.kind, e.text] for e in found])
    return out


def _colors(importance, theme: str = "light") -> tuple[list, list]:
    """Feature colours (the video's importance colours) and the heatmap's 256-colour table."""
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    from animsup.draw import THEMES, feature_colors

    t = THEMES[theme]
    rgba, _, _ = feature_colors(np.asarray(importance, dtype=np.float64), t)
    heat = mpl.colormaps[t["heat"]](np.linspace(0, 1, 256))
    return [to_hex(c) for c in rgba], [to_hex(c) for c in heat]


def build_payload(plan: ViewerPlan, *, live: bool = False) -> dict:
    """Everything the page needs, JSON-ready (arrays as base64 float32)."""
    from animsup import geometry
    from animsup.frames import QUIET_FRACTION

    s, h, sc = plan.summary, plan.summary.header, plan.scene
    steps, loss, W, b, Wd = _read_snapshots(plan.path, plan.snapshots)
    W64 = W.astype(np.float64)
    norms = geometry.feature_norms(W64)  # [T, k, n]
    dims = geometry.dimensionality(W64)
    table, names, orders = _shapes(W) if h.n_hidden == 2 else ([], [], [])
    has_loss = bool(np.isfinite(sc.loss_raw).any())
    events = _events(steps, W, sc.loss_step, sc.loss_raw) if has_loss else _events(steps, W, steps[:0], loss[:0])
    colors, heat = _colors(h.importance)
    end = s.end or {}
    return {
        "version": 1,
        "live": live,
        "title": sc.title,
        "path": os.path.basename(plan.path),
        "model": h.model,
        "n_features": h.n_features,
        "n_hidden": h.n_hidden,
        "n_instances": h.n_instances,
        "instances": list(plan.instances),
        "selected": plan.selected,
        "labels": list(sc.instance_labels),
        "importance": [float(v) for v in h.importance],
        "colors": colors,
        "heat": heat,
        "quiet_fraction": QUIET_FRACTION,
        "threshold": geometry.THRESHOLD,
        "lim": sc.lim,
        "gram_max": sc.gram_max,
        "b_range": list(sc.b_range),
        "n_snapshots_log": int(s.n_snapshots),
        "rule": plan.rule,
        "steps": [int(v) for v in steps],
        "snapshot_loss": _b64(loss),
        "W": _b64(W),
        "W_dec": None if Wd is None else _b64(Wd),
        "b": _b64(b),
        "norms": _b64(norms),
        "dims": _b64(dims),
        "shape_names": table,
        "shape": names,
        "polygon": orders,
        "has_loss": has_loss,
        "loss_source": sc.loss_source,
        "loss_step": _b64(sc.loss_step),
        "loss_raw": _b64(sc.loss_raw),
        "loss_smooth": _b64(sc.loss_smooth),
        "loss_xlim": [_num(v) for v in sc.loss_xlim],
        "loss_ylim": [_num(v) for v in sc.loss_ylim],
        "loss_xscale": "asinh" if sc.loss_xscale == "symlog" else "linear",
        "smooth": int(sc.smooth),
        "final_loss": [_num(v) for v in s.final_loss],
        "events": events,
        "status": end.get("status", "unfinished") if s.end is not None else "unfinished",
        "end": {k: v for k, v in end.items() if isinstance(v, (int, float, str))} if s.end is not None else None,
    }
