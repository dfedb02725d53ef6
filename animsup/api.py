"""The top-level functions that take a run in any form: a log path, a loaded
:class:`animsup.log.reader.Run`, or arrays (a W history [T, n_instances, n_hidden, n_features]).

``animsup.render``, ``animsup.summary`` and ``animsup.describe`` are these; arrays and Runs are
turned into a Run with :func:`animsup.log.recorder.from_arrays` (keyword arguments ``b``, ``loss``,
``steps``, ``layout``... as there).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from animsup.analysis.geometry import THRESHOLD

_ARRAY_KEYS = ("b", "loss", "steps", "W_dec", "layout", "model", "feature_probability", "importance")


def _split(kw: dict) -> tuple[dict, dict]:
    arrays = {k: kw.pop(k) for k in _ARRAY_KEYS if k in kw}
    return arrays, kw


def render(source, out, **kw):
    """Render a run to ``out`` (one path or a list; .mp4 .gif .webm .png), see :func:`animsup.rendering.video.render`.

    :param source: a log path, a :class:`Run`, or a W history (shape: [T, n_instances, n_hidden,
        n_features]; ``b=``, ``loss=``, ``steps=``, ``layout=`` describe it as in :func:`from_arrays`)
    :returns: the :class:`animsup.rendering.video.RenderResult`
    """
    from animsup.rendering.video import render as render_log

    arrays, kw = _split(kw)
    if isinstance(source, (str, os.PathLike)):
        if arrays:
            raise TypeError(f"{', '.join(arrays)} only apply when rendering arrays, not a log path")
        return render_log(source, out, **kw)
    from animsup.log.reader import Run

    folder = tempfile.mkdtemp(prefix="animsup-render-")
    tmp = os.path.join(folder, "run.jsonl")
    try:  # the renderer streams a log twice (axes, then frames): hand it one in a temp folder, written once
        if isinstance(source, Run):
            if arrays:
                raise TypeError(f"{', '.join(arrays)} only apply when rendering arrays, not a Run")
            source.save(tmp)
        else:
            from animsup.log.recorder import write_arrays

            write_arrays(source, tmp, **arrays)
        return render_log(tmp, out, **kw)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
