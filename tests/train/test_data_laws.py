"""The input laws of animsup.train.data.DataSpec: co-occurrence in correlated / anticorrelated sets exactly as
specified, seed 000's presence_value law, binary, exactly_k and L2 normalisation — on the CPU sampler and
on the torch-generator sampler (run here on the CPU device)."""

import numpy as np
import pytest

from animsup.train.data import Batches, CudaBatches, DataSpec

B = 20_000


def _rate_ok(on, p, n=B):
    return abs(on.mean() - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-9


def _draw(spec, p, n, batch=B, seeds=(0,), cuda_api=False):
    if cuda_api:
        return CudaBatches(p, n, batch, list(seeds), device="cpu", spec=spec).next().numpy()
    return Batches(p, n, batch, list(seeds), spec=spec).next()


@pytest.mark.parametrize("cuda_api", [False, True])
def test_correlated_sets_switch_on_together_with_independent_values(cuda_api):
    spec = DataSpec(correlated_sets=[[0, 1, 2], [4, 5]])
    x = _draw(spec, [0.1, 0.3], 7, cuda_api=cuda_api)  # two instances
    for i, p in enumerate((0.1, 0.3)):
        on = x[i] > 0
        for st in ([0, 1, 2], [4, 5]):
            assert (on[st] == on[st[0]]).all()  # all on or all off in every sample, exactly
            assert _rate_ok(on[st[0]], p)
        assert _rate_ok(on[3], p) and _rate_ok(on[6], p)
        both = on[0] & on[3]  # a free feature is independent of the set
        assert abs(both.mean() - p * p) < 5 * np.sqrt(p * p / B) + 1e-9
        v0, v1 = x[i, 0][on[0]], x[i, 1][on[0]]
        assert abs(np.corrcoef(v0, v1)[0, 1]) < 0.1  # values drawn independently
        assert abs(v0.mean() - 0.5) < 0.02 and v0.max() < 1


@pytest.mark.parametrize("cuda_api", [False, True])
def test_anticorrelated_sets_follow_the_papers_law(cuda_api):
    """The paper ("Correlated and Anticorrelated Features"): a set is all-zero with probability S, else
    exactly one randomly chosen feature of it is on — the set on with probability p, each feature p / s."""
    spec = DataSpec(anticorrelated_sets=[[0, 1], [2, 3, 4]])
    x = _draw(spec, [0.3], 6, cuda_api=cuda_api)[0]
    on = x > 0
    for st in ([0, 1], [2, 3, 4]):
        assert on[st].sum(0).max() == 1  # never two at once
        assert _rate_ok(on[st].any(0), 0.3)  # the set is on with probability 1 - S
        for f in st:
            assert _rate_ok(on[f], 0.3 / len(st))  # uniformly one of its features
    assert _rate_ok(on[5], 0.3)  # a free feature keeps p
    assert abs(x[0][on[0]].mean() - 0.5) < 0.02  # values U[0, 1)
    assert (on[[0, 1]].any(0) & on[[2, 3, 4]].any(0)).mean() == pytest.approx(0.09, abs=0.01)  # sets independent


@pytest.mark.parametrize("cuda_api", [False, True])
def test_exclusive_sets_have_at_most_one_feature_on_each_at_p(cuda_api):
    spec = DataSpec(exclusive_sets=[[0, 1], [2, 3, 4]])
    x = _draw(spec, [0.2], 6, cuda_api=cuda_api)[0]
    on = x > 0
    assert on[[0, 1]].sum(0).max() == 1 and on[[2, 3, 4]].sum(0).max() == 1  # never two at once
    for f in range(6):
        assert _rate_ok(on[f], 0.2)  # each feature keeps its own probability
    # the set is on with probability s p (s = set size): 0.4 and 0.6
    assert _rate_ok(on[[0, 1]].any(0), 0.4) and _rate_ok(on[[2, 3, 4]].any(0), 0.6)


@pytest.mark.parametrize("cuda_api", [False, True])
def test_presence_value_is_seed_000s_law(cuda_api):
    """x = u if u < p else 0: rate p, non-zero values uniform on (0, p) (mean p/2, variance p²/12)."""
    x = _draw(DataSpec(kind="presence_value"), [0.3, 1.0], 5, cuda_api=cuda_api)
    for i, p in enumerate((0.3, 1.0)):
        nz = x[i][x[i] > 0]
        assert _rate_ok(x[i] > 0, p, x[i].size)
        assert nz.max() < p and abs(nz.mean() - p / 2) < 0.01 * p + 0.003
        assert abs(nz.var() - p * p / 12) < 0.05 * p * p / 12


def test_binary_and_exactly_k_and_l2_normalise():
    x = _draw(DataSpec(kind="binary"), [0.25], 4)
    assert set(np.unique(x)) == {0.0, 1.0} and _rate_ok(x > 0, 0.25, x.size)
    x = _draw(DataSpec(kind="exactly_k", exactly_k=3), [0.3], 10)[0]
    assert ((x > 0).sum(0) == 3).all()  # exactly k per sample
    for f in range(10):
        assert _rate_ok(x[f] > 0, 0.3)  # each feature on with probability k/n
    assert abs(x[x > 0].mean() - 0.5) < 0.02
    x = _draw(DataSpec(kind="presence_value", normalise=True), [0.2], 20)[0]
    norms = np.linalg.norm(x, axis=0)
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5) and (norms == 0).any()


def test_a_correlated_set_with_per_feature_probability_is_refused():
    from animsup.train.config import TrainConfig
    from animsup.errors import AnimsupError

    with pytest.raises(AnimsupError, match="share one feature probability"):
        TrainConfig(n_features=3, feature_probability=[[0.1, 0.2, 0.1]], correlated_sets=[[0, 1]]).validate()
    with pytest.raises(AnimsupError, match="must be <= 1"):
        TrainConfig(n_features=4, feature_probability=[0.4], exclusive_sets=[[0, 1, 2]]).validate()
    TrainConfig(n_features=4, feature_probability=[0.4], anticorrelated_sets=[[0, 1, 2]]).validate()  # the paper's: any p
    with pytest.raises(AnimsupError, match="more than one"):
        TrainConfig(n_features=4, exclusive_sets=[[0, 1]], anticorrelated_sets=[[1, 2]]).validate()
    with pytest.raises(AnimsupError, match="more than one"):
        TrainConfig(n_features=4, correlated_sets=[[0, 1]], anticorrelated_sets=[[1, 2]]).validate()
    with pytest.raises(AnimsupError, match="exactly-k"):
        TrainConfig(n_features=4, data="exactly_k", exactly_k=5).validate()


def test_sampler_streams_are_reproducible_and_resumable():
    spec = DataSpec(correlated_sets=[[0, 1]], anticorrelated_sets=[[2, 3]], exclusive_sets=[[5, 6]], kind="presence_value")
    a, b = Batches([0.2], 7, 64, [3], spec=spec), Batches([0.2], 7, 64, [3], spec=spec)
    np.testing.assert_array_equal(a.next(), b.next())
    st = a.get_state()
    x = a.next()
    a.set_state(st)
    np.testing.assert_array_equal(a.next(), x)


def test_old_logs_keep_their_anticorrelated_law():
    """Data recipe 1 (no "recipe" in the header's data object) called the per-feature-p law
    anticorrelated_sets: reading it (the header and the config) gives exclusive_sets; recipe 2 is kept."""
    from animsup.log.schema import upgrade_data_recipe
    from animsup.train.config import TrainConfig

    old = {"kind": "uniform", "anticorrelated_sets": [[0, 1]]}
    assert upgrade_data_recipe(old) == {"kind": "uniform", "exclusive_sets": [[0, 1]], "recipe": 2}
    new = DataSpec(anticorrelated_sets=[[0, 1]]).header()
    assert new["recipe"] == 2 and upgrade_data_recipe(new) == new
    assert upgrade_data_recipe({"kind": "uniform"}) == {"kind": "uniform"}
    cfg = TrainConfig.from_dict({"n_features": 4, "anticorrelated_sets": [[0, 1]]})  # a recipe-1 config
    assert cfg.exclusive_sets == [[0, 1]] and cfg.anticorrelated_sets == []
    cur = TrainConfig(n_features=4, anticorrelated_sets=[[0, 1]])
    assert TrainConfig.from_dict(cur.to_dict()).anticorrelated_sets == [[0, 1]]


def test_an_old_log_reads_with_the_old_law(tmp_path):
    import json

    from animsup.log.reader import read_log
    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    log = tmp_path / "a.jsonl"
    train(TrainConfig(n_features=4, n_hidden=2, exclusive_sets=[[0, 1]], feature_probability=[0.2], steps=5,
                      batch_size=8, snapshots=2).validate(), str(log))
    lines = log.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    assert head["data"] == {"kind": "uniform", "recipe": 2, "exclusive_sets": [[0, 1]]}
    head["data"] = {"kind": "uniform", "anticorrelated_sets": [[0, 1]]}  # as recipe 1 wrote it
    del head["config"]["exclusive_sets"]
    head["config"]["anticorrelated_sets"] = [[0, 1]]
    log.write_text("\n".join([json.dumps(head), *lines[1:]]) + "\n", encoding="utf-8")
    run = read_log(str(log))
    assert run.header.data["exclusive_sets"] == [[0, 1]] and "anticorrelated_sets" not in run.header.data
    assert TrainConfig.from_dict(run.header.config).exclusive_sets == [[0, 1]]
