"""The drawing context every part of a frame draws with, and the :class:`Part` protocol.

A *part* is one piece of the frame that moves: the loss panel, a plane view (n_hidden <= 2), a
heatmap view (n_hidden >= 3), an extra panel (:mod:`animsup.rendering.panels`). It is built once
with the :class:`DrawContext` (static artists go into the cached background, moving ones are
registered with :meth:`DrawContext.animate`), then per frame the compositor
(:class:`animsup.rendering.draw.FrameDrawer`) calls ``update(frame)`` on every part, draws the
moving artists, and calls ``paint_text(buf, dirty)`` to paint with numpy. Parts use only the
public members of the context, never each other's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from animsup.escape import PLAIN_TEXT_RC
from animsup.rendering.draw.theme import THEMES, Theme, colormap, feature_colors, instance_color

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.backend_bases import RendererBase
    from matplotlib.colors import Colormap
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox, BboxBase
    from matplotlib.typing import ColorType, RcKeyType
    from numpy.typing import ArrayLike

    from animsup.rendering.frames import Frame, Scene

#: an axes rectangle in figure fractions: (x, y, width, height), origin bottom-left
Rect = tuple[float, float, float, float]
#: a rectangle in display pixels: (x, y, width, height), origin bottom-left
PixelBox = tuple[float, float, float, float]
#: a rectangle of the RGBA buffer: (first row, end row, first column, end column), rows from the top
BufferRect = tuple[int, int, int, int]


class Part(Protocol):
    """One moving piece of the frame (see the module docstring)."""

    def update(self, frame: Frame) -> None:
        """Move the artists to ``frame`` (never create new ones)."""

    def boxes(self) -> list[Bbox]:
        """Display boxes the moving artists draw into (restored from the background every frame)."""

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        """Paint into the RGBA buffer ``buf`` (shape: [height, width, 4]) with numpy, after the
        moving artists are drawn; append every rectangle painted to ``dirty``."""


def rc_params(theme: Theme, size: Sequence[int]) -> dict[RcKeyType, object]:
    """The matplotlib rc settings of a figure of ``size`` (width, height pixels) in ``theme``."""
    return {
        "figure.facecolor": theme["bg"],
        "axes.facecolor": theme["bg"],
        "axes.edgecolor": theme["faint"],
        "axes.labelcolor": theme["fg"],
        "text.color": theme["fg"],
        "xtick.color": theme["muted"],
        "ytick.color": theme["muted"],
        "xtick.labelcolor": theme["muted"],
        "ytick.labelcolor": theme["muted"],
        "grid.color": theme["grid"],
        "font.size": 10.0 * min(size[0] / 1280, size[1] / 720),
        "axes.titlesize": "medium",
        "path.simplify": True,
        **PLAIN_TEXT_RC,  # every string (seeds, labels, titles from the log) drawn as typed, never as mathtext
    }


class DrawContext:
    """What every part draws with: the figure (never pyplot), the scene, sizes and colours.

    :ivar fig: the matplotlib Figure (on an Agg canvas, :attr:`canvas`)
    :ivar scene: the :class:`animsup.rendering.frames.Scene` (fixed ranges from the whole log)
    :ivar theme: the theme's colours (:data:`animsup.rendering.draw.THEMES`)
    :ivar width, height: the frame in pixels
    :ivar fs: the text size in points (scale every size with it)
    :ivar pt: pixels per point
    :ivar colors: RGBA per feature (shape: [n_features, 4])
    :ivar cmap, norm: importance -> colour, for a colourbar
    :ivar dynamic: the moving artists (:meth:`animate`), drawn every frame in this order
    """

    def __init__(self, scene: Scene):
        """Builds the figure; call inside ``matplotlib.rc_context(rc_params(...))``."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.scene = scene
        self.theme: Theme = THEMES[scene.theme]
        w, h = scene.size
        self.width, self.height = int(w), int(h)
        dpi = scene.dpi
        self.pt = dpi / 72  # pixels per point
        # + 1e-3 px so Agg's int() truncation gives exactly w x h
        self.fig = Figure(figsize=((w + 1e-3) / dpi, (h + 1e-3) / dpi), dpi=dpi, facecolor=self.theme["bg"])
        self.canvas = FigureCanvasAgg(self.fig)
        # text size in points, scaled with the frame; in pixels it grows with dpi (dpi 160: 1.6x larger text)
        self.fs = max(10.0 * min(w / 1280, h / 720), 6.0)
        self.dynamic: list[Artist] = []
        colors, self.cmap, self.norm = feature_colors(scene.importance, self.theme)
        if scene.feature_sets:  # correlated/anticorrelated sets: a colour family per set (animsup.rendering.feature_sets)
            from animsup.rendering.feature_sets import set_colors

            colors = set_colors(colors, scene.feature_sets, scene.theme)
        self.colors: np.ndarray = colors

    def px(self, x: float, y: float, w: float, h: float) -> Rect:
        """Axes rect from pixels (origin bottom-left) to figure fractions."""
        W, H = self.width, self.height
        return (x / W, y / H, max(w, 1.0) / W, max(h, 1.0) / H)  # tiny frames: >= 1 px

    def renderer(self) -> RendererBase:
        """The canvas's renderer (to measure text)."""
        return self.canvas.get_renderer()

    def fit_width(self, text: Text, width_px: float) -> None:
        """Shrink a Text's font until it is at most ``width_px`` wide (large text, long titles)."""
        w = text.get_window_extent(self.renderer()).width
        if w > width_px:
            text.set_fontsize(float(text.get_fontsize()) * width_px / w * 0.98)

    def fit_title(self, ax: Axes, candidates: str | Sequence[str], box: PixelBox, *, fontsize: float,
                  color: ColorType, pad: float) -> None:
        """Title ``ax`` with the first of ``candidates`` (longest first; or one string) that fits in
        its cell ``box`` (x0, y0, w, h pixels; the title is centred on the axes), shrinking the last
        one's font if none does."""
        if isinstance(candidates, str):
            candidates = (candidates,)
        r = self.renderer()
        pos = ax.get_position()
        cx = (pos.x0 + pos.width / 2) * self.width
        room = 2 * min(cx - box[0], box[0] + box[2] - cx) - 4
        for text in candidates:
            t = ax.set_title(text, fontsize=fontsize, color=color, pad=pad)
            if t.get_window_extent(r).width <= room:
                return
        self.fit_width(t, room)

    def instance_color(self, k: int) -> ColorType:
        """The colour of the k-th shown instance (its grid panel's title, its loss curve)."""
        return instance_color(self.theme, len(self.scene.instances), k)

    @staticmethod
    def colormap(name: str) -> Colormap:
        """The registered matplotlib colormap ``name``."""
        return colormap(name)

    def animate(self, *artists: Artist) -> None:
        """Mark ``artists`` as moving: redrawn every frame over the cached background."""
        self.dynamic.extend(artists)

    def buffer_rect(self, extents: BboxBase | Sequence[float], margin: int) -> BufferRect:
        """Display extents (x0, y0, x1, y1; origin bottom-left) -> buffer rows and columns
        (r0, r1, c0, c1), grown by ``margin`` pixels and clipped to the frame."""
        from matplotlib.transforms import BboxBase

        x0, y0, x1, y1 = extents.extents if isinstance(extents, BboxBase) else extents
        H, W = self.height, self.width
        r0 = max(int(math.floor(H - y1)) - margin, 0)
        r1 = min(int(math.ceil(H - y0)) + margin, H)
        c0 = max(int(math.floor(x0)) - margin, 0)
        c1 = min(int(math.ceil(x1)) + margin, W)
        return (r0, max(r1, r0), c0, max(c1, c0))

    def axes_rows(self, ax: Axes) -> BufferRect:
        """The buffer rows and columns an axes covers (rounded, clipped to the frame)."""
        H, W, bb = self.height, self.width, ax.bbox
        r0, r1 = max(int(round(H - bb.y1)), 0), min(int(round(H - bb.y0)), H)
        c0, c1 = max(int(round(bb.x0)), 0), min(int(round(bb.x1)), W)
        return r0, r1, c0, c1


def overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether boxes (x0, y0, x1, y1) ``a`` and ``b`` overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def set_verts(polys: PolyCollection, verts: np.ndarray) -> None:
    """``polys.set_verts`` with an array of polygons (shape: [n, k, 2]): matplotlib's fast path
    for a 3-D array (its type stubs ask for a sequence of polygons)."""
    polys.set_verts(cast("list[ArrayLike]", verts))


def set_segments(lines: LineCollection, segs: np.ndarray) -> None:
    """``lines.set_segments`` with an array of segments (shape: [n, 2, 2]), passed as it is."""
    lines.set_segments(cast("list[ArrayLike]", segs))


def color_list(rgba: np.ndarray) -> list[ColorType]:
    """RGBA rows (shape: [n, 4]) passed as a colour list (what matplotlib's stubs expect; the
    array itself is passed)."""
    return cast("list[ColorType]", rgba)
