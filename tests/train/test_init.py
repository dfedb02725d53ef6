"""The notebook's initialisation: xavier_normal_ on the whole [n_instances, n_features, n_hidden] tensor."""

import math

import numpy as np
import pytest

from animsup.train.config import TrainConfig
from animsup.train.numpy_model import init_params


def test_notebook_init_std_at_the_feature_geometry_setting():
    """n=200, m=20, 20 instances (the notebook's feature-geometry run): std = √(2/(m·(n + n_instances)))."""
    torch = pytest.importorskip("torch")
    n, m, k = 200, 20, 20
    W = init_params(n, m, list(range(k)), "notebook")["W"]
    expected = math.sqrt(2 / (m * (n + k)))  # 0.02132
    # torch's own xavier_normal_ on the notebook's tensor is the oracle for the formula
    T = torch.nn.init.xavier_normal_(torch.empty(k, n, m), generator=torch.Generator().manual_seed(0))
    assert float(T.std()) == pytest.approx(expected, rel=0.02)
    assert float(W.std()) == pytest.approx(expected, rel=0.02)  # 80,000 draws: ~0.25% noise
    assert abs(float(W.mean())) < 3 * expected / math.sqrt(W.size)
    # 4.5x smaller than drawing each instance's [m, n] matrix on its own (√(2/(n+m)) = 0.0953)
    per_instance = init_params(n, m, list(range(k)), "xavier-per-instance")["W"]
    assert float(per_instance.std()) / float(W.std()) == pytest.approx(math.sqrt(m * (n + k) / (n + m)), rel=0.03)


def test_notebook_init_is_the_default_and_depends_on_n_instances():
    assert TrainConfig().init == "notebook"
    one = init_params(5, 2, [3], "notebook")["W"][0]
    ten = init_params(5, 2, list(range(10)), "notebook")["W"][3]
    # the same direction (each instance's own seed), scaled by √((n + 1) / (n + 10))
    np.testing.assert_allclose(ten, one * math.sqrt((5 + 1) / (5 + 10)), rtol=1e-6)


def test_logs_written_before_the_rename_resume_with_their_init():
    assert TrainConfig.from_dict({"init": "xavier"}).init == "xavier-per-instance"
