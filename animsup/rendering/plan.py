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

from animsup.analysis import ranking
from animsup.errors import AnimsupError
from animsup.log.reader import open_log
from animsup.rendering.config import RenderConfig
from animsup.rendering.frames import Frame, LogSummary, Scene, build_scene, iter_frames, scan_log

#: a training event: (step, kind, text), e.g. (1205, "join", "feature 5 joins")
Event = tuple[int, str, str]


# --------------------------------------------------------------------------- instances


def choose_instances(summary: LogSummary, instance="best", grid: bool = False) -> tuple[int, ...]:
    """The instance indices to show: all of them for ``grid``, ordered by 1-S (feature_probability)
    and then by final loss (so neighbouring panels and colours are comparable runs); else
    ``instance``: an index, "best" (the log has one group of comparable instances), "best:g<N>"
    or "best:p=<1-S>" (the best of that group; see animsup.analysis.ranking)."""
    k = summary.header.n_instances
    if grid:
        p = np.asarray(summary.header.feature_probability, dtype=np.float64).mean(axis=1)
        final = summary.final_loss if summary.final_loss is not None else np.full(k, np.inf)
        loss = ranking.rank_key(final)
        return tuple(int(i) for i in np.lexsort((np.arange(k), loss, p)))
    spec = "best" if instance is None else instance
    try:
        return tuple(ranking.resolve(spec, ranking.groups(summary.header), summary.final_loss, k, one=True))
    except AnimsupError as e:
        raise AnimsupError(f"{summary.path}: {e}") from None


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
        f"{n} frames at {fps:g} fps ({n / fps:.1f} s + {hold_frames / fps:.1f} s final hold = {n + hold_frames} frames)",
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


def collect_history(path, instance: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps [T] and W [T, n_hidden, n_features] of one instance (for event detection;
    memory grows with the log, so only ``--annotate`` uses it)."""
    steps, Ws = [], []
    with open_log(path, [instance]) as reader:
        for snap in reader.snapshots():
            steps.append(snap.step)
            Ws.append(snap.W[0])
    return np.asarray(steps, dtype=np.int64), np.asarray(Ws, dtype=np.float32)


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
            f.caption = poster_key(self.events)
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
    instances = choose_instances(summary, c.instance, c.grid)
    timing, notes = _timing(summary.steps, c, video)
    frame_steps = np.interp(timing.position, np.arange(len(summary.steps)), summary.steps.astype(np.float64))
    events = find_events(path, summary, instances[0]) if c.annotate else []
    captions = event_captions(events, frame_steps, timing.fps) if events and video else []
    scene = _scene(path, summary, instances, c, events, frame_steps)
    pos, step = frame_at_step(summary.steps, c.at) if poster else (None, None)
    return RenderPlan(path, c, summary, instances, timing, frame_steps, scene, captions, events, pos, step, tuple(notes))


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
    scene = build_scene(summary, instances, grid=c.grid, smooth=c.smooth, panels=panels, events=events,
                        theme=c.theme, size=c.size, dpi=c.dpi, frame_steps=frame_steps)
    if panels:
        scene.panel_data = prepare_panels(panels, log, instances)
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
            notes.append(f"{T} log-spaced snapshots: {duration:g} s with log time by default (--duration, --time to change)")
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


def find_events(path, summary: LogSummary, instance: int) -> list:
    """(step, kind, text) of each training event of one instance (:func:`animsup.analysis.events.find_events`;
    a third pass over the log that keeps that instance's W: [T, n_hidden, n_features])."""
    try:
        from animsup.analysis import events as events_mod
    except ImportError:
        raise AnimsupError("--annotate needs animsup.analysis.events, which this installation lacks") from None
    steps, W = collect_history(path, instance)
    loss = summary.loss.select([instance])
    found = events_mod.find_events(steps, W, loss.step, loss.mean[:, 0])
    out = [(int(e.step), e.kind, e.text) for e in found]
    if W.shape[1] >= 3:  # no named shapes: tell the moves of D_i between levels (animsup.analysis.dynamics)
        from animsup.analysis import dynamics, geometry

        moves = dynamics.level_events(steps, geometry.dimensionality(W))
        out = sorted(out + [(e.step, e.kind, e.text) for e in moves if e.level_from is not None], key=lambda e: e[0])
    return out


CAPTION_SECONDS = 1.5  # a caption stays at least this long (events closer than this share one)
CAPTION_CHARS = 110  # longer captions are cut with "…" (one line at the default size)


def event_captions(events, frame_steps: np.ndarray, fps: float) -> list[str]:
    """Caption of each animated frame (shape: [n_frames] of str).

    Events whose first frames fall within :data:`CAPTION_SECONDS` of a caption's start join that
    caption ("3–4. steps 1,205–1,320: feature 5 joins; loss drops 12% …", numbered as the loss
    panel's ticks), so clustered events (usual with log-spaced snapshots) do not flash; a caption
    stays :data:`CAPTION_SECONDS` or until the next one starts. The last frame carries no caption:
    the final hold shows the final step's readout alone, never an earlier event's step."""
    captions = [""] * len(frame_steps)
    hold = max(1, int(round(CAPTION_SECONDS * fps)))
    clusters: list[list] = []  # [first frame, [(number, step, text), ...]]
    for i, (step, kind, text) in enumerate(events):
        j = int(np.searchsorted(frame_steps, step, side="left"))
        if j >= len(frame_steps):
            continue
        if clusters and j < clusters[-1][0] + hold:
            clusters[-1][1].append((i + 1, step, text))
        else:
            clusters.append([j, [(i + 1, step, text)]])
    last = len(frame_steps) - 1
    for n, (j, members) in enumerate(clusters):
        end = min(j + hold, clusters[n + 1][0] if n + 1 < len(clusters) else last)
        for t in range(j, max(end, j + 1)):
            if t < last or (t == last == 0):
                captions[t] = cluster_caption(members)
    return captions


def cluster_caption(members) -> str:
    """"3. step 1,205: feature 5 joins" or "3–4. steps 1,205–1,320: …; …"."""
    (a, s0, _), (b, s1, _) = members[0], members[-1]
    head = f"{a}. step {s0:,}: " if a == b else f"{a}–{b}. steps {s0:,}–{s1:,}: "
    text = head + "; ".join(text for _, _, text in members)
    if len(text) > CAPTION_CHARS and len(members) > 1:  # every event keeps its head, details go
        text = head + "; ".join(_event_head(t) for _, _, t in members)
    return text if len(text) <= CAPTION_CHARS else text[: CAPTION_CHARS - 1].rstrip() + "…"


def _event_head(text: str) -> str:
    """An event text without its details: "feature 3 joins — 3 dedicated → …" → "feature 3 joins",
    "loss drops 40% after a 1,154-step plateau" → "loss drops 40%"."""
    text = text.split(" — ")[0].split(" (")[0]
    return text.split(" after ")[0]


def poster_key(events) -> str:
    """The key to the poster's numbered event ticks: "events: 1. step 963: …; 2. step 1,900: …"."""
    parts = [f"{i + 1}. step {step:,}: {text}" for i, (step, _, text) in enumerate(events)]
    text = "events: " + "; ".join(parts)
    if len(text) <= CAPTION_CHARS:
        return text
    parts = [f"{i + 1}. step {step:,}: {_event_head(text)}" for i, (step, _, text) in enumerate(events)]
    text = "events: " + "; ".join(parts)
    if len(text) <= CAPTION_CHARS:
        return text
    more = f" … (all {len(parts)}: animsup events LOG)"
    return text[: CAPTION_CHARS - len(more)].rstrip(" ;") + more
