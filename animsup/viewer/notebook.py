"""Jupyter display, in one place: ``animsup.show(log_or_run)`` (the interactive viewer inline)
and rendered files inline (:func:`show_file`; what ``animsup.render``'s result shows).

The page (:func:`animsup.viewer.page.page_html`) goes into a sandboxed ``<iframe srcdoc>``
as wide as the cell, so its script and style cannot touch the notebook. Where scripts do
not run (an untrusted notebook, a static renderer), the iframe shows a PNG poster of the
last snapshot rendered by :func:`animsup.rendering.video.render`, and front ends that cannot show
HTML at all get the same poster as ``image/png``.
"""

from __future__ import annotations

import base64
import math
import os
import tempfile
import uuid
from typing import Any, Sequence

from animsup.errors import AnimsupError, plural
from animsup.escape import plain_text, html_text, terminal
from animsup.rendering.outputs import extension, is_page, mime_type


def _source(log_or_run) -> tuple[object, str]:
    """What :func:`show` reads and the name it shows: a path; a :class:`animsup.log.reader.Run`
    (from a file or :func:`animsup.from_arrays`: written to a temporary log by
    :func:`animsup.log.recorder.as_log_file`); or anything with a ``.log`` path (a render or
    training result)."""
    from animsup.log.reader import Run

    if isinstance(log_or_run, Run):
        return log_or_run, log_or_run.path
    if isinstance(log_or_run, (str, os.PathLike)):
        path = os.fspath(log_or_run)
    elif isinstance(getattr(log_or_run, "log", None), (str, os.PathLike)):
        path = os.fspath(log_or_run.log)
    else:
        raise AnimsupError(f"show() takes a log path or a run (animsup.read_log, animsup.from_arrays), "
                           f"got {type(log_or_run).__name__}")
    if not os.path.isfile(path):
        raise AnimsupError(f"{path}: no such file")
    return path, path


def _poster_png(path: str, instance) -> bytes | None:
    """The video's poster of the last snapshot (None when it cannot be drawn)."""
    from animsup.rendering.video import render

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "poster.png")
        try:
            render(path, out, instance=instance, size="960x540", workers=0)
        except AnimsupError:
            return None
        with open(out, "rb") as f:
            return f.read()


class Viewer:
    """What :func:`show` returns: displays itself in Jupyter (``_repr_html_`` / ``_repr_mimebundle_``)."""

    def __init__(self, page: str, height: int, poster: bytes | None, summary: str):
        self.page, self.height, self.poster, self.summary = page, height, poster, summary

    def __repr__(self) -> str:
        return f"<animsup viewer: {self.summary}>"

    def _poster_tag(self, style: str = "") -> str:
        if not self.poster:
            return "<p>the viewer needs JavaScript</p>"
        b64 = base64.b64encode(self.poster).decode("ascii")
        return f'<img alt="animsup poster (the interactive viewer needs JavaScript)" src="data:image/png;base64,{b64}" style="max-width:100%;{style}">'

    def _repr_html_(self) -> str:
        page = self.page
        if self.poster:  # shown inside the frame when its scripts are blocked
            page = page.replace('<div id="app"></div>', f'<div id="app"><noscript>{self._poster_tag()}</noscript></div>', 1)
        fid = f"animsup-{uuid.uuid4().hex[:12]}"
        # the frame reports its page's height; where the notebook runs this script the frame fits it
        fit = (f"<script>(function(){{var f=document.getElementById('{fid}');window.addEventListener('message',"
               f"function(e){{if(f&&e.source===f.contentWindow&&e.data&&e.data.animsupHeight)"
               f"f.style.height=(e.data.animsupHeight+8)+'px';}});}})();</script>")
        return (
            f'<iframe id="{fid}" class="animsup-viewer" sandbox="allow-scripts" '
            f'style="width:100%;height:{self.height}px;border:0" '
            f'srcdoc="{html_text(page)}"></iframe>{fit}'
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/html": self._repr_html_(), "text/plain": repr(self)}
        if self.poster:
            bundle["image/png"] = base64.b64encode(self.poster).decode("ascii")
        return bundle

    def save(self, path) -> None:
        """Write the page as a standalone HTML file."""
        from animsup.atomic import atomic_path

        with atomic_path(os.fspath(path)) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(self.page)


def show(log_or_run, *, instance="best", height: int | None = None, poster: bool = True,
         max_snapshots: int | None = None) -> Viewer:
    """The interactive viewer of a run log, for display in a notebook cell.

    :param log_or_run: a log path, or a run (:func:`animsup.read_log`, :func:`animsup.from_arrays`)
    :param height: frame height in pixels (default: fits the page: more rows for big sweeps)
    :param poster: also render a PNG poster for front ends without JavaScript (~1 s, matplotlib)
    :raises AnimsupError: no such log, or a bad log
    """
    from animsup.log.recorder import as_log_file
    from animsup.viewer.page import page_html
    from animsup.viewer.payload import build_payload, plan_viewer

    source, name = _source(log_or_run)
    with as_log_file(source) as path:
        plan = plan_viewer(path, instance=instance, max_snapshots=max_snapshots)
        payload = build_payload(plan)
        payload["path"] = plain_text(os.path.basename(name))  # the run's own name, not the temporary log's
        # the poster shows the instance the page starts on, or the grid as `animsup render` does by default
        shown = None if plan.choice is not None and plan.choice.grid else plan.instances[plan.selected]
        png = _poster_png(path, shown) if poster else None
    k = len(plan.instances)
    if height is None:
        tile_rows = 0 if k <= 1 else math.ceil(k / 8)
        height = 760 + tile_rows * (110 if k > 36 else 136)
    return Viewer(page_html(payload), int(height), png, f"{terminal(os.path.basename(name))}, {plural(k, 'instance')}, {plan.rule}")


def rendered_html(paths: Sequence[str | os.PathLike[str]]) -> str:
    """HTML showing rendered files inline: the viewer of a page output (in a frame) if there is
    one, else the first video or image (:func:`show_html`), else the paths."""
    found = [os.fspath(p) for p in paths if mime_type(p) and os.path.isfile(p)]
    shown = [p for p in found if is_page(p)] or found
    if shown:
        return show_html(shown[0])
    return "<pre>" + html_text("\n".join(os.fspath(p) for p in paths)) + "</pre>"


def show_file(path: str | os.PathLike[str], *, width: int | None = None, embed: bool = True) -> Any:
    """Display a rendered file inline in a Jupyter notebook, sized to the cell (an IPython ``HTML``).

    Videos (MP4 / WebM) become an HTML5 ``<video>`` (controls, loop, muted autoplay), images (GIF /
    PNG) an ``<img>``, both at most the cell's width (``max-width: 100%``) or ``width`` pixels; a
    page (the interactive viewer) a sandboxed frame. With ``embed`` (default) a video or image
    travels inside the notebook as a data URI, so it also shows in nbconvert's HTML export (a GIF
    sent as ``image/gif`` output is dropped there). Raises AnimsupError without IPython, for a
    missing file or an extension that is not an output format
    (:data:`animsup.rendering.outputs.FORMATS`).

    >>> res = animsup.render("logs/run.jsonl", "outputs/run.mp4")   # doctest: +SKIP
    >>> animsup.viewer.notebook.show_file(res.paths[0])              # doctest: +SKIP
    """
    try:
        from IPython.display import HTML
    except ImportError:
        raise AnimsupError("showing a video inline needs IPython (pip install ipython)") from None
    return HTML(show_html(path, width=width, embed=embed))


def show_html(path: str | os.PathLike[str], *, width: int | None = None, embed: bool = True) -> str:
    """The HTML :func:`show_file` displays (a ``<video>``, ``<img>`` or the viewer's frame, sized to the cell)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AnimsupError(f"{path}: no such file")
    ext = extension(path)
    mime = mime_type(path)
    if mime is None:
        raise AnimsupError(f"{path}: cannot show {ext or 'files without an extension'} inline")
    if is_page(path):
        with open(path, encoding="utf-8") as f:
            return Viewer(f.read(), 760, None, path)._repr_html_()
    if embed:
        with open(path, "rb") as f:
            src = f"data:{mime};base64," + base64.b64encode(f.read()).decode("ascii")
    else:
        src = html_text(path)
    size = f"width:{int(width)}px;max-width:100%;height:auto" if width else "max-width:100%;height:auto"
    if mime.startswith("video/"):
        return (f'<video controls loop autoplay muted playsinline style="{size}">'
                f'<source src="{src}" type="{mime}"></video>')
    return f'<img src="{src}" style="{size}" alt="{html_text(os.path.basename(path))}"/>'
