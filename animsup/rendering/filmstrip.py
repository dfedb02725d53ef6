"""The filmstrip figure: k snapshots side by side over the loss curve and the events (the figure
devinterp draws with ``plot_losses_and_polygons``), as a matplotlib Figure of artists.

``animsup render LOG --filmstrip K --out strip.pdf`` (PNG, SVG, PDF) and
``animsup.figure(log, steps=[...])``. Each panel is one snapshot of the shown instance: for
n_hidden <= 2 the columns W_i as arrows from the origin in the feature colours of the video, with
their ids, on the run's fixed axes (±lim, dashed unit circle); for n_hidden >= 3 the WᵀW heatmap on
the run's fixed colour range. Panels are lettered "(a)", "(b)", ... and the loss panel under them
marks each panel's step with its letter; events (``annotate``) are dotted lines on the loss panel,
their key under it. No pyplot and no global rc changes (the figure has its own Agg canvas).
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Sequence

import numpy as np

from animsup.errors import AnimsupError
from animsup.rendering.draw.context import rc_params
from animsup.rendering.draw.theme import THEMES
from animsup.rendering.frames import step_axis_limits

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from animsup.rendering.draw.context import DrawContext
    from animsup.rendering.frames import Frame, Scene

#: ids are written next to the tips up to this many features
MAX_IDS = 16


def choose_positions(steps: np.ndarray, k: int, time: str | None) -> np.ndarray:
    """Snapshot indices of a ``k``-panel filmstrip: the snapshots nearest to ``k`` training steps
    spread evenly from the first to the last step (``time="log"``: evenly in log(1 + step - first)),
    each snapshot at most once, increasing.

    :param steps: (shape: [T]) snapshot steps, increasing
    """
    steps = np.asarray(steps, dtype=np.float64)
    first, last = steps[0], steps[-1]
    if time == "log":
        targets = first - 1 + np.geomspace(1.0, 1.0 + last - first, k)
    else:
        targets = np.linspace(first, last, k)
    idx = np.abs(steps[None, :] - targets[:, None]).argmin(1)
    return np.unique(idx)


def positions_at(steps: np.ndarray, at: Sequence[float]) -> np.ndarray:
    """Snapshot indices at or before each training step of ``at`` (AnimsupError when one is before
    the first snapshot or there are more than 12), increasing and unique."""
    steps = np.asarray(steps, dtype=np.float64)
    at = [float(a) for a in at]
    if not 1 <= len(at) <= 12:
        raise AnimsupError(f"a filmstrip shows 1 to 12 snapshots, got {len(at)}")
    idx = np.searchsorted(steps, at, side="right") - 1
    if (idx < 0).any():
        raise AnimsupError(f"step {min(at):g} is before the first snapshot (step {steps[0]:g})")
    return np.unique(idx)


def filmstrip_figure(scene: Scene, frames: Sequence[Frame], events: Sequence[tuple] = (), *,
                     log_x: bool = False) -> Figure:
    """The filmstrip of ``frames`` (one panel each, left to right) of ``scene``'s first instance,
    the loss curve under them (``log_x``: its step axis in log scale), ``events`` ((step, kind,
    text)) marked and keyed."""
    import matplotlib

    from animsup.rendering.draw.context import DrawContext

    if len(scene.instances) > 1:  # (a grid, asked for or the default view of a log with no comparable best)
        raise AnimsupError(f"a filmstrip shows one instance, not the grid of {len(scene.instances)}; "
                           f"name one (--instance N, or instance=N)")
    with matplotlib.rc_context(rc_params(THEMES[scene.theme], scene.size)):
        ctx = DrawContext(scene)
        _layout(ctx, list(frames), list(events), log_x)
    return ctx.fig


def _layout(ctx: DrawContext, frames: list[Frame], events: list[tuple], log_x: bool) -> None:
    from animsup.rendering.plan import poster_key

    s, fig, fs, pt = ctx.scene, ctx.fig, ctx.fs, ctx.pt
    W, H = ctx.width, ctx.height
    title = fig.text(0.5, 1 - 1.2 * fs * pt / H, s.title, ha="center", va="center", fontsize=fs * 1.05,
                     color=ctx.theme["fg"], parse_math=False)
    ctx.fit_width(title, 0.97 * W)
    k = len(frames)
    key_h = 2.4 * fs * pt if events else 0.0
    left, right = 7.0 * fs * pt, 1.5 * fs * pt
    top = H - 2.6 * fs * pt - 3.2 * fs * pt  # the title, then two lines of panel titles
    gap = (1.2 if s.n_hidden <= 2 else 3.0) * fs * pt
    side = min((W - left - right - (k - 1) * gap) / k, 0.55 * (top - key_h))
    x0 = left + (W - left - right - k * side - (k - 1) * gap) / 2
    letters = string.ascii_lowercase
    for j, f in enumerate(frames):
        ax = fig.add_axes(ctx.px(x0 + j * (side + gap), top - side, side, side))
        _snapshot(ctx, ax, f, f"({letters[j]}) step {f.step:,.0f}")
        if j and s.n_hidden <= 2:  # one scale for every panel: its numbers once, on the first
            ax.tick_params(labelleft=False)
    loss_top = top - side - 3.0 * fs * pt
    loss_bottom = 3.6 * fs * pt + key_h
    lax = fig.add_axes(ctx.px(left, loss_bottom, W - left - right, max(loss_top - loss_bottom, 20.0)))
    _loss(ctx, lax, [f.step for f in frames], events, log_x)
    if events:
        key = fig.text(0.5, 0.9 * fs * pt / H, poster_key(events) + " (dotted lines)", ha="center", va="bottom",
                       fontsize=fs * 0.85, color=ctx.theme["muted"], parse_math=False)
        ctx.fit_width(key, 0.97 * W)


def _snapshot(ctx: DrawContext, ax: Axes, f: Frame, title: str) -> None:
    """One panel: the instance's columns W_i (n_hidden <= 2) or its WᵀW (n_hidden >= 3)."""
    s, t, fs = ctx.scene, ctx.theme, ctx.fs
    W = np.asarray(f.W[0], dtype=np.float64)
    ax.tick_params(labelsize=fs * 0.7)
    if s.n_hidden >= 3:
        dec = np.asarray(f.W_dec[0], dtype=np.float64) if f.W_dec is not None else W
        ax.imshow(dec.T @ W, cmap=ctx.colormap(t["heat"]), vmin=-s.gram_max, vmax=s.gram_max,
                  interpolation="nearest")
        ax.set_title(title + "\nWᵀW", fontsize=fs * 0.85, color=t["fg"])
        return
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Circle

    from animsup.analysis.geometry import describe

    P = W.T if s.n_hidden == 2 else np.column_stack([W[0], np.zeros(W.shape[1])])
    lim = float(s.lim)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.add_patch(Circle((0, 0), 1.0, fill=False, ls=(0, (3, 3)), lw=0.6, color=t["faint"]))
    ax.axhline(0, color=t["grid"], lw=0.6, zorder=0)
    ax.axvline(0, color=t["grid"], lw=0.6, zorder=0)
    segs = np.stack([np.zeros_like(P), P], 1)
    ax.add_collection(LineCollection(list(segs), colors=list(ctx.colors), linewidths=1.6, zorder=2))
    ax.scatter(P[:, 0], P[:, 1], s=(fs * 0.45) ** 2, c=ctx.colors, edgecolors=t["bg"], linewidths=0.5, zorder=3)
    if s.n_features <= MAX_IDS:
        norm = np.hypot(P[:, 0], P[:, 1])
        for i in np.flatnonzero(norm > 0.05 * lim):
            u = P[i] / norm[i]
            ax.annotate(str(i), P[i], xytext=(u[0] * fs * 0.9, u[1] * fs * 0.9), textcoords="offset points",
                        ha="center", va="center", fontsize=fs * 0.7, color=t["fg"], annotation_clip=False)
    shape = describe(W).label() if s.n_hidden == 2 else ""
    ax.set_title(title + (f"\n{shape}" if shape else ""), fontsize=fs * 0.85, color=t["fg"])


def _loss(ctx: DrawContext, ax: Axes, marks: list[float], events: list[tuple], log_x: bool) -> None:
    """The loss curve(s) (raw faint, smoothed bold), a lettered line at each panel's step, a dotted
    line at each event."""
    from matplotlib.transforms import blended_transform_factory

    s, t, fs = ctx.scene, ctx.theme, ctx.fs
    ax.tick_params(labelsize=fs * 0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if s.loss_note != "no loss recorded":
        for j in range(s.loss_smooth.shape[1]):
            c = ctx.instance_color(j) if s.loss_smooth.shape[1] > 1 else t["fg"]
            ax.plot(s.loss_step, s.loss_raw[:, j], color=t["outline"], alpha=0.35, lw=0.6)
            ax.plot(s.loss_step, s.loss_smooth[:, j], color=c, lw=1.4)
        ax.set_yscale("log")
        ax.set_ylim(*s.loss_ylim)
    if log_x:
        pos = s.loss_step[s.loss_step > s.loss_xlim[0]]
        ax.set_xscale("symlog", linthresh=max(1.0, float(pos[0] - s.loss_xlim[0]) if len(pos) else 1.0))
    # the strip's own scale (the scene's limits are the video's, whose axis may be log): it ends at the last step
    last = max(float(s.last_step), float(np.nanmax(s.loss_step)) if len(s.loss_step) else float(s.last_step))
    ax.set_xlim(*step_axis_limits(s.loss_xlim[0], last, "symlog" if log_x else "linear"))
    ax.set_xlabel("training step" + (" (log scale)" if log_x else ""), fontsize=fs * 0.85, color=t["muted"])
    ax.set_ylabel("loss", fontsize=fs * 0.85, color=t["muted"])
    ax.grid(True, which="major", lw=0.5)
    for step, _, _ in events:
        ax.axvline(step, color=t["outline"], lw=0.7, ls=(0, (1.5, 2)), alpha=0.8)
    tr = blended_transform_factory(ax.transData, ax.transAxes)
    for j, step in enumerate(marks):
        ax.axvline(step, color=t["cursor"], lw=1.0, alpha=0.9)
        ax.text(step, 1.02, string.ascii_lowercase[j], transform=tr, ha="center", va="bottom", fontsize=fs * 0.8,
                color=t["cursor"], parse_math=False)
    if s.loss_note == "no loss recorded":
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no loss recorded", transform=ax.transAxes, ha="center", va="center", color=t["muted"])
