"""Phase diagrams ("Toy Models of Superposition", the phase-change section): what a trained model does
with its extra feature (the last one, relative importance r), and the analytic phases for n=2, m=1.

numpy only. Classes of the extra feature i = n - 1 (:func:`classify_extra`):

- ``NOT_LEARNED`` (0): ‖W_i‖ <= 0.5 (:data:`animsup.analysis.geometry.THRESHOLD`);
- ``DEDICATED`` (1): learned, interference Σ_{j≠i} (Ŵ_i·W_j)² <= 0.25 (a dimension nearly of its own);
- ``SUPERPOSITION`` (2): learned, interference > 0.25 (sharing: an antipodal pair gives 1, a
  triangle 0.5 — the threshold lies below both).

Analytic expected losses for n=2, m=1 with density s = 1 - S, importance 1 and r, losses summed over
features (closed forms for the paper's analytic n=2, m=1 phase diagram: Elhage et al. 2022,
"Toy Models of Superposition", section "Superposition as a Phase Change",
https://transformer-circuits.pub/2022/toy_model/): ignore the extra feature r (s/3 - s²/4); give it the dimension s/3 - s²/4; antipodal
superposition (1 + r) s²/6. They compare three idealised configurations only; the optimum itself
(:func:`exact_optimum_n2m1`, the minimum of the exact expected loss :func:`expected_loss_n2m1`) lies
one cell beyond their boundaries in places (docs/figures.md §10).
"""

from __future__ import annotations

import numpy as np

from animsup.analysis.geometry import THRESHOLD, feature_norms, interference

NOT_LEARNED, DEDICATED, SUPERPOSITION = 0, 1, 2
CLASS_NAMES = ("not learned", "dedicated dimension", "superposition")
INTERFERENCE_THRESHOLD = 0.25


def extra_feature_stats(W) -> tuple[np.ndarray, np.ndarray]:
    """Norm and interference of the last feature.

    :param W: (shape: [..., n_hidden, n_features])
    :return: norm (shape: [...]), interference (shape: [...])
    """
    return feature_norms(W)[..., -1], interference(W)[..., -1]


def classify_extra(W) -> np.ndarray:
    """The phase class of the last feature (see the module docstring). (shape: [...]) int"""
    norm, inter = extra_feature_stats(W)
    cls = np.where(inter > INTERFERENCE_THRESHOLD, SUPERPOSITION, DEDICATED)
    return np.where(norm > THRESHOLD, cls, NOT_LEARNED).astype(np.int64)


def analytic_losses_n2m1(r, s) -> np.ndarray:
    """Expected loss of each phase for n=2, m=1 (sum over features).

    :param r: relative importance of the extra feature (any shape, broadcast with ``s``)
    :param s: density 1 - S
    :return: (shape: [..., 3]) losses in the order of :data:`CLASS_NAMES`
    """
    r, s = np.broadcast_arrays(np.asarray(r, np.float64), np.asarray(s, np.float64))
    one = s / 3 - s * s / 4
    return np.stack([r * one, one, (1 + r) * s * s / 6], axis=-1)


def analytic_phase_n2m1(r, s) -> np.ndarray:
    """The phase of least expected loss for n=2, m=1: not learned ⇔ r < 1 and s > 4r/(2+5r); dedicated
    ⇔ r > 1 and s > 4/(5+2r); superposition below both curves (triple point r = 1, s = 4/7). (int)"""
    return np.argmin(analytic_losses_n2m1(r, s), axis=-1)


def boundary_band(classes: np.ndarray) -> np.ndarray:
    """Cells of a 2-D class map with a different class among their 8 neighbours (the band excluded when
    counting agreement). (shape: same as ``classes``) bool"""
    c = np.asarray(classes)
    pad = np.pad(c, 1, mode="edge")
    band = np.zeros(c.shape, bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            band |= pad[1 + di : 1 + di + c.shape[0], 1 + dj : 1 + dj + c.shape[1]] != c
    return band


def sampled_loss(W, b, importance, x) -> np.ndarray:
    """Importance-weighted squared error of the tied ReLU model y = ReLU(WᵀW x + b), summed over features
    and averaged over samples (the analytic forms' convention).

    :param W: (shape: [k, m, n]); b: (shape: [k, n]); importance: (shape: [k, n])
    :param x: (shape: [k, n, B]) samples
    :return: (shape: [k])
    """
    W = np.asarray(W, np.float64)
    y = np.maximum(np.swapaxes(W, 1, 2) @ (W @ x) + np.asarray(b, np.float64)[:, :, None], 0.0)
    return np.einsum("kn,knb->k", np.asarray(importance, np.float64), (y - x) ** 2) / x.shape[2]


# ---- the exact optimum of the expected loss (n=2, m=1) -------------------------------------------------------
#
# The closed forms above compare three idealised configurations. The optimum itself is found here numerically:
# the expected loss of any tied model y = ReLU(WᵀW x + b) with W [1, 2] under the paper's law (each x_i is
# U[0, 1] with probability s, else 0) is integrated exactly in the inner variable and by Gauss-Legendre in the
# outer one, and minimised by a pattern search from several starts (the three configurations, their mixtures
# and seeded random ones).


def _square_integral(p, q, lo, hi):
    """∫_lo^hi (p u + q)² du (any broadcastable shapes): the primitive ((p²/3 u + p q) u + q²) u at hi minus lo."""
    a, b_, c = p * p / 3, p * q, q * q
    return ((a * hi + b_) * hi + c) * hi - ((a * lo + b_) * lo + c) * lo


def _relu_error(c, d, a, b):
    """∫_0^1 (c u + d − ReLU(a u + b))² du, exactly: the output is a u + b where that is positive, else 0.

    All arguments broadcast; ``a`` may be 0 (the output is then ReLU(b) on the whole interval)."""
    safe = np.where(a == 0, 1.0, a)
    cut = np.clip(np.where(a == 0, np.where(b > 0, 0.0, 1.0), -b / safe), 0.0, 1.0)  # where a u + b = 0
    # below the cut the output is on (a u + b > 0) when a < 0 (or a = 0 < b: cut at 0, nothing below), above it when a > 0
    on_below = a < 0
    p_lo, q_lo = np.where(on_below, c - a, c), np.where(on_below, d - b, d)
    p_hi, q_hi = np.where(on_below, c, c - a), np.where(on_below, d, d - b)
    return _square_integral(p_lo, q_lo, 0.0, cut) + _square_integral(p_hi, q_hi, cut, 1.0)


_NODES: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gauss_legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (cached)."""
    if nodes not in _NODES:
        t, w = np.polynomial.legendre.leggauss(nodes)
        _NODES[nodes] = ((t + 1) / 2, w / 2)
    return _NODES[nodes]


def expected_loss_n2m1(W, b, r, s, nodes: int = 48) -> np.ndarray:
    """The exact expected loss of the tied ReLU model y = ReLU(WᵀW x + b), n=2, m=1, importance (1, r),
    each x_i U[0, 1] with probability ``s`` (= 1 − S) else 0, summed over features (the closed forms'
    convention): the four presence patterns weighted (1−s)², s(1−s), s(1−s), s²; for two present features
    the inner integral is exact and the outer one Gauss-Legendre with ``nodes`` points (the integrand is
    C¹ there: relative error ~1e-6 at 48 nodes).

    :param W: (shape: [..., 1, 2]); b: (shape: [..., 2]); r, s: broadcast with ``W[..., 0, 0]``
    :return: (shape: [...])
    """
    W = np.asarray(W, np.float64)
    b = np.asarray(b, np.float64)
    w1, w2 = W[..., 0, 0], W[..., 0, 1]
    A = ((w1 * w1, w1 * w2), (w1 * w2, w2 * w2))  # WᵀW
    r, s = np.asarray(r, np.float64), np.asarray(s, np.float64)
    u, wt = _gauss_legendre(nodes)
    total = 0.0
    for i, imp in ((0, 1.0), (1, r)):
        bi = b[..., i]
        none = np.maximum(bi, 0.0) ** 2
        one = [_relu_error(float(i == j), 0.0, A[i][j], bi) for j in (0, 1)]
        # both present: integrate over x_j (j = 1 − i) exactly, over x_i at the nodes (u on the last axis)
        j = 1 - i
        c_, d_ = 0.0, u  # the target x_i is a constant along x_j
        both = _relu_error(c_, d_, A[i][j][..., None], A[i][i][..., None] * u + bi[..., None]) @ wt
        total = total + imp * ((1 - s) ** 2 * none + s * (1 - s) * (one[0] + one[1]) + s * s * both)
    return np.asarray(total)


def _starts(shape, n_random: int, seed: int) -> np.ndarray:
    """Starting points (w1, w2, b1, b2) for every cell: the three closed-form configurations, shortened and
    mixed ones, and ``n_random`` seeded random ones. (shape: [*shape, K, 4])"""
    fixed = [(1, 0, 0, 0.1), (0, 1, 0.1, 0), (1, -1, 0, 0), (1, -0.6, 0, 0), (0.6, -1, 0, 0), (0.8, -0.8, -0.1, -0.1),
             (1, 0.3, 0, 0.05), (0.3, 1, 0.05, 0), (0.1, 0.1, 0.1, 0.1)]
    rng = np.random.default_rng(seed)
    rand = np.concatenate([rng.uniform(-1.3, 1.3, (n_random, 2)), rng.uniform(-0.3, 0.3, (n_random, 2))], axis=1)
    pts = np.concatenate([np.asarray(fixed, np.float64), rand])
    return np.broadcast_to(pts, (*shape, *pts.shape)).copy()


def _pattern_search(theta, r, s, step: float, tol: float, max_iter: int, nodes: int):
    """Minimise :func:`expected_loss_n2m1` from each row of ``theta`` [N, 4] = (w1, w2, b1, b2) with its own
    r, s [N]: every coordinate ± the row's step; the step doubles after a move (up to 0.5) and halves when
    no move helps; rows whose step fell below ``tol`` stop (only the others are evaluated).

    :return: theta [N, 4], loss [N]
    """
    theta = theta.copy()
    best = expected_loss_n2m1(theta[:, None, :2], theta[:, 2:], r, s, nodes)
    steps = np.full(len(theta), step)
    moves = np.concatenate([np.eye(4), -np.eye(4)])  # [8, 4]
    for _ in range(max_iter):
        act = np.flatnonzero(steps >= tol)
        if not len(act):
            break
        trial = theta[act, None, :] + steps[act, None, None] * moves  # [a, 8, 4]
        lt = expected_loss_n2m1(trial[..., None, :2], trial[..., 2:], r[act, None], s[act, None], nodes)
        k = lt.argmin(1)
        lk = lt[np.arange(len(act)), k]
        better = lk < best[act]
        theta[act[better]] = trial[np.arange(len(act)), k][better]
        best[act[better]] = lk[better]
        steps[act] = np.where(better, np.minimum(steps[act] * 2, 0.5), steps[act] / 2)  # stride along a valley
    return theta, best


def exact_optimum_n2m1(r, s, *, n_random: int = 3, seed: int = 0, tol: float = 1e-8, nodes: int = 48):
    """The minimum of :func:`expected_loss_n2m1` over W [1, 2] and b [2], per (r, s): a pattern search
    (:func:`_pattern_search`) from the starts of :func:`_starts` to a step of 1e-4, then the best start of
    each cell on to a step of ``tol``.

    :param r, s: relative importance and density (broadcast together; shape [...])
    :return: W (shape: [..., 1, 2]), b (shape: [..., 2]), loss (shape: [...])
    """
    r, s = np.broadcast_arrays(np.asarray(r, np.float64), np.asarray(s, np.float64))
    shape = r.shape
    theta = _starts((r.size,), n_random, seed)  # [cells, K, 4]
    K = theta.shape[1]
    rr, ss = np.repeat(r.ravel(), K), np.repeat(s.ravel(), K)
    theta, loss = _pattern_search(theta.reshape(-1, 4), rr, ss, 0.25, 1e-4, 5000, nodes)
    pick = loss.reshape(-1, K).argmin(1) + K * np.arange(r.size)
    theta, loss = _pattern_search(theta[pick], r.ravel(), s.ravel(), 1e-4, tol, 5000, nodes)
    return theta[:, None, :2].reshape(*shape, 1, 2), theta[:, 2:].reshape(*shape, 2), loss.reshape(shape)
