"""The neuron model's view (``--panels neurons``; every log of ``model: "neuron"`` gets it).

In the privileged-basis model h = ReLU(W x), y = ReLU(Wᵀ h + b) the hidden ReLU singles out the
neuron basis, so the geometry is not rotation-invariant and the question is what each neuron
stores: neuron j reads the features through its row W[j, :]. The panel draws one small chart per
neuron, a signed bar per feature (W[j, i], up when positive), coloured as the feature is in the
rest of the frame, all on one fixed range ±max|W| over the whole run (from the render plan's
first pass over the log, ``scene.w_max``): a monosemantic neuron is one tall bar, a polysemantic
one several.

Neurons are laid out in 1-3 columns, whichever gives the bars the most room. When a bar would be
narrower than :data:`MIN_BAR_PX`, each bar shows a block of features: the W entry of largest
magnitude in the block (sign kept) in the colour of the feature it comes from, and the title says
so; when a neuron's chart would be lower than :data:`MIN_ROW_PX`, the panel draws no bars and says
the frame is too small for n_hidden neurons.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.context import DrawContext, Rect, color_list, set_verts
from animsup.rendering.panels.base import Panel
from animsup.rendering.draw.pooling import pool_max_abs

if TYPE_CHECKING:
    from animsup.rendering.frames import Frame

MIN_BAR_PX = 3.0  # narrower bars aggregate blocks of features
MIN_ROW_PX = 12.0  # lower neuron charts are not drawn
ROW_FILL = 0.42  # a bar of |W| = w_max reaches this fraction of its row (above and below the zero line)


def layout(m: int, n: int, width_px: float, height_px: float, label_px: float) -> tuple[int, int, int]:
    """(columns, rows, features per bar) for ``m`` neuron charts of ``n`` bars in a box of
    ``width_px`` × ``height_px``, each column ``label_px`` wider for the neuron names: the
    columns (1-3) that maximise min(bar width × 3, row height) (tall rows resolve W's values),
    discounted by the share of empty cells."""
    best: tuple[float, int, int, float] | None = None
    for cols in range(1, min(3, m) + 1):
        rows = math.ceil(m / cols)
        bar = (width_px / cols - label_px) / n
        score = min(3 * bar, height_px / rows) * math.sqrt(m / (cols * rows))  # empty cells count against
        if best is None or score > best[0]:
            best = (score, cols, rows, bar)
    assert best is not None  # m >= 1: one layout at least
    _, cols, rows, bar = best
    block = max(1, math.ceil(MIN_BAR_PX / max(bar, 1e-9))) if bar < MIN_BAR_PX else 1
    return cols, rows, block


def pool_blocks(w: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Each block of ``block`` features of the rows ``w`` -> the entry of largest magnitude (sign
    kept) and the feature it comes from.

    :param w: (shape: [m, n])
    :return: values (shape: [m, ceil(n / block)]) and feature indices (same shape)
    """
    m, n = w.shape
    if block == 1:
        return w, np.broadcast_to(np.arange(n), (m, n))
    values, i = pool_max_abs(w, block)
    feat = np.minimum(np.arange(values.shape[1])[None, :] * block + i, n - 1)
    return values, feat


class NeuronsPanel(Panel):
    """``neurons``: W[j, :] of every hidden neuron j of the first shown instance, a signed bar per
    feature (or block of features) on the fixed range ±scene.w_max."""

    height = 1.25

    def __init__(self, ctx: DrawContext, rect: Rect):
        super().__init__(ctx, rect)
        from matplotlib.collections import PolyCollection

        s, t = ctx.scene, ctx.theme
        m, n = s.n_hidden, s.n_features
        self.m, self.n = m, n
        self.scale = float(s.w_max)
        x, y, w, h = rect
        W_px, H_px = w * ctx.width, h * ctx.height
        self.ax = ax = ctx.fig.add_axes(rect)
        label_px = 2.6 * ctx.fs * ctx.pt  # "n10" beside each chart
        self.cols, self.rows, self.block = layout(m, n, W_px, H_px, label_px)
        nb = -(-n // self.block)
        self.nb = nb
        gap = label_px / max((W_px / self.cols - label_px) / nb, 1e-9)  # the label room, in bar units
        self.stride = nb + gap
        ax.set_xlim(-gap, self.cols * self.stride - gap)
        ax.set_ylim(0, self.rows)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.set_yticks([])
        ax.tick_params(labelsize=ctx.fs * 0.75, length=2, pad=1)
        grid = len(s.instances) > 1
        who = f" of #{s.instances[0]}" if grid else ""
        pooled = f"; a bar: largest |W| of {self.block} features" if self.block > 1 else ""
        title = ax.set_title(f"W[j, i] per neuron j{who} (±{self.scale:.2g}, bars by feature i{pooled})",
                             fontsize=ctx.fs * 0.9, color=t["muted"], loc="left")
        ctx.fit_width(title, W_px)
        self.drawable = H_px / self.rows >= MIN_ROW_PX
        if not self.drawable:
            ax.set_xticks([])
            ax.text(0.5, 0.5, f"{m} neurons do not fit here ({H_px / self.rows:.0f} px each): a larger --size",
                    transform=ax.transAxes, ha="center", va="center", fontsize=ctx.fs * 0.85, color=t["muted"])
            self.bars = None
            return
        # the zero line, a faint ±w_max guide and the name of each neuron's chart
        for j in range(m):
            x0, yc = self._origin(j)
            ax.plot([x0 - 0.5, x0 + nb - 0.5], [yc, yc], color=t["outline"], lw=0.7, zorder=1)
            for v in (-ROW_FILL, ROW_FILL):
                ax.plot([x0 - 0.5, x0 + nb - 0.5], [yc + v, yc + v], color=t["grid"], lw=0.6, zorder=0)
            ax.text(x0 - 0.7, yc, f"n{j}", ha="right", va="center", fontsize=ctx.fs * 0.75, color=t["muted"])
        # feature ticks under the bottom chart of each column
        room = max(2, int((W_px / self.cols - label_px) / (2.4 * ctx.fs * ctx.pt)))
        every = max(1, math.ceil(nb / room))
        ticks, labels = [], []
        for c in range(self.cols):
            for b in range(0, nb, every):
                ticks.append(c * self.stride + b)
                labels.append(str(b * self.block))
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels)
        self.colors = np.asarray(ctx.colors, dtype=np.float64)
        self.bars = PolyCollection([np.zeros((4, 2))] * (m * nb), edgecolors="none", zorder=2)
        self.bars.set_facecolor(color_list(np.tile(self.colors[np.arange(0, n, self.block)], (m, 1))))
        ax.add_collection(self.bars)
        ctx.animate(self.bars)

    def _origin(self, j: int) -> tuple[float, float]:
        """x of neuron j's first bar and y of its zero line (data units)."""
        c, r = divmod(j, self.rows)
        return c * self.stride, self.rows - r - 0.5

    def heights(self, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The bars' values and the features they show for the rows of W (shape: [m, n])."""
        return pool_blocks(np.asarray(W, dtype=np.float64), self.block)

    def update(self, frame: Frame) -> None:
        if self.bars is None:
            return
        vals, feat = self.heights(frame.W[0])
        h = vals / self.scale * ROW_FILL
        j = np.repeat(np.arange(self.m), self.nb)
        c, r = np.divmod(j, self.rows)
        x = c * self.stride + np.tile(np.arange(self.nb), self.m)
        yc = self.rows - r - 0.5
        top = yc + h.ravel()
        half = 0.4
        set_verts(self.bars, np.stack([np.stack([x - half, yc], 1), np.stack([x - half, top], 1),
                                      np.stack([x + half, top], 1), np.stack([x + half, yc], 1)], 1))
        if self.block > 1:
            self.bars.set_facecolor(color_list(self.colors[feat.ravel()]))
