"""Dimensionality panels for the video (``--panels dim_time,dim_scatter,dims_per_feature,norms``).

Panels of :mod:`animsup.rendering.panels` (built once, moving artists updated per frame):

- ``dim_time``: D_i(t) of every feature of the first shown instance, one line per feature in
  the main view's colours, the paper's levels as dotted lines, a cursor at the current step;
  x axis as the loss panel's.
- ``dim_scatter``: D_i of every feature at the current step — against 1/(1−S) (log x) when
  the log is a sparsity sweep, else against the feature index — jittered, with the notebook's
  reference fractions (purple 1/2, 2/3, 2/5, 2/6, 2/7; blue 5/6, 4/5, 3/4, 3/8, 3/12, 3/20).
- ``dims_per_feature``: D* = m/‖W‖_F² over training (one line per instance of a sweep, the
  current value marked); for a sweep, also D* against 1/(1−S) (log x) at the current step.
- ``norms``: the feature norms ‖W_i‖ as bars coloured by superposition Σ_{j≠i}(Ŵ_i·W_j)²
  (dark: none, yellow: ≥ 1), the paper's basic-results bars.

D_i and D* come from :mod:`animsup.analysis.geometry`; the curves over the whole run are computed once
by :func:`dimensionality_history` (one extra streaming pass over the log) and carried in the
scene as ``scene.panel_data``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from animsup.analysis import geometry
from animsup.analysis.dynamics import NAMED_LEVELS, REFERENCE_FRACTIONS
from animsup.rendering.draw.ticks import unicode_log_ticks
from animsup.rendering.draw.context import DrawContext, Rect, color_list, set_verts
from animsup.rendering.panels.base import Panel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox

    from animsup.rendering.frames import Frame


def dimensionality_history(path: str | os.PathLike[str], instances: Sequence[int], *, chunk: int = 64, max_values: int = 20_000_000) -> dict:
    """D_i and D* of every instance at every snapshot, streamed a chunk of snapshots at a time.

    :param instances: indices of the shown instances
    :param max_values: keep D_i of every instance while T·n_instances·n_features stays under
        this (float32: 80 MB), else only of the shown instances
    :return: ``steps`` (shape: [T]), ``D`` (shape: [T, K, n_features]) float32 of the instances
        ``D_instances`` (all, or the shown ones), ``dstar`` (shape: [T, n_instances]),
        ``feature_probability`` (shape: [n_instances]) 1 − S per instance (NaN where it varies
        across features)
    """
    from animsup.log.reader import open_log, read_header

    h = read_header(path)
    K, n = h.n_instances, h.n_features
    shown = [int(i) for i in instances]
    keep = list(range(K))
    steps: list[float] = []
    D: list[np.ndarray] = []
    dstar: list[np.ndarray] = []
    block: list[np.ndarray] = []

    def flush() -> None:
        nonlocal keep, D
        if block:
            W = np.stack(block)                                  # [c, n_instances, m, n]
            dstar.append(geometry.dims_per_feature(W))
            if keep != shown and (len(steps) * K * n > max_values):
                D = [d[:, [keep.index(i) for i in shown]] for d in D]   # too long: the shown ones only
                keep = shown
            D.append(np.stack([geometry.dimensionality(W[:, k]) for k in keep], axis=1).astype(np.float32))
            block.clear()

    with open_log(path) as reader:
        for snap in reader.snapshots():
            steps.append(snap.step)
            block.append(np.asarray(snap.W, dtype=np.float32))
            if len(block) >= chunk:
                flush()
        flush()
    return {"steps": np.asarray(steps, dtype=np.float64),
            "D": np.concatenate(D) if D else np.zeros((0, len(keep), n), np.float32),
            "D_instances": keep,
            "dstar": np.concatenate(dstar) if dstar else np.zeros((0, K)),
            "feature_probability": _instance_probability(h)}


def _instance_probability(header) -> np.ndarray:
    """(shape: [n_instances]) 1 − S per instance (NaN where it varies across features)."""
    if hasattr(header, "instance_probability"):
        return np.asarray(header.instance_probability, dtype=np.float64)
    return np.asarray(header.feature_probability, dtype=np.float64).reshape(header.n_instances, -1)[:, 0]


def _D_of(h: dict, instance: int) -> np.ndarray:
    """D_i over time of one instance (shape: [T, n_features])."""
    return h["D"][:, h["D_instances"].index(int(instance))]


class _HistoryPanel(Panel):
    """A panel whose curves come from :func:`dimensionality_history` (shared via ``scene.panel_data``)."""

    data_key = "dimensionality"

    @classmethod
    def prepare(cls, log: str | os.PathLike[str], instances: Sequence[int]) -> dict:
        return dimensionality_history(log, instances)


def _history(ctx: DrawContext) -> dict:
    data = getattr(ctx.scene, "panel_data", None) or {}
    if "dimensionality" not in data:
        raise ValueError("the dimensionality panels need scene.panel_data['dimensionality'] "
                         "(animsup.rendering.panels.dynamics.dimensionality_history)")
    return data["dimensionality"]


def _is_sweep(probs: np.ndarray) -> bool:
    """Several instances at different 1 − S (each with one 1 − S for all its features)."""
    p = np.asarray(probs, dtype=np.float64)
    return bool(np.isfinite(p).all()) and len(np.unique(np.round(p, 9))) > 1


def _style(ctx: DrawContext, ax: Axes, title: str) -> None:
    t = ctx.theme
    ax.set_title(title, fontsize=ctx.fs * 0.9, color=t["muted"], loc="left")
    ax.tick_params(labelsize=ctx.fs * 0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _loss_x(ctx: DrawContext, ax: Axes) -> None:
    """The loss panel's x scale and limits (as :class:`animsup.rendering.draw.loss.LossPart` sets
    them), so the curves line up with it."""
    s = ctx.scene
    if s.loss_xscale == "symlog":
        pos = s.loss_step[s.loss_step > s.loss_xlim[0]]
        ax.set_xscale("symlog", linthresh=max(1.0, float(pos[0] - s.loss_xlim[0]) if len(pos) else 1.0))
        unicode_log_ticks(ax.xaxis)
    ax.set_xlim(*s.loss_xlim)


def _current(steps: np.ndarray, step: float) -> int:
    """Index of the last snapshot at or before ``step``."""
    return max(int(np.searchsorted(steps, step, side="right")) - 1, 0)


class DimTimePanel(_HistoryPanel):
    """``dim_time``: D_i(t), one line per feature, the levels dotted, a cursor at the step."""

    step_axis = True
    height = 0.8

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        from matplotlib.collections import LineCollection

        h = _history(ctx)
        self.ax = ax = ctx.fig.add_axes(rect)
        _loss_x(ctx, ax)
        ax.set_ylim(0, 1.05)
        for v in NAMED_LEVELS:
            ax.axhline(v, color=ctx.theme["muted"], lw=0.6, ls=":", alpha=0.8)
        ticks = [0, 2 / 5, 1 / 2, 2 / 3, 3 / 4, 1]  # 3/8 is too close to 2/5 to label
        ax.set_yticks(ticks)
        ax.set_yticklabels(["0", "2/5", "1/2", "2/3", "3/4", "1"])
        steps, D = h["steps"], _D_of(h, ctx.scene.instances[0])
        segs = [np.column_stack([steps, D[:, f]]) for f in range(D.shape[1])]
        ax.add_collection(LineCollection(segs, colors=ctx.colors[: D.shape[1]], linewidths=1.0))
        _style(ctx, ax, "D_i over training")
        self.cursor = ax.axvline(steps[0] if len(steps) else 0, color=ctx.theme["cursor"], lw=1.3, antialiased=False)
        ctx.animate(self.cursor)

    def update(self, frame: Frame) -> None:
        self.cursor.set_xdata([frame.step, frame.step])


class DimScatterPanel(_HistoryPanel):
    """``dim_scatter``: D_i at the current step against 1/(1−S) for every instance of a sweep
    (from the history, at the last snapshot at or before the frame's step), else against the
    feature index of the shown instance (from the frame)."""

    height = 0.9

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        h = _history(ctx)
        s = ctx.scene
        self.ax = ax = ctx.fig.add_axes(rect)
        probs = h["feature_probability"]
        self.steps = h["steps"]
        self.sweep = _is_sweep(probs) and len(h["D_instances"]) == len(probs)
        rng = np.random.default_rng(0)
        n = s.n_features
        if self.sweep:
            self.D = h["D"]                                              # [T, K, n]
            x = 1 / probs
            self.x = (x[:, None] * np.exp(rng.uniform(-0.05, 0.05, (len(x), n)))).ravel()
            ax.set_xscale("log")
            unicode_log_ticks(ax.xaxis)  # plain text: the figure parses no mathtext
            ax.set_xlim(x.min() / 1.25, x.max() * 1.25)
            ax.set_xlabel("1 / (1 − S)", fontsize=ctx.fs * 0.85, color=ctx.theme["muted"], labelpad=1)
            colors: str | np.ndarray = ctx.theme["fg"]
        else:
            self.x = np.arange(n) + rng.uniform(-0.25, 0.25, n)
            ax.set_xlim(-1, n)
            ax.set_xlabel("feature", fontsize=ctx.fs * 0.85, color=ctx.theme["muted"], labelpad=1)
            colors = ctx.colors[:n]
        ax.set_ylim(0, 1.05)
        for v, colour in REFERENCE_FRACTIONS:
            ax.axhline(v, color=colour, lw=0.7, alpha=0.55)
        ax.axhline(1.0, color=ctx.theme["muted"], lw=0.6, ls=":")
        _style(ctx, ax, "D_i at this step")
        self.points = ax.scatter(self.x, np.zeros_like(self.x), s=(ctx.fs * 0.4) ** 2, c=colors, lw=0,
                                 alpha=0.6 if self.sweep else 0.9)
        ctx.animate(self.points)

    def update(self, frame: Frame) -> None:
        if self.sweep:
            y = self.D[_current(self.steps, frame.step)].ravel()
        else:
            y = geometry.dimensionality(frame.W[0])
        self.points.set_offsets(np.column_stack([self.x, y]))


class DimsPerFeaturePanel(_HistoryPanel):
    """``dims_per_feature``: D* over training (a sweep: every instance thin, the shown ones bold);
    for a sweep also D* against 1/(1−S) at the current step (log x). The y range ends at
    max(1.1, min(largest D* · 1.05, 3)); larger values (a small init) sit on the top edge."""

    height = 0.7

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        h = _history(ctx)
        s, t = ctx.scene, ctx.theme
        self.steps, self.dstar = h["steps"], h["dstar"]
        probs = h["feature_probability"]
        shown = list(s.instances)
        self.sweep = _is_sweep(probs)
        finite = self.dstar[np.isfinite(self.dstar)]
        ylim = (0, float(np.clip(finite.max() * 1.05, 1.1, 3.0)) if finite.size else 1.1)
        self.top = ylim[1] * 0.995  # values above the axis are drawn at its top edge
        x, y, w, hgt = rect
        left = (x, y, 0.56 * w, hgt) if self.sweep else rect
        self.ax = ax = ctx.fig.add_axes(left)
        _loss_x(ctx, ax)
        ax.set_ylim(*ylim)
        for v in (1.0, 0.5):
            ax.axhline(v, color=t["muted"], lw=0.6, ls=":")
        cols = [ctx.instance_color(j) for j in range(len(shown))] if len(shown) > 1 else [t["fg"]]
        if self.sweep:
            for i in range(len(probs)):
                if i not in shown:
                    ax.plot(self.steps, self.dstar[:, i], color=t["muted"], lw=0.6, alpha=0.6)
        for j, i in enumerate(shown):
            ax.plot(self.steps, self.dstar[:, i], color=cols[j], lw=1.4)
        self.dots = ax.scatter(np.zeros(len(shown)), np.zeros(len(shown)), s=(ctx.fs * 0.6) ** 2, c=cols,
                               zorder=3, lw=0)
        _style(ctx, ax, "D* = m/‖W‖²_F")
        ctx.animate(self.dots)
        self.ax2 = None
        if self.sweep:
            ax2 = self.ax2 = ctx.fig.add_axes((x + 0.66 * w, y, 0.34 * w, hgt))
            x2 = 1 / probs
            ax2.set_xscale("log")
            unicode_log_ticks(ax2.xaxis)
            ax2.set_xlim(x2.min() / 1.25, x2.max() * 1.25)
            ax2.set_ylim(*ylim)
            for v in (1.0, 0.5):
                ax2.axhline(v, color=t["muted"], lw=0.6, ls=":")
            ax2.set_xlabel("1 / (1 − S)", fontsize=ctx.fs * 0.85, color=t["muted"], labelpad=1)
            _style(ctx, ax2, "D* now")
            (self.sweep_line,) = ax2.plot(x2, np.zeros_like(x2), "o-", color=t["fg"], ms=ctx.fs * 0.35, lw=1.0)
            ctx.animate(self.sweep_line)

    def update(self, frame: Frame) -> None:
        now = np.minimum(geometry.dims_per_feature(frame.W), self.top)   # the shown instances
        self.dots.set_offsets(np.column_stack([np.full(len(now), frame.step), now]))
        if self.ax2 is not None:
            self.sweep_line.set_ydata(np.minimum(self.dstar[_current(self.steps, frame.step)], self.top))

    def boxes(self) -> list[Bbox]:
        return [self.ax.bbox] + ([self.ax2.bbox] if self.ax2 is not None else [])


class NormsPanel(Panel):
    """``norms``: ‖W_i‖ as bars coloured by superposition Σ_{j≠i}(Ŵ_i·W_j)² (0 dark → ≥ 1 yellow)."""

    height = 0.7

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        import matplotlib
        from matplotlib.collections import PolyCollection

        s = ctx.scene
        x, y, w, h = rect
        self.ax = ax = ctx.fig.add_axes((x, y, 0.9 * w, h))
        n = s.n_features
        self.cmap = matplotlib.colormaps["viridis"]
        # the colour key: a thin bar at the right, "superposition" 0 (dark) to >= 1 (yellow)
        cax = ctx.fig.add_axes((x + 0.93 * w, y, 0.018 * w, h))
        cax.imshow(np.linspace(0, 1, 64)[:, None], cmap=self.cmap, aspect="auto", origin="lower", extent=(0, 1, 0, 1))
        cax.set_xticks([])
        cax.yaxis.tick_right()
        cax.set_yticks([0, 0.5, 1])
        cax.set_yticklabels(["0", "0.5", "≥1"])
        cax.tick_params(labelsize=ctx.fs * 0.7)
        cax.set_ylabel("superposition", fontsize=ctx.fs * 0.75, color=ctx.theme["muted"], labelpad=1)
        cax.yaxis.set_label_position("right")
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_ylim(0, max(1.05, float(s.norm_max) * 1.05))
        ax.axhline(geometry.THRESHOLD, color=ctx.theme["muted"], lw=0.6, ls=":")
        if n <= 40:
            ax.set_xticks(range(0, n, 1 if n <= 20 else 5))
        _style(ctx, ax, "‖W_i‖ by superposition")
        self.bars = PolyCollection([np.zeros((4, 2))] * n, edgecolors="none")
        ax.add_collection(self.bars)
        ctx.animate(self.bars)

    def update(self, frame: Frame) -> None:
        W = frame.W[0]
        norms = geometry.feature_norms(W)
        sup = np.clip(geometry.interference(W), 0, 1)
        x = np.arange(len(norms))
        z = np.zeros_like(norms)
        set_verts(self.bars, np.stack([np.stack([x - 0.4, z], 1), np.stack([x - 0.4, norms], 1),
                                      np.stack([x + 0.4, norms], 1), np.stack([x + 0.4, z], 1)], 1))
        self.bars.set_facecolor(color_list(self.cmap(sup)))
