"""The LLC jump rule (issue 23): only changes of level that hold, between usable estimates."""

import numpy as np

from animsup.analysis.landscape import first_represented_step, llc_jumps, llc_jumps_of


def _pairs(jumps):
    return [(j.step_from, j.step) for j in jumps]


def test_noise_flips_are_not_jumps_but_a_persistent_change_is():
    steps = np.arange(10) * 10
    # a level of 1.0 with one-snapshot spikes (1.5, 0.6) that fall back, then a real rise to 3.0
    mean = [1.0, 1.5, 1.0, 0.6, 1.0, 1.0, 3.0, 3.1, 3.0, 3.0]
    jumps = llc_jumps(steps, mean, np.full(10, 0.05), chains=4)
    assert _pairs(jumps) == [(50, 60)]
    assert jumps[0].llc_from == 1.0 and jumps[0].llc_to == 3.0
    # the last change has no later estimate to hold against: it counts when large enough
    assert _pairs(llc_jumps(steps[:3], [1.0, 1.0, 3.0], np.full(3, 0.05), chains=4)) == [(10, 20)]


def test_sign_flipping_early_estimates_give_no_jump():
    # the newcomer's run: 0.11 -> -0.02 -> 0.06 with small chain spread, then a level of 0.3
    steps = np.array([4, 5, 6, 7, 8, 100, 200])
    mean = [0.11, -0.02, 0.06, -0.1, 0.12, 0.3, 0.3]
    jumps = llc_jumps(steps, mean, np.full(7, 0.02), chains=4)
    assert _pairs(jumps) == [(8, 100)]          # only the rise to the held level, no flip
    # from the first represented feature on (step 100), nothing is left
    assert llc_jumps(steps, mean, np.full(7, 0.02), chains=4, start_step=100) == []


def test_unsettled_negative_or_diverged_estimates_take_no_part():
    steps = np.arange(4) * 10
    mean = np.array([1.0, 1.0, 3.0, 3.0])
    std = np.full(4, 0.05)
    assert _pairs(llc_jumps(steps, mean, std, chains=4)) == [(10, 20)]
    # the new level unsettled at both of its snapshots: no jump
    assert llc_jumps(steps, mean, std, 4, settled=[True, True, False, False]) == []
    # a diverged chain at the new level: no jump
    assert llc_jumps(steps, mean, std, 4, diverged=[0, 0, 1, 1]) == []
    # a negative old level is no level: nothing to jump from
    assert llc_jumps(steps, [-1.0, -1.0, 3.0, 3.0], std, 4) == []
    # before start_step (no feature represented yet) nothing counts
    assert llc_jumps(steps, mean, std, 4, start_step=20) == []


def test_llc_jumps_of_reads_the_sidecar_flags():
    steps = np.arange(4) * 10
    mean = np.array([[1.0, 1.0], [1.0, 1.0], [3.0, 3.0], [3.0, 3.0]])
    llc = {"mean": mean, "std": np.full((4, 2), 0.05), "chains": np.zeros((4, 2, 4)),
           "settled": np.array([[1, 1], [1, 1], [1, 0], [1, 0]], bool), "diverged": np.zeros((4, 2)),
           "settings": {"chains": 4}}
    assert _pairs(llc_jumps_of(steps, llc, 0)) == [(10, 20)]
    assert llc_jumps_of(steps, llc, 1) == []


def test_first_represented_step():
    W = np.zeros((3, 2, 4))
    W[2, 0, 1] = 0.9
    assert first_represented_step([0, 5, 9], W) == 9
    assert first_represented_step([0, 5, 9], np.zeros((3, 2, 4))) is None
