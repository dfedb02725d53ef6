"""``render(log, out, ...)``: a run log -> its drawn outputs (videos and a poster), fast and atomic.

One step, read top to bottom in :func:`render`: the options become a validated
:class:`animsup.rendering.config.RenderConfig`; :func:`animsup.rendering.plan.build_plan` reads the
log and decides everything the video shows (a :class:`animsup.rendering.plan.RenderPlan`);
:mod:`animsup.rendering.pool` draws the plan's frames (in process or in worker processes);
:mod:`animsup.rendering.encode` writes them.

Every output is written to a temp file beside the target and renamed on success
(:func:`animsup.atomic.atomic_path`): a failed or interrupted render leaves no partial
file and keeps an earlier good output.
"""

from __future__ import annotations

import contextlib
import os
import time as _time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from animsup.atomic import atomic_path, check_writable_dir
from animsup.errors import AnimsupError
from animsup.rendering import outputs
from animsup.rendering import pool
from animsup.rendering.config import RenderConfig
from animsup.rendering.encode import Encoder, format_of, make_encoder

if TYPE_CHECKING:
    from animsup.rendering.plan import RenderPlan

PathLike = str | os.PathLike[str]
#: one output path or several
OutputPaths = PathLike | Sequence[PathLike]


@dataclass
class RenderResult:
    """What ``render`` wrote. ``frames`` is the frame count of each video (animated + hold).

    ``config`` is the resolved :class:`RenderConfig` as a dict: ``render(log, out,
    config=RenderConfig.from_dict(result.config))`` makes the same video. ``notes``: what
    an output does differently from what was asked (e.g. a GIF's capped frame rate).
    ``pages``: what each page output (the interactive viewer, :func:`animsup.api.render`) holds:
    path, bytes, snapshots, rule, instances.
    """

    paths: list[str]
    frames: int
    animated_frames: int
    hold_frames: int
    fps: float
    size: tuple[int, int]
    instances: tuple[int, ...]
    mapping: str
    poster_step: int | None
    workers: int
    seconds: float
    events: list[tuple[int, str, str]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the video shows that the log did not observe, defaults chosen
    pages: list[dict[str, Any]] = field(default_factory=list)
    choice: str = ""  # what is shown and why (animsup.rendering.plan.choose_view), one line

    @property
    def frames_per_second(self) -> float:
        """Rendering speed (frames drawn and encoded per wall-clock second)."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        """What was rendered, in lines: the mapping, the poster's step, size and time (and the
        drawing speed of a video; a poster alone has no frame rate), each note once ("note: ..."),
        each path written."""
        if not self.instances:
            return "\n".join(f"wrote {p} (interactive viewer)" for p in self.paths)
        inst = "all instances (grid)" if len(self.instances) > 1 else f"instance {self.instances[0]}"
        lines = [f"showing {self.choice}"] if self.choice else []
        lines.append(f"rendered {inst}: {self.mapping}")
        if self.poster_step is not None:
            lines.append(f"poster at step {self.poster_step}")
        if self.animated_frames:  # a video: its drawing speed
            lines.append(
                f"{self.size[0]}x{self.size[1]}, {self.workers or 'no'} worker{'s' if self.workers != 1 else ''}, "
                f"{self.seconds:.1f} s ({self.frames_per_second:.0f} frames/s)"
            )
        else:  # a poster or a filmstrip only: no frame rate to speak of
            lines.append(f"{self.size[0]}x{self.size[1]}, {self.seconds:.1f} s")
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"wrote {p}" for p in self.paths]
        return "\n".join(lines)


Progress = Callable[[int, int], None]


def _normalise_outputs(out: OutputPaths, log: PathLike) -> list[tuple[str, str]]:
    """(path, format extension) of each output, checked before anything is written."""
    outs = as_paths(out)
    if not outs:
        raise AnimsupError(f"no output given (pass --out FILE{outputs.raster_list()})")
    result, seen = [], set()
    log_abs = os.path.realpath(os.fspath(log))
    for path in outs:
        real = os.path.realpath(path)
        if real == log_abs:
            raise AnimsupError(f"{path}: the output would overwrite the input log")
        found = outputs.format_of(path)
        fmt = found.ext if found.kind == "figure" else format_of(path)  # (a page is the viewer's: an error here)
        if real in seen:
            raise AnimsupError(f"{path}: given twice as an output")
        seen.add(real)
        check_writable_dir(path)
        result.append((path, fmt))
    return result


def render(log: PathLike, out: OutputPaths, config: RenderConfig | None = None, *,
           progress: Progress | bool | None = None, **options: Any) -> RenderResult:
    """Render a run log to one or more drawn files: videos, posters and vector posters (the formats
    of :data:`animsup.rendering.outputs.FORMATS` of kind video, poster or figure, by extension);
    with ``filmstrip=K`` the still outputs are the filmstrip figure.

    ``options`` are the fields of :class:`animsup.rendering.config.RenderConfig` (or pass a
    ``config``): ``instance`` (an index or "best"), ``grid``, ``fps`` / ``duration`` /
    ``frames`` / ``time`` / ``hold`` (the time mapping, see :func:`animsup.rendering.plan.plan_frames`),
    ``at`` (the PNG poster's step), ``size``, ``dpi``, ``theme``, ``panels``, ``annotate``,
    ``smooth``, ``workers``, ``backend``, ``preset``. ``progress(current, total)`` is called
    after each frame; ``progress=True`` shows a tqdm bar (``tqdm.auto``: a widget in notebooks). Raises AnimsupError (bad
    options or outputs) or LogFormatError (a bad log) before anything is written; a failure
    while writing leaves no partial file. Page outputs (.html, the interactive viewer) are
    :func:`animsup.render`'s (``animsup.api``), which calls this for the rest.
    """
    t_start = _time.perf_counter()
    cfg = RenderConfig.resolve(config, options)
    targets = _normalise_outputs(out, log)
    if progress is True:
        return _with_progress_bar(log, [p for p, _ in targets], cfg)
    if cfg.filmstrip is not None:
        return _render_filmstrip(log, targets, cfg, t_start)
    plan = _plan(log, cfg, {outputs.kind_of(f) for _, f in targets})
    drawn = [(p, f) for p, f in targets if outputs.kind_of(f) != "figure"]
    video = _kind_in(targets, "video")
    total = plan.timing.total_frames if video else 1
    n_workers = pool.choose_workers(cfg.workers, plan.n_frames if video else 1, video) if drawn else 0
    notes = _draw_and_encode(drawn, plan, n_workers, progress or None, total) if drawn else list(plan.notes)
    figures = [(p, f) for p, f in targets if (p, f) not in drawn]
    if figures:  # vector posters: the poster's frame as matplotlib artists (animsup.rendering.vector)
        from animsup.rendering.vector import plan_figure

        _save_figures(plan_figure(plan), figures)
        if progress and not drawn:
            progress(1, 1)
    return RenderResult(
        paths=[p for p, _ in targets],
        frames=total,
        animated_frames=plan.n_frames if video else 0,
        hold_frames=plan.timing.hold if video else 0,
        fps=plan.timing.fps,
        size=cfg.size,
        instances=plan.instances,
        mapping=plan.timing.description if video else "poster only",
        poster_step=plan.poster_step,
        workers=n_workers,
        seconds=_time.perf_counter() - t_start,
        events=plan.events,
        config=cfg.to_dict(),
        notes=notes,
        choice=plan.choice,
    )


def _save_figures(fig: Any, targets: list[tuple[str, str]]) -> None:
    """Save one matplotlib figure to every target (atomically; text kept as text in SVG and PDF)."""
    from animsup.rendering.vector import save_figure

    try:
        for path, ext in targets:
            with atomic_path(path) as tmp:
                save_figure(fig, tmp, ext[1:])
    finally:
        fig.clear()


def _render_filmstrip(log: PathLike, targets: list[tuple[str, str]], cfg: RenderConfig, t_start: float) -> RenderResult:
    """``--filmstrip K``: every output (PNG, SVG, PDF) is the filmstrip figure
    (:mod:`animsup.rendering.filmstrip`): K snapshots over the loss curve and the events."""
    from animsup.rendering.filmstrip import choose_positions, filmstrip_figure
    from animsup.rendering.frames import iter_frames, scan_log
    from animsup.rendering.plan import build_plan

    wrong = [p for p, _ in targets if not outputs.is_still(p)]
    if wrong:
        raise AnimsupError(f"{wrong[0]}: --filmstrip makes one figure; use --out FILE.png, .svg or .pdf")
    if cfg.at is not None:
        raise AnimsupError("--at sets the poster's step; a --filmstrip chooses its own steps (animsup.figure(log, steps=[...]) takes them)")
    summary = scan_log(os.fspath(log))
    pos = choose_positions(summary.steps, cfg.filmstrip or 2, cfg.time)
    plan = build_plan(os.fspath(log), cfg, video=False, poster=False, summary=summary)
    frames = list(iter_frames(plan.log, plan.instances, pos.astype(np.float64)))
    _save_figures(filmstrip_figure(plan.scene, frames, plan.events, log_x=cfg.time == "log"), targets)
    steps = ", ".join(f"{f.step:,.0f}" for f in frames)
    return RenderResult(paths=[p for p, _ in targets], frames=1, animated_frames=0, hold_frames=0, fps=plan.timing.fps,
                        size=cfg.size, instances=plan.instances, mapping=f"filmstrip of {len(frames)} snapshots (steps {steps})",
                        poster_step=None, workers=0, seconds=_time.perf_counter() - t_start, events=plan.events,
                        config=cfg.to_dict(), notes=list(plan.notes), choice=plan.choice)


def progress_bar_class() -> type:
    """The tqdm class for a progress bar: tqdm's notebook widget where ipywidgets is installed
    (``tqdm.auto`` picks it inside Jupyter), else plain tqdm, whose carriage returns make one
    updating line in a terminal and in a notebook's output alike (``tqdm.auto`` would warn about
    the missing widget and may print a line per update)."""
    import importlib.util

    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def _with_progress_bar(log: PathLike, out: list[str], cfg: RenderConfig) -> RenderResult:
    """``render(..., progress=True)``: a tqdm bar (:func:`progress_bar_class`) follows the frames."""
    tqdm = progress_bar_class()
    with tqdm(desc="render", unit="frame", leave=False) as bar:
        def move(current: int, total: int) -> None:
            bar.total = total
            bar.update(current - bar.n)

        return render(log, out, cfg, progress=move)


def _plan(log: PathLike, cfg: RenderConfig, kinds: set[str]) -> RenderPlan:
    """Everything the frames show, from one pass over the log (:func:`animsup.rendering.plan.build_plan`)."""
    from animsup.rendering.plan import build_plan

    try:
        return build_plan(os.fspath(log), cfg, video="video" in kinds, poster="poster" in kinds or "figure" in kinds)
    except MemoryError:
        raise AnimsupError(_oom_advice(cfg, "reading the log")) from None


def _draw_and_encode(targets: list[tuple[str, str]], plan: RenderPlan, n_workers: int,
                     progress: Progress | None, total: int) -> list[str]:
    """Draw the plan's frames once and write every output (atomically); returns the notes: the
    plan's, then each output's (e.g. a GIF's capped frame rate)."""
    cfg = plan.config
    with contextlib.ExitStack() as stack:
        # encode (first: the encoder processes start up while the drawer builds its figure)
        tmp = {p: stack.enter_context(atomic_path(p)) for p, _ in targets}
        encs = [stack.enter_context(make_encoder(tmp[p], cfg.size, plan.timing.fps, fmt=f, backend=cfg.backend,
                                                 preset=cfg.preset)) for p, f in targets]
        # draw
        drawer = pool.open_drawer(plan.scene, n_workers)
        stack.callback(drawer.close)
        videos = [e for e in encs if e.kind == "video"]
        posters = [e for e in encs if e.kind == "poster"]
        try:
            _prepare(videos, plan, drawer)
            last = _write_video(videos, plan, drawer, progress, total) if videos else None
            if posters:
                _write_poster(posters, plan, drawer, last, progress if not videos else None)
        except MemoryError:
            raise AnimsupError(_oom_advice(cfg, "drawing the frames")) from None
        return list(plan.notes) + [f"{p}: {e.note}" for (p, _), e in zip(targets, encs) if e.note]


def _oom_advice(cfg: RenderConfig, where: str) -> str:
    """The one-line error for a MemoryError: what to change."""
    tips = []
    if cfg.annotate:
        tips.append("drop --annotate (event detection keeps one instance's W for every snapshot)")
    if cfg.grid:
        tips.append("render one --instance instead of --grid")
    if cfg.workers:
        tips.append("--workers 0 (each worker holds a figure and frame buffers)")
    if cfg.size[0] * cfg.size[1] > 1280 * 720:
        tips.append("a smaller --size (e.g. 1280x720)")
    tips.append("free memory or render on a machine with more")
    return f"out of memory while {where}; try: " + "; ".join(tips)


def as_paths(out: OutputPaths) -> list[str]:
    """One output path or several -> a list of path strings."""
    return [os.fspath(out)] if isinstance(out, (str, os.PathLike)) else [os.fspath(o) for o in out or []]


def _kind_in(targets: list[tuple[str, str]], kind: str) -> bool:
    return any(outputs.kind_of(f) == kind for _, f in targets)


def _prepare(encoders: list[Encoder], plan: RenderPlan, drawer: pool.Drawer) -> None:
    """Encoders that need sample frames first (a GIF's shared palette): frames spread over the
    video and the first frame of every caption, so the palette covers every colour drawn."""
    needy = [e for e in encoders if e.needs_samples]
    if needy:
        samples = [np.array(a) for a in drawer.map(plan.frames(plan.sample_indices(8)))]
        for e in needy:
            e.prepare(samples)


def _write_video(encoders: list[Encoder], plan: RenderPlan, drawer: pool.Drawer, progress: Progress | None,
                 total: int) -> np.ndarray | None:
    """Every animated frame, then the final hold; returns (a copy of) the last frame."""
    last: np.ndarray | None = None
    n = plan.n_frames
    for j, rgba in enumerate(drawer.map(plan.frames())):
        for e in encoders:
            e.write(rgba)
        if j == n - 1:
            last = np.array(rgba)
        if progress:
            progress(j + 1, total)
    for h in range(plan.timing.hold):
        for e in encoders:
            e.write(last)
        if progress:
            progress(n + h + 1, total)
    return last


def _write_poster(encoders: list[Encoder], plan: RenderPlan, drawer: pool.Drawer, last: np.ndarray | None,
                  progress: Progress | None) -> None:
    """The poster: the video's last frame when it shows the same step and there are no events (a
    poster with events carries their key as its caption), else drawn."""
    end = len(plan.summary.steps) - 1
    if last is not None and plan.poster_position == end and not plan.events:
        rgba = last
    else:
        rgba = next(iter(drawer.map([plan.poster_frame()])))
    for e in encoders:
        e.write(rgba)
    if progress:
        progress(1, 1)
