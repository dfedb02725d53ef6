"""Data-point dimensionality and the double-descent peak on hand-made cases."""

import numpy as np
import pytest

from animsup.analysis.finite_data import dimensionality_split, double_descent_peak, hidden_vectors


def _polygon(k, r=1.0):
    a = 2 * np.pi * np.arange(k) / k
    return r * np.stack([np.cos(a), np.sin(a)])


def test_regular_polygons_share_two_dimensions():
    # data points: a pentagon (each D = 2/5); features: two orthogonal directions (D = 1 each) and a zero one
    W = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    s = dimensionality_split(W, _polygon(5, 0.3))
    assert s["data_sum"] == pytest.approx(2.0) and s["data_max"] == pytest.approx(0.4)
    assert s["feature_sum"] == pytest.approx(2.0) and s["feature_max"] == pytest.approx(1.0)


def test_hidden_vectors_are_w_x():
    W = np.array([[1.0, 2.0], [0.0, -1.0]])
    X = np.array([[1.0, 0.0], [0.5, 1.0]])  # samples as columns
    assert np.allclose(hidden_vectors(W, X), [[2.0, 2.0], [-0.5, -1.0]])


def test_peak_falls_rises_falls():
    pk = double_descent_peak([1, 10, 100, 1000, 10_000], [3.0, 2.0, 4.0, 1.0, 0.5])
    assert pk["peak_T"] == 100 and pk["peak_loss"] == 4.0 and pk["double_descent"]
    assert pk["rise_left"] == pytest.approx(2.0) and pk["rise_right"] == pytest.approx(8.0)


def test_monotone_curves_are_not_double_descent():
    assert not double_descent_peak([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0])["double_descent"]
    assert not double_descent_peak([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])["double_descent"]
    assert double_descent_peak([1, 2], [1.0, 2.0])["peak_T"] is None
    with pytest.raises(ValueError):
        double_descent_peak([2, 1, 3], [1.0, 2.0, 3.0])
