"""Runs side by side: ``animsup render A.jsonl B.jsonl ... --out cmp.mp4`` (MP4, WebM, GIF, PNG;
the interactive page, ``.html``, is :mod:`animsup.viewer.compare`, on the same steps and rules).

One panel per run, each the run's own video frame (its :class:`animsup.rendering.draw.FrameDrawer`
at ``--size``, titled with the log's file name), all at the same training step: the frames are
spread over the steps from the earliest first snapshot to the latest last one (:func:`frame_steps`:
evenly, or evenly in log(step) with ``--align log-time`` or ``--time log``), and each run shows its
snapshot interpolated at that step (a run
that ended earlier holds its last snapshot, one that starts later its first). Under the panels a
strip says whether the losses are comparable and, when the runs share n_features, shows each
feature's norm ‖W_i‖ in every run (grouped bars, the runs' colours) and the largest difference.

Losses are comparable when the runs train the same objective: the same n_features, 1 - S,
importance, loss reduction, L1 and data law (:func:`animsup.analysis.minima.comparable_config`,
the settings ``animsup minima`` groups by, less the model and optimiser, which change where a run
ends, not what its loss measures); then every loss panel gets the same y range, else each keeps
its own and the strip names what differs. The norms are compared, not the columns: a hidden
space is only defined up to rotation, so the angle between run A's W_i and run B's means nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time as _time
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from animsup.atomic import atomic_path
from animsup.errors import AnimsupError, plural
from animsup.rendering import outputs
from animsup.rendering.config import RenderConfig
from animsup.rendering.encode import make_encoder
from animsup.rendering.video import OutputPaths, Progress, RenderResult, as_paths

if TYPE_CHECKING:
    from animsup.rendering.frames import Frame
    from animsup.rendering.plan import RenderPlan

#: the settings that must match for two runs' losses to share an axis (see the module docstring)
LOSS_KEYS = ("n_features", "feature_probability", "importance", "loss_reduction", "l1", "data")
#: the strip under the panels, as a share of a panel's height
STRIP = 0.32
#: how the runs' frames are spread over training: evenly in step, or evenly in log(step)
ALIGNS = ("step", "log-time")


def comparability(plans: Sequence[RenderPlan], shown: Sequence[int] | None = None) -> tuple[bool, str]:
    """(comparable, a sentence): whether the shown instances' losses measure the same objective.
    ``shown``: the instance shown of each plan (default: each plan's first)."""
    import orjson

    from animsup.analysis.minima import _describe, comparable_config

    which = list(shown) if shown is not None else [p.instances[0] for p in plans]
    cfgs = [comparable_config(p.summary.header, i) for p, i in zip(plans, which)]
    differ = [k for k in LOSS_KEYS if len({orjson.dumps(c.get(k), option=orjson.OPT_SORT_KEYS) for c in cfgs}) > 1]
    if not differ:
        return True, "losses comparable (same n_features, 1-S, importance, loss and data): one shared loss axis"
    parts = []
    for k in differ:
        texts = [_describe(k, c.get(k)) if k != "n_features" else f"n={c.get(k)}" for c in cfgs]
        if len(set(texts)) > 1:
            parts.append(" vs ".join(texts))
        elif "n_features" not in differ:  # the same words for different values (a hand-set vector)
            parts.append(f"{texts[0]}: values differ")
        # (else: a per-feature setting that differs only because n_features does)
    what = "; ".join(parts)
    return False, f"losses NOT comparable ({what}): each panel keeps its own loss axis"


def check_logs(logs: Sequence[str | os.PathLike[str]], cfg: RenderConfig, align: str) -> tuple[list[str], RenderConfig]:
    """The log paths and the config of a side-by-side render (``align`` "log-time" = ``--time log``);
    AnimsupError on a count outside 2..6, an unknown ``align``, or an option that applies to one log."""
    paths = [os.fspath(p) for p in logs]
    if len(paths) < 2 or len(paths) > 6:
        raise AnimsupError(f"comparing runs takes 2 to 6 logs, got {len(paths)}")
    if align not in ALIGNS:
        raise AnimsupError(f"--align must be one of {', '.join(ALIGNS)}, got {align!r}")
    if align == "log-time":
        if cfg.time == "linear":
            raise AnimsupError("--align log-time spreads the frames in log(step): it cannot go with --time linear")
        cfg = dataclasses.replace(cfg, time="log")
    if cfg.at is not None or cfg.grid or cfg.filmstrip:
        raise AnimsupError("--at, --grid and --filmstrip apply to one log, not to runs side by side")
    return paths, cfg


def render_compare(logs: Sequence[str | os.PathLike[str]], out: OutputPaths, config: RenderConfig | None = None, *,
                   progress: Progress | None = None, align: str = "step", **options: Any) -> RenderResult:
    """Render several logs side by side, aligned on the training step (see the module docstring).
    ``align``: "step" (frames evenly in step; ``--time log`` spreads them in log step) or
    "log-time" (evenly in log(step), the loss axes in log step too).
    ``options``: :class:`RenderConfig` fields (``size`` is each run's panel)."""
    from animsup.rendering.frames import scan_log
    from animsup.rendering.plan import build_plan

    t0 = _time.perf_counter()
    paths, cfg = check_logs(logs, RenderConfig.resolve(config, options), align)
    targets = _targets(out, paths)
    summaries = [scan_log(p) for p in paths]
    steps = _common_steps(summaries, cfg)
    plans = [build_plan(p, cfg, video=True, summary=s) for p, s in zip(paths, summaries)]
    grids = [p for p in plans if len(p.instances) > 1]  # no instance named and no comparable best
    if grids:
        raise AnimsupError(f"{grids[0].log}: runs side by side show one instance of each log, but this one has no "
                           f"comparable best ({grids[0].choice.split(': ', 1)[-1]}); pass --instance N")
    comparable, note = comparability(plans)
    scenes = _scenes(plans, paths, comparable, log_x=cfg.time == "log")
    positions = [np.interp(steps, s.steps.astype(np.float64), np.arange(len(s.steps), dtype=np.float64))
                 for s in summaries]
    fps, n, hold = cfg.frame_counts(len(steps))
    video = any(outputs.kind_of(f) == "video" for _, f in targets)
    idx = np.arange(len(steps)) if video else np.array([len(steps) - 1])
    strip = _Strip(plans, scenes, note)
    size = (cfg.size[0] * len(paths), cfg.size[1] + strip.height)
    drawers = [_drawer(s) for s in scenes]
    with contextlib.ExitStack() as stack:
        tmp = {p: stack.enter_context(atomic_path(p)) for p, _ in targets}
        encs = [stack.enter_context(make_encoder(tmp[p], size, fps, fmt=f, backend=cfg.backend, preset=cfg.preset))
                for p, f in targets]
        last = None
        total = len(idx) + (hold if video else 0)
        for j, frames in enumerate(_lockstep(plans, positions, idx)):
            last = _compose(drawers, frames, strip, float(steps[idx[j]]))
            for e in encs:
                if e.kind == "video" or j == len(idx) - 1:
                    e.write(last)
            if progress:
                progress(j + 1, total)
        for h in range(hold if video else 0):
            for e in encs:
                if e.kind == "video":
                    e.write(last)
            if progress:
                progress(len(idx) + h + 1, total)
    for d in drawers:
        d.close()
    strip.close()
    mapping = (f"{len(paths)} runs side by side, aligned on the training step: {plural(len(idx), 'frame')} at {fps:g} fps "
               f"over steps {steps[0]:,.0f}..{steps[-1]:,.0f}" + (", evenly in log(step)" if cfg.time == "log" else ""))
    return RenderResult(paths=[p for p, _ in targets], frames=total, animated_frames=len(idx) if video else 0,
                        hold_frames=hold if video else 0, fps=fps, size=size,
                        instances=tuple(p.instances[0] for p in plans), mapping=mapping, poster_step=None, workers=0,
                        seconds=_time.perf_counter() - t0, config=cfg.to_dict(), notes=[note])


def _targets(out: OutputPaths, logs: list[str]) -> list[tuple[str, str]]:
    from animsup.atomic import check_writable_dir

    paths = as_paths(out)
    if not paths:
        raise AnimsupError("no output given (pass --out FILE.mp4, .webm, .gif or .png)")
    real_logs = {os.path.realpath(p) for p in logs}
    result = []
    for p in paths:
        fmt = outputs.format_of(p)
        if fmt.kind == "page":  # (animsup.render routes pages to animsup.viewer.compare before this)
            raise AnimsupError(f"{p}: the comparison page is written by animsup.viewer.compare.write_compare_html")
        if fmt.kind not in ("video", "poster"):
            raise AnimsupError(f"{p}: runs side by side are written as .mp4, .webm, .gif, .png or .html "
                               f"(not {fmt.ext}: the {fmt.label or fmt.kind} shows one run)")
        if os.path.realpath(p) in real_logs:
            raise AnimsupError(f"{p}: the output would overwrite an input log")
        check_writable_dir(p)
        result.append((p, fmt.ext))
    return result


def frame_steps(first: float, last: float, n: int, log_time: bool) -> np.ndarray:
    """(shape: [n]) the training step of each of ``n`` frames from ``first`` to ``last``: evenly, or
    with ``log_time`` evenly in log(1 + step - first) (early steps, where most happens, get more frames)."""
    if log_time:
        return first - 1 + np.geomspace(1.0, 1.0 + last - first, n)
    return np.linspace(first, last, n)


def _common_steps(summaries: list, cfg: RenderConfig) -> np.ndarray:
    """The training step of every frame: from the earliest first snapshot to the latest last one,
    as many frames as the longest run has snapshots (or ``--frames`` / ``--duration``)."""
    first = min(float(s.steps[0]) for s in summaries)
    last = max(float(s.steps[-1]) for s in summaries)
    _, n, _ = cfg.frame_counts(max(len(s.steps) for s in summaries))
    return frame_steps(first, last, n, cfg.time == "log")


def _scenes(plans: Sequence[RenderPlan], logs: list[str], comparable: bool, log_x: bool = False) -> list:
    """Each run's scene titled with its file name, on the common step axis (symlog with ``log_x``);
    one loss range if comparable."""
    lo = min(p.scene.loss_xlim[0] for p in plans)
    hi = max(p.scene.loss_xlim[1] for p in plans)
    ylo = min(p.scene.loss_ylim[0] for p in plans)
    yhi = max(p.scene.loss_ylim[1] for p in plans)
    out = []
    for p, log in zip(plans, logs):
        s = dataclasses.replace(p.scene, title=f"{os.path.basename(log)}: {p.scene.title}", loss_xlim=(lo, hi),
                                loss_xscale="symlog" if log_x else "linear")
        if comparable:
            s = dataclasses.replace(s, loss_ylim=(ylo, yhi))
        out.append(s)
    return out


def _drawer(scene: Any) -> Any:
    from animsup.rendering.draw import FrameDrawer

    return FrameDrawer(scene)


def _lockstep(plans: Sequence[RenderPlan], positions: list[np.ndarray], idx: np.ndarray) -> Iterator[list[Frame]]:
    """The frames of every run at the same frame indices, run by run in lockstep."""
    from animsup.rendering.frames import iter_frames

    its = [iter_frames(p.log, p.instances, pos[idx]) for p, pos in zip(plans, positions)]
    yield from (list(fs) for fs in zip(*its))


def _compose(drawers: list, frames: list[Frame], strip: _Strip, step: float) -> np.ndarray:
    panels = [np.array(d.draw(f)) for d, f in zip(drawers, frames)]
    top = np.concatenate(panels, axis=1)
    return np.ascontiguousarray(np.concatenate([top, strip.draw(frames, step)], axis=0))


class _Strip:
    """The strip under the panels: the comparability note, the step, and (runs sharing
    n_features) every feature's ‖W_i‖ per run as grouped bars."""

    def __init__(self, plans: Sequence[RenderPlan], scenes: list, note: str):
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from animsup.rendering.draw.context import rc_params
        from animsup.rendering.draw.theme import THEMES, instance_color

        s0 = scenes[0]
        k = len(scenes)
        w, h = s0.size[0] * k, int(round(s0.size[1] * STRIP / 2)) * 2
        self.height = h
        self.theme = t = THEMES[s0.theme]
        fs = max(10.0 * min(s0.size[0] / 1280, s0.size[1] / 720), 6.0)
        ns = {s.n_features for s in scenes}
        with matplotlib.rc_context(rc_params(t, s0.size)):
            self.fig = Figure(figsize=((w + 1e-3) / s0.dpi, (h + 1e-3) / s0.dpi), dpi=s0.dpi, facecolor=t["bg"])
            self.canvas = FigureCanvasAgg(self.fig)
            self.fig.text(0.01, 0.93, note, fontsize=fs, va="top", color=t["fg"], parse_math=False)
            self.step_text = self.fig.text(0.99, 0.93, "", fontsize=fs, va="top", ha="right", color=t["fg"],
                                           family="DejaVu Sans Mono", parse_math=False)
            self.bars: list = []
            self.diff_text = None
            if len(ns) == 1:
                n = ns.pop()
                ax = self.fig.add_axes((0.05, 0.2, 0.9, 0.5))
                width = 0.8 / k
                top = max(float(s.norm_max) for s in scenes) * 1.05
                for j, p in enumerate(plans):
                    c = instance_color(t, k, j)
                    self.bars.append(ax.bar(np.arange(n) + (j - (k - 1) / 2) * width, np.zeros(n), width, color=c,
                                            label=os.path.basename(p.log)))
                ax.set_ylim(0, top or 1.0)
                ax.set_xlim(-0.6, n - 0.4)
                ax.set_ylabel("‖W_i‖", fontsize=fs * 0.85, color=t["muted"])
                ax.set_xlabel("feature i", fontsize=fs * 0.85, color=t["muted"], labelpad=1)
                ax.tick_params(labelsize=fs * 0.75)
                if n > 40:
                    ax.set_xticks([])
                ax.legend(fontsize=fs * 0.75, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=k, frameon=False)
                self.diff_text = self.fig.text(0.01, 0.78, "", fontsize=fs * 0.85, va="top", color=t["muted"],
                                               parse_math=False)
            else:
                self.fig.text(0.01, 0.6, "the runs differ in n_features: no per-feature comparison", fontsize=fs,
                              va="top", color=t["muted"])

    def draw(self, frames: list[Frame], step: float) -> np.ndarray:
        self.step_text.set_text(f"step {step:,.0f}")
        if self.bars:
            norms = [np.sqrt((np.asarray(f.W[0], dtype=np.float64) ** 2).sum(0)) for f in frames]
            for bars, v in zip(self.bars, norms):
                for r, x in zip(bars, v):
                    r.set_height(float(x))
            d = np.max(norms, 0) - np.min(norms, 0)
            i = int(np.argmax(d))
            assert self.diff_text is not None
            self.diff_text.set_text(f"per-feature norms ‖W_i‖ of every run (rotation-invariant); largest difference: "
                                    f"feature {i}, {d[i]:.3f}")
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())

    def close(self) -> None:
        self.fig.clear()
