"""``render(log, out, ...)``: a run log -> MP4 / GIF / WebM / PNG poster, fast and atomic.

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
from dataclasses import dataclass, field, fields
from typing import Callable

import numpy as np

from animsup.atomic import atomic_path, check_writable_dir
from animsup.errors import AnimsupError
from animsup.rendering.config import RenderConfig


@dataclass
class RenderResult:
    """What ``render`` wrote. ``frames`` is the frame count of each video (animated + hold).

    ``config`` is the resolved :class:`RenderConfig` as a dict: ``render(log, out,
    config=RenderConfig.from_dict(result.config))`` makes the same video. ``notes``: what
    an output does differently from what was asked (e.g. a GIF's capped frame rate).
    """

    paths: list
    frames: int
    animated_frames: int
    hold_frames: int
    fps: float
    size: tuple
    instances: tuple
    mapping: str
    poster_step: int | None
    workers: int
    seconds: float
    events: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)  # what the video shows that the log did not observe, defaults chosen

    @property
    def frames_per_second(self) -> float:
        """Rendering speed (frames drawn and encoded per wall-clock second)."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")

    def _repr_html_(self) -> str:
        """In a notebook, the result shows what was rendered (animsup.viewer.notebook)."""
        from animsup.viewer.notebook import rendered_html

        return rendered_html(self.paths)

    def summary(self) -> str:
        if not self.instances:
            return "\n".join(f"wrote {p} (interactive viewer)" for p in self.paths)
        inst = "all instances (grid)" if len(self.instances) > 1 else f"instance {self.instances[0]}"
        lines = [f"rendered {inst}: {self.mapping}"]
        lines += self.notes
        if self.poster_step is not None:
            lines.append(f"poster at step {self.poster_step}")
        lines.append(
            f"{self.size[0]}x{self.size[1]}, {self.workers or 'no'} worker{'s' if self.workers != 1 else ''}, "
            f"{self.seconds:.1f} s ({self.frames_per_second:.0f} frames/s)"
        )
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"wrote {p}" for p in self.paths]
        return "\n".join(lines)


def _normalise_outputs(out, log) -> list[tuple[str, str]]:
    from animsup.rendering.encode import format_of

    outs = [out] if isinstance(out, (str, os.PathLike)) else list(out or [])
    if not outs:
        raise AnimsupError("no output given (pass --out FILE.mp4, .gif, .webm or .png)")
    result, seen = [], set()
    log_abs = os.path.realpath(os.fspath(log))
    for o in outs:
        path = os.fspath(o)
        real = os.path.realpath(path)
        if real == log_abs:
            raise AnimsupError(f"{path}: the output would overwrite the input log")
        fmt = format_of(path)
        if real in seen:
            raise AnimsupError(f"{path}: given twice as an output")
        seen.add(real)
        check_writable_dir(path)
        result.append((path, fmt))
    return result


_OPTION_NAMES = {f.name for f in fields(RenderConfig)}


def render(log, out, config: RenderConfig | None = None, *, progress: Callable | None = None, **options) -> RenderResult:
    """Render a run log to one or more files (format by extension: .mp4 .gif .webm .png).

    ``options`` are the fields of :class:`animsup.rendering.config.RenderConfig` (or pass a
    ``config``): ``instance`` (an index or "best"), ``grid``, ``fps`` / ``duration`` /
    ``frames`` / ``time`` / ``hold`` (the time mapping, see :func:`animsup.rendering.plan.plan_frames`),
    ``at`` (the PNG poster's step), ``size``, ``dpi``, ``theme``, ``panels``, ``annotate``,
    ``smooth``, ``workers``, ``backend``, ``preset``. ``progress(current, total)`` is called
    after each frame; ``progress=True`` shows a tqdm bar (``tqdm.auto``: a widget in notebooks). Raises AnimsupError (bad options or outputs) or LogFormatError (a bad
    log) before anything is written; a failure while writing leaves no partial file.
    """
    t_start = _time.perf_counter()
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise AnimsupError(f"unknown render option(s): {', '.join(unknown)}")
    if config is not None and options:
        raise AnimsupError("pass either config or keyword options, not both")
    cfg = config if config is not None else RenderConfig(**options)
    html, out = _html_outputs(out)
    if html:  # the interactive viewer: the same plan over snapshots (animsup.viewer), no frames drawn
        from animsup.viewer import write_html

        for p in html:
            write_html(log, p, cfg)
        if not out:
            return RenderResult(paths=html, frames=0, animated_frames=0, hold_frames=0, fps=0.0, size=cfg.size,
                                instances=(), mapping="interactive viewer", poster_step=None, workers=0,
                                seconds=_time.perf_counter() - t_start, config=cfg.to_dict())
    outputs = _normalise_outputs(out, log)
    if progress is True:
        from tqdm.auto import tqdm

        with tqdm(desc="render", unit="frame", leave=False) as bar:
            def move(current, total):
                bar.total = total
                bar.update(current - bar.n)

            return render(log, out, cfg, progress=move)

    from animsup.rendering import pool as drawpool
    from animsup.rendering.encode import make_encoder
    from animsup.rendering.plan import build_plan

    # plan: everything the frames show, from one pass over the log
    kinds = {p: _kind(f) for p, f in outputs}
    video = any(k == "video" for k in kinds.values())
    poster = any(k == "poster" for k in kinds.values())
    try:
        plan = build_plan(os.fspath(log), cfg, video=video, poster=poster)
    except MemoryError:
        raise AnimsupError(_oom_advice(cfg, "reading the log")) from None
    total = plan.timing.total_frames if video else 1
    n_workers = drawpool.choose_workers(cfg.workers, plan.n_frames if video else 1, video)

    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        # encode (first: the encoder processes start up while the drawer builds its figure)
        tmp = {p: stack.enter_context(atomic_path(p)) for p, _ in outputs}
        encs = [stack.enter_context(make_encoder(tmp[p], cfg.size, plan.timing.fps, fmt=f, backend=cfg.backend,
                                                 preset=cfg.preset)) for p, f in outputs]
        # draw
        drawer = drawpool.open_drawer(plan.scene, n_workers)
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
        notes = list(plan.notes) + [f"{p}: {e.note}" for (p, _), e in zip(outputs, encs) if e.note]
    return RenderResult(
        paths=html + [p for p, _ in outputs],
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
    )


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


def _html_outputs(out) -> tuple[list, list]:
    """(.html outputs, the other outputs)."""
    outs = [out] if isinstance(out, (str, os.PathLike)) else list(out or [])
    html = [os.fspath(o) for o in outs if os.fspath(o).lower().endswith(".html")]
    return html, [o for o in outs if os.fspath(o) not in html]


def _kind(fmt: str) -> str:
    return "poster" if fmt == ".png" else "video"


def _prepare(encoders, plan, drawer) -> None:
    """Encoders that need sample frames first (a GIF's shared palette): frames spread over the
    video and the first frame of every caption, so the palette covers every colour drawn."""
    needy = [e for e in encoders if e.needs_samples]
    if needy:
        samples = [np.array(a) for a in drawer.map(plan.frames(plan.sample_indices(8)))]
        for e in needy:
            e.prepare(samples)


def _write_video(encoders, plan, drawer, progress, total) -> np.ndarray:
    """Every animated frame, then the final hold; returns (a copy of) the last frame."""
    last = None
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


def _write_poster(encoders, plan, drawer, last, progress) -> None:
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


def show(path, *, width: int | None = None, embed: bool = True):
    """Display a rendered file inline in a Jupyter notebook, sized to the cell.

    MP4 / WebM become an HTML5 ``<video>`` (controls, loop, muted autoplay), GIF / PNG an
    ``<img>``; both at most the cell's width (``max-width: 100%``) or ``width`` pixels. With
    ``embed`` (default) the file travels inside the notebook as a data URI, so it also shows
    in nbconvert's HTML export (a GIF sent as ``image/gif`` output is dropped there).
    Raises AnimsupError without IPython, for a missing file or another extension.

    >>> res = animsup.render("logs/run.jsonl", "outputs/run.mp4")   # doctest: +SKIP
    >>> animsup.rendering.video.show(res.paths[0])                              # doctest: +SKIP
    """
    try:
        from IPython.display import HTML
    except ImportError:
        raise AnimsupError("showing a video inline needs IPython (pip install ipython)") from None
    return HTML(show_html(path, width=width, embed=embed))


_MIME = {".mp4": "video/mp4", ".webm": "video/webm", ".gif": "image/gif", ".png": "image/png"}


def show_html(path, *, width: int | None = None, embed: bool = True) -> str:
    """The HTML :func:`show` displays (a ``<video>`` or ``<img>`` sized to the cell)."""
    import base64
    import html

    path = os.fspath(path)
    if not os.path.exists(path):
        raise AnimsupError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in _MIME:
        raise AnimsupError(f"{path}: cannot show {ext or 'files without an extension'} inline")
    if embed:
        with open(path, "rb") as f:
            src = f"data:{_MIME[ext]};base64," + base64.b64encode(f.read()).decode("ascii")
    else:
        src = html.escape(path)
    size = f"width:{int(width)}px;max-width:100%;height:auto" if width else "max-width:100%;height:auto"
    if ext in (".mp4", ".webm"):
        return (f'<video controls loop autoplay muted playsinline style="{size}">'
                f'<source src="{src}" type="{_MIME[ext]}"></video>')
    return f'<img src="{src}" style="{size}" alt="{html.escape(os.path.basename(path))}"/>'
