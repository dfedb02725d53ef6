"""What every exporter shares: the result, the output folder, the chosen instances and the
series a tracker shows (a leaf of the exporters package: the format modules import it, and the
registry in ``animsup.exporters`` names the format modules).

The series, all at the log's own steps (tags as :mod:`animsup.log.mirror` names them, so a live
mirror and an export line up):

- ``loss/instance_<k>`` (or ``loss/all`` for one aggregate loss): the fine loss curve;
- ``loss_group/g<N>/mean`` and ``loss_group/g<N>/best``: the mean and the lowest loss of the
  chosen instances of each group of comparable instances (:func:`animsup.analysis.ranking.groups`);
- ``curves/<name>`` or ``curves/<name>/instance_<k>``: the log's named curves (test loss, lr...);
- ``geometry/mean_D/instance_<k>``: the mean feature dimensionality D_i of the represented
  features (norm above :data:`animsup.analysis.geometry.THRESHOLD`; 0 when none is) and
  ``geometry/represented/instance_<k>``: how many are, at every snapshot.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from animsup.analysis import timeline
from animsup.analysis import geometry, ranking
from animsup.errors import AnimsupError
from animsup.log.mirror import curve_tags, loss_tags

if TYPE_CHECKING:
    from animsup.log.reader import Run

Series = dict[str, tuple[np.ndarray, np.ndarray]]  # tag -> (steps [L], values [L])


@dataclass
class ExportResult:
    """What an export wrote: the folder, its files, the instances and snapshot steps it holds."""

    out_dir: str
    to: str
    files: list[str]
    instances: list[int]
    steps: list[int]
    notes: list[str] = field(default_factory=list)


def prepare_out(out: str | os.PathLike, force: bool) -> str:
    """The output folder, created; one that already holds files is refused unless ``force``."""
    out = os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise AnimsupError(f"--out {out} is a file; give a folder")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise AnimsupError(f"--out {out} already holds files (pass --force to write into it)")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise AnimsupError(f"--out {out}: cannot create the folder: {e.strerror or e}") from None
    return out


def load(log: str | os.PathLike, instances: list[int | str] | None) -> tuple[Run, list[int], np.ndarray | None]:
    """(the whole run, the chosen instances, every instance's final loss or None).

    :param instances: ``--instance`` specs (indices, "best", "best:g1"); None: all of them
    """
    from animsup.log.reader import read_log

    run = read_log(log)
    K = run.header.n_instances
    final = None
    if run.loss_scope == "instance":
        final = ranking.final_loss(run.loss_steps, run.loss_curve)
    if not instances:
        return run, list(range(K)), final
    try:
        return run, ranking.select(instances, ranking.groups(run.header), final, K), final
    except AnimsupError as e:
        raise AnimsupError(f"{log}: {e}") from None


def scalar_series(run: Run, chosen: list[int]) -> Series:
    """Every scalar series of the chosen instances (see the module docstring)."""
    out: Series = {}
    K = run.header.n_instances
    if run.loss_scope != "none" and len(run.loss_steps):
        tags = loss_tags(run.loss_scope, K)
        if run.loss_scope == "aggregate":
            out[tags[0]] = (run.loss_steps, run.loss_curve[:, 0])
        else:
            for k in chosen:
                out[tags[k]] = (run.loss_steps, run.loss_curve[:, k])
            for g in ranking.groups(run.header):
                members = [k for k in g.instances if k in chosen]
                if members:
                    rows = run.loss_curve[:, members].astype(np.float64)
                    out[f"loss_group/{g.name}/mean"] = (run.loss_steps, rows.mean(axis=1))
                    out[f"loss_group/{g.name}/best"] = (run.loss_steps, rows.min(axis=1))
    for name, (steps, values) in run.curves.items():
        width = values.shape[1]
        tags = curve_tags(name, width)
        for j in range(width) if width == 1 else chosen:
            out[tags[j]] = (steps, values[:, j])
    for k in chosen:
        W = run.W[:, k].astype(np.float64)
        rep = geometry.represented(W)
        D = geometry.dimensionality(W)
        count = rep.sum(axis=1)
        mean_D = np.where(count > 0, (D * rep).sum(axis=1) / np.maximum(count, 1), 0.0)
        out[f"geometry/mean_D/instance_{k}"] = (run.steps, mean_D)
        out[f"geometry/represented/instance_{k}"] = (run.steps, count.astype(np.float64))
    return out


def by_step(series: Series) -> list[tuple[int, dict[str, float]]]:
    """The series regrouped as (step, {tag: value}), steps ascending (what W&B logs row by row)."""
    rows: dict[int, dict[str, float]] = {}
    for tag, (steps, values) in series.items():
        for s, v in zip(np.asarray(steps).tolist(), np.asarray(values, dtype=np.float64).tolist()):
            rows.setdefault(int(s), {})[tag] = v
    return sorted(rows.items())


def instance_events(run: Run, chosen: list[int]) -> dict[int, list[timeline.RunEvent]]:
    """The training events of each chosen instance (the one event list,
    :func:`animsup.analysis.timeline.run_events`, that ``animsup events``, the video and the viewer show;
    LLC jumps included when the log's sidecar measured them)."""
    from animsup.log.measurements import read_for_log

    # once for all instances; another run's, an older or a corrupt sidecar adds no jumps
    measured = read_for_log(run.path, run.steps)[0] if run.path else None
    return {k: timeline.run_events(run, run.instances[k], measurements=measured) for k in chosen}


def geometry_rows(run: Run, chosen: list[int]) -> tuple[list[str], list[list[object]]]:
    """(columns, one row per chosen instance) of the final snapshot's geometry, from the run
    report (:func:`animsup.analysis.report.report_run`)."""
    from animsup.analysis.report import report_run

    rep = report_run(run)
    columns = ["instance", "group", "best_in_group", "final_loss", "shape", "represented", "mean_D",
               "dims_per_feature", "norms", "dimensionality"]
    rows: list[list[object]] = []
    for r in rep.instances:
        if r.index not in chosen:
            continue
        g = r.geometry.to_dict()
        rep_feats = list(g["represented"])
        D = np.asarray(g["dimensionality"], dtype=np.float64)
        mean_D = float(D[rep_feats].mean()) if rep_feats else 0.0
        final = r.final_loss if isinstance(r.final_loss, float) or r.final_loss is None else float("nan")
        rows.append([r.index, r.group, r.best_in_group, final, g["label"], len(rep_feats), round(mean_D, 6),
                     g["dims_per_feature"], str(g["norms"]), str(g["dimensionality"])])
    return columns, rows


def video_instance(chosen: list[int], final: np.ndarray | None, n_instances: int) -> int:
    """The instance the video shows: the best chosen one (lowest final loss), else the first."""
    if final is None or len(chosen) == 0:
        return chosen[0] if chosen else 0
    return int(chosen[ranking.argbest(np.asarray(final)[chosen])])


def render_video(log: str | os.PathLike, instance: int, suffix: str, *, seconds: float, size: tuple[int, int]) -> bytes:
    """The video of one instance (animsup's renderer, ``suffix`` ".gif" or ".mp4"), as bytes."""
    from animsup.rendering.video import render

    with tempfile.TemporaryDirectory(prefix="animsup-export-") as tmp:
        path = os.path.join(tmp, f"instance_{instance}{suffix}")
        render(log, path, instance=instance, duration=seconds, size=size, fps=10, workers=1)
        with open(path, "rb") as f:
            return f.read()
