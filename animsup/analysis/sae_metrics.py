"""Scores of a sparse autoencoder (SAE) against known ground-truth directions. numpy only.

An SAE trained on a toy model's hidden activations ``h = W x`` (:mod:`animsup.train.sae`) should
find the toy's own columns W_i (the directions the features are written in). Definitions:

- **cosine matrix** ``C[j, i] = cos(d_j, f_i)`` between decoder direction j and true direction i;
- **MMCS** (mean max cosine similarity; Sharkey, Braun, Millidge 2022, "Taking features out of
  superposition with sparse autoencoders", the synthetic-data metric SAELens also reports):
  the mean over true features of ``max_j C[j, i]``. Several true features may take the same latent;
- **matched cosine**: the same mean under a one-to-one matching of latents to true features
  chosen to maximise the total cosine (Hungarian algorithm, :func:`linear_assignment`);
- **dead** latents: never active (activation > 0) on the evaluation samples; **dense** latents:
  active on more than ``dense_threshold`` of them (a fraction);
- **L0**: mean number of active latents per sample;
- **shrinkage**: mean over samples with ``h ≠ 0`` of ``‖ĥ‖ / ‖h‖`` (1: none; an L1 penalty pulls
  it below 1, what SAELens's synthetic evaluation reports as the norm ratio);
- **absorption** of a (parent, child) pair whose child only fires with its parent (Chanin et al.
  2024, "A is for Absorption", arXiv:2409.14507): among samples with the child on, the fraction on
  which the latent matched to the parent is *off*, minus the same fraction among samples with the
  parent on and the child off (the parent latent's ordinary misses). 0: no absorption; 1: the
  parent latent never fires when the child does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


def unit_rows(A) -> np.ndarray:
    """Rows scaled to unit norm (zero rows stay zero). (shape: [k, d])"""
    A = np.asarray(A, np.float64)
    norm = np.linalg.norm(A, axis=-1, keepdims=True)
    return np.divide(A, norm, out=np.zeros_like(A), where=norm > 0)


def cosine_matrix(decoder, truth) -> np.ndarray:
    """:param decoder: (shape: [n_latents, d]) decoder directions; truth: (shape: [n_true, d])
    :return: (shape: [n_latents, n_true]) cosines (0 against a zero vector)"""
    return unit_rows(decoder) @ unit_rows(truth).T


def mmcs(decoder, truth) -> float:
    """Mean over true features of the best cosine with any latent (see the module docstring)."""
    return float(cosine_matrix(decoder, truth).max(axis=0).mean())


def linear_assignment(cost) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment of a rectangular cost matrix (Hungarian algorithm, shortest
    augmenting paths with potentials; O(r² c) for r <= c rows). numpy only (scipy is not a
    dependency; this agrees with exhaustive search in tests/analysis/test_sae_metrics.py).

    :param cost: (shape: [r, c]) finite
    :return: (rows, cols) of the min(r, c) assigned pairs, rows increasing
    """
    a = np.asarray(cost, np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("the cost matrix must be finite")
    transposed = a.shape[0] > a.shape[1]
    if transposed:
        a = a.T
    r, c = a.shape
    u, v = np.zeros(r + 1), np.zeros(c + 1)
    owner = np.zeros(c + 1, dtype=np.int64)  # owner[j]: the row (1-based) matched to column j; 0: none
    for i in range(1, r + 1):
        owner[0] = i
        j0 = 0
        minv = np.full(c + 1, np.inf)
        way = np.zeros(c + 1, dtype=np.int64)
        used = np.zeros(c + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used[1:]
            cur = a[i0 - 1] - u[i0] - v[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = 1 + int(np.argmin(cand))
            delta = cand[j1 - 1]
            usedj = np.flatnonzero(used)
            u[owner[usedj]] += delta
            v[usedj] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    cols = np.flatnonzero(owner[1:]) 
    rows = owner[1:][cols] - 1
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order], cols[order]


def brute_force_assignment(cost) -> float:
    """The minimum total cost by trying every assignment (tests only: tiny matrices)."""
    a = np.asarray(cost, np.float64)
    if a.shape[0] > a.shape[1]:
        a = a.T
    r, c = a.shape
    return min(sum(a[i, p[i]] for i in range(r)) for p in itertools.permutations(range(c), r))


def matched_cosine(decoder, truth) -> tuple[float, np.ndarray]:
    """Mean cosine under the best one-to-one matching of latents to true features.

    :return: (mean over the matched pairs, match: (shape: [n_true]) the latent of each true feature,
        -1 when there are fewer latents than true features and it got none)
    """
    C = cosine_matrix(decoder, truth)
    rows, cols = linear_assignment(-C)
    match = np.full(C.shape[1], -1, dtype=np.int64)
    match[cols] = rows
    return float(C[rows, cols].sum() / C.shape[1]), match


def firing(acts) -> np.ndarray:
    """(shape: [n_latents]) fraction of samples on which each latent is active (> 0).

    :param acts: (shape: [n_samples, n_latents]) latent activations"""
    return (np.asarray(acts) > 0).mean(axis=0)


def l0(acts) -> float:
    """Mean number of active latents per sample."""
    return float((np.asarray(acts) > 0).sum(axis=1).mean())


def shrinkage(h, h_hat) -> float:
    """Mean ``‖ĥ‖ / ‖h‖`` over samples with ``h ≠ 0`` (NaN when there are none).

    :param h: (shape: [n_samples, d]) inputs; h_hat: (shape: [n_samples, d]) reconstructions"""
    n_in = np.linalg.norm(np.asarray(h, np.float64), axis=1)
    n_out = np.linalg.norm(np.asarray(h_hat, np.float64), axis=1)
    keep = n_in > 0
    return float(np.mean(n_out[keep] / n_in[keep])) if keep.any() else float("nan")


def absorption(acts, x, parent: int, child: int, parent_latent: int) -> float:
    """Absorption of ``child`` by the SAE, seen on the latent of ``parent`` (module docstring).

    :param acts: (shape: [n_samples, n_latents]); x: (shape: [n_samples, n_features]) true feature values
    :return: NaN when no sample has the child on, or none has the parent alone
    """
    on = np.asarray(acts)[:, parent_latent] > 0
    x = np.asarray(x)
    with_child = x[:, child] > 0
    alone = (x[:, parent] > 0) & ~with_child
    if not with_child.any() or not alone.any():
        return float("nan")
    return float((~on[with_child]).mean() - (~on[alone]).mean())


@dataclass
class SaeScores:
    """Scores of one SAE (see the module docstring); ``match``: the latent matched to each true feature."""

    mmcs: float
    matched: float
    dead: float
    dense: float
    l0: float
    shrinkage: float
    mse: float
    match: np.ndarray

    def to_dict(self) -> dict[str, object]:
        return {"mmcs": self.mmcs, "matched": self.matched, "dead": self.dead, "dense": self.dense, "l0": self.l0,
                "shrinkage": self.shrinkage, "mse": self.mse, "match": [int(j) for j in self.match]}


def score(decoder, truth, acts, h, h_hat, *, dense_threshold: float = 0.5) -> SaeScores:
    """Every score of one SAE on evaluation samples.

    :param decoder: (shape: [n_latents, d]); truth: (shape: [n_true, d]) true directions
    :param acts: (shape: [n_samples, n_latents]); h, h_hat: (shape: [n_samples, d])
    :param dense_threshold: a latent active on more than this fraction of samples is dense
    :return: ``dead`` / ``dense`` as fractions of the latents
    """
    freq = firing(acts)
    matched, match = matched_cosine(decoder, truth)
    mse = float(np.mean(np.sum((np.asarray(h_hat, np.float64) - np.asarray(h, np.float64)) ** 2, axis=1)))
    return SaeScores(mmcs=mmcs(decoder, truth), matched=matched, dead=float((freq == 0).mean()),
                     dense=float((freq > dense_threshold).mean()), l0=l0(acts), shrinkage=shrinkage(h, h_hat),
                     mse=mse, match=match)
