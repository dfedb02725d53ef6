"""The compositor: :class:`FrameDrawer` lays out the parts of a frame and draws them.

Everything that never changes (axes, ticks, the whole loss curve, colourbars, the title) is drawn
once into a cached background; each frame restores the background only in the rectangles the
previous frame drew in (the parts' boxes, the cursor strip, text boxes), draws the moving artists
over it (blitting), lets every part paint with numpy, then hands out the canvas's RGBA buffer.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

from animsup.analysis import large
from animsup.rendering.draw.context import BufferRect, DrawContext, Part, PixelBox, rc_params
from animsup.rendering.draw.heatmap import GramView, grid_scales
from animsup.rendering.draw.loss import LossPart
from animsup.rendering.draw.plane import PlaneView
from animsup.rendering.draw.summary import SummaryView
from animsup.rendering.draw.theme import THEMES
from animsup.rendering.frames import Frame, Scene

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from animsup.rendering.draw.theme import Theme
    from animsup.rendering.panels.base import Panel


class Caption:
    """The event caption at the bottom of the frame (a moving artist; its box is taken per frame)."""

    def __init__(self, ctx: DrawContext, height_px: float):
        t = ctx.theme
        self.ctx = ctx
        self.text = ctx.fig.text(0.5, 0.5 * height_px / ctx.height, "", ha="center", va="center",
                                 fontsize=ctx.fs * 1.05, color=t["fg"],
                                 bbox=dict(boxstyle="round,pad=0.35", fc=t["caption_bg"], ec="none"))
        self.text.set_visible(False)
        ctx.animate(self.text)

    def update(self, frame: Frame) -> None:
        if frame.caption:
            self.text.set_text(frame.caption)
            self.text.set_visible(True)
        else:
            self.text.set_visible(False)

    def boxes(self) -> list[Bbox]:
        return []

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        patch = self.text.get_bbox_patch()
        if self.text.get_visible() and patch is not None:
            dirty.append(self.ctx.buffer_rect(patch.get_window_extent(), 4))


class FrameDrawer:
    """Draws frames of one scene. ``draw(frame)`` returns an (H, W, 4) uint8 view of the
    canvas, valid until the next call (copy it if you keep it).

    :ivar ctx: the :class:`animsup.rendering.draw.context.DrawContext` the parts draw with
    :ivar views: the main views, one per shown instance (:class:`PlaneView` or :class:`GramView`)
    :ivar panels: the extra panels (:mod:`animsup.rendering.panels`), top to bottom
    :ivar loss: the loss panel (:class:`animsup.rendering.draw.loss.LossPart`)
    """

    def __init__(self, scene: Scene):
        import matplotlib

        with matplotlib.rc_context(rc_params(THEMES[scene.theme], scene.size)):
            self.ctx = ctx = DrawContext(scene)
            self._layout()
            for a in ctx.dynamic:
                a.set_animated(True)
            ctx.canvas.draw()
        buf = np.asarray(ctx.canvas.buffer_rgba())
        if buf.shape[:2] != (ctx.height, ctx.width):
            raise RuntimeError(f"canvas is {buf.shape[1]}x{buf.shape[0]}, expected {ctx.width}x{ctx.height}")
        # the static background; each frame restores only the rectangles the last frame drew in
        self._bg = buf.copy()
        self._static_rects = [ctx.buffer_rect(bb, 4) for part in self.parts for bb in part.boxes()]
        self._dirty: list[BufferRect] = []

    # the context's members, for callers that held the drawer as the context
    @property
    def scene(self) -> Scene:
        return self.ctx.scene

    @property
    def theme(self) -> Theme:
        return self.ctx.theme

    @property
    def fig(self) -> Figure:
        return self.ctx.fig

    @property
    def canvas(self) -> FigureCanvasAgg:
        return self.ctx.canvas

    @property
    def colors(self) -> np.ndarray:
        return self.ctx.colors

    @property
    def width(self) -> int:
        return self.ctx.width

    @property
    def height(self) -> int:
        return self.ctx.height

    @property
    def parts(self) -> list[Part]:
        """Everything updated and painted per frame, in order: the main views (one per instance),
        the panels, the loss panel, the caption."""
        return [*self.views, *self.panels, self.loss, self.caption]

    # ------------------------------------------------------------------ layout

    def _layout(self) -> None:
        """The title on top; the left column: the main view(s); the right column: the loss panel,
        then the extra panels (:mod:`animsup.rendering.panels`) under it; the caption at the bottom."""
        ctx = self.ctx
        s, W, H, fs, pt = ctx.scene, ctx.width, ctx.height, ctx.fs, ctx.pt
        title_h = 2.6 * fs * pt
        title = ctx.fig.text(0.5, 1 - 0.55 * title_h / H, s.title, ha="center", va="center", fontsize=fs * 1.05,
                             color=ctx.theme["fg"])
        ctx.fit_width(title, 0.97 * W)
        top = H - title_h - 0.6 * fs * pt
        caption_h = 2.6 * fs * pt if s.events else 0.0
        bottom = 3.2 * fs * pt + caption_h
        left_w = 0.56 * W
        loss_rect = self._layout_panels(left_w + 5.5 * fs * pt, bottom, top)
        self.loss = LossPart(ctx, loss_rect, self._shape_text)
        lm = 4.2 * fs * pt  # room for tick labels
        box = (lm, bottom, left_w - lm, top - bottom)
        self.grid_scale_axes: list[Axes] = []
        if s.grid:
            self._layout_grid(box)
        else:
            self.views = [self._view(box, 0, labels=True, colorbar=True)]
        self.caption = Caption(ctx, max(caption_h, 2.6 * fs * pt))

    def _layout_panels(self, rx: float, bottom: float, top: float) -> tuple[float, float, float, float]:
        """The extra panels, bottom up from ``bottom``, at ``rx`` (pixels); returns the loss panel's rect."""
        from animsup.rendering.panels import load_panel

        ctx, fs, pt = self.ctx, self.ctx.fs, self.ctx.pt
        rw = ctx.width - rx - 1.6 * fs * pt
        classes = [load_panel(name) for name in ctx.scene.panels]
        gap = 4.8 * fs * pt  # the loss panel's tick labels and x label, then the panel's title
        avail = top - bottom - 1.5 * fs * pt - gap * len(classes)
        unit = avail / (1.0 + sum(c.height for c in classes))
        y = bottom
        self.panels: list[Panel] = []
        for cls in reversed(classes):
            h = unit * cls.height
            self.panels.insert(0, cls(ctx, ctx.px(rx, y, rw, h)))
            if y == bottom and cls.step_axis:  # the column's bottom axis: named as the loss panel's
                self.panels[0].ax.set_xlabel(self.loss_xlabel(), fontsize=fs * 0.9, color=ctx.theme["muted"])
            y += h + gap
        return ctx.px(rx, y, rw, top - 1.5 * fs * pt - y)

    def loss_xlabel(self) -> str:
        """The training step axis's label (the loss panel's)."""
        return "training step" + (" (log scale)" if self.ctx.scene.loss_xscale == "symlog" else "")

    def _view(self, box: PixelBox, k: int, *, labels: bool | Literal["few"], colorbar: bool,
              label_text: str | None = None) -> PlaneView | GramView | SummaryView:
        if self.ctx.scene.summary:  # a large model (animsup.rendering.draw.summary)
            return SummaryView(self.ctx, box, k, small=not colorbar, label_text=label_text)
        if self.ctx.scene.n_hidden >= 3:
            return GramView(self.ctx, box, k, colorbar=colorbar, label_text=label_text)
        return PlaneView(self.ctx, box, k, labels=labels, colorbar=colorbar, label_text=label_text)

    def _layout_grid(self, box: PixelBox) -> None:
        """Every instance in a small panel (rows x cols maximising the panel size), a note under them."""
        ctx = self.ctx
        s, fs, pt = ctx.scene, ctx.fs, ctx.pt
        x0, y0, bw, bh = box
        if s.n_hidden >= 3 and not s.summary:  # room under the note for the shared colour scales (grid_scales)
            y0, bh = y0 + 2.4 * fs * pt, bh - 2.4 * fs * pt
        K = len(s.instances)
        side, rows, cols = max(((min(bw / c, bh / math.ceil(K / c)), math.ceil(K / c), c) for c in range(1, K + 1)),
                               key=lambda best: best[0])
        if s.summary:  # charts, not a square plane: cells fill the box (animsup.rendering.draw.summary)
            self._layout_summary_grid(box, K)
            return
        self.views = []
        gx = x0 + (bw - cols * side) / 2
        gy = y0 + (bh - rows * side) / 2
        big = side > 260
        for k in range(K):
            r, c = divmod(k, cols)
            cell = (gx + c * side, gy + (rows - 1 - r) * side, side, side)
            self.views.append(self._view(cell, k, labels=True if big else "few", colorbar=False,
                                         label_text=s.instance_labels[k]))
        note = ctx.fig.text(x0 / ctx.width, (y0 - 0.4 * fs * s.dpi / 72) / ctx.height, self._grid_note(big),
                            fontsize=fs * 0.75, color=ctx.theme["muted"], va="top", linespacing=1.3)
        ctx.fit_width(note, bw)
        if s.n_hidden >= 3 and not s.summary:
            top = note.get_window_extent(ctx.renderer()).y0 - 0.5 * fs * pt
            self.grid_scale_axes = grid_scales(ctx, x0, top, bw)

    def _layout_summary_grid(self, box: PixelBox, K: int) -> None:
        """A grid of summary views: up to 3 side by side, more in rows of ceil(sqrt(K)); the note under them."""
        ctx, fs = self.ctx, self.ctx.fs
        x0, y0, bw, bh = box
        cols = K if K <= 3 else math.ceil(math.sqrt(K))
        rows = math.ceil(K / cols)
        cw, ch = bw / cols, bh / rows
        self.views = [SummaryView(ctx, (x0 + (k % cols) * cw, y0 + (rows - 1 - k // cols) * ch, cw, ch), k, small=True,
                                  label_text=self._fitting(ctx.scene.instance_labels[k], cw))
                      for k in range(K)]
        note = ctx.fig.text(x0 / ctx.width, (y0 - 0.4 * fs * ctx.scene.dpi / 72) / ctx.height, self._grid_note(False),
                            fontsize=fs * 0.75, color=ctx.theme["muted"], va="top", linespacing=1.3)
        ctx.fit_width(note, bw)

    def _fitting(self, candidates: tuple | str, width: float) -> str:
        """The first (longest) of a grid title's ``candidates`` at most ``width`` pixels wide at the
        summary's title size (the last one otherwise)."""
        if isinstance(candidates, str):
            return candidates
        probe = self.ctx.fig.text(0, 0, "", fontsize=self.ctx.fs * 0.75)
        try:
            for text in candidates:
                probe.set_text(text)
                if probe.get_window_extent(self.ctx.renderer()).width <= 0.95 * width:
                    return text
            return candidates[-1]
        finally:
            probe.remove()

    def _grid_note(self, big: bool) -> str:
        """The note under a grid: the shared scales, and which feature ids are shown."""
        s, view = self.ctx.scene, self.views[0]
        if isinstance(view, SummaryView):
            by = "frequency rank" if large.RANK_LABEL in s.summary_xlabels or not s.summary_xlabels else "feature index"
            return (f"each panel: ‖W_i‖ by {by} (median, min and max per log-spaced bin), the D_i and overlap histograms;\n"
                    "dashed: the Welch bound κ on the largest overlap of that many unit vectors (Liu et al. 2025, Eq. 5)")
        if isinstance(view, GramView):
            block = view.block
            return (f"all panels share the colour scales below (blue < 0 < red); bars: ‖W_i‖ up to {s.norm_max:.2f}"
                    + (f"; each cell: the largest |entry| of {block}×{block} features" if block > 1 else ""))
        ids = ""
        if not big:
            few = view.max_labels
            ids = (f"\nfeature ids: the {few} longest columns W_i of each panel, where they fit" if few else
                   "\npanels too small for feature ids (render one --instance, or a larger --size)")
        return (f"all panels share the axes ±{s.lim:.2f} (dashed circle: norm 1); "
                "k ≈ 0: k features at the origin (faint dots)" + ids)

    def _shape_text(self) -> str:
        """The main view's geometry name at this frame (the loss readout shows it)."""
        view = self.views[0]
        return view.shape_text if isinstance(view, PlaneView) else ""

    # ------------------------------------------------------------------ per frame

    def draw(self, frame: Frame) -> np.ndarray:
        """Draw ``frame`` over the cached background. Returns (H, W, 4) uint8 (a view)."""
        ctx, parts = self.ctx, self.parts
        for part in parts:
            part.update(frame)
        buf = np.asarray(ctx.canvas.buffer_rgba())
        bg = self._bg
        if len(self._dirty) > 24:  # a big grid: one copy beats many small ones
            np.copyto(buf, bg)
        else:
            for r0, r1, c0, c1 in self._dirty:
                buf[r0:r1, c0:c1] = bg[r0:r1, c0:c1]
        dirty = list(self._static_rects)
        for a in ctx.dynamic:
            if a.get_visible():
                ctx.fig.draw_artist(a)
        for part in parts:
            part.paint_text(buf, dirty)
        self._dirty = dirty
        return buf

    def close(self) -> None:
        self.ctx.fig.clear()

