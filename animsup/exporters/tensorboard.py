"""TensorBoard event files (tensorboardX's SummaryWriter): the scalars, the video and the events.

Written into ``--out``: the scalar series of :mod:`animsup.exporters.common` (loss per instance
and per group, recorded curves, D_i summaries) at the log's steps; the video of the best chosen
instance as an animated GIF image summary ``video/instance_<k>`` (TensorBoard's Images tab plays
it); and every training event as a text summary ``events/instance_<k>`` at its step.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from animsup.errors import AnimsupError
from animsup.exporters.common import (ExportResult, instance_events, load, prepare_out, render_video, scalar_series,
                                      video_instance)


def _writer(out: str):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise AnimsupError("--to tensorboard needs tensorboardX (pip install 'animsup[tracking]')") from None
    return SummaryWriter(out)


def _add_gif(writer, tag: str, gif: bytes, step: int) -> None:
    """An animated GIF as an image summary (TensorBoard shows image summaries' GIFs animated)."""
    import io

    from PIL import Image
    from tensorboardX.proto.summary_pb2 import Summary

    with Image.open(io.BytesIO(gif)) as im:  # Pillow (a core dependency) reads the GIF's size
        width, height = im.size
    image = Summary.Image(height=int(height), width=int(width), colorspace=4, encoded_image_string=gif)
    writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)


def export(log: str | os.PathLike, out: str | os.PathLike, *, instance: Sequence[int | str] | None = None,
           video: bool = True, video_seconds: float = 6.0, video_size: tuple[int, int] = (640, 360),
           force: bool = False) -> ExportResult:
    """Export ``log`` to TensorBoard event files in the folder ``out`` (see the module docstring)."""
    run, chosen, final = load(log, list(instance) if instance else None)
    out_dir = prepare_out(out, force)
    before = set(os.listdir(out_dir))
    writer = _writer(out_dir)
    notes: list[str] = []
    try:
        for tag, (steps, values) in scalar_series(run, chosen).items():
            for s, v in zip(np.asarray(steps).tolist(), np.asarray(values, dtype=np.float64).tolist()):
                writer.add_scalar(tag, v, int(s))
        for k, evs in instance_events(run, chosen).items():
            for e in evs:
                writer.add_text(f"events/instance_{k}", e.text, int(e.step))
        if video:
            k = video_instance(chosen, final, run.header.n_instances)
            gif = render_video(log, k, ".gif", seconds=video_seconds, size=video_size)
            _add_gif(writer, f"video/instance_{k}", gif, int(run.steps[-1]))
            notes.append(f"video: instance {k} (TensorBoard's Images tab)")
    finally:
        writer.close()
    files = sorted(set(os.listdir(out_dir)) - before)
    return ExportResult(out_dir, "tensorboard", [os.path.join(out_dir, f) for f in files], chosen,
                        [int(s) for s in run.steps], notes)
