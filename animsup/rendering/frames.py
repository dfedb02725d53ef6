"""Log -> per-frame arrays: fixed axes, the loss curve, the frames themselves.

Two streaming passes over the log keep memory flat in its length:

1. :func:`scan_log` reads every snapshot and loss record once and keeps only
   what the whole video needs: the snapshot steps, per-instance extremes (for
   fixed axes), and the loss curve reduced to at most ``2 * max_bins`` bins
   (mean, min and max per bin; finer than a pixel at 1280 px).
2. :func:`iter_frames` reads the log again and yields one :class:`Frame` per video
   frame, interpolating W and b linearly between the two snapshots around the
   frame's time.

Which frames to show (the time mapping) and the rest of a render's decisions are
:mod:`animsup.rendering.plan`'s; :func:`build_scene` here gathers what every frame shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

from animsup import models
from animsup.escape import plain_text
from animsup.analysis import large, ranking
from animsup.analysis.ranking import FinalLoss
from animsup.errors import AnimsupError, LogFormatError, plural
from animsup.log.reader import open_log
from animsup.log.schema import Header
from animsup.rendering import stages as stages_mod

if TYPE_CHECKING:
    from animsup.rendering.sae import SaeOverlay

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
    :param gram_max: (shape: [n_instances]) largest |WᵀW| entry over the log (untied models above
        :data:`animsup.analysis.large.SUMMARY_ABOVE` features: the bound max ‖W_dec,i‖ · max ‖W_j‖)
    :param end: the log's end record; None for an unfinished log (still running, or killed)
    :param truncated: the log's last line was cut off (ignored by the reader)
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
    curves: dict = field(default_factory=dict)  # extra recorded curves: name -> (steps [C], values [C, k] or [C, 1])
    truncated: bool = False  # the log's last line was cut off (a killed writer): ignored

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
        curves = reader.curves  # (log v2 "curve" records: rec.snapshot(..., test_loss=...)), small
        truncated = reader.truncated
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
        curves=curves,
        truncated=truncated,
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
            # exact for the heatmap; above SUMMARY_ABOVE features the bound (an n×n product per snapshot: 800 MB
            # and n²·m work at n = 10,240; the summary view has no heatmap, --view full gets a wider colour range)
            if self.n_hidden >= 3 and W.shape[-1] <= large.SUMMARY_ABOVE:
                gram = np.zeros_like(gram)
                for t in range(W.shape[0]):
                    for i in range(W.shape[1]):
                        gram[i] = max(gram[i], float(np.abs(Wd[t, i].T @ W[t, i]).max()))
        self.w_max = np.maximum(self.w_max, absmax)
        self.norm_max = np.maximum(self.norm_max, norms)
        self.gram_max = np.maximum(self.gram_max, gram)
        self.b_lo = np.minimum(self.b_lo, b.min(axis=(0, 2)))
        self.b_hi = np.maximum(self.b_hi, b.max(axis=(0, 2)))


# --------------------------------------------------------------------------- pass 2


@dataclass
class Frame:
    """What one video frame shows (the selected instances, k of them).

    :param W: (shape: [k, n_hidden, n_features])
    :param b: (shape: [k, n_features])
    :param W_dec: (shape: [k, n_hidden, n_features]) or None (tied models)
    :param loss: (shape: [k]) snapshot loss (interpolated like W); None when the log records no loss
    """

    index: int
    step: float
    W: np.ndarray
    b: np.ndarray
    W_dec: np.ndarray | None
    loss: np.ndarray | None
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
                    f.W, f.b = f.W[perm], f.b[perm]
                    f.loss = None if f.loss is None else f.loss[perm]
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
    curves: list = field(default_factory=list)  # extra recorded curves: (name, steps [C], values [C, k] or [C, 1])
    sae: SaeOverlay | None = None  # the SAE decoder directions drawn over W (animsup.rendering.sae.SaeOverlay), or None
    datapoints: dict = field(default_factory=dict)  # instance -> training examples drawn (animsup.rendering.datapoints)
    # the summary view of a large model (animsup.rendering.draw.summary): on, and each shown instance's features
    # by frequency rank (animsup.analysis.large.frequency_order)
    summary: bool = False
    summary_order: list = field(default_factory=list)
    summary_xlabels: list = field(default_factory=list)  # the x label of each one's norm curve (large.order_label)

    @property
    def loss_label(self) -> str:
        """What the loss readout shows, in words — the one label of the video's readout and the
        viewer's (:meth:`readout_loss` is the number): "loss (moving average of 50 logged losses)"."""
        what = "logged losses" if self.loss_source == "loss records" else "snapshot losses"
        label = f"loss (moving average of {self.smooth} {what})" if self.smooth > 1 else "loss (as logged)"
        return label + ("; one loss for all instances" if self.loss_note == "one loss for all instances" else "")

    @property
    def readout_name(self) -> str:
        """The readout's short name of the same quantity: "avg loss" or "loss"."""
        return "avg loss" if self.smooth > 1 else "loss"

    def readout_loss(self, steps) -> np.ndarray:
        """The loss the readout shows at each training step (shape: [N] steps → [N, k]): the bold
        curve (the moving average of :attr:`smooth` logged losses, :attr:`loss_label`), linearly
        interpolated between its bins; NaN without a loss."""
        x = np.atleast_1d(np.asarray(steps, dtype=np.float64))
        return np.stack([np.interp(x, self.loss_step, self.loss_smooth[:, k])
                         for k in range(self.loss_smooth.shape[1])], axis=1)


def _grid_titles(h: Header, sel: list[int]) -> list[tuple]:
    """Title candidates of each shown instance's grid panel (:func:`_instance_titles`): the seed
    stays in every candidate of a panel when another shown panel has the same 1-S and importance
    but another seed (the seed is then what tells them apart)."""
    def setting(i: int) -> str:
        return _instance_titles(h, i, False)[1].split("  ", 1)[-1]

    by_setting: dict[str, set[str]] = {}
    for i in sel:
        by_setting.setdefault(setting(i), set()).add(repr(h.seed[i]))
    return [_instance_titles(h, i, len(by_setting[setting(i)]) > 1) for i in sel]


def _instance_titles(h: Header, i: int, keep_seed: bool = False) -> tuple:
    """Title candidates of instance ``i``'s grid panel, longest first; every one starts with ``#i``
    (and names the seed when ``keep_seed``: the drawer shrinks the last one's font to fit)."""
    pt = "1-S staged" if h.stages and len(h.stages) > 1 else h.probability_text(i)  # "1-S=0.1", "1-S unknown"
    p = pt.removeprefix("1-S=")
    imp = importance_label(h, i)
    if imp:
        pt, p = f"{pt} {imp}", f"{p} {imp}"
    sizes = ranking.train_set_sizes(h)  # a finite-data run: the training-set size tells its panels apart
    if sizes is not None and len(set(sizes)) > 1:
        pt, p = f"{pt} T={sizes[i]:,}", f"{p} T={sizes[i]:,}"
    setting = plain_text(h.settings_text(i))  # what else tells the instances apart: "γ=-1" (Header.settings)
    if setting:
        pt, p = f"{pt} {setting}", f"{p} {setting}"
    seed = f"  seed {plain_text(h.seed[i])}" if h.seed[i] is not None else ""
    if keep_seed and seed:
        return (f"#{i}  {pt}{seed}", f"#{i}  {p}{seed}", f"#{i} {p} {seed.strip()}")
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
    events: list[tuple[int, str, str]] | None = None,
    theme: str = "light",
    size: tuple[int, int] = (1280, 720),
    dpi: float = 100.0,
    frame_steps: np.ndarray | None = None,
) -> Scene:
    """The fixed parts of every frame: axes ranges from the whole log, the loss curve, the title
    (options as validated by :class:`animsup.rendering.config.RenderConfig`)."""
    h = summary.header
    sel = list(instances)
    axes = _Axes.of(summary, sel)
    curve = _loss_curve(summary, sel, smooth, frame_steps)
    title, stage_list = _title(h, sel, grid)
    return Scene(
        title=title,
        model=h.model,
        n_features=h.n_features,
        n_hidden=h.n_hidden,
        instances=tuple(sel),
        instance_labels=_grid_titles(h, sel),
        importance=np.asarray(h.importance[sel[0]], dtype=np.float64),
        lim=axes.lim,
        norm_max=max(axes.norm_max, 1e-3) * 1.05,
        gram_max=max(float(summary.gram_max[sel].max()), 1e-3),
        b_range=(-axes.b_abs, axes.b_abs),
        loss_step=curve.bins.step,
        loss_raw=curve.bins.mean,
        loss_smooth=curve.smooth,
        loss_xlim=curve.xlim,
        loss_xscale=curve.xscale,
        loss_ylim=curve.ylim,
        smooth=curve.window,
        loss_source=summary.loss_source,
        grid=grid,
        panels=tuple(panels),
        events=list(events or []),
        theme=theme,
        size=tuple(size),
        dpi=float(dpi),
        last_step=int(summary.steps[-1]),
        loss_note=curve.note,
        importance_known=not h.assumed("importance"),
        w_max=max(axes.w_max, 1e-3),
        stages=stage_list,
        feature_sets=_feature_sets(summary),
        curves=shown_curves(summary, sel),
    )


def shown_curves(summary: LogSummary, sel: list[int]) -> list:
    """The extra recorded curves of the shown instances: (name, steps [C], values [C, k] or [C, 1])
    per curve, by name (one value per step for all instances stays one column)."""
    k = summary.header.n_instances
    out = []
    for name in sorted(summary.curves):
        steps, values = summary.curves[name]
        values = np.asarray(values, dtype=np.float64)
        if values.shape[1] == k and k > 1:
            values = values[:, sel]
        out.append((plain_text(name), np.asarray(steps, dtype=np.float64), values))
    return out


@dataclass
class _Axes:
    """The fixed ranges of the shown instances over the whole log."""

    w_max: float  # largest |W| entry
    norm_max: float  # largest feature norm
    lim: float  # the square plane axes' half width
    b_abs: float  # the bias bars' half range

    @classmethod
    def of(cls, summary: LogSummary, sel: list[int]) -> "_Axes":
        w_max = float(summary.w_max[sel].max())
        norm_max = float(summary.norm_max[sel].max())
        # square axes: the largest |W| coordinate (and norm, so rotating arrows stay inside) plus a margin
        lim = 1.12 * max(w_max, norm_max if summary.header.n_hidden == 2 else w_max, 1e-3)
        b_lo, b_hi = float(summary.b_lo[sel].min()), float(summary.b_hi[sel].max())
        return cls(w_max, norm_max, lim, max(abs(b_lo), abs(b_hi), 1e-3) * 1.1)


@dataclass
class _LossCurve:
    """The loss panel: its bins, moving average (shape: [B, k]), window, axes and note."""

    bins: LossBins
    smooth: np.ndarray
    window: int
    xlim: tuple[float, float]
    xscale: str
    ylim: tuple[float, float]
    note: str


def _loss_curve(summary: LogSummary, sel: list[int], smooth: int | None, frame_steps: np.ndarray | None) -> _LossCurve:
    """The loss curve of the shown instances (one column for an aggregate loss), its moving
    average (default window: 1/50 of the logged points) and axes."""
    h = summary.header
    loss = summary.loss.select(sel if h.loss_scope == "instance" else [0])
    note = {"none": "no loss recorded", "aggregate": "one loss for all instances"}.get(h.loss_scope, "")
    if not len(loss.step):  # nothing to draw: one invisible point keeps the panel's axes
        s_first = float(summary.steps[0])
        loss = LossBins(np.array([s_first]), np.full((1, 1), np.nan), np.full((1, 1), np.nan), np.full((1, 1), np.nan), np.zeros(1))
    window = int(smooth) if smooth else max(1, loss.n_points // 50)
    xlim, xscale = _loss_xaxis(summary.steps, loss, frame_steps)
    return _LossCurve(loss, loss.smoothed(window, log_x=xscale == "symlog"), window, xlim, xscale, _loss_ylim(loss), note)


def _loss_ylim(loss: LossBins) -> tuple[float, float]:
    """The log loss axis: the smallest positive and the largest bin mean, with margins."""
    positive = loss.mean[np.nan_to_num(loss.mean) > 0]
    if positive.size:
        ylo, yhi = float(positive.min()), float(loss.mean.max())
    else:
        ylo, yhi = 1e-6, 1.0
    if not yhi > ylo:
        yhi = ylo * 10
    return (ylo / 1.6, yhi * 1.6)


def _loss_xaxis(steps: np.ndarray, loss: LossBins, frame_steps: np.ndarray | None) -> tuple[tuple[float, float], str]:
    """The step axis (limits, "linear" or "symlog") over the snapshots and the loss bins."""
    s0, s1 = float(steps[0]), float(steps[-1])
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
    return step_axis_limits(s0, xlim[1], xscale), xscale


def step_axis_limits(first: float, last: float, xscale: str) -> tuple[float, float]:
    """The loss panel's step axis limits from its ``first`` to its ``last`` step (the last
    snapshot or loss record): a little room right of the last step, so the cursor's dot is not cut
    in half there (1.5% of the span on a linear axis, 8% of the step on a "symlog" one)."""
    return (first, last * 1.08 if xscale == "symlog" else last + 0.015 * (last - first))


def _title(h: Header, sel: list[int], grid: bool) -> tuple[str, list[tuple[int, str]]]:
    """The frame's title ("model formula · n_features · n_hidden · 1-S · importance · instance")
    and a staged run's stages (:func:`animsup.rendering.stages.schedule`)."""
    parts = [plain_text(models.title(h.model, h.model_label, h.model_formula)), f"n_features={h.n_features}", f"n_hidden={h.n_hidden}"]
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
        parts.append(plural(len(sel), "instance"))
    else:
        seed = h.seed[sel[0]]
        about = [plain_text(h.settings_text(sel[0]))] + ([f"seed {plain_text(seed)}"] if seed is not None else [])
        about = [a for a in about if a]
        parts.append(f"instance {sel[0]}" + (f" ({', '.join(about)})" if about else ""))
    return "  ·  ".join(parts), stage_list


def _feature_sets(summary: LogSummary) -> list:
    """The header's correlated/anticorrelated sets (:func:`animsup.rendering.feature_sets.sets_of`); a
    malformed one is a LogFormatError naming the log."""
    from animsup.rendering.feature_sets import sets_of

    try:
        return sets_of(summary.header.data, summary.header.n_features)
    except AnimsupError as e:
        raise LogFormatError(summary.path, 1, str(e)) from None
