"""The viewer page: one self-contained HTML file (vendored uPlot, the viewer script, the data).

Nothing on the page is fetched from another host: the chart library (uPlot 1.6.32, MIT,
its licence is embedded in the page), the viewer's script and style and the data are
inlined. A live page (``animsup view``) has no data inlined: it polls ``payload.json``
on the server that served it.
"""

from __future__ import annotations

import os
from importlib import resources

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError
from animsup.escape import html_json, html_text

UPLOT_VERSION = "1.6.32"


def _static(name: str) -> str:
    return resources.files("animsup.viewer").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def page_html(payload: dict | None, *, live: bool = False, title: str | None = None, script: str = "viewer.js") -> str:
    """The page as a string. ``payload``: from :func:`animsup.viewer.payload.build_payload`
    (None for a live page, which fetches it); ``script``: the page's script in ``static/``
    (``compare.js``: the runs side by side of :mod:`animsup.viewer.compare`)."""
    licence = _static("uPlot.LICENSE").replace("*/", "* /")
    data = "null" if payload is None else html_json(payload)  # no string can end the script or open a comment
    name = title or (payload or {}).get("path") or "animsup viewer"
    return _TEMPLATE.format(
        title=html_text(f"{name} · animsup viewer"),
        uplot_css=_static("uPlot.min.css"),
        viewer_css=_static("viewer.css"),
        uplot_licence=licence,
        uplot_js=_static("uPlot.iife.min.js"),
        viewer_js=_static(script),
        data=data,
        live="true" if live else "false",
    )


def write_html(log, out, config=None, *, smooth: int | None = None, instance="best",
               max_snapshots: int | None = None) -> dict:
    """Write the viewer for ``log`` to ``out`` (atomically), planned from the video's
    :class:`RenderConfig` ``config`` (or ``smooth`` / ``instance``). Returns a small summary
    dict (path, bytes, snapshots shown, rule, the render plan's notes: e.g. a skipped sidecar)."""
    from animsup.viewer.payload import build_payload, plan_viewer

    out = os.fspath(out)
    if os.path.realpath(out) == os.path.realpath(os.fspath(log)):
        raise AnimsupError(f"{out}: the output would overwrite the input log")
    plan = plan_viewer(log, config, smooth=smooth, instance=instance, max_snapshots=max_snapshots)
    payload = build_payload(plan)
    text = page_html(payload)
    with atomic_path(out) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return {"path": out, "bytes": len(text.encode("utf-8")), "snapshots": len(plan.snapshots), "rule": plan.rule,
            "instances": len(plan.instances), "notes": list(plan.render.log_notes)}


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'">
<title>{title}</title>
<style>{uplot_css}</style>
<style>{viewer_css}</style>
</head>
<body>
<div id="app"></div>
<script>/* uPlot {{UPLOT}}, https://github.com/leeoniya/uPlot
{uplot_licence}*/
</script>
<script>{uplot_js}</script>
<script id="animsup-data" type="application/json">{data}</script>
<script>window.ANIMSUP_LIVE = {live};</script>
<script>{viewer_js}</script>
</body>
</html>
""".replace("{{UPLOT}}", UPLOT_VERSION)
