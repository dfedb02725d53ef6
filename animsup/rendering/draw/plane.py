"""The plane view: the hidden plane (n_hidden = 2) or line (n_hidden = 1) of one instance.

Each feature's column W_i is an arrow from the origin with a dot at its tip, coloured by
importance; labels are placed greedily so they never overlap (a label that cannot be placed is
dropped; :mod:`animsup.rendering.draw.labels`); features with a near-zero norm become a quiet
cluster at the origin with one count label; a faint outline joins the represented features in
angular order. Untied models add the decoder rows as dashed arrows with hollow tips; an SAE file
adds the SAE's decoder directions (:mod:`animsup.rendering.draw.sae`), a finite-data run its training
examples' hidden vectors (:mod:`animsup.rendering.draw.datapoints`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from animsup import models
from animsup.rendering.draw import datapoints as data_dots, sae as sae_arrows
from animsup.rendering.draw.context import BufferRect, DrawContext, PixelBox, color_list, set_segments, set_verts
from animsup.rendering.draw.heatmap import Cells
from animsup.rendering.draw.labels import PlaneLabels
from animsup.rendering.draw.text import Sprites
from animsup.rendering.draw.theme import rgb255
from animsup.rendering.draw.ticks import tick_units
from animsup.rendering.frames import QUIET_FRACTION

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection, PathCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.transforms import Bbox

    from animsup.rendering.frames import Frame

#: a regular polygon marker: (sides, style 0 = filled polygon, angle)
Marker = tuple[int, Literal[0, 1, 2], int]
# dots as a 24-sided polygon: looks round at these sizes, and matplotlib's per-draw
# extent check of a circle marker (Bezier extrema) cost ~1-4 ms a frame
DOT: Marker = (24, 0, 0)


class PlaneView(PlaneLabels):
    """The hidden plane (n_hidden = 2) or line (n_hidden = 1) of one instance."""

    #: more features than this away from the origin: only the most important are drawn in full and labelled
    CROWDED = 40

    def __init__(self, ctx: DrawContext, box: PixelBox, k: int, *, labels: bool | Literal["few"], colorbar: bool,
                 label_text: str | None):
        s = ctx.scene
        self.ctx, self.k = ctx, k
        self.line = s.n_hidden == 1
        self.untied = models.get(s.model).has_decoder
        self.n = s.n_features
        self.colors = ctx.colors
        # the importance colourbar, then the bias column (left out when the frame is too small for it)
        self.bias_column = colorbar and box[2] - 8.6 * ctx.fs * ctx.pt >= 0.6 * box[2]
        cb_w = (8.6 if self.bias_column else 4.5) * ctx.fs * ctx.pt if colorbar else 0
        rect = self._rect(box, cb_w, label_text)
        self.small = rect[2] < 260
        self.ax = self._axes(rect, box, label_text)
        self._artists()
        if self.untied:
            self._decoder_artists()
        self.data = data_dots.attach(self)  # a finite-data run's training examples h = W x, or None
        self._init_labels(labels, rect, label_text)
        ctx.animate(*self.dynamic)
        # an SAE's decoder directions (animsup sae's file), or None; animated after W's arrows, so
        # drawn over them (the moving artists draw in the order animated, whatever their zorder)
        self.sae = sae_arrows.attach(self)
        if self.data is not None:
            self.data.on_top()
        self._dec_points: np.ndarray | None = None
        self._affine: np.ndarray | None = None  # data -> pixels, taken at the first frame (after the layout)
        self._quiet_px = np.zeros((0, 2))
        self._quiet_rgb = np.zeros((0, 3))
        self.shape_text = ""
        self._shape_key: bytes | None = None
        self.b_cells: Cells | None = None
        if colorbar:
            self._colorbar(rect)
        if self.bias_column:
            self.b_cells = self._bias_column(rect)

    # ------------------------------------------------------------------ layout

    def _rect(self, box: PixelBox, cb_w: float, label_text: str | None) -> PixelBox:
        """The axes in pixels: a square (a flat band for the line) centred left of the colour bars."""
        x0, y0, bw, bh = box
        head_room = (1.8 * self.ctx.fs * self.ctx.pt) if label_text else 0
        side = max(min(bw - cb_w, bh - head_room), 8.0)
        if self.line:
            ah = min(side * 0.55, bh - head_room)
            return (x0 + (bw - cb_w - side) / 2, y0 + (bh - head_room - ah) / 2, side, ah)
        return (x0 + (bw - cb_w - side) / 2, y0 + (bh - head_room - side) / 2, side, side)

    def _axes(self, rect: PixelBox, box: PixelBox, label_text: str | None) -> Axes:
        """The axes with their fixed limits, guides, ticks and title or axis labels."""
        ctx, t, fs, L = self.ctx, self.ctx.theme, self.ctx.fs, self.ctx.scene.lim
        ax = ctx.fig.add_axes(ctx.px(*rect))
        ax.set_xlim(-L, L)
        if self.line:
            ax.set_ylim(-0.55 * L, 0.55 * L)
            ax.set_yticks([])
            ax.axhline(0, color=t["faint"], lw=1.0, zorder=0)
        else:
            ax.set_ylim(-L, L)
            ax.set_aspect("equal", adjustable="box")
            ax.axhline(0, color=t["grid"], lw=0.8, zorder=0)
            ax.axvline(0, color=t["grid"], lw=0.8, zorder=0)
            if L > 0.9:  # unit circle for scale (norm 1)
                th = np.linspace(0, 2 * np.pi, 200)
                ax.plot(np.cos(th), np.sin(th), color=t["grid"], lw=0.8, ls=(0, (3, 3)), zorder=0)
        ax.tick_params(labelsize=fs * (0.7 if self.small else 0.8))
        unit = tick_units(ax, L)
        if self.small or label_text:
            ax.set_xticks([])
            ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_color(t["faint"])
        if label_text:
            ctx.fit_title(ax, label_text, box, fontsize=fs * (0.8 if self.small else 0.9),
                          color=ctx.instance_color(self.k), pad=2)
        elif not self.line:
            ax.set_xlabel("hidden dim 1" + unit, fontsize=fs * 0.8, color=t["muted"])
            ax.set_ylabel("hidden dim 2" + unit, fontsize=fs * 0.8, color=t["muted"], labelpad=2)
        else:
            ax.set_xlabel("hidden dim 1 (n_hidden = 1)" + unit, fontsize=fs * 0.8, color=t["muted"])
        return ax

    def _artists(self) -> None:
        """The moving artists of the encoder: outline, shafts, arrowheads, tip dots."""
        from matplotlib.collections import LineCollection, PolyCollection

        ctx, t, ax, n, small = self.ctx, self.ctx.theme, self.ax, self.n, self.small
        self.lw = lw = 1.0 if small else 1.8
        self.head = 0.05 * ctx.scene.lim * (0.8 if small else 1.0)
        self.outline: Line2D = ax.plot([], [], color=t["outline"], lw=1.0, alpha=0.55, zorder=1, ls="-")[0]
        colors = color_list(self.colors)
        self.shafts: LineCollection = LineCollection([], colors=colors, linewidths=lw, zorder=3, capstyle="round")
        self.heads: PolyCollection = PolyCollection([], facecolors=colors, edgecolors="none", zorder=3)
        ax.add_collection(self.shafts)
        ax.add_collection(self.heads)
        self.dot_size = (ctx.fs * (0.55 if small else 0.75)) ** 2
        # many dots: 10-sided (Agg's cost grows with dots x sides; small dots look round anyway)
        marker: Marker = DOT if n <= 100 else (10, 0, 0)
        self.tips: PathCollection = ax.scatter(np.zeros(n), np.zeros(n), s=self.dot_size, c=self.colors, zorder=4,
                                               edgecolors=t["bg"], linewidths=0.6 if n <= 100 else 0.3, marker=marker)
        self.paint_quiet = n > 100
        self.dynamic = [self.outline, self.shafts, self.heads, self.tips]

    def _decoder_artists(self) -> None:
        """Untied models: the decoder rows as dashed arrows with hollow tips, and a legend."""
        from matplotlib.collections import LineCollection

        t, ax, n, lw, fs = self.ctx.theme, self.ax, self.n, self.lw, self.ctx.fs
        colors = color_list(self.colors)
        self.dec_shafts = LineCollection([], colors=colors, linewidths=lw * 0.8, zorder=2, linestyles=(0, (2.5, 2)))
        ax.add_collection(self.dec_shafts)
        self.dec_tips = ax.scatter(np.zeros(n), np.zeros(n), s=self.dot_size * 1.3, marker=DOT, facecolors="none",
                                   edgecolors=colors, linewidths=1.4, zorder=4)
        self.dynamic += [self.dec_shafts, self.dec_tips]
        if not self.small:
            from matplotlib.lines import Line2D

            handles = [
                Line2D([], [], color=t["fg"], lw=lw, marker="o", ms=fs * 0.6, label="encoder column W_enc[:, i]"),
                Line2D([], [], color=t["fg"], lw=lw * 0.8, ls=(0, (2.5, 2)), marker="o", mfc="none", ms=fs * 0.7,
                       label="decoder row W_dec[i, :]"),
            ]
            ax.legend(handles=handles, loc="lower left", fontsize=fs * 0.72, frameon=False, handlelength=2.2)

    def _init_labels(self, labels: bool | Literal["few"], rect: PixelBox, label_text: str | None) -> None:
        """Feature ids: True (every feature that fits), "few" (a grid panel: the GRID_LABELS longest
        columns that fit, in a smaller font, inside the panel) or False; the quiet-feature count."""
        ctx, fs, dpi, t = self.ctx, self.ctx.fs, self.ctx.scene.dpi, self.ctx.theme
        self.name_shape = not self.line and not label_text and ctx.scene.n_hidden == 2  # the single 2-D view
        if labels == "few" and rect[2] < self.GRID_LABEL_MIN_PX:
            labels = False
        self.labels_on = bool(labels)
        self.max_labels = self.GRID_LABELS if labels == "few" else None
        self.label_font = Sprites("DejaVu Sans", fs * (0.7 if self.max_labels else 0.85), dpi)
        self.quiet_font = Sprites("DejaVu Sans", fs * (0.7 if self.small else 0.8), dpi)
        self.fg_rgb, self.muted_rgb = rgb255(t["fg"]), rgb255(t["muted"])
        self.label_pos: list[tuple[np.ndarray, int, int]] = []  # (coverage, top-left x, top-left y), buffer pixels
        self.quiet_label = ""
        self.quiet_n = 0
        self.quiet_box: tuple[int, int, int, int] | None = None  # the count label in the last frame, buffer pixels
        self._quiet_obstacles = np.zeros((0, 2))
        self.label_h = self.label_font.height
        self.crowded = False
        self.top = np.zeros(self.n, bool)
        self._label_order = np.lexsort((np.arange(self.n), -ctx.scene.importance))
        self._label_key: tuple[bytes, bytes, bytes, bytes | None] | None = None
        self._label_cache: list[tuple[np.ndarray, int, int]] = []

    def _colorbar(self, rect: PixelBox) -> None:
        from matplotlib.cm import ScalarMappable

        ctx, s, t, fs = self.ctx, self.ctx.scene, self.ctx.theme, self.ctx.fs
        imp = s.importance
        x = rect[0] + rect[2] + 1.2 * fs * ctx.pt
        h = min(rect[3], 0.6 * rect[3] + 40)
        y = rect[1] + (rect[3] - h) / 2
        if np.ptp(imp) < 1e-12:
            ctx.fig.text(
                (x) / ctx.width, (y + h / 2) / ctx.height,
                f"importance\n= {imp[0]:g}\n(all features)" if s.importance_known else "importance\nunknown",
                fontsize=fs * 0.75, color=t["muted"], va="center",
            )
            return
        cax = ctx.fig.add_axes(ctx.px(x, y, 0.9 * fs * ctx.pt, h))
        cb = ctx.fig.colorbar(ScalarMappable(ctx.norm, ctx.cmap), cax=cax)
        cb.outline.set_visible(False)
        cb.ax.tick_params(labelsize=fs * 0.7, color=t["muted"])
        cb.set_label("importance", fontsize=fs * 0.8, color=t["muted"])

    def _bias_column(self, rect: PixelBox) -> Cells:
        """The bias b per feature as a narrow column of cells (feature 0 at the top, feature ids as
        ticks on its right) on a fixed symmetric colour range, and under it that range's colour
        scale with its ticks: there without ``--panels bias``."""
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        ctx, s, t, pt, fs, n = self.ctx, self.ctx.scene, self.ctx.theme, self.ctx.pt, self.ctx.fs, self.n
        x = rect[0] + rect[2] + 6.2 * fs * pt
        h = min(rect[3], 0.6 * rect[3] + 40)
        y = rect[1] + (rect[3] - h) / 2
        scale_h = max(0.22 * h, 5.0 * fs * pt)  # the colour scale, then a gap for the column's last tick
        col_h = h - scale_h - 2.2 * fs * pt
        self.bias_ax = bax = ctx.fig.add_axes(ctx.px(x, y + h - col_h, 0.9 * fs * pt, col_h))
        bax.set_xticks([])
        bax.set_ylim(n - 0.5, -0.5)
        bax.yaxis.tick_right()
        bax.set_yticks(sorted({0, n - 1}))
        bax.tick_params(labelsize=fs * 0.7, length=0, pad=2, colors=t["muted"])
        for sp in bax.spines.values():
            sp.set_visible(False)
        bax.set_title("b", fontsize=fs * 0.75, color=t["muted"], pad=0.5 * fs)
        cells = Cells(ctx, bax, n, s.b_range)
        # the colour scale of b: ticks at -r, 0, +r
        lo, hi = s.b_range
        self.bias_scale_ax = cax = ctx.fig.add_axes(ctx.px(x, y, 0.9 * fs * pt, scale_h))
        cb = ctx.fig.colorbar(ScalarMappable(Normalize(lo, hi), t["heat"]), cax=cax)
        cb.outline.set_visible(False)
        cb.set_ticks([lo, 0.0, hi])
        cb.set_ticklabels([f"{v:+.2g}".replace("-", "\u2212") if v else "0" for v in (lo, 0.0, hi)])
        cax.tick_params(labelsize=fs * 0.7, length=2, pad=1.5, colors=t["muted"])
        return cells

    # ------------------------------------------------------------------ per frame

    def _arrows(self, P: np.ndarray, show: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segments and arrowhead triangles for points P (shape: [n, 2])."""
        norm = np.hypot(P[:, 0], P[:, 1])
        u = np.divide(P, norm[:, None], out=np.zeros_like(P), where=norm[:, None] > 0)
        hl = np.minimum(self.head, 0.5 * norm)
        base = P - u * hl[:, None]
        perp = np.stack([-u[:, 1], u[:, 0]], 1) * (0.45 * hl)[:, None]
        segs = np.stack([np.zeros_like(P), base], 1)[show]
        tris = np.stack([P, base + perp, base - perp], 1)[show]
        return segs, tris

    def _points(self, W: np.ndarray) -> np.ndarray:
        """The plane's points of the columns of W (shape: [n_hidden, n]) -> (shape: [n, 2])."""
        return np.stack([W[0], np.zeros(self.n)], 1) if self.line else W[:2].T.copy()

    def update(self, frame: Frame) -> None:
        s, k = self.ctx.scene, self.k
        W = frame.W[k].astype(np.float64)
        P = self._points(W)
        norm = np.hypot(P[:, 0], P[:, 1])
        quiet = norm < QUIET_FRACTION * s.lim
        show = ~quiet
        n_show = int(show.sum())
        self._update_encoder(P, norm, show, quiet, n_show)
        if self.untied and frame.W_dec is not None:
            self._update_decoder(frame.W_dec[k].astype(np.float64))
        self._update_outline(P, norm)
        if self.sae is not None:
            self.sae.update(frame.step)
        if self.data is not None:
            self.data.update(frame.W[k])
        nq = int(quiet.sum())
        self.quiet_n = nq
        self.quiet_label = f"{nq} feature{'s' if nq != 1 else ''} ≈ 0 (at the origin)" if nq else ""
        if self.crowded:
            self.quiet_label += (" · " if nq else "") + f"labels: the {self.MAX_LABELS} largest of {n_show} shown (importance × ‖W_i‖²)"
        if nq or self.crowded:  # what the count label must not cover: the tips and points along the shafts, in buffer pixels
            live = P[show]
            pts = self._to_pixels(np.concatenate([live * f for f in np.linspace(0.25, 1.0, 8)]))
            self._quiet_obstacles = np.stack([pts[:, 0], self.ctx.height - pts[:, 1]], 1)
        self.label_pos = []
        if self.labels_on:
            self._place_labels(P, norm, quiet)
            if self.label_pos and (nq or self.crowded):  # the count label must not cover them either
                lp = [(x + dx * cov.shape[1], y + dy * cov.shape[0]) for cov, x, y in self.label_pos
                      for dx in (0, 0.5, 1) for dy in (0, 0.5, 1)]
                self._quiet_obstacles = np.concatenate([self._quiet_obstacles, np.array(lp, dtype=float)])
        if self.name_shape:
            self.shape_text = self._shape_name(W, norm)
        if self.b_cells is not None:
            self.b_cells.values = frame.b[k]

    def _update_encoder(self, P: np.ndarray, norm: np.ndarray, show: np.ndarray, quiet: np.ndarray, n_show: int) -> None:
        """Shafts, heads and tips. Crowded (many features away from the origin): the MAX_LABELS most
        important (then largest) are drawn in full and labelled; the rest are thin, headless and
        small, and the corner note says how many are labelled of how many shown."""
        s = self.ctx.scene
        self.crowded = n_show > self.CROWDED
        if self.crowded:
            rank = np.lexsort((np.arange(self.n), -(s.importance * norm * norm)))
            top = np.zeros(self.n, bool)
            top[rank[show[rank]][: self.MAX_LABELS]] = True
        else:
            top = show
        self.top = top
        segs, tris = self._arrows(P, top)
        if self.crowded:
            faint = show & ~top
            segs = np.concatenate([self._arrows(P, faint)[0], segs])
            cols = np.concatenate([self.colors[faint] * [1, 1, 1, 0.55], self.colors[top]])
            self.shafts.set_linewidth([self.lw * 0.45] * int(faint.sum()) + [self.lw] * int(top.sum()))
        else:
            cols = self.colors[show]
            self.shafts.set_linewidth(self.lw)
        set_segments(self.shafts, segs)
        self.shafts.set_color(color_list(cols))
        set_verts(self.heads, tris)
        self.heads.set_facecolor(color_list(self.colors[top]))
        sizes = np.where(quiet, self.dot_size * 0.35, np.where(top, self.dot_size, self.dot_size * 0.3))
        fc = self.colors.copy()
        fc[quiet, 3] = 0.45
        if self.paint_quiet:  # many features: the quiet ones are painted with numpy (paint_text)
            self.tips.set_offsets(P[show])
            self.tips.set_sizes(sizes[show])
            self.tips.set_facecolor(color_list(fc[show]))
            self._quiet_px = self._to_pixels(P[quiet])
            self._quiet_rgb = self.colors[quiet, :3] * 255
        else:
            self.tips.set_offsets(P)
            self.tips.set_sizes(sizes)
            self.tips.set_facecolor(color_list(fc))

    def _update_decoder(self, Wd: np.ndarray) -> None:
        """Untied: the decoder rows W_dec (shape: [n_hidden, n]) as dashed shafts and hollow tips."""
        Pd = self._points(Wd)
        nd = np.hypot(Pd[:, 0], Pd[:, 1])
        showd = nd >= QUIET_FRACTION * self.ctx.scene.lim
        set_segments(self.dec_shafts, np.stack([np.zeros_like(Pd), Pd], 1)[showd])
        self.dec_shafts.set_color(color_list(self.colors[showd]))
        self.dec_tips.set_offsets(Pd)
        self._dec_points = Pd[showd]
        self.dec_tips.set_edgecolor(color_list(np.where(showd[:, None], self.colors, self.colors * [1, 1, 1, 0.35])))

    def _update_outline(self, P: np.ndarray, norm: np.ndarray) -> None:
        """Faint outline of represented features in angular order (a polygon only while it can be read)."""
        rep = norm > 0.5
        if not self.line and 3 <= rep.sum() <= self.MAX_LABELS:
            ang = np.arctan2(P[rep, 1], P[rep, 0])
            order = np.argsort(ang)
            poly = P[rep][order]
            poly = np.vstack([poly, poly[:1]])
            self.outline.set_data(poly[:, 0], poly[:, 1])
            self.outline.set_visible(True)
        else:
            self.outline.set_visible(False)

    def _shape_name(self, W: np.ndarray, norm: np.ndarray) -> str:
        """The geometry's name for this frame, as ``animsup inspect`` gives it
        (:func:`animsup.analysis.geometry.describe`); above 100 features only the columns with norm > 0.1 are
        passed (the smaller ones neither make nor join a vertex) so it stays cheap."""
        from animsup.analysis import geometry

        key = np.round(W * (200.0 / self.ctx.scene.lim)).astype(np.int32).tobytes()  # 1% of the axis: same shape
        if key == self._shape_key:
            return self.shape_text
        self._shape_key = key
        if self.n > 100:
            keep = norm > 0.1
            if not keep.any():
                return "nothing"
            W = W[:, keep]
        return geometry.describe(W).label()

    def _to_pixels(self, P: np.ndarray) -> np.ndarray:
        """Data -> display pixels (origin bottom-left) with the axes' affine transform, taken
        once after the first layout (the limits never change; transData per call costs ~50 µs)."""
        if self._affine is None:
            self._affine = self.ax.transData.get_affine().get_matrix().copy()
        M = self._affine
        return P @ M[:2, :2].T + M[:2, 2]

    def boxes(self) -> list[Bbox]:
        return [self.ax.bbox] + ([self.bias_ax.bbox] if self.b_cells is not None else [])

    def _paint_quiet(self, buf: np.ndarray) -> None:
        """The quiet features as small faint squares (n > 100: ~1,000 scatter dots cost ~10 ms a
        frame in matplotlib). Inside the plane's axes, which are restored every frame."""
        xy = self._quiet_px
        if not len(xy):
            return
        side = max(2, int(round(1.6 * self.ctx.pt)))
        H, W = buf.shape[:2]
        c0 = np.round(xy[:, 0] - side / 2).astype(int)
        r0 = np.round(H - xy[:, 1] - side / 2).astype(int)
        a = 0.6
        for dy in range(side):
            for dx in range(side):
                r, c = r0 + dy, c0 + dx
                ok = (r >= 0) & (r < H) & (c >= 0) & (c < W)
                px = buf[r[ok], c[ok], :3].astype(np.float32)
                buf[r[ok], c[ok], :3] = (px * (1 - a) + self._quiet_rgb[ok] * a).astype(np.uint8)

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        if self.b_cells is not None:
            self.b_cells.paint(buf, dirty)
        if self.paint_quiet:
            self._paint_quiet(buf)
        for cov, x, y in self.label_pos:
            Sprites.blend(buf, cov, x, y, self.fg_rgb, dirty)
        if self.quiet_n:
            self._paint_quiet_label(buf, dirty)
