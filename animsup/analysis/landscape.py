"""Landscape quantities over training that need no torch: essential dynamics (PCA of the weight
trajectory) and jumps of the measured LLC, lined up with the loss drops. numpy only.

The LLC itself is estimated in :mod:`animsup.train.landscape` (SGLD needs the forward pass) and
stored beside the log (:mod:`animsup.log.measurements`); these functions read its arrays.

Essential dynamics (Chen et al. 2023, "Dynamical versus Bayesian phase transitions in a toy model
of superposition", arXiv:2310.06301, and the developmental-interpretability literature): the
snapshots' flattened parameters θ_t (shape: [T, P]), centred over time, projected on their
principal axes; the first components show the trajectory's turns, which fall at the transitions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from animsup.analysis import geometry


def trajectory(W, b, W_dec=None) -> np.ndarray:
    """θ_t (shape: [T, P]) of one instance: W (shape: [T, m, n]), b (shape: [T, n]), W_dec, flattened."""
    parts = [np.asarray(W, np.float64).reshape(len(W), -1), np.asarray(b, np.float64).reshape(len(b), -1)]
    if W_dec is not None:
        parts.append(np.asarray(W_dec, np.float64).reshape(len(W_dec), -1))
    return np.concatenate(parts, 1)


def pca(theta: np.ndarray, q: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(components (shape: [T, q]), explained variance ratio (shape: [q])) of θ (shape: [T, P]).

    Signs are fixed so that each component's largest |value| is positive (SVD signs are arbitrary).
    Fewer than q non-zero axes pad with zeros.
    """
    X = np.asarray(theta, np.float64)
    X = X - X.mean(0, keepdims=True)
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    r = min(q, len(S))
    comps = np.zeros((len(X), q))
    comps[:, :r] = U[:, :r] * S[:r]
    for j in range(r):
        if comps[np.argmax(np.abs(comps[:, j])), j] < 0:
            comps[:, j] *= -1
    total = float((S ** 2).sum())
    explained = np.zeros(q)
    if total > 0:
        explained[:r] = S[:r] ** 2 / total
    return comps, explained


def essential_dynamics(W, b, W_dec=None, q: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """PCA of every instance's trajectory: W (shape: [T, K, m, n]), b (shape: [T, K, n]) ->
    (components (shape: [K, T, q]), explained (shape: [K, q]))."""
    W = np.asarray(W)
    K = W.shape[1]
    comps, expl = np.zeros((K, W.shape[0], q)), np.zeros((K, q))
    for k in range(K):
        comps[k], expl[k] = pca(trajectory(W[:, k], np.asarray(b)[:, k], None if W_dec is None else np.asarray(W_dec)[:, k]), q)
    return comps, expl


def joint_essential_dynamics(W, b, W_dec=None, q: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """One PCA of all K instances' trajectories together (e.g. the seeds of a group), so their
    curves share axes: (components (shape: [K, T, q]), explained (shape: [q]))."""
    W = np.asarray(W)
    T, K = W.shape[:2]
    theta = np.stack([trajectory(W[:, k], np.asarray(b)[:, k], None if W_dec is None else np.asarray(W_dec)[:, k])
                      for k in range(K)])                                              # [K, T, P]
    comps, expl = pca(theta.reshape(K * T, -1), q)
    return comps.reshape(K, T, q), expl


@dataclass(frozen=True)
class LLCJump:
    """A jump of the LLC between measured snapshots ``step_from`` and ``step`` (``value`` its size,
    ``loss_drop_step`` the loss drop inside it, if any)."""

    step: int
    step_from: int
    llc_from: float
    llc_to: float
    kind: str = "llc_jump"
    loss_drop_step: int | None = None

    @property
    def text(self) -> str:
        word = "rises" if self.llc_to > self.llc_from else "falls"
        return f"LLC {word} {self.llc_from:.2f} → {self.llc_to:.2f}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["text"] = self.text
        d["value"] = self.llc_to - self.llc_from
        return d


def llc_jumps(steps, llc_mean, llc_std, chains: int, *, settled=None, diverged=None,
              start_step: int | None = None, rel: float = 0.2, z: float = 3.0) -> list[LLCJump]:
    """Jumps of one instance's LLC between measured snapshots: changes of level that hold.

    :param steps: (shape: [T]) the measured snapshots' steps
    :param llc_mean: (shape: [T]) mean LLC over chains (NaN: no estimate)
    :param llc_std: (shape: [T]) std over chains
    :param chains: chains per estimate (the standard error is std / sqrt(chains))
    :param settled: (shape: [T]) the sidecar's ``settled`` flags, or None (all settled)
    :param diverged: (shape: [T]) chains that diverged per estimate, or None (none)
    :param start_step: estimates before this step are skipped (:func:`first_represented_step`:
        before any feature is represented the weights sit near their initialisation), or None

    The rule (docs/analysis.md, "LLC jumps"):

    - only *usable* estimates take part: at or after ``start_step``, finite, positive beyond
      ``z`` standard errors (an LLC <= 0 means SGLD is not at a local minimum, e.g. near the
      initialisation: there is no level to jump from), settled, and with no diverged chain;
      the others are skipped;
    - between a usable estimate (the current level) and the next usable one, a change counts
      when it exceeds both ``rel`` x the larger LLC of the pair and ``z`` standard errors
      (std/sqrt(chains) of each side, combined);
    - and when it holds: the next usable estimate after it, when there is one, stays on the new
      side of the pair's midpoint. A change that does not hold is a transient: the estimate is
      dropped and the next change is measured from the level before it;
    - consecutive jumps in the same direction merge into one (from the level before the first
      to the estimate after the last).
    """
    s = np.asarray(steps, np.int64)
    m = np.asarray(llc_mean, np.float64)
    se = np.nan_to_num(np.asarray(llc_std, np.float64)) / np.sqrt(max(chains, 1))
    usable = np.isfinite(m) & (np.nan_to_num(m) > z * se)
    if start_step is not None:
        usable &= s >= int(start_step)
    if settled is not None:
        usable &= np.asarray(settled).astype(bool)
    if diverged is not None:
        usable &= np.nan_to_num(np.asarray(diverged, np.float64), nan=1.0) == 0
    ok = np.flatnonzero(usable)
    out: list[LLCJump] = []
    run: list[int] | None = None   # [start index, end index, direction]
    base = int(ok[0]) if len(ok) else 0
    for pos in range(1, len(ok)):
        c = int(ok[pos])
        d = m[c] - m[base]
        big = bool(abs(d) > rel * max(m[base], m[c]) and abs(d) > z * np.hypot(se[base], se[c]))
        if big and pos + 1 < len(ok) and (m[ok[pos + 1]] - (m[base] + m[c]) / 2) * d <= 0:
            continue                                  # a transient: keep the level at ``base``
        sign = 1 if d > 0 else -1
        if big and run is not None and run[2] == sign and run[1] == base:
            run[1] = base = c
            continue
        if run is not None:
            out.append(_jump(s, m, run))
            run = None
        if big:
            run = [base, c, sign]
        base = c
    if run is not None:
        out.append(_jump(s, m, run))
    return out


def first_represented_step(steps, W, threshold: float = geometry.THRESHOLD) -> int | None:
    """The first step (of ``steps``, shape: [T]) at which W (shape: [T, n_hidden, n_features])
    represents any feature (‖W_i‖ > ``threshold``, :func:`animsup.analysis.geometry.represented`);
    None when it never does."""
    hit = np.flatnonzero(geometry.represented(np.asarray(W, np.float64), threshold).any(-1))
    return int(np.asarray(steps)[hit[0]]) if len(hit) else None


def llc_jumps_of(steps, llc: dict, column: int, *, start_step: int | None = None) -> list[LLCJump]:
    """:func:`llc_jumps` of column ``column`` of a sidecar's LLC section (``Measurements.llc``:
    "mean", "std", "settled", "diverged" (shape: [T, K]), "chains" (shape: [T, K, C]), "settings");
    ``steps`` (shape: [T]) the sidecar's steps. The settled and diverged flags are used when the
    section has them; ``start_step`` as in :func:`llc_jumps`."""
    chains = int(llc.get("settings", {}).get("chains", np.shape(llc["chains"])[-1]))
    settled, diverged = (np.asarray(llc[key])[:, column] if key in llc else None for key in ("settled", "diverged"))
    return llc_jumps(steps, np.asarray(llc["mean"])[:, column], np.asarray(llc["std"])[:, column], chains,
                     settled=settled, diverged=diverged, start_step=start_step)


def _jump(s: np.ndarray, m: np.ndarray, run: list[int]) -> LLCJump:
    return LLCJump(int(s[run[1]]), int(s[run[0]]), float(m[run[0]]), float(m[run[1]]))


def align_jumps_with_loss_drops(jumps: list[LLCJump], drops) -> list[LLCJump]:
    """Each jump with ``loss_drop_step`` set to the loss drop (anything with ``.step``) inside
    [step_from, step], the one nearest ``step`` when several are."""
    drop_steps = np.array(sorted(int(d.step) for d in drops), dtype=np.int64)
    out = []
    for j in jumps:
        inside = drop_steps[(drop_steps >= j.step_from) & (drop_steps <= j.step)]
        hit = int(inside[np.argmin(np.abs(inside - j.step))]) if len(inside) else None
        out.append(LLCJump(j.step, j.step_from, j.llc_from, j.llc_to, j.kind, hit))
    return out
