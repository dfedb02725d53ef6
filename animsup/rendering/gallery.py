"""The gallery of ``animsup minima``: one small drawing per trained instance, sorted by final
loss, the instances outside the best outcome framed in red (the outcomes and their classes are
:mod:`animsup.analysis.minima`, which stays numpy only; the drawing is here, with matplotlib)."""

from __future__ import annotations

import os

import numpy as np

from animsup.analysis import minima, ranking
from animsup.analysis.minima import Outcome
from animsup.atomic import atomic_path
from animsup.escape import PLAIN_TEXT_RC, plain_text


def draw_gallery(outcomes: list[Outcome], path: str | os.PathLike, *, columns: int | None = None, panel_inches: float = 1.25,
                 dpi: int = 80, title: str | None = None) -> str:
    """One small panel per instance (:class:`animsup.analysis.minima.Outcome`), sorted by final loss; instances outside the best class get a
    red frame and title. n_hidden = 2: the feature vectors (colour = feature index, darker = more
    important); otherwise the W^T W matrix. Written atomically. Every text (seeds and the title
    come from logs) is drawn as typed (:data:`animsup.escape.PLAIN_TEXT_RC`)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    with matplotlib.rc_context(PLAIN_TEXT_RC):
        return _draw_gallery(outcomes, path, columns=columns, panel_inches=panel_inches, dpi=dpi, title=title)


def _draw_gallery(outcomes: list[Outcome], path: str | os.PathLike, *, columns: int | None, panel_inches: float,
                  dpi: int, title: str | None) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    if not outcomes:
        raise ValueError("no outcomes to draw")
    groups = minima.assign_groups(outcomes)
    rank = {g.name: k for k, g in enumerate(groups)}
    order = sorted(outcomes, key=lambda o: (rank[o.group], ranking.rank_key([o.final_loss])[0]))
    good = minima.best_ids(outcomes)
    several = len(groups) > 1
    n = len(order)
    cols = columns or max(4, int(np.ceil(np.sqrt(n * 1.6))))
    rows = int(np.ceil(n / cols))
    lines = []
    if title:  # wrapped here, so the header's height fits it (8 pt: ~0.62 x 8 pt a character)
        import textwrap

        chars = max(20, int(0.9 * cols * panel_inches * 72 / (8 * 0.62)))
        lines = [part for para in title.split("\n") for part in textwrap.wrap(plain_text(para), chars) or [""]]
    head = 0.3 + 0.15 * len(lines)  # the title, and room for the first row's panel titles
    fig = Figure(figsize=(cols * panel_inches, rows * (panel_inches + 0.32) + head), dpi=dpi)
    if lines:
        fig.text(0.5, 1 - 0.05 / (rows * (panel_inches + 0.32) + head), "\n".join(lines), ha="center", va="top",
                 fontsize=8, linespacing=1.15)
    lim = max(1.0, max(float(np.linalg.norm(o.W, axis=0).max()) for o in order)) * 1.32
    n_features = order[0].W.shape[1]
    tab10 = matplotlib.colormaps["tab10"]
    palette = [tab10(i) for i in range(10)]  # its ten colours (RGBA)
    red = "#c0392b"
    for j, o in enumerate(order):
        ax = fig.add_subplot(rows, cols, j + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        bad = o.id not in good
        if o.W.shape[0] == 2:
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            strong = set(o.represented)
            for f in np.argsort(np.linalg.norm(o.W, axis=0)):  # strongest drawn last
                x, y = o.W[:, f]
                colour = palette[f % 10] if f in strong else "#aaaaaa"
                ax.plot([0, x], [0, y], color=colour, lw=1.3 if f in strong else 0.6)
                if f in strong:
                    ax.plot([x], [y], "o", ms=2.5, color=colour)
                    ax.text(x * 1.18, y * 1.18, str(f), fontsize=5, ha="center", va="center", color=colour)
        else:
            G = o.W.T @ o.W
            v = max(1e-9, float(np.abs(G).max()))
            ax.imshow(G, cmap="RdBu", vmin=-v, vmax=v)
        label = o.shape if o.shape is not None else f"{len(o.represented)} of {n_features}"
        where = f"{o.group} " if several else ""
        ax.set_title(f"#{o.id} {where}seed {plain_text(o.seed)}\n{o.final_loss:.4f} {label}", fontsize=6, color=red if bad else "black",
                     pad=2, linespacing=1.1)
        for sp in ax.spines.values():
            sp.set_color(red if bad else "#999999")
            sp.set_linewidth(1.8 if bad else 0.6)
    H = rows * (panel_inches + 0.32) + head
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - head / H, wspace=0.06, hspace=0.42)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return os.fspath(path)
