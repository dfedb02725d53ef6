"""Finite training sets (animsup.train.finite): the logged losses against an independent numpy
evaluation, instances independent of the batch they train in, the regenerated sets, the schedule."""

import math

import numpy as np
import pytest

from animsup.errors import AnimsupError
from animsup.log.reader import read_log
from animsup.train import finite as F


def _mse(W, b, X):
    """numpy oracle: mean over samples and features of (ReLU(WᵀWx + b) - x)²; X: [n, T]."""
    W, b, X = (np.asarray(a, np.float64) for a in (W, b, X))
    y = np.maximum(W.T @ (W @ X) + b[:, None], 0.0)
    return float(np.mean((y - X) ** 2))


def _cfg(**kw):
    base = dict(n_features=12, n_hidden=2, feature_probability=0.2, train_sizes=[3, 40], seeds=[0], test_size=200,
                steps=60, warmup_steps=5, lr=1e-2, snapshots=6, test_every=20)
    base.update(kw)
    return F.FiniteConfig(**base)


def test_logged_losses_match_numpy_and_the_sets_regenerate(tmp_path):
    cfg = _cfg()
    res = F.train_finite(cfg, tmp_path / "f.jsonl")
    run = read_log(tmp_path / "f.jsonl")
    sets = F.training_sets_of(run.header)
    assert [s.shape for s in sets] == [(12, 3), (12, 40)]
    assert np.allclose(np.linalg.norm(sets[1], axis=0)[np.abs(sets[1]).sum(0) > 0], 1.0, atol=1e-6)  # L2-normalised
    test = F.test_set(12, 0.2, 200, 0)
    steps, values = run.curves["test_loss"]
    assert list(steps) == [0, 20, 40, 60] and values.shape == (4, 2)
    for i in range(2):  # the last snapshot's params: train loss (snapshot), test loss (curve), hidden vectors
        W, b = run.W[-1, i], run.b[-1, i]
        assert run.loss[-1, i] == pytest.approx(_mse(W, b, sets[i]), rel=1e-4)
        assert values[-1, i] == pytest.approx(_mse(W, b, test), rel=1e-4)
        assert np.allclose(res.hidden[i], W @ sets[i], atol=1e-5)
    assert res.test_loss[0] > 3 * res.train_loss[0]  # T = 3 is memorised: far better on its own examples


def test_each_instance_trains_as_if_alone(tmp_path):
    both = F.train_finite(_cfg(train_sizes=[3, 40]), tmp_path / "a.jsonl")
    alone = F.train_finite(_cfg(train_sizes=[40]), tmp_path / "b.jsonl")
    assert np.allclose(both.W[1], alone.W[0], atol=1e-6) and np.allclose(both.b[1], alone.b[0], atol=1e-6)


def test_schedule_warms_up_then_decays_to_zero():
    cfg = _cfg(steps=100, warmup_steps=10, lr=2.0)
    assert F.lr_at(0, cfg) == pytest.approx(0.2) and F.lr_at(9, cfg) == pytest.approx(2.0)
    assert F.lr_at(10, cfg) == pytest.approx(2.0)
    assert F.lr_at(55, cfg) == pytest.approx(1.0)  # half way through the cosine
    assert F.lr_at(100, cfg) == pytest.approx(0.0, abs=1e-12)
    assert math.isclose(F.lr_at(99, cfg), 2.0 * 0.5 * (1 + math.cos(math.pi * 89 / 90)))


def test_bad_configs_and_foreign_logs_are_refused(tmp_path):
    for kw in ({"train_sizes": []}, {"train_sizes": [0]}, {"feature_probability": 0.0}, {"warmup_steps": 60}):
        with pytest.raises(AnimsupError):
            _cfg(**kw).validate()
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    train(TrainConfig(n_features=3, n_hidden=2, steps=3, snapshots=2), tmp_path / "plain.jsonl")
    with pytest.raises(AnimsupError, match="not a finite-data run"):
        F.training_sets_of(read_log(tmp_path / "plain.jsonl").header)
