"""Essential dynamics and LLC jumps (animsup.analysis.landscape) on constructed inputs."""

import numpy as np
import pytest

from animsup.analysis.events import Event
from animsup.analysis.landscape import (align_jumps_with_loss_drops, essential_dynamics, joint_essential_dynamics,
                                        llc_jumps, pca, trajectory)


def test_pca_of_a_straight_line_is_one_component():
    t = np.linspace(0, 1, 11)
    direction = np.array([3.0, 4.0, 0.0])
    theta = 2.0 + t[:, None] * direction
    comps, expl = pca(theta, 3)
    assert expl == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)
    # PC1 is the centred position along the line, in the line's length units (|direction| = 5)
    assert np.abs(comps[:, 0]) == pytest.approx(np.abs(5 * (t - 0.5)), abs=1e-9)
    assert np.diff(comps[:, 0]) == pytest.approx(np.full(10, np.diff(comps[:, 0])[0]))    # evenly spaced: a line


def test_pca_of_a_circle_splits_the_variance_evenly():
    a = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    theta = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], 1)
    comps, expl = pca(theta, 2)
    assert expl == pytest.approx([0.5, 0.5], abs=1e-9)
    assert np.hypot(comps[:, 0], comps[:, 1]) == pytest.approx(np.ones(400), abs=1e-9)


def test_essential_dynamics_flattens_W_b_and_W_dec_per_instance():
    T, K, m, n = 6, 2, 2, 3
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(T, K, m, n)), rng.normal(size=(T, K, n))
    assert trajectory(W[:, 0], b[:, 0]).shape == (T, m * n + n)
    comps, expl = essential_dynamics(W, b, None, 2)
    assert comps.shape == (K, T, 2) and expl.shape == (K, 2)
    ref, _ = pca(trajectory(W[:, 1], b[:, 1]), 2)
    assert comps[1] == pytest.approx(ref)
    joint, jexpl = joint_essential_dynamics(W, b, None, 2)
    assert joint.shape == (K, T, 2) and jexpl.sum() <= 1 + 1e-12


def test_llc_jumps_need_size_and_significance_and_merge_runs():
    steps = np.arange(8) * 100
    mean = np.array([1.0, 1.02, 1.0, 2.0, 3.0, 3.05, 3.0, 3.0])
    std = np.full(8, 0.1)
    jumps = llc_jumps(steps, mean, std, chains=4)
    assert [(j.step_from, j.step) for j in jumps] == [(200, 400)]          # 1 -> 2 -> 3 merged
    assert jumps[0].llc_from == 1.0 and jumps[0].llc_to == 3.0 and "rises" in jumps[0].text
    # the same rise inside the chains' spread is no jump
    assert llc_jumps(steps, mean, np.full(8, 2.0), chains=4) == []
    # NaN estimates are skipped, a fall is reported as one
    mean2 = np.array([3.0, np.nan, 1.0, 1.0])
    (fall,) = llc_jumps(steps[:4], mean2, np.full(4, 0.1), chains=4)
    assert (fall.step_from, fall.step) == (0, 200) and "falls" in fall.text


def test_jumps_line_up_with_the_loss_drop_inside_them():
    steps = np.arange(8) * 100
    (jump,) = llc_jumps(steps, [1, 1, 1, 3, 3, 3, 3, 3], np.full(8, 0.1), chains=4)
    drops = [Event(250, "loss_drop", "loss drops"), Event(700, "loss_drop", "later")]
    (aligned,) = align_jumps_with_loss_drops([jump], drops)
    assert aligned.loss_drop_step == 250 and aligned.to_dict()["loss_drop_step"] == 250
    assert align_jumps_with_loss_drops([jump], [Event(900, "loss_drop", "")])[0].loss_drop_step is None
