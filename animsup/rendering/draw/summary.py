"""The summary view of a large model (more than :data:`animsup.analysis.large.SUMMARY_ABOVE` features,
or ``view="summary"``): instead of n arrows or an n×n heatmap, three charts of
:mod:`animsup.analysis.large` per frame — ‖W_i‖ against the feature's frequency rank (log x, the
view of Liu, Liu, Gore 2025), the D_i histogram and the histogram of each represented feature's
largest overlap max_{j≠i} |Ŵ_i·Ŵ_j| — and one line of numbers (φ_1/2, Σ D_i, the mean overlap).
Memory per frame is O(n·m), never n×n."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from animsup.analysis import large
from animsup.rendering.draw.context import BufferRect, DrawContext, PixelBox, set_verts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox

    from animsup.rendering.frames import Frame

#: the histograms' y axis (fraction of features, square-root scale so small bins stay visible)
FRACTION_TICKS = (0.0, 0.01, 0.1, 0.25, 0.5, 1.0)


class SummaryView:
    """One instance's summary charts in ``box`` (a Part: see :mod:`animsup.rendering.draw.context`).

    :ivar last: the :func:`animsup.analysis.large.summary_row` drawn at the last frame (tests read it)
    """

    def __init__(self, ctx: DrawContext, box: PixelBox, k: int, *, small: bool, label_text: str | None):
        s = ctx.scene
        self.ctx, self.k, self.small = ctx, k, small
        n = s.n_features
        self.order = np.asarray(s.summary_order[k]) if s.summary_order else np.arange(n)
        self.edges = large.rank_edges(n)
        self.last: dict[str, np.ndarray] = {}
        self._held: tuple | None = None  # (step, FeatureSummary, summary_row) of the last frame drawn
        fs, pt, t = ctx.fs, ctx.pt, ctx.theme
        x0, y0, bw, bh = box
        f = 0.75 if small else 0.85
        head = (1.8 if label_text else 0.4) * fs * pt
        text_h = (4.4 if small else 3.4) * fs * f * pt  # the numbers on two lines (small: three)
        lm, bm, gap = 4.2 * fs * f * pt, 3.0 * fs * f * pt, 1.6 * fs * f * pt
        top = y0 + bh - head - text_h
        h_rank = (top - y0 - 2 * bm - gap) * 0.55
        h_hist = top - y0 - 2 * bm - gap - h_rank
        w_all = bw - lm - 0.8 * fs * pt
        self.ax_rank = ctx.fig.add_axes(ctx.px(x0 + lm, top - gap * 0.5 - h_rank, w_all, h_rank))
        hw = (w_all - lm) / 2
        self.ax_dims = ctx.fig.add_axes(ctx.px(x0 + lm, y0 + bm, hw, h_hist))
        self.ax_over = ctx.fig.add_axes(ctx.px(x0 + 2 * lm + hw, y0 + bm, hw, h_hist))
        self.axes: list[Axes] = [self.ax_rank, self.ax_dims, self.ax_over]
        self._rank_axes(n, f)
        self.welch = self.ax_over.axvline(0.0, color=t["cursor"], lw=0.9, ls="--")  # Liu et al. Eq. 5
        self.welch.set_visible(False)
        ctx.animate(self.welch)
        labels = (("D_i", "max_j |Ŵ_i·Ŵ_j| (‖W_i‖ > ½)") if small else
                  ("D_i (feature dimensionality)", "max_j |Ŵ_i·Ŵ_j|, ‖W_i‖ > ½ (dashed: bound κ)"))
        self.bars = [self._hist_axes(ax, xl, f) for ax, xl in zip((self.ax_dims, self.ax_over), labels)]
        self.text = ctx.fig.text((x0 + lm) / ctx.width, (top + 0.45 * text_h) / ctx.height, "", fontsize=fs * f,
                                 color=t["fg"], va="center", ha="left", linespacing=1.25)
        # the widest line the numbers make, fitted once (the font then stays put from frame to frame)
        self.text.set_text(self._line(1.0, n, n, float(s.n_hidden), s.n_hidden, 1.0, 0.5,
                                      large.OVERLAP_SAMPLE if n > large.OVERLAP_SAMPLE else 0))
        ctx.fit_width(self.text, bw - lm)
        self.text.set_text("")
        ctx.animate(self.text)
        if label_text:
            title = ctx.fig.text((x0 + bw / 2) / ctx.width, (y0 + bh - 0.5 * head) / ctx.height, label_text,
                                 ha="center", va="center", fontsize=fs * f, color=ctx.instance_color(k))
            ctx.fit_width(title, 0.95 * bw)
        self._text_width = w_all

    def _rank_axes(self, n: int, f: float) -> None:
        ctx, t, fs = self.ctx, self.ctx.theme, self.ctx.fs
        ax = self.ax_rank
        ax.set_xscale("log")
        ax.set_xlim(1, max(n, 2))
        ticks = [10**e for e in range(0, len(str(max(n, 2))))]
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{v:,}" for v in ticks])
        ax.xaxis.set_minor_formatter("")
        ax.set_ylim(0, max(float(ctx.scene.norm_max), 1.05))
        ax.axhline(large.HALF, color=t["faint"], lw=0.8, ls="--")
        ax.tick_params(labelsize=fs * 0.7 * f / 0.85)
        xlabel = ctx.scene.summary_xlabels[self.k] if ctx.scene.summary_xlabels else large.RANK_LABEL
        ax.set_xlabel(xlabel, fontsize=fs * 0.75 * f / 0.85, color=t["muted"],
                      labelpad=1)
        ax.set_ylabel("‖W_i‖", fontsize=fs * 0.8 * f / 0.85, color=t["muted"], labelpad=1)
        for sp in ("top", "right"):
            ax.spines[sp].set_visible(False)
        x = np.sqrt(self.edges[:-1] + 1.0) * np.sqrt(self.edges[1:].astype(np.float64))  # geometric bin centres
        accent = t.get("accent", "#1f77b4")
        self.band = [ax.plot(x, np.zeros_like(x), color=accent, lw=0.6, alpha=0.45)[0] for _ in range(2)]
        self.median = ax.plot(x, np.zeros_like(x), color=accent, lw=1.6)[0]
        ctx.animate(*self.band, self.median)

    def _hist_axes(self, ax: Axes, xlabel: str, f: float):
        from matplotlib.collections import PolyCollection

        t, fs = self.ctx.theme, self.ctx.fs
        ax.set_xlim(0, 1)
        ax.set_xticks((0.0, 0.5, 1.0) if self.small else (0.0, 0.25, 0.5, 0.75, 1.0))
        ax.set_yscale("function", functions=(np.sqrt, np.square))
        ax.set_ylim(0, 1)
        ax.set_yticks(FRACTION_TICKS if not self.small else (0.0, 0.1, 0.5, 1.0))
        ax.set_yticklabels([f"{v:g}" for v in (FRACTION_TICKS if not self.small else (0.0, 0.1, 0.5, 1.0))])
        ax.tick_params(labelsize=fs * 0.65 * f / 0.85)
        label = ax.set_xlabel(xlabel, fontsize=fs * 0.75 * f / 0.85, color=t["muted"], labelpad=1)
        self.ctx.fit_width(label, ax.bbox.width + 1.2 * fs * self.ctx.pt)  # never into the neighbour's label
        ax.set_ylabel("fraction", fontsize=fs * 0.7 * f / 0.85, color=t["muted"], labelpad=1)
        for sp in ("top", "right"):
            ax.spines[sp].set_visible(False)
        bars = PolyCollection([np.zeros((4, 2))] * large.HIST_BINS, facecolors=t.get("accent", "#1f77b4"),
                              edgecolors="none")
        ax.add_collection(bars)
        self.ctx.animate(bars)
        return bars

    def update(self, frame: Frame) -> None:
        if self._held is not None and self._held[0] == frame.step:  # the same snapshot again: no recomputing
            s, row = self._held[1], self._held[2]
        else:
            s = large.feature_summary(np.asarray(frame.W[self.k], dtype=np.float64))
            row = large.summary_row(s, self.order, self.edges)
            self._held = (frame.step, s, row)
        W = frame.W[self.k]
        self.last = row
        lo, med, hi = row["rank"]
        self.band[0].set_ydata(lo)
        self.band[1].set_ydata(hi)
        self.median.set_ydata(med)
        n_rep = int(round(s.represented * len(s.norms)))
        for bars, counts, total in ((self.bars[0], row["dims_hist"], len(s.norms)),
                                    (self.bars[1], row["overlap_hist"], max(n_rep, 1))):
            frac = counts / total
            e = np.linspace(0, 1, len(frac) + 1)
            a, b, z = e[:-1] + 0.1 / len(frac), e[1:] - 0.1 / len(frac), np.zeros_like(frac)
            set_verts(bars, np.stack([np.stack([a, z], 1), np.stack([a, frac], 1), np.stack([b, frac], 1),
                                      np.stack([b, z], 1)], 1))
        m = W.shape[0]
        kappa = large.welch_bound(n_rep, m)
        self.welch.set_xdata([kappa, kappa])
        self.welch.set_visible(kappa > 0)
        self.text.set_text(self._line(s.represented, n_rep, len(s.norms), s.total_dims, m, s.mean_overlap,
                                      s.mean_sq_overlap, s.overlap_sampled))

    def _line(self, phi: float, n_rep: int, n: int, dims: float, m: int, over: float, sq: float, sampled: int = 0) -> str:
        """The numbers' line: φ½, Σ D_i, the mean max overlap (of ``sampled`` represented features when
        not all: :func:`animsup.analysis.large.overlap_rows`) and the mean squared overlap against 1/m."""
        sep = "\n" if self.small else "   "
        of = f" ({sampled:,} sampled)" if sampled else ""
        return (f"φ½ {phi:.2f} ({n_rep:,} of {n:,} with ‖W_i‖ > ½){sep}Σ D_i {dims:.1f} of m = {m}\n"
                f"mean max overlap{of} {over:.2f}, mean (Ŵ_i·Ŵ_j)² {sq:.3g} (1/m = {1 / m:.3g})")

    def boxes(self) -> list[Bbox]:
        return [a.bbox for a in self.axes] + [self.text.get_window_extent(self.ctx.renderer())]

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        dirty.append(self.ctx.buffer_rect(self.text.get_window_extent(self.ctx.renderer()), 4))
