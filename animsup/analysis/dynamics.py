"""Feature dimensionality over training: the paper's "energy levels". numpy only.

D_i and D* come from :mod:`animsup.analysis.geometry` (one definition each); this module turns a D_i
time series into *levels* and *level events*:

    D = geometry.dimensionality(run.W[:, k])              # [T, n_features]
    for e in level_events(run.steps, D): print(e.step, e.text)
    # 4200 feature 12: dimensionality 1 → 1/2 (antipodal pair)

"Toy Models of Superposition" (Elhage et al. 2022, section "Feature dimensionality") finds D_i
sticking to a few fractions — 1 (a dedicated dimension), 3/4 (tetrahedron), 2/3 (triangle),
1/2 (antipodal pair), 2/5 (pentagon), 3/8 (square antiprism) and 0 (not learned) — and, during
training (section "Superposition and Learning Dynamics"), features jumping between them and
swapping places with sudden drops in the loss. 0 is a level (:data:`LEVELS`). Noise must not make a level flicker, so
levels are tracked with hysteresis (a Schmitt trigger plus a dwell time):

- a move to level b starts at a snapshot with |D_i − b| ≤ ``enter`` (the nearest level wins)
  that lies more than ``exit`` from the feature's current level a;
- it is kept after ``min_persist`` consecutive snapshots within ``exit`` of b and more than
  ``exit`` from a; leaving b's ``exit`` band or coming back near a cancels it;
- the first level a feature reaches is reported as an arrival (``level_from`` None).

So D_i wobbling around a level by less than ``exit`` never produces an event, and neither
does a single snapshot near another level. Levels closer together than ``exit`` (2/5 and 3/8
are 0.025 apart; the default ``exit`` is 0.04) are not told apart once a feature sits at one
of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np


# the six fractions the paper names, with their polytopes (Elhage et al. 2022, "Feature dimensionality")
NAMED_LEVELS = {1.0: "dedicated", 3 / 4: "tetrahedron", 2 / 3: "triangle", 1 / 2: "antipodal pair",
                2 / 5: "pentagon", 3 / 8: "square antiprism"}
# the levels a feature is tracked between: the named fractions and 0 (not learned) — in the paper's
# dynamics example every feature ends as a digon, so its levels are 0 and 1/2 and the jumps are 0 ↔ 1/2
# (section "Superposition and Learning Dynamics")
NOT_LEARNED = 0.0
LEVELS = (*NAMED_LEVELS, NOT_LEARNED)
LEVEL_NAMES = {**NAMED_LEVELS, NOT_LEARNED: "not learned"}
PURPLE, BLUE = "#8e44ad", "#2e86c1"
# the reference lines of the notebook's feature-geometry plot (toy_models.ipynb), with its colours
REFERENCE_FRACTIONS = tuple([(v, PURPLE) for v in (1 / 2, 2 / 3, 2 / 5, 2 / 6, 2 / 7)]
                            + [(v, BLUE) for v in (5 / 6, 4 / 5, 3 / 4, 3 / 8, 3 / 12, 3 / 20)])
KIND = "dim_level"


def fraction_text(v: float) -> str:
    """0.5 → "1/2", 1.0 → "1" (the nearest fraction with denominator ≤ 20)."""
    f = Fraction(float(v)).limit_denominator(20)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


@dataclass(frozen=True)
class LevelEvent:
    """Feature ``features[0]`` moved from ``level_from`` (None: no level before) to ``level_to``.

    ``step``: the first snapshot of the new level; ``since``: the last snapshot still at the old
    level (the move happened in between). ``loss_drop_step``: a loss drop in that interval
    (set by :func:`align_with_loss_drops`)."""

    step: int
    since: int | None
    text: str
    features: tuple
    level_from: float | None
    level_to: float
    kind: str = KIND
    loss_drop_step: int | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(self.features)
        return d


def level_states(D, levels=LEVELS, *, enter: float = 0.02, exit: float = 0.04,
                 min_persist: int = 3) -> tuple[np.ndarray, list]:
    """The level each feature is at over time, with hysteresis (see the module docstring).

    :param D: (shape: [T, n_features]) feature dimensionality at each snapshot
    :param levels: the level values
    :return: state (shape: [T, n_features]) index into ``levels`` (−1: no level yet), and the
        moves as (first snapshot index of the new level, last snapshot index of the old one or
        None, feature, old level index or −1, new level index)
    :raises ValueError: D not 2-D, or ``exit < enter``
    """
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2:
        raise ValueError(f"D must be [T, n_features], got shape {D.shape}")
    if exit < enter or enter <= 0:
        raise ValueError(f"need 0 < enter <= exit, got enter={enter}, exit={exit}")
    L = np.asarray(levels, dtype=np.float64)
    T, n = D.shape
    dist = np.abs(D[:, :, None] - L[None, None, :])          # [T, n, levels]
    cand = np.where(dist.min(axis=2) <= enter, dist.argmin(axis=2), -1)
    state = np.full(n, -1)
    last_in = np.full(n, -1)     # last snapshot inside the current level's band
    run_level, run_start, run_len = np.full(n, -1), np.zeros(n, int), np.zeros(n, int)
    out = np.empty((T, n), dtype=int)
    moves = []
    for t in range(T):
        c = cand[t]
        home = c == state
        last_in[home & (state >= 0)] = t
        far = (state < 0) | (np.abs(D[t] - L[np.maximum(state, 0)]) > exit)
        # a started move goes on while D stays within ``exit`` of its level (and far from the old one)
        same = far & (run_level >= 0) & (np.abs(D[t] - L[np.maximum(run_level, 0)]) <= exit)
        start = ~same & far & (c >= 0) & ~home
        run_len = np.where(same, run_len + 1, np.where(start, 1, 0))
        run_start = np.where(start, t, run_start)
        run_level = np.where(same, run_level, np.where(start, c, -1))
        for f in np.flatnonzero(run_len >= min_persist):
            s, new = int(run_start[f]), int(run_level[f])
            moves.append((s, int(last_in[f]) if state[f] >= 0 else None, int(f), int(state[f]), new))
            out[s:t, f] = new
            state[f], last_in[f], run_len[f], run_level[f] = new, t, 0, -1
        out[t] = state
    moves.sort(key=lambda mv: (mv[0], mv[2]))
    return out, moves


def level_events(steps, D, levels=LEVELS, **kw) -> list[LevelEvent]:
    """Level moves of every feature as events, sorted by step (keywords: :func:`level_states`). A feature
    whose first level is 0 (not learned) is where training starts it: that arrival is no event, but
    its later move 0 → 1/2 is, and so is a fall back 1/2 → 0.

    :param steps: (shape: [T]) snapshot steps
    :param D: (shape: [T, n_features]) D_i at each snapshot (``geometry.dimensionality(W)``)
    """
    steps = np.asarray(steps, dtype=np.int64)
    D = np.asarray(D, dtype=np.float64)
    if len(D) != len(steps):
        raise ValueError(f"D has {len(D)} snapshots, steps {len(steps)}")
    if not len(steps):
        return []
    levels = tuple(float(v) for v in levels)
    _, moves = level_states(D, levels, **kw)
    events = []
    for t, before, f, a, b in moves:
        to = levels[b]
        if a < 0 and to == NOT_LEARNED:
            continue
        name = LEVEL_NAMES.get(to)
        tail = f" ({name})" if name else ""
        if a < 0:
            text = f"feature {f}: dimensionality settles at {fraction_text(to)}{tail}"
        else:
            text = f"feature {f}: dimensionality {fraction_text(levels[a])} → {fraction_text(to)}{tail}"
        events.append(LevelEvent(int(steps[t]), None if before is None else int(steps[before]), text, (f,),
                                 None if a < 0 else levels[a], to))
    return events


def align_with_loss_drops(level_events_, drops, steps) -> list[LevelEvent]:
    """Each level event with ``loss_drop_step`` set to a loss drop inside its move, widened by one
    snapshot on each side (snapshots are the time resolution of a move).

    :param drops: loss-drop events (anything with ``.step``), e.g. from :func:`animsup.analysis.events.loss_drops`
    :param steps: (shape: [T]) the snapshot steps the level events were found on
    """
    steps = np.asarray(steps, dtype=np.int64)
    drop_steps = np.array(sorted(d.step for d in drops), dtype=np.int64)
    out = []
    for e in level_events_:
        t = int(np.searchsorted(steps, e.step))
        t0 = int(np.searchsorted(steps, e.since if e.since is not None else e.step))
        lo, hi = steps[max(t0 - 1, 0)], steps[min(t + 1, len(steps) - 1)]
        inside = drop_steps[(drop_steps >= lo) & (drop_steps <= hi)]
        hit = int(inside[np.argmin(np.abs(inside - e.step))]) if len(inside) else None
        out.append(LevelEvent(e.step, e.since, e.text, e.features, e.level_from, e.level_to, e.kind, hit))
    return out


def loss_drops_log_time(loss_steps, loss_curve, *, bins: int = 1000, **kw) -> list:
    """:func:`animsup.analysis.events.loss_drops` on a log-step axis, for log-spaced runs whose early
    drops would be squeezed into the first percent of a linear axis. ``window`` is then a
    fraction of the run's log-length. The loss is averaged in ``bins`` log-spaced bins first;
    steps < 1 are skipped.

    :return: loss-drop events (kind "loss_drop") at real steps
    """
    from animsup.analysis.events import Event, loss_drops

    s = np.asarray(loss_steps, dtype=np.float64)
    y = np.asarray(loss_curve, dtype=np.float64)
    ok = (s >= 1) & np.isfinite(y)
    s, y = s[ok], y[ok]
    if len(s) < 20 or s[-1] <= s[0]:
        return []
    # mean loss in log-spaced bins: loss_drops smooths over neighbouring samples, which on a
    # log axis must be neighbours in log-step, not in step
    edges = np.geomspace(s[0], s[-1] * (1 + 1e-9), bins + 1)
    which = np.searchsorted(edges, s, side="right") - 1
    count = np.bincount(which, minlength=bins)[:bins]
    total = np.bincount(which, weights=y, minlength=bins)[:bins]
    full = count > 0
    centres = np.sqrt(edges[:-1] * edges[1:])[full]
    scale = 1e6  # loss_drops rounds its steps to integers: keep log10 to 6 digits
    found = loss_drops(np.log10(centres) * scale, total[full] / count[full], **kw)
    return [Event(int(round(10 ** (e.step / scale))), e.kind, f"loss drops {100 * (e.value or 0.0):.0f}% (on a log-step axis)",
                  value=e.value) for e in found]


def fall_backs(steps, D, *, high: float = 0.3, low: float = 0.05) -> list[dict]:
    """Features that rose and then fell back to 0 (not learned) while others took their place (the
    paper's "swap places", section "Superposition and Learning Dynamics"): D_i reached ``high`` and
    its last snapshot is below ``low``.

    :param steps: (shape: [T]); D: (shape: [T, n_features])
    :return: per such feature: feature, peak (its largest D_i), peak_step, fell_step (the first snapshot
        after the peak below ``low``)
    """
    steps = np.asarray(steps, dtype=np.int64)
    D = np.asarray(D, dtype=np.float64)
    out = []
    for f in np.flatnonzero((D.max(axis=0) >= high) & (D[-1] < low)):
        t = int(np.argmax(D[:, f]))
        fell = t + int(np.argmax(D[t:, f] < low))
        out.append({"feature": int(f), "peak": round(float(D[t, f]), 4), "peak_step": int(steps[t]),
                    "fell_step": int(steps[fell])})
    return out
