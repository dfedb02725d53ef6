"""The loss panel: the loss over the whole run (log scale: raw faint, moving average bold), event
ticks and numbers, stage marks, the instance colour key of a grid; per frame a cursor at the
current step (a line and a dot on each moving average) and the step/loss readout, painted with
numpy (two matplotlib artists on a log axis cost ~0.8 ms a frame)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from animsup.rendering.draw.context import BufferRect, DrawContext, Rect
from animsup.rendering.draw.text import Sprites
from animsup.rendering.draw.theme import rgb255
from animsup.rendering.draw.ticks import fit_log_ticks, unicode_log_ticks

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Annotation, Text
    from matplotlib.transforms import Bbox

    from animsup.rendering.frames import Frame


def key_label_stride(labels: list[str], width_px: float, font_px: float) -> int:
    """Label every how-many-th segment of the colour key: 1 (every one) when each label fits its
    segment of a ``width_px`` strip (a label ~0.62 em a character at ``font_px``, plus a gap of
    half an em), else the smallest stride whose labels fit the room of that many segments."""
    if not labels:
        return 1
    need = max(len(t) for t in labels) * 0.62 * font_px + 0.5 * font_px
    seg = width_px / len(labels)
    return max(1, math.ceil(need / max(seg, 1e-9)))


def _ordinal(n: int) -> str:
    """2 -> "2nd", 3 -> "3rd", 11 -> "11th"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"

#: the readout's widest line in characters (the shape line, e.g. "shape square antiprism (regularity 1.00)")
READOUT_CHARS = 42


class LossPart:
    """The loss panel (a :class:`animsup.rendering.draw.context.Part`).

    :param shape_text: the name of the main view's geometry at this frame ("" for none), read
        after every part is updated (the readout's third line)
    """

    def __init__(self, ctx: DrawContext, rect: Rect, shape_text: Callable[[], str]):
        self.ctx = ctx
        self.shape_text = shape_text
        self.key_ax: Axes | None = None
        s = ctx.scene
        if s.loss_note != "no loss recorded" and s.loss_smooth.shape[1] > 1:  # curves in the panels' colours
            rect = self._build_key(rect)
        self.ax = self._build_axes(rect)
        self._build_curves()
        self._build_cursor()
        self._reserve_readout()
        self._fit_y_ticks()
        self.stage_labels: list[Text] = []
        if ctx.scene.stages:  # a staged run: the stage boundaries, clear of the step readout
            self._mark_stages()
        self.step = 0.0
        self.ys = np.zeros(0)
        self.readout_box = (0, 0, 0, 0)  # buffer pixels (rows from the top)

    # ------------------------------------------------------------------ layout

    def _build_key(self, rect: Rect) -> Rect:
        """Several instances: a strip of the instance colours with the panels' ids (``#i``) above
        the loss panel, linking each curve to its panel (same colour, same order as the grid).
        Returns the rect left for the loss panel."""
        from matplotlib.colors import ListedColormap

        ctx, s, t = self.ctx, self.ctx.scene, self.ctx.theme
        K = len(s.instances)
        x, y, w, h = rect
        pt, fs = ctx.pt, ctx.fs
        strip_h = 0.8 * fs * pt / ctx.height
        key_h = 3.4 * fs * pt / ctx.height
        ax = ctx.fig.add_axes((x, y + h - strip_h, w, strip_h))
        ax.imshow(np.arange(K)[None, :], cmap=ListedColormap([ctx.instance_color(k) for k in range(K)]),
                  aspect="auto", interpolation="nearest", extent=(-0.5, K - 0.5, 0, 1))
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_visible(False)
        every = key_label_stride([f"#{i}" for i in s.instances], w * ctx.width, fs * 0.7 * pt)
        ticks = np.arange(0, K, every)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"#{s.instances[k]}" for k in ticks])
        ax.tick_params(axis="x", labelsize=fs * 0.7, length=2, pad=1, colors=t["muted"])
        thinned = f"; ids of every {_ordinal(every)} panel" if every > 1 else ""
        title = ax.set_title(f"curve colour = panel title colour (panels ordered by 1-S, then final loss{thinned})",
                             fontsize=fs * 0.75, color=t["muted"], loc="left", pad=2)
        ctx.fit_width(title, w * ctx.width)
        self.key_ax = ax
        return (x, y, w, max(h - key_h, 1.0 / ctx.height))

    def _build_axes(self, rect: Rect) -> Axes:
        """The axes: log y, the loss panel's x scale, labels and a title that fits."""
        ctx, s, t, fs = self.ctx, self.ctx.scene, self.ctx.theme, self.ctx.fs
        ax = ctx.fig.add_axes(rect)
        ax.set_yscale("log")
        unicode_log_ticks(ax.yaxis)
        if s.loss_xscale == "symlog":
            pos = s.loss_step[s.loss_step > s.loss_xlim[0]]
            ax.set_xscale("symlog", linthresh=max(1.0, float(pos[0] - s.loss_xlim[0]) if len(pos) else 1.0))
            unicode_log_ticks(ax.xaxis)
        ax.set_xlim(*s.loss_xlim)
        ax.set_ylim(*s.loss_ylim)
        ax.grid(True, which="major", lw=0.6)
        ax.tick_params(labelsize=fs * 0.85)
        ax.set_xlabel("training step" + (" (log scale)" if s.loss_xscale == "symlog" else ""),
                      fontsize=fs * 0.9, color=t["muted"])
        title = ax.set_title(
            f"{s.loss_label.split(';')[0]} bold, raw faint" if s.smooth > 1 else "loss",
            fontsize=fs * 0.9,
            color=t["muted"],
            loc="left",
        )
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if s.loss_note == "no loss recorded":  # say so instead of an empty log-scale panel
            ax.set_yticks([], minor=False)
            ax.set_yticks([], minor=True)
            title = ax.set_title("loss", fontsize=fs * 0.9, color=t["muted"], loc="left")
            ax.text(0.5, 0.5, "no loss recorded", transform=ax.transAxes, ha="center", va="center",
                    fontsize=fs * 1.1, color=t["muted"])
        elif s.loss_note:
            title = ax.set_title(ax.get_title(loc="left") + f"; {s.loss_note}", fontsize=fs * 0.9, color=t["muted"],
                                 loc="left")
        # large text (--dpi) and a long title: shrink it to the frame rather than cut it at the edge
        ctx.fit_width(title, ctx.width - ax.bbox.x0 - 0.5 * fs * ctx.pt)
        return ax

    def _build_curves(self) -> None:
        """The curves (static) and the event ticks: a dashed line per event, its number under the curves."""
        ctx, s, t, ax = self.ctx, self.ctx.scene, self.ctx.theme, self.ax
        x = s.loss_step
        K = s.loss_smooth.shape[1]
        for k in range(K):
            col = ctx.instance_color(k) if K > 1 else t["fg"]
            raw_col = col if K > 1 else t["muted"]
            # the raw curve at display resolution (bin means; bins are finer than a pixel)
            ax.plot(x, s.loss_raw[:, k], color=raw_col, alpha=0.35 if K == 1 else 0.25, lw=0.7, gid="loss-data")
            ax.plot(x, s.loss_smooth[:, k], color=col, lw=1.8, solid_capstyle="round", gid="loss-data")
        for step, _kind, _text in s.events:
            ax.axvline(step, color=t["outline"], lw=0.8, ls=(0, (2, 2)), alpha=0.8)
        self.event_labels = self._event_numbers([step for step, _, _ in s.events])

    def _build_cursor(self) -> None:
        """The cursor's sizes and colours, the readout's font."""
        from matplotlib.colors import to_rgb

        ctx, s, t = self.ctx, self.ctx.scene, self.ctx.theme
        K = s.loss_smooth.shape[1]
        pt = s.dpi / 72
        self.cursor_w = 1.3 * pt  # line width, px
        self.cursor_rgb, self.cursor_alpha = rgb255(t["cursor"]), 0.9
        self.dot_r, self.dot_edge = ctx.fs * 0.55 / 2 * pt, 0.8 * pt  # dot radius and edge width, px
        self.dot_rgb = np.array([np.array(to_rgb(ctx.instance_color(k) if K > 1 else t["cursor"])) * 255
                                 for k in range(K)], dtype=np.float32)
        self.mono = Sprites("DejaVu Sans Mono", ctx.fs, s.dpi)
        self.fg_rgb, self.bg_rgb = rgb255(t["fg"]), rgb255(t["bg"])

    def _readout_rows(self) -> int:
        """The most lines the readout shows on any frame (:meth:`readout_lines`)."""
        s = self.ctx.scene
        one = s.loss_note != "no loss recorded" and s.loss_smooth.shape[1] == 1
        return 1 + (2 if one and s.n_hidden <= 2 else 1 if one else 0) + (1 if s.stages else 0)

    def _reserve_readout(self) -> None:
        """Keep the data clear of the readout box (top right of the axes): the readout's width is
        capped at the axes' (:meth:`readout_lines` shortens its lines), and the log y range is
        raised so the highest plotted loss under the box (the points left of it do not matter)
        lies under the box's lowest row."""
        ctx, ax = self.ctx, self.ax
        pad = int(0.6 * ctx.fs * ctx.scene.dpi / 72)
        self.char_w = max(1, self.mono.line("0").shape[1])
        self.max_chars = max(8, int((ax.bbox.width - 2 * pad) / self.char_w))
        box_h = self._readout_rows() * self.mono.line("0").shape[0] + 2 * pad
        # only the points under the box matter: the box sits top right, as wide as its longest line
        # can be (the shape line of a regular polygon, capped at the axes' width)
        box_w = min(ax.bbox.width, min(self.max_chars, READOUT_CHARS) * self.char_w + 2 * pad)
        x_min = self._readout_right(pad) - box_w
        vals = np.zeros(0)
        for line in ax.get_lines():
            if line.get_gid() != "loss-data":
                continue
            xy = np.column_stack([np.asarray(line.get_xdata(), dtype=np.float64), np.asarray(line.get_ydata(), dtype=np.float64)])
            ok = np.isfinite(xy).all(axis=1) & (xy[:, 1] > 0)
            under = ax.transData.transform(xy[ok])[:, 0] >= x_min if ok.any() else np.zeros(0, bool)
            vals = np.concatenate([vals, xy[ok][under, 1]])
        lo, hi = ax.get_ylim()
        height = ax.bbox.height
        if not len(vals) or height <= box_h + 4 or not (lo > 0 and hi > lo):
            return
        top = float(vals.max())
        # log axis: the top's row from the top of the axes is height * log(hi / top) / log(hi / lo)
        frac = (height - box_h - 2) / height  # where the top may sit, as a fraction of the height
        need = math.exp(math.log(lo) + (math.log(top) - math.log(lo)) / frac) if top > lo else hi
        if need > hi:
            ax.set_ylim(lo, need)

    def _readout_right(self, pad: int) -> float:
        """The readout box's right edge (display x): ``pad / 2`` inside the axes, and left of the
        cursor on the last step (a gap of 2 px), so the box never hides the final frame's cursor
        line nor looks cut off by it."""
        ax, s = self.ax, self.ctx.scene
        x_last = float(ax.transData.transform((s.last_step, s.loss_ylim[0]))[0])
        edge = ax.bbox.x1 - pad // 2
        if not math.isfinite(x_last) or x_last > ax.bbox.x1 + 1 or x_last < ax.bbox.x0:
            return edge
        return min(edge, math.floor(x_last - self.cursor_w / 2 - self.dot_r - 2))

    def _fit_y_ticks(self) -> None:
        """As many loss labels as the axes' height holds (:func:`fit_log_ticks`; a --grid poster's
        loss panel is short, and matplotlib's minor-tick labels overlapped there), for the final y
        range (after :meth:`_reserve_readout`)."""
        ax = self.ax
        lo, hi = ax.get_ylim()
        if self.ctx.scene.loss_note != "no loss recorded" and 0 < lo < hi < math.inf:
            fit_log_ticks(ax.yaxis, lo, hi, ax.bbox.height, self.ctx.fs * 0.85 * self.ctx.pt)

    def _mark_stages(self) -> None:
        """Stage lines and labels (:func:`animsup.rendering.stages.draw_marks`), in a band under the
        curves and above the event numbers."""
        from animsup.rendering import stages

        ctx, s = self.ctx, self.ctx.scene
        skip = 1.6 * ctx.fs * ctx.pt if s.events else 0.0
        self.stage_labels = stages.draw_marks(self.ax, s.stages, fontsize=ctx.fs * 0.75, theme=dict(ctx.theme),
                                              skip_px=skip)

    def _event_numbers(self, steps: list[float]) -> list[Annotation]:
        """The event numbers along the bottom of the loss axes, left to right, never overlapping:
        events closer together than their numbers are wide share one label ("2–5"), so every event
        of the key (the caption, ``animsup events``) keeps its number. Returns the Text artists."""
        ctx, ax = self.ctx, self.ax
        r = ctx.renderer()
        px = [float(ax.transData.transform((step, 1.0))[0]) for step in steps]
        gap, off, x_max = 0.35 * ctx.fs * ctx.pt, 2 * ctx.pt, float(ax.bbox.x1)
        probe = ctx.fig.text(0, 0, "", fontsize=ctx.fs * 0.75)  # measures a label's width

        def width(i: int, j: int) -> float:
            probe.set_text(str(i + 1) if i == j else f"{i + 1}–{j + 1}")
            return probe.get_window_extent(r).width

        groups: list[list[float]] = []  # [first, last, left x, width] in display pixels
        for i, x in enumerate(px):
            if groups:
                g = groups[-1]
                if x + off < g[2] + g[3] + gap:  # this number would start inside the previous label
                    g[1], g[3] = i, width(int(g[0]), i)
                    continue
            groups.append([i, i, x + off, width(i, i)])
        # labels run left to right; one running past the right edge ends there, merging with its
        # neighbours when that makes it overlap them
        while groups and groups[-1][2] + groups[-1][3] > x_max:
            g = groups[-1]
            g[2] = x_max - g[3]
            if len(groups) > 1 and g[2] < groups[-2][2] + groups[-2][3] + gap:
                prev = groups.pop(-2)
                g[0], g[2], g[3] = prev[0], prev[2], width(int(prev[0]), int(g[1]))
                continue
            break
        probe.remove()
        labels = []
        for first, last, x, _w in groups:
            i, j = int(first), int(last)
            labels.append(ax.annotate(
                str(i + 1) if i == j else f"{i + 1}–{j + 1}", (steps[i], 0.0), xycoords=("data", "axes fraction"),
                xytext=((x - px[i]) / ctx.pt, 3), textcoords="offset points", ha="left", va="bottom",
                fontsize=ctx.fs * 0.75, color=ctx.theme["muted"]))
        return labels

    # ------------------------------------------------------------------ per frame

    def update(self, frame: Frame) -> None:
        s = self.ctx.scene
        self.step = frame.step
        self.ys = s.readout_loss([frame.step])[0]  # the one readout quantity (the viewer's too)

    def boxes(self) -> list[Bbox]:
        return []  # the cursor's and the readout's rectangles are taken per frame

    def readout_lines(self) -> list[str]:
        """The readout: the step, the loss of a single instance (:attr:`Scene.readout_name`, the
        quantity the viewer's readout shows too), its shape, the stage's 1-S; the labels left, the
        values right-aligned, no line wider than the axes (a long shape loses its details, then is cut)."""
        s, step, ys = self.ctx.scene, self.step, self.ys
        rows = [("step", f"{step:,.0f}")]
        if s.loss_note != "no loss recorded" and len(ys) == 1:
            rows.append((s.readout_name, f"{ys[0]:.3e}"))
            shape = self.shape_text()
            if shape:
                rows.append(("shape", shape))
        lines = [_row(rows, label, value) for label, value in rows]
        if s.stages:  # a staged run: the 1-S of this step's stage
            from animsup.rendering.stages import readout

            lines.append(readout(s.stages, step))
        limit = getattr(self, "max_chars", 10**6)
        return [_fit(line, limit) for line in lines]

    def paint_text(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        """The cursor, then the readout over it."""
        s, ax = self.ctx.scene, self.ax
        with np.errstate(invalid="ignore", divide="ignore"):  # log axis: a loss <= 0 has no y (no dot)
            pts = ax.transData.transform(np.column_stack([np.full(len(self.ys), self.step), self.ys]))
        self._paint_cursor(buf, float(ax.transData.transform((self.step, s.loss_ylim[0]))[0]), pts[:, 1], dirty)
        self._paint_readout(buf, dirty)

    def _paint_cursor(self, buf: np.ndarray, x: float, ys: np.ndarray, dirty: list[BufferRect]) -> None:
        """The loss cursor at display x (an antialiased vertical line clipped to the loss axes)
        and a dot (face colour, background-coloured edge) at each display y in ``ys``."""
        H, W = self.ctx.height, self.ctx.width
        bb = self.ax.bbox
        # snapped to the pixel grid like matplotlib's straight lines: crisp, whole-pixel steps
        w = self.cursor_w
        xs = math.floor(x + 0.5) if round(w) % 2 == 0 else math.floor(x) + 0.5
        a, b = xs - w / 2, xs + w / 2
        # (not clipped at the right edge of the axes: on the last frame the line sits on that edge)
        c0, c1 = max(int(math.floor(a)), int(bb.x0), 0), min(int(math.ceil(b)), W)
        r0, r1 = max(int(round(H - bb.y1)), 0), min(int(round(H - bb.y0)), H)
        if c1 > c0 and r1 > r0:
            cols = np.arange(c0, c1, dtype=np.float32)
            cov = np.clip(np.minimum(cols + 1, b) - np.maximum(cols, a), 0, 1)[None, :, None] * self.cursor_alpha
            region = buf[r0:r1, c0:c1, :3]
            region[...] = region * (1 - cov) + self.cursor_rgb * cov
            dirty.append((r0, r1, c0, c1))
        ok = np.isfinite(ys)
        if ok.any():
            self._paint_dots(buf, x, ys[ok], self.dot_rgb[ok], dirty)

    def _paint_dots(self, buf: np.ndarray, x: float, ys: np.ndarray, colors: np.ndarray,
                    dirty: list[BufferRect]) -> None:
        """A dot of each colour (shape: [k, 3]) at display (x, y) for y in ``ys``."""
        H, W = self.ctx.height, self.ctx.width
        r, e = self.dot_r, self.dot_edge
        half = int(math.ceil(r + e / 2 + 1))
        offs = np.arange(-half, half + 1, dtype=np.float32)
        cx0 = int(math.floor(x))
        rows = H - ys  # dot centres in row coordinates
        ry0 = np.floor(rows).astype(int)
        dx = offs[None, None, :] + (cx0 + 0.5 - x)  # pixel centres relative to the dot centres
        dy = offs[None, :, None] + (ry0 + 0.5 - rows)[:, None, None].astype(np.float32)
        d = np.sqrt(dx * dx + dy * dy)  # [dots, rows, cols]
        outer = np.clip(r + e / 2 - d + 0.5, 0, 1)[..., None]
        inner = np.clip(r - e / 2 - d + 0.5, 0, 1)[..., None]
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

    def _paint_readout(self, buf: np.ndarray, dirty: list[BufferRect]) -> None:
        """Step and loss, top right of the loss panel, in an opaque box: the cursor line and the
        curves pass behind the text, never through it."""
        ctx, bb = self.ctx, self.ax.bbox
        pad = int(0.6 * ctx.fs * ctx.scene.dpi / 72)
        y = int(ctx.height - bb.y1) + pad
        covs = [self.mono.line(line) for line in self.readout_lines()]
        bw = max(c.shape[1] for c in covs) + pad
        bh = sum(c.shape[0] for c in covs) + pad // 2
        right = int(self._readout_right(pad))
        x0, y0 = max(right - bw, int(bb.x0), 0), max(y - pad // 2, 0)
        x1, y1 = min(x0 + bw, ctx.width), min(y0 + bh, ctx.height)
        buf[y0:y1, x0:x1, :3] = self.bg_rgb
        dirty.append((y0, y1, x0, x1))
        self.readout_box = (x0, y0, x1, y1)
        left = x1 - max(c.shape[1] for c in covs) - pad // 2  # one left edge: labels in a column
        for cov in covs:
            Sprites.blend(buf, cov, left, y, self.fg_rgb, dirty)
            y += cov.shape[0]


def _row(rows: list[tuple[str, str]], label: str, value: str) -> str:
    """One readout line: ``label`` left, ``value`` right-aligned to the widest row's width."""
    width = max(len(a) + 2 + len(b) for a, b in rows if a != "shape")
    return f"{label} {value}" if label == "shape" else f"{label} {value:>{width - len(label) - 1}}"


def _fit(line: str, limit: int) -> str:
    """``line`` in at most ``limit`` characters: a shape's "(details)" go first, then the end ("…")."""
    if len(line) <= limit:
        return line
    line = line.split(" (")[0]
    return line if len(line) <= limit else line[: max(limit - 1, 1)] + "…"
