"""The heatmap view (n_hidden >= 3): WᵀW as cells, the bias column beside it, per-feature norms as
bars; the bias cells of the plane view (:class:`Cells`); the colour scales a grid of heatmaps
shares (:func:`grid_scales`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from animsup import models
from animsup.rendering.draw.pooling import pool_max_abs
from animsup.rendering.draw.context import BufferRect, DrawContext, PixelBox, set_verts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize
    from matplotlib.transforms import Bbox

    from animsup.rendering.frames import Frame


def _lut(ctx: DrawContext) -> np.ndarray:
    """The theme's diverging colormap as 256 RGB rows (uint8, shape: [256, 3])."""
    lut = ctx.colormap(ctx.theme["heat"])(np.linspace(0, 1, 256))[:, :3] * 255
    return np.round(lut).astype(np.uint8)


def _signed(r: float) -> list[str]:
    """Tick labels of a symmetric colour scale: −r, 0, +r."""
    return [f"{v:+.2g}".replace("-", "\u2212") if v else "0" for v in (-r, 0.0, r)]


class Cells:
    """A column of ``n`` cells (one per feature, feature 0 at the top) filling an axes, coloured on a
    fixed range with the theme's diverging map, painted with numpy (values set per frame)."""

    def __init__(self, ctx: DrawContext, ax: Axes, n: int, vrange: tuple[float, float]):
        self.ctx, self.ax, self.n = ctx, ax, n
        self.lo, self.hi = float(vrange[0]), float(vrange[1])
        self.lut = _lut(ctx)
        self.values = np.zeros(n)
        self._map: tuple[int, int, int, int, np.ndarray] | None = None

    def paint(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        if self._map is None:
            H, bb = self.ctx.height, self.ax.bbox
            r0, r1, c0, c1 = self.ctx.axes_rows(self.ax)
            rows = np.clip(((np.arange(r0, r1) + 0.5 - (H - bb.y1)) / bb.height * self.n).astype(int), 0, self.n - 1)
            self._map = (r0, r1, c0, c1, rows)
        r0, r1, c0, c1, rows = self._map
        x = (np.asarray(self.values, dtype=np.float64) - self.lo) / (self.hi - self.lo)
        rgb = self.lut[np.clip((x * 256).astype(np.int64), 0, 255)]
        buf[r0:r1, c0:c1, :3] = rgb[rows][:, None, :]
        dirty.append((r0, r1, c0, c1))


def grid_scales(ctx: DrawContext, x: float, top: float, width: float) -> list[Axes]:
    """A grid of heatmaps: the colour scales its panels share (the WᵀW cells, the bias columns), as
    two small horizontal colour bars with ticks at -r, 0 and +r, left to right from ``x`` under ``top``
    (display pixels). Returns their axes."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    s, t, fs, pt = ctx.scene, ctx.theme, ctx.fs, ctx.pt
    bar_h, name_w, gap = 0.55 * fs * pt, 5.5 * fs * pt, 2.5 * fs * pt
    bar_w = max(min((width - 2 * name_w - gap) / 2, 14 * fs * pt), 1.0)
    name = models.get(s.model).gram_label
    axes = []
    cx = x + name_w
    for label, r in ((name, s.gram_max), ("bias b", s.b_range[1])):
        cax = ctx.fig.add_axes(ctx.px(cx, top - bar_h, bar_w, bar_h))
        cb = ctx.fig.colorbar(ScalarMappable(Normalize(-r, r), t["heat"]), cax=cax, orientation="horizontal")
        cb.outline.set_visible(False)
        cb.set_ticks([-r, 0.0, r])
        cb.set_ticklabels(_signed(r))
        cax.tick_params(labelsize=fs * 0.7, length=2, pad=1, colors=t["muted"])
        cax.text(-1.6 * fs * pt / max(bar_w, 1.0), 0.5, label, transform=cax.transAxes, ha="right", va="center",
                 fontsize=fs * 0.75, color=t["muted"])
        axes.append(cax)
        cx += bar_w + gap + name_w
    return axes


class _Layout(NamedTuple):
    """Where the heatmap view's pieces go (display pixels)."""

    xs: float  # left of the heatmap
    ys: float  # bottom of the heatmap
    side: float  # the heatmap's side
    gap: float
    col_w: float  # the bias column's width
    norms_w: float  # the norm bars' width (0: none)
    total: float  # heatmap + bias column + norm bars
    block: int  # features per cell


class GramView:
    """n_hidden >= 3: WᵀW heatmap, the bias column beside it, per-feature norms as bars.

    The heatmap and the bias column are painted with numpy (a colour lookup table and a
    precomputed pixel -> cell map; matplotlib's image resampling cost ~13 ms a frame at n=200).
    When a feature would get fewer than :data:`MIN_CELL_PX` pixels, cells aggregate b x b blocks
    of features and show the entry of largest magnitude (sign kept; max-pooling), the bias and
    the norms likewise per block of b features, and the title says so: no feature disappears.
    """

    MIN_CELL_PX = 3.0

    def __init__(self, ctx: DrawContext, box: PixelBox, k: int, *, colorbar: bool, label_text: str | None):
        from matplotlib.colors import Normalize

        s = ctx.scene
        self.ctx, self.k = ctx, k
        self.n = s.n_features
        self.small = not colorbar
        lay = self._layout(box, colorbar=colorbar, label_text=label_text)
        self.block = lay.block
        self.gram_norm = Normalize(-s.gram_max, s.gram_max)
        self.b_norm = Normalize(*s.b_range)
        # the colour ranges as the norms hold them (floats)
        self.gram_range = (-float(s.gram_max), float(s.gram_max))
        self.b_range = (float(s.b_range[0]), float(s.b_range[1]))
        self.lut = _lut(ctx)
        self.ax = self._heat_axes(lay, box, label_text)
        self.bax = self._bias_axes(lay)
        self.axes = [self.ax, self.bax]
        self.bars: PolyCollection | None = None
        if lay.norms_w:
            self._norm_bars(lay)
        if colorbar:
            self._colorbars(lay)
        self._maps: tuple[tuple[int, int, int, int, np.ndarray, np.ndarray],
                          tuple[int, int, int, int, np.ndarray]] | None = None  # pixel -> cell, at the first frame
        self._gram = np.zeros((1, 1))
        self._b = np.zeros(1)

    def _layout(self, box: PixelBox, *, colorbar: bool, label_text: str | None) -> _Layout:
        """Heatmap square (side) + gap + bias column (a cell wide, at least colmin px) + 3 gaps + norm
        bars (0.32 side): side solved so that the whole row fits the box's width."""
        fs, pt, n, small = self.ctx.fs, self.ctx.pt, self.n, self.small
        x0, y0, bw, bh = box
        head_room = (1.8 * fs * pt) if label_text else 2.0 * fs * pt
        gap = (0.3 if small else 0.6) * fs * pt
        cb_room = 6.5 * fs * pt if colorbar else 0
        colmin = 8 if small else 12
        room = bw - cb_room - (0.14 * bw if small else 0)  # grid panels: a margin between neighbours

        def fit(with_norms: bool) -> float:
            extra, k = (4 * gap, 1.32) if with_norms else (gap, 1.0)
            wide = (room - extra) / (k + 1.0 / n)  # the bias column as wide as a cell
            return wide if wide / n >= colmin else (room - extra - colmin) / k

        side = fit(True)
        with_norms = min(side, bh - head_room) >= 40
        if not with_norms:
            side = fit(False)
        side = max(min(bh - head_room, side), 8.0)
        block = max(1, int(math.ceil(n * self.MIN_CELL_PX / side)))  # features per cell
        nb = -(-n // block)
        col_w = max(side / nb, colmin)
        norms_w = 0.32 * side if with_norms else 0.0  # grid panels keep their norm bars (without ticks)
        total = side + gap + col_w + (gap * 3 + norms_w if norms_w else 0)
        xs = x0 + (bw - total - cb_room) / 2
        ys = y0 + (bh - head_room - side) / 2
        return _Layout(xs, ys, side, gap, col_w, norms_w, total, block)

    def _heat_axes(self, lay: _Layout, box: PixelBox, label_text: str | None) -> Axes:
        ctx, n, fs, small = self.ctx, self.n, self.ctx.fs, self.small
        ax = ctx.fig.add_axes(ctx.px(lay.xs, lay.ys, lay.side, lay.side))
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.tick_params(labelsize=fs * 0.7)
        if small:
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            from matplotlib.ticker import MaxNLocator

            room = max(2, int(lay.side / (3.2 * fs * ctx.pt)))
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(nbins=room, integer=True))
        pooled = f" (max |·| over {self.block}×{self.block} features)" if self.block > 1 else ""
        if label_text:
            ctx.fit_title(ax, label_text, box, fontsize=fs * (0.8 if small else 0.9), color=ctx.instance_color(self.k),
                          pad=3)
        else:
            name = models.get(ctx.scene.model).gram_label
            ctx.fit_title(ax, (name + pooled, name), (lay.xs, lay.ys, lay.side, lay.side), fontsize=fs * 0.9,
                          color=ctx.theme["muted"], pad=3)
        return ax

    def _bias_axes(self, lay: _Layout) -> Axes:
        ctx = self.ctx
        bax = ctx.fig.add_axes(ctx.px(lay.xs + lay.side + lay.gap, lay.ys, lay.col_w, lay.side))
        bax.set_xticks([])
        bax.set_yticks([])
        if not self.small:
            bax.set_title("b", fontsize=ctx.fs * 0.85, color=ctx.theme["muted"], pad=3)
        return bax

    def _norm_bars(self, lay: _Layout) -> None:
        from matplotlib.collections import PolyCollection

        ctx, n, fs = self.ctx, self.n, self.ctx.fs
        nax = ctx.fig.add_axes(ctx.px(lay.xs + lay.side + lay.gap * 4 + lay.col_w, lay.ys, lay.norms_w, lay.side))
        nax.set_ylim(n - 0.5, -0.5)
        nax.set_xlim(0, ctx.scene.norm_max)
        nax.set_yticks([])
        nax.tick_params(labelsize=fs * 0.7)
        for sp in ("top", "right"):
            nax.spines[sp].set_visible(False)
        if self.small:
            nax.set_xticks([])
        else:
            nax.set_title("‖W_i‖" + (" (max)" if self.block > 1 else ""), fontsize=fs * 0.85,
                          color=ctx.theme["muted"], pad=3)
        first = np.arange(0, n, self.block)  # each bar: a block of features, coloured as its first
        self.bars = PolyCollection([np.zeros((4, 2))] * len(first), facecolors=ctx.colors[first], edgecolors="none")
        nax.add_collection(self.bars)
        ctx.animate(self.bars)
        self.axes.append(nax)

    def _colorbars(self, lay: _Layout) -> None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.ticker import MaxNLocator

        ctx, fs, pt, t = self.ctx, self.ctx.fs, self.ctx.pt, self.ctx.theme
        cx = lay.xs + lay.total + 1.4 * fs * pt
        side, ys = lay.side, lay.ys
        scales: tuple[tuple[Normalize, float, str], ...] = (
            (self.gram_norm, ys + side * 0.55, models.get(ctx.scene.model).gram_label),
            (self.b_norm, ys + side * 0.05, "bias b"))
        for norm, y, label in scales:
            cax = ctx.fig.add_axes(ctx.px(cx, y, 0.9 * fs * pt, side * 0.4))
            cb = ctx.fig.colorbar(ScalarMappable(norm, t["heat"]), cax=cax)
            cb.outline.set_visible(False)
            cb.ax.tick_params(labelsize=fs * 0.7)
            cb.locator = MaxNLocator(4)
            cb.update_ticks()
            cb.set_label(label, fontsize=fs * 0.75, color=t["muted"])

    def _pool(self, v: np.ndarray) -> np.ndarray:
        """Blocks of ``block`` features along each axis of ``v`` ([n] or [n, n]) -> the entry of
        largest magnitude in each block (sign kept)."""
        if self.block == 1:
            return v
        return pool_max_abs(v, self.block, square=v.ndim == 2)[0]

    def _cells(self, ax: Axes) -> tuple[int, int, int, int, np.ndarray, np.ndarray]:
        """(rows, cols) slices of the buffer and the fraction of the axes at each pixel row and column."""
        H, bb = self.ctx.height, ax.bbox
        r0, r1, c0, c1 = self.ctx.axes_rows(ax)
        fr_ = (np.arange(r0, r1) + 0.5 - (H - bb.y1)) / bb.height
        fc = (np.arange(c0, c1) + 0.5 - bb.x0) / bb.width
        return r0, r1, c0, c1, fr_, fc

    def _colour(self, v: np.ndarray, vrange: tuple[float, float]) -> np.ndarray:
        lo, hi = vrange
        x = (np.asarray(v, dtype=np.float64) - lo) / (hi - lo)
        return self.lut[np.clip((x * 256).astype(np.int64), 0, 255)]

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        if self._maps is None:
            r0, r1, c0, c1, fr_, fc = self._cells(self.ax)
            rows = np.clip((fr_ * self.n).astype(int), 0, self.n - 1) // self.block
            cols = np.clip((fc * self.n).astype(int), 0, self.n - 1) // self.block
            br0, br1, bc0, bc1, bfr, _ = self._cells(self.bax)
            brows = np.clip((bfr * self.n).astype(int), 0, self.n - 1) // self.block
            self._maps = ((r0, r1, c0, c1, rows, cols), (br0, br1, bc0, bc1, brows))
        (r0, r1, c0, c1, rows, cols), (br0, br1, bc0, bc1, brows) = self._maps
        rgb = self._colour(self._gram, self.gram_range)
        buf[r0:r1, c0:c1, :3] = rgb[rows][:, cols]
        dirty.append((r0, r1, c0, c1))
        brgb = self._colour(self._b, self.b_range)
        buf[br0:br1, bc0:bc1, :3] = brgb[brows][:, None, :]
        dirty.append((br0, br1, bc0, bc1))

    def boxes(self) -> list[Bbox]:
        return [a.bbox for a in self.axes]

    def update(self, frame: Frame) -> None:
        k = self.k
        W = frame.W[k].astype(np.float64)
        dec = frame.W_dec[k].astype(np.float64) if frame.W_dec is not None else W
        self._gram = self._pool(dec.T @ W)
        self._b = self._pool(frame.b[k].astype(np.float64))
        if self.bars is not None:
            norms = np.sqrt((W * W).sum(0))
            if self.block > 1:
                norms = self._pool(norms)  # norms are >= 0: the largest of each block
            b = self.block
            y = np.arange(len(norms)) * b + (b - 1) / 2
            half = 0.4 * b
            z = np.zeros_like(norms)
            set_verts(self.bars, np.stack([np.stack([z, y - half], 1), np.stack([norms, y - half], 1),
                                           np.stack([norms, y + half], 1), np.stack([z, y + half], 1)], 1))
