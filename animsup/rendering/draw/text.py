"""Fast text for what moves (feature ids, the step readout, the quiet-feature count): glyphs
rendered once with FreeType, composited into the RGBA buffer with numpy."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from animsup.rendering.draw.context import BufferRect

#: a cached glyph: coverage (shape: [h, w], 0..1), bitmap left offset, top bearing, advance (pixels)
Glyph = tuple[np.ndarray, int, int, float]


class Sprites:
    """Glyph coverage masks of one font and size rendered once with FreeType, composited into
    the RGBA buffer with numpy. (matplotlib lays out and rasterises a Text from scratch on every
    draw, ~1 ms each: half the frame time with labels.)"""

    def __init__(self, family: str, size_pt: float, dpi: float):
        from matplotlib.backends.backend_agg import get_hinting_flag
        from matplotlib.font_manager import FontProperties, findfont
        from matplotlib.ft2font import FT2Font

        self.family, self.size_pt = family, size_pt  # (a vector figure sets the same text as a Text)
        self.font = FT2Font(findfont(FontProperties(family=family)))
        self.font.set_size(size_pt, dpi)
        self.flags = get_hinting_flag()
        px = size_pt * dpi / 72
        self.ascent = int(math.ceil(self.font.ascender / self.font.units_per_EM * px))
        self.height = self.ascent + int(math.ceil(-self.font.descender / self.font.units_per_EM * px))
        self._glyphs: dict[str, Glyph] = {}
        self._lines: dict[str, np.ndarray] = {}

    def _glyph(self, ch: str) -> Glyph:
        g = self._glyphs.get(ch)
        if g is None:
            f = self.font
            f.set_text(ch, 0.0, flags=self.flags)
            f.draw_glyphs_to_bitmap(antialiased=True)
            img = np.asarray(f.get_image(), dtype=np.float32) / 255.0
            # the bitmap's first column sits at floor(ink bbox xMin) from the pen (FT2Font places a
            # glyph at its hinted bitmap left): narrow glyphs ("." "-" in the monospace readout) sit
            # mid-cell, as in matplotlib's own text
            left = math.floor(f.get_bitmap_offset()[0] / 64)
            m = f.load_char(ord(ch), flags=self.flags)
            g = (img, left, int(round(m.horiBearingY / 64)), m.linearHoriAdvance / 65536)
            self._glyphs[ch] = g
        return g

    def line(self, text: str) -> np.ndarray:
        """Coverage (shape: [height, width], 0..1) of one line of text."""
        cov = self._lines.get(text)
        if cov is not None:
            return cov
        width = int(math.ceil(sum(self._glyph(c)[3] for c in text))) + 4
        cov = np.zeros((self.height + 2, width), dtype=np.float32)
        pen = 1.0
        for c in text:
            img, bx, by, adv = self._glyph(c)
            if img.size:
                x = int(round(pen)) + bx
                y = self.ascent + 1 - by
                h, w = img.shape
                x0, y0 = max(x, 0), max(y, 0)
                x1, y1 = min(x + w, width), min(y + h, cov.shape[0])
                if x1 > x0 and y1 > y0:
                    np.maximum(cov[y0:y1, x0:x1], img[y0 - y:y1 - y, x0 - x:x1 - x], out=cov[y0:y1, x0:x1])
            pen += adv
        if len(self._lines) < 512:  # labels repeat; step numbers do not
            self._lines[text] = cov
        return cov

    @staticmethod
    def blend(buf: np.ndarray, cov: np.ndarray, x: int, y: int, rgb: np.ndarray,
              dirty: list[BufferRect] | None = None) -> None:
        """Paint ``rgb`` with coverage ``cov`` at top-left pixel (x, y) of ``buf`` (H, W, 4);
        the rectangle painted (rows, columns) is appended to ``dirty``."""
        H, W = buf.shape[:2]
        h, w = cov.shape
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
        if x1 <= x0 or y1 <= y0:
            return
        if dirty is not None:
            dirty.append((y0, y1, x0, x1))
        a = cov[y0 - y:y1 - y, x0 - x:x1 - x, None]
        region = buf[y0:y1, x0:x1, :3]
        f = region.astype(np.float32)
        f += (rgb - f) * a  # = region (1 - a) + rgb a, with fewer temporaries
        np.copyto(region, f, casting="unsafe")
