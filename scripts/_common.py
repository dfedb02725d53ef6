"""Shared helpers for the reproduction scripts (not part of the package).

Each script trains (or reuses) its logs under outputs/<name>/, writes figures and videos there,
and prints what it found. ``--quick`` runs a small version in well under a minute.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parser(name: str, doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"scripts/{name}.py", description=doc.strip().split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a small, fast version (smoke test)")
    p.add_argument("--out", default=os.path.join(ROOT, "outputs", name), help="output folder")
    p.add_argument("--retrain", action="store_true", help="retrain even if a finished log with the same config exists")
    p.add_argument("--no-video", action="store_true", help="skip the videos")
    return p


RESULTS = os.path.join(ROOT, "docs", "results")  # the committed small JSON the docs' tables are generated from


def publish(args, name: str, obj) -> str:
    """Write ``obj`` as ``<args.out>/<name>.json`` and, for a full run (not ``--quick``), also as
    ``docs/results/<name>.json``, the file the docs' generated tables read (scripts/update_docs_tables.py).
    Returns the docs path (or the output path for a quick run)."""
    import json

    os.makedirs(args.out, exist_ok=True)
    paths = [os.path.join(args.out, f"{name}.json")] + ([] if args.quick else [os.path.join(RESULTS, f"{name}.json")])
    for path in paths:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
    return paths[-1]


def load_results(name: str) -> dict:
    """The committed ``docs/results/<name>.json`` (a docs_table() reads its numbers from it)."""
    import json

    with open(os.path.join(RESULTS, f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def md_table(header: list, rows: list) -> str:
    """A Markdown table (no trailing newline)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def say(*args) -> None:
    print(*args, flush=True)


def train_or_reuse(cfg, log: str, *, retrain: bool = False):
    """Train ``cfg`` into ``log`` unless a completed log of the same config is already there.
    Returns the log path."""
    from animsup.log.reader import read_log
    from animsup.train.loop import train

    if os.path.exists(log) and not retrain:
        try:
            run = read_log(log, require_snapshots=False)
            # the logged config read back through TrainConfig (options added since take their defaults)
            logged = _jsonish(type(cfg).from_dict(run.header.config).to_dict())
            if run.status == "completed" and logged == _jsonish(cfg.to_dict()):
                say(f"  reusing {os.path.relpath(log, ROOT)} (same config, completed)")
                return log
        except Exception:
            pass
    t0 = time.time()
    last = [0.0]

    def progress(step, total, **post):
        if time.time() - last[0] > 30:
            last[0] = time.time()
            say(f"    step {step:,}/{total:,}  ({time.time() - t0:.0f} s)")

    res = train(cfg, log, force=True, progress=progress)
    if res.status != "completed":
        from animsup.errors import AnimsupError

        raise AnimsupError(f"training ended {res.status} at step {res.step} ({log})")
    say(f"  trained {cfg.n_instances} instances x {cfg.steps:,} steps in {res.wall_seconds:.0f} s -> "
        f"{os.path.relpath(log, ROOT)} ({res.status})")
    return log


def _jsonish(d):
    import orjson

    return orjson.loads(orjson.dumps(d, option=orjson.OPT_SERIALIZE_NUMPY))


def subset_log(src: str, dst: str, instances) -> str:
    """Copy ``instances`` of log ``src`` into a new log ``dst`` (for grid videos of a few instances)."""
    from animsup.log.reader import open_log
    from animsup.log.writer import LogWriter

    instances = [int(i) for i in instances]
    with open_log(src, instances) as r:
        h = r.header
        header = dict(h.raw)
        header["n_instances"] = len(instances)
        header["feature_probability"] = [h.feature_probability[i].tolist() for i in instances]
        header["importance"] = [h.importance[i].tolist() for i in instances]
        header["seed"] = [h.seed[i] for i in instances]
        header["subset_of"] = {"log": os.path.relpath(src, ROOT), "instances": instances}
        with LogWriter(dst, header, force=True) as w:
            for kind, _, item in r.iter_all():
                if kind == "snapshot":
                    w.snapshot(item.step, item.loss, item.W, item.b, item.W_dec)
                else:
                    steps, loss = item
                    every = int(steps[1] - steps[0]) if len(steps) > 1 else 1
                    w.losses(int(steps[0]), every, loss)
            if r.end:
                w.end(r.end["status"], r.end["step"], r.end.get("wall_seconds", 0.0))
    return dst


def merge_instances(pairs, dst: str) -> str:
    """One log holding instance ``i`` of log ``path`` for each ``(path, i)`` in ``pairs`` (logs of
    one config trained separately, e.g. one per seed: the same snapshot and loss steps)."""
    from animsup.log.reader import read_log
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    runs = [read_log(path, [i]) for path, i in pairs]
    h = runs[0].header
    for r in runs[1:]:
        if list(r.steps) != list(runs[0].steps) or list(r.loss_steps) != list(runs[0].loss_steps):
            raise ValueError(f"{r.path}: other snapshot or loss steps than {runs[0].path}")
    header = make_header(
        n_features=h.n_features, n_hidden=h.n_hidden, model=h.model,
        feature_probability=[r.header.feature_probability[r.instances[0]].tolist() for r in runs],
        seed=[r.header.seed[r.instances[0]] for r in runs], importance=[r.header.importance[r.instances[0]].tolist() for r in runs],
        config=h.config,
        merged_from=[{"log": os.path.relpath(p, ROOT), "instance": int(i)} for p, i in pairs],
    )
    every = int(runs[0].loss_steps[1] - runs[0].loss_steps[0]) if len(runs[0].loss_steps) > 1 else 1
    with LogWriter(dst, header, force=True) as w:
        w.losses(int(runs[0].loss_steps[0]), every, np.concatenate([r.loss_curve for r in runs], axis=1))
        for t, step in enumerate(runs[0].steps):
            w.snapshot(int(step), np.concatenate([r.loss[t] for r in runs]), np.concatenate([r.W[t] for r in runs]),
                       np.concatenate([r.b[t] for r in runs]))
        w.end("completed", int(runs[0].steps[-1]), 0.0)
    return dst


def best_per_probability(log: str, probabilities) -> dict:
    """Per 1 - S in ``probabilities``: ``(best, members)``, the :class:`animsup.analysis.minima.Outcome` of
    the instance with the lowest final loss in that group of comparable instances and the
    Outcomes of the whole group (instance order). Groups, final loss (mean of the last 5 % of the
    steps) and "best" are :mod:`animsup.analysis.ranking`'s."""
    from animsup.analysis import ranking
    from animsup.analysis.minima import analyse_run
    from animsup.log.reader import read_log

    run = read_log(log)
    outcomes = {o.index: o for o in analyse_run(run)}
    losses = [outcomes[i].final_loss for i in range(run.header.n_instances)]  # ranking.final_loss
    groups = ranking.groups(run.header)
    out = {}
    for p in probabilities:
        g = ranking.parse_group(f"p={p!r}", groups)
        out[p] = outcomes[g.best(losses)], [outcomes[i] for i in g.instances]
    return out


def render(log, out, **options):
    """animsup.rendering.video.render, reporting instead of failing the whole script."""
    try:
        from animsup.rendering.video import render as _render

        res = _render(log, out, **options)
        say(f"  video: {os.path.relpath(res.paths[0], ROOT)} ({res.frames} frames, {res.seconds:.0f} s)")
        return res
    except Exception as e:  # keep the rest of the reproduction
        say(f"  video {out} failed: {type(e).__name__}: {e}")
        return None


def hstack_videos(left: str, right: str, out: str, labels: tuple | None = None) -> str | None:
    """Two videos side by side (same height) with ffmpeg's hstack, each under a label if given
    (drawtext with matplotlib's bundled DejaVu font; without labels if that filter is missing)."""
    import subprocess

    import imageio_ffmpeg
    import matplotlib

    from animsup.atomic import atomic_path

    def run(filt):
        with atomic_path(out) as tmp:
            subprocess.run(
                [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", left, "-i", right,
                 "-filter_complex", filt, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", tmp],
                check=True,
            )

    plain = "hstack=inputs=2:shortest=1"
    try:
        if labels:
            font = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans-Bold.ttf")
            parts = []
            for k, text in enumerate(labels):
                text = text.replace(":", "\\:").replace("'", "’")  # a straight quote would end ffmpeg's text
                parts.append(f"[{k}:v]pad=iw:ih+44:0:44:white,drawtext=fontfile='{font}':text='{text}':"
                             f"fontsize=26:fontcolor=black:x=(w-text_w)/2:y=10[v{k}]")
            try:
                run(";".join(parts) + ";[v0][v1]hstack=inputs=2:shortest=1")
            except subprocess.CalledProcessError:
                run(plain)
        else:
            run(plain)
        say(f"  video: {os.path.relpath(out, ROOT)} (side by side)")
        return out
    except Exception as e:
        say(f"  side-by-side video failed: {e}")
        return None


def extract_frame(video: str, png: str, frame: int = -1) -> str | None:
    """One frame of a video as PNG (frame -1: the last)."""
    import subprocess

    import imageio_ffmpeg

    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error"]
    if frame < 0:
        args += ["-sseof", "-0.1", "-i", video, "-frames:v", "1", png]
    else:
        args += ["-i", video, "-vf", f"select=eq(n\\,{frame})", "-frames:v", "1", png]
    try:
        subprocess.run(args, check=True)
        return png
    except Exception:
        return None


def figure(width, height, dpi=100):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi)


def save(fig, path: str, dpi=100) -> str:
    from animsup.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    say(f"  figure: {os.path.relpath(path, ROOT)} ({os.path.getsize(path) // 1024} KB)")
    return path


def draw_weights(ax, W, importance, *, title: str = "", lim: float | None = None, threshold: float = 0.5,
                 labels: bool = True, title_color="black") -> None:
    """Feature vectors of one instance (n_hidden = 2): colour by importance (dark = important)."""
    import matplotlib

    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=0)
    lim = lim or max(1.0, norms.max()) * 1.3
    cmap = matplotlib.colormaps["viridis"]
    imp = np.asarray(importance, dtype=np.float64)
    span = imp.max() - imp.min()
    shade = (imp.max() - imp) / span * 0.9 if span > 0 else np.zeros_like(imp)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(th), np.sin(th), color="#dddddd", lw=0.6, zorder=0)
    for f in np.argsort(norms):
        c = cmap(shade[f])
        strong = norms[f] > threshold
        ax.plot([0, W[0, f]], [0, W[1, f]], color=c, lw=1.4 if strong else 0.6, alpha=1 if strong else 0.5)
        if strong:
            ax.plot(W[0, f], W[1, f], "o", color=c, ms=3)
            if labels:
                ax.text(W[0, f] * 1.17, W[1, f] * 1.17, str(f), fontsize=6, ha="center", va="center", color=c)
    if title:
        ax.set_title(title, fontsize=7, color=title_color, pad=3)


def main_guard(fn):
    """Run ``fn()`` and exit with its code; a clean one-line message on AnimsupError."""
    from animsup.errors import AnimsupError

    try:
        sys.exit(fn() or 0)
    except AnimsupError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
