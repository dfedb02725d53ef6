"""Staged runs in the frames: the 1 − S of each stage, the current one at a step, and the
stage boundaries on the loss panel.

A staged run (seed 000's recipe: S = 0, 0.7, 0.9, 0.99, 0.999 in sequence, a new optimiser per
stage; ``animsup train --stages``) records its stages in the log header as
``[{"start_step": int, "feature_probability": [K][n] or null, "note": str}, ...]``
(docs/log-format.md). The header's own ``feature_probability`` is stage 0's, so every frame
takes its 1 − S from the stage its step falls in (:func:`current`).

numpy only; :func:`draw_marks` calls methods of the matplotlib axes it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.text import Text


def schedule(header, instances) -> list[tuple[int, str]]:
    """(first step, 1 − S text) of each stage of a staged run, for the shown ``instances``;
    [] for a run of one stage. The text is "0.01" when every shown feature shares it,
    "0.01..0.1" when it varies across them, "unknown" when the stage does not record it
    (or records it in the wrong shape). Stages are sorted by their first step.

    :param header: a :class:`animsup.log.reader.Header`
    :param instances: indices of the shown instances
    """
    stages = getattr(header, "stages", None) or []
    if len(stages) < 2:
        return []
    k, n = header.n_instances, header.n_features
    sel = [int(i) for i in instances]
    out = []
    for st in sorted(stages, key=lambda s: s["start_step"]):
        text = "unknown"
        try:
            fp = np.asarray(st.get("feature_probability"), dtype=np.float64)
        except (TypeError, ValueError):
            fp = None
        if fp is not None and fp.shape == (k, n) and np.all((fp > 0) & (fp <= 1)):
            lo, hi = float(fp[sel].min()), float(fp[sel].max())
            text = f"{lo:.3g}" if lo == hi else f"{lo:.3g}..{hi:.3g}"
        out.append((int(st["start_step"]), text))
    return out


def index_at(stages, step: float) -> int:
    """Index of the stage that training step ``step`` falls in (the last one starting at or before it)."""
    starts = np.array([s for s, _ in stages], dtype=np.float64)
    return max(int(np.searchsorted(starts, float(step), side="right")) - 1, 0)


def current(stages, step: float) -> str:
    """The 1 − S text of the stage of ``step`` ("0.01"); "" without stages."""
    return stages[index_at(stages, step)][1] if stages else ""


def readout(stages, step: float) -> str:
    """The step box's line for ``step``: "1-S  0.01 (4/5)" (the stage's 1 − S, stage j of J)."""
    j = index_at(stages, step)
    return f"1-S {stages[j][1] + f' ({j + 1}/{len(stages)})':>11}"


def title(stages) -> str:
    """The title's 1 − S part of a staged run: "1-S by stage 1→0.3→0.1→0.01→0.001"."""
    return "1-S by stage " + "→".join(text for _, text in stages)


def draw_marks(ax, stages, *, fontsize: float, theme: dict, max_rows: int = 4, skip_px: float = 0.0) -> list:
    """Stage boundaries on the loss axes ``ax`` (log y): a thin vertical line at each stage's first
    step (after step 0) and a label just right of it ("1-S=1" for the first stage, then the value
    alone: "0.3", "0.1", …), in a band at the bottom of the
    axes that the y range is widened downwards to hold (above the lowest ``skip_px`` pixels, where
    the event numbers sit), so no label covers the loss curve. Each label takes the lowest row where
    it overlaps no earlier label; the band has as many rows as that needs, at most ``max_rows`` and
    at most a quarter of the axes' height. A label with no free row is left out (the line alone
    marks the stage; the step readout names the current 1 − S in every frame).

    Call after the axes' x limits and scale are final. Returns the label Texts drawn.
    """
    if not stages:
        return []
    from matplotlib.transforms import IdentityTransform

    fig = ax.figure
    r = fig.canvas.get_renderer()
    pad = 0.3 * fontsize * fig.dpi / 72
    bb = ax.bbox
    x_lo, x_hi = ax.get_xlim()
    # the labels and their rows (x positions do not depend on the y range)
    placed: list[tuple[Text, int | None, float]] = []  # (label, its row or None: it does not fit, height)
    rows_end: list[float] = []  # the right end of each row's last label
    lines = []
    for j, (start, text) in enumerate(stages):
        if not x_lo <= start <= x_hi:
            continue
        if j > 0:
            lines.append(start)
        x0 = ax.transData.transform((start, 1.0))[0] + pad
        name = text if placed else f"1-S={text}"  # "1-S=1", then the values alone (short: more fit)
        # an opaque background: the event ticks' dashed lines pass behind the label instead of through it
        t = ax.text(x0, 0, name, transform=IdentityTransform(), ha="left", va="bottom",
                    fontsize=fontsize, color=theme["muted"], zorder=4, clip_on=False,
                    bbox=dict(boxstyle="square,pad=0.1", facecolor=theme.get("bg", "white"), edgecolor="none"))
        ext = t.get_window_extent(r)
        x1 = x0 + ext.width + pad
        free = next((k for k, end in enumerate(rows_end) if x0 >= end), len(rows_end))
        row: int | None = None
        if x1 <= bb.x1:
            row = free
            if free == len(rows_end):
                rows_end.append(x1)
            else:
                rows_end[free] = x1
        placed.append((t, row, ext.height + 2 * pad))
    row_h = max((h for _, _, h in placed), default=0.0)
    rows = min(len(rows_end), max_rows, max(1, int((0.25 * bb.height - skip_px) // max(row_h, 1.0))))
    # widen the log y range downwards by the band's height
    band = rows * row_h + skip_px + pad
    lo, hi = ax.get_ylim()
    if bb.height > band and lo > 0 and hi > lo:
        ax.set_ylim(lo / (hi / lo) ** (band / (bb.height - band)), hi)
    for start in lines:
        ax.axvline(start, color=theme["outline"], lw=0.8, alpha=0.9, zorder=1.5)
    labels = []
    for t, row, _ in placed:
        if row is None or row >= rows:
            t.remove()
            continue
        t.set_position((t.get_position()[0], bb.y0 + skip_px + pad + row * row_h))
        labels.append(t)
    return labels
