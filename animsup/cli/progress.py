"""Progress bars for the CLI only (library code takes a ``progress(current, total)`` callback)."""

from __future__ import annotations

import sys


def make_progress(desc: str, total: int | None, unit: str = "it", enabled: bool | None = None):
    """A tqdm bar on stderr, disabled when stderr is not a TTY. Returns (bar, callback)
    where ``callback(current, total, **postfix)`` moves the bar to ``current``."""
    from tqdm import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty()
    bar = tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, dynamic_ncols=True)

    def callback(current: int, total_: int | None = None, **postfix) -> None:
        if total_ is not None and bar.total != total_:
            bar.total = total_
        bar.update(current - bar.n)
        if postfix:
            bar.set_postfix(postfix, refresh=False)

    return bar, callback
