"""Rendering against the naive FuncAnimation renderer (bench/naive_render.py), same log,
same run, each render in its own fresh Python process (start-up included on both
sides; peak RSS from ``os.wait4``).

* MP4 1280x720, 1000 frames (one per snapshot), n=5 and n=32 logs: frames/s,
  target >= 20x the naive renderer and >= 100 frames/s.
* GIF 1280x720, 300 frames, vs matplotlib's PillowWriter: time, target >= 10x;
  peak memory at 100 vs 300 frames must not grow with frames.
* Memory: peak RSS rendering 300 frames from a 10k- vs a 100k-snapshot log:
  flat within 1.2x and <= 300 MiB.

The naive renderer costs ~0.1 s a frame, so by default it renders a short and a
long prefix of the same log (``--frames``) and its time for the full length is
projected from the straight line through the two (t = a + b * frames: its start-up
plus a constant cost per frame, which is what clear-and-redraw gives). ``--full``
renders every naive frame instead.
"""

from __future__ import annotations

import json
import os
import shutil

import common

RENDER = """
import json, sys
from animsup.video import render
res = render(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3]))
print("RESULT=" + repr(res))
"""

# what every animsup render is asked for: 1280x720, one frame per snapshot
SIZE = {"size": "1280x720"}


def ours(log, out, **opts):
    """(wall s, peak RSS MiB) of ``animsup.video.render`` in a fresh process."""
    wall, rss, _ = common.run_child([common.PYTHON, "-c", RENDER, log, out, json.dumps({**SIZE, **opts})])
    return wall, rss


def naive(log, out, frames):
    wall, rss, _ = common.run_child([common.PYTHON, str(common.BENCH / "naive_render.py"), log, out, "--frames", str(frames)])
    return wall, rss


def count_frames(path):
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(path)[0]


def naive_seconds(log, out, frames, *, quick, full, repeat):
    """Median wall seconds the naive renderer takes for ``frames`` frames (measured or projected)."""
    if full:
        walls = [naive(log, out, frames)[0] for _ in range(repeat)]
        return common.median(walls), {"naive_measured_frames": frames, "naive_samples_s": walls}
    k1, k2 = (10, 40) if quick else (20, 100)
    t1 = common.median([naive(log, out, k1)[0] for _ in range(repeat)])
    t2 = common.median([naive(log, out, k2)[0] for _ in range(repeat)])
    per_frame = (t2 - t1) / (k2 - k1)
    fixed = t1 - per_frame * k1
    return fixed + per_frame * frames, {
        "naive_projected_from": [k1, k2],
        "naive_fixed_s": fixed,
        "naive_per_frame_s": per_frame,
    }


def mp4(tmp, quick, full):
    rows = []
    frames = 300 if quick else 1000
    repeat = 2 if quick else 3
    for n in (5, 32):
        log = common.write_log(os.path.join(tmp, f"mp4_{n}.jsonl"), n_features=n, n_hidden=2, snapshots=frames)
        out = os.path.join(tmp, f"ours_{n}.mp4")
        ours(log, out, frames=frames)  # warm caches
        walls = [ours(log, out, frames=frames)[0] for _ in range(repeat)]
        got = count_frames(out)
        t = common.median(walls)
        tn, info = naive_seconds(log, os.path.join(tmp, f"naive_{n}.mp4"), frames, quick=quick, full=full, repeat=repeat)
        fps, fps_naive = frames / t, frames / tn
        rows.append(
            common.row(
                f"render MP4 1280x720 n={n}", f"frames/s, {frames} frames (whole process)", fps, "frames/s",
                baseline=fps_naive, baseline_name="FuncAnimation + FFMpegWriter", ratio=fps / fps_naive,
                target=">= 20x and >= 100 fps", met=fps / fps_naive >= 20 and fps >= 100,
                frames_in_file=got, samples_s=walls, mp4_bytes=os.path.getsize(out), **info,
            )
        )
    return rows


def gif(tmp, quick, full):
    frames = 100 if quick else 300
    repeat = 2 if quick else 3
    log = common.write_log(os.path.join(tmp, "gif.jsonl"), n_features=5, n_hidden=2, snapshots=frames)
    out = os.path.join(tmp, "ours.gif")
    ours(log, out, frames=frames)
    runs = [ours(log, out, frames=frames) for _ in range(repeat)]
    t = common.median([w for w, _ in runs])
    rss_full = max(r for _, r in runs)
    rss_third = ours(log, out, frames=frames // 3)[1]
    tn, info = naive_seconds(log, os.path.join(tmp, "naive.gif"), frames, quick=quick, full=full, repeat=repeat)
    # the naive writer's memory: PillowWriter keeps every frame until the end
    rss_naive_third = naive(log, os.path.join(tmp, "naive.gif"), frames // 3)[1]
    rss_naive = naive(log, os.path.join(tmp, "naive.gif"), frames)[1] if full else None
    growth = rss_full / rss_third
    return [
        common.row(
            "render GIF 1280x720 n=5", f"seconds, {frames} frames (whole process)", t, "s",
            baseline=tn, baseline_name="FuncAnimation + PillowWriter", ratio=tn / t, target=">= 10x",
            met=tn / t >= 10, gif_bytes=os.path.getsize(out), samples_s=[w for w, _ in runs], **info,
        ),
        common.row(
            "render GIF 1280x720 n=5", f"peak RSS {frames} frames / {frames // 3} frames", growth, "x",
            baseline=rss_naive / rss_naive_third if rss_naive else None, baseline_name="PillowWriter, same ratio",
            target="flat (<= 1.2x)", met=growth <= 1.2,
            peak_rss_mib=rss_full, peak_rss_third_mib=rss_third,
            naive_peak_rss_mib=rss_naive, naive_peak_rss_third_mib=rss_naive_third,
        ),
    ]


def memory(tmp, quick):
    sizes = (2_000, 20_000) if quick else (10_000, 100_000)
    frames = 100 if quick else 300
    rss, walls = {}, {}
    for snaps in sizes:
        log = common.write_log(os.path.join(tmp, f"mem_{snaps}.jsonl"), n_features=5, n_hidden=2, snapshots=snaps)
        walls[snaps], rss[snaps] = ours(log, os.path.join(tmp, "mem.mp4"), frames=frames)
        os.unlink(log)
    small, big = sizes
    growth = rss[big] / rss[small]
    return [
        common.row(
            "render memory n=5", f"peak RSS, {frames}-frame MP4 from a {big:,}-snapshot log", rss[big], "MiB",
            baseline=rss[small], baseline_name=f"same from a {small:,}-snapshot log", ratio=growth,
            target="ratio <= 1.2, <= 300 MiB", met=growth <= 1.2 and rss[big] <= 300,
            seconds=walls[big], baseline_seconds=walls[small],
        )
    ]


def run(quick=False, full=False):
    try:
        import animsup.video  # noqa: F401
    except ImportError as e:
        return [common.row("render", "frames/s", None, "", note=f"renderer not available: {e}")]
    tmp = common.tmpdir()
    try:
        return mp4(tmp, quick, full) + gif(tmp, quick, full) + memory(tmp, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    common.bench_main("render", run)
