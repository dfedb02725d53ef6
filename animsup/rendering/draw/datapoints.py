"""The training examples' hidden vectors h = W x in the plane, apart from W's columns: small dots in
one contrasting colour (crimson on the light theme, cyan on the dark; W's columns use the
importance colormap, the SAE orange/green), over the arrows when at most 100, else under them, and a key in the plane's lower
right, "training examples h = W x (T = 100)" (saying when only the first examples are drawn).
On the line (n_hidden = 1) the dots sit on the axis. Data: :mod:`animsup.rendering.datapoints`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from animsup.rendering.datapoints import DataPoints
    from animsup.rendering.draw.plane import PlaneView

#: the data points' colour per theme: far from viridis (light) and plasma (dark), and from the SAE's
COLORS = {"light": "#c2255c", "dark": "#4dd0e1"}
#: up to this many dots are drawn over the arrows and their tips (a memorised polygon of a few data points
#: can sit on feature tips), more under them
FEW = 100


class DataDots:
    """Moving artist of one plane: the drawn training examples' h = W x at each frame."""

    def __init__(self, view: PlaneView, points: DataPoints):
        from matplotlib.lines import Line2D

        from animsup.rendering.datapoints import short_key

        ctx, ax = view.ctx, view.ax
        self.view, self.points = view, points
        self.color = COLORS.get(ctx.scene.theme, COLORS["light"])
        size = (ctx.fs * (0.34 if view.small else 0.42)) ** 2
        self.dots = ax.scatter(np.zeros(points.drawn), np.zeros(points.drawn), s=size, marker="o", linewidths=0,
                               color=self.color, alpha=0.75 if points.drawn > FEW else 0.95,
                               zorder=4.5 if points.drawn <= FEW else 2.5)
        self.last: np.ndarray = np.zeros((points.drawn, 2))
        if points.drawn > FEW:  # drawn in the order animated: before the plane's arrows (on_top: after them)
            ctx.animate(self.dots)
        old = ax.get_legend()
        handle = Line2D([], [], color=self.color, lw=0, marker="o", ms=ctx.fs * 0.3)
        # a grid panel is small: a shorter key on the plane's background, so feature ids under it stay legible
        text = short_key(points.size, points.drawn) if view.small else points.key
        key = ax.legend(handles=[handle], labels=[text], loc="lower right",
                        fontsize=ctx.fs * (0.6 if view.small else 0.7), frameon=view.small, handlelength=1.0,
                        labelcolor=self.color, borderaxespad=0.3, borderpad=0.2,
                        facecolor=ctx.theme["bg"], edgecolor="none", framealpha=0.85)
        if old is not None:  # an untied model's or an SAE's key stays
            ax.add_artist(old)
        key.set_zorder(6)

    def on_top(self) -> None:
        """Called once the plane's own moving artists are registered: a few dots go over them."""
        if self.points.drawn <= FEW:
            self.view.ctx.animate(self.dots)

    def update(self, W: np.ndarray) -> None:
        """W: (shape: [n_hidden, n_features]) the frame's W of the view's instance."""
        H = self.points.hidden(W)  # [drawn, m]
        P = np.stack([H[:, 0], np.zeros(len(H))], 1) if H.shape[1] == 1 else H[:, :2]
        self.last = P
        self.dots.set_offsets(P)


def attach(view: PlaneView) -> DataDots | None:
    """The data points on ``view`` when the scene has them for its instance, else None."""
    s = view.ctx.scene
    points = s.datapoints.get(s.instances[view.k]) if s.datapoints else None
    return None if points is None else DataDots(view, points)
