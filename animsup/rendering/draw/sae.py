"""The SAE's decoder directions in the plane, apart from W's columns: thin dashed lines from the
origin in one contrasting colour (orange; W's columns use the importance colormap) ending in a
small open diamond, and a key in the plane's upper left, "SAE decoder (L latents, l1=…)" over
"per snapshot" or "final SAE (step N)". The directions are unit vectors (the SAE's decoder rows
are kept at unit norm), so their tips lie on the unit circle. Data: :mod:`animsup.rendering.sae`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.context import set_segments

if TYPE_CHECKING:
    from animsup.rendering.draw.plane import PlaneView
    from animsup.rendering.sae import SaeOverlay

#: the SAE's colour per theme: far from viridis (light) and plasma (dark), the importance colormaps
COLORS = {"light": "#e8590c", "dark": "#3fb950"}


class SaeArrows:
    """Moving artists of one plane: the decoder directions of the SAE at each frame's step."""

    def __init__(self, view: PlaneView, overlay: SaeOverlay):
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D

        ctx, ax = view.ctx, view.ax
        self.view, self.overlay = view, overlay
        self.color = COLORS.get(ctx.scene.theme, COLORS["light"])
        lw = max(0.8, view.lw * 0.6)
        self.lines = LineCollection([], colors=self.color, linewidths=lw, linestyles=(0, (3, 2)), zorder=5, alpha=0.95)
        ax.add_collection(self.lines)
        n_lat = overlay.decoders.shape[1]
        size = (ctx.fs * (0.5 if view.small else 0.6)) ** 2
        self.tips = ax.scatter(np.zeros(n_lat), np.zeros(n_lat), s=size, marker="D", facecolors="none",
                               edgecolors=self.color, linewidths=1.1, zorder=5)
        ctx.animate(self.lines, self.tips)
        old = ax.get_legend()
        handle = Line2D([], [], color=self.color, lw=lw, ls=(0, (3, 2)), marker="D", mfc="none", ms=ctx.fs * 0.45)
        key = ax.legend(handles=[handle], labels=[f"{overlay.key}\n{overlay.when}"], loc="upper left",
                        fontsize=ctx.fs * (0.6 if view.small else 0.7), frameon=False,
                        handlelength=1.6 if view.small else 2.2, labelcolor=self.color, borderaxespad=0.3)
        if old is not None:  # an untied model's key stays (lower left)
            ax.add_artist(old)
        key.set_zorder(6)

    def update(self, step: float) -> None:
        D = self.overlay.at(step)  # [L, d]
        P = np.stack([D[:, 0], np.zeros(len(D))], 1) if D.shape[1] == 1 else D[:, :2].astype(np.float64)
        set_segments(self.lines, np.stack([np.zeros_like(P), P], 1))
        self.tips.set_offsets(P)


def attach(view: PlaneView) -> SaeArrows | None:
    """The SAE's arrows on ``view`` when the scene has an SAE overlay for its instance, else None."""
    overlay = view.ctx.scene.sae
    if overlay is None or view.ctx.scene.instances[view.k] != overlay.instance:
        return None
    return SaeArrows(view, overlay)
