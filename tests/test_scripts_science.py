"""Issue 25's reproduction pieces: the neuron model's census against hand-built weights and the paper's
regimes, the hand-made-start helper against closed forms, and neuron_model.py --quick end to end."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import _handmade  # noqa: E402
import neuron_model  # noqa: E402


def test_neuron_census_of_hand_built_codes():
    mono = np.zeros((5, 10))
    mono[np.arange(5), np.arange(5)] = 1.0  # features 0-4 on their own neurons
    assert neuron_model.neuron_census(mono) == {"represented": 5, "features_per_neuron": [1] * 5, "monosemantic": 5,
                                                "polysemantic": 0, "neurons_per_feature": [1] * 5, "inhibitions": 0}
    # the paper's 0.2-0.5 regime: 3 dedicated neurons; features 3-5 in a binary code on neurons 3, 4 —
    # feature 5 is (1, 1), features 3 and 4 an antipodal pair: each neuron stores one of them and inhibits the other
    code = mono.copy()
    code[3:, 3:5] = 0
    code[3, 3], code[4, 3], code[3, 4], code[4, 4], code[3, 5], code[4, 5] = 0.8, -0.8, -0.8, 0.8, 0.8, 0.8
    got = neuron_model.neuron_census(code)
    assert (got["represented"], got["monosemantic"], got["features_per_neuron"]) == (6, 3, [1, 1, 1, 2, 2])
    assert got["neurons_per_feature"] == [1, 1, 1, 1, 1, 2] and got["inhibitions"] == 2
    pairs = np.zeros((5, 10))  # 1 - S <= 0.04: each feature a pair of neurons (all C(5, 2) = 10 pairs)
    for i, (a, b) in enumerate((a, b) for a in range(5) for b in range(a + 1, 5)):
        pairs[[a, b], i] = 0.7
    got = neuron_model.neuron_census(pairs)
    assert got["represented"] == 10 and got["monosemantic"] == 0 and got["neurons_per_feature"] == [2] * 10
    weak = mono.copy()
    weak[0, 7] = 0.3  # a feature with norm 0.3 is not represented, so it does not make neuron 0 polysemantic
    assert neuron_model.neuron_census(weak)["monosemantic"] == 5


def test_neuron_regimes_are_the_papers():
    # "Superposition in a Privileged Basis": features stored and monosemantic neurons per regime
    assert neuron_model.regime(0.7)[2:4] == (5, 5)
    assert neuron_model.regime(0.35)[2:4] == (6, 3)  # 3 dedicated + 3 in two neurons
    assert neuron_model.regime(0.15)[2:4] == (7, 2)  # 5 in 3 neurons + 2 monosemantic
    assert neuron_model.regime(0.12)[2:4] == (7, 1)  # 6 in 4 neurons + 1 monosemantic
    assert neuron_model.regime(0.05)[2:4] == neuron_model.regime(0.08)[2:4] == (8, 0)
    assert neuron_model.regime(0.03)[2:4] == (10, 0)
    assert neuron_model.regime(0.1) is None  # between the stated ranges


def test_handmade_polygon_and_evaluation_against_closed_forms():
    from animsup.train.data import DataSpec

    W = _handmade.polygon(6, [0, 2, 4, 1, 3, 5])
    cos = (W.T @ W)
    assert np.allclose([cos[0, 1], cos[2, 3], cos[4, 5]], -1, atol=1e-6)  # three antipodal pairs
    assert np.allclose(np.linalg.norm(W, axis=0), 1) and np.isclose(cos[0, 2], 0.5, atol=1e-6)  # 60° apart
    # zero weights and bias output 0: the loss is E[x^2] = p / 3 for U[0, 1) values at density p,
    # and p / (3 s) under the paper's anticorrelated law (each feature of a set of s at p / s)
    z = np.zeros((2, 2, 4), np.float32)
    _, _, loss = _handmade.polish(z, np.zeros((2, 4), np.float32), [0.3, 0.3], DataSpec(), steps=0, eval_samples=16_384)
    assert loss[0] == loss[1] and loss[0] == pytest.approx(0.1, rel=0.03)  # the same samples for equal densities
    _, _, loss = _handmade.polish(z[:1], np.zeros((1, 4), np.float32), [0.3], DataSpec(anticorrelated_sets=[[0, 1]]),
                                  steps=0, eval_samples=16_384)
    assert loss[0] == pytest.approx((0.05 + 0.05 + 0.1 + 0.1) / 4, rel=0.03)


def test_neuron_model_quick(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "neuron_model.py"), "--quick", "--no-video",
                        "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "neuron_model.json").read_text())
    assert res["config"]["importance"] == 0.75 and res["config"]["n_features"] == 10 and res["config"]["n_hidden"] == 5
    rows = res["sparsities"]
    assert [r["feature_probability"] for r in rows] == neuron_model.QUICK_PROBABILITIES
    for row in rows:  # the best model's census is the census of its saved weights
        W = np.array(row["W_best"])
        assert neuron_model.neuron_census(W)["represented"] == row["represented"]
        assert 0 <= row["share_like_paper"] <= 1 and row["models"] == 8
    assert (tmp_path / "neurons.png").stat().st_size > 10_000
    assert not os.path.exists(tmp_path / "docs")  # a quick run never writes the docs' results
