"""Finite training sets (Henighan et al. 2023): data-point dimensionality and the double-descent peak.

The dimensionality of a training example t is the feature dimensionality formula applied to the
hidden vectors ``h_t = W x_t`` instead of the columns of W (Henighan et al. 2023, "Superposition,
Memorization, and Double Descent", transformer-circuits.pub/2023/toy-double-descent):
``D_t = ‖h_t‖² / Σ_s (ĥ_t·h_s)²`` — :func:`animsup.analysis.geometry.dimensionality` of the
[m, T] matrix of hidden vectors. numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from animsup.analysis.geometry import dimensionality


def hidden_vectors(W, X) -> np.ndarray:
    """The training examples' hidden vectors ``h = W x``.

    :param W: (shape: [n_hidden, n_features]); X: (shape: [n_features, T]), samples as columns
    :return: (shape: [n_hidden, T])
    """
    return np.asarray(W, np.float64) @ np.asarray(X, np.float64)


def dimensionality_split(W, H) -> dict[str, float]:
    """How the hidden space is shared between features and data points.

    :param W: (shape: [n_hidden, n_features]); H: (shape: [n_hidden, T]) hidden vectors of the examples
    :return: ``feature_sum`` / ``data_sum``: Σ D_i over features / over data points (each a number of
        dimensions, e.g. 2 for any regular polygon in m = 2); ``feature_max`` / ``data_max``: the
        largest single D (1: one direction held alone)
    """
    df, dd = dimensionality(W), dimensionality(H)
    return {"feature_sum": float(df.sum()), "data_sum": float(dd.sum()), "feature_max": float(df.max(initial=0.0)),
            "data_max": float(dd.max(initial=0.0))}


def double_descent_peak(sizes, test_loss) -> dict[str, Any]:
    """The test-loss peak of a sweep over the training-set size T.

    The peak is the largest test loss at an *interior* T; it is a double descent when it rises above
    the lowest loss at a smaller T and above the lowest loss at a larger T (the curve falls, rises,
    falls again).

    :param sizes: (shape: [k]) training-set sizes T, increasing
    :param test_loss: (shape: [k]) test loss at each T (e.g. the mean over seeds)
    :return: ``peak_T``, ``peak_loss`` (None when k < 3), ``double_descent`` (bool), ``rise_left`` /
        ``rise_right``: peak loss over the lowest loss before / after it
    :raises ValueError: sizes not increasing, or lengths that differ
    """
    t = np.asarray(sizes, np.float64)
    y = np.asarray(test_loss, np.float64)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"sizes and test_loss must be 1-d of one length, got {t.shape} and {y.shape}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("sizes must be increasing")
    if len(t) < 3:
        return {"peak_T": None, "peak_loss": None, "double_descent": False, "rise_left": None, "rise_right": None}
    i = 1 + int(np.argmax(y[1:-1]))
    left, right = float(y[:i].min()), float(y[i + 1:].min())
    return {"peak_T": int(t[i]) if t[i] == int(t[i]) else float(t[i]), "peak_loss": float(y[i]),
            "double_descent": bool(y[i] > left and y[i] > right),
            "rise_left": float(y[i] / left) if left > 0 else None, "rise_right": float(y[i] / right) if right > 0 else None}
