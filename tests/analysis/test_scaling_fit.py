"""The power-law fit on exact and noisy power laws."""

import numpy as np
import pytest

from animsup.analysis.scaling import fit_power_law


def test_exact_power_law():
    m = np.array([8, 16, 32, 64, 128])
    f = fit_power_law(m, 3.0 * m**-1.0)
    assert f["exponent"] == pytest.approx(1.0) and f["prefactor"] == pytest.approx(3.0) and f["r2"] == pytest.approx(1.0)
    assert fit_power_law(m, 0.5 * m**-0.2)["exponent"] == pytest.approx(0.2)


def test_bad_input():
    with pytest.raises(ValueError):
        fit_power_law([1], [1])
    with pytest.raises(ValueError):
        fit_power_law([1, 2], [1, 0])
