"""Log -> per-frame arrays: time mapping, fixed axes, the loss curve.

Two streaming passes over the log keep memory flat in its length:

1. :func:`scan_log` reads every snapshot and loss record once and keeps only
   what the whole video needs: the snapshot steps, per-instance extremes (for
   fixed axes), and the loss curve reduced to at most ``2 * max_bins`` bins
   (mean, min and max per bin; finer than a pixel at 1280 px).
2. :func:`iter_frames` reads the log again and yields one :class:`Frame` per video
   frame, interpolating W and b linearly between the two snapshots around the
   frame's time.

:func:`plan_frames` turns the user's ``fps / duration / frames / time`` into a
:class:`FramePlan` (snapshot position of every frame) and describes the
mapping in words, so nothing is dropped or duplicated silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from animsup import models
from animsup.analysis import ranking
from animsup.analysis.ranking import FinalLoss
from animsup.errors import AnimsupError, LogFormatError
from animsup.log.reader import open_log
from animsup.log.schema import Header
from animsup.rendering import stages as stages_mod

#: a feature whose column norm is below this fraction of the axis limit is drawn
#: as part of the quiet cluster at the origin (no arrow, no label)
QUIET_FRACTION = 0.08


# --------------------------------------------------------------------------- pass 1


@dataclass
class LossBins:
    """A loss curve reduced to bins of consecutive logged points.

    :param step: (shape: [B]) mean step of each bin
    :param mean: (shape: [B, k]) mean loss in each bin
    :param lo: (shape: [B, k]) smallest loss in each bin
    :param hi: (shape: [B, k]) largest loss in each bin
    :param count: (shape: [B]) logged points in each bin
    """

    step: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    count: np.ndarray

    @property
    def n_points(self) -> int:
        return int(self.count.sum())

    def select(self, instances: Sequence[int]) -> "LossBins":
        idx = list(instances)
        return LossBins(self.step, self.mean[:, idx], self.lo[:, idx], self.hi[:, idx], self.count)

    def smoothed(self, window: int, log_x: bool = False) -> np.ndarray:
        """Centred moving average over ``window`` logged points, computed on the bins
        (exact while every bin holds one point). With ``log_x`` the window also shrinks
        to ±10% of the bin's position, so the early steps of a log step axis are not
        smeared. (shape: [B, k])"""
        avg_count = max(1.0, float(self.count.mean()))
        w_bins = max(1, int(round(window / avg_count)))
        if w_bins <= 1:
            return self.mean.copy()
        B = len(self.step)
        i = np.arange(B)
        half = np.full(B, w_bins // 2)
        if log_x:
            half = np.minimum(half, np.floor(0.1 * i).astype(int))
        weighted = self.mean * self.count[:, None]
        csum = np.concatenate([np.zeros((1, weighted.shape[1])), np.cumsum(weighted, axis=0)])
        ccount = np.concatenate([[0.0], np.cumsum(self.count)])
        lo = np.clip(i - half, 0, B)
        hi = np.clip(i + np.maximum(w_bins - w_bins // 2, 1) if not log_x else i + half + 1, 0, B)
        return (csum[hi] - csum[lo]) / (ccount[hi] - ccount[lo])[:, None]


class _LossReducer:
    """Streams (steps, loss rows) into at most ``2 * max_bins`` bins (memory O(max_bins))."""

    def __init__(self, k: int, max_bins: int = 2048):
        self.k, self.max_bins, self.per_bin = k, max_bins, 1
        self._pending_steps: list[np.ndarray] = []
        self._pending_vals: list[np.ndarray] = []
        self._pending_n = 0
        # bins: step_sum, sum, lo, hi, count
        self._bins: list[np.ndarray] = [np.zeros(0), np.zeros((0, k)), np.zeros((0, k)), np.zeros((0, k)), np.zeros(0)]
        self.final = FinalLoss()  # the final loss (animsup.analysis.ranking), from the raw rows

    def add(self, steps: np.ndarray, vals: np.ndarray) -> None:
        self._pending_steps.append(np.asarray(steps, dtype=np.float64))
        vals = np.asarray(vals, dtype=np.float64).reshape(len(steps), -1)
        if vals.shape[1] == 1:  # schema v2 loss_scope "aggregate": one column for every instance (broadcast)
            vals = np.broadcast_to(vals, (len(steps), self.k))
        self._pending_vals.append(vals)
        self._pending_n += len(steps)
        self.final.add(steps, vals)
        if self._pending_n >= 4096:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self._pending_n:
            return
        steps = np.concatenate(self._pending_steps)
        vals = np.concatenate(self._pending_vals)
        c = self.per_bin
        n_full = len(steps) // c
        cut = n_full * c
        if final and cut < len(steps):
            tail = (steps[cut:], vals[cut:])
        else:
            tail = None
        new = []
        if n_full:
            s = steps[:cut].reshape(n_full, c)
            v = vals[:cut].reshape(n_full, c, self.k)
            new.append((s.sum(1), v.sum(1), v.min(1), v.max(1), np.full(n_full, float(c))))
        if tail is not None:
            s, v = tail
            new.append((np.array([s.sum()]), v.sum(0, keepdims=True), v.min(0, keepdims=True), v.max(0, keepdims=True), np.array([float(len(s))])))
            cut = len(steps)
        for part in new:
            self._bins = [np.concatenate([a, p]) for a, p in zip(self._bins, part)]
        self._pending_steps = [steps[cut:]] if cut < len(steps) else []
        self._pending_vals = [vals[cut:]] if cut < len(steps) else []
        self._pending_n = len(steps) - cut
        while len(self._bins[0]) > 2 * self.max_bins:
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        ss, su, lo, hi, cnt = self._bins
        n = len(ss) // 2 * 2
        rest = [a[n:] for a in self._bins]
        merged = [
            ss[:n:2] + ss[1:n:2],
            su[:n:2] + su[1:n:2],
            np.minimum(lo[:n:2], lo[1:n:2]),
            np.maximum(hi[:n:2], hi[1:n:2]),
            cnt[:n:2] + cnt[1:n:2],
        ]
        self._bins = [np.concatenate([m, r]) for m, r in zip(merged, rest)]
        self.per_bin *= 2

    def result(self) -> LossBins:
        self._flush(final=True)
        ss, su, lo, hi, cnt = self._bins
        cnt_safe = np.maximum(cnt, 1)
        return LossBins(ss / cnt_safe, su / cnt_safe[:, None], lo, hi, cnt)


@dataclass
class LogSummary:
    """Everything pass 1 learns about a log (all instances).

    :param steps: (shape: [T]) snapshot steps
    :param w_max: (shape: [n_instances]) largest |W| entry (encoder and decoder) over the log
    :param norm_max: (shape: [n_instances]) largest feature norm over the log
    :param b_lo: (shape: [n_instances]) smallest bias over the log (b_hi: largest)
    :param gram_max: (shape: [n_instances]) largest |WᵀW| entry over the log
    :param final_loss: (shape: [n_instances]) each instance's final loss (animsup.analysis.ranking.final_loss:
        the mean of the logged losses in the last 5% of the steps); None when the log has no loss
        per instance (loss_scope "none" or "aggregate")
    """

    path: str
    header: Header
    steps: np.ndarray
    loss: LossBins
    loss_source: str  # "loss records" or "snapshots"
    w_max: np.ndarray
    norm_max: np.ndarray
    b_lo: np.ndarray
    b_hi: np.ndarray
    gram_max: np.ndarray
    final_loss: np.ndarray | None
    end: dict | None

    @property
    def n_snapshots(self) -> int:
        return len(self.steps)


def scan_log(path, *, max_bins: int = 2048, chunk: int = 512, chunk_values: int = 2_000_000) -> LogSummary:
    """Pass 1: stream the whole log once (all instances); memory O(snapshots) for the steps only.

    Snapshots and loss records are reduced ``chunk`` at a time (vectorised), so the
    per-line cost is little more than the reader's; a chunk of snapshots holds at most
    ``chunk_values`` W entries (8 MB of float32), so memory is flat in n_features too.
    """
    path = str(path)
    with open_log(path) as reader:
        h = reader.header
        k = h.n_instances
        lw = k if h.loss_scope == "instance" else 1  # loss values per step (aggregate: one for all)
        fine = _LossReducer(lw, max_bins)
        coarse = _LossReducer(lw, max_bins)
        st = _SnapshotStats(k, h.n_hidden)
        per_snap = k * h.n_hidden * h.n_features * (2 if h.has_decoder else 1)
        snap_chunk = max(1, min(chunk, chunk_values // max(per_snap, 1)))
        steps: list[int] = []
        snaps: list = []
        loss_parts: list = []
        for kind, _, item in reader.iter_all():
            if kind == "loss":
                if len(item[0]):
                    loss_parts.append(item)
                    if len(loss_parts) >= chunk:
                        fine.add(np.concatenate([a for a, _ in loss_parts]), np.concatenate([b for _, b in loss_parts]))
                        loss_parts = []
                continue
            steps.append(item.step)
            snaps.append(item)
            if len(snaps) >= snap_chunk:
                st.add(snaps, coarse)
                snaps = []
        if snaps:
            st.add(snaps, coarse)
        if loss_parts:
            fine.add(np.concatenate([a for a, _ in loss_parts]), np.concatenate([b for _, b in loss_parts]))
        end = reader.end
    if not steps:
        raise LogFormatError(path, None, "the log has no snapshots (nothing to render)")
    use_fine = fine._pending_n > 0 or len(fine._bins[0]) > 0
    red = fine if use_fine else coarse
    loss = red.result()
    # the final loss per instance (animsup.analysis.ranking's definition); None without a per-instance loss
    # (loss_scope "none" or "aggregate": "best" then refuses)
    final = red.final.value() if h.loss_scope == "instance" else None
    return LogSummary(
        path=path,
        header=h,
        steps=np.asarray(steps, dtype=np.int64),
        loss=loss,
        loss_source="loss records" if use_fine else "snapshots",
        w_max=st.w_max,
        norm_max=st.norm_max,
        b_lo=st.b_lo,
        b_hi=st.b_hi,
        gram_max=st.gram_max,
        final_loss=final,
        end=end,
    )


class _SnapshotStats:
    """Running extremes over snapshots, updated a chunk of snapshots at a time.

    Memory is flat in n_features: no WᵀW is formed for tied models, where the largest
    |WᵀW| entry is the largest squared column norm (|W_i·W_j| <= ‖W_i‖ ‖W_j‖, Cauchy-Schwarz,
    with equality on the diagonal); untied models with n_hidden >= 3 (the only view that
    draws W_decᵀW_enc) form it one instance at a time, in float32.
    """

    def __init__(self, k: int, n_hidden: int):
        self.w_max = np.zeros(k)
        self.norm_max = np.zeros(k)
        self.b_lo = np.full(k, np.inf)
        self.b_hi = np.full(k, -np.inf)
        self.gram_max = np.zeros(k)
        self.n_hidden = n_hidden

    def add(self, snaps: list, coarse: _LossReducer) -> None:
        W = np.stack([s.W for s in snaps])  # [c, k, m, n] float32
        b = np.stack([s.b for s in snaps])
        if snaps[0].loss is not None:  # loss_scope "none": no loss to reduce
            coarse.add(np.array([s.step for s in snaps]), np.stack([s.loss for s in snaps]))
        absmax = np.abs(W).max(axis=(0, 2, 3)).astype(np.float64)
        sq = np.einsum("tkhn,tkhn->tkn", W, W, dtype=np.float64)  # squared column norms [c, k, n]
        norms = np.sqrt(sq.max(axis=(0, 2)))
        gram = norms**2
        if snaps[0].W_dec is not None:
            Wd = np.stack([s.W_dec for s in snaps])
            absmax = np.maximum(absmax, np.abs(Wd).max(axis=(0, 2, 3)))
            norms_d = np.sqrt(np.einsum("tkhn,tkhn->tkn", Wd, Wd, dtype=np.float64).max(axis=(0, 2)))
            norms = np.maximum(norms, norms_d)
            gram = norms * norms_d  # a bound; exact below where the heatmap needs it
            if self.n_hidden >= 3:
                gram = np.zeros_like(gram)
                for t in range(W.shape[0]):
                    for i in range(W.shape[1]):
                        gram[i] = max(gram[i], float(np.abs(Wd[t, i].T @ W[t, i]).max()))
        self.w_max = np.maximum(self.w_max, absmax)
        self.norm_max = np.maximum(self.norm_max, norms)
        self.gram_max = np.maximum(self.gram_max, gram)
        self.b_lo = np.minimum(self.b_lo, b.min(axis=(0, 2)))
        self.b_hi = np.maximum(self.b_hi, b.max(axis=(0, 2)))


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


def plan_frames(
    steps: np.ndarray,
    *,
    fps: float | None = None,
    duration: float | None = None,
    frames: int | None = None,
    time: str | None = None,
    hold: float = 1.0,
) -> FramePlan:
    """Map video frames to snapshots.

    Default: one frame per snapshot at 30 fps. ``frames`` (or ``duration``, which
    includes the ``hold`` seconds at the end) resamples; ``time`` picks how:
    "linear" (uniform in training step), "log" (uniform in log(step), giving the
    early fast dynamics more frames), or None (uniform over snapshots). Frames
    between two snapshots interpolate W and b linearly.

    :param steps: (shape: [T]) snapshot steps, increasing
    """
    T = len(steps)
    if T == 0:
        raise AnimsupError("the log has no snapshots (nothing to render)")
    if time not in (None, "linear", "log", "snapshots"):
        raise AnimsupError(f"--time must be linear or log, got {time!r}")
    if time == "snapshots":
        time = None
    for name, v in (("fps", fps), ("duration", duration), ("frames", frames)):
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise AnimsupError(f"--{name} must be a positive number, got {v!r}")
    if hold is None or not math.isfinite(hold) or hold < 0:
        raise AnimsupError(f"--hold must be >= 0 seconds, got {hold!r}")
    if fps is not None and duration is not None and frames is not None:
        raise AnimsupError("give at most two of --fps, --duration and --frames")
    if frames is not None and int(frames) != frames:
        raise AnimsupError(f"--frames must be a whole number, got {frames!r}")
    if frames is not None and duration is not None:
        if duration <= hold:
            raise AnimsupError(f"--duration {duration:g}s leaves no time before the {hold:g}s final hold (see --hold)")
        fps = int(frames) / (duration - hold)
    fps = float(fps or 30.0)
    hold_frames = int(round(hold * fps))
    if frames is not None:
        n = int(frames)
    elif duration is not None:
        n = int(round(duration * fps)) - hold_frames
        if n < 1:
            raise AnimsupError(
                f"--duration {duration:g}s at {fps:g} fps leaves no frames before the {hold:g}s final hold (see --hold)"
            )
    else:
        n = T
    if n + hold_frames > 1_000_000:  # the final hold counts too (--hold 1e9 would encode forever)
        raise AnimsupError(f"{n + hold_frames:,} frames (with the final hold) is too many (limit 1,000,000)")

    steps_f = np.asarray(steps, dtype=np.float64)
    idx = np.arange(T, dtype=np.float64)
    if n == 1:
        pos = np.array([T - 1.0])
    elif time is None:
        pos = np.linspace(0, T - 1, n)
    elif time == "linear":
        pos = np.interp(np.linspace(steps_f[0], steps_f[-1], n), steps_f, idx)
    else:  # log: uniform in log(1 + step - first step)
        rel = steps_f - steps_f[0]
        u = np.expm1(np.linspace(0, np.log1p(rel[-1]), n))
        pos = np.interp(u, rel, idx)
    pos = np.clip(pos, 0, T - 1)
    pos[-1] = T - 1  # always end on the last snapshot
    snap_pos = np.round(pos)
    exact = np.abs(pos - snap_pos) < 1e-6
    pos = np.where(exact, snap_pos, pos)
    interpolated = not bool(exact.all())

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
    return FramePlan(pos, fps, hold_frames, time or "snapshots", "; ".join(parts), interpolated)


# --------------------------------------------------------------------------- pass 2


@dataclass
class Frame:
    """What one video frame shows (the selected instances, k of them).

    :param W: (shape: [k, n_hidden, n_features])
    :param b: (shape: [k, n_features])
    :param W_dec: (shape: [k, n_hidden, n_features]) or None (tied models)
    :param loss: (shape: [k]) snapshot loss (interpolated like W)
    """

    index: int
    step: float
    W: np.ndarray
    b: np.ndarray
    W_dec: np.ndarray | None
    loss: np.ndarray
    caption: str = ""


def iter_frames(path, instances: Sequence[int], positions: np.ndarray) -> Iterator[Frame]:
    """Pass 2: stream the log and yield a :class:`Frame` at each (non-decreasing) snapshot position."""
    positions = np.asarray(positions, dtype=np.float64)
    if len(positions) and np.any(np.diff(positions) < 0):
        raise ValueError("positions must be non-decreasing")
    j = 0
    prev = None
    inst = [int(i) for i in instances]
    srt = sorted(set(inst))
    perm = None if inst == srt else np.array([srt.index(i) for i in inst])  # the caller's order
    with open_log(path, srt) as reader:
        for t, snap in enumerate(reader.snapshots()):
            while j < len(positions) and positions[j] <= t:
                p = positions[j]
                if p == t or prev is None:
                    f = _frame(j, snap, None, 0.0)
                else:
                    f = _frame(j, prev, snap, p - (t - 1))
                if perm is not None:
                    f.W, f.b, f.loss = f.W[perm], f.b[perm], f.loss[perm]
                    f.W_dec = None if f.W_dec is None else f.W_dec[perm]
                yield f
                j += 1
            if j >= len(positions):
                return
            prev = snap
    if j < len(positions):
        raise AnimsupError(f"{path}: the log changed while rendering (fewer snapshots on the second read)")


def _frame(j, a, b, w: float) -> Frame:
    if b is None or w <= 0:
        return Frame(j, float(a.step), a.W, a.b, a.W_dec, a.loss)
    lerp = lambda x, y: (1 - w) * x + w * y  # noqa: E731
    return Frame(
        j,
        lerp(float(a.step), float(b.step)),
        lerp(a.W, b.W).astype(np.float32),
        lerp(a.b, b.b).astype(np.float32),
        None if a.W_dec is None else lerp(a.W_dec, b.W_dec).astype(np.float32),
        None if a.loss is None else lerp(a.loss, b.loss).astype(np.float32),
    )


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


# --------------------------------------------------------------------------- static scene


@dataclass
class Scene:
    """Everything fixed for the whole video (picklable: sent once to each draw worker).

    :param importance: (shape: [n_features])
    :param loss_step: (shape: [B]) x of the loss curve; loss_raw (bin means) and loss_smooth: [B, k]
    """

    title: str
    model: str
    n_features: int
    n_hidden: int
    instances: tuple
    instance_labels: list  # per instance: title candidates, longest first (the drawer uses the first that fits)
    importance: np.ndarray
    lim: float
    norm_max: float
    gram_max: float
    b_range: tuple
    loss_step: np.ndarray
    loss_raw: np.ndarray
    loss_smooth: np.ndarray
    loss_xlim: tuple
    loss_ylim: tuple
    smooth: int
    loss_source: str
    grid: bool = False
    panels: tuple = ()
    events: list = field(default_factory=list)  # (step, kind, text)
    loss_xscale: str = "linear"  # or "symlog" when the frames are spread evenly in log(step)
    theme: str = "light"
    size: tuple = (1280, 720)
    dpi: float = 100.0
    last_step: int = 0
    loss_note: str = ""  # "no loss recorded" / "one loss for all instances" (header loss_scope)
    importance_known: bool = True  # False when the log's provenance says importance was assumed
    panel_data: dict = field(default_factory=dict)  # animsup.rendering.panels.prepare_panels
    w_max: float = 1.0  # largest |W| entry of the shown instances over the log (fixed bar ranges)
    stages: list = field(default_factory=list)  # (first step, 1-S text) per stage of a staged run (animsup.rendering.stages)
    feature_sets: list = field(default_factory=list)  # (kind, feature indices) per set (animsup.rendering.feature_sets)


def _instance_titles(h: Header, i: int) -> tuple:
    """Title candidates of instance ``i``'s grid panel, longest first; every one starts with ``#i``."""
    pt = "1-S staged" if h.stages and len(h.stages) > 1 else h.probability_text(i)  # "1-S=0.1", "1-S unknown"
    p = pt.removeprefix("1-S=")
    imp = importance_label(h, i)
    if imp:
        pt, p = f"{pt} {imp}", f"{p} {imp}"
    seed = f"  seed {h.seed[i]}" if h.seed[i] is not None else ""
    return (f"#{i}  {pt}{seed}", f"#{i}  {pt}", f"#{i} {p}", f"#{i}")


def importance_label(h: Header, i: int) -> str:
    """What sets instance ``i``'s importance apart in a log whose importance differs between
    instances ("" when it does not): "r=0.316" when only the last ("extra") feature's relative
    importance differs (a phase grid), else the vector (:func:`animsup.analysis.ranking.describe_importance`)."""
    _, imp = ranking.per_instance(h)
    if len(imp) < 2 or np.allclose(imp, imp[:1]):
        return ""
    head = imp[:, :-1]
    if imp.shape[1] > 1 and np.allclose(head, head[:1]) and np.allclose(head, head[:, :1]) and head[i, 0] > 0:
        return f"r={imp[i, -1] / head[i, 0]:.3g}"
    return f"I={ranking.describe_importance(imp[i])}"


def _importance_title(h: Header, sel: list) -> str:
    """The title's importance: the shared vector, or "per instance" when the shown instances differ."""
    if h.assumed("importance"):
        return "importance unknown"
    _, imp = ranking.per_instance(h)
    rows = imp[sel]
    if len(rows) > 1 and not np.allclose(rows, rows[:1]):
        return "importance per instance" + (" (r in each title)" if importance_label(h, sel[0]).startswith("r=") else "")
    return f"importance {ranking.describe_importance(rows[0])}"


def build_scene(
    summary: LogSummary,
    instances: Sequence[int],
    *,
    grid: bool = False,
    smooth: int | None = None,
    panels: Sequence[str] = (),
    events: list | None = None,
    theme: str = "light",
    size: tuple = (1280, 720),
    dpi: float = 100.0,
    frame_steps: np.ndarray | None = None,
) -> Scene:
    """The fixed parts of every frame: axes ranges from the whole log, the loss curve, the title."""
    h = summary.header
    sel = list(instances)
    w_max = float(summary.w_max[sel].max())
    norm_max = float(summary.norm_max[sel].max())
    # square axes: the largest |W| coordinate (and norm, so rotating arrows stay inside) plus a margin
    lim = 1.12 * max(w_max, norm_max if h.n_hidden == 2 else w_max, 1e-3)
    b_lo, b_hi = float(summary.b_lo[sel].min()), float(summary.b_hi[sel].max())
    b_abs = max(abs(b_lo), abs(b_hi), 1e-3) * 1.1
    loss = summary.loss.select(sel if h.loss_scope == "instance" else [0])
    loss_note = {"none": "no loss recorded", "aggregate": "one loss for all instances"}.get(h.loss_scope, "")
    if not len(loss.step):  # nothing to draw: one invisible point keeps the panel's axes
        s_first = float(summary.steps[0])
        loss = LossBins(np.array([s_first]), np.full((1, 1), np.nan), np.full((1, 1), np.nan), np.full((1, 1), np.nan), np.zeros(1))
    n_pts = loss.n_points
    window = int(smooth) if smooth else max(1, n_pts // 50)
    if window < 1:
        raise AnimsupError(f"--smooth must be >= 1, got {smooth}")
    positive = loss.mean[np.nan_to_num(loss.mean) > 0]
    if positive.size:
        ylo, yhi = float(positive.min()), float(loss.mean.max())
    else:
        ylo, yhi = 1e-6, 1.0
    if not yhi > ylo:
        yhi = ylo * 10
    ylim = (ylo / 1.6, yhi * 1.6)
    s0, s1 = float(summary.steps[0]), float(summary.steps[-1])
    s0 = min(s0, float(loss.step[0]))
    s1 = max(s1, float(loss.step[-1]))
    xlim = (s0, s1 if s1 > s0 else s0 + 1)
    # a log step axis when most frames show early steps (log-spaced snapshots or --time log),
    # so the cursor moves evenly instead of sitting at the left edge for half the video
    xscale = "linear"
    if frame_steps is not None and len(frame_steps) > 2:
        mid = float(np.median(frame_steps)) - s0
        if mid < 0.1 * (xlim[1] - s0) and xlim[1] - s0 > 100:
            xscale = "symlog"
    # a little room right of the last step, so the cursor's dot is not cut in half there
    span = xlim[1] - s0
    xlim = (s0, xlim[1] * 1.08 if xscale == "symlog" else xlim[1] + 0.015 * span)
    sm = loss.smoothed(window, log_x=xscale == "symlog")

    model_txt = models.title_formula(h.model, h.model_formula)
    parts = [f"{h.model_label or h.model} {model_txt}", f"n_features={h.n_features}", f"n_hidden={h.n_hidden}"]
    if grid:
        fps = sorted(set(float(p) for p in h.feature_probability[list(sel)].ravel()))
        parts.append("1-S unknown" if h.assumed("feature_probability")
                     else "1-S=" + (f"{fps[0]:.3g}" if len(fps) == 1 else f"{fps[0]:.3g}..{fps[-1]:.3g}"))
    else:
        parts.append(h.probability_text(sel[0]))
    stage_list = stages_mod.schedule(h, sel)
    if stage_list:  # a staged run: the header's own 1-S is stage 0's
        parts[-1] = stages_mod.title(stage_list)
    parts.append(_importance_title(h, sel))
    if grid:
        parts.append(f"{len(sel)} instances")
    else:
        seed = h.seed[sel[0]]
        parts.append(f"instance {sel[0]}" + (f" (seed {seed})" if seed is not None else ""))
    return Scene(
        title="  ·  ".join(parts),
        model=h.model,
        n_features=h.n_features,
        n_hidden=h.n_hidden,
        instances=tuple(sel),
        instance_labels=[_instance_titles(h, i) for i in sel],
        importance=np.asarray(h.importance[sel[0]], dtype=np.float64),
        lim=lim,
        norm_max=max(norm_max, 1e-3) * 1.05,
        gram_max=max(float(summary.gram_max[sel].max()), 1e-3),
        b_range=(-b_abs, b_abs),
        loss_step=loss.step,
        loss_raw=loss.mean,
        loss_smooth=sm,
        loss_xlim=xlim,
        loss_xscale=xscale,
        loss_ylim=ylim,
        smooth=window,
        loss_source=summary.loss_source,
        grid=grid,
        panels=tuple(panels),
        events=list(events or []),
        theme=theme,
        size=tuple(size),
        dpi=float(dpi),
        last_step=int(summary.steps[-1]),
        loss_note=loss_note,
        importance_known=not h.assumed("importance"),
        w_max=max(w_max, 1e-3),
        stages=stage_list,
        feature_sets=_feature_sets(summary),
    )


def _feature_sets(summary: LogSummary) -> list:
    """The header's correlated/anticorrelated sets (:func:`animsup.rendering.feature_sets.sets_of`); a
    malformed one is a LogFormatError naming the log."""
    from animsup.rendering.feature_sets import sets_of

    try:
        return sets_of(summary.header.data, summary.header.n_features)
    except AnimsupError as e:
        raise LogFormatError(summary.path, 1, str(e)) from None


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
    config: object
    summary: LogSummary
    instances: tuple
    timing: FramePlan
    frame_steps: np.ndarray
    scene: Scene
    captions: list
    events: list
    poster_position: float | None = None
    poster_step: int | None = None
    notes: tuple = ()  # what the frames show that the log did not observe, defaults chosen

    @property
    def n_frames(self) -> int:
        """Animated frames (the final hold repeats the last one ``timing.hold`` times)."""
        return self.timing.n_frames

    def frames(self, indices: Sequence[int] | None = None) -> Iterator[Frame]:
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


def build_plan(log, config, *, video: bool = True, poster: bool = False, summary: LogSummary | None = None) -> RenderPlan:
    """Read the log once (pass 1, :func:`scan_log`) and plan a render of it with ``config``.

    ``video``: plan animated frames (else the plan has one frame, the poster's); ``poster``:
    plan a PNG poster at ``config.at`` (default: the last snapshot). Raises AnimsupError (bad
    options for this log: a missing instance, ``at`` outside the steps) or LogFormatError.
    ``summary``: the log's :func:`scan_log` result when the caller already has it (not read again).
    """
    c = config
    if c.at is not None and not poster:
        raise AnimsupError("--at sets the step of a PNG poster; add an --out FILE.png")
    log = str(log)
    if summary is None:
        summary = scan_log(log)
    instances = choose_instances(summary, c.instance, c.grid)
    notes, duration, time = _short_history_defaults(summary.steps, video, duration=c.duration, frames=c.frames,
                                                    time=c.time)
    timing = plan_frames(summary.steps, fps=c.fps, duration=duration, frames=c.frames, time=time, hold=c.hold)
    if video:
        notes += _gap_notes(summary.steps, timing)
    else:
        timing = FramePlan(np.array([float(len(summary.steps) - 1)]), timing.fps, 0, timing.time, "poster only")
    frame_steps = np.interp(timing.position, np.arange(len(summary.steps)), summary.steps.astype(np.float64))
    events = find_events(log, summary, instances[0]) if c.annotate else []
    captions = event_captions(events, frame_steps, timing.fps) if events and video else []
    from animsup.rendering.panels import default_panels

    panels = default_panels(summary.header, c.panels)  # a neuron model's bars, a feature-set key
    scene = build_scene(summary, instances, grid=c.grid, smooth=c.smooth, panels=panels, events=events,
                        theme=c.theme, size=c.size, dpi=c.dpi, frame_steps=frame_steps)
    if panels:
        from animsup.rendering.panels import prepare_panels

        scene.panel_data = prepare_panels(panels, log, instances)
    pos, step = frame_at_step(summary.steps, c.at) if poster else (None, None)
    return RenderPlan(log, c, summary, instances, timing, frame_steps, scene, captions, events, pos, step, tuple(notes))


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
