"""Runs side by side as one interactive page: ``animsup render A.jsonl B.jsonl ... --out cmp.html``.

The page counterpart of :mod:`animsup.rendering.compare` (the MP4 of runs side by side), on the
same rules: one panel per run, titled with its file name and the run's title, showing the run's
instance the viewer shows first (the best, as in the video); one slider moves every panel to the
same training step (:func:`animsup.rendering.compare.frame_steps`: the frames spread from the earliest
first snapshot to the latest last one, evenly in step or, with ``align="log-time"``, evenly in
log(step)); each run shows its snapshot nearest that step (the page never interpolates; a run that
ended holds its last snapshot, one that starts later its first). The loss panels share one step
range, and one loss range only when the losses are comparable
(:func:`animsup.rendering.compare.comparability`, the sentence shown on the page); when the runs
share n_features a strip shows each feature's norm ‖W_i‖ in every run and the largest difference.

Each run's data is the viewer's (:func:`animsup.viewer.payload.build_payload`) with the byte budget
split between the runs.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError

#: frames of the page's shared slider at most (each run keeps its own snapshots)
MAX_FRAMES = 2000


def compare_payload(logs: Sequence[str | os.PathLike[str]], config: Any = None, *, align: str = "step") -> dict:
    """The comparison page's data: ``runs`` (each a viewer payload), ``frames`` (the training step
    of each slider position, shape [F]), ``index`` (per run, its shown snapshot at each frame:
    [runs][F]), ``comparable`` and ``note`` (the loss comparability), the shared loss axes.

    ``config``: a :class:`animsup.rendering.config.RenderConfig` (``instance``, ``smooth``, ``time``).
    Raises :class:`AnimsupError` on 2 > logs > 6, a bad ``align``, or a log that cannot be read."""
    from animsup.rendering import compare as rc
    from animsup.rendering.config import RenderConfig
    from animsup.viewer.payload import DATA_BUDGET, build_payload, plan_viewer

    cfg = config if config is not None else RenderConfig()
    paths, cfg = rc.check_logs(logs, cfg, align)
    log_time = cfg.time == "log"
    plans = [plan_viewer(p, cfg, budget=DATA_BUDGET // len(paths)) for p in paths]
    runs = [build_payload(pl) for pl in plans]
    shown = [pl.instances[pl.selected] for pl in plans]
    comparable, note = rc.comparability([pl.render for pl in plans], shown)
    steps = [np.asarray(r["steps"], dtype=np.float64) for r in runs]
    first, last = min(float(s[0]) for s in steps), max(float(s[-1]) for s in steps)
    n = min(MAX_FRAMES, max(len(s) for s in steps))
    frames = rc.frame_steps(first, last, max(n, 2) if last > first else 1, log_time)
    # each run's snapshot nearest each frame's step (held before its first and after its last)
    index = [np.round(np.interp(frames, s, np.arange(len(s), dtype=np.float64))).astype(int).tolist() for s in steps]
    for r in runs:
        r["title"] = f"{r['path']}: {r['title']}"
    xs = [r["loss_xlim"] for r in runs if r["has_loss"] and None not in r["loss_xlim"]]
    ys = [r["loss_ylim"] for r in runs if r["has_loss"] and None not in r["loss_ylim"]]
    return {
        "version": 1,
        "runs": runs,
        "frames": [float(v) for v in frames],
        "index": index,
        "align": "log-time" if log_time else "step",
        "comparable": comparable,
        "note": note,
        "loss_xlim": [min(x[0] for x in xs), max(x[1] for x in xs)] if xs else None,
        "loss_ylim": [min(y[0] for y in ys), max(y[1] for y in ys)] if comparable and ys else None,
        "loss_xscale": "asinh" if log_time else "linear",
        "same_n": len({r["n_features"] for r in runs}) == 1,
    }


def write_compare_html(logs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], config: Any = None, *,
                       align: str = "step") -> dict:
    """Write the comparison page of ``logs`` to ``out`` (atomically). Returns what
    :func:`animsup.viewer.page.write_html` returns (path, bytes, snapshots, rule, instances) plus
    ``runs`` and ``note`` (the loss comparability)."""
    from animsup.viewer.page import page_html

    out = os.fspath(out)
    if os.path.realpath(out) in {os.path.realpath(os.fspath(p)) for p in logs}:
        raise AnimsupError(f"{out}: the output would overwrite an input log")
    data = compare_payload(logs, config, align=align)
    text = page_html(data, title=f"{len(data['runs'])} runs side by side", script="compare.js")
    with atomic_path(out) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    F = len(data["frames"])
    return {"path": out, "bytes": len(text.encode("utf-8")), "snapshots": F, "instances": len(data["runs"]),
            "rule": f"{len(data['runs'])} runs side by side, {F:,} steps on one slider "
                    f"({'evenly in log(step)' if data['align'] == 'log-time' else 'evenly in step'}); {data['note']}",
            "runs": len(data["runs"]), "note": data["note"]}
