import numpy as np

from animsup.data import Batches, importance_vector, normalize_samples_, sparse_from_uniform


def test_importance_vector():
    assert np.allclose(importance_vector(0.7, 4), [1, 0.7, 0.49, 0.343])
    assert np.allclose(importance_vector("constant", 3), 1)
    assert np.allclose(importance_vector([3, 2, 1], 3), [3, 2, 1])


def test_one_draw_gives_the_two_draw_distribution():
    p = np.array([1.0, 0.3, 0.05], np.float32).reshape(-1, 1, 1)
    u = np.random.default_rng(0).random((3, 1, 200_000), dtype=np.float32)
    x = sparse_from_uniform(u, p)[:, 0]
    assert np.all((x >= 0) & (x < 1))
    for i, pi in enumerate(p.ravel()):
        nz = x[i][x[i] > 0]
        assert abs(len(nz) / x.shape[1] - pi) < 4 * np.sqrt(pi * (1 - pi) / x.shape[1]) + 1e-9
        # the non-zero values are uniform on [0, 1): mean 1/2, variance 1/12
        assert abs(nz.mean() - 0.5) < 0.01 and abs(nz.var() - 1 / 12) < 0.005


def test_batches_reproducible_and_dataset_mode_draws_from_the_set():
    a = Batches([0.5, 0.1], 4, 16, [0, 1])
    b = Batches([0.5, 0.1], 4, 16, [0, 1])
    assert np.array_equal(a.next(), b.next())
    state = a.get_state()
    x1 = a.next()
    a.set_state(state)
    assert np.array_equal(a.next(), x1)
    d = Batches([0.5, 0.1], 4, 64, [0], dataset_size=8)
    x = d.next()
    assert x.shape == (2, 4, 64)  # [instances, features, batch]
    samples = {tuple(r) for r in d.dataset.reshape(2, 8, 4)[1]}
    assert all(tuple(col) in samples for col in x[1].T)
    assert len({tuple(col) for col in x[1].T}) <= 8


def test_normalize_samples():
    x = np.array([[[3.0, 0.0], [4.0, 0.0]]], np.float32)  # two samples (columns): (3, 4) and (0, 0)
    normalize_samples_(x)
    assert np.allclose(x, [[[0.6, 0], [0.8, 0]]])
