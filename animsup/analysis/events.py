"""Training events in one instance's history: features joining or dropping out, the shape
changing, and plateaus that end in a sudden loss drop. numpy only.

    events = find_events(run.steps, run.W[:, i], run.loss_steps, run.loss_curve[:, i])
    for e in events: print(e.step, e.text)      # 1900 feature 4 joins — square → pentagon

Noise must not make events flicker:

- joins/drops use hysteresis: a feature joins when its norm rises above ``threshold`` (where
  the geometry starts counting it) and drops only when it falls below ``threshold × (1 −
  hysteresis)``, so a norm hovering around the threshold joins once and does not flicker;
- a shape (animsup.analysis.geometry, on the hysteresis-stable represented set) must last
  ``min_persist`` snapshots (or to the end of the run) to count; a shape change is folded into
  the text of the join or drop that made it (the one nearest the new shape's first snapshot);
- a loss drop needs a plateau before it: on the smoothed log-loss curve, a fall of at least
  ``min_drop`` (relative) within ``drop_window`` of the run, after a stretch at least
  ``plateau_ratio`` times as long in which the loss moved less than a third of the drop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from animsup.analysis import geometry

KINDS = ("join", "drop", "shape", "loss_drop")


@dataclass(frozen=True)
class Event:
    """One event. ``features``: the features involved; ``shape_from``/``shape_to`` are set when
    the shape changed; ``value`` is the relative loss drop for ``loss_drop`` events."""

    step: int
    kind: str
    text: str
    features: tuple = ()
    shape_from: str | None = None
    shape_to: str | None = None
    value: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(self.features)
        return d


def find_events(
    steps,
    W,
    loss_steps,
    loss_curve,
    *,
    threshold: float = 0.5,
    hysteresis: float = 0.2,
    min_persist: int = 3,
    min_drop: float = 0.1,
    drop_window: float = 0.02,
    plateau_ratio: float = 4.0,
) -> list[Event]:
    """Events of one instance, sorted by step.

    :param steps: (shape: [T]) snapshot steps
    :param W: (shape: [T, n_hidden, n_features]) the weights at each snapshot
    :param loss_steps: (shape: [L]) steps of the fine loss curve
    :param loss_curve: (shape: [L]) its values
    """
    steps = np.asarray(steps, dtype=np.int64)
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 3 or len(W) != len(steps):
        raise ValueError(f"W must be [T, n_hidden, n_features] with T = len(steps), got {W.shape} and {len(steps)}")
    events: list[Event] = []
    if len(steps):
        states = represented_with_hysteresis(geometry.feature_norms(W), threshold, hysteresis)
        membership = _membership_events(steps, states)
        shapes = _shape_changes(steps, W, states, threshold, min_persist)
        events += _merge(steps, membership, shapes)
    events += loss_drops(loss_steps, loss_curve, min_drop=min_drop, window=drop_window, plateau_ratio=plateau_ratio)
    return sorted(events, key=lambda e: (e.step, KINDS.index(e.kind)))


def represented_with_hysteresis(norms, threshold: float = 0.5, hysteresis: float = 0.2) -> np.ndarray:
    """Represented mask over time, switching on above threshold and off below threshold·(1−h).

    :param norms: (shape: [T, n_features]) → (shape: [T, n_features]) bool
    """
    norms = np.asarray(norms)
    on, off = threshold, threshold * (1 - hysteresis)
    state = norms[0] > threshold
    out = np.empty(norms.shape, dtype=bool)
    for t in range(len(norms)):
        state = np.where(state, norms[t] >= off, norms[t] > on)
        out[t] = state
    return out


def _membership_events(steps, states) -> list[tuple[int, int, str, int]]:
    """(snapshot index of the switch, its step, kind, feature)."""
    found = []
    for t, f in zip(*np.nonzero(states[1:] != states[:-1])):
        t += 1
        found.append((int(t), int(steps[t]), "join" if states[t, f] else "drop", int(f)))
    return found


# (first index after the old shape, first index of the new one, old shape, new shape, old
# vertices, new vertices)
ShapeChange = tuple[int, int, str | None, str | None, set[int], set[int]]


def _shape_changes(steps: np.ndarray, W: np.ndarray, states: np.ndarray, threshold: float,
                   min_persist: int) -> list[ShapeChange]:
    """The shape changes between shapes that last ``min_persist`` snapshots.

    :param W: (shape: [T, n_hidden, n_features]); :param states: (shape: [T, n_features]) represented
    """
    geos = [geometry.describe(W[t], threshold, mask=states[t]) for t in range(len(steps))]
    names = [g.shape for g in geos]
    runs: list[tuple[str | None, int, int]] = []  # (shape, first index, length)
    for t, name in enumerate(names):
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((name, t, 1))
    kept = [r for i, r in enumerate(runs) if r[2] >= min_persist or i == 0 or i == len(runs) - 1]
    # (end of the previous lasting shape, start of the next one, old, new): short-lived shapes
    # in between are transients of the same change
    changes: list[ShapeChange] = []
    current, start, length = kept[0]
    end = start + length
    for name, start, length in kept[1:]:
        if name != current:
            changes.append((end, start, current, name, set(geos[end - 1].order), set(geos[start].order)))
            current = name
        end = start + length
    return changes


def _merge(steps: np.ndarray, membership: list[tuple[int, int, str, int]], shapes: list[ShapeChange]) -> list[Event]:
    """Join/drop events; a shape change is told in the text of the join/drop that made it (the
    one nearest the new shape's start, from the end of the old shape on), else on its own."""
    by_index: dict[int, list] = {}
    for t, step, kind, f in membership:
        by_index.setdefault(t, []).append((step, kind, f))
    events, used = [], set()
    for end, start, old, new, before, after in shapes:
        window = [u for u in by_index if end - 1 <= u <= start + 1 and u not in used]
        if not window:
            events.append(_shape_event(int(steps[start]), old, new, before, after))
            continue
        host = min(window, key=lambda u: (abs(u - start), -u))
        used.add(host)
        events += _membership_group(by_index[host], old, new)
    for t, group in by_index.items():
        if t not in used:
            events += _membership_group(group, None, None)
    return events


def _shape_event(step: int, old: str | None, new: str | None, before: set[int], after: set[int]) -> Event:
    """A shape change without a join or drop: a represented feature left or reached its own
    direction ("feature 7 splits off — pentagon → hexagon")."""
    gained, lost = sorted(after - before), sorted(before - after)
    who = ""
    if gained and not lost:
        who = f"feature {gained[0]} splits off" if len(gained) == 1 else f"features {', '.join(map(str, gained))} split off"
    elif lost and not gained:
        who = f"feature {lost[0]} merges into another's direction" if len(lost) == 1 else \
            f"features {', '.join(map(str, lost))} merge into others' directions"
    elif gained and lost:
        who = f"{_names(gained)} {'takes' if len(gained) == 1 else 'take'} the place of {_names(lost)}"
    text = f"{who} — {old} → {new}" if who else f"{old} → {new}"
    return Event(step, "shape", text, tuple(gained + lost), old, new)


def _names(features) -> str:
    return f"feature {features[0]}" if len(features) == 1 else "features " + ", ".join(map(str, features))


def _membership_group(group, old, new) -> list[Event]:
    """One event per kind in a snapshot's joins/drops: "features 3, 4 join — square → pentagon"."""
    out = []
    for kind in ("join", "drop"):
        feats = sorted(f for _, k, f in group if k == kind)
        if not feats:
            continue
        step = min(s for s, k, _ in group if k == kind)
        verb = {"join": "joins", "drop": "drops out"}[kind] if len(feats) == 1 else {"join": "join", "drop": "drop out"}[kind]
        who = f"feature {feats[0]}" if len(feats) == 1 else "features " + ", ".join(map(str, feats))
        text = f"{who} {verb}"
        if old is not None:
            text += f" — {old} → {new}"
        out.append(Event(step, kind, text, tuple(feats), old, new))
        old = new = None  # the shape change is told once
    return out


# --------------------------------------------------------------------------- loss drops


def smooth(values, window: int) -> np.ndarray:
    """Centred moving average; the window shrinks at the ends. (shape: [L])"""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) < 3:
        return v.copy()
    c = np.concatenate([[0.0], np.cumsum(v)])
    half = window // 2
    idx = np.arange(len(v))
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, len(v))
    return (c[hi] - c[lo]) / (hi - lo)


def loss_drops(
    loss_steps, loss_curve, *, min_drop: float = 0.1, window: float = 0.02, plateau_ratio: float = 4.0, grid: int = 500
) -> list[Event]:
    """Plateaus that end in a sudden loss drop, on the smoothed log-loss curve.

    :param loss_steps: (shape: [L]); loss_curve: (shape: [L])
    :param window: the drop must happen within this fraction of the run
    """
    s = np.asarray(loss_steps, dtype=np.float64)
    y = np.asarray(loss_curve, dtype=np.float64)
    ok = np.isfinite(y) & (y > 0)
    s, y = s[ok], y[ok]
    if len(s) < 20 or s[-1] <= s[0]:
        return []
    ll = smooth(np.log10(y), max(1, len(y) // 100))
    G = min(grid, len(s))
    gs = np.linspace(s[0], s[-1], G)
    g = np.interp(gs, s, ll)
    wd = max(2, int(round(window * G)))
    wp = max(2, int(round(plateau_ratio * wd)))
    need = -np.log10(1 - min_drop)
    events, t = [], wp + wd
    while t < G:
        drop = g[t - wd] - g[t]
        plateau = g[t - wd - wp : t - wd + 1]
        if drop > need and np.ptp(plateau) < drop / 3:
            # follow the descent to its bottom, then describe it
            end = t
            while end + 1 < G and g[end + 1] < g[end] - need / (4 * wd):
                end += 1
            start = t - wd
            level = g[start]
            p0 = start
            while p0 > 0 and abs(g[p0 - 1] - level) < drop / 3:
                p0 -= 1
            steep = start + int(np.argmin(np.diff(g[start : end + 1])))
            frac = 1 - 10 ** (g[end] - level)
            text = f"loss drops {100 * frac:.0f}% after a {int(gs[start] - gs[p0]):,}-step plateau"
            events.append(Event(int(round(gs[steep + 1])), "loss_drop", text, value=float(frac)))
            t = end + wp  # the next drop needs its own plateau
            continue
        t += 1
    return events


def describe_events(events: list[Event]) -> str:
    """One line per event: "step 1,900: feature 4 joins — square → pentagon"."""
    return "\n".join(f"step {e.step:,}: {e.text}" for e in events)
