"""The key to the feature-set colours (``--panels sets``; every log whose header ``data`` lists
correlated or anticorrelated sets gets it): a swatch per feature of each set in its colour, and
which sets are correlated (switch on together) or anticorrelated (at most one on). Static: drawn
once into the cached background (:mod:`animsup.rendering.feature_sets` picks the colours)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from animsup.rendering.feature_sets import ranges_text
from animsup.rendering.panels.base import Panel

if TYPE_CHECKING:
    from matplotlib.transforms import Bbox

    from animsup.rendering.draw.context import DrawContext, Rect
    from animsup.rendering.frames import Frame


class SetsPanel(Panel):
    """``sets``: one entry per feature set, "■■ correlated (on together): 0, 1", in 1-3 columns."""

    height = 0.22

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        from matplotlib.patches import Rectangle

        s, t = ctx.scene, ctx.theme
        sets = list(s.feature_sets)
        self.ax = ax = ctx.fig.add_axes(rect)
        ax.set_axis_off()
        x, y, w, h = rect
        W_px, H_px = w * ctx.width, h * ctx.height
        in_sets = sum(len(st) for _, st in sets)
        rest = s.n_features - in_sets
        note = "a colour family per set"
        if rest:
            note += f"; {rest} independent feature{'s' if rest != 1 else ''}: importance colours"
        title = ax.set_title(f"feature sets ({note})", fontsize=ctx.fs * 0.9, color=t["muted"], loc="left")
        ctx.fit_width(title, W_px)
        if not sets:
            return
        line_px = 1.7 * ctx.fs * ctx.pt
        rows_fit = max(1, int(H_px // line_px))
        cols = min(3, max(1, math.ceil(len(sets) / rows_fit)))
        rows = math.ceil(len(sets) / cols)
        ax.set_xlim(0, W_px)
        ax.set_ylim(0, H_px)
        sw = 0.8 * ctx.fs * ctx.pt  # swatch side, px
        r = ctx.renderer()
        col_w = W_px / cols
        for e, (kind, st) in enumerate(sets):
            c, row = divmod(e, rows)
            x0, yc = c * col_w, H_px - (row + 0.5) * min(line_px, H_px / rows)
            many = len(st) > 6  # a long set: one bar of its shades
            step = (4 * sw / len(st)) if many else 1.15 * sw
            for q, f in enumerate(st):
                ax.add_patch(Rectangle((x0 + q * step, yc - sw / 2), step if many else sw, sw,
                                       facecolor=ctx.colors[f], edgecolor="none"))
            tx = x0 + (4 * sw if many else len(st) * 1.15 * sw) + 0.5 * sw
            what = {"correlated": "on together", "anticorrelated": "one or none on"}.get(kind, "at most one on, each at p")
            txt = ax.text(tx, yc, f"{kind} ({what}): {ranges_text(st)}", ha="left", va="center",
                          fontsize=ctx.fs * 0.8, color=t["fg"])
            room = col_w - (tx - x0) - 0.5 * sw
            if txt.get_window_extent(r).width > room:
                ctx.fit_width(txt, max(room, 1.0))
        self.n_rows = rows

    def update(self, frame: Frame) -> None:  # static
        pass

    def boxes(self) -> list[Bbox]:
        return []
