"""Rendering against the naive FuncAnimation renderer (bench/naive_render.py), same log,
same run, each render in its own fresh Python process (start-up included on both
sides; peak RSS from ``os.wait4``).

* MP4 1280x720, 1000 frames (one per snapshot), n=5 and n=32 logs: frames/s,
  target >= 20x the naive renderer and >= 100 frames/s.
* The short render (issue 14): ``animsup render LOG -o OUT.mp4`` (the CLI, whole
  process, start-up included), 230 frames, 1280x720, n=5 and n=32, against the naive
  renderer drawing all 230 frames (measured, not projected; ``--quick`` projects from
  25 frames), interleaved pairs, median of the per-pair ratios: target >= 20x.
* GIF 1280x720, 300 frames, vs matplotlib's PillowWriter: time, target >= 10x;
  peak memory at 100 vs 300 frames must not grow with frames.
* Memory: peak RSS rendering 100 frames from a 10k- vs a 100k-snapshot log:
  flat within 1.2x and <= 300 MiB.
* Large n (issue 14): an MP4 of one instance from an n=1000, m=2, 4-instance log (the
  2-D view) and from an n=200, m=20, 20-instance log (the WᵀW heatmap), 200 snapshots
  each: peak RSS (targets <= 300 and <= 400 MiB; before the render plan: 12.3 GiB and
  2.7 GiB), frames/s of the whole process, and the drawing speed (median gap between
  frames, start-up excluded; target >= 60 frames/s). Also ``events`` on the n=1000 log.

The naive renderer costs ~0.1 s a frame, so by default it renders the first 60
frames of the same log and its time for the full length is projected from its own
timings: start-up + frames x (median seconds per frame) + the writer's finish (see
:func:`naive_seconds`; clear-and-redraw costs the same every frame). ``--full``
renders every naive frame instead. The two renderers run interleaved and the
ratio is the median of the per-pair ratios.
"""

from __future__ import annotations

import json
import os

import common

RENDER = """
import json, sys
from animsup.rendering.video import render
res = render(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3]))
print("RESULT=" + repr(res))
"""

# what every animsup render is asked for: 1280x720, no final hold (frames = snapshots, like the naive one)
SIZE = {"size": "1280x720", "hold": 0}


def ours(log, out, **opts):
    """(wall s, peak RSS MiB) of ``animsup.rendering.video.render`` in a fresh process."""
    wall, rss, _ = common.run_child([common.PYTHON, "-c", RENDER, log, out, json.dumps({**SIZE, **opts})])
    return wall, rss


def naive(log, out, frames):
    """(wall s, peak RSS MiB, timing dict) of bench/naive_render.py in a fresh process."""
    wall, rss, text = common.run_child(
        [common.PYTHON, str(common.BENCH / "naive_render.py"), log, out, "--frames", str(frames), "--timing"]
    )
    return wall, rss, json.loads(text.split("TIMING=")[1])


def count_frames(path):
    import imageio_ffmpeg

    return imageio_ffmpeg.count_frames_and_secs(path)[0]


def naive_once(log, out, frames, *, quick, full):
    """Seconds the naive renderer takes for ``frames`` frames (measured or projected), and its run's details.

    Projected from a run over the first K frames: its start-up (to the first frame),
    then the median cost of a frame (draw + grab) times the frames, then the writer's
    ``finish`` (for PillowWriter, which encodes the whole GIF there, scaled by frames / K).
    The median per-frame cost shrugs off load spikes from other processes, which favours
    the baseline; animsup's own time is the plain wall time.
    """
    if full:
        wall, rss, _ = naive(log, out, frames)
        return wall, {"frames": frames, "wall_s": wall, "peak_rss_mib": rss}
    k = min(frames, 25 if quick else 60)
    wall, rss, tm = naive(log, out, k)
    per_frame = common.median(tm["frame_s"][:-1])
    finish = tm["frame_s"][-1] - per_frame
    startup = wall - sum(tm["frame_s"])  # process start, imports, parsing, set-up, first draw
    projected = startup + per_frame * frames + finish * (frames / k if out.endswith(".gif") else 1.0)
    return projected, {"frames": k, "wall_s": wall, "startup_s": startup, "per_frame_s": per_frame,
                       "finish_s": finish, "projected_s": projected, "peak_rss_mib": rss}


def versus(log, ours_out, naive_out, frames, *, quick, full, repeat, **opts):
    """Interleaved runs (ours, naive, ours, naive, ...): our walls and RSS, the naive seconds and runs."""
    walls, rss, naive_s, naive_runs = [], [], [], []
    for _ in range(repeat):
        w, r = ours(log, ours_out, frames=frames, **opts)
        walls.append(w)
        rss.append(r)
        t, info = naive_once(log, naive_out, frames, quick=quick, full=full)
        naive_s.append(t)
        naive_runs.append(info)
    return walls, rss, naive_s, naive_runs


def mp4(tmp, quick, full):
    from animsup.rendering.encode import MP4_PRESET

    rows = []
    frames = 300 if quick else 1000
    repeat = 2 if quick else 3
    for n in (5, 32):
        log = common.write_log(os.path.join(tmp, f"mp4_{n}.jsonl"), n_features=n, n_hidden=2, snapshots=frames)
        out = os.path.join(tmp, f"ours_{n}.mp4")
        walls, _, naive_s, naive_runs = versus(
            log, out, os.path.join(tmp, f"naive_{n}.mp4"), frames, quick=quick, full=full, repeat=repeat
        )
        got = count_frames(out)
        fps, fps_naive = frames / common.median(walls), frames / common.median(naive_s)
        ratio = common.paired_ratio(naive_s, walls)  # = fps ratio, pair by pair
        rows.append(
            common.row(
                f"render MP4 1280x720 n={n}", f"frames/s, {frames} frames (whole process)", fps, "frames/s",
                baseline=fps_naive, baseline_name="FuncAnimation + FFMpegWriter", ratio=ratio,
                # the target is for 1000 frames: a --quick run (300 frames, start-up weighs 3x more) only smoke-tests
                target="(quick: the target is for 1000 frames)" if quick else ">= 20x and >= 100 fps",
                met=None if quick else (ratio >= 20 and fps >= 100),
                frames_in_file=got, samples_s=walls, mp4_bytes=os.path.getsize(out), naive_runs=naive_runs,
                preset=MP4_PRESET,
            )
        )
    # the size/speed trade-off of the x264 preset (no baseline): the n=32 video at veryfast
    log = os.path.join(tmp, "mp4_32.jsonl")
    out = os.path.join(tmp, "veryfast_32.mp4")
    walls = [ours(log, out, frames=frames, preset="veryfast")[0] for _ in range(1 if quick else 2)]
    rows.append(
        common.row(
            "render MP4 1280x720 n=32, --preset veryfast", f"frames/s, {frames} frames (whole process)",
            frames / common.median(walls), "frames/s", target="(report)", samples_s=walls,
            mp4_bytes=os.path.getsize(out), default_mp4_bytes=rows[-1]["mp4_bytes"], preset="veryfast",
        )
    )
    return rows


SHORT_FRAMES = 230


def ours_cli(log, out):
    """(wall s, peak RSS MiB) of the ``animsup render`` command in a fresh process (what a user types)."""
    cmd = [common.PYTHON, "-m", "animsup", "render", log, "-o", out, "--size", SIZE["size"], "--hold", "0"]
    wall, rss, _ = common.run_child(cmd)
    return wall, rss


def short(tmp, quick):
    """The issue's short render: a 230-frame MP4 from the command line, start-up included on both
    sides. The naive renderer draws every frame (``--quick``: projected from 25 frames)."""
    rows = []
    repeat = 2 if quick else 3
    for n in (5, 32):
        log = common.write_log(os.path.join(tmp, f"short_{n}.jsonl"), n_features=n, n_hidden=2,
                               snapshots=SHORT_FRAMES)
        out, naive_out = os.path.join(tmp, f"short_{n}.mp4"), os.path.join(tmp, f"short_naive_{n}.mp4")
        load_before = os.getloadavg()[0]
        walls, naive_s, naive_runs = [], [], []
        for _ in range(repeat):  # interleaved: ours, naive, ours, naive, ...
            walls.append(ours_cli(log, out)[0])
            t, info = naive_once(log, naive_out, SHORT_FRAMES, quick=quick, full=not quick)
            naive_s.append(t)
            naive_runs.append(info)
        ratio = common.paired_ratio(naive_s, walls)
        rows.append(common.row(
            f"render short MP4 1280x720 n={n}", f"seconds, {SHORT_FRAMES} frames, `animsup render` (whole process)",
            common.median(walls), "s", baseline=common.median(naive_s),
            baseline_name="FuncAnimation + FFMpegWriter" + (" (projected from 25 frames)" if quick else ", every frame"),
            ratio=ratio, target="(quick: projected baseline)" if quick else ">= 20x", met=None if quick else ratio >= 20,
            frames_in_file=count_frames(out), samples_s=walls, baseline_samples_s=naive_s, naive_runs=naive_runs,
            loadavg_before=load_before, loadavg_after=os.getloadavg()[0],
        ))
    return rows


def gif(tmp, quick, full):
    frames = 100 if quick else 300
    repeat = 2 if quick else 3
    log = common.write_log(os.path.join(tmp, "gif.jsonl"), n_features=5, n_hidden=2, snapshots=frames)
    out = os.path.join(tmp, "ours.gif")
    walls, rss, naive_s, naive_runs = versus(
        log, out, os.path.join(tmp, "naive.gif"), frames, quick=quick, full=full, repeat=repeat
    )
    t, tn = common.median(walls), common.median(naive_s)
    ratio = common.paired_ratio(naive_s, walls)
    rss_full = max(rss)
    rss_third = ours(log, out, frames=frames // 3)[1]
    # the naive writer's memory (PillowWriter keeps every frame until the end), same ratio
    k_naive = naive_runs[0]["frames"]
    rss_naive = max(r["peak_rss_mib"] for r in naive_runs)
    rss_naive_third = naive(log, os.path.join(tmp, "naive.gif"), k_naive // 3)[1]
    growth = rss_full / rss_third
    return [
        common.row(
            "render GIF 1280x720 n=5", f"seconds, {frames} frames (whole process)", t, "s",
            baseline=tn, baseline_name="FuncAnimation + PillowWriter", ratio=ratio,
            target="(quick: the target is for 300 frames)" if quick else ">= 10x",
            met=None if quick else ratio >= 10, gif_bytes=os.path.getsize(out), samples_s=walls, naive_runs=naive_runs,
        ),
        common.row(
            "render GIF 1280x720 n=5", f"peak RSS {frames} frames / {frames // 3} frames", growth, "x",
            baseline=rss_naive / rss_naive_third,
            baseline_name=f"PillowWriter, peak RSS {k_naive} / {k_naive // 3} frames",
            target="flat (<= 1.2x)", met=growth <= 1.2,
            peak_rss_mib=rss_full, peak_rss_third_mib=rss_third,
            naive_peak_rss_mib=rss_naive, naive_peak_rss_third_mib=rss_naive_third,
        ),
    ]


def memory(tmp, quick):
    sizes = (2_000, 20_000) if quick else (10_000, 100_000)
    frames = 100
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


LARGE = """
import json, sys, time
from animsup.rendering.video import render
stamps = []
res = render(sys.argv[1], sys.argv[2], progress=lambda i, n: stamps.append(time.perf_counter()), **json.loads(sys.argv[3]))
gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
print("PERFRAME=%r FRAMES=%d" % (gaps[len(gaps) // 2], res.frames))
"""


def large(tmp, quick):
    """Peak RSS and speed at the sizes of the paper's experiments (see the module docstring)."""
    import json

    rows = []
    snaps = 100 if quick else 200
    cases = [  # (name, n, m, instances, RSS target MiB, the numbers before the render plan (issue 14))
        ("2-D view", 1000, 2, 4, 300, "12.3 GiB; 5.6 frames/s"),
        ("WᵀW heatmap", 200, 20, 20, 400, "2.7 GiB (203 MB log); 18.7 frames/s"),
    ]
    for name, n, m, k, rss_target, before in cases:
        log = common.write_log(os.path.join(tmp, f"large_{n}_{m}.jsonl"), n_features=n, n_hidden=m, n_instances=k,
                               snapshots=snaps, chunk=20)
        mb = os.path.getsize(log) / 1e6
        out = os.path.join(tmp, f"large_{n}.mp4")
        opts = {**SIZE, "workers": 0}
        wall, rss, text = common.run_child([common.PYTHON, "-c", LARGE, log, out, json.dumps(opts)])
        per = float(text.split("PERFRAME=")[1].split()[0])
        frames = int(text.split("FRAMES=")[1].split()[0])
        rows.append(common.row(
            f"render large n={n} m={m} ({name})", f"peak RSS, {frames}-frame MP4 of 1 of {k} instances, {mb:.0f} MB log",
            rss, "MiB", baseline_name=f"before (issue 14): {before}", target=f"<= {rss_target} MiB",
            met=rss <= rss_target, seconds=wall))
        rows.append(common.row(
            f"render large n={n} m={m} ({name})", "frames/s drawn + encoded (median gap, start-up excluded)",
            1 / per, "frames/s", target=">= 60 frames/s", met=1 / per >= 60, whole_process_fps=frames / wall))
        if n == 1000:
            t, rss_ev, _ = common.run_child([common.PYTHON, "-m", "animsup", "events", log])
            rows.append(common.row(f"events large n={n} m={m}", f"seconds, {mb:.0f} MB log, {k} instances", t, "s",
                                   baseline_name="before (issue 14): 30 s", target="<= 10 s", met=t <= 10,
                                   peak_rss_mib=rss_ev))
        os.unlink(log)
    return rows


def run(quick=False, full=False):
    try:
        import animsup.rendering.video  # noqa: F401
    except ImportError as e:
        return [common.row("render", "frames/s", None, "", note=f"renderer not available: {e}")]
    with common.tmpdir() as tmp:
        return (short(tmp, quick) + mp4(tmp, quick, full) + gif(tmp, quick, full) + memory(tmp, quick)
                + large(tmp, quick))


if __name__ == "__main__":
    common.bench_main("render", run)
