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

**Chance baseline** (:func:`chance`): the MMCS and matched cosine that *random* unit decoders of
the same shape (n_latents directions in d dimensions: isotropic Gaussian rows, normalised) score
against the *same* true directions, by the same functions, averaged over a fixed number of draws
from a fixed seed (deterministic). Many directions in few dimensions lie close to any direction:
600 latents in d = 3 score MMCS ≈ 0.997 without training, so a score means recovery only by its
margin over this baseline. :func:`score_notes` says when a score is within :data:`CHANCE_MARGIN`
of it, and when shrinkage is far from 1 (:data:`SHRINKAGE_FAR`).
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

#: the chance baseline's seed (its draws depend only on it, n_latents and d: the same at every snapshot)
CHANCE_SEED = 0x5AEC
#: draws per chance estimate: enough that draws × n_true >= CHANCE_FEATURE_DRAWS, at most CHANCE_MAX_DRAWS.
#: Each score is a mean over the n_true features, so its draw-to-draw spread σ falls with n_true (measured:
#: σ ≈ 0.2-0.3 for 5 latents vs 5 directions in d = 2, 0.0002 for 600 in d = 3): 26 draws at n_true = 5 put
#: the baseline's standard error σ/√draws near 0.05, one draw suffices at 600 (whose matching takes seconds)
CHANCE_FEATURE_DRAWS = 128
CHANCE_MAX_DRAWS = 32
#: a score less than this above its chance baseline (or below it) is "near chance" (cosine units): a practical
#: floor, above the baseline's standard error in every case measured (docs/analysis.md, "Chance baseline")
CHANCE_MARGIN = 0.1
#: shrinkage s is "far from 1" when |s - 1| > SHRINKAGE_FAR: then the mean relative reconstruction error
#: mean ‖ĥ - h‖ / ‖h‖ >= |s - 1| > 0.5 (triangle inequality per sample, then the mean), i.e. the SAE's
#: reconstructions miss by more than half the input's norm on average
SHRINKAGE_FAR = 0.5


def chance_draws(n_true: int) -> int:
    """Random decoders averaged by :func:`chance` for ``n_true`` true directions (1 ... CHANCE_MAX_DRAWS)."""
    return int(min(CHANCE_MAX_DRAWS, max(1, -(-CHANCE_FEATURE_DRAWS // max(int(n_true), 1)))))


def random_unit_decoders(n_latents: int, d: int, draws: int) -> np.ndarray:
    """(shape: [draws, n_latents, d]) isotropic Gaussian rows scaled to unit norm, from :data:`CHANCE_SEED`
    (the same arrays for the same shapes, whatever the global random state)."""
    rng = np.random.default_rng([CHANCE_SEED, int(n_latents), int(d)])
    return unit_rows(rng.normal(size=(int(draws), int(n_latents), int(d))))


def chance(truth, n_latents: int, *, draws: int | None = None) -> tuple[float, float]:
    """The chance baseline of :func:`mmcs` and :func:`matched_cosine` against ``truth``.

    :param truth: (shape: [n_true, d]) the true directions the real SAE is scored against
    :param n_latents: the SAE's latents; ``draws``: default :func:`chance_draws` (n_true)
    :return: (MMCS, matched cosine), each the mean over the draws of :func:`random_unit_decoders`
    """
    truth = np.asarray(truth, np.float64)
    decoders = random_unit_decoders(n_latents, truth.shape[1], chance_draws(truth.shape[0]) if draws is None else draws)
    return (float(np.mean([mmcs(D, truth) for D in decoders])),
            float(np.mean([matched_cosine(D, truth)[0] for D in decoders])))


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
    #: the :func:`chance` baseline of ``mmcs`` and ``matched`` (NaN: not computed)
    mmcs_chance: float = float("nan")
    matched_chance: float = float("nan")

    def to_dict(self) -> dict[str, object]:
        return {"mmcs": self.mmcs, "matched": self.matched, "dead": self.dead, "dense": self.dense, "l0": self.l0,
                "shrinkage": self.shrinkage, "mse": self.mse, "match": [int(j) for j in self.match],
                "mmcs_chance": self.mmcs_chance, "matched_chance": self.matched_chance}


def score(decoder, truth, acts, h, h_hat, *, dense_threshold: float = 0.5,
          chance_scores: tuple[float, float] | None = None) -> SaeScores:
    """Every score of one SAE on evaluation samples.

    :param decoder: (shape: [n_latents, d]); truth: (shape: [n_true, d]) true directions
    :param acts: (shape: [n_samples, n_latents]); h, h_hat: (shape: [n_samples, d])
    :param dense_threshold: a latent active on more than this fraction of samples is dense
    :param chance_scores: :func:`chance` of ``truth`` at this n_latents when already computed (SAEs
        sharing a target share it); default: computed here
    :return: ``dead`` / ``dense`` as fractions of the latents
    """
    mmcs_c, matched_c = chance(truth, np.shape(decoder)[0]) if chance_scores is None else chance_scores
    freq = firing(acts)
    matched, match = matched_cosine(decoder, truth)
    mse = float(np.mean(np.sum((np.asarray(h_hat, np.float64) - np.asarray(h, np.float64)) ** 2, axis=1)))
    return SaeScores(mmcs=mmcs(decoder, truth), matched=matched, dead=float((freq == 0).mean()),
                     dense=float((freq > dense_threshold).mean()), l0=l0(acts), shrinkage=shrinkage(h, h_hat),
                     mse=mse, match=match, mmcs_chance=mmcs_c, matched_chance=matched_c)


def _span(x: np.ndarray) -> str:
    return f"{x.min():.3f}" if np.ptp(x) < 5e-4 else f"{x.min():.3f}..{x.max():.3f}"


def score_notes(scores: list[SaeScores], n_latents: int, d: int) -> list[str]:
    """One line per warning about a set of SAEs' scores (none: nothing to say). Library code: the
    CLI prints them as warnings.

    - MMCS, matched cosine: less than :data:`CHANCE_MARGIN` above their chance baseline (or below it);
    - shrinkage: ``|s - 1| >`` :data:`SHRINKAGE_FAR`.
    """
    out, k = [], len(scores)
    shape = f"{n_latents} random unit directions in {d} dimension{'s' if d != 1 else ''}"
    for name, key in (("MMCS", "mmcs"), ("matched cosine", "matched")):
        got = np.array([getattr(s, key) for s in scores], np.float64)
        base = np.array([getattr(s, key + "_chance") for s in scores], np.float64)
        near = np.isfinite(got) & np.isfinite(base) & (got - base < CHANCE_MARGIN)
        if near.any():
            out.append(f"{name} is less than {CHANCE_MARGIN:g} above chance for {near.sum()} of {k} SAEs ({_span(got[near])}; "
                       f"{shape} score {_span(base[near])}): it does not show that the SAE found the features")
    shr = np.array([s.shrinkage for s in scores], np.float64)
    far = np.isfinite(shr) & (np.abs(shr - 1) > SHRINKAGE_FAR)
    if far.any():
        out.append(f"shrinkage ‖ĥ‖/‖h‖ is far from 1 for {far.sum()} of {k} SAEs ({_span(shr[far])}; |s − 1| > "
                   f"{SHRINKAGE_FAR:g} means a mean relative reconstruction error above {SHRINKAGE_FAR:g}): "
                   + "; ".join(([("overshooting: too few steps?")] if (shr[far] > 1).any() else [])
                               + (["shrunk: too strong a penalty?"] if (shr[far] < 1).any() else [])))
    return out
