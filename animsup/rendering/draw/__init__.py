"""Per-frame arrays -> RGBA pixels, with matplotlib's Agg canvas (never pyplot).

:class:`FrameDrawer` (:mod:`.compositor`) builds the figure once from a
:class:`animsup.rendering.frames.Scene` and composes it of *parts*
(:class:`animsup.rendering.draw.context.Part`: ``update(frame)``, ``boxes()``,
``paint_text(buf, dirty)``), each drawing with the public :class:`DrawContext`
(:mod:`.context`: the figure, the scene, the theme, sizes, feature colours, ``px()``,
``fit_width()``, ``instance_color()``, ``animate()``). Everything static is drawn once into a
cached background; per frame the moving artists are created once and updated (``set_segments``,
``set_offsets``, ``set_data``), never re-created, and blitted; labels, the step/loss text and the
loss cursor are painted with numpy (:mod:`.text`: cached glyphs), which costs a fraction of
matplotlib's per-artist overhead.

The parts:

- the main view, chosen by ``n_hidden``: 2 or 1, the hidden plane or line (:mod:`.plane`, its
  labels :mod:`.labels`); >= 3, the WᵀW heatmap, the bias column and per-feature norms
  (:mod:`.heatmap`). ``grid`` scenes show every instance in small panels.
- the loss panel (:mod:`.loss`): log scale, raw faint, moving average bold, a cursor at the
  current step and the step/loss readout; shared by all instances of a grid.
- the extra panels under it (:mod:`animsup.rendering.panels`, e.g. ``panels=("bias",)``).
- the event caption.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from animsup.rendering.draw.compositor import FrameDrawer
from animsup.rendering.config import parse_size
from animsup.rendering.draw.context import DrawContext, Part, overlap
from animsup.rendering.draw.text import Sprites
from animsup.rendering.draw.theme import THEMES, Theme, feature_colors, rgb255
from animsup.rendering.draw.ticks import unicode_log_ticks

if TYPE_CHECKING:
    from animsup.rendering.panels.bias import BiasPanel

__all__ = ["THEMES", "BiasPanel", "DrawContext", "FrameDrawer", "Part", "Sprites", "Theme", "feature_colors", "overlap",
           "parse_size", "rgb255", "unicode_log_ticks"]


def __getattr__(name: str) -> object:
    if name == "BiasPanel":  # moved to animsup.rendering.panels.bias (imported on first use)
        from animsup.rendering.panels.bias import BiasPanel

        return BiasPanel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
