"""Scaling-law fits (Liu, Liu, Gore, NeurIPS 2025, arXiv:2505.10465): loss against the hidden size m. numpy only."""

from __future__ import annotations

import numpy as np


def fit_power_law(x, y) -> dict[str, float]:
    """Least-squares fit of ``log y = log c - a log x``: ``y ≈ c · x^-a``.

    :param x: (shape: [k]) > 0 (e.g. the hidden sizes m); y: (shape: [k]) > 0 (the losses), k >= 2
    :return: ``exponent`` a (the paper's α_m), ``prefactor`` c, ``r2`` of the fit in log-log space
    :raises ValueError: fewer than 2 points, or a value <= 0
    """
    lx, ly = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if lx.shape != ly.shape or lx.ndim != 1 or len(lx) < 2:
        raise ValueError("x and y must be 1-d of one length >= 2")
    if np.any(lx <= 0) or np.any(ly <= 0):
        raise ValueError("a power law needs x > 0 and y > 0")
    lx, ly = np.log(lx), np.log(ly)
    slope, icpt = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + icpt)
    ss = float(np.sum((ly - ly.mean()) ** 2))
    return {"exponent": float(-slope), "prefactor": float(np.exp(icpt)),
            "r2": 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else 1.0}
