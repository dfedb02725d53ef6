"""The chance baseline of the SAE scores (random unit decoders, the same targets, the same scoring
functions) on cases whose answers are known, and the warnings of sae_metrics.score_notes."""

import math

import numpy as np
import pytest

from animsup.analysis import sae_metrics as sm


def test_in_one_dimension_every_direction_is_plus_or_minus_the_target():
    """In 1-D a unit vector is ±1: with 30 latents one points along the target in every draw
    (all 30 against it: probability 2⁻³⁰ per draw), so both scores are exactly 1, whatever its sign."""
    for t in (2.0, -3.0):
        assert sm.chance([[t]], 30) == (1.0, 1.0)
    # one latent: cos = ±1 per draw; the signed scores flip with the target (the same draws)
    plus, minus = sm.chance([[1.0]], 1), sm.chance([[-1.0]], 1)
    assert plus[0] == pytest.approx(-minus[0]) and plus[0] == plus[1]
    draws = sm.chance_draws(1)
    assert round((plus[0] + 1) / 2 * draws, 9) == round((plus[0] + 1) / 2 * draws)  # (2·#along − draws) / draws


def test_in_high_dimension_random_directions_miss():
    """d = 200, 2 orthogonal targets, 2 latents: each cosine is ≈ N(0, 1/d), so the max of two is
    ≈ σ/√π = 1/√(200π) = 0.040 on average (standard error over 32 draws × 2 targets ≈ 0.008)."""
    truth = np.eye(200)[:2]
    mmcs, matched = sm.chance(truth, 2)
    assert mmcs < 0.4 and matched < 0.4
    assert abs(mmcs - 1 / math.sqrt(200 * math.pi)) < 0.03
    assert abs(matched) < 0.03  # one-to-one: each target gets one latent of mean cosine 0


def test_deterministic_and_scored_against_the_same_targets():
    truth = np.random.default_rng(3).normal(size=(4, 3))
    np.random.seed(1)
    a = sm.chance(truth, 7)
    np.random.seed(2)
    assert sm.chance(truth, 7) == a  # its own seed, not the global random state
    d = sm.random_unit_decoders(7, 3, 5)
    assert d.shape == (5, 7, 3) and np.allclose(np.linalg.norm(d, axis=-1), 1)
    # a zero target (a feature the toy does not represent) scores 0 for random decoders too, as for the SAE:
    # the same draws (chance_draws(1) == chance_draws(2)) give exactly half the one-target scores
    t = truth[:1]
    assert sm.chance_draws(1) == sm.chance_draws(2)
    one, with_zero = sm.chance(t, 7), sm.chance(np.concatenate([t, np.zeros((1, 3))]), 7)
    assert with_zero[0] == pytest.approx(one[0] / 2) and with_zero[1] == pytest.approx(one[1] / 2)


def test_score_carries_the_chance_of_its_own_shape():
    truth = np.eye(3)
    s = sm.score(np.eye(3), truth, np.eye(3), np.eye(3), np.eye(3))
    assert (s.mmcs_chance, s.matched_chance) == sm.chance(truth, 3)
    assert s.to_dict()["mmcs_chance"] == s.mmcs_chance


def _scores(mmcs, chance, shrinkage=1.0):
    return sm.SaeScores(mmcs=mmcs, matched=mmcs, dead=0, dense=0, l0=1, shrinkage=shrinkage, mse=0,
                        match=np.zeros(1, np.int64), mmcs_chance=chance, matched_chance=chance)


def test_notes_within_chance_and_shrinkage_far_from_one():
    assert sm.score_notes([_scores(0.95, 0.8)], 5, 2) == []  # 0.15 above chance, shrinkage 1
    notes = sm.score_notes([_scores(0.95, 0.8), _scores(0.95, 0.9)], 600, 3)
    assert len(notes) == 2 and notes[0].startswith("MMCS is less than 0.1 above chance for 1 of 2 SAEs (0.950; "
                                                   "600 random unit directions in 3 dimensions score 0.900)")
    assert notes[1].startswith("matched cosine is less than 0.1 above chance for 1 of 2 SAEs")
    assert sm.score_notes([_scores(0.95, float("nan"))], 5, 2) == []  # no baseline: nothing claimed
    for s, far in ((1.4, False), (0.6, False), (1.6, True), (0.45, True), (6.1, True), (float("nan"), False)):
        got = sm.score_notes([_scores(0.99, 0.5, s)], 5, 2)
        assert bool(got) == far and all(n.startswith("shrinkage ‖ĥ‖/‖h‖ is far from 1 for 1 of 1 SAEs") for n in got)
        assert all(n.endswith("overshooting: too few steps?" if s > 1 else "shrunk: too strong a penalty?") for n in got)


def test_far_shrinkage_bounds_the_reconstruction_error():
    """The reason for SHRINKAGE_FAR: mean ‖ĥ − h‖/‖h‖ >= |shrinkage − 1| (triangle inequality, then Jensen)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        h = rng.normal(size=(50, 3))
        h_hat = h * rng.uniform(0, 4, size=(50, 1)) + rng.normal(scale=rng.uniform(0, 2), size=(50, 3))
        err = np.mean(np.linalg.norm(h_hat - h, axis=1) / np.linalg.norm(h, axis=1))
        assert err >= abs(sm.shrinkage(h, h_hat) - 1) - 1e-12
