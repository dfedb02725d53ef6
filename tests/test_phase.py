"""animsup.phase: the extra feature's class, the n=2, m=1 closed forms (checked by sampling the
three weight configurations they describe), and the boundary band."""

import numpy as np
import pytest

from animsup.phase import (DEDICATED, NOT_LEARNED, SUPERPOSITION, analytic_losses_n2m1, analytic_phase_n2m1,
                           boundary_band, classify_extra, sampled_loss)


@pytest.mark.parametrize("r, s", [(0.3, 0.5), (2.0, 0.2), (1.0, 0.05)])
def test_closed_forms_equal_the_sampled_loss_of_each_configuration(r, s):
    rng = np.random.default_rng(0)
    B = 400_000
    x = rng.random((1, 2, B)) * (rng.random((1, 2, B)) < s)
    imp = np.array([[1.0, r]])
    configs = [  # ignore the extra feature (its output is the bias E[x] = s/2), give it the dimension, antipodal
        (np.array([[[1.0, 0.0]]]), np.array([[0.0, s / 2]])),
        (np.array([[[0.0, 1.0]]]), np.array([[s / 2, 0.0]])),
        (np.array([[[1.0, -1.0]]]), np.array([[0.0, 0.0]])),
    ]
    expected = analytic_losses_n2m1(r, s)
    for (W, b), want in zip(configs, expected):
        got = sampled_loss(W, b, imp, x)[0]
        assert abs(got - want) < 0.02 * want + 1e-4


def test_analytic_phase_regions_and_triple_point():
    assert analytic_phase_n2m1(0.1, 0.5) == NOT_LEARNED
    assert analytic_phase_n2m1(10.0, 0.5) == DEDICATED
    assert analytic_phase_n2m1(1.0, 0.05) == SUPERPOSITION
    # superposition needs s < 4r/(2+5r) = 0.16 at r = 0.1 and s < 4/(5+2r) = 0.16 at r = 10
    assert analytic_phase_n2m1(0.1, 0.155) == SUPERPOSITION and analytic_phase_n2m1(0.1, 0.165) == NOT_LEARNED
    assert analytic_phase_n2m1(10, 0.155) == SUPERPOSITION and analytic_phase_n2m1(10, 0.165) == DEDICATED
    L = analytic_losses_n2m1(1.0, 4 / 7)
    np.testing.assert_allclose(L, L[0])  # the triple point: all three equal


def test_classify_extra_feature():
    W = np.array([
        [[1.0, -0.9]],   # antipodal: superposition
        [[0.0, 1.0]],    # the extra feature alone: dedicated
        [[1.0, 0.1]],    # extra ~ 0: not learned
    ])
    np.testing.assert_array_equal(classify_extra(W), [SUPERPOSITION, DEDICATED, NOT_LEARNED])
    W3 = np.array([[[1, 0, 0], [0, 1, 1.0]]])  # n=3, m=2: extra shares feature 1's direction
    assert classify_extra(W3)[0] == SUPERPOSITION


def test_boundary_band_marks_cells_next_to_another_class():
    c = np.array([[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]])
    band = boundary_band(c)
    np.testing.assert_array_equal(band, [[0, 0, 1, 1]] * 3)
