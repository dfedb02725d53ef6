"""The plane view's text: feature ids placed greedily around the tips so that they never overlap,
and the count of the quiet features (near the origin) in a panel corner where it covers no tip
or shaft. A base of :class:`animsup.rendering.draw.plane.PlaneView` (which sets the attributes
declared here)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.text import Sprites

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from animsup.rendering.draw.context import BufferRect, DrawContext

#: a placed label: coverage (shape: [h, w]), top-left x and y in buffer pixels
Label = tuple[np.ndarray, int, int]


class PlaneLabels:
    """Feature ids and the quiet-feature count of a plane view."""

    MAX_LABELS = 12
    #: a small grid panel labels at most this many features (the longest columns W_i that fit)
    GRID_LABELS = 3
    #: grid panels narrower than this (pixels) get no feature ids (the grid's note says so)
    GRID_LABEL_MIN_PX = 40

    # label candidates around a tip: (direction angle offset from "outward", distance factor)
    _PLANE_CANDS = np.array([(da, dist) for dist in (1.0, 1.7) for da in (0, 0.45, -0.45, 0.9, -0.9, 1.5, -1.5, 2.2, -2.2)]
                            + [(da, 1.0) for da in (2.7, -2.7, math.pi)])  # last: inwards (tips at a small panel's edge)
    _LINE_CANDS = np.array([(0, 1), (0, -1), (0, 2), (0, -2), (0, 3), (0, -3)], dtype=float)

    # set by the view
    ctx: DrawContext
    ax: Axes
    line: bool
    untied: bool
    dot_size: float
    max_labels: int | None
    crowded: bool
    top: np.ndarray  # (shape: [n_features]) bool: drawn in full
    label_font: Sprites
    label_h: int
    label_pos: list[Label]
    quiet_font: Sprites
    quiet_label: str
    quiet_n: int
    quiet_box: tuple[int, int, int, int] | None
    muted_rgb: np.ndarray
    _quiet_obstacles: np.ndarray
    _label_order: np.ndarray
    _label_key: tuple[bytes, bytes, bytes, bytes | None] | None
    _label_cache: list[Label]
    _dec_points: np.ndarray | None

    def _to_pixels(self, P: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _label_limits(self, norm: np.ndarray, quiet: np.ndarray
                      ) -> tuple[tuple[float, float, float, float], np.ndarray, np.ndarray]:
        """The box labels must stay in (display pixels), the features to label in order, and which
        features are no obstacle."""
        bb = self.ax.bbox
        lim = (bb.x0 - 2, bb.y0 - 2, bb.x1 + 2, bb.y1 + 2)
        order = self._label_order
        if self.max_labels:  # a grid panel: the longest columns only, and inside the panel (its neighbours' titles)
            live = np.flatnonzero(~quiet)
            order = live[np.argsort(-norm[live], kind="stable")[: self.max_labels]]
            lim = (bb.x0 + 1, bb.y0 + 1, bb.x1 - 1, bb.y1 - 1)
        elif self.crowded:  # only the drawn-in-full features get labels; their tips are the obstacles
            order = order[self.top[order]]
            quiet = ~self.top
        return lim, order, quiet

    def _place_labels(self, P: np.ndarray, norm: np.ndarray, quiet: np.ndarray) -> None:
        """Greedy collision-free labels: most important features first, candidate offsets
        around the tip (outward first); a label with no free spot is hidden. All candidates
        of a label are tested at once against the tips and the labels placed so far.
        Tips are placed at whole pixels, and a frame whose tips, labelled features and obstacles
        are the same as the last frame's reuses its placement (late in training most frames)."""
        pix = np.round(self._to_pixels(P))
        lim, order, quiet = self._label_limits(norm, quiet)
        # tip dots are obstacles too
        r = math.sqrt(self.dot_size) * self.ctx.scene.dpi / 72 / 2 + 1
        live = pix[~quiet]
        obst = [np.concatenate([live - r, live + r], 1)]
        dp = None
        if self.untied and self._dec_points is not None and len(self._dec_points):
            dp = np.round(self._to_pixels(self._dec_points))
            obst.append(np.concatenate([dp - r * 1.3, dp + r * 1.3], 1))
        key = (pix.tobytes(), np.asarray(order).tobytes(), quiet.tobytes(), None if dp is None else dp.tobytes())
        if key == self._label_key:
            self.label_pos = list(self._label_cache)
            return
        self._label_key = key
        boxes = np.concatenate(obst + [np.zeros((len(order), 4))])  # obstacles, then the labels placed
        self._place(pix, order, quiet, lim, boxes, sum(len(o) for o in obst))
        self._label_cache = list(self.label_pos)

    def _place(self, pix: np.ndarray, order: np.ndarray, quiet: np.ndarray, lim: tuple[float, float, float, float],
               boxes: np.ndarray, n_box: int) -> None:
        """Place the labels of ``order`` around their tips ``pix`` (display pixels), clear of the
        first ``n_box`` rows of ``boxes`` (x0, y0, x1, y1; each label placed is added)."""
        origin = self._to_pixels(np.zeros((1, 2)))[0]
        base_d = self.label_h * (0.55 if self.max_labels else 0.9)  # grid panels: close to the tip
        H = self.ctx.height
        if self.line:
            dx = np.zeros(len(self._LINE_CANDS))
            dy = np.sign(self._LINE_CANDS[:, 1])
            dist = np.abs(self._LINE_CANDS[:, 1])
        else:
            da, dist = self._PLANE_CANDS[:, 0], self._PLANE_CANDS[:, 1]
        for i in order:
            if quiet[i]:
                continue
            cov = self.label_font.line(str(i))
            h, w = cov.shape
            px, py = pix[i]
            if not self.line:
                vx, vy = px - origin[0], py - origin[1]
                a0 = math.atan2(vy, vx) if math.hypot(vx, vy) > 0 else math.pi / 2
                dx, dy = np.cos(a0 + da), np.sin(a0 + da)
            cx = px + dx * (base_d * dist + w / 2)
            cy = py + dy * (base_d * dist + h / 4)
            x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
            ok = (x0 >= lim[0]) & (x1 <= lim[2]) & (y0 >= lim[1]) & (y1 <= lim[3])
            if not ok.any():
                continue
            B = boxes[:n_box]
            hit = ((x0[:, None] < B[:, 2]) & (B[:, 0] < x1[:, None]) & (y0[:, None] < B[:, 3]) & (B[:, 1] < y1[:, None]))
            ok &= ~hit.any(1)
            if not ok.any():
                continue
            j = int(np.argmax(ok))
            boxes[n_box] = (x0[j], y0[j], x1[j], y1[j])
            n_box += 1
            self.label_pos.append((cov, int(round(x0[j])), int(round(H - cy[j] - h / 2))))

    def _paint_quiet_label(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        """The long text, else the short one, in the first panel corner (TL, TR, BL, BR) where it
        covers no tip or shaft; failing that the short text where it covers least. A function of
        the frame alone, so frames drawn in workers are the same as in process."""
        bb = self.ax.bbox
        pad = int(0.5 * self.ctx.fs * self.ctx.scene.dpi / 72)
        self.quiet_box = None
        best = None
        least = None
        for text in (self.quiet_label, f"{self.quiet_n} ≈ 0"):
            cov = self.quiet_font.line(text)
            if cov.shape[1] > bb.width - 2 * pad:
                continue
            least = None
            for corner in self._quiet_corners(cov.shape, pad):
                hits = self._quiet_hits(cov.shape, corner)
                if least is None or hits < least:
                    least, best = hits, (cov, corner)
                if hits == 0:
                    break
            if least == 0:
                break
        if best is not None and least == 0:  # never over a tip or shaft (the grid's footnote explains)
            cov, (x, y) = best
            h, w = cov.shape
            self.quiet_box = (x, y, x + w, y + h)
            Sprites.blend(buf, cov, x, y, self.muted_rgb, dirty)

    def _quiet_corners(self, shape: tuple[int, ...], pad: int) -> Iterator[tuple[int, int]]:
        """Top-left pixels of a label of ``shape`` in the panel's corners, in order TL, TR, BL, BR."""
        h, w = shape
        bb, H = self.ax.bbox, self.ctx.height
        for y in (int(H - bb.y1) + pad, int(H - bb.y0) - pad - h):
            for x in (int(bb.x0) + pad, int(bb.x1) - pad - w):
                yield x, y

    def _quiet_hits(self, shape: tuple[int, ...], corner: tuple[int, int]) -> int:
        """How many tips and shaft points a label of ``shape`` at ``corner`` would cover."""
        (h, w), (x, y), pts = shape, corner, self._quiet_obstacles
        m = 4
        return int(np.count_nonzero((pts[:, 0] > x - m) & (pts[:, 0] < x + w + m) & (pts[:, 1] > y - m)
                                    & (pts[:, 1] < y + h + m)))
