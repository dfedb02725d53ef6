"""Per-instance importance [K, n] and per-feature probability [K, n]: config layouts, the CLI grid
grammar, the samplers, and the batched engines against the plain formula / a loop over instances."""

import argparse

import numpy as np
import pytest
import torch

from animsup import models
from animsup.train.config import TrainConfig
from animsup.errors import AnimsupError

torch.set_num_threads(1)


def test_product_layout_order_and_last_importance():
    cfg = TrainConfig(n_features=3, n_hidden=1, importance="constant", last_importance=[0.5, 4.0],
                      feature_probability=[0.1, [0.2, 0.3, 0.4]], seeds=[7, 8]).validate()
    assert cfg.n_instances == 8
    imp, fp = cfg.importance_matrix(), cfg.probability_matrix()
    assert imp.shape == fp.shape == (8, 3)
    # r-major, then probability, then seed
    np.testing.assert_allclose(imp[:, -1], [0.5] * 4 + [4.0] * 4)
    np.testing.assert_allclose(imp[:, :2], 1.0)
    np.testing.assert_allclose(fp[0], 0.1)
    np.testing.assert_allclose(fp[2], [0.2, 0.3, 0.4])
    assert cfg.instance_seeds() == [7, 8] * 4


def test_from_arrays_zips_rows_and_validates_shapes():
    imp = [[1.0, 2.0], [3.0, 4.0], [1.0, 1.0]]
    fp = [[0.1, 0.2], [0.3, 0.3], [1.0, 0.5]]
    cfg = TrainConfig.from_arrays(imp, fp, [0, 0, 1], n_hidden=1).validate()
    assert cfg.n_instances == 3 and cfg.instance_seeds() == [0, 0, 1]  # repeats allowed in zip
    np.testing.assert_allclose(cfg.importance_matrix(), imp)
    np.testing.assert_allclose(cfg.probability_matrix(), fp)
    with pytest.raises(AnimsupError, match="one row per instance"):
        TrainConfig.from_arrays(imp, fp[:2], [0, 0, 1], n_hidden=1).validate()
    with pytest.raises(AnimsupError, match="per-feature list has 3 values"):
        TrainConfig(n_features=2, feature_probability=[[0.1, 0.2, 0.3]]).validate()
    with pytest.raises(AnimsupError, match="distinct"):
        TrainConfig(seeds=[0, 0]).validate()  # the product layout still needs distinct seeds
    with pytest.raises(AnimsupError, match="last-importance"):
        TrainConfig(last_importance=[0.0]).validate()


def test_cli_grid_grammar():
    from animsup.cli.train import add_train_options, config_from_args, parse_grid

    np.testing.assert_allclose(parse_grid("0.1:10:3"), [0.1, 1.0, 10.0])
    np.testing.assert_allclose(parse_grid("0:1:3:lin"), [0.0, 0.5, 1.0])
    assert parse_grid("0.25") == [0.25]
    for bad in ("0:1:3", "1:2", "1:2:0", "1:2:3:cubic", "x"):
        with pytest.raises(ValueError):
            parse_grid(bad)
    p = argparse.ArgumentParser()
    add_train_options(p)
    args = p.parse_args("--n-features 2 --n-hidden 1 --importance constant --last-importance 0.1:10:5 "
                        "-p 0.01:1:4 0.5 --seeds 3".split())
    cfg = config_from_args(args)
    assert cfg.n_instances == 5 * 5 * 3
    r = cfg.importance_matrix()[:, 1].reshape(5, 5, 3)
    np.testing.assert_allclose(r[:, 0, 0], np.geomspace(0.1, 10, 5), rtol=1e-6)
    s = cfg.probability_matrix()[:, 0].reshape(5, 5, 3)
    np.testing.assert_allclose(s[0, :, 0], list(np.geomspace(0.01, 1, 4)) + [0.5], rtol=1e-6)


def test_per_feature_probability_samplers_keep_each_features_rate(monkeypatch):
    """Dense and sparse samplers with p (shape: [k, n]): each feature's non-zero rate is its own p, values
    U[0, 1); a per-instance-uniform [k, n] array draws exactly the [k] stream."""
    from animsup.train.data import Batches

    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 16)
    p = np.array([[0.02, 0.08, 0.01, 0.05] * 8, [0.06, 0.01, 0.03, 0.07] * 8])  # [2, 32]
    for sparse_ok in (True, False):
        b = Batches(p, 32, 4000, [0, 1], allow_sparse=sparse_ok)
        assert b.sparse == sparse_ok
        x = b.next()
        rate = (x > 0).mean(2)
        sd = np.sqrt(p * (1 - p) / 4000)
        assert np.all(np.abs(rate - p) < 5 * sd + 1e-9)
        nz = x[x > 0]
        assert nz.max() < 1 and abs(nz.mean() - 0.5) < 0.01
    same = np.repeat([[0.1], [0.2]], 32, 1)
    np.testing.assert_array_equal(Batches(same, 32, 256, [0, 1]).next(), Batches([0.1, 0.2], 32, 256, [0, 1]).next())


def _engine_step_matches_reference(cfg):
    from animsup.train.data import Batches
    from animsup.train.model import TorchEngine, loss_and_grad

    eng = TorchEngine(cfg)
    x = torch.from_numpy(Batches(cfg.probability_matrix(), cfg.n_features, cfg.batch_size, cfg.seeds).next())
    loss = eng.losses_to_numpy([eng.loss_and_grad()])[0]
    v = eng.views
    out = {name: torch.empty_like(t) for name, t in v.items()}
    ref = loss_and_grad(x, v["W"], v["b"], v.get("W_dec"), eng.importance, model=cfg.model, out=out)
    np.testing.assert_allclose(loss, ref.numpy(), rtol=1e-5)
    for name in v:
        torch.testing.assert_close(eng.grads[name], out[name], rtol=1e-4, atol=1e-6)
    return eng, x


@pytest.mark.parametrize("model", models.names(trainable=True))
@pytest.mark.parametrize("sparse", [True, False])
def test_engine_with_per_instance_importance_and_probability(model, sparse, monkeypatch):
    """The engine's step (sparse or dense path) == the plain formula on the same batch, with importance
    and probability differing per instance and per feature; and the [k, n] formula == a loop over
    instances, each with its own [n] importance."""
    from animsup.train.model import forward, loss_fn

    monkeypatch.setattr("animsup.train.data.SPARSE_BLOCK_ENTRIES", 1 << 16)
    lo, hi = (0.01, 0.08) if sparse else (0.3, 1.0)
    rng = np.random.default_rng(0)
    k, n = 12, 32
    cfg = TrainConfig.from_arrays(rng.uniform(0.1, 2.0, (k, n)), rng.uniform(lo, hi, (k, n)), list(range(k)),
                                  n_hidden=3, model=model, batch_size=512, device="cpu").validate()
    eng, x = _engine_step_matches_reference(cfg)
    assert eng.sparse == (sparse and model != "neuron")
    v = eng.views
    imp = torch.from_numpy(cfg.importance_matrix())
    y = forward(x, v["W"], v["b"], v.get("W_dec"), model)
    batched = loss_fn(y, x, imp)
    for i in range(k):
        Wd = v["W_dec"][i : i + 1] if "W_dec" in v else None
        yi = forward(x[i : i + 1], v["W"][i : i + 1], v["b"][i : i + 1], Wd, model)
        torch.testing.assert_close(loss_fn(yi, x[i : i + 1], imp[i])[0], batched[i])


def test_numpy_backend_takes_per_instance_importance():
    from animsup.train.numpy_model import loss_and_grad as np_loss_and_grad

    rng = np.random.default_rng(1)
    k, m, n, B = 4, 2, 5, 9
    W, b = rng.normal(size=(k, m, n)), rng.normal(size=(k, n)) * 0.1
    x = rng.random((k, n, B)) * (rng.random((k, n, B)) < 0.5)
    imp = rng.uniform(0.1, 2, (k, n))
    loss, dW, db = np_loss_and_grad(W, b, x, imp)
    for i in range(k):
        li, dWi, dbi = np_loss_and_grad(W[i : i + 1], b[i : i + 1], x[i : i + 1], imp[i])
        np.testing.assert_allclose(loss[i], li[0])
        np.testing.assert_allclose(dW[i], dWi[0])
        np.testing.assert_allclose(db[i], dbi[0])


@pytest.mark.parametrize("argv, message", [
    (["--correlated-sets", "0,x"], "comma-separated"),
    (["--stages", "0", "0.5"], "stages must lie in (0, 1]"),
    (["--data", "exactly_k"], "exactly-k between 1"),
    (["--last-importance", "1:2:0"], "COUNT >= 1"),
    (["-p", "0:1:3"], "log range"),
    (["--exclusive-sets", "0,1,2,3,4", "-p", "0.3"], "must be <= 1"),
    (["--stages", "1", "0.1", "-p", "0.5"], "drop --feature-probability"),
    (["--correlated-sets", "0,9"], "not in 0..4"),
])
def test_cli_refuses_bad_grid_and_data_options_with_one_line(tmp_path, capsys, argv, message):
    from animsup.cli import main

    out = tmp_path / "x.jsonl"
    try:
        rc = main(["train", "--steps", "5", "--out", str(out), *argv])
    except SystemExit as e:  # argparse's usage errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not out.exists()
