"""animsup.analysis.large: the summary of a large model, checked against direct numpy computations
with the n×n matrix (the paper's formulas) and hand-made cases."""

import numpy as np
import pytest

from animsup.analysis import large


def _random_W(m=5, n=37, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(m, n)) * rng.uniform(0, 1.4, n)
    W[:, 3] = 0.0  # a feature with no direction
    return W


def _direct(W):
    """norms, D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)² and max_{j≠i} |Ŵ_i·Ŵ_j| (zero features: 0) from WᵀW (n × n)."""
    norms = np.linalg.norm(W, axis=0)
    Wh = np.where(norms > 0, W / np.where(norms > 0, norms, 1), 0.0)
    proj = Wh.T @ W  # [i, j] = Ŵ_i·W_j
    denom = (proj**2).sum(1)
    dims = np.where(denom > 0, norms**2 / np.where(denom > 0, denom, 1), 0.0)
    cos = np.abs(Wh.T @ Wh)
    np.fill_diagonal(cos, 0.0)
    return norms, dims, cos.max(1)


def test_summary_equals_direct_computation_and_chunks_do_not_matter():
    W = _random_W()
    norms, dims, over = _direct(W)
    for chunk in (None, 1, 4, 36, 1000):
        s = large.feature_summary(W, chunk=chunk)
        np.testing.assert_allclose(s.norms, norms, rtol=1e-12)
        np.testing.assert_allclose(s.dims, dims, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(s.overlap, over, atol=2e-6)  # the overlap product runs in float32
    assert s.overlap[3] == 0.0 and s.dims[3] == 0.0
    assert s.represented == pytest.approx(np.mean(norms > 0.5))


def test_hand_made_cases():
    # an antipodal pair on one dimension: D = 1/2 each, overlap 1; a dedicated feature: D = 1, overlap 0
    W = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.8]])
    s = large.feature_summary(W)
    np.testing.assert_allclose(s.dims, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(s.overlap, [1.0, 1.0, 0.0], atol=1e-7)
    assert s.represented == 1.0 and s.total_dims == pytest.approx(2.0)
    # a triangle in the plane: D = 2/3, |cos 120°| = 1/2; a weak fourth feature (norm 0.3) is not represented
    a = np.radians([90, 210, 330])
    W = np.hstack([np.stack([np.cos(a), np.sin(a)]), [[0.3], [0.0]]])
    s = large.feature_summary(W)
    np.testing.assert_allclose(s.dims[:3], 2 / 3 * np.ones(3), rtol=0.1)  # the weak feature adds a little
    assert s.represented == 0.75
    assert s.mean_overlap == pytest.approx(np.mean(s.overlap[:3]))


def test_auto_threshold_and_views():
    assert large.use_summary(large.SUMMARY_ABOVE + 1, 3) and not large.use_summary(large.SUMMARY_ABOVE, 3)
    assert not large.use_summary(10**5, 2)  # the plane: O(n) arrows, crowded labels thinned
    assert large.use_summary(5, 2, "summary") and not large.use_summary(10**5, 64, "full")
    assert large.use_summary(9, 3, "auto", above=8) and not large.use_summary(8, 3, "auto", above=8)


def test_rank_bins_histograms_and_frequency_order():
    for n in (1, 2, 7, 160, 161, 10_240):
        e = large.rank_edges(n)
        assert e[0] == 0 and e[-1] == n and np.all(np.diff(e) >= 1) and len(e) - 1 <= large.RANK_BINS
    norms = np.array([0.1, 0.9, 0.5, 0.2])
    order = large.frequency_order([0.1, 0.4, 0.4, 0.05])  # most frequent first, ties in index order
    assert order.tolist() == [1, 2, 0, 3]
    curve = large.rank_curve(norms, order, np.array([0, 1, 4]))
    np.testing.assert_allclose(curve, [[0.9, 0.1], [0.9, 0.2], [0.9, 0.5]])  # ranks 2-4: 0.5, 0.1, 0.2
    h = large.histogram([0.0, 0.5, 1.0, 1.0], bins=4)
    assert h.tolist() == [1, 0, 1, 2]


def test_welch_bound_and_mean_squared_overlap():
    # a triangle in the plane is an equiangular tight frame: every |cos| = 1/2 = κ(3, 2) (Liu et al. Eq. 5)
    a = np.radians([90, 210, 330])
    tri = np.stack([np.cos(a), np.sin(a)])
    assert large.welch_bound(3, 2) == pytest.approx(0.5)
    assert large.max_overlaps(tri) == pytest.approx([0.5] * 3, abs=1e-6)
    assert large.mean_squared_overlap(tri) == pytest.approx(0.25)
    assert large.welch_bound(2, 2) == 0.0 and large.welch_bound(10**6, 4) == pytest.approx(0.5, rel=1e-3)
    W = _random_W()
    norms = np.linalg.norm(W, axis=0)
    mask = norms > 0.5
    Wh = W[:, mask] / norms[mask]
    c2 = (Wh.T @ Wh) ** 2
    nu = int(mask.sum())
    assert large.mean_squared_overlap(W, mask) == pytest.approx((c2.sum() - np.trace(c2)) / (nu * (nu - 1)))
    assert large.feature_summary(W).mean_sq_overlap == pytest.approx(large.mean_squared_overlap(W, mask))


def test_overlaps_of_represented_features_above_the_sample_size():
    # above OVERLAP_SAMPLE features: the represented features' overlaps only (the histogram and the mean are
    # theirs), exact; of more represented features than the sample, an evenly spaced sample of them
    W = _random_W(m=6, n=90, seed=3)
    norms, _, over = _direct(W)
    rep = np.flatnonzero(norms > large.HALF)
    assert 20 < len(rep) < 90
    assert large.overlap_rows(norms, sample=90) is None
    np.testing.assert_array_equal(large.overlap_rows(norms, sample=len(rep)), rep)
    s = large.feature_summary(W, sample=len(rep))
    np.testing.assert_allclose(s.overlap, over[rep], atol=2e-6)
    assert s.overlap_sampled == 0 and s.mean_overlap == pytest.approx(over[rep].mean(), abs=2e-6)
    full = large.summary_row(large.feature_summary(W), np.arange(90), large.rank_edges(90))
    row = large.summary_row(s, np.arange(90), large.rank_edges(90))
    np.testing.assert_allclose(row["overlap_hist"], full["overlap_hist"])  # the same represented features
    rows = large.overlap_rows(norms, sample=20)
    assert len(rows) == 20 and rows[0] == rep[0] and rows[-1] == rep[-1] and set(rows) <= set(rep)
    np.testing.assert_allclose(large.max_overlaps(W, rows=rows, chunk=7), over[rows], atol=2e-6)
    s = large.feature_summary(W, sample=20)
    assert s.overlap_sampled == 20 and s.mean_overlap == pytest.approx(over[rows].mean(), abs=2e-6)
    row = large.summary_row(s, np.arange(90), large.rank_edges(90))
    # the histogram counts all represented features (the sample's counts scaled by n_rep / 20)
    assert row["overlap_hist"].sum() == pytest.approx(len(rep))
    np.testing.assert_allclose(row["overlap_hist"] * 20 / len(rep), large.histogram(over[rows]))
