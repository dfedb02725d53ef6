"""The dimensionality panels (animsup.rendering.panels.dynamics) against the same render without them,
same log, same run, each render in its own fresh Python process (start-up included; peak RSS
from ``os.wait4``), interleaved, medians.

* MP4 1280x720, 1000 frames of an n=32, m=2 log, ``--panels dim_time``: frames/s, target
  >= 100 frames/s; the baseline is the same render with no extra panel.
* Drawing only, in process: ms per 1280x720 frame of the same log with and without
  ``dim_time`` (median over 300 frames; the panel's own cost, less sensitive to other load).
* Drawing only, in process: ms per 1280x720 frame of an n=20, m=10 log with ``--panels neurons``
  (the neuron model's per-neuron bars, 200 bars a frame) against the same frames without panels.
* Memory: a 100-frame MP4 of an n=200, m=20, 20-instance log (the feature-geometry run's size,
  80 snapshots) with ``--panels dim_scatter,dims_per_feature,norms``: peak RSS against the same
  render without panels; target <= 300 MiB (the renderer's memory target, docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os

import common

RENDER = """
import json, sys
from animsup.rendering.video import render
res = render(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3]))
"""
SIZE = {"size": "1280x720", "hold": 0}


def render(log, out, **opts):
    """(wall s, peak RSS MiB) of ``animsup.rendering.video.render`` in a fresh process."""
    wall, rss, _ = common.run_child([common.PYTHON, "-c", RENDER, log, out, json.dumps({**SIZE, **opts})])
    return wall, rss


def speed(tmp, quick):
    frames = 300 if quick else 1000
    log = common.write_log(os.path.join(tmp, "n32.jsonl"), n_features=32, n_hidden=2, snapshots=frames)
    out = os.path.join(tmp, "out.mp4")
    with_p, without = [], []
    for _ in range(2 if quick else 3):
        with_p.append(render(log, out, frames=frames, panels="dim_time")[0])
        without.append(render(log, out, frames=frames)[0])
    fps, fps0 = frames / common.median(with_p), frames / common.median(without)
    return common.row(
        "render MP4 1280x720 n=32 --panels dim_time", f"frames/s, {frames} frames (whole process)", fps, "frames/s",
        baseline=fps0, baseline_name="same render without panels", ratio=fps / fps0,
        target="(quick: the target is for 1000 frames)" if quick else ">= 100 fps",
        met=None if quick else fps >= 100, samples_s=with_p, baseline_samples_s=without,
    )


def _draw_ms(log, panel: str, n_frames: int) -> tuple[float, float]:
    """Median ms to draw a 1280x720 frame of ``log`` with ``panel`` and without panels (same frames)."""
    import time

    import numpy as np

    from animsup.rendering import draw, frames as fr
    from animsup.rendering.panels import prepare_panels

    s = fr.scan_log(log)
    inst = fr.choose_instances(s, 0, grid=False)
    frames = list(fr.iter_frames(log, inst, np.linspace(0, len(s.steps) - 1, n_frames)))
    ms = {}
    for panels in ((), (panel,)):
        scene = fr.build_scene(s, inst, panels=panels, size=(1280, 720))
        scene.panel_data = prepare_panels(panels, log, inst)
        d = draw.FrameDrawer(scene)
        times = []
        for f in frames:
            t0 = time.perf_counter()
            d.draw(f)
            times.append(time.perf_counter() - t0)
        ms[panels] = 1000 * common.median(times[5:])
    return ms[(panel,)], ms[()]


def draw_cost(tmp, quick):
    with_p, without = _draw_ms(os.path.join(tmp, "n32.jsonl"), "dim_time", 100 if quick else 300)
    return common.row(
        "draw 1280x720 n=32 --panels dim_time", "ms per frame (drawing only, in process)", with_p, "ms",
        baseline=without, baseline_name="same frames without panels", ratio=without / with_p,
        target="(report: the panel's own cost)",
    )


def neurons_draw_cost(tmp, quick):
    log = common.write_log(os.path.join(tmp, "n20m10.jsonl"), n_features=20, n_hidden=10, snapshots=300)
    with_p, without = _draw_ms(log, "neurons", 100 if quick else 300)
    return common.row(
        "draw 1280x720 n=20, m=10 --panels neurons", "ms per frame (drawing only, in process)", with_p, "ms",
        baseline=without, baseline_name="same frames without panels", ratio=without / with_p,
        target="(report: the panel's own cost)",
    )


def memory(tmp, quick):
    log = common.write_log(os.path.join(tmp, "n200.jsonl"), n_features=200, n_hidden=20, n_instances=20,
                           snapshots=40 if quick else 80)
    out = os.path.join(tmp, "mem.mp4")
    panels = "dim_scatter,dims_per_feature,norms"
    w1, r1 = render(log, out, frames=100, panels=panels)
    w0, r0 = render(log, out, frames=100)
    return common.row(
        "render memory n=200, m=20, 20 instances", f"peak RSS, 100-frame MP4 with --panels {panels}", r1, "MiB",
        baseline=r0, baseline_name="same render without panels", ratio=r0 / r1, target="<= 300 MiB",
        met=r1 <= 300, seconds=w1, baseline_seconds=w0,
    )


def run(quick=False, full=False):
    with common.tmpdir() as tmp:
        return [speed(tmp, quick), draw_cost(tmp, quick), neurons_draw_cost(tmp, quick), memory(tmp, quick)]


if __name__ == "__main__":
    common.bench_main("panels", run)
