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
superposition (1 + r) s²/6.
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
