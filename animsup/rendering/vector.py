"""One frame as a matplotlib :class:`~matplotlib.figure.Figure` of real artists: the editable figure
(``animsup.figure(log, step=...)``) and the vector posters (``--out poster.svg``, ``--out poster.pdf``).

The raster drawer (:class:`animsup.rendering.draw.FrameDrawer`) builds the whole frame as matplotlib
artists except what moves fastest, which it paints into the pixel buffer with numpy: the feature
ids, the quiet-feature count and the step/loss readout (FreeType glyph sprites), the loss cursor and
its dots, the heatmap and bias cells, the faint squares of quiet features. :func:`snapshot_figure`
builds the same figure, moves its artists to the frame, and adds each of those painted things as the
artist it stands for (a :class:`~matplotlib.text.Text` at the sprite's baseline in the sprite's font
and size, an ``axvline`` and a scatter for the cursor, an image for the cells, a scatter for the
quiet features), so the figure saved by a vector backend keeps its text as text and its arrows as
paths, and looks like the PNG poster.

No pyplot and no global rc changes: the figure lives on its own Agg canvas, and the rc settings
a save needs (``svg.fonttype`` "none": text as ``<text>``; ``pdf.fonttype`` 42: TrueType, the text
extractable) are set only around the save (:func:`save_figure`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.context import rc_params
from animsup.rendering.draw.theme import THEMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

    from animsup.rendering.draw.compositor import FrameDrawer
    from animsup.rendering.draw.context import DrawContext
    from animsup.rendering.draw.heatmap import GramView
    from animsup.rendering.draw.loss import LossPart
    from animsup.rendering.draw.plane import PlaneView
    from animsup.rendering.draw.text import Sprites
    from animsup.rendering.frames import Frame, Scene
    from animsup.rendering.plan import RenderPlan

#: the rc settings of every vector save: text stays text (SVG <text>, PDF TrueType, extractable)
VECTOR_RC: dict[RcKeyType, object] = {"svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
                                      "svg.hashsalt": "animsup"}


def snapshot_figure(scene: Scene, frame: Frame) -> Figure:
    """The frame ``frame`` of ``scene`` as a Figure of artists (the PNG poster's layout and colours).

    The figure has its own Agg canvas (``fig.savefig`` works; ``fig.canvas`` draws it) and is sized
    ``scene.size`` pixels at ``scene.dpi``.
    """
    import matplotlib

    from animsup.rendering.draw.compositor import FrameDrawer
    from animsup.rendering.draw.heatmap import GramView
    from animsup.rendering.draw.summary import SummaryView

    with matplotlib.rc_context(rc_params(THEMES[scene.theme], scene.size)):
        drawer = FrameDrawer(scene)
        for part in drawer.parts:
            part.update(frame)
        for a in drawer.ctx.dynamic:
            a.set_animated(False)
        for view in drawer.views:
            if isinstance(view, SummaryView):  # matplotlib artists only: nothing painted with numpy
                continue
            if isinstance(view, GramView):
                _gram_cells(view)
            else:
                _plane_painted(drawer, view)
        _loss_painted(drawer.loss)
    return drawer.fig


def plan_figure(plan: RenderPlan) -> Figure:
    """The poster of a plan built with ``poster=True`` (its step, its caption: the events' key)."""
    return snapshot_figure(plan.scene, plan.poster_frame())


def save_figure(fig: Figure, path: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Save ``fig`` to ``path`` (format from ``fmt`` or the extension) with text kept as text and no
    date in the file (the same figure gives the same bytes); the rc settings are restored after."""
    import matplotlib

    fmt = fmt or os.path.splitext(os.fspath(path))[1][1:].lower()
    metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {"CreationDate": None} if fmt == "pdf" else {}
    with matplotlib.rc_context(VECTOR_RC):
        fig.savefig(path, format=fmt, facecolor=fig.get_facecolor(), metadata=metadata or None)


# --------------------------------------------------------------------------- what the drawer paints


def _text(ctx: DrawContext, font: Sprites, text: str, x: float, y: float, color: str) -> None:
    """A Text where the sprite ``font`` paints ``text`` with its top-left pixel at buffer (x, y):
    the sprite's pen starts 1 px right and its baseline sits ``ascent + 1`` px down."""
    H, W = ctx.height, ctx.width
    ctx.fig.text((x + 1) / W, (H - (y + 1 + font.ascent)) / H, text, ha="left", va="baseline", color=color,
                 fontsize=font.size_pt, family=font.family, parse_math=False)


def _plane_painted(drawer: FrameDrawer, view: PlaneView) -> None:
    """A plane view's painted parts: the bias cells, the quiet features, the feature ids, the
    quiet-feature count."""
    ctx = drawer.ctx
    t = ctx.theme
    if view.b_cells is not None:
        cells = view.b_cells
        frac = (np.asarray(cells.values, dtype=np.float64) - cells.lo) / (cells.hi - cells.lo)
        rgb = cells.lut[np.clip((frac * 256).astype(np.int64), 0, 255)]
        _cells_image(cells.ax, rgb[:, None, :])
    if view.paint_quiet and len(view._quiet_px):
        inv = view.ax.transData.inverted().transform(view._quiet_px)
        side = max(2.0, round(1.6 * ctx.pt)) / ctx.pt  # points
        view.ax.scatter(inv[:, 0], inv[:, 1], s=side ** 2, marker="s", c=np.asarray(view._quiet_rgb) / 255.0,
                        alpha=0.6, linewidths=0, zorder=1.5)
    names = {id(cov): label for label, cov in view.label_font._lines.items()}
    for cov, x, y in view.label_pos:
        label = names.get(id(cov))
        if label is not None:
            _text(ctx, view.label_font, label, x, y, t["fg"])
    if view.quiet_n:
        scratch = np.zeros((ctx.height, ctx.width, 4), np.uint8)
        view._paint_quiet_label(scratch, [])
        if view.quiet_box is not None:
            qx0, qy0, qx1, _ = view.quiet_box
            long = view.quiet_label
            quiet = long if view.quiet_font.line(long).shape[1] == qx1 - qx0 else f"{view.quiet_n} ≈ 0"
            _text(ctx, view.quiet_font, quiet, qx0, qy0, t["muted"])


def _gram_cells(view: GramView) -> None:
    """A heatmap view's cells (WᵀW and the bias column) as images filling their axes."""
    _cells_image(view.ax, view._colour(view._gram, view.gram_range))
    _cells_image(view.bax, view._colour(view._b, view.b_range)[:, None, :])


def _cells_image(ax: Axes, rgb: np.ndarray) -> None:
    """Cells (rows top down; shape: [rows, cols, 3], 0..255) filling ``ax``, one colour each."""
    ax.imshow(np.asarray(rgb, dtype=np.float64) / 255.0, extent=(0, 1, 0, 1), transform=ax.transAxes,
              aspect="auto", interpolation="nearest", origin="upper", zorder=0.5)


def _loss_painted(loss: LossPart) -> None:
    """The loss cursor (a line and a dot per curve) and the step/loss readout in its opaque box."""
    from matplotlib.colors import to_hex

    ctx, ax = loss.ctx, loss.ax
    t = ctx.theme
    ax.axvline(loss.step, color=t["cursor"], alpha=loss.cursor_alpha, lw=loss.cursor_w / ctx.pt, zorder=4)
    ys = np.asarray(loss.ys, dtype=np.float64)
    ok = np.isfinite(ys) & ((ys > 0) | (ax.get_yscale() != "log"))
    if ok.any():
        r, e = loss.dot_r / ctx.pt, loss.dot_edge / ctx.pt  # points
        ax.scatter(np.full(int(ok.sum()), loss.step), ys[ok], s=(2 * r) ** 2, c=loss.dot_rgb[ok] / 255.0,
                   edgecolors=t["bg"], linewidths=e, zorder=5, clip_on=False)
    bb = ax.bbox
    pad = 0.6 * ctx.fs * ctx.pt
    lines = loss.readout_lines()
    W, H = ctx.width, ctx.height
    ctx.fig.text((bb.x1 - pad) / W, (bb.y1 - pad) / H, "\n".join(lines), ha="right", va="top", multialignment="left",
                 fontsize=loss.mono.size_pt, family=loss.mono.family, color=t["fg"], parse_math=False, zorder=6,
                 linespacing=1.0, bbox=dict(boxstyle="square,pad=0.25", fc=to_hex(t["bg"]), ec="none"))
