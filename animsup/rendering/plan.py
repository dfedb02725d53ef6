"""The render plan: which instances, which frames, where the poster is, what the captions say.

:func:`plan_frames` turns the user's ``fps / duration / frames / time`` into a
:class:`FramePlan` (snapshot position of every frame) and describes the
mapping in words, so nothing is dropped or duplicated silently.
:func:`build_plan` reads the log once (:func:`animsup.rendering.frames.scan_log`) and decides
everything a render shows: a :class:`RenderPlan`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Iterator, Sequence

import numpy as np

from animsup.analysis import large, ranking, timeline
from animsup.errors import AnimsupError, plural
from animsup.rendering import datapoints, sae as sae_overlay
from animsup.rendering.config import RenderConfig
from animsup.rendering.frames import Frame, LogSummary, Scene, build_scene, iter_frames, scan_log

#: a training event: (step, kind, text), e.g. (1205, "join", "feature 5 joins")
Event = tuple[int, str, str]


# --------------------------------------------------------------------------- instances


def grid_order(summary: LogSummary) -> tuple[int, ...]:
    """Every instance, ordered by 1-S (feature_probability) and then by final loss (so neighbouring
    panels and colours are comparable runs); without a per-instance loss, by index within a 1-S."""
    k = summary.header.n_instances
    p = np.asarray(summary.header.feature_probability, dtype=np.float64).reshape(k, -1).mean(axis=1)
    final = summary.final_loss if summary.final_loss is not None else np.full(k, np.inf)
    loss = ranking.rank_key(final)
    return tuple(int(i) for i in np.lexsort((np.arange(k), loss, p)))


def choose_view(summary: LogSummary, instance=None, grid: bool = False) -> tuple[tuple[int, ...], bool, str]:
    """(the instance indices to show, whether they are a grid, what was chosen in one line).

    ``grid``: every instance (:func:`grid_order`). ``instance`` an index, "best", "best:g<N>" or
    "best:p=<1-S>": that instance (see animsup.analysis.ranking). None (no instance named, the
    default) is :func:`animsup.analysis.ranking.default_view`: the best instance when the log has one
    group of comparable instances with a loss each, else the grid — so a render of any log makes a picture.
    :raises AnimsupError: an index or group the log does not have; "best" where there is none"""
    k = summary.header.n_instances
    if grid:
        return grid_order(summary), True, f"all {k} instances as a grid (--grid)"
    if instance is None:
        view = ranking.default_view(summary.header, summary.final_loss)
        return (grid_order(summary), True, view.reason) if view.grid else ((view.instance,), False, view.reason)
    try:
        found = ranking.resolve(instance, ranking.groups(summary.header), summary.final_loss, k, one=True)
    except AnimsupError as e:
        raise AnimsupError(f"{summary.path}: {e}") from None
    return tuple(found), False, f"instance {found[0]} (--instance {instance})"


def choose_instances(summary: LogSummary, instance="best", grid: bool = False) -> tuple[int, ...]:
    """The instance indices :func:`choose_view` shows."""
    return choose_view(summary, instance, grid)[0]


# --------------------------------------------------------------------------- time mapping


@dataclass
class FramePlan:
    """Which snapshot position each frame shows.

    :param position: (shape: [N]) fractional snapshot index of each animated frame
        (non-decreasing; 2.25 = a quarter of the way from snapshot 2 to 3)
    :param hold: extra copies of the final frame (the pause at the end)
    """

    position: np.ndarray
    fps: float
    hold: int
    time: str
    description: str
    interpolated: bool = False

    @property
    def n_frames(self) -> int:
        return len(self.position)

    @property
    def total_frames(self) -> int:
        return len(self.position) + self.hold

    @property
    def seconds(self) -> float:
        return self.total_frames / self.fps


def plan_frames(steps: np.ndarray, config: RenderConfig | None = None) -> FramePlan:
    """Map video frames to snapshots, with the time options of a (validated) ``config``.

    Default: one frame per snapshot at 30 fps. ``frames`` (or ``duration``, which
    includes the ``hold`` seconds at the end) resamples; ``time`` picks how:
    "linear" (uniform in training step), "log" (uniform in log(step), giving the
    early fast dynamics more frames), or None (uniform over snapshots). Frames
    between two snapshots interpolate W and b linearly.

    :param steps: (shape: [T]) snapshot steps, increasing (T >= 1)
    """
    c = config if config is not None else RenderConfig()
    fps, n, hold_frames = c.frame_counts(len(steps))
    pos, interpolated = _positions(np.asarray(steps, dtype=np.float64), n, c.time)
    description = _describe_mapping(steps, pos, fps, hold_frames, c.time, interpolated)
    return FramePlan(pos, fps, hold_frames, c.time or "snapshots", description, interpolated)


def _positions(steps: np.ndarray, n: int, time: str | None) -> tuple[np.ndarray, bool]:
    """The snapshot position of each of ``n`` frames (ending on the last snapshot; positions within
    1e-6 of a snapshot snapped to it) and whether any frame falls between snapshots."""
    T = len(steps)
    idx = np.arange(T, dtype=np.float64)
    if n == 1:
        pos = np.array([T - 1.0])
    elif time is None:
        pos = np.linspace(0, T - 1, n)
    elif time == "linear":
        pos = np.interp(np.linspace(steps[0], steps[-1], n), steps, idx)
    else:  # log: uniform in log(1 + step - first step)
        rel = steps - steps[0]
        u = np.expm1(np.linspace(0, np.log1p(rel[-1]), n))
        pos = np.interp(u, rel, idx)
    pos = np.clip(pos, 0, T - 1)
    pos[-1] = T - 1  # always end on the last snapshot
    snap_pos = np.round(pos)
    exact = np.abs(pos - snap_pos) < 1e-6
    return np.where(exact, snap_pos, pos), not bool(exact.all())


def _describe_mapping(steps: np.ndarray, pos: np.ndarray, fps: float, hold_frames: int, time: str | None,
                      interpolated: bool) -> str:
    """The mapping in words: frames, fps and seconds, the snapshots shown, how time runs."""
    T, n = len(steps), len(pos)
    shown = len(np.unique(np.concatenate([np.floor(pos), np.ceil(pos)])))
    how = {None: "uniform over snapshots", "linear": "linear in training step", "log": "log in training step"}[time]
    parts = [
        f"{plural(n, 'frame')} at {fps:g} fps ({n / fps:.1f} s + {hold_frames / fps:.1f} s final hold = {plural(n + hold_frames, 'frame')})",
        f"from {T} snapshots (steps {int(steps[0])}..{int(steps[-1])})",
    ]
    if n == T and time is None:
        parts.append("one frame per snapshot")
    else:
        parts.append(f"time {how}")
        if shown < T:
            parts.append(f"{T - shown} snapshots fall between frames and are not shown")
        if interpolated:
            parts.append("frames between snapshots interpolate W and b linearly")
    return "; ".join(parts)


def frame_at_step(steps: np.ndarray, at: float | None) -> tuple[float, int]:
    """The snapshot position for a poster at training step ``at`` (the last snapshot if None).

    :param steps: (shape: [T]) snapshot steps, increasing
    Returns (position, snapshot step). Steps between snapshots take the nearest one.
    """
    if at is None:
        return float(len(steps) - 1), int(steps[-1])
    if at < steps[0] or at > steps[-1]:
        raise AnimsupError(f"--at {at:g} is outside the logged steps {int(steps[0])}..{int(steps[-1])}")
    i = int(np.argmin(np.abs(steps - at)))
    return float(i), int(steps[i])


# --------------------------------------------------------------------------- the render plan


@dataclass
class RenderPlan:
    """Everything a render shows, decided before the first frame is drawn: the one object the
    raster path (:func:`animsup.rendering.video.render`) and other outputs (an interactive viewer) consume.

    :param log: the run log's path
    :param config: the validated :class:`animsup.rendering.config.RenderConfig`
    :param instances: the instance indices shown (k of them; all of them for a grid)
    :param timing: the time mapping (:class:`FramePlan`: snapshot position of each animated
        frame, fps, final hold, the mapping in words)
    :param frame_steps: (shape: [N]) training step of each animated frame
    :param scene: the fixed parts of every frame (:class:`Scene`: axes ranges from the whole
        log, the loss curve, the title, the event ticks)
    :param captions: (length N) the event caption each animated frame shows ("" for none)
    :param events: (step, kind, text) of each event (``config.annotate``), else []
    :param poster_position: snapshot position of the PNG poster (None without a poster)
    :param poster_step: its training step
    :param notes: sentences for the user: defaults chosen for a short history, long stretches of
        frames interpolated between snapshots (not observed)
    :param choice: what is shown and why, one line (:func:`choose_view`: "instance 3, the lowest
        final loss of 4 comparable instances", "all 6 instances as a grid: the log records no loss, ...")
    """

    log: str
    config: RenderConfig
    summary: LogSummary
    instances: tuple[int, ...]
    timing: FramePlan
    frame_steps: np.ndarray
    scene: Scene
    captions: list[str]
    events: list[Event]
    poster_position: float | None = None
    poster_step: int | None = None
    notes: tuple[str, ...] = ()  # what the frames show that the log did not observe, defaults chosen
    choice: str = ""  # what is shown and why, one line (:func:`choose_view`)
    #: the notes about the log and its files (unfinished, a skipped sidecar, SAE or data points not drawn),
    #: not about frames or timing: what a page output says too
    log_notes: tuple[str, ...] = ()

    @property
    def n_frames(self) -> int:
        """Animated frames (the final hold repeats the last one ``timing.hold`` times)."""
        return self.timing.n_frames

    def frames(self, indices: Sequence[int] | np.ndarray | None = None) -> Iterator[Frame]:
        """Stream the animated frames (all, or the non-decreasing frame ``indices``), captions set."""
        idx = np.arange(self.n_frames) if indices is None else np.asarray(indices, dtype=np.int64)
        for j, f in zip(idx, iter_frames(self.log, self.instances, self.timing.position[idx])):
            f.index = int(j)
            f.caption = self.captions[j] if self.captions else ""
            yield f

    def poster_frame(self) -> Frame:
        """The poster's frame: event ticks on the loss panel and, when there are events, their key
        as its caption (:func:`poster_key`)."""
        if self.poster_position is None:
            raise ValueError("this plan has no poster")
        f = next(iter_frames(self.log, self.instances, np.array([self.poster_position])))
        if self.events:
            f.caption = poster_key(self.events, caption_chars(self.config.size, self.config.dpi))
        return f

    def sample_indices(self, k: int = 8) -> np.ndarray:
        """``k`` frame indices spread over the video plus the first frame of every caption (so a
        palette built from them covers every colour the frames use), sorted."""
        spread = np.linspace(0, self.n_frames - 1, min(k, self.n_frames)).round().astype(np.int64)
        firsts = [j for j, c in enumerate(self.captions) if c and (j == 0 or self.captions[j - 1] != c)]
        return np.unique(np.concatenate([spread, np.asarray(firsts[:k], dtype=np.int64)]))


def build_plan(log: str | os.PathLike[str], config: RenderConfig, *, video: bool = True, poster: bool = False,
               summary: LogSummary | None = None) -> RenderPlan:
    """Read the log once (pass 1, :func:`scan_log`) and plan a render of it with ``config``.

    ``video``: plan animated frames (else the plan has one frame, the poster's); ``poster``:
    plan a PNG poster at ``config.at`` (default: the last snapshot). Raises AnimsupError (bad
    options for this log: a missing instance, ``at`` outside the steps) or LogFormatError.
    ``summary``: the log's :func:`scan_log` result when the caller already has it (not read again).
    """
    c = config
    if c.at is not None and not poster:
        raise AnimsupError("--at sets the step of a PNG poster; add an --out FILE.png")
    path = os.fspath(log)
    if summary is None:
        summary = scan_log(path)
    instances, grid, choice = choose_view(summary, c.instance, c.grid)
    if grid and not c.grid:  # no instance named and no comparable best: the grid (ranking.default_view)
        if c.annotate:
            raise AnimsupError(f"{path}: --annotate shows one instance's events; pass --instance N (no instance is "
                               f"best here: {choice.split(': ', 1)[-1]})")
        c = replace(c, grid=True)
    timing, notes = _timing(summary.steps, c, video)
    if timing.interpolated and large.use_summary(summary.header.n_features, summary.header.n_hidden, c.view):
        # a large model's charts are recomputed per drawn W (~1 s at n = 10,240): each snapshot is held
        timing = replace(timing, position=np.floor(timing.position), interpolated=False)
        notes.append("the summary view of a large model holds each snapshot (no frames interpolated between snapshots)")
    timing_notes = set(notes)
    notes = _unfinished_notes(summary) + notes
    frame_steps = _steps_at(summary.steps, timing.position)
    # the one event list (animsup.analysis.timeline.run_events) that `animsup events` prints and the viewer shows
    events = timeline.as_tuples(timeline.run_events(path, instances[0])) if c.annotate else []
    captions = event_captions(events, frame_steps, timing.fps, caption_chars(c.size, c.dpi)) if events and video else []
    # the step axis is the video's whatever is rendered (a poster alone gets the axis it has beside a video)
    axis_steps = frame_steps if video else _steps_at(summary.steps, _timing(summary.steps, c, True)[0].position)
    scene = _scene(path, summary, instances, c, events, axis_steps)
    scene.sae, sae_notes = sae_overlay.prepare(path, summary.header, summary.steps, instances, c.sae)  # animsup sae's file
    notes += sae_notes + _measurements_note(path, summary.steps)
    scene.datapoints, h_max, dp_notes = ({}, 0.0, []) if scene.summary else datapoints.prepare(path, summary.header, instances)
    scene.lim, notes = max(scene.lim, 1.08 * h_max), notes + dp_notes
    pos, step = frame_at_step(summary.steps, c.at) if poster else (None, None)
    return RenderPlan(path, c, summary, instances, timing, frame_steps, scene, captions, events, pos, step, tuple(notes),
                      choice, log_notes=tuple(n for n in notes if n not in timing_notes))


def _measurements_note(path: str, steps: np.ndarray) -> list[str]:
    """The note on a measurements sidecar beside the log that is not this run's (skipped:
    :func:`animsup.log.measurements.read_for_log`), else none."""
    from animsup.log.measurements import read_for_log

    note = read_for_log(path, steps)[1]
    return [note] if note else []


def _unfinished_notes(summary: LogSummary) -> list[str]:
    """One sentence when the log is unfinished (no end record: still running, or killed) or its
    last line is cut off, as ``animsup inspect`` says it; [] for a finished log."""
    if summary.end is None:
        cut = "; its last line is cut off, ignored" if summary.truncated else ""
        return [f"the log is unfinished (no end record: still running, or killed{cut}): rendered what it holds "
                f"(up to step {int(summary.steps[-1]):,})"]
    if summary.truncated:
        return [f"the log's last line is cut off, ignored: rendered what it holds (up to step {int(summary.steps[-1]):,})"]
    return []


def _steps_at(steps: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The training step at each (fractional) snapshot position. (shape: [N])"""
    return np.interp(positions, np.arange(len(steps)), steps.astype(np.float64))


def _timing(steps: np.ndarray, c: RenderConfig, video: bool) -> tuple[FramePlan, list[str]]:
    """The time mapping (a short history's defaults applied; one frame, the poster's, without a
    video) and the notes on it."""
    notes, duration, time = _short_history_defaults(steps, video, duration=c.duration, frames=c.frames, time=c.time)
    if (duration, time) != (c.duration, c.time):
        c = replace(c, duration=duration, time=time)
    timing = plan_frames(steps, c)
    if not video:
        return FramePlan(np.array([float(len(steps) - 1)]), timing.fps, 0, timing.time, "poster only"), notes
    return timing, notes + _gap_notes(steps, timing)


def _scene(log: str, summary: LogSummary, instances: tuple[int, ...], c: RenderConfig, events: list[Event],
           frame_steps: np.ndarray) -> Scene:
    """The fixed parts of every frame, with the extra panels' data (a neuron model's bars, a
    feature-set key: :func:`animsup.rendering.panels.default_panels`)."""
    from animsup.rendering.panels import default_panels, prepare_panels

    panels = default_panels(summary.header, c.panels)
    if summary.curves and "curves" not in panels:  # recorded extra curves are shown (test loss, accuracy, lr...)
        panels = (*panels, "curves")
    scene = build_scene(summary, instances, grid=c.grid, smooth=c.smooth, panels=panels, events=events,
                        theme=c.theme, size=c.size, dpi=c.dpi, frame_steps=frame_steps)
    if panels:
        scene.panel_data = prepare_panels(panels, log, instances)
    # a large model: charts, not an n×n heatmap (animsup.analysis.large.use_summary)
    if large.use_summary(summary.header.n_features, summary.header.n_hidden, c.view):
        scene.summary = True
        scene.summary_order = [large.frequency_order(summary.header.feature_probability[i]) for i in instances]
        scene.summary_xlabels = [large.order_label(summary.header.feature_probability[i]) for i in instances]
    return scene


# a history this short and log-spaced (e.g. a devinterp run's 30-50 snapshots) gets a default
# duration and log time: one frame per snapshot would flash by in a second
SHORT_HISTORY = 60
SHORT_HISTORY_SECONDS = 6.0


def _short_history_defaults(steps, video: bool, *, duration, frames, time) -> tuple[list, float | None, str | None]:
    """(notes, duration, time) for a log of one snapshot or a short log-spaced history."""
    notes: list[str] = []
    T = len(steps)
    if T == 1 and video:
        notes.append(f"the log has one snapshot (step {int(steps[0]):,}): the video is a still of it, "
                     "there is no training to show (a poster: --out FILE.png)")
    elif 2 < T <= SHORT_HISTORY and duration is None and frames is None and time is None:
        pos = np.asarray(steps, dtype=np.float64)
        pos = pos[pos > 0]
        d = np.diff(np.asarray(steps, dtype=np.float64))
        if len(pos) >= 2 and pos[-1] / pos[0] >= 100 and d[-1] >= 10 * d[0]:
            duration, time = SHORT_HISTORY_SECONDS, "log"
            if video:  # (a poster alone gets the same step axis, and has no seconds to speak of)
                notes.append(f"{T} log-spaced snapshots: {duration:g} s with log time by default "
                             "(--duration, --time to change)")
    return notes, duration, time


def _gap_notes(steps, plan) -> list[str]:
    """A note on the longest stretch of frames interpolated between two snapshots (not observed)."""
    T = len(steps)
    if T < 2 or plan.n_frames <= T:
        return []
    pos = np.asarray(plan.position[: plan.n_frames], dtype=np.float64)
    counts = np.bincount(np.minimum(np.floor(pos).astype(int), T - 2), minlength=T - 1)
    i = int(np.argmax(counts))
    if counts[i] < max(10, 0.2 * plan.fps):
        return []
    return [f"frames between snapshots interpolate W and b linearly; the longest stretch, steps {int(steps[i]):,} to "
            f"{int(steps[i + 1]):,}, is {int(counts[i])} frames ({counts[i] / plan.fps:.1f} s) of interpolation, not observed"]


CAPTION_SECONDS = 1.5  # an event stays in the caption this long from the frame it happens at
CAPTION_CHARS = 110  # longer captions keep each event's head, then only the latest events


def caption_chars(size: tuple[int, int], dpi: float) -> int:
    """How many characters of the caption font fit on one line of a frame of ``size`` at ``dpi``
    (the compositor's caption: 1.05 × its font size of 10 pt at 1280x720, DejaVu Sans's average
    width ~0.55 em, 95 % of the width): 151 at 1280x720 and dpi 100, 94 at dpi 160."""
    fs = max(10.0 * min(size[0] / 1280, size[1] / 720), 6.0)
    return max(40, int(0.95 * size[0] / (0.55 * 1.05 * fs * dpi / 72)))


def event_captions(events, frame_steps: np.ndarray, fps: float, limit: int = CAPTION_CHARS) -> list[str]:
    """Caption of each animated frame (shape: [n_frames] of str): the events that have happened by
    the frame's step and at most :data:`CAPTION_SECONDS` before it, never one still to come.

    An event enters the caption at the first frame whose step is at or past the event's step and
    stays :data:`CAPTION_SECONDS` (so it never flashes by); events whose stays overlap share the
    caption ("3–4. steps 1,205–1,320: feature 5 joins; loss drops 12% …", numbered as the loss
    panel's ticks). The last frame carries no caption: the final hold shows the final step's
    readout alone, never an earlier event's step."""
    captions = [""] * len(frame_steps)
    hold = max(1, int(round(CAPTION_SECONDS * fps)))
    first = [int(np.searchsorted(frame_steps, step, side="left")) for step, _, _ in events]
    last = len(frame_steps) - 1
    for t in range(len(frame_steps)):
        if t == last and last > 0:
            break
        members = [(i + 1, events[i][0], events[i][2]) for i, j in enumerate(first) if j <= t < j + hold]
        if members:
            captions[t] = cluster_caption(members, limit)
    return captions


def cluster_caption(members, limit: int = CAPTION_CHARS) -> str:
    """"3. step 1,205: feature 5 joins" or "3–4. steps 1,205–1,320: …; …"; too long for one line:
    each event's head only, then the latest events that fit ("+2 earlier" says how many went)."""
    def text_of(part, short: bool) -> str:
        (a, s0, _), (b, s1, _) = part[0], part[-1]
        head = f"{a}. step {s0:,}: " if a == b else f"{a}–{b}. steps {s0:,}–{s1:,}: "
        return head + "; ".join(_event_head(t) if short else t for _, _, t in part)

    text = text_of(members, False)
    if len(text) <= limit:
        return text
    for cut in range(len(members)):
        text = ("" if not cut else f"(+{cut} earlier) ") + text_of(members[cut:], True)
        if len(text) <= limit:
            return text
    return text[: limit - 1].rstrip() + "…"


def _event_head(text: str) -> str:
    """An event text without its details: "feature 3 joins — 3 dedicated → …" → "feature 3 joins",
    "loss drops 40% after a 1,154-step plateau" → "loss drops 40%"."""
    text = text.split(" — ")[0].split(" (")[0]
    return text.split(" after ")[0]


def poster_key(events, limit: int = CAPTION_CHARS) -> str:
    """The key to the poster's numbered event ticks: every event ("events: 1. step 963: …; 2. step
    1,900: …"), with only each event's head when the details do not fit in ``limit`` characters;
    when even the heads do not fit, the first events that do and how many more there are
    ("… +6 more: animsup events LOG")."""
    parts = [f"{i + 1}. step {step:,}: {text}" for i, (step, _, text) in enumerate(events)]
    text = "events: " + "; ".join(parts)
    if len(text) <= limit:
        return text
    parts = [f"{i + 1}. step {step:,}: {_event_head(text)}" for i, (step, _, text) in enumerate(events)]
    text = "events: " + "; ".join(parts)
    if len(text) <= limit:
        return text
    for kept in range(len(parts) - 1, -1, -1):
        more = f"; +{len(parts) - kept} more: animsup events LOG"
        text = "events: " + "; ".join(parts[:kept]) + more
        if len(text) <= limit or kept == 0:
            return text.replace("events: ; ", "events: ")
    return text
