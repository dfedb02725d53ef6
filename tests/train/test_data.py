import numpy as np

import pytest

from animsup.train.data import Batches, bernoulli_positions, importance_vector, normalize_samples_, sparse_from_uniform


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


def test_geometric_gaps_give_independent_bernoulli_trials():
    """bernoulli_positions == a row of independent Bernoulli(p) trials: counts, per-position rate,
    the gap law P(gap = g) = p (1-p)^(g-1), and p = 1 (every position)."""
    rng = np.random.default_rng(1)
    p = np.array([0.1, 0.01, 0.25, 1.0])
    length, reps = 4000, 50
    counts, hits = np.zeros((reps, 4)), np.zeros((4, length))
    gaps = []
    for r in range(reps):
        idx = bernoulli_positions(rng, p, length)
        assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < 4 * length
        row, pos = idx // length, idx % length
        counts[r] = np.bincount(row, minlength=4)
        np.add.at(hits, (row, pos), 1)
        gaps.append(np.diff(pos[row == 0]))
    assert np.all(counts[:, 3] == length)  # p = 1
    for i, pi in enumerate(p[:3]):
        n = reps * length
        assert abs(counts[:, i].sum() / n - pi) < 4 * np.sqrt(pi * (1 - pi) / n)
        # no position is favoured: the first and second halves of the row see the same rate
        half = hits[i, : length // 2].sum() / hits[i].sum()
        assert abs(half - 0.5) < 4 * np.sqrt(0.25 / hits[i].sum())
    g = np.concatenate(gaps)
    for gap in (1, 2, 5, 10):
        expected = 0.1 * 0.9 ** (gap - 1)
        assert abs(np.mean(g == gap) - expected) < 4 * np.sqrt(expected / len(g)) + 1e-3


def test_bernoulli_positions_draws_again_for_rows_not_yet_past_the_end(monkeypatch):
    """A row with more successes than one draw of gaps covers continues with a second draw: the
    result is still sorted, within bounds, and at the right rate."""
    rng = np.random.default_rng(2)
    p = np.array([0.2, 0.0001])  # the width comes from the largest p: force many redraws via a tiny row length
    idx = bernoulli_positions(rng, p, 200_000)
    assert np.all(np.diff(idx) > 0) and idx.max() < 400_000
    n0 = np.sum(idx < 200_000)
    assert abs(n0 / 200_000 - 0.2) < 4 * np.sqrt(0.16 / 200_000)


@pytest.mark.parametrize("p", [[0.08, 0.02], [0.05]])
def test_sparse_batches_reproducible_resumable_and_distributed_like_the_dense_sampler(p, monkeypatch):
    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 18)  # several blocks at a test size
    per_instance = np.repeat(p, 20)  # Batches takes one probability per instance
    a = Batches(per_instance, 32, 2000, list(range(20)))
    assert a.sparse and len(a.blocks) > 1  # several blocks, each instance with its own generator
    b = Batches(per_instance, 32, 2000, list(range(20)))
    x = a.next()
    assert x.shape == (len(p) * 20, 32, 2000) and x.dtype == np.float32
    np.testing.assert_array_equal(x, b.next())
    state = a.get_state()
    x1 = a.next()
    a.set_state(state)
    np.testing.assert_array_equal(a.next(), x1)
    assert not np.array_equal(x, x1)
    for i, pi in enumerate(p):
        rows = x1[i * 20 : (i + 1) * 20]
        nz = rows[rows > 0]
        n = rows.size
        assert abs(nz.size / n - pi) < 4 * np.sqrt(pi * (1 - pi) / n)
        assert abs(nz.mean() - 0.5) < 0.01 and abs(nz.var() - 1 / 12) < 0.005 and nz.max() < 1


def test_dense_sampler_for_dense_or_tiny_batches_and_states_do_not_mix():
    p = [0.05] * 20
    assert Batches(p, 32, 1000, list(range(20))).sparse
    assert not Batches([0.5] * 20, 32, 1000, list(range(20))).sparse  # p above SPARSE_MAX_PROBABILITY
    assert not Batches([0.05], 5, 1024, [0]).sparse  # 5k entries: the fixed cost would dominate
    assert not Batches(p, 32, 1000, list(range(20)), normalize=True).sparse
    dense, sparse = Batches([0.1], 5, 1024, [0]), Batches(p, 32, 1000, list(range(20)))
    with pytest.raises(ValueError):
        sparse.set_state(dense.get_state())


def test_dense_blocks_tile_the_batch_exactly_once_and_keep_matrix_products_wide():
    from animsup.train.data import dense_blocks

    for k, n, B, entries in [(4000, 2, 1024, 1 << 17), (20, 200, 1024, 1 << 17), (7, 5, 100, 1 << 10), (3, 1000, 1000, 1 << 12)]:
        blocks = dense_blocks(k, n, B, entries)
        cover = np.zeros((k, B), np.int64)
        for i0, i1, c0, c1 in blocks:
            assert 0 <= i0 < i1 <= k and 0 <= c0 < c1 <= B
            cover[i0:i1, c0:c1] += 1
            assert (i1 - i0) * n * (c1 - c0) <= max(entries, n * 16)  # a block stays about `entries` big
        assert (cover == 1).all()
    assert dense_blocks(4000, 2, 1024, 1 << 17)[0] == (0, 64, 0, 1024)  # whole batches of 64 instances
    assert dense_blocks(20, 200, 1024, 1 << 17)[0] == (0, 1, 0, 512)  # one instance, 512 columns


def test_mixed_dense_stream_draws_low_probability_blocks_as_non_zeros_with_the_same_law(monkeypatch):
    """A sweep over densities: blocks whose instances are all rare are drawn as their non-zeros, the others
    as uniforms; each block's law is the paper's, and states round-trip."""
    from animsup.train.data import SPARSE_MAX_PROBABILITY

    p = np.repeat([0.02, 0.5], 16)
    a = Batches(p, 8, 4096, list(range(32)))
    assert not a.sparse and a.blocks is not None and len(a.blocks) > 2
    kinds = [float(p[i0:i1].max()) <= SPARSE_MAX_PROBABILITY for i0, i1, _, _ in a.blocks]
    assert a.block_sparse == kinds and any(kinds) and not all(kinds)
    state = a.get_state()
    x = a.next()
    for lo, pi in ((0, 0.02), (16, 0.5)):
        rows = x[lo : lo + 16]
        nz = rows[rows > 0]
        assert abs(nz.size / rows.size - pi) < 4 * np.sqrt(pi * (1 - pi) / rows.size)
        assert abs(nz.mean() - 0.5) < 0.01 and nz.max() < 1
    a.set_state(state)
    np.testing.assert_array_equal(a.next(), x)
    staged = Batches(p, 8, 4096, list(range(32)), allow_sparse=False)  # a staged run: one kind of draw
    assert not any(staged.block_sparse)
    with pytest.raises(ValueError, match="different sampler"):
        Batches(p, 8, 4096, list(range(32)), dataset_size=64).set_state(state)


@pytest.mark.parametrize("case", ["raw bits", "non-zeros", "mixed", "shared seeds", "per-feature p", "binary", "normalised",
                                  "data set"])
def test_an_instance_draws_the_same_batches_whatever_else_is_in_the_run(case, monkeypatch):
    """Shard invariance (issue 22): instance i's batches depend only on its own probability and seed.
    Oracle: the same instance alone, or with other neighbours in another order, draws the same rows."""
    from animsup.train.data import DataSpec

    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 16)  # several blocks per batch
    monkeypatch.setattr("animsup.train.data.DENSE_BLOCK_ENTRIES", 1 << 14)  # ... and several chunks of columns
    p = {"raw bits": [0.5, 0.3, 0.9, 0.2, 0.5], "non-zeros": [0.02, 0.05, 0.01, 0.03, 0.02],
         "mixed": [0.02, 0.5, 0.05, 0.9, 0.01], "shared seeds": [0.5, 0.9, 0.02, 0.3, 0.6]}.get(case, [0.5, 0.3, 0.9, 0.2, 0.5])
    seeds = [3, 3, 7, 3, 7] if case == "shared seeds" else [11, 3, 7, 5, 2]  # shared: one draw serves several
    kw: dict = {"spec": DataSpec(kind="binary")} if case == "binary" else {}
    kw |= {"normalize": True} if case == "normalised" else {"dataset_size": 50} if case == "data set" else {}
    if case == "per-feature p":
        p = [np.linspace(0.01, 0.05, 32) * (i + 1) for i in range(5)]
    whole = Batches(p, 32, 1024, seeds, **kw)
    xs = [whole.next() for _ in range(2)]
    for order in ([2], [4, 0], [3, 1, 2]):
        part = Batches([p[i] for i in order], 32, 1024, [seeds[i] for i in order], **kw)
        for x in xs:
            np.testing.assert_array_equal(part.next(), x[order])
    if case == "mixed":
        assert any(whole.block_sparse) and not all(whole.block_sparse) and len(whole.chunks) > 1
