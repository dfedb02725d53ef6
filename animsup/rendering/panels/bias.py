"""``--panels bias``: the bias b of the (first) instance per feature, as bars on a fixed range."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.context import DrawContext, Rect, set_verts
from animsup.rendering.panels.base import Panel

if TYPE_CHECKING:
    from animsup.rendering.frames import Frame


class BiasPanel(Panel):
    """``bias``: the bias b of the (first) instance per feature, as bars on a fixed range."""

    height = 0.39

    def __init__(self, ctx: DrawContext, rect: Rect):
        from matplotlib.collections import PolyCollection
        from matplotlib.ticker import MaxNLocator

        super().__init__(ctx, rect)
        s, t = ctx.scene, ctx.theme
        ax = ctx.fig.add_axes(rect)
        self.ax = ax
        n = s.n_features
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_ylim(*s.b_range)
        ax.axhline(0, color=t["outline"], lw=0.8)
        ax.set_title("bias b per feature", fontsize=ctx.fs * 0.9, color=t["muted"], loc="left")
        ax.tick_params(labelsize=ctx.fs * 0.8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        room = rect[2] * ctx.width / (2.8 * ctx.fs * ctx.pt)  # tick labels that fit side by side
        ax.xaxis.set_major_locator(MaxNLocator(nbins=max(2, int(room)), integer=True))
        self.bars = PolyCollection([np.zeros((4, 2))] * n, facecolors=ctx.colors, edgecolors="none")
        ax.add_collection(self.bars)
        ctx.animate(self.bars)

    def update(self, frame: Frame) -> None:
        b = frame.b[0]
        x = np.arange(len(b))
        z = np.zeros_like(b)
        set_verts(self.bars, np.stack([np.stack([x - 0.38, z], 1), np.stack([x - 0.38, b], 1),
                                       np.stack([x + 0.38, b], 1), np.stack([x + 0.38, z], 1)], 1))
