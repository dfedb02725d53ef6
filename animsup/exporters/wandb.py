"""A Weights & Biases run: the scalars, the video and a table of the final geometry.

Offline by default: the run is written under ``--out`` (``WANDB_DIR`` if set) and uploaded only
if you run ``wandb sync`` on it; ``WANDB_MODE=online`` sends it at once. Every scalar of
:mod:`animsup.exporters.common` is logged with the training step as the metric ``step`` (every
chart's x axis); the video of the best chosen instance (MP4) as ``video``; the final geometry
of each chosen instance (shape, represented features, mean D_i, final loss; the run report's
figures) as the table ``geometry``; the events as the table ``events``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from animsup.errors import AnimsupError
from animsup.exporters.common import (ExportResult, by_step, geometry_rows, instance_events, load, prepare_out,
                                      render_video, scalar_series, video_instance)
from animsup.log.mirror import wandb_init


def export(log: str | os.PathLike, out: str | os.PathLike, *, instance: Sequence[int | str] | None = None,
           video: bool = True, video_seconds: float = 6.0, video_size: tuple[int, int] = (640, 360),
           project: str = "animsup", force: bool = False) -> ExportResult:
    """Export ``log`` to a W&B run whose files go under ``out`` (see the module docstring)."""
    run, chosen, final = load(log, list(instance) if instance else None)
    out_dir = prepare_out(out, force)
    try:
        import wandb
    except ImportError:
        raise AnimsupError("--to wandb needs wandb (pip install 'animsup[tracking]')") from None
    h = run.header
    config = {"n_features": h.n_features, "n_hidden": h.n_hidden, "n_instances": h.n_instances, "model": h.model,
              "instances": chosen, "source_log": os.fspath(log), **{k: v for k, v in h.config.items() if k != "source"}}
    try:
        wb = wandb_init(project, out_dir, config, name=os.path.splitext(os.path.basename(os.fspath(log)))[0])
    except ValueError as e:  # a WANDB_MODE W&B does not know
        raise AnimsupError(str(e)) from None
    notes = [f"W&B mode: {os.environ.get('WANDB_MODE') or 'offline'}"]
    try:
        for step, values in by_step(scalar_series(run, chosen)):
            wb.log({"step": step, **values})
        columns, rows = geometry_rows(run, chosen)
        extra: dict[str, object] = {"geometry": wandb.Table(columns=list[str | int](columns), data=rows)}
        ev_rows = [[k, int(e.step), e.kind, e.text] for k, evs in instance_events(run, chosen).items() for e in evs]
        extra["events"] = wandb.Table(columns=list[str | int](["instance", "step", "kind", "text"]), data=ev_rows)
        if video:
            k = video_instance(chosen, final, h.n_instances)
            with tempfile.TemporaryDirectory(prefix="animsup-export-") as tmp:
                path = os.path.join(tmp, f"instance_{k}.mp4")
                with open(path, "wb") as f:
                    f.write(render_video(log, k, ".mp4", seconds=video_seconds, size=video_size))
                extra["video"] = wandb.Video(path, format="mp4", caption=f"instance {k}")
                wb.log({"step": int(run.steps[-1]), **extra})
            notes.append(f"video: instance {k}")
        else:
            wb.log({"step": int(run.steps[-1]), **extra})
        run_dir = wb.dir
    finally:
        wb.finish()
    return ExportResult(out_dir, "wandb", [os.path.dirname(run_dir)], chosen, [int(s) for s in run.steps], notes)
