"""The top-level functions that take a run in any form: a log path, a loaded
:class:`animsup.log.reader.Run`, or arrays (a W history [T, n_instances, n_hidden, n_features]).

``animsup.render``, ``animsup.summary`` and ``animsup.describe`` are these; arrays and Runs are
turned into a Run with :func:`animsup.log.recorder.from_arrays` (keyword arguments ``b``, ``loss``,
``steps``, ``layout``... as there).
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import numpy as np

from animsup.analysis.geometry import THRESHOLD
from animsup.rendering import outputs, video
from animsup.rendering.config import RenderConfig

_ARRAY_KEYS = ("b", "loss", "steps", "W_dec", "layout", "model", "feature_probability", "importance")


def _split(kw: dict) -> tuple[dict, dict]:
    arrays = {k: kw.pop(k) for k in _ARRAY_KEYS if k in kw}
    return arrays, kw


class RenderResult(video.RenderResult):
    """What :func:`render` wrote (:class:`animsup.rendering.video.RenderResult`); in a notebook it
    shows what was rendered (:func:`animsup.viewer.notebook.rendered_html`)."""

    def _repr_html_(self) -> str:
        from animsup.viewer.notebook import rendered_html

        return rendered_html(self.paths)


def render(source: Any, out: video.OutputPaths, *, config: RenderConfig | None = None,
           progress: video.Progress | bool | None = None, **kw: Any) -> RenderResult:
    """Render a run to ``out`` (one path or a list; the format by extension, one of
    :data:`animsup.rendering.outputs.FORMATS`): videos and a poster drawn by
    :func:`animsup.rendering.video.render`, a page (the interactive viewer) written by
    :func:`animsup.viewer.page.write_html`, all from one :class:`RenderConfig` (``config`` or the
    keyword options, its fields).

    :param source: a log path, a :class:`Run`, or a W history (shape: [T, n_instances, n_hidden,
        n_features]; ``b=``, ``loss=``, ``steps=``, ``layout=`` describe it as in :func:`from_arrays`);
        or a list of 2 to 6 log paths: the runs side by side (:mod:`animsup.rendering.compare`; a
        ``.html`` output is the comparison page, :mod:`animsup.viewer.compare`); then ``align="log-time"``
        spreads the frames evenly in log(step) (default "step": evenly in step)
    :returns: one :class:`RenderResult` for every output (``pages``: what each page holds)
    """
    if isinstance(source, (list, tuple)) and source and all(isinstance(x, (str, os.PathLike)) for x in source):
        if len(source) == 1:
            source = source[0]
        else:  # several logs: side by side, aligned on the training step
            return _render_compare(list(source), out, config, progress, kw)
    from animsup.log.recorder import as_log_file

    arrays, kw = _split(kw)
    # the renderer streams a log twice (axes, then frames): a Run or arrays go to a temp log, written once
    with as_log_file(source, **arrays) as log:
        return _render_log(log, out, config, progress, kw)


def _render_log(log: str, out: video.OutputPaths, config: RenderConfig | None,
                progress: video.Progress | bool | None, options: dict[str, Any]) -> RenderResult:
    """The page outputs first (the viewer: the same plan over snapshots, no frames drawn), then the
    drawn ones; one result for all."""
    t_start = time.perf_counter()
    cfg = RenderConfig.resolve(config, options)
    paths = video.as_paths(out)
    pages = [p for p in paths if outputs.is_page(p)]
    drawn = [p for p in paths if p not in pages]
    infos = _write_pages(log, pages, cfg)
    if pages and not drawn:
        return RenderResult(paths=pages, frames=0, animated_frames=0, hold_frames=0, fps=0.0, size=cfg.size,
                            instances=(), mapping="interactive viewer", poster_step=None, workers=0,
                            seconds=time.perf_counter() - t_start, config=cfg.to_dict(), pages=infos,
                            notes=list(dict.fromkeys(n for i in infos for n in i["notes"])))
    result = video.render(log, drawn, cfg, progress=progress)
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    notes = list(dict.fromkeys([*result.notes, *(n for i in infos for n in i["notes"])]))  # each said once
    fields.update(paths=pages + result.paths, seconds=time.perf_counter() - t_start, pages=infos, notes=notes)
    return RenderResult(**fields)


def _render_compare(logs: list, out: video.OutputPaths, config: RenderConfig | None,
                    progress: video.Progress | bool | None, options: dict[str, Any]) -> RenderResult:
    """Runs side by side: the page (:mod:`animsup.viewer.compare`) and the drawn outputs
    (:mod:`animsup.rendering.compare`), aligned alike (``align``: "step" or "log-time")."""
    from animsup.rendering.compare import check_logs, render_compare
    from animsup.viewer.compare import write_compare_html

    t_start = time.perf_counter()
    align = options.pop("align", "step")
    cfg = RenderConfig.resolve(config, options)
    paths = video.as_paths(out)
    pages = [p for p in paths if outputs.is_page(p)]
    drawn = [p for p in paths if p not in pages]
    check_logs(logs, cfg, align)  # (bad options: one error before anything is written)
    infos = [write_compare_html(logs, p, cfg, align=align) for p in pages]
    if pages and not drawn:
        return RenderResult(paths=pages, frames=0, animated_frames=0, hold_frames=0, fps=0.0, size=cfg.size,
                            instances=(), mapping="runs side by side, interactive", poster_step=None, workers=0,
                            seconds=time.perf_counter() - t_start, config=cfg.to_dict(), pages=infos,
                            notes=[infos[0]["note"]])
    cb = None if progress is True else progress or None
    res = render_compare(logs, drawn, cfg, progress=cb, align=align)
    fields = {f.name: getattr(res, f.name) for f in dataclasses.fields(res)}
    fields.update(paths=pages + res.paths, seconds=time.perf_counter() - t_start, pages=infos)
    return RenderResult(**fields)


def _write_pages(log: str, pages: list[str], cfg: RenderConfig) -> list[dict[str, Any]]:
    """Each page output (:func:`animsup.viewer.page.write_html`); what each holds."""
    if not pages:
        return []
    from animsup.viewer import write_html

    return [write_html(log, p, cfg) for p in pages]


def figure(source: Any, *, step: float | None = None, steps: list[float] | None = None,
           config: RenderConfig | None = None, **kw: Any) -> Any:
    """A matplotlib ``Figure`` of one snapshot (``step``: the poster of :func:`render`, every part a
    real artist: text as Text, arrows as a LineCollection) or, with ``steps=[...]``, the filmstrip
    of those snapshots over the loss curve and the events (:mod:`animsup.rendering.filmstrip`).
    The figure is the caller's to edit and save (``fig.savefig("f.pdf")``; for text kept as text in
    SVG/PDF use :func:`animsup.rendering.vector.save_figure`); no pyplot, no rc settings changed.

    :param source: a log path, a Run, or a W history (``b=``, ``loss=``... as for :func:`render`)
    :param step: the snapshot at or nearest this training step (default: the last)
    :param steps: the filmstrip's training steps (each: the snapshot at or before it; 1 to 12)
    :param kw: render options (:class:`RenderConfig` fields: ``instance``, ``theme``, ``size``,
        ``dpi``, ``annotate``, ``smooth``, ``panels``...)
    """
    from animsup.rendering import filmstrip, vector
    from animsup.rendering.frames import iter_frames
    from animsup.rendering.plan import build_plan

    if step is not None and steps is not None:
        raise TypeError("give step (one snapshot) or steps (a filmstrip), not both")
    arrays, kw = _split(kw)
    cfg = RenderConfig.resolve(config, {**kw, "at": step} if step is not None else kw)
    from animsup.log.recorder import as_log_file

    with as_log_file(source, **arrays) as log:
        if steps is None:
            return vector.plan_figure(build_plan(log, cfg, video=False, poster=True))
        plan = build_plan(log, cfg, video=False, poster=False)
        pos = filmstrip.positions_at(plan.summary.steps, steps)
        frames = list(iter_frames(log, plan.instances, pos.astype(np.float64)))
        return filmstrip.filmstrip_figure(plan.scene, frames, plan.events, log_x=cfg.time == "log")


def describe(source, *, step: int | None = None, instance: int = 0, threshold: float = THRESHOLD, **arrays):
    """The geometry (:class:`animsup.analysis.geometry.Geometry`) of one instance at one snapshot.

    :param source: one instance's W (shape: [n_hidden, n_features]), a log path, a Run, or a W history
    :param step: the snapshot at or before this training step (default: the last)
    :param instance: the instance index among the run's instances
    """
    from animsup.analysis import geometry
    from animsup.log.recorder import as_run, to_numpy

    if not isinstance(source, (str, os.PathLike)) and not hasattr(source, "header"):
        W = to_numpy(source, "W")
        if W.ndim == 2 and not arrays:
            return geometry.describe(W, threshold)
    run = as_run(source, **arrays)
    t = _snapshot_index(run, step)
    return geometry.describe(run.W[t, instance], threshold)


def summary(source, *, step: int | None = None, threshold: float = THRESHOLD, **arrays) -> dict:
    """An ``animsup inspect``-style summary as a JSON-ready dict: the run report
    (:class:`animsup.analysis.report.RunReport`, ``to_dict()``) plus ``model_label``: the model,
    sizes, status, loss scope, groups of comparable instances and the best of each, and per
    instance its 1 - S, seed, loss at the snapshot (per-instance scope only), final loss and
    geometry (:meth:`animsup.analysis.geometry.Geometry.to_dict`).

    :param source: a log path, a Run, or a W history (``arrays`` as for :func:`from_arrays`)
    :param step: the snapshot at or before this training step (default: the last)
    """
    from animsup.analysis.report import report_run
    from animsup.log.recorder import as_run

    run = as_run(source, **arrays)
    report = report_run(run, snapshot=_snapshot_index(run, step), until=step, threshold=threshold)
    return {**report.to_dict(), "model_label": report.model_label}


def _snapshot_index(run, step) -> int:
    if step is None:
        return len(run.steps) - 1
    t = int(np.searchsorted(run.steps, step, side="right")) - 1
    if t < 0:
        raise ValueError(f"no snapshot at or before step {step} (the first is step {int(run.steps[0])})")
    return t
