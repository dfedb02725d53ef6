"""``curves``: the log's extra recorded curves (log v2 ``curve`` records, e.g.
``rec.snapshot(..., test_loss=0.1, lr=1e-3)``) over the run, named in a key, with a cursor at the
current step. Added by default to the render of a log that records any."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.context import DrawContext, Rect
from animsup.rendering.draw.ticks import fit_log_ticks, unicode_log_ticks
from animsup.rendering.panels.base import Panel

if TYPE_CHECKING:
    from animsup.rendering.frames import Frame

#: line styles told apart in the key (colours are the instances' in a grid)
STYLES = ("-", "--", ":", "-.")


class CurvesPanel(Panel):
    """``curves``: every extra curve of the shown instances on one axes (log y when every value is
    positive, else linear), the step axis as the loss panel's; the key names each curve and its
    line style; a cursor line at the current step."""

    step_axis = True
    height = 0.45

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        s, t = ctx.scene, ctx.theme
        ax = ctx.fig.add_axes(rect)
        self.ax = ax
        curves = [c for c in s.curves if len(c[1])]
        values = np.concatenate([v.ravel() for _, _, v in curves]) if curves else np.zeros(0)
        finite = values[np.isfinite(values)]
        if len(finite) and np.all(finite > 0):
            ax.set_yscale("log")
            unicode_log_ticks(ax.yaxis)
        if s.loss_xscale == "symlog":  # the loss panel's step axis
            pos = s.loss_step[s.loss_step > s.loss_xlim[0]]
            ax.set_xscale("symlog", linthresh=max(1.0, float(pos[0] - s.loss_xlim[0]) if len(pos) else 1.0))
            unicode_log_ticks(ax.xaxis)
        ax.set_xlim(*s.loss_xlim)
        for j, (name, steps, vals) in enumerate(curves):
            for k in range(vals.shape[1]):
                col = ctx.instance_color(k) if vals.shape[1] > 1 else t["fg"]
                ax.plot(steps, vals[:, k], color=col, lw=1.3, ls=STYLES[j % len(STYLES)],
                        label=name if k == 0 else None)
        ax.set_title("recorded curves" if curves else "recorded curves (none)", fontsize=ctx.fs * 0.9,
                     color=t["muted"], loc="left")
        ax.tick_params(which="both", labelsize=ctx.fs * 0.75)
        if ax.get_yscale() == "log":  # a short panel: as many y labels as its height holds
            pad = max((finite.max() / finite.min()) ** 0.05, 1.1)
            ax.set_ylim(finite.min() / pad, finite.max() * pad)
            fit_log_ticks(ax.yaxis, finite.min() / pad, finite.max() * pad, rect[3] * ctx.height, ctx.fs * 0.75 * ctx.pt)
        ax.grid(True, which="major", lw=0.5)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if curves:
            ax.legend(loc="upper right", fontsize=ctx.fs * 0.75, frameon=True, framealpha=0.85,
                      facecolor=t["bg"], edgecolor="none", labelcolor=t["fg"], handlelength=2.2,
                      ncols=min(len(curves), 3))
        self.cursor = ax.axvline(s.loss_xlim[0], color=t["cursor"], lw=1.2, alpha=0.9)
        ctx.animate(self.cursor)

    def update(self, frame: Frame) -> None:
        self.cursor.set_xdata([frame.step, frame.step])
