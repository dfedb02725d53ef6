"""A finite-data run stores each instance's training set in its log (animsup.log.train_examples):
the stored set equals the set the trainer used (finite.py's sampler, training_set), bit for bit;
the hidden vectors from it equal the trainer's own h = W x; the cap on examples holds."""

import numpy as np

from animsup.log import train_examples as te
from animsup.train import finite as F


def _cfg(**kw):
    base = dict(n_features=20, n_hidden=2, feature_probability=0.1, train_sizes=[3, 25], test_size=30, steps=4,
                warmup_steps=1, snapshots=3, test_every=2)
    return F.FiniteConfig(**{**base, **kw})


def test_the_stored_set_is_the_set_the_trainer_used(tmp_path):
    cfg = _cfg()
    res = F.train_finite(cfg, tmp_path / "f.jsonl")
    got = te.read_train_examples(res.log_path, [0, 1])
    for i, (T, seed) in enumerate(cfg.instance_rows()):
        x = F.training_set(cfg.n_features, cfg.feature_probability, T, seed)
        assert got[i].size == got[i].count == T
        np.testing.assert_array_equal(got[i].dense(cfg.n_features), x)
        np.testing.assert_allclose(got[i].hidden(res.W[i]), res.hidden[i], atol=1e-6)


def test_at_most_max_examples_are_stored(tmp_path, monkeypatch):
    monkeypatch.setattr(te, "MAX_EXAMPLES", 10)
    res = F.train_finite(_cfg(), tmp_path / "f.jsonl")
    got = te.read_train_examples(res.log_path, [0, 1])
    assert (got[0].count, got[1].count, got[1].size) == (3, 10, 25)
    x = F.training_set(20, 0.1, 25, 0)
    np.testing.assert_array_equal(got[1].dense(20), x[:, :10])
    from animsup.log.reader import read_header
    assert read_header(res.log_path).raw["train_set"]["stored"]["counts"] == [3, 10]
