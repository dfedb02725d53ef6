"""Summaries of a large model's weights (n up to 10,240 features, the scaling-law regime of Liu, Liu,
Gore, "Superposition Yields Robust Neural Scaling", NeurIPS 2025, arXiv:2505.10465): what the video
and the viewer show instead of n arrows or an n×n heatmap. numpy only.

Per snapshot and instance (:func:`feature_summary`):

- the norms ‖W_i‖ against the feature's *frequency rank* (features ordered by their probability,
  most frequent first; Liu et al. order features this way, p_i ∝ i^-α, and plot ‖W_i‖ against i);
- the feature dimensionality D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² (Elhage et al. 2022; the one definition,
  :func:`animsup.analysis.geometry.dimensionality`, computed from the m×m W Wᵀ);
- the overlap of each feature with its nearest other feature, max_{j≠i} |Ŵ_i·Ŵ_j| (0 for a zero
  feature or when every other feature is zero), computed over blocks of rows (:func:`max_overlaps`);
  above :data:`OVERLAP_SAMPLE` features for the represented ones only, at most that many (evenly spaced
  by index; each exact);
- φ_1/2 = |{i : ‖W_i‖ > 1/2}| / n, the fraction of represented features (Liu et al., Eq. 3, Sec. 2:
  weak superposition keeps φ_1/2 ~ m/n, strong superposition φ_1/2 ≈ 1);
- the mean squared overlap of represented features' directions, mean_{i≠j} (Ŵ_i·Ŵ_j)² (their Sec. 3.2
  and Fig. 5d/6a: ~1/m in strong superposition), from the m×m Ŵ Ŵᵀ;
- the reference for the largest overlaps: the Welch bound max_{i≠j} |w_i·w_j| ≥ κ = √((ν−m)/(m(ν−1)))
  for ν ≥ m unit vectors in m dimensions (their Eq. 5, Sec. 3.2; met by equiangular tight frames).

Memory is O(n·m + chunk·n) per instance, never n×n: at n = 10,240 one n×n float64 matrix is 800 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from animsup.analysis import geometry

#: a model with more features than this (and n_hidden >= 3) gets the summary view by default (video and viewer)
SUMMARY_ABOVE = 512
#: bins of the D_i and overlap histograms, over [0, 1]
HIST_BINS = 40
#: points of the norm-by-rank curve (log-spaced rank bins)
RANK_BINS = 160
#: the largest block of the overlap product, in matrix entries (float32: 16 MB)
CHUNK_ENTRIES = 4_000_000
#: above this many features the overlap max_{j≠i} |Ŵ_i·Ŵ_j| is computed for the represented features only
#: (‖W_i‖ > 1/2: the histogram and the mean are theirs), and above this many of them for this many, evenly
#: spaced (each still exact against all n): the n²·m product (27·10⁹ multiply-adds at n = 10,240, m = 256,
#: ~2.5 s per snapshot on one core) becomes at most S·n·m (5·10⁹); a histogram of 2,048 values is within
#: ±0.011 (one binomial s.d.) of every bin's fraction
OVERLAP_SAMPLE = 2048
#: the represented threshold of φ_1/2 (Liu et al.: ‖W_i‖ > 1/2; the same 0.5 as geometry.THRESHOLD)
HALF = 0.5


def use_summary(n_features: int, n_hidden: int, view: str = "auto", above: int | None = None) -> bool:
    """Whether the summary view is shown: ``view`` "summary" always, "full" never, "auto" when
    ``n_features > above`` (default :data:`SUMMARY_ABOVE`, read at the call) and ``n_hidden >= 3`` (the
    heatmap's n×n cells; the plane of n_hidden <= 2 draws n arrows in O(n) and thins crowded labels)."""
    big = n_features > (SUMMARY_ABOVE if above is None else above) and n_hidden >= 3
    return view == "summary" or (view == "auto" and big)


def max_overlaps(W, chunk: int | None = None, rows=None) -> np.ndarray:
    """max_{j≠i} |Ŵ_i·Ŵ_j| for every feature i of ``rows`` (default: all; Ŵ_j = W_j / ‖W_j‖; zero features
    have no direction and count 0), computed over blocks of ``chunk`` features (default:
    :data:`CHUNK_ENTRIES` / n) in float32.

    :param W: (shape: [n_hidden, n_features])
    :param rows: (shape: [R]) distinct feature indices, or None (every feature)
    :return: (shape: [R] or [n_features]) values in [0, 1]
    """
    W = np.asarray(W, dtype=np.float32)
    n = W.shape[-1]
    norms = np.sqrt(np.sum(W * W, axis=0, dtype=np.float64)).astype(np.float32)
    Wh = np.divide(W, norms, out=np.zeros_like(W), where=norms > 0)
    idx = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    step = max(1, int(chunk) if chunk else CHUNK_ENTRIES // max(n, 1))
    out = np.zeros(len(idx))
    for a in range(0, len(idx), step):
        b = min(len(idx), a + step)
        block = Wh[:, idx[a:b]].T @ Wh  # [b - a, n]
        block[np.arange(b - a), idx[a:b]] = 0.0  # not the feature itself
        out[a:b] = np.maximum(block.max(axis=1), -block.min(axis=1))  # max |.| without an |.| copy
    return np.minimum(out, 1.0)


def overlap_rows(norms, sample: int | None = OVERLAP_SAMPLE) -> np.ndarray | None:
    """The features whose overlap :func:`feature_summary` computes: None (all) when there are at most
    ``sample`` features or ``sample`` is None; else the represented ones (‖W_i‖ > 1/2), and of more than
    ``sample`` of them ``sample`` evenly spaced by index. (norms: shape [n_features]; return: [R] or None)"""
    norms = np.asarray(norms)
    if sample is None or len(norms) <= sample:
        return None
    rep = np.flatnonzero(norms > HALF)
    if len(rep) <= sample:
        return rep
    return rep[np.unique(np.linspace(0, len(rep) - 1, int(sample)).round().astype(np.int64))]


def frequency_order(feature_probability) -> np.ndarray:
    """Feature indices by frequency rank, most frequent first (stable: equal probabilities keep
    index order, so a log of equal frequencies is ranked by index).

    :param feature_probability: (shape: [n_features]) one instance's probabilities
    :return: (shape: [n_features])
    """
    return np.argsort(-np.asarray(feature_probability, np.float64), kind="stable")


#: the x axis of the norm curve: features by frequency rank, or by index when every feature shares one 1 - S
RANK_LABEL = "feature rank by frequency (1 = most frequent)"
INDEX_LABEL = "feature index + 1 (every feature equally frequent)"


def order_label(feature_probability) -> str:
    """What the x axis of one instance's norm curve (:func:`rank_curve` in :func:`frequency_order`)
    shows: :data:`RANK_LABEL`, or :data:`INDEX_LABEL` when every feature shares one probability (the
    order is then the index order, not a ranking).

    :param feature_probability: (shape: [n_features]) one instance's probabilities
    """
    p = np.asarray(feature_probability, np.float64)
    return INDEX_LABEL if p.size and np.all(p == p.flat[0]) else RANK_LABEL


def rank_edges(n: int, bins: int = RANK_BINS) -> np.ndarray:
    """Edges of the log-spaced rank bins (ranks 1..n; every bin holds at least one rank):
    (shape: [B + 1]) 0-based indices into the rank order, increasing, first 0, last n."""
    e = np.unique(np.round(np.logspace(0, np.log10(n + 1), bins + 1) - 1).astype(np.int64))
    e = np.unique(np.concatenate([[0], e[(e > 0) & (e < n)], [n]]))
    return e


def welch_bound(count: int, m: int) -> float:
    """κ = √((ν−m)/(m(ν−1))): no ν unit vectors in m dimensions have all |w_i·w_j| below it (Liu et
    al. Eq. 5); 0 when ν <= m (they can be orthogonal)."""
    return float(np.sqrt((count - m) / (m * (count - 1)))) if count > m else 0.0


def mean_squared_overlap(W, mask=None) -> float:
    """mean_{i≠j} (Ŵ_i·Ŵ_j)² over the features of ``mask`` (default: every nonzero feature), from the
    m×m Ŵ Ŵᵀ: Σ_{i,j} (Ŵ_i·Ŵ_j)² = ‖Ŵ Ŵᵀ‖_F², less the ν diagonal ones. 0 for fewer than 2 features.

    :param W: (shape: [n_hidden, n_features])
    """
    W = np.asarray(W, dtype=np.float64)
    norms = np.sqrt(np.sum(W * W, axis=0))
    keep = (norms > 0) if mask is None else (np.asarray(mask) & (norms > 0))
    nu = int(keep.sum())
    if nu < 2:
        return 0.0
    Wh = W[:, keep] / norms[keep]
    g = Wh @ Wh.T
    return float((np.sum(g * g) - nu) / (nu * (nu - 1)))


@dataclass
class FeatureSummary:
    """One instance's summary at one snapshot (see the module docstring).

    :param norms, dims: (shape: [n_features]) ‖W_i‖, D_i, in feature order
    :param overlap: (shape: [n_features], or [R] for the features ``sampled``) max_{j≠i} |Ŵ_i·Ŵ_j|
    :param represented: φ_1/2, the fraction of features with ‖W_i‖ > 1/2
    :param sampled: (shape: [R]) the features of ``overlap`` (:func:`overlap_rows`), or None (all)
    """

    norms: np.ndarray
    dims: np.ndarray
    overlap: np.ndarray
    represented: float
    mean_sq_overlap: float = 0.0  # mean_{i≠j} (Ŵ_i·Ŵ_j)² of the features with ‖W_i‖ > 1/2
    sampled: np.ndarray | None = None

    @property
    def overlap_represented(self) -> np.ndarray:
        """The overlaps of the represented features (‖W_i‖ > 1/2) among those computed."""
        norms = self.norms if self.sampled is None else self.norms[self.sampled]
        return self.overlap[norms > HALF]

    @property
    def overlap_sampled(self) -> int:
        """How many represented features the overlaps come from when not all of them (0: all)."""
        n_rep = int(np.sum(self.norms > HALF))
        got = len(self.overlap_represented)
        return got if got < n_rep else 0

    @property
    def mean_overlap(self) -> float:
        """The mean of max_{j≠i} |Ŵ_i·Ŵ_j| over the features with ‖W_i‖ > 1/2 (0 when none; over the
        represented features of the sample when ``sampled``)."""
        v = self.overlap_represented
        return float(v.mean()) if len(v) else 0.0

    @property
    def total_dims(self) -> float:
        """Σ_i D_i: the dimensions the features use (at most n_hidden)."""
        return float(self.dims.sum())


def feature_summary(W, chunk: int | None = None, sample: int | None = OVERLAP_SAMPLE) -> FeatureSummary:
    """:class:`FeatureSummary` of one instance's weights (W: shape [n_hidden, n_features]); above ``sample``
    features the overlaps of the represented ones, at most ``sample`` (:func:`overlap_rows`; None: all)."""
    W = np.asarray(W, dtype=np.float64)
    norms = geometry.feature_norms(W)
    rep = norms > HALF
    rows = overlap_rows(norms, sample)
    return FeatureSummary(norms, geometry.dimensionality(W), max_overlaps(W, chunk, rows), float(np.mean(rep)),
                          mean_squared_overlap(W, rep), rows)


def histogram(values, bins: int = HIST_BINS) -> np.ndarray:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1] (1 in the last bin). (shape: [bins])"""
    return np.histogram(np.clip(np.asarray(values, np.float64), 0.0, 1.0), bins=bins, range=(0.0, 1.0))[0]


def rank_curve(norms, order: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The norms by frequency rank, per log-spaced rank bin: (shape: [3, B]) rows min, median, max."""
    v = np.asarray(norms, np.float64)[order]
    out = np.empty((3, len(edges) - 1))
    for q, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        s = v[a:b]
        out[:, q] = s.min(), np.median(s), s.max()
    return out


#: the scalars of :func:`summary_row`, in order
SCALARS = ("represented", "mean_dims", "total_dims", "mean_overlap", "mean_sq_overlap")


def summary_row(s: FeatureSummary, order: np.ndarray, edges: np.ndarray, bins: int = HIST_BINS) -> dict[str, np.ndarray]:
    """What a page or frame draws of one summary: the rank curve [3, B], the D_i and overlap
    histograms [bins] (the overlap of represented features only; from a sample, its counts scaled to
    all represented features) and the :data:`SCALARS` [5]."""
    over = s.overlap_represented
    n_rep = int(np.sum(s.norms > HALF))
    hist = histogram(over, bins).astype(np.float64)
    if s.sampled is not None and len(over):
        hist *= n_rep / len(over)
    return {"rank": rank_curve(s.norms, order, edges), "dims_hist": histogram(s.dims, bins),
            "overlap_hist": hist,
            "scalars": np.array([s.represented, float(s.dims.mean()), s.total_dims, s.mean_overlap, s.mean_sq_overlap])}
