"""Tick labels: short ones on the plane's symmetric axes, Unicode superscripts on log axes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.axes import Axes
    from matplotlib.axis import Axis


def tick_units(ax: Axes, lim: float) -> str:
    """Short tick labels on a [-lim, lim] axis whatever the scale of W: at most 5 ticks, 2
    significant digits, and below 0.01 or from 1000 up a power of ten moved to the axis label.
    Returns that label suffix (e.g. " (×1e5)") or ""."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    e = int(math.floor(math.log10(lim))) if lim >= 1000 or lim < 0.01 else 0
    f = 10.0**-e

    def fmt(v: float, _pos: int | None) -> str:
        v = round(v * f, 6)
        return ("0" if v == 0 else f"{v:.2g}").replace("-", "\u2212")

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(6, steps=[1, 2, 2.5, 5, 10], symmetric=True))
        axis.set_major_formatter(FuncFormatter(fmt))
    return f" (×1e{e})" if e else ""


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def unicode_log_ticks(axis: Axis) -> None:
    """Tick labels of a log (or symlog) ``axis`` as plain text with Unicode superscripts (``10⁻²``,
    ``2×10⁻²``) instead of matplotlib's mathtext ones: the same labels, without building the
    mathtext parser (~50 ms of every render's start-up)."""
    from matplotlib.ticker import LogFormatter

    base = float(getattr(axis.get_transform(), "base", 10.0))

    class Formatter(LogFormatter):
        def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
            return log_label(x, base)

    axis.set_major_formatter(Formatter(base))
    axis.set_minor_formatter(Formatter(base, labelOnlyBase=False))


def log_label(x: float, base: float = 10.0) -> str:
    """A positive number on a log axis as plain text: ``10⁻²``, ``2×10⁻²`` (the labels of
    :func:`unicode_log_ticks`)."""
    fx = math.log(x) / math.log(base)
    e = round(fx)
    if abs(fx - e) < 1e-10:
        return f"{base:g}" + str(e).translate(_SUPERSCRIPT)
    e = math.floor(fx)
    return f"{round(base ** (fx - e)):g}×{base:g}" + str(e).translate(_SUPERSCRIPT)


def mantissa_label(x: float) -> str:
    """A positive number with two significant digits as plain text: ``1.4×10⁻²``, ``10⁻²``."""
    e = math.floor(math.log10(x))
    m = float(f"{x / 10.0**e:.2g}")
    if m >= 10:
        m, e = m / 10, e + 1
    exp = "10" + str(e).translate(_SUPERSCRIPT)
    return exp if m == 1 else f"{m:g}×{exp}"


def fit_log_ticks(axis: Axis, lo: float, hi: float, length_px: float, font_px: float) -> list[float]:
    """Label a short log ``axis`` spanning [lo, hi] (> 0) with only as many ticks as its
    ``length_px`` holds at ``font_px`` text (1.5 lines a label): the powers of ten, or 1, 2, 5
    times them when fewer than two powers of ten are in range, every k-th kept; minor ticks
    unlabelled. Returns the labelled values."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    decades = [10.0**e for e in range(e0, e1 + 1) if lo <= 10.0**e <= hi]
    ticks = decades if len(decades) >= 2 else [c * 10.0**e for e in range(e0, e1 + 1) for c in (1, 2, 5)
                                                if lo <= c * 10.0**e <= hi]
    label: Callable[[float], str] = log_label
    if len(ticks) < 2:  # under one 1-2-5 step in range (e.g. 0.0125-0.017): evenly spaced values
        from matplotlib.ticker import MaxNLocator

        ticks = [float(v) for v in MaxNLocator(nbins=3).tick_values(lo, hi) if lo <= v <= hi]
        label = mantissa_label
    room = max(2, int(length_px // (1.5 * font_px)))
    ticks = ticks[:: max(1, math.ceil(len(ticks) / room))]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: label(v) if v > 0 else ""))
    axis.set_minor_formatter(NullFormatter())
    return ticks
