"""``animsup.show(log_or_run)``: the interactive viewer inline in a Jupyter notebook.

The page (:func:`animsup.viewer.page.page_html`) goes into a sandboxed ``<iframe srcdoc>``
as wide as the cell, so its script and style cannot touch the notebook. Where scripts do
not run (an untrusted notebook, a static renderer), the iframe shows a PNG poster of the
last snapshot rendered by :func:`animsup.rendering.video.render`, and front ends that cannot show
HTML at all get the same poster as ``image/png``.
"""

from __future__ import annotations

import base64
import html
import math
import os
import tempfile
import uuid

from animsup.errors import AnimsupError


def _log_path(log_or_run) -> str:
    """A path, a :class:`animsup.log.reader.Run` (``.path``), or anything with a ``.log`` path."""
    if isinstance(log_or_run, (str, os.PathLike)):
        path = os.fspath(log_or_run)
    elif isinstance(getattr(log_or_run, "log", None), (str, os.PathLike)):
        path = os.fspath(log_or_run.log)
    elif isinstance(getattr(log_or_run, "path", None), (str, os.PathLike)):
        path = os.fspath(log_or_run.path)
    else:
        raise AnimsupError(f"show() takes a log path or a run read from one, got {type(log_or_run).__name__}")
    if not os.path.isfile(path):
        raise AnimsupError(f"{path}: no such file")
    return path


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
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>{fit}'
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

    :param log_or_run: a log path, or a run read from one (:func:`animsup.read_log`)
    :param height: frame height in pixels (default: fits the page: more rows for big sweeps)
    :param poster: also render a PNG poster for front ends without JavaScript (~1 s, matplotlib)
    :raises AnimsupError: no such log, or a bad log
    """
    from animsup.viewer.page import page_html
    from animsup.viewer.payload import build_payload, plan_viewer

    path = _log_path(log_or_run)
    plan = plan_viewer(path, instance=instance, max_snapshots=max_snapshots)
    payload = build_payload(plan)
    k = len(plan.instances)
    if height is None:
        tile_rows = 0 if k <= 1 else math.ceil(k / 8)
        height = 760 + tile_rows * (110 if k > 36 else 136)
    # the poster shows the instance the page starts on (on a sweep 'best' needs a group)
    png = _poster_png(path, plan.instances[plan.selected]) if poster else None
    return Viewer(page_html(payload), int(height), png, f"{os.path.basename(path)}, {k} instances, {plan.rule}")


def rendered_html(paths) -> str:
    """HTML showing rendered files inline: the viewer of an .html output (in a frame),
    else the first video (.mp4/.webm) or image (.gif/.png), embedded as data."""
    paths = [os.fspath(p) for p in paths]
    for p in paths:
        if p.lower().endswith(".html") and os.path.isfile(p):
            with open(p, encoding="utf-8") as f:
                page = f.read()
            return Viewer(page, 760, None, p)._repr_html_()
    kinds = {".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif", ".png": "image/png"}
    for p in paths:
        mime = kinds.get(os.path.splitext(p)[1].lower())
        if mime and os.path.isfile(p):
            with open(p, "rb") as f:
                b64 = base64.b64encode(f.read()).decode("ascii")
            if mime.startswith("video"):
                return f'<video controls loop muted style="max-width:100%" src="data:{mime};base64,{b64}"></video>'
            return f'<img style="max-width:100%" src="data:{mime};base64,{b64}">'
    return "<pre>" + html.escape("\n".join(paths)) + "</pre>"
