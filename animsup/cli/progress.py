"""Progress for the CLI only (library code takes a ``progress(current, total)`` callback).

Where the user is decides the form:

- stderr is a terminal: a tqdm bar;
- in a Jupyter kernel (``!animsup ...`` pipes, ``main([...])`` in a cell): a widget where
  ipywidgets is installed, else one updating line
  (:func:`animsup.rendering.video.progress_bar_class`);
- anywhere else (piped, redirected, CI logs): one plain line on stderr every
  ``interval`` seconds, e.g. ``render: 120/300 frames (40%), 3.2 s, ~4.8 s left``, so a
  long run is never silent and a log file gets no carriage-return noise.
"""

from __future__ import annotations

import sys
import time

#: seconds between two progress lines when stderr is not a terminal
LINE_INTERVAL = 10.0


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class LineProgress:
    """tqdm's small surface (``n``, ``total``, ``update``, ``set_postfix``, ``close``) as one line on
    ``stream`` at most every ``interval`` seconds (and one final line if any was written)."""

    def __init__(self, desc: str, total: int | None, unit: str, stream=None, interval: float = LINE_INTERVAL):
        self.desc, self.total, self.unit = desc, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.n = 0
        self.postfix: dict = {}
        self.t0 = time.monotonic()
        self._last = self.t0
        self._wrote = False

    def update(self, k: int = 1) -> None:
        self.n += k
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write(now)

    def set_postfix(self, postfix: dict, refresh: bool = False) -> None:
        self.postfix = dict(postfix)

    def _write(self, now: float) -> None:
        elapsed = now - self.t0
        unit = self.unit + ("s" if self.unit not in ("B", "it") and self.n != 1 else "")
        if self.total:
            frac = self.n / self.total
            text = f"{self.desc}: {self.n:,}/{self.total:,} {unit} ({100 * frac:.0f}%), {elapsed:.1f} s"
            if 0 < frac < 1:
                text += f", ~{elapsed * (1 - frac) / frac:.1f} s left"
        else:
            text = f"{self.desc}: {self.n:,} {unit}, {elapsed:.1f} s"
        if self.postfix:
            text += ", " + ", ".join(f"{k}={v}" for k, v in self.postfix.items())
        self.stream.write(text + "\n")
        self.stream.flush()
        self._wrote = True

    def close(self) -> None:
        if self._wrote:
            self._write(time.monotonic())
            self._wrote = False


def rounded(value: object) -> object:
    """A progress line's number to 4 significant digits (``loss=0.01504``, not 0.015041549690067768)."""
    return f"{value:.4g}" if isinstance(value, float) else value


def make_progress(desc: str, total: int | None, unit: str = "it", enabled: bool | None = None):
    """Progress for ``desc`` (see the module docstring). ``enabled=False`` shows nothing; None picks
    the form from where stderr goes. Returns (bar, callback) where ``callback(current, total,
    **postfix)`` moves the bar to ``current``; call ``bar.close()`` at the end."""
    if enabled is False:
        from tqdm import tqdm

        bar = tqdm(total=total, disable=True)
    elif sys.stderr.isatty() or enabled:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True, file=sys.stderr)
    elif _in_notebook():
        from animsup.rendering.video import progress_bar_class

        bar = progress_bar_class()(total=total, desc=desc, unit=unit, leave=False)
    else:
        bar = LineProgress(desc, total, unit)

    def callback(current: int, total_: int | None = None, **postfix) -> None:
        if total_ is not None and bar.total != total_:
            bar.total = total_
        bar.update(current - bar.n)
        if postfix:
            bar.set_postfix({k: rounded(v) for k, v in postfix.items()}, refresh=False)

    return bar, callback
