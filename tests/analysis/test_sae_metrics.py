"""SAE scores on hand-made cases whose answers are known by construction; the Hungarian
assignment against exhaustive search."""

import math

import numpy as np
import pytest

from animsup.analysis import sae_metrics as sm


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (3, 5), (5, 3), (2, 6), (6, 4)])
def test_assignment_equals_brute_force(shape):
    rng = np.random.default_rng(shape[0] * 10 + shape[1])
    for _ in range(20):
        cost = rng.normal(size=shape)
        if rng.random() < 0.3:
            cost = np.round(cost)  # ties
        rows, cols = sm.linear_assignment(cost)
        assert len(rows) == min(shape) and len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
        assert cost[rows, cols].sum() == pytest.approx(sm.brute_force_assignment(cost))


def test_assignment_refuses_non_finite():
    with pytest.raises(ValueError):
        sm.linear_assignment([[1.0, np.inf]])


def test_perfect_decoder_scores_one_even_permuted_and_scaled():
    truth = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, 0.8]])
    dec = truth[[2, 0, 3, 1]] * np.array([[2.0], [0.5], [3.0], [1.0]])
    assert sm.mmcs(dec, truth) == pytest.approx(1.0)
    m, match = sm.matched_cosine(dec, truth)
    assert m == pytest.approx(1.0)
    assert list(match) == [1, 3, 0, 2]


def test_mmcs_counts_one_latent_twice_matching_does_not():
    truth = np.array([[1.0, 0.0], [0.0, 1.0]])
    dec = np.array([[1.0, 1.0], [-1.0, -1.0]])  # one useful direction at 45°, one opposite
    c45 = 1 / math.sqrt(2)
    assert sm.mmcs(dec, truth) == pytest.approx(c45)  # both true features take latent 0
    m, _ = sm.matched_cosine(dec, truth)
    assert m == pytest.approx((c45 - c45) / 2)  # one of them must take the opposite latent


def test_fewer_latents_than_features():
    truth = np.eye(3)
    m, match = sm.matched_cosine(np.eye(3)[:2], truth)
    assert m == pytest.approx(2 / 3)
    assert list(match) == [0, 1, -1]


def test_dead_dense_l0():
    acts = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 1.0, 0.0, 0.0], [0.0, 3.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    assert list(sm.firing(acts)) == [0.0, 1.0, 0.25, 0.25]
    assert sm.l0(acts) == pytest.approx((2 + 1 + 2 + 1) / 4)
    s = sm.score(np.eye(4), np.eye(4), acts, np.ones((4, 4)), np.ones((4, 4)), dense_threshold=0.5)
    assert s.dead == 0.25 and s.dense == 0.25 and s.mse == 0.0


def test_shrinkage_is_the_norm_ratio():
    h = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
    h_hat = np.array([[1.5, 2.0], [5.0, 5.0], [0.0, 0.8]])  # ratios 0.5, (skipped: h = 0), 0.8
    assert sm.shrinkage(h, h_hat) == pytest.approx(0.65)
    assert math.isnan(sm.shrinkage(np.zeros((2, 2)), np.ones((2, 2))))


def test_absorption_by_hand():
    # features: 0 parent, 1 child (only with the parent); latent 0 is the parent's
    x = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0]], float)
    acts = np.zeros((9, 2))
    acts[[0, 1, 2], 0] = 1.0  # misses one of 4 parent-alone samples: 0.25
    acts[[4], 0] = 1.0  # fires on 1 of 4 child samples: misses 0.75
    assert sm.absorption(acts, x, parent=0, child=1, parent_latent=0) == pytest.approx(0.75 - 0.25)
    acts[:8, 0] = 1.0
    assert sm.absorption(acts, x, parent=0, child=1, parent_latent=0) == 0.0
    assert math.isnan(sm.absorption(acts, x[:4], parent=0, child=1, parent_latent=0))
