"""The baseline renderer: what seed 002's prompt produces.

Seed 002 asked an LLM for "a Python program that takes a file called log ... uses
matplotlib to render loss as a function of the run, and the W matrix ... one scatter
dot for each of the input unit vectors ... an animation showing how the points
migrated over time, keeping the xy limits fixed ... a moving average of the loss".
This is that program, written the way such a script typically is (and the way the
prompt's answer was): a ``FuncAnimation`` whose update function clears both axes and
redraws everything, saved with matplotlib's ``FFMpegWriter`` (MP4) or
``PillowWriter`` (GIF), 1280x720, one frame per snapshot. It is honest, not a
strawman: the moving average is computed once up front, the axis limits once, and
the writers are matplotlib's own.

It reads either the C program's text log (bench/c/seed002.c: ``run:``/``L:`` lines
and ``W: [`` blocks) or an animsup JSONL log (instance 0, through
``animsup.log.reader.read_log``), so the benchmark can hand both renderers the same log.

    python bench/naive_render.py LOG OUT.mp4|OUT.gif [--fps 20] [--frames K]
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import re  # noqa: E402

import numpy as np


def parse_c_log(path):
    """(runs [L], loss [L], snapshot runs [T], W [T, m, n]) from seed002.c's output."""
    runs, losses, snap_runs, Ws = [], [], [], []
    run = -1
    with open(path) as f:
        lines = iter(f)
        for line in lines:
            if line.startswith("run:"):
                run = int(line.split()[1])
            elif line.startswith("L:"):
                runs.append(run)
                losses.append(float(line.split()[1]))
            elif line.startswith("W: ["):
                rows = []
                for row in lines:
                    if row.startswith("]"):
                        break
                    rows.append([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", row)])
                snap_runs.append(run)
                Ws.append(rows)
    return np.array(runs), np.array(losses), np.array(snap_runs), np.array(Ws, dtype=float)


def parse_jsonl_log(path):
    """The same four arrays from an animsup log (instance 0)."""
    from animsup.log.reader import read_log

    run = read_log(path, instances=[0])
    return run.loss_steps, run.loss_curve[:, 0], run.steps, run.W[:, 0]


def load(path):
    with open(path, "rb") as f:
        first = f.read(1)
    return parse_jsonl_log(path) if first == b"{" else parse_c_log(path)


def render(log_path, out_path, fps=20, frames=None, window=50, progress_callback=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

    runs, losses, snap_runs, Ws = load(log_path)
    if frames is not None:
        snap_runs, Ws = snap_runs[:frames], Ws[:frames]
    n_hidden, n_features = Ws.shape[1], Ws.shape[2]

    # moving average of the loss (computed once)
    k = min(window, len(losses))
    ma = np.convolve(losses, np.ones(k) / k, mode="valid")
    ma_runs = runs[k - 1 :]

    # fixed limits so the picture is stable
    lim = 1.1 * np.abs(Ws).max()
    loss_lo, loss_hi = losses[losses > 0].min() * 0.9, losses.max() * 1.1

    fig, (ax_w, ax_l) = plt.subplots(1, 2, figsize=(12.8, 7.2), dpi=100)
    colors = plt.cm.viridis(np.linspace(0, 1, n_features))

    def update(frame):
        ax_w.clear()
        ax_l.clear()
        W = Ws[frame]
        x, y = W[0], W[1] if n_hidden > 1 else np.zeros(n_features)
        for i in range(n_features):
            ax_w.plot([0, x[i]], [0, y[i]], color=colors[i], alpha=0.4)
        ax_w.scatter(x, y, c=colors, s=40, zorder=3)
        for i in range(n_features):
            ax_w.annotate(str(i), (x[i], y[i]), textcoords="offset points", xytext=(5, 5), fontsize=8)
        ax_w.set_xlim(-lim, lim)
        ax_w.set_ylim(-lim, lim)
        ax_w.set_aspect("equal")
        ax_w.axhline(0, color="gray", lw=0.5)
        ax_w.axvline(0, color="gray", lw=0.5)
        ax_w.set_title(f"W columns (features in hidden space), run {snap_runs[frame]}")
        ax_w.set_xlabel("hidden dim 0")
        ax_w.set_ylabel("hidden dim 1")

        upto = runs <= snap_runs[frame]
        ax_l.plot(runs[upto], losses[upto], color="tab:blue", alpha=0.3, label="loss")
        ma_upto = ma_runs <= snap_runs[frame]
        ax_l.plot(ma_runs[ma_upto], ma[ma_upto], color="tab:orange", label=f"moving average ({k})")
        ax_l.set_xlim(runs[0], runs[-1])
        ax_l.set_ylim(loss_lo, loss_hi)
        ax_l.set_yscale("log")
        ax_l.set_xlabel("run")
        ax_l.set_ylabel("loss")
        ax_l.set_title("Loss")
        ax_l.legend(loc="upper right")
        return []

    anim = FuncAnimation(fig, update, frames=len(Ws), interval=1000 / fps, blit=False)
    if str(out_path).endswith(".gif"):
        writer = PillowWriter(fps=fps)
    else:
        import imageio_ffmpeg

        matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
        writer = FFMpegWriter(fps=fps)
    anim.save(out_path, writer=writer, dpi=100, progress_callback=progress_callback)
    plt.close(fig)
    return len(Ws)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("log")
    p.add_argument("out")
    p.add_argument("--fps", type=int, default=20)
    p.add_argument("--frames", type=int, default=None, help="render only the first K snapshots")
    p.add_argument("--timing", action="store_true", help="print TIMING={json}: start-up and per-frame seconds (for bench/)")
    a = p.parse_args(argv)
    stamps = []
    render(a.log, a.out, fps=a.fps, frames=a.frames, progress_callback=lambda i, n: stamps.append(time.perf_counter()))
    end = time.perf_counter()
    if a.timing:
        import json

        # time to the first frame handed to the writer (imports, parsing, set-up), then per frame
        times = [b - a_ for a_, b in zip(stamps, stamps[1:] + [end])]
        print("TIMING=" + json.dumps({"first_frame_s": stamps[0] - T0 if stamps else None, "frame_s": times}))


if __name__ == "__main__":
    main()
