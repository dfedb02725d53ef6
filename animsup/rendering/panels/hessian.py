"""The Hessian panel for the video (``--panels hessian``): the loss Hessian's spectrum over
training beside the loss.

The Hessian is not computed here (rendering has no torch): ``animsup measure LOG --hessian``
writes its eigenvalues to the log's sidecar (:mod:`animsup.log.measurements`, section
``hessian``: eigenvalues [T, K, E] descending, degeneracy and threshold [T, K]); the panel reads
them with :func:`hessian_history`. For the first shown instance it draws

- the top ``LINES`` eigenvalues λ1 ≥ λ2 ≥ λ3 (solid, the instance's colour) and the lowest one
  (dashed; an exact spectrum's smallest eigenvalue, of a Lanczos top-k the last of the k largest
  by |λ|) on a symlog axis whose linear band is the degeneracy threshold, so negative eigenvalues
  (a saddle) show below zero and are marked ▼;
- the threshold as a grey band |λ| ≤ threshold(t) (``rel_tol`` · max |λ|, stated in the label);
- under it, a strip with the degeneracy (the sidecar's count of eigenvalues inside the band) and
  the number of negative eigenvalues (λ < −threshold: the index of a saddle; of the top-k only
  for Lanczos);

and a cursor at the current step on both; the x axis is the loss panel's. The viewer's Hessian
chart takes the same series (:func:`hessian_series`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from animsup.errors import AnimsupError
from animsup.rendering.draw.ticks import log_label
from animsup.rendering.panels.base import Panel
from animsup.rendering.panels.dynamics import _loss_x, _style

if TYPE_CHECKING:
    from matplotlib.transforms import Bbox

    from animsup.log.measurements import Measurements
    from animsup.rendering.draw.context import DrawContext, Rect
    from animsup.rendering.frames import Frame

#: how many of the largest eigenvalues are drawn as lines (plus the lowest)
LINES = 3
#: the colour of negative eigenvalues' marks and count, per theme
NEGATIVE = {"light": "#bc4c00", "dark": "#ffa657"}


def hessian_series(m: Measurements, instances: Sequence[int], lines: int = LINES) -> dict[str, Any] | None:
    """The Hessian spectrum of ``instances`` from a sidecar's measurements, or None when it has none.

    :param m: the sidecar (:func:`animsup.log.measurements.read_measurements`)
    :param instances: log instance indices (a column each; NaN for one that was not measured)
    :param lines: how many of the largest eigenvalues to keep
    :return: ``steps`` (shape: [T]); ``top`` (shape: [T, k, L], L = min(lines, E), descending);
        ``lowest`` (shape: [T, k], the last of the E eigenvalues; NaN when E <= L: all are in top);
        ``degeneracy`` (the sidecar's count), ``negative`` (count of λ < −threshold), ``threshold``
        (shape: [T, k]); ``eigenvalues`` (E per model), ``parameters`` (P or None), ``exact``
        (E == P: the full spectrum), ``rel_tol`` (float or None)
    """
    if m.hessian is None or not len(m.steps):
        return None
    h = m.hessian
    ev = h["eigenvalues"]                                     # [T, K, E]
    T, _, E = ev.shape
    L = min(lines, E)
    top = np.full((T, len(instances), L), np.nan)
    lowest, deg, neg, thr = (np.full((T, len(instances)), np.nan) for _ in range(4))
    for j, i in enumerate(instances):
        col = m.column(int(i))
        if col is None:
            continue
        e = ev[:, col]
        top[:, j] = e[:, :L]
        if E > L:
            lowest[:, j] = e[:, -1]
        thr[:, j] = h["threshold"][:, col]
        deg[:, j] = h["degeneracy"][:, col]
        neg[:, j] = (e < -thr[:, j, None]).sum(1)
    settings = h.get("settings", {})
    P, rel_tol = _number(settings.get("parameters")), _number(settings.get("rel_tol"))
    exact = (P is not None and int(P) == E) or (P is None and settings.get("method") == "exact")
    return {"steps": m.steps.astype(np.float64), "top": top, "lowest": lowest, "degeneracy": deg, "negative": neg,
            "threshold": thr, "eigenvalues": int(E), "parameters": None if P is None else int(P), "exact": bool(exact),
            "rel_tol": rel_tol}


def _number(v: object) -> float | None:
    """A finite number from a sidecar's settings (a file: anything else is None)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def hessian_history(log: str | os.PathLike[str], instances: Sequence[int]) -> dict[str, Any]:
    """:func:`hessian_series` of the shown instances from the log's sidecar.

    :raises AnimsupError: the log has no measured Hessian
    """
    from animsup.log.measurements import require_for_log, sidecar_path

    m = require_for_log(log, "--panels hessian")  # another run's, older or corrupt sidecar: one line naming what to run
    out = None if m is None else hessian_series(m, instances)
    if out is None:
        raise AnimsupError(f"--panels hessian: {os.fspath(log)} has no measured Hessian ({sidecar_path(log)} is missing "
                           f"or has none); run: animsup measure LOG --hessian")
    return out


def threshold_text(h: dict[str, Any]) -> str:
    """The degeneracy threshold in words: ``|λ| ≤ 0.001·max|λ|`` (of the top-k for Lanczos)."""
    rule = f"|λ| ≤ {h['rel_tol']:g}·max|λ|" if h["rel_tol"] is not None else "|λ| ≤ threshold"
    return rule + ("" if h["exact"] else f" of the top {h['eigenvalues']}")


def symlog_ticks(lo: float, hi: float, linthresh: float) -> list[float]:
    """Ticks of a symlog axis over [lo, hi]: 0 and at most 3 powers of ten each side beyond
    ``linthresh``, evenly thinned."""
    def side(top: float) -> list[float]:
        if top <= linthresh:
            return []
        d = list(range(math.ceil(math.log10(linthresh)), math.floor(math.log10(top)) + 1))
        if len(d) > 3:
            d = [d[round(q * (len(d) - 1) / 2)] for q in range(3)]
        return [10.0 ** e for e in d]

    return sorted({0.0, *side(hi), *(-v for v in side(-lo))})


def _tick_label(v: float) -> str:
    return "0" if v == 0 else ("−" if v < 0 else "") + log_label(abs(v))


class HessianPanel(Panel):
    """``hessian``: the Hessian's top and lowest eigenvalues of the first shown instance over
    training (symlog, negatives marked), the near-zero band, and the degeneracy and negative counts."""

    step_axis = True
    height = 1.1
    data_key = "hessian"

    @classmethod
    def prepare(cls, log: str | os.PathLike[str], instances: Sequence[int]) -> dict[str, Any]:
        return hessian_history(log, instances)

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        h = (getattr(ctx.scene, "panel_data", None) or {}).get("hessian")
        if h is None:
            raise ValueError("the hessian panel needs scene.panel_data['hessian'] (animsup.rendering.panels.hessian.hessian_history)")
        x, y, w, hh = rect
        self.ax = ctx.fig.add_axes((x, y, w, 0.3 * hh))                    # the counts (the column's step axis)
        self.ax_ev = ctx.fig.add_axes((x, y + 0.3 * hh, w, 0.7 * hh))       # placed under the key below
        self.lines = self._eigenvalues(h)
        counts = self._counts(h)
        # one key between the two axes (as many rows as the width needs), then the axes around it
        key = self._key(self.lines, counts, h)
        gap = key.get_window_extent(ctx.renderer()).height / ctx.height + 0.3 * ctx.fs * ctx.pt / ctx.height
        strip = 0.3 * (hh - gap)
        self.ax.set_position((x, y, w, strip))
        self.ax_ev.set_position((x, y + strip + gap, w, max(hh - strip - gap, 1.0 / ctx.height)))
        self._thin_ticks()
        self.cursors = [a.axvline(h["steps"][0] if len(h["steps"]) else 0, color=ctx.theme["cursor"], lw=1.3,
                                  antialiased=False) for a in (self.ax_ev, self.ax)]
        ctx.animate(*self.cursors)

    def _eigenvalues(self, h: dict[str, Any]) -> list:
        ctx, ax = self.ctx, self.ax_ev
        _loss_x(ctx, ax)
        ax.tick_params(labelbottom=False)
        steps, top, low, thr = h["steps"], h["top"][:, 0], h["lowest"][:, 0], h["threshold"][:, 0]
        inst = ctx.scene.instances[0] if len(ctx.scene.instances) else 0
        vals = np.concatenate([top.ravel(), low.ravel()])
        vals = vals[np.isfinite(vals)]
        what = ("not measured" if not len(vals) else f"all {h['eigenvalues']} eigenvalues, exact" if h["exact"]
                else f"top {h['eigenvalues']}" + (f" of {h['parameters']}" if h["parameters"] is not None else "")
                + " eigenvalues, Lanczos")
        _style(ctx, ax, f"Hessian eigenvalues, #{inst} ({what})")
        title = ax.set_title(ax.get_title(loc="left"), loc="left", fontsize=ctx.fs * 0.9, color=ctx.theme["muted"])
        ctx.fit_width(title, ax.bbox.width)
        if not len(vals):
            ax.text(0.5, 0.5, f"instance #{inst} was not measured", transform=ax.transAxes, ha="center", va="center",
                    fontsize=ctx.fs * 0.8, color=ctx.theme["muted"])
            return []
        big = float(np.abs(vals).max()) or 1.0
        pos_thr = thr[np.isfinite(thr) & (thr > 0)]
        linthresh = float(np.median(pos_thr)) if len(pos_thr) else 1e-6 * big
        lo, hi = float(vals.min()), float(vals.max())
        ax.set_yscale("symlog", linthresh=linthresh, linscale=0.6)
        ax.set_ylim(min(-linthresh, lo) * (1.6 if lo < -linthresh else 1.0), max(linthresh, hi) * 1.6)
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

        ax.yaxis.set_major_locator(FixedLocator(symlog_ticks(lo * 1.6, hi * 1.6, linthresh)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _tick_label(v)))
        ax.yaxis.set_minor_locator(NullLocator())
        ok = np.isfinite(thr)
        ax.fill_between(steps[ok], -thr[ok], thr[ok], color=ctx.theme["faint"], alpha=0.8, lw=0)
        ax.axhline(0.0, color=ctx.theme["muted"], lw=0.6)
        color = ctx.instance_color(0)
        lines = []
        for q in range(top.shape[1]):
            good = np.isfinite(top[:, q])
            lines += ax.plot(steps[good], top[good, q], color=color, lw=1.5 - 0.35 * q, alpha=1.0 - 0.25 * q,
                             label=f"λ{q + 1}")
        good = np.isfinite(low)
        if good.any():
            lines += ax.plot(steps[good], low[good], color=ctx.theme["muted"], lw=1.1, ls=(0, (4, 2)),
                             label="λ_min" if h["exact"] else f"λ{h['eigenvalues']}")
        neg_col = NEGATIVE.get(ctx.scene.theme, NEGATIVE["light"])
        for series in (top.T, low[None]):
            for s in series:
                below = (s < -thr) & np.isfinite(thr)
                if below.any():
                    ax.plot(steps[below], s[below], ls="none", marker="v", ms=ctx.fs * 0.35, color=neg_col)
        return lines

    def _thin_ticks(self) -> None:
        """As many of the eigenvalue axis's ticks as its height holds (a line and a half of tick
        label each): 0 and the extremes first; the count strip's top tick alone when it is short."""
        from matplotlib.ticker import FixedLocator

        line = 1.5 * self.ctx.fs * 0.8 * self.ctx.pt
        if self.ax.bbox.height < 2 * line:                  # a short strip: its top count only
            self.ax.yaxis.set_major_locator(FixedLocator([self._count_top]))
        ax = self.ax_ev
        if ax.get_yscale() != "symlog":
            return
        ticks = sorted(ax.get_yticks())
        room = max(int(ax.bbox.height / line), 3)
        if len(ticks) > room:
            keep = {0.0, ticks[0], ticks[-1]}
            rest = [t for t in ticks if t not in keep]
            step = len(rest) / max(room - len(keep), 1)
            keep |= {rest[int(q * step)] for q in range(min(room - len(keep), len(rest)))}
            ax.yaxis.set_major_locator(FixedLocator(sorted(keep)))

    def _counts(self, h: dict[str, Any]) -> list:
        ctx, ax = self.ctx, self.ax
        _loss_x(ctx, ax)
        ax.tick_params(labelsize=ctx.fs * 0.8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        steps, deg, neg = h["steps"], h["degeneracy"][:, 0], h["negative"][:, 0]
        ok = np.isfinite(deg)
        neg_col = NEGATIVE.get(ctx.scene.theme, NEGATIVE["light"])
        a = ax.plot(steps[ok], deg[ok], drawstyle="steps-post", color=ctx.theme["fg"], lw=1.2,
                    label=f"# near zero: {threshold_text(h)} (band)")
        b = ax.plot(steps[ok], neg[ok], drawstyle="steps-post", color=neg_col, lw=1.2, label="# negative ▼")
        top = float(np.nanmax(np.concatenate([deg[ok], neg[ok]]))) if ok.any() else 1.0
        self._count_top = int(max(top, 1.0))
        ax.set_ylim(-0.3, self._count_top * 1.1 + 0.3)
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(nbins=2, integer=True))
        return a + b

    def _key(self, lines: list, counts: list, h: dict[str, Any]):
        """The key of both axes at the strip's top: the top lines as one entry ("λ1–λ3"), the lowest,
        the two counts; in one row, else two (the font shrinks to the width if two do not fit)."""
        L = h["top"].shape[2]
        handles, labels = list(counts), [str(c.get_label()) for c in counts]
        if lines:
            top = [(lines[0], "λ1" if L == 1 else f"λ1–λ{L}")] + [(ln, str(ln.get_label())) for ln in lines[L:]]
            handles, labels = [t[0] for t in top] + handles, [t[1] for t in top] + labels
        r, width = self.ctx.renderer(), self.ax.bbox.width
        fs = self.ctx.fs * 0.68
        for ncol in (len(handles), (len(handles) + 1) // 2, -((len(handles) + 1) // 2)):
            key = self.ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=max(abs(ncol), 1),
                                 fontsize=fs, frameon=False, handlelength=1.4, columnspacing=1.0,
                                 borderaxespad=0.0, borderpad=0.15, labelcolor=self.ctx.theme["muted"])
            wide = key.get_window_extent(r).width
            if wide <= width:
                return key
            if ncol == (len(handles) + 1) // 2:     # two rows, a smaller font (never more rows: the axes keep their height)
                fs *= 0.97 * width / wide
        return key

    def update(self, frame: Frame) -> None:
        for c in self.cursors:
            c.set_xdata([frame.step, frame.step])

    def boxes(self) -> list[Bbox]:
        return [self.ax_ev.bbox, self.ax.bbox]
