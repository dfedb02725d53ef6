"""The landscape panel for the video (``--panels llc``): the local learning coefficient over
training beside the loss.

The LLC is not computed here (rendering has no torch): ``animsup measure LOG --llc`` writes it to
the log's sidecar (:mod:`animsup.log.measurements`), and :meth:`LLCPanel.prepare` reads it. One
line per shown instance in the instances' colours, a band of ± one std over chains, a dot at each
measured snapshot and a cursor at the current step; the x axis is the loss panel's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from animsup.errors import AnimsupError
from animsup.rendering.panels.base import Panel
from animsup.rendering.panels.dynamics import _loss_x, _style

if TYPE_CHECKING:
    from animsup.rendering.draw.context import DrawContext, Rect
    from animsup.rendering.frames import Frame


def llc_history(log: str | os.PathLike[str], instances: Sequence[int]) -> dict:
    """The measured LLC of the shown instances: ``steps`` (shape: [T]), ``mean``, ``std``
    (shape: [T, k]; NaN for an instance that was not measured), ``settings``.

    :raises AnimsupError: the log has no measured LLC
    """
    from animsup.log.measurements import require_for_log, sidecar_path

    m = require_for_log(log, "--panels llc")  # another run's, older or corrupt sidecar: one line naming what to run
    if m is None or m.llc is None:
        raise AnimsupError(f"--panels llc: {os.fspath(log)} has no measured LLC ({sidecar_path(log)} is missing "
                           f"or has none); run: animsup measure LOG --llc")
    T = len(m.steps)
    mean = np.full((T, len(instances)), np.nan)
    std = np.full((T, len(instances)), np.nan)
    for j, i in enumerate(instances):
        col = m.column(int(i))
        if col is not None:
            mean[:, j], std[:, j] = m.llc_mean[:, col], m.llc_std[:, col]
    return {"steps": m.steps.astype(np.float64), "mean": mean, "std": std, "settings": dict(m.llc.get("settings", {}))}


class LLCPanel(Panel):
    """``llc``: the LLC (mean ± std over chains) of the shown instances over training."""

    step_axis = True
    height = 0.8
    data_key = "llc"

    @classmethod
    def prepare(cls, log: str | os.PathLike[str], instances: Sequence[int]) -> dict:
        return llc_history(log, instances)

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        h = (getattr(ctx.scene, "panel_data", None) or {}).get("llc")
        if h is None:
            raise ValueError("the llc panel needs scene.panel_data['llc'] (animsup.rendering.panels.landscape.llc_history)")
        self.ax = ax = ctx.fig.add_axes(rect)
        _loss_x(ctx, ax)
        steps, mean, std = h["steps"], h["mean"], h["std"]
        finite = np.isfinite(mean)
        lo = float(np.nanmin(mean - np.nan_to_num(std))) if finite.any() else 0.0
        hi = float(np.nanmax(mean + np.nan_to_num(std))) if finite.any() else 1.0
        pad = 0.08 * max(hi - lo, 1e-6)
        ax.set_ylim(min(0.0, lo - pad), hi + pad)
        for j in range(mean.shape[1]):
            color = ctx.instance_color(j)
            ok = finite[:, j]
            ax.fill_between(steps[ok], (mean - std)[ok, j], (mean + std)[ok, j], color=color, alpha=0.18, lw=0)
            ax.plot(steps[ok], mean[ok, j], color=color, lw=1.2, marker="o", ms=ctx.fs * 0.18)
        _style(ctx, ax, "LLC (SGLD) over training")
        missing = [int(i) for j, i in enumerate(ctx.scene.instances) if j < mean.shape[1] and not finite[:, j].any()]
        if missing:
            shown = ", ".join(f"#{i}" for i in missing)
            ax.text(0.5, 0.5, f"instance{'s' if len(missing) > 1 else ''} {shown} "
                    f"{'were' if len(missing) > 1 else 'was'} not measured", transform=ax.transAxes,
                    ha="center", va="center", fontsize=ctx.fs * 0.8, color=ctx.theme["muted"])
        self.cursor = ax.axvline(steps[0] if len(steps) else 0, color=ctx.theme["cursor"], lw=1.3, antialiased=False)
        ctx.animate(self.cursor)

    def update(self, frame: Frame) -> None:
        self.cursor.set_xdata([frame.step, frame.step])
