"""``render(log, out, ...)``: a run log -> MP4 / GIF / WebM / PNG poster, fast and atomic.

Data flows one way: :mod:`animsup.frames` (two streaming passes over the log: fixed
axes and the loss curve, then per-frame arrays) -> :mod:`animsup.draw` (RGBA pixels,
blitted over a cached background) -> :mod:`animsup.encode` (raw RGBA piped to ffmpeg).

Frames are drawn in parallel worker processes (``workers``; default: one per core less
the core the encoder keeps busy, so in process on a 2-core machine) that
write into a ring of shared-memory slots; the parent hands the slots to the encoders
strictly in frame order. Workers are started with the ``spawn`` context (a forked pool
after PyAV/ffmpeg threads can deadlock), watch their parent, and are stopped before
``render`` returns or raises. Short videos are drawn in process (starting workers costs
about a second).

Every output is written to a temp file beside the target and renamed on success
(:func:`animsup.atomic.atomic_path`): a failed or interrupted render leaves no partial
file and keeps an earlier good output.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from animsup.atomic import atomic_path, check_writable_dir
from animsup.errors import AnimsupError

#: below this many frames, drawing in process beats starting workers (unless workers are asked for)
MIN_FRAMES_FOR_WORKERS = 150
PANELS = ("bias",)
THEMES = ("light", "dark")


@dataclass
class RenderResult:
    """What ``render`` wrote. ``frames`` is the frame count of each video (animated + hold)."""

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
        if self.poster_step is not None:
            lines.append(f"poster at step {self.poster_step}")
        lines.append(
            f"{self.size[0]}x{self.size[1]}, {self.workers or 'no'} worker{'s' if self.workers != 1 else ''}, "
            f"{self.seconds:.1f} s ({self.frames_per_second:.0f} frames/s)"
        )
        lines += [f"wrote {p}" for p in self.paths]
        return "\n".join(lines)


# --------------------------------------------------------------------------- drawing backends


class _InProcess:
    """Draws frames in this process."""

    def __init__(self, scene):
        from animsup.draw import FrameDrawer

        self.drawer = FrameDrawer(scene)
        self.workers = 0

    def map(self, frames: Iterable) -> Iterator[np.ndarray]:
        for f in frames:
            yield self.drawer.draw(f)

    def close(self) -> None:
        self.drawer.close()


def _die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel kill this worker when the render process dies, even by SIGKILL
    and even while the worker is still starting up (elsewhere the task loop's check remains)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(scene, shm_name, slot_bytes, shape, tasks, results, parent_pid) -> None:
    """A draw worker: build the figure once, then draw tasks (seq, slot, frame) into shared memory."""
    import signal
    import traceback
    from multiprocessing import shared_memory

    # Ctrl-C reaches the whole process group; the render process handles it and stops us. A
    # KeyboardInterrupt here could land in a finaliser while matplotlib imports, which Python
    # reports as "Exception ignored ... Traceback" on the shared stderr.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    try:
        from animsup.draw import FrameDrawer

        shm = shared_memory.SharedMemory(name=shm_name)
        slots = np.ndarray((len(shm.buf) // slot_bytes, *shape), dtype=np.uint8, buffer=shm.buf)
        drawer = FrameDrawer(scene)
        results.put(("ready", os.getpid(), None))
        while True:
            try:
                task = tasks.get(timeout=0.5)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the parent died: never outlive it
                    break
                continue
            if task is None:
                break
            seq, slot, frame = task
            slots[slot] = drawer.draw(frame)
            results.put(("done", seq, None))
        del slots
        shm.close()
    except KeyboardInterrupt:
        pass
    except BaseException:
        try:
            results.put(("error", os.getpid(), traceback.format_exc(limit=6)))
        except Exception:
            pass


@contextlib.contextmanager
def _main_not_reimported():
    """Start spawn children without re-running the caller's ``__main__``.

    ``spawn`` normally imports the parent's main script in each child, which runs an
    unguarded script (no ``if __name__ == "__main__":``) again. Our workers need
    nothing from ``__main__`` (their target lives in this module), so hide the main
    script's path while the children start.
    """
    import sys

    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if main is not None and hasattr(main, k)}
    try:
        for k in saved:
            if k == "__file__":
                delattr(main, k)
            else:
                setattr(main, k, None)
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


class _WorkerPool:
    """Draw workers writing into a ring of shared-memory frame slots; frames come back in order."""

    def __init__(self, scene, n_workers: int):
        import multiprocessing as mp
        from multiprocessing import shared_memory

        w, h = scene.size
        self.shape = (h, w, 4)
        self.slot_bytes = w * h * 4
        self.n_slots = 2 * n_workers + 2
        self.workers = n_workers
        ctx = mp.get_context("spawn")
        self.shm = shared_memory.SharedMemory(create=True, size=self.slot_bytes * self.n_slots)
        self.slots = np.ndarray((self.n_slots, *self.shape), dtype=np.uint8, buffer=self.shm.buf)
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.procs = []
        try:
            with _main_not_reimported():
                for _ in range(n_workers):
                    p = ctx.Process(
                        target=_worker_main,
                        args=(scene, self.shm.name, self.slot_bytes, self.shape, self.tasks, self.results, os.getpid()),
                        daemon=True,
                    )
                    p.start()
                    self.procs.append(p)
        except BaseException:
            self.close()
            raise
        self._seq = 0

    def _get(self):
        while True:
            try:
                msg = self.results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.procs if not p.is_alive()]
                if dead:
                    raise AnimsupError(f"a draw worker died (exit code {dead[0].exitcode})")
                continue
            if msg[0] == "error":
                raise RuntimeError(f"draw worker failed:\n{msg[2]}")
            return msg

    def map(self, frames: Iterable) -> Iterator[np.ndarray]:
        free = list(range(self.n_slots))
        pending: dict[int, int] = {}  # seq -> slot, in submission order
        done: set[int] = set()
        it = iter(frames)
        exhausted = False
        next_out = self._seq
        while True:
            while free and not exhausted:
                try:
                    f = next(it)
                except StopIteration:
                    exhausted = True
                    break
                slot = free.pop()
                self.tasks.put((self._seq, slot, f))
                pending[self._seq] = slot
                self._seq += 1
            if next_out == self._seq:
                return
            while next_out not in done:
                kind, seq, _ = self._get()
                if kind == "done":
                    done.add(seq)
            done.discard(next_out)
            slot = pending.pop(next_out)
            yield self.slots[slot]  # valid until the caller asks for the next frame
            free.append(slot)
            next_out += 1

    def close(self) -> None:
        for _ in self.procs:
            with contextlib.suppress(Exception):
                self.tasks.put(None)
        deadline = time.monotonic() + 2.0
        for p in self.procs:
            p.join(timeout=max(0.05, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join()
        for q in (self.tasks, self.results):
            with contextlib.suppress(Exception):
                q.close()
                q.cancel_join_thread()
        self.slots = None
        with contextlib.suppress(Exception):
            self.shm.close()
        with contextlib.suppress(Exception):
            self.shm.unlink()


# --------------------------------------------------------------------------- render


def _normalise_outputs(out, log) -> list[tuple[str, str]]:
    from animsup.encode import format_of

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


def _html_outputs(out) -> tuple[list, list]:
    """(.html outputs, the other outputs)."""
    outs = [out] if isinstance(out, (str, os.PathLike)) else list(out or [])
    html = [os.fspath(o) for o in outs if os.fspath(o).lower().endswith(".html")]
    return html, [o for o in outs if os.fspath(o) not in html]


def _event_captions(events, frame_steps: np.ndarray, fps: float) -> list[str]:
    """Caption of each frame: the event that happened within the last ~1.5 s of video."""
    captions = [""] * len(frame_steps)
    hold = max(1, int(round(1.5 * fps)))
    starts = []
    for i, (step, kind, text) in enumerate(events):
        j = int(np.searchsorted(frame_steps, step, side="left"))
        if j < len(frame_steps):
            starts.append((j, f"{i + 1}. step {step:,}: {text}"))
    for n, (j, cap) in enumerate(starts):
        end = min(j + hold, starts[n + 1][0] if n + 1 < len(starts) else len(frame_steps))
        end = max(end, j + 1)
        for t in range(j, min(end, len(frame_steps))):
            captions[t] = cap
    return captions


def _find_events(path, summary, instance: int):
    try:
        from animsup import events as events_mod
    except ImportError:
        raise AnimsupError("--annotate needs animsup.events, which this installation lacks") from None
    from animsup.frames import collect_history

    steps, W = collect_history(path, instance)
    loss = summary.loss.select([instance])
    found = events_mod.find_events(steps, W, loss.step, loss.mean[:, 0])
    return [(int(e.step), e.kind, e.text) for e in found]


def _parse_panels(panels) -> tuple:
    if panels is None:
        return ()
    if isinstance(panels, str):
        panels = [p for p in panels.replace(",", " ").split() if p]
    out = []
    for p in panels:
        if p not in PANELS:
            raise AnimsupError(f"unknown panel {p!r} (available: {', '.join(PANELS)})")
        out.append(p)
    return tuple(out)


def render(
    log,
    out,
    *,
    instance="best",
    grid: bool = False,
    fps: float | None = None,
    duration: float | None = None,
    frames: int | None = None,
    time: str | None = None,
    hold: float = 1.0,
    smooth: int | None = None,
    size="1280x720",
    dpi: float = 100.0,
    theme: str = "light",
    panels=(),
    annotate: bool = False,
    at: float | None = None,
    workers: int | None = None,
    backend: str = "auto",
    preset: str | None = None,
    progress: Callable | None = None,
) -> RenderResult:
    """Render a run log to one or more files (format by extension: .mp4 .gif .webm .png).

    ``instance``: an index or "best" (lowest final loss); ``grid`` shows every instance.
    ``fps`` (default 30), ``duration`` (seconds, including the final ``hold``), ``frames``
    and ``time`` ("linear" | "log") map snapshots to frames (see
    :func:`animsup.frames.plan_frames`); the mapping is described in the result.
    ``at``: the training step of the PNG poster (default: the last snapshot).
    ``workers``: draw processes (default: cores - 1, as ffmpeg keeps one core busy; 0 or 1
    draws in process, as do videos shorter than ``MIN_FRAMES_FOR_WORKERS`` frames).
    ``preset``: the MP4 encoder's speed/size trade-off, a key of
    :data:`animsup.encode.MP4_PRESETS` (default ``ultrafast``, tuned; ``superfast`` and
    ``veryfast`` make ~1.5x smaller files, rendering ~20-30% fewer frames a second).
    ``progress(current, total)`` is called after each frame.
    """
    import time as _time

    from animsup import frames as fr
    from animsup.draw import parse_size

    t_start = _time.perf_counter()
    if isinstance(size, str):
        size = parse_size(size)
    else:
        size = parse_size(f"{int(size[0])}x{int(size[1])}")
    if theme not in THEMES:
        raise AnimsupError(f"unknown theme {theme!r} (light or dark)")
    if not (isinstance(dpi, (int, float)) and 20 <= dpi <= 600):
        raise AnimsupError(f"--dpi must be between 20 and 600, got {dpi!r}")
    if smooth is not None and (int(smooth) != smooth or smooth < 1):
        raise AnimsupError(f"--smooth must be a whole number >= 1, got {smooth!r}")
    if workers is not None and (int(workers) != workers or workers < 0):
        raise AnimsupError(f"--workers must be >= 0, got {workers!r}")
    panels = _parse_panels(panels)
    from animsup.encode import check_preset

    check_preset(preset)
    html, out = _html_outputs(out)
    if html:  # the interactive viewer: its own plan over snapshots (animsup.viewer), no frames drawn
        from animsup.viewer import write_html

        for p in html:
            write_html(log, p, smooth=smooth, instance=instance)
        if not out:
            return RenderResult(paths=html, frames=0, animated_frames=0, hold_frames=0, fps=0.0, size=size,
                                instances=(), mapping="interactive viewer", poster_step=None, workers=0,
                                seconds=_time.perf_counter() - t_start)
    outputs = _normalise_outputs(out, log)
    if annotate and grid:
        raise AnimsupError("--annotate shows one instance's events; it cannot be combined with --grid")
    log = os.fspath(log)

    # pass 1: fixed axes and the loss curve
    summary = fr.scan_log(log)
    instances = fr.choose_instances(summary, instance, grid)
    plan = fr.plan_frames(summary.steps, fps=fps, duration=duration, frames=frames, time=time, hold=hold)
    events = _find_events(log, summary, instances[0]) if annotate else []
    steps = summary.steps.astype(np.float64)
    frame_steps = np.interp(plan.position, np.arange(len(steps)), steps)
    scene = fr.build_scene(
        summary, instances, grid=grid, smooth=smooth, panels=panels, events=events, theme=theme, size=size, dpi=dpi,
        frame_steps=frame_steps,
    )
    videos = [(p, f) for p, f in outputs if f != ".png"]
    posters = [(p, f) for p, f in outputs if f == ".png"]
    captions = _event_captions(events, frame_steps, plan.fps) if events else None
    poster_pos, poster_step = fr.frame_at_step(log, instances, summary.steps, at) if posters else (None, None)
    if at is not None and not posters:
        raise AnimsupError("--at sets the step of a PNG poster; add an --out FILE.png")

    n_draw = plan.n_frames if videos else 1
    if workers is None:
        # one draw process per core, less the core the encoder (ffmpeg) keeps busy; with
        # two cores that is one, i.e. drawing in process (measured: workers cost ~4 ms CPU
        # a frame in start-up and hand-over, which only pays when a core is free for them)
        n_workers = (os.cpu_count() or 1) - 1
        if n_draw < MIN_FRAMES_FOR_WORKERS:
            n_workers = 0
    else:
        n_workers = int(workers) if videos else 0  # a poster alone is one frame
    if n_workers <= 1:
        n_workers = 0

    def frame_iter(positions, caps=None):
        for f in fr.iter_frames(log, instances, positions):
            if caps is not None:
                f.caption = caps[f.index]
            yield f

    def poster_frame():  # the poster shows the event ticks but no caption
        return next(frame_iter(np.array([poster_pos])))

    total = plan.total_frames if videos else 1
    written: list[str] = []
    with contextlib.ExitStack() as stack:
        drawer = _WorkerPool(scene, n_workers) if n_workers else _InProcess(scene)
        stack.callback(drawer.close)
        tmp = {p: stack.enter_context(atomic_path(p)) for p, _ in outputs}
        from animsup.encode import make_encoder

        encs = [stack.enter_context(make_encoder(tmp[p], size, plan.fps, fmt=f, backend=backend, preset=preset))
                for p, f in videos]
        pngs = [stack.enter_context(make_encoder(tmp[p], size, plan.fps, fmt=f)) for p, f in posters]

        gifs = [e for e in encs if e.needs_samples]
        if gifs:  # one shared palette from a few frames spread over the video (a short extra pass)
            k = min(8, plan.n_frames)
            sample_pos = plan.position[np.unique(np.linspace(0, plan.n_frames - 1, k).round().astype(int))]
            samples = [np.array(a) for a in drawer.map(frame_iter(sample_pos))]
            for g in gifs:
                g.prepare(samples)

        poster_done = False
        last = None
        if videos:
            for j, rgba in enumerate(drawer.map(frame_iter(plan.position, captions))):
                for e in encs:
                    e.write(rgba)
                if j == plan.n_frames - 1:
                    last = np.array(rgba)
                if progress:
                    progress(j + 1, total)
            for h in range(plan.hold):
                for e in encs:
                    e.write(last)
                if progress:
                    progress(plan.n_frames + h + 1, total)
            if pngs and poster_pos == len(steps) - 1 and not (captions and captions[-1]):
                for p in pngs:
                    p.write(last)
                poster_done = True
        if pngs and not poster_done:
            for rgba in drawer.map([poster_frame()]):
                for p in pngs:
                    p.write(rgba)
            if progress and not videos:
                progress(1, 1)
        written = html + [p for p, _ in outputs]
    return RenderResult(
        paths=written,
        frames=plan.total_frames if videos else 1,
        animated_frames=plan.n_frames if videos else 0,
        hold_frames=plan.hold if videos else 0,
        fps=plan.fps,
        size=size,
        instances=instances,
        mapping=plan.description if videos else "poster only",
        poster_step=poster_step,
        workers=n_workers,
        seconds=_time.perf_counter() - t_start,
        events=events,
    )


def show(path, *, width: int | None = None, embed: bool = True):
    """Display a rendered file inline in a Jupyter notebook (IPython Video or Image).

    >>> res = animsup.render("logs/run.jsonl", "outputs/run.mp4")   # doctest: +SKIP
    >>> animsup.video.show(res.paths[0])                              # doctest: +SKIP
    """
    try:
        from IPython.display import Image, Video
    except ImportError:
        raise AnimsupError("showing a video inline needs IPython (pip install ipython)") from None
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AnimsupError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext in (".mp4", ".webm"):
        return Video(path, embed=embed, width=width, html_attributes="controls loop autoplay muted")
    if ext in (".gif", ".png"):
        return Image(filename=path, width=width)
    raise AnimsupError(f"{path}: cannot show {ext or 'files without an extension'} inline")


def render_and_show(log, out, **options):
    """``render`` then ``show`` the first output (for notebooks)."""
    res = render(log, out, **options)
    return show(res.paths[0])
