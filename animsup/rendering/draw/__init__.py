"""Per-frame arrays -> RGBA pixels, with matplotlib's Agg canvas (never pyplot).

:class:`FrameDrawer` builds the figure once from a :class:`animsup.rendering.frames.Scene`:
everything that never changes (axes, ticks, the whole loss curve, colourbar,
title) is drawn once into a cached background; each frame restores the
background only in the rectangles the previous frame drew in (the moving views'
axes, the cursor strip, text boxes), draws the moving artists over it
(blitting), then hands out the canvas's RGBA buffer. Moving artists are created
once and updated (``set_segments``, ``set_offsets``, ``set_data``), never
re-created; labels, the step/loss text and the loss cursor are painted with
numpy (cached glyphs, an antialiased line and dots), which costs a fraction of
matplotlib's per-artist overhead.

Views, chosen by ``n_hidden``:

- 2: the hidden plane. Each feature's column W_i is an arrow from the origin with
  a dot at its tip, coloured by importance; labels are placed greedily so they
  never overlap (a label that cannot be placed is dropped); features with a
  near-zero norm become a quiet cluster at the origin with one count label; a
  faint outline joins the represented features in angular order.
  Untied models add the decoder rows as dashed arrows with hollow tips.
- 1: the same on a line.
- >= 3: the WᵀW heatmap (diverging colormap, fixed symmetric range), the bias as
  a column beside it, and per-feature norms as bars.

The right side is the loss (log scale: raw faint, moving average bold) with a
cursor at the current step; ``panels=("bias",)`` adds the bias as bars.
``grid`` scenes show every instance in small panels sharing one loss panel.
"""

from __future__ import annotations

import math

import numpy as np

from animsup import models
from animsup.rendering.frames import QUIET_FRACTION, Frame, Scene
from animsup.rendering.panels import Panel

THEMES = {
    "light": {
        "bg": "#ffffff",
        "fg": "#1f2328",
        "muted": "#6e7781",
        "faint": "#d0d7de",
        "grid": "#eaeef2",
        "outline": "#8c959f",
        "cursor": "#cf222e",
        "cmap": ("viridis", 0.0, 0.82),  # (name, low, high): high importance = dark end
        "reverse": True,
        "heat": "RdBu_r",
        "caption_bg": "#fff8c5",
    },
    "dark": {
        "bg": "#0d1117",
        "fg": "#e6edf3",
        "muted": "#8b949e",
        "faint": "#30363d",
        "grid": "#21262d",
        "outline": "#6e7681",
        "cursor": "#ff7b72",
        "cmap": ("plasma", 0.25, 1.0),  # high importance = bright end
        "reverse": False,
        "heat": "RdBu_r",
        "caption_bg": "#3d2e00",
    },
}

# instance colours for the grid's shared loss panel
_INSTANCE_CMAP = "tab10"

# dots as a 24-sided polygon: looks round at these sizes, and matplotlib's per-draw
# extent check of a circle marker (Bezier extrema) cost ~1-4 ms a frame
_DOT = (24, 0, 0)


def _mpl():
    import matplotlib

    return matplotlib


def parse_size(text) -> tuple[int, int]:
    """'1280x720' -> (1280, 720), rounded up to even numbers (see :func:`animsup.rendering.config.parse_size`)."""
    from animsup.rendering.config import parse_size as _parse

    return _parse(text)


def feature_colors(importance: np.ndarray, theme: dict) -> tuple[np.ndarray, object, object]:
    """RGBA per feature (shape: [n_features, 4]), plus the (cmap, norm) for a colourbar."""
    mpl = _mpl()
    from matplotlib.colors import ListedColormap, Normalize

    name, lo, hi = theme["cmap"]
    base = mpl.colormaps[name]
    cols = base(np.linspace(lo, hi, 256))
    if theme["reverse"]:
        cols = cols[::-1]
    cmap = ListedColormap(cols)
    imp = np.asarray(importance, dtype=np.float64)
    vmin, vmax = float(imp.min()), float(imp.max())
    if vmax - vmin < 1e-12:
        vmin, vmax = vmin - 1, vmax + 1
    norm = Normalize(vmin, vmax)
    return cmap(norm(imp)), cmap, norm


class _Sprites:
    """Fast text for the moving labels: glyph coverage masks rendered once with FreeType,
    composited into the RGBA buffer with numpy. (matplotlib lays out and rasterises a
    Text from scratch on every draw, ~1 ms each: half the frame time with labels.)"""

    def __init__(self, family: str, size_pt: float, dpi: float):
        from matplotlib.backends.backend_agg import get_hinting_flag
        from matplotlib.font_manager import FontProperties, findfont
        from matplotlib.ft2font import FT2Font

        self.font = FT2Font(findfont(FontProperties(family=family)))
        self.font.set_size(size_pt, dpi)
        self.flags = get_hinting_flag()
        px = size_pt * dpi / 72
        self.ascent = int(math.ceil(self.font.ascender / self.font.units_per_EM * px))
        self.height = self.ascent + int(math.ceil(-self.font.descender / self.font.units_per_EM * px))
        self._glyphs: dict = {}
        self._lines: dict = {}

    def _glyph(self, ch: str):
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
    def blend(buf: np.ndarray, cov: np.ndarray, x: int, y: int, rgb: np.ndarray, dirty: list | None = None) -> None:
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


def _rgb(color) -> np.ndarray:
    from matplotlib.colors import to_rgb

    return np.array(to_rgb(color), dtype=np.float32) * 255.0


class FrameDrawer:
    """Draws frames of one scene. ``draw(frame)`` returns an (H, W, 4) uint8 view of the
    canvas, valid until the next call (copy it if you keep it)."""

    def __init__(self, scene: Scene):
        mpl = _mpl()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.scene = scene
        self.theme = THEMES[scene.theme]
        w, h = scene.size
        self.width, self.height = int(w), int(h)
        dpi = scene.dpi
        self.pt = dpi / 72  # pixels per point
        # + 1e-3 px so Agg's int() truncation gives exactly w x h
        with mpl.rc_context(self._rc()):
            self.fig = Figure(figsize=((w + 1e-3) / dpi, (h + 1e-3) / dpi), dpi=dpi, facecolor=self.theme["bg"])
            self.canvas = FigureCanvasAgg(self.fig)
            # text size in points, scaled with the frame; in pixels it grows with dpi (dpi 160: 1.6x larger text)
            self.fs = 10.0 * min(w / 1280, h / 720)
            self.fs = max(self.fs, 6.0)
            self._dynamic: list = []
            self._build()
            for a in self._dynamic:
                a.set_animated(True)
            self.canvas.draw()
        buf = np.asarray(self.canvas.buffer_rgba())
        if buf.shape[:2] != (self.height, self.width):
            raise RuntimeError(f"canvas is {buf.shape[1]}x{buf.shape[0]}, expected {self.width}x{self.height}")
        # the static background; each frame restores only the rectangles the last frame drew in
        self._bg = buf.copy()
        self._static_rects = [self._rect(bb, 4) for bb in self._dynamic_boxes()]
        self._dirty: list = []

    # ------------------------------------------------------------------ layout

    def _rc(self) -> dict:
        t = self.theme
        return {
            "figure.facecolor": t["bg"],
            "axes.facecolor": t["bg"],
            "axes.edgecolor": t["faint"],
            "axes.labelcolor": t["fg"],
            "text.color": t["fg"],
            "xtick.color": t["muted"],
            "ytick.color": t["muted"],
            "xtick.labelcolor": t["muted"],
            "ytick.labelcolor": t["muted"],
            "grid.color": t["grid"],
            "font.size": 10.0 * min(self.scene.size[0] / 1280, self.scene.size[1] / 720),
            "axes.titlesize": "medium",
            "path.simplify": True,
        }

    def _fit_width(self, text, width_px: float) -> None:
        """Shrink a Text's font until it is at most ``width_px`` wide (large text, long titles)."""
        r = self.canvas.get_renderer()
        w = text.get_window_extent(r).width
        if w > width_px:
            text.set_fontsize(text.get_fontsize() * width_px / w * 0.98)

    def fit_title(self, ax, candidates, box, **kw) -> None:
        """Title ``ax`` with the first of ``candidates`` (longest first; or one string) that fits in
        its cell ``box`` (x0, y0, w, h pixels; the title is centred on the axes), shrinking the last
        one's font if none does."""
        if isinstance(candidates, str):
            candidates = (candidates,)
        r = self.canvas.get_renderer()
        pos = ax.get_position()
        cx = (pos.x0 + pos.width / 2) * self.width
        room = 2 * min(cx - box[0], box[0] + box[2] - cx) - 4
        for text in candidates:
            t = ax.set_title(text, **kw)
            if t.get_window_extent(r).width <= room:
                return
        self._fit_width(t, room)

    @staticmethod
    def mpl_colormap(name: str):
        return _mpl().colormaps[name]

    def animate(self, *artists) -> None:
        """Mark ``artists`` as moving: redrawn every frame over the cached background."""
        self._dynamic.extend(artists)

    @property
    def _parts(self) -> list:
        """Everything updated per frame: the main views (one per instance), then the panels."""
        return self._views + self.panels

    def _px(self, x, y, w, h):
        """Axes rect from pixels (origin bottom-left) to figure fractions."""
        return [x / self.width, y / self.height, max(w, 1.0) / self.width, max(h, 1.0) / self.height]  # tiny frames: >= 1 px

    def _build(self) -> None:
        s = self.scene
        W, H = self.width, self.height
        pt = self.scene.dpi / 72  # pixels per point
        title_h = 2.6 * self.fs * pt
        title = self.fig.text(
            0.5, 1 - 0.55 * title_h / H, s.title, ha="center", va="center", fontsize=self.fs * 1.05, color=self.theme["fg"]
        )
        self._fit_width(title, 0.97 * W)
        self.colors, self.cmap, self.norm = feature_colors(s.importance, self.theme)
        if s.feature_sets:  # correlated/anticorrelated sets: a colour family per set (animsup.rendering.feature_sets)
            from animsup.rendering.feature_sets import set_colors

            self.colors = set_colors(self.colors, s.feature_sets, s.theme)
        top = H - title_h - 0.6 * self.fs * pt
        caption_h = 2.6 * self.fs * pt if s.events else 0.0
        bottom = 3.2 * self.fs * pt + caption_h
        left_w = 0.56 * W
        # right column: the loss panel, then the extra panels (animsup.rendering.panels) under it
        rx = left_w + 5.5 * self.fs * pt
        rw = W - rx - 1.6 * self.fs * pt
        from animsup.rendering.panels import load_panel

        classes = [load_panel(name) for name in s.panels]
        gap = 4.8 * self.fs * pt  # the loss panel's tick labels and x label, then the panel's title
        avail = top - bottom - 1.5 * self.fs * pt - gap * len(classes)
        unit = avail / (1.0 + sum(c.height for c in classes))
        y = bottom
        self.panels = []
        for cls in reversed(classes):
            h = unit * cls.height
            self.panels.insert(0, cls(self, self._px(rx, y, rw, h)))
            y += h + gap
        self._build_loss(self._px(rx, y, rw, top - 1.5 * self.fs * pt - y))
        lm = 4.2 * self.fs * pt  # room for tick labels
        box = (lm, bottom, left_w - lm, top - bottom)
        if s.grid:
            self._build_grid(box)
        else:
            self._views = [self._build_view(box, 0, labels=True, colorbar=True)]
        self.caption = self.fig.text(
            0.5,
            0.5 * max(caption_h, 2.6 * self.fs * pt) / H,
            "",
            ha="center",
            va="center",
            fontsize=self.fs * 1.05,
            color=self.theme["fg"],
            bbox=dict(boxstyle="round,pad=0.35", fc=self.theme["caption_bg"], ec="none"),
        )
        self.caption.set_visible(False)
        self._dynamic.append(self.caption)

    def _build_view(self, box, k: int, *, labels: bool, colorbar: bool, label_text: str | None = None):
        m = self.scene.n_hidden
        if m >= 3:
            return _GramView(self, box, k, colorbar=colorbar, label_text=label_text)
        return _PlaneView(self, box, k, labels=labels, colorbar=colorbar, label_text=label_text)

    def _build_grid(self, box) -> None:
        s = self.scene
        x0, y0, bw, bh = box
        if s.n_hidden >= 3:  # room under the note for the shared colour scales (_grid_scales)
            y0, bh = y0 + 2.4 * self.fs * self.pt, bh - 2.4 * self.fs * self.pt
        K = len(s.instances)
        # choose rows x cols maximising panel size
        best = None
        for cols in range(1, K + 1):
            rows = math.ceil(K / cols)
            side = min(bw / cols, bh / rows)
            if best is None or side > best[0]:
                best = (side, rows, cols)
        side, rows, cols = best
        self._views = []
        gx = x0 + (bw - cols * side) / 2
        gy = y0 + (bh - rows * side) / 2
        big = side > 260
        for k in range(K):
            r, c = divmod(k, cols)
            cell = (gx + c * side, gy + (rows - 1 - r) * side, side, side)
            self._views.append(
                self._build_view(cell, k, labels=True if big else "few", colorbar=False, label_text=s.instance_labels[k])
            )
        block = getattr(self._views[0], "block", 1)
        ids = ""
        if s.n_hidden <= 2 and not big:
            few = self._views[0].max_labels
            ids = (f"\nfeature ids: the {few} longest columns W_i of each panel, where they fit" if few else
                   "\npanels too small for feature ids (render one --instance, or a larger --size)")
        note = self.fig.text(x0 / self.width, (y0 - 0.4 * self.fs * s.dpi / 72) / self.height,
                             (f"all panels share the axes ±{s.lim:.2f} (dashed circle: norm 1); "
                              "k ≈ 0: k features at the origin (faint dots)" + ids if s.n_hidden <= 2 else
                              f"all panels share the colour scales below (blue < 0 < red); bars: ‖W_i‖ up to "
                              f"{s.norm_max:.2f}"
                              + (f"; each cell: the largest |entry| of {block}×{block} features" if block > 1 else "")),
                             fontsize=self.fs * 0.75, color=self.theme["muted"], va="top", linespacing=1.3)
        self._fit_width(note, bw)
        if s.n_hidden >= 3:
            top = note.get_window_extent(self.canvas.get_renderer()).y0 - 0.5 * self.fs * self.pt
            self._grid_scales(x0, top, bw)

    def _grid_scales(self, x: float, top: float, width: float) -> None:
        """A grid of heatmaps: the colour scales its panels share (the WᵀW cells, the bias columns), as
        two small horizontal colour bars with ticks at -r, 0 and +r, left to right from ``x`` under ``top``
        (display pixels)."""
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        s, t, fs, pt = self.scene, self.theme, self.fs, self.pt
        bar_h, name_w, gap = 0.55 * fs * pt, 5.5 * fs * pt, 2.5 * fs * pt
        bar_w = max(min((width - 2 * name_w - gap) / 2, 14 * fs * pt), 1.0)
        name = models.get(s.model).gram_label
        self.grid_scale_axes = []
        cx = x + name_w
        for label, r in ((name, s.gram_max), ("bias b", s.b_range[1])):
            cax = self.fig.add_axes(self._px(cx, top - bar_h, bar_w, bar_h))
            cb = self.fig.colorbar(ScalarMappable(Normalize(-r, r), t["heat"]), cax=cax, orientation="horizontal")
            cb.outline.set_visible(False)
            cb.set_ticks([-r, 0.0, r])
            cb.set_ticklabels([f"{v:+.2g}".replace("-", "\u2212") if v else "0" for v in (-r, 0.0, r)])
            cax.tick_params(labelsize=fs * 0.7, length=2, pad=1, colors=t["muted"])
            cax.text(-1.6 * fs * pt / max(bar_w, 1.0), 0.5, label, transform=cax.transAxes, ha="right", va="center",
                     fontsize=fs * 0.75, color=t["muted"])
            self.grid_scale_axes.append(cax)
            cx += bar_w + gap + name_w

    def instance_color(self, k: int):
        mpl = _mpl()
        K = len(self.scene.instances)
        if K == 1:
            return self.theme["fg"]
        if K <= 10:
            return mpl.colormaps["tab10"](k)
        return mpl.colormaps["turbo"](0.1 + 0.8 * k / max(K - 1, 1))

    def _build_key(self, rect) -> list:
        """Several instances: a strip of the instance colours with the panels' ids (``#i``) above
        the loss panel, linking each curve to its panel (same colour, same order as the grid).
        Returns the rect left for the loss panel."""
        s, t = self.scene, self.theme
        K = len(s.instances)
        x, y, w, h = rect
        pt, fs = self.pt, self.fs
        strip_h = 0.8 * fs * pt / self.height
        key_h = 3.4 * fs * pt / self.height
        ax = self.fig.add_axes([x, y + h - strip_h, w, strip_h])
        from matplotlib.colors import ListedColormap

        ax.imshow(np.arange(K)[None, :], cmap=ListedColormap([self.instance_color(k) for k in range(K)]),
                  aspect="auto", interpolation="nearest", extent=(-0.5, K - 0.5, 0, 1))
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_visible(False)
        n_ticks = max(2, min(K, int(w * self.width / (3.2 * fs * pt))))
        ticks = np.unique(np.linspace(0, K - 1, n_ticks).round().astype(int))
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"#{s.instances[k]}" for k in ticks])
        ax.tick_params(axis="x", labelsize=fs * 0.7, length=2, pad=1, colors=t["muted"])
        title = ax.set_title("curve colour = panel title colour (panels ordered by 1-S, then final loss)",
                             fontsize=fs * 0.75, color=t["muted"], loc="left", pad=2)
        self._fit_width(title, w * self.width)
        self.key_ax = ax
        return [x, y, w, max(h - key_h, 1.0 / self.height)]

    def _build_loss(self, rect) -> None:
        s = self.scene
        t = self.theme
        if len(s.instances) > 1:
            rect = self._build_key(rect)
        ax = self.fig.add_axes(rect)
        self.loss_ax = ax
        ax.set_yscale("log")
        unicode_log_ticks(ax.yaxis)
        if s.loss_xscale == "symlog":
            pos = s.loss_step[s.loss_step > s.loss_xlim[0]]
            ax.set_xscale("symlog", linthresh=max(1.0, float(pos[0] - s.loss_xlim[0]) if len(pos) else 1.0))
            unicode_log_ticks(ax.xaxis)
        ax.set_xlim(*s.loss_xlim)
        ax.set_ylim(*s.loss_ylim)
        ax.grid(True, which="major", lw=0.6)
        ax.tick_params(labelsize=self.fs * 0.85)
        ax.set_xlabel("training step" + (" (log scale)" if s.loss_xscale == "symlog" else ""),
                      fontsize=self.fs * 0.9, color=t["muted"])
        title = ax.set_title(
            f"loss  (raw faint, moving average over {s.smooth} logged points bold)" if s.smooth > 1 else "loss",
            fontsize=self.fs * 0.9,
            color=t["muted"],
            loc="left",
        )
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if s.loss_note == "no loss recorded":  # say so instead of an empty log-scale panel
            ax.set_yticks([], minor=False)
            ax.set_yticks([], minor=True)
            title = ax.set_title("loss", fontsize=self.fs * 0.9, color=t["muted"], loc="left")
            ax.text(0.5, 0.5, "no loss recorded", transform=ax.transAxes, ha="center", va="center",
                    fontsize=self.fs * 1.1, color=t["muted"])
        elif s.loss_note:
            title = ax.set_title(ax.get_title(loc="left") + f"; {s.loss_note}", fontsize=self.fs * 0.9, color=t["muted"],
                                 loc="left")
        # large text (--dpi) and a long title: shrink it to the frame rather than cut it at the edge
        self._fit_width(title, self.width - ax.bbox.x0 - 0.5 * self.fs * self.pt)
        x = s.loss_step
        K = s.loss_smooth.shape[1]
        for k in range(K):
            col = self.instance_color(k) if K > 1 else self.theme["fg"]
            raw_col = col if K > 1 else t["muted"]
            # the raw curve at display resolution (bin means; bins are finer than a pixel)
            ax.plot(x, s.loss_raw[:, k], color=raw_col, alpha=0.35 if K == 1 else 0.25, lw=0.7)
            ax.plot(x, s.loss_smooth[:, k], color=col, lw=1.8, solid_capstyle="round")
        # event ticks (static): a dashed line per event, and its number under the curves
        for step, _kind, _text in s.events:
            ax.axvline(step, color=t["outline"], lw=0.8, ls=(0, (2, 2)), alpha=0.8)
        self.event_labels = self._event_numbers(ax, [step for step, _, _ in s.events])
        # the cursor (a vertical line at the current step, a dot on each moving average) is
        # painted with numpy (_paint_cursor): two matplotlib artists on a log axis cost ~0.8 ms a frame
        pt = s.dpi / 72
        self._cursor_w = 1.3 * pt  # line width, px
        self._cursor_rgb, self._cursor_alpha = _rgb(t["cursor"]), 0.9
        self._dot_r, self._dot_edge = self.fs * 0.55 / 2 * pt, 0.8 * pt  # dot radius and edge width, px
        from matplotlib.colors import to_rgb

        self._dot_rgb = np.array([np.array(to_rgb(self.instance_color(k) if K > 1 else t["cursor"])) * 255 for k in range(K)],
                                 dtype=np.float32)
        self.mono = _Sprites("DejaVu Sans Mono", self.fs, s.dpi)
        self.fg_rgb, self.bg_rgb = _rgb(t["fg"]), _rgb(t["bg"])
        if s.stages:  # a staged run: the stage boundaries, clear of the step readout
            self._mark_stages(ax)

    def _mark_stages(self, ax) -> None:
        """Stage lines and labels on the loss panel (:func:`animsup.rendering.stages.draw_marks`), in a band
        under the curves and above the event numbers."""
        from animsup.rendering import stages

        s = self.scene
        skip = 1.6 * self.fs * self.pt if s.events else 0.0
        self.stage_labels = stages.draw_marks(ax, s.stages, fontsize=self.fs * 0.75, theme=self.theme, skip_px=skip)

    def _event_numbers(self, ax, steps) -> list:
        """The event numbers along the bottom of the loss axes, left to right, never overlapping:
        events closer together than their numbers are wide share one label ("2–5"), so every event
        of the key (the caption, ``animsup events``) keeps its number. Returns the Text artists."""
        r = self.canvas.get_renderer()
        px = [float(ax.transData.transform((step, 1.0))[0]) for step in steps]
        gap, off, x_max = 0.35 * self.fs * self.pt, 2 * self.pt, float(ax.bbox.x1)
        probe = self.fig.text(0, 0, "", fontsize=self.fs * 0.75)  # measures a label's width

        def width(i, j):
            probe.set_text(str(i + 1) if i == j else f"{i + 1}–{j + 1}")
            return probe.get_window_extent(r).width

        groups = []  # [first, last, left x, width] in display pixels
        for i, x in enumerate(px):
            if groups:
                g = groups[-1]
                if x + off < g[2] + g[3] + gap:  # this number would start inside the previous label
                    g[1], g[3] = i, width(g[0], i)
                    continue
            groups.append([i, i, x + off, width(i, i)])
        # labels run left to right; one running past the right edge ends there, merging with its
        # neighbours when that makes it overlap them
        while groups and groups[-1][2] + groups[-1][3] > x_max:
            g = groups[-1]
            g[2] = x_max - g[3]
            if len(groups) > 1 and g[2] < groups[-2][2] + groups[-2][3] + gap:
                prev = groups.pop(-2)
                g[0], g[2], g[3] = prev[0], prev[2], width(prev[0], g[1])
                continue
            break
        probe.remove()
        labels = []
        for i, j, x, _w in groups:
            labels.append(ax.annotate(
                str(i + 1) if i == j else f"{i + 1}–{j + 1}", (steps[i], 0.0), xycoords=("data", "axes fraction"),
                xytext=((x - px[i]) / self.pt, 3), textcoords="offset points", ha="left", va="bottom",
                fontsize=self.fs * 0.75, color=self.theme["muted"]))
        return labels

    def _paint_cursor(self, buf: np.ndarray, x: float, ys: np.ndarray, dirty: list) -> None:
        """The loss cursor at display x (an antialiased vertical line clipped to the loss axes)
        and a dot (face colour, background-coloured edge) at each display y in ``ys``."""
        H, W = self.height, self.width
        bb = self.loss_ax.bbox
        # snapped to the pixel grid like matplotlib's straight lines: crisp, whole-pixel steps
        w = self._cursor_w
        xs = math.floor(x + 0.5) if round(w) % 2 == 0 else math.floor(x) + 0.5
        a, b = xs - w / 2, xs + w / 2
        # (not clipped at the right edge of the axes: on the last frame the line sits on that edge)
        c0, c1 = max(int(math.floor(a)), int(bb.x0), 0), min(int(math.ceil(b)), W)
        r0, r1 = max(int(round(H - bb.y1)), 0), min(int(round(H - bb.y0)), H)
        if c1 > c0 and r1 > r0:
            cols = np.arange(c0, c1, dtype=np.float32)
            cov = np.clip(np.minimum(cols + 1, b) - np.maximum(cols, a), 0, 1)[None, :, None] * self._cursor_alpha
            region = buf[r0:r1, c0:c1, :3]
            region[...] = region * (1 - cov) + self._cursor_rgb * cov
            dirty.append((r0, r1, c0, c1))
        ok = np.isfinite(ys)
        if not ok.any():
            return
        r, e = self._dot_r, self._dot_edge
        half = int(math.ceil(r + e / 2 + 1))
        offs = np.arange(-half, half + 1, dtype=np.float32)
        cx0 = int(math.floor(x))
        rows = H - ys[ok]  # dot centres in row coordinates
        ry0 = np.floor(rows).astype(int)
        dx = offs[None, None, :] + (cx0 + 0.5 - x)  # pixel centres relative to the dot centres
        dy = offs[None, :, None] + (ry0 + 0.5 - rows)[:, None, None].astype(np.float32)
        d = np.sqrt(dx * dx + dy * dy)  # [dots, rows, cols]
        outer = np.clip(r + e / 2 - d + 0.5, 0, 1)[..., None]
        inner = np.clip(r - e / 2 - d + 0.5, 0, 1)[..., None]
        colors = self._dot_rgb[ok]
        for k in range(len(rows)):
            y0, x0 = ry0[k] - half, cx0 - half
            ya, xa = max(y0, 0), max(x0, 0)
            yb, xb = min(y0 + len(offs), H), min(x0 + len(offs), W)
            if yb <= ya or xb <= xa:
                continue
            sl = (k, slice(ya - y0, yb - y0), slice(xa - x0, xb - x0))
            region = buf[ya:yb, xa:xb, :3]
            out = region * (1 - outer[sl]) + self.bg_rgb * outer[sl]
            region[...] = out * (1 - inner[sl]) + colors[k] * inner[sl]
            dirty.append((ya, yb, xa, xb))

    # ------------------------------------------------------------------ per frame

    def draw(self, frame: Frame) -> np.ndarray:
        """Draw ``frame`` over the cached background. Returns (H, W, 4) uint8 (a view)."""
        s = self.scene
        for part in self._parts:
            part.update(frame)
        step = frame.step
        ys = np.array([np.interp(step, s.loss_step, s.loss_smooth[:, k]) for k in range(s.loss_smooth.shape[1])])
        if s.loss_note == "no loss recorded":
            step_lines = [f"step {step:>10,.0f}"]
        elif len(ys) == 1:
            step_lines = [f"step {step:>10,.0f}", f"loss {ys[0]:10.3e}"]
            shape = getattr(self._views[0], "shape_text", "")
            if shape:
                step_lines.append(f"shape {shape}")
        else:
            step_lines = [f"step {step:,.0f}"]
        if s.stages:  # a staged run: the 1-S of this step's stage
            from animsup.rendering.stages import readout

            step_lines.append(readout(s.stages, step))
        if frame.caption:
            self.caption.set_text(frame.caption)
            self.caption.set_visible(True)
        else:
            self.caption.set_visible(False)

        buf = np.asarray(self.canvas.buffer_rgba())
        bg = self._bg
        if len(self._dirty) > 24:  # a big grid: one copy beats many small ones
            np.copyto(buf, bg)
        else:
            for r0, r1, c0, c1 in self._dirty:
                buf[r0:r1, c0:c1] = bg[r0:r1, c0:c1]
        dirty = list(self._static_rects)
        for a in self._dynamic:
            if a.get_visible():
                self.fig.draw_artist(a)
        with np.errstate(invalid="ignore", divide="ignore"):  # log axis: a loss <= 0 has no y (no dot)
            pts = self.loss_ax.transData.transform(np.column_stack([np.full(len(ys), step), ys]))
        self._paint_cursor(buf, float(self.loss_ax.transData.transform((step, s.loss_ylim[0]))[0]), pts[:, 1], dirty)
        if self.caption.get_visible():
            dirty.append(self._rect(self.caption.get_bbox_patch().get_window_extent().extents, 4))
        for part in self._parts:
            part.paint_text(buf, dirty)
        # step and loss, top right of the loss panel
        bb = self.loss_ax.bbox
        pad = int(0.6 * self.fs * self.scene.dpi / 72)
        y = int(self.height - bb.y1) + pad
        covs = [self.mono.line(line) for line in step_lines]
        bw = max(c.shape[1] for c in covs) + pad
        bh = sum(c.shape[0] for c in covs) + pad // 2
        x0, y0 = max(int(bb.x1) - bw - pad // 2, 0), max(y - pad // 2, 0)
        # an opaque box: the cursor line and the curves pass behind the text, never through it
        x1, y1 = min(x0 + bw, self.width), min(y0 + bh, self.height)
        buf[y0:y1, x0:x1, :3] = self.bg_rgb
        dirty.append((y0, y1, x0, x1))
        self.readout_box = (x0, y0, x1, y1)  # buffer pixels (rows from the top)
        for cov in covs:
            _Sprites.blend(buf, cov, int(bb.x1) - cov.shape[1] - pad, y, self.fg_rgb, dirty)
            y += cov.shape[0]
        self._dirty = dirty
        return buf

    def _rect(self, extents, margin: int) -> tuple[int, int, int, int]:
        """Display extents (x0, y0, x1, y1; origin bottom-left) -> buffer rows and columns
        (r0, r1, c0, c1), grown by ``margin`` pixels and clipped to the frame."""
        x0, y0, x1, y1 = (extents.extents if hasattr(extents, "extents") else extents)
        H, W = self.height, self.width
        r0 = max(int(math.floor(H - y1)) - margin, 0)
        r1 = min(int(math.ceil(H - y0)) + margin, H)
        c0 = max(int(math.floor(x0)) - margin, 0)
        c1 = min(int(math.ceil(x1)) + margin, W)
        return (r0, max(r1, r0), c0, max(c1, c0))

    def _dynamic_boxes(self) -> list:
        """Display boxes of everything that moves, except the loss cursor, the step text and the
        caption (their rectangles are taken per frame): the axes the moving artists are clipped
        to (labels may stick out 2 px: the margin covers them)."""
        return [b for part in self._parts for b in part.boxes()]

    def close(self) -> None:
        self.fig.clear()


class _PlaneView:
    """The hidden plane (n_hidden = 2) or line (n_hidden = 1) of one instance."""

    def __init__(self, d: FrameDrawer, box, k: int, *, labels: bool, colorbar: bool, label_text: str | None):
        from matplotlib.collections import LineCollection, PolyCollection

        s, t = d.scene, d.theme
        self.d, self.k = d, k
        self.line = s.n_hidden == 1
        self.untied = models.get(s.model).has_decoder
        self._dec_points = None
        self._affine = None  # data -> pixels, taken at the first frame (after the layout)
        self._label_order = np.lexsort((np.arange(s.n_features), -s.importance))
        x0, y0, bw, bh = box
        pt = s.dpi / 72
        fs = d.fs
        head_room = (1.8 * fs * pt) if label_text else 0
        # the importance colourbar, then the bias column (left out when the frame is too small for it)
        self.bias_column = colorbar and bw - 8.6 * fs * pt >= 0.6 * bw
        cb_w = (8.6 * fs * pt if self.bias_column else 4.5 * fs * pt) if colorbar else 0
        side = max(min(bw - cb_w, bh - head_room), 8.0)
        if self.line:
            ah = min(side * 0.55, bh - head_room)
            rect = (x0 + (bw - cb_w - side) / 2, y0 + (bh - head_room - ah) / 2, side, ah)
        else:
            rect = (x0 + (bw - cb_w - side) / 2, y0 + (bh - head_room - side) / 2, side, side)
        ax = d.fig.add_axes(d._px(*rect))
        self.ax = ax
        L = s.lim
        ax.set_xlim(-L, L)
        if self.line:
            ax.set_ylim(-0.55 * L, 0.55 * L)
            ax.set_yticks([])
            ax.axhline(0, color=t["faint"], lw=1.0, zorder=0)
        else:
            ax.set_ylim(-L, L)
            ax.set_aspect("equal", adjustable="box")
            ax.axhline(0, color=t["grid"], lw=0.8, zorder=0)
            ax.axvline(0, color=t["grid"], lw=0.8, zorder=0)
            # unit circle for scale (norm 1)
            if L > 0.9:
                th = np.linspace(0, 2 * np.pi, 200)
                ax.plot(np.cos(th), np.sin(th), color=t["grid"], lw=0.8, ls=(0, (3, 3)), zorder=0)
        small = rect[2] < 260
        ax.tick_params(labelsize=fs * (0.7 if small else 0.8))
        unit = _tick_units(ax, L)
        if small or label_text:
            ax.set_xticks([])
            ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_color(t["faint"])
        if label_text:
            d.fit_title(ax, label_text, box, fontsize=fs * (0.8 if small else 0.9), color=d.instance_color(k), pad=2)
        elif not self.line:
            ax.set_xlabel("hidden dim 1" + unit, fontsize=fs * 0.8, color=t["muted"])
            ax.set_ylabel("hidden dim 2" + unit, fontsize=fs * 0.8, color=t["muted"], labelpad=2)
        else:
            ax.set_xlabel("hidden dim 1 (n_hidden = 1)" + unit, fontsize=fs * 0.8, color=t["muted"])
        n = s.n_features
        self.n = n
        self.colors = d.colors
        lw = 1.0 if small else 1.8
        self.lw = lw
        self.head = 0.05 * L * (0.8 if small else 1.0)
        self.outline = ax.plot([], [], color=t["outline"], lw=1.0, alpha=0.55, zorder=1, ls="-")[0]
        self.shafts = LineCollection([], colors=self.colors, linewidths=lw, zorder=3, capstyle="round")
        self.heads = PolyCollection([], facecolors=self.colors, edgecolors="none", zorder=3)
        ax.add_collection(self.shafts)
        ax.add_collection(self.heads)
        dot = (fs * (0.55 if small else 0.75)) ** 2
        self.dot_size = dot
        # many dots: 10-sided (Agg's cost grows with dots x sides; small dots look round anyway)
        marker = _DOT if n <= 100 else (10, 0, 0)
        self.tips = ax.scatter(np.zeros(n), np.zeros(n), s=dot, c=self.colors, zorder=4, edgecolors=t["bg"],
                               linewidths=0.6 if n <= 100 else 0.3, marker=marker)
        self.paint_quiet = n > 100
        self.name_shape = not self.line and not label_text and s.n_hidden == 2  # the single 2-D view
        self.shape_text = ""
        self._shape_key = None
        self._quiet_px = np.zeros((0, 2))
        dyn = [self.outline, self.shafts, self.heads, self.tips]
        if self.untied:
            self.dec_shafts = LineCollection([], colors=self.colors, linewidths=lw * 0.8, zorder=2, linestyles=(0, (2.5, 2)))
            ax.add_collection(self.dec_shafts)
            self.dec_tips = ax.scatter(
                np.zeros(n), np.zeros(n), s=dot * 1.3, marker=_DOT, facecolors="none", edgecolors=self.colors, linewidths=1.4, zorder=4
            )
            dyn += [self.dec_shafts, self.dec_tips]
            if not small:
                from matplotlib.lines import Line2D

                handles = [
                    Line2D([], [], color=t["fg"], lw=lw, marker="o", ms=fs * 0.6, label="encoder column W_enc[:, i]"),
                    Line2D([], [], color=t["fg"], lw=lw * 0.8, ls=(0, (2.5, 2)), marker="o", mfc="none", ms=fs * 0.7,
                           label="decoder row W_dec[i, :]"),
                ]
                ax.legend(handles=handles, loc="lower left", fontsize=fs * 0.72, frameon=False, handlelength=2.2)
        # labels: True (every feature that fits), "few" (a grid panel: the GRID_LABELS longest columns
        # that fit, in a smaller font, inside the panel) or False
        if labels == "few" and rect[2] < self.GRID_LABEL_MIN_PX:
            labels = False
        self.labels_on = bool(labels)
        self.max_labels = self.GRID_LABELS if labels == "few" else None
        self.label_font = _Sprites("DejaVu Sans", fs * (0.7 if self.max_labels else 0.85), s.dpi)
        self.quiet_font = _Sprites("DejaVu Sans", fs * (0.7 if small else 0.8), s.dpi)
        self.fg_rgb, self.muted_rgb = _rgb(t["fg"]), _rgb(t["muted"])
        self.label_pos: list = []  # (text, top-left x, top-left y) in buffer pixels
        self.quiet_label = ""
        self.quiet_n = 0
        self.quiet_box = None  # (x0, y0, x1, y1) of the count label in the last frame, buffer pixels
        d._dynamic += dyn
        self.label_h = self.label_font.height
        self.b_cells = None
        if colorbar:
            self._colorbar(d, rect, cb_w)
        if self.bias_column:
            self._bias_column(d, rect)

    def _colorbar(self, d: FrameDrawer, rect, cb_w) -> None:
        from matplotlib.cm import ScalarMappable

        s, t = d.scene, d.theme
        imp = s.importance
        pt = s.dpi / 72
        x = rect[0] + rect[2] + 1.2 * d.fs * pt
        h = min(rect[3], 0.6 * rect[3] + 40)
        y = rect[1] + (rect[3] - h) / 2
        if np.ptp(imp) < 1e-12:
            d.fig.text(
                (x) / d.width, (y + h / 2) / d.height,
                f"importance\n= {imp[0]:g}\n(all features)" if s.importance_known else "importance\nunknown",
                fontsize=d.fs * 0.75, color=t["muted"], va="center",
            )
            return
        cax = d.fig.add_axes(d._px(x, y, 0.9 * d.fs * pt, h))
        cb = d.fig.colorbar(ScalarMappable(d.norm, d.cmap), cax=cax)
        cb.outline.set_visible(False)
        cb.ax.tick_params(labelsize=d.fs * 0.7, color=t["muted"])
        cb.set_label("importance", fontsize=d.fs * 0.8, color=t["muted"])

    def _bias_column(self, d: FrameDrawer, rect) -> None:
        """The bias b per feature as a narrow column of cells (feature 0 at the top, feature ids as
        ticks on its right) on a fixed symmetric colour range, and under it that range's colour
        scale with its ticks: there without ``--panels bias``."""
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        s, t = d.scene, d.theme
        pt, fs = d.pt, d.fs
        x = rect[0] + rect[2] + 6.2 * fs * pt
        h = min(rect[3], 0.6 * rect[3] + 40)
        y = rect[1] + (rect[3] - h) / 2
        scale_h = max(0.22 * h, 5.0 * fs * pt)  # the colour scale, then a gap for the column's last tick
        col_h = h - scale_h - 2.2 * fs * pt
        self.bias_ax = bax = d.fig.add_axes(d._px(x, y + h - col_h, 0.9 * fs * pt, col_h))
        bax.set_xticks([])
        n = self.n
        bax.set_ylim(n - 0.5, -0.5)
        bax.yaxis.tick_right()
        bax.set_yticks(sorted({0, n - 1}))
        bax.tick_params(labelsize=fs * 0.7, length=0, pad=2, colors=t["muted"])
        for sp in bax.spines.values():
            sp.set_visible(False)
        bax.set_title("b", fontsize=fs * 0.75, color=t["muted"], pad=0.5 * fs)
        self.b_cells = _Cells(d, bax, n, s.b_range)
        # the colour scale of b: ticks at -r, 0, +r
        lo, hi = s.b_range
        self.bias_scale_ax = cax = d.fig.add_axes(d._px(x, y, 0.9 * fs * pt, scale_h))
        cb = d.fig.colorbar(ScalarMappable(Normalize(lo, hi), t["heat"]), cax=cax)
        cb.outline.set_visible(False)
        cb.set_ticks([lo, 0.0, hi])
        cb.set_ticklabels([f"{v:+.2g}".replace("-", "\u2212") if v else "0" for v in (lo, 0.0, hi)])
        cax.tick_params(labelsize=fs * 0.7, length=2, pad=1.5, colors=t["muted"])

    def _arrows(self, P: np.ndarray, show: np.ndarray):
        """Segments and arrowhead triangles for points P (shape: [n, 2])."""
        norm = np.hypot(P[:, 0], P[:, 1])
        u = np.divide(P, norm[:, None], out=np.zeros_like(P), where=norm[:, None] > 0)
        hl = np.minimum(self.head, 0.5 * norm)
        base = P - u * hl[:, None]
        perp = np.stack([-u[:, 1], u[:, 0]], 1) * (0.45 * hl)[:, None]
        segs = np.stack([np.zeros_like(P), base], 1)[show]
        tris = np.stack([P, base + perp, base - perp], 1)[show]
        return segs, tris

    def update(self, frame: Frame) -> None:
        s, k = self.d.scene, self.k
        W = frame.W[k].astype(np.float64)
        if self.line:
            P = np.stack([W[0], np.zeros(self.n)], 1)
        else:
            P = W[:2].T.copy()
        norm = np.hypot(P[:, 0], P[:, 1])
        quiet = norm < QUIET_FRACTION * s.lim
        show = ~quiet
        n_show = int(show.sum())
        # crowded (many features away from the origin): the MAX_LABELS most important (then largest)
        # are drawn in full and labelled; the rest are thin, headless and small, and the corner
        # note says how many are labelled of how many shown
        self.crowded = n_show > self.CROWDED
        if self.crowded:
            rank = np.lexsort((np.arange(self.n), -(s.importance * norm * norm)))
            top = np.zeros(self.n, bool)
            top[rank[show[rank]][: self.MAX_LABELS]] = True
        else:
            top = show
        self.top = top
        segs, tris = self._arrows(P, top)
        if self.crowded:
            faint = show & ~top
            segs = np.concatenate([self._arrows(P, faint)[0], segs])
            cols = np.concatenate([self.colors[faint] * [1, 1, 1, 0.55], self.colors[top]])
            self.shafts.set_linewidths(np.concatenate([np.full(int(faint.sum()), self.lw * 0.45),
                                                       np.full(int(top.sum()), self.lw)]))
        else:
            cols = self.colors[show]
            self.shafts.set_linewidths(self.lw)
        self.shafts.set_segments(segs)
        self.shafts.set_color(cols)
        self.heads.set_verts(tris)
        self.heads.set_facecolor(self.colors[top])
        sizes = np.where(quiet, self.dot_size * 0.35, np.where(top, self.dot_size, self.dot_size * 0.3))
        fc = self.colors.copy()
        fc[quiet, 3] = 0.45
        if self.paint_quiet:  # many features: the quiet ones are painted with numpy (paint_text)
            self.tips.set_offsets(P[show])
            self.tips.set_sizes(sizes[show])
            self.tips.set_facecolor(fc[show])
            self._quiet_px = self._to_pixels(P[quiet])
            self._quiet_rgb = self.colors[quiet, :3] * 255
        else:
            self.tips.set_offsets(P)
            self.tips.set_sizes(sizes)
            self.tips.set_facecolor(fc)
        if self.untied and frame.W_dec is not None:
            Wd = frame.W_dec[k].astype(np.float64)
            Pd = np.stack([Wd[0], np.zeros(self.n)], 1) if self.line else Wd[:2].T.copy()
            nd = np.hypot(Pd[:, 0], Pd[:, 1])
            showd = nd >= QUIET_FRACTION * s.lim
            self.dec_shafts.set_segments(np.stack([np.zeros_like(Pd), Pd], 1)[showd])
            self.dec_shafts.set_color(self.colors[showd])
            self.dec_tips.set_offsets(Pd)
            self._dec_points = Pd[showd]
            self.dec_tips.set_edgecolor(np.where(showd[:, None], self.colors, self.colors * [1, 1, 1, 0.35]))
        # faint outline of represented features in angular order (a polygon only while it can be read)
        rep = norm > 0.5
        if not self.line and 3 <= rep.sum() <= self.MAX_LABELS:
            ang = np.arctan2(P[rep, 1], P[rep, 0])
            order = np.argsort(ang)
            poly = P[rep][order]
            poly = np.vstack([poly, poly[:1]])
            self.outline.set_data(poly[:, 0], poly[:, 1])
            self.outline.set_visible(True)
        else:
            self.outline.set_visible(False)
        nq = int(quiet.sum())
        self.quiet_n = nq
        self.quiet_label = f"{nq} feature{'s' if nq != 1 else ''} ≈ 0 (at the origin)" if nq else ""
        if self.crowded:
            self.quiet_label += (" · " if nq else "") + f"labels: the {self.MAX_LABELS} largest of {n_show} shown (importance × ‖W_i‖²)"
        if nq or self.crowded:  # what the count label must not cover: the tips and points along the shafts, in buffer pixels
            live = P[show]
            pts = self._to_pixels(np.concatenate([live * f for f in np.linspace(0.25, 1.0, 8)]))
            self._quiet_obstacles = np.stack([pts[:, 0], self.d.height - pts[:, 1]], 1)
        self.label_pos = []
        if self.labels_on:
            self._place_labels(P, norm, quiet)
            if self.label_pos and (nq or self.crowded):  # the count label must not cover them either
                pts = [(x + dx * cov.shape[1], y + dy * cov.shape[0]) for cov, x, y in self.label_pos
                       for dx in (0, 0.5, 1) for dy in (0, 0.5, 1)]
                self._quiet_obstacles = np.concatenate([self._quiet_obstacles, np.array(pts, dtype=float)])
        if self.name_shape:
            self.shape_text = self._shape_name(W, norm)
        if self.b_cells is not None:
            self.b_cells.values = frame.b[k]

    def _shape_name(self, W: np.ndarray, norm: np.ndarray) -> str:
        """The geometry's name for this frame, as ``animsup inspect`` gives it
        (:func:`animsup.analysis.geometry.describe`); above 100 features only the columns with norm > 0.1 are
        passed (the smaller ones neither make nor join a vertex) so it stays cheap."""
        from animsup.analysis import geometry

        key = np.round(W * (200.0 / self.d.scene.lim)).astype(np.int32).tobytes()  # 1% of the axis: same shape
        if key == self._shape_key:
            return self.shape_text
        self._shape_key = key
        if self.n > 100:
            keep = norm > 0.1
            if not keep.any():
                return "nothing"
            W = W[:, keep]
        return geometry.describe(W).label()

    def _to_pixels(self, P: np.ndarray) -> np.ndarray:
        """Data -> display pixels (origin bottom-left) with the axes' affine transform, taken
        once after the first layout (the limits never change; transData per call costs ~50 µs)."""
        if self._affine is None:
            self._affine = self.ax.transData.get_affine().get_matrix().copy()
        M = self._affine
        return P @ M[:2, :2].T + M[:2, 2]

    #: more features than this away from the origin: only the most important are drawn in full and labelled
    CROWDED = 40
    MAX_LABELS = 12
    #: a small grid panel labels at most this many features (the longest columns W_i that fit)
    GRID_LABELS = 3
    #: grid panels narrower than this (pixels) get no feature ids (the grid's note says so)
    GRID_LABEL_MIN_PX = 40

    # label candidates around a tip: (direction angle offset from "outward", distance factor)
    _PLANE_CANDS = np.array([(da, dist) for dist in (1.0, 1.7) for da in (0, 0.45, -0.45, 0.9, -0.9, 1.5, -1.5, 2.2, -2.2)]
                            + [(da, 1.0) for da in (2.7, -2.7, math.pi)])  # last: inwards (tips at a small panel's edge)
    _LINE_CANDS = np.array([(0, 1), (0, -1), (0, 2), (0, -2), (0, 3), (0, -3)], dtype=float)

    def _place_labels(self, P: np.ndarray, norm: np.ndarray, quiet: np.ndarray) -> None:
        """Greedy collision-free labels: most important features first, candidate offsets
        around the tip (outward first); a label with no free spot is hidden. All candidates
        of a label are tested at once against the tips and the labels placed so far.
        Tips are placed at whole pixels, and a frame whose tips, labelled features and obstacles
        are the same as the last frame's reuses its placement (late in training most frames)."""
        pix = np.round(self._to_pixels(P))
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
        # tip dots are obstacles too
        r = math.sqrt(self.dot_size) * self.d.scene.dpi / 72 / 2 + 1
        live = pix[~quiet]
        obst = [np.concatenate([live - r, live + r], 1)]
        dp = None
        if self.untied and self._dec_points is not None and len(self._dec_points):
            dp = np.round(self._to_pixels(self._dec_points))
            obst.append(np.concatenate([dp - r * 1.3, dp + r * 1.3], 1))
        key = (pix.tobytes(), np.asarray(order).tobytes(), quiet.tobytes(), None if dp is None else dp.tobytes())
        if key == getattr(self, "_label_key", None):
            self.label_pos = list(self._label_cache)
            return
        self._label_key = key
        boxes = np.concatenate(obst + [np.zeros((len(order), 4))])  # obstacles, then the labels placed
        n_box = sum(len(o) for o in obst)
        origin = self._to_pixels(np.zeros((1, 2)))[0]
        base_d = self.label_h * (0.55 if self.max_labels else 0.9)  # grid panels: close to the tip
        H = self.d.height
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
        self._label_cache = list(self.label_pos)

    def boxes(self) -> list:
        return [self.ax.bbox] + ([self.bias_ax.bbox] if self.b_cells is not None else [])

    def _paint_quiet(self, buf: np.ndarray) -> None:
        """The quiet features as small faint squares (n > 100: ~1,000 scatter dots cost ~10 ms a
        frame in matplotlib). Inside the plane's axes, which are restored every frame."""
        xy = self._quiet_px
        if not len(xy):
            return
        side = max(2, int(round(1.6 * self.d.pt)))
        H, W = buf.shape[:2]
        c0 = np.round(xy[:, 0] - side / 2).astype(int)
        r0 = np.round(H - xy[:, 1] - side / 2).astype(int)
        a = 0.6
        for dy in range(side):
            for dx in range(side):
                r, c = r0 + dy, c0 + dx
                ok = (r >= 0) & (r < H) & (c >= 0) & (c < W)
                px = buf[r[ok], c[ok], :3].astype(np.float32)
                buf[r[ok], c[ok], :3] = (px * (1 - a) + self._quiet_rgb[ok] * a).astype(np.uint8)

    def paint_text(self, buf: np.ndarray, dirty: list) -> None:
        if self.b_cells is not None:
            self.b_cells.paint(buf, dirty)
        if self.paint_quiet:
            self._paint_quiet(buf)
        for cov, x, y in self.label_pos:
            _Sprites.blend(buf, cov, x, y, self.fg_rgb, dirty)
        if self.quiet_n:
            bb = self.ax.bbox
            pad = int(0.5 * self.d.fs * self.d.scene.dpi / 72)
            # the long text, else the short one, in the first panel corner (TL, TR, BL, BR) where it
            # covers no tip or shaft; failing that the short text where it covers least. A function of
            # the frame alone, so frames drawn in workers are the same as in process.
            self.quiet_box = None
            best = None
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
                _Sprites.blend(buf, cov, x, y, self.muted_rgb, dirty)

    def _quiet_corners(self, shape, pad: int):
        """Top-left pixels of a label of ``shape`` in the panel's corners, in order TL, TR, BL, BR."""
        h, w = shape
        bb, H = self.ax.bbox, self.d.height
        for y in (int(H - bb.y1) + pad, int(H - bb.y0) - pad - h):
            for x in (int(bb.x0) + pad, int(bb.x1) - pad - w):
                yield x, y

    def _quiet_hits(self, shape, corner) -> int:
        """How many tips and shaft points a label of ``shape`` at ``corner`` would cover."""
        (h, w), (x, y), pts = shape, corner, self._quiet_obstacles
        m = 4
        return int(np.count_nonzero((pts[:, 0] > x - m) & (pts[:, 0] < x + w + m) & (pts[:, 1] > y - m)
                                    & (pts[:, 1] < y + h + m)))


class _Cells:
    """A column of ``n`` cells (one per feature, feature 0 at the top) filling an axes, coloured on a
    fixed range with the theme's diverging map, painted with numpy (values set per frame)."""

    def __init__(self, d: FrameDrawer, ax, n: int, vrange: tuple):
        self.d, self.ax, self.n = d, ax, n
        self.lo, self.hi = float(vrange[0]), float(vrange[1])
        lut = d.mpl_colormap(d.theme["heat"])(np.linspace(0, 1, 256))[:, :3] * 255
        self.lut = np.round(lut).astype(np.uint8)
        self.values = np.zeros(n)
        self._map = None

    def paint(self, buf: np.ndarray, dirty: list) -> None:
        if self._map is None:
            H, W, bb = self.d.height, self.d.width, self.ax.bbox
            r0, r1 = max(int(round(H - bb.y1)), 0), min(int(round(H - bb.y0)), H)  # clipped to the frame
            c0, c1 = max(int(round(bb.x0)), 0), min(int(round(bb.x1)), W)
            rows = np.clip(((np.arange(r0, r1) + 0.5 - (H - bb.y1)) / bb.height * self.n).astype(int), 0, self.n - 1)
            self._map = (r0, r1, c0, c1, rows)
        r0, r1, c0, c1, rows = self._map
        x = (np.asarray(self.values, dtype=np.float64) - self.lo) / (self.hi - self.lo)
        rgb = self.lut[np.clip((x * 256).astype(np.int64), 0, 255)]
        buf[r0:r1, c0:c1, :3] = rgb[rows][:, None, :]
        dirty.append((r0, r1, c0, c1))


def _tick_units(ax, lim: float) -> str:
    """Short tick labels on a [-lim, lim] axis whatever the scale of W: at most 5 ticks, 2
    significant digits, and below 0.01 or from 1000 up a power of ten moved to the axis label.
    Returns that label suffix (e.g. " (×1e5)") or ""."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    e = int(math.floor(math.log10(lim))) if lim >= 1000 or lim < 0.01 else 0
    f = 10.0**-e

    def fmt(v, _pos):
        v = round(v * f, 6)
        return ("0" if v == 0 else f"{v:.2g}").replace("-", "\u2212")

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(6, steps=[1, 2, 2.5, 5, 10], symmetric=True))
        axis.set_major_formatter(FuncFormatter(fmt))
    return f" (×1e{e})" if e else ""


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def unicode_log_ticks(axis) -> None:
    """Tick labels of a log (or symlog) ``axis`` as plain text with Unicode superscripts (``10⁻²``,
    ``2×10⁻²``) instead of matplotlib's mathtext ones: the same labels, without building the
    mathtext parser (~50 ms of every render's start-up)."""
    from matplotlib.ticker import LogFormatter

    class Formatter(LogFormatter):
        def _num_to_string(self, x, vmin, vmax):
            fx = math.log(x) / math.log(self._base)
            e = round(fx)
            if abs(fx - e) < 1e-10:
                return f"{self._base:g}" + str(e).translate(_SUPERSCRIPT)
            e = math.floor(fx)
            return f"{round(self._base ** (fx - e)):g}×{self._base:g}" + str(e).translate(_SUPERSCRIPT)

    base = getattr(axis.get_transform(), "base", 10.0)
    axis.set_major_formatter(Formatter(base))
    axis.set_minor_formatter(Formatter(base, labelOnlyBase=False))


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class _GramView:
    """n_hidden >= 3: WᵀW heatmap, the bias column beside it, per-feature norms as bars.

    The heatmap and the bias column are painted with numpy (a colour lookup table and a
    precomputed pixel -> cell map; matplotlib's image resampling cost ~13 ms a frame at n=200).
    When a feature would get fewer than :data:`MIN_CELL_PX` pixels, cells aggregate b x b blocks
    of features and show the entry of largest magnitude (sign kept; max-pooling), the bias and
    the norms likewise per block of b features, and the title says so: no feature disappears.
    """

    MIN_CELL_PX = 3.0

    def __init__(self, d: FrameDrawer, box, k: int, *, colorbar: bool, label_text: str | None):
        from matplotlib.collections import PolyCollection
        from matplotlib.colors import Normalize

        s, t = d.scene, d.theme
        self.d, self.k = d, k
        x0, y0, bw, bh = box
        pt = s.dpi / 72
        fs = d.fs
        n = s.n_features
        self.n = n
        small = not colorbar
        head_room = (1.8 * fs * pt) if label_text else 2.0 * fs * pt
        gap = (0.3 if small else 0.6) * fs * pt
        cb_room = 6.5 * fs * pt if colorbar else 0
        colmin = 8 if small else 12
        # heatmap square (side) + gap + bias column (a cell wide, at least colmin px) + 3 gaps + norm
        # bars (0.32 side): side solved so that the whole row fits the box's width
        room = bw - cb_room - (0.14 * bw if small else 0)  # grid panels: a margin between neighbours

        def fit(with_norms: bool) -> float:
            extra, k = (4 * gap, 1.32) if with_norms else (gap, 1.0)
            wide = (room - extra) / (k + 1.0 / n)  # the bias column as wide as a cell
            return wide if wide / n >= colmin else (room - extra - colmin) / k

        side = fit(True)
        with_norms = min(side, bh - head_room) >= 40
        if not with_norms:
            side = fit(False)
        side = max(min(bh - head_room, side), 8.0)
        self.block = max(1, int(math.ceil(n * self.MIN_CELL_PX / side)))  # features per cell
        nb = -(-n // self.block)
        col_w = max(side / nb, colmin)
        norms_w = 0.32 * side if with_norms else 0.0  # grid panels keep their norm bars (without ticks)
        total = side + gap + col_w + (gap * 3 + norms_w if norms_w else 0)
        xs = x0 + (bw - total - cb_room) / 2
        ys = y0 + (bh - head_room - side) / 2
        self.gram_norm = Normalize(-s.gram_max, s.gram_max)
        self.b_norm = Normalize(*s.b_range)
        lut = d.mpl_colormap(t["heat"])(np.linspace(0, 1, 256))[:, :3] * 255
        self.lut = np.round(lut).astype(np.uint8)
        ax = d.fig.add_axes(d._px(xs, ys, side, side))
        self.ax = ax
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.tick_params(labelsize=fs * 0.7)
        if small:
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            from matplotlib.ticker import MaxNLocator

            room = max(2, int(side / (3.2 * fs * pt)))
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(nbins=room, integer=True))
        pooled = f" (max |·| over {self.block}×{self.block} features)" if self.block > 1 else ""
        if label_text:
            d.fit_title(ax, label_text, box, fontsize=fs * (0.8 if small else 0.9), color=d.instance_color(k), pad=3)
        else:
            name = models.get(s.model).gram_label
            d.fit_title(ax, (name + pooled, name), (xs, ys, side, side), fontsize=fs * 0.9, color=t["muted"], pad=3)
        bax = d.fig.add_axes(d._px(xs + side + gap, ys, col_w, side))
        bax.set_xticks([])
        bax.set_yticks([])
        if not small:
            bax.set_title("b", fontsize=fs * 0.85, color=t["muted"], pad=3)
        self.bax = bax
        dyn = []
        self.axes = [ax, bax]
        self.bars = None
        if norms_w:
            nax = d.fig.add_axes(d._px(xs + side + gap * 4 + col_w, ys, norms_w, side))
            nax.set_ylim(n - 0.5, -0.5)
            nax.set_xlim(0, s.norm_max)
            nax.set_yticks([])
            nax.tick_params(labelsize=fs * 0.7)
            for sp in ("top", "right"):
                nax.spines[sp].set_visible(False)
            if small:
                nax.set_xticks([])
            else:
                nax.set_title("‖W_i‖" + (" (max)" if self.block > 1 else ""), fontsize=fs * 0.85, color=t["muted"], pad=3)
            first = np.arange(0, n, self.block)  # each bar: a block of features, coloured as its first
            self.bars = PolyCollection([np.zeros((4, 2))] * len(first), facecolors=d.colors[first], edgecolors="none")
            nax.add_collection(self.bars)
            dyn.append(self.bars)
            self.axes.append(nax)
        if colorbar:
            from matplotlib.cm import ScalarMappable

            cx = xs + total + 1.4 * fs * pt
            for norm, y, label in ((self.gram_norm, ys + side * 0.55, models.get(s.model).gram_label),
                                   (self.b_norm, ys + side * 0.05, "bias b")):
                cax = d.fig.add_axes(d._px(cx, y, 0.9 * fs * pt, side * 0.4))
                cb = d.fig.colorbar(ScalarMappable(norm, t["heat"]), cax=cax)
                cb.outline.set_visible(False)
                cb.ax.tick_params(labelsize=fs * 0.7)
                cb.locator = __import__("matplotlib.ticker", fromlist=["MaxNLocator"]).MaxNLocator(4)
                cb.update_ticks()
                cb.set_label(label, fontsize=fs * 0.75, color=t["muted"])
        d._dynamic += dyn
        self._maps = None  # pixel -> cell maps, taken at the first frame (after the layout)

    def _pool(self, v: np.ndarray) -> np.ndarray:
        """Blocks of ``block`` features along each axis of ``v`` ([n] or [n, n]) -> the entry of
        largest magnitude in each block (sign kept)."""
        b, n = self.block, self.n
        if b == 1:
            return v
        nb = -(-n // b)
        if v.ndim == 1:
            p = np.zeros(nb * b, v.dtype)
            p[:n] = v
            A = p.reshape(nb, b)
        else:
            p = np.zeros((nb * b, nb * b), v.dtype)
            p[:n, :n] = v
            A = p.reshape(nb, b, nb, b).transpose(0, 2, 1, 3).reshape(nb, nb, b * b)
        i = np.abs(A).argmax(-1)
        return np.take_along_axis(A, i[..., None], -1)[..., 0]

    def _cells(self, ax):
        """(rows, cols) slices of the buffer and the cell index of each pixel row and column."""
        H, W = self.d.height, self.d.width
        bb = ax.bbox
        r0, r1 = max(int(round(H - bb.y1)), 0), min(int(round(H - bb.y0)), H)  # clipped to the frame
        c0, c1 = max(int(round(bb.x0)), 0), min(int(round(bb.x1)), W)
        fr_ = (np.arange(r0, r1) + 0.5 - (H - bb.y1)) / bb.height
        fc = (np.arange(c0, c1) + 0.5 - bb.x0) / bb.width
        return r0, r1, c0, c1, fr_, fc

    def _colour(self, v: np.ndarray, norm) -> np.ndarray:
        x = (np.asarray(v, dtype=np.float64) - norm.vmin) / (norm.vmax - norm.vmin)
        return self.lut[np.clip((x * 256).astype(np.int64), 0, 255)]

    def paint_text(self, buf: np.ndarray, dirty: list) -> None:
        if self._maps is None:
            r0, r1, c0, c1, fr_, fc = self._cells(self.ax)
            rows = np.clip((fr_ * self.n).astype(int), 0, self.n - 1) // self.block
            cols = np.clip((fc * self.n).astype(int), 0, self.n - 1) // self.block
            br0, br1, bc0, bc1, bfr, _ = self._cells(self.bax)
            brows = np.clip((bfr * self.n).astype(int), 0, self.n - 1) // self.block
            self._maps = ((r0, r1, c0, c1, rows, cols), (br0, br1, bc0, bc1, brows))
        (r0, r1, c0, c1, rows, cols), (br0, br1, bc0, bc1, brows) = self._maps
        rgb = self._colour(self._gram, self.gram_norm)
        buf[r0:r1, c0:c1, :3] = rgb[rows][:, cols]
        dirty.append((r0, r1, c0, c1))
        brgb = self._colour(self._b, self.b_norm)
        buf[br0:br1, bc0:bc1, :3] = brgb[brows][:, None, :]
        dirty.append((br0, br1, bc0, bc1))

    def boxes(self) -> list:
        return [a.bbox for a in self.axes]

    def update(self, frame: Frame) -> None:
        k = self.k
        W = frame.W[k].astype(np.float64)
        dec = frame.W_dec[k].astype(np.float64) if frame.W_dec is not None else W
        self._gram = self._pool(dec.T @ W)
        self._b = self._pool(frame.b[k].astype(np.float64))
        if self.bars is not None:
            norms = np.sqrt((W * W).sum(0))
            if self.block > 1:
                norms = self._pool(norms)  # norms are >= 0: the largest of each block
            b = self.block
            y = np.arange(len(norms)) * b + (b - 1) / 2
            half = 0.4 * b
            z = np.zeros_like(norms)
            verts = np.stack([np.stack([z, y - half], 1), np.stack([norms, y - half], 1),
                              np.stack([norms, y + half], 1), np.stack([z, y + half], 1)], 1)
            self.bars.set_verts(verts)


class BiasPanel(Panel):
    """``--panels bias``: the bias b of the (first) instance per feature, as bars on a fixed range."""

    height = 0.39

    def __init__(self, ctx: FrameDrawer, rect):
        from matplotlib.collections import PolyCollection

        super().__init__(ctx, rect)
        s, t = ctx.scene, ctx.theme
        ax = ctx.fig.add_axes(rect)
        self.ax = ax
        n = s.n_features
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_ylim(*s.b_range)
        ax.axhline(0, color=t["outline"], lw=0.8)
        ax.set_title("bias b per feature", fontsize=ctx.fs * 0.9, color=t["muted"], loc="left")
        ax.tick_params(labelsize=ctx.fs * 0.8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        from matplotlib.ticker import MaxNLocator

        room = rect[2] * ctx.width / (2.8 * ctx.fs * ctx.pt)  # tick labels that fit side by side
        ax.xaxis.set_major_locator(MaxNLocator(nbins=max(2, int(room)), integer=True))
        self.bars = PolyCollection([np.zeros((4, 2))] * n, facecolors=ctx.colors, edgecolors="none")
        ax.add_collection(self.bars)
        ctx.animate(self.bars)

    def update(self, frame: Frame) -> None:
        b = frame.b[0]
        x = np.arange(len(b))
        z = np.zeros_like(b)
        self.bars.set_verts(np.stack([np.stack([x - 0.38, z], 1), np.stack([x - 0.38, b], 1),
                                      np.stack([x + 0.38, b], 1), np.stack([x + 0.38, z], 1)], 1))
