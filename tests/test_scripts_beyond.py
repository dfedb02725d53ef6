"""The reproduction scripts of issue 24 in their --quick mode: they run, write their figure and
numbers, and the numbers say what the quick run showed."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, out):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", script), "--quick", "--no-video", "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_double_descent_quick(tmp_path):
    out = _run("double_descent.py", tmp_path)
    res = json.loads((tmp_path / "double_descent.json").read_text())
    rows = res["rows"]
    assert [r["T"] for r in rows] == [2, 4, 8, 16, 32, 64, 128]
    # small sets are memorised (train loss far below test loss); the gap closes as T grows
    assert rows[0]["train_loss"] < rows[0]["test_loss"] / 5
    assert rows[-1]["train_loss"] > rows[-1]["test_loss"] / 2
    # the training examples' dimensionality falls as T grows (T points share m = 2 dimensions)
    assert rows[0]["data_max"] > rows[-1]["data_max"]
    assert (tmp_path / "double_descent.png").stat().st_size > 10_000 and "peak" in out


def test_absorption_quick(tmp_path):
    _run("absorption.py", tmp_path)
    res = json.loads((tmp_path / "absorption.json").read_text())
    assert res["pairs"] == [[0, 1], [2, 3]] and [r["l1"] for r in res["rows"]] == [0.003, 0.1]
    # the stronger penalty: fewer active latents and more shrinkage (absorption itself needs the full run)
    lo, hi = res["rows"]
    assert hi["l0"] < lo["l0"] and hi["shrinkage"] < lo["shrinkage"]
    assert (tmp_path / "absorption.png").stat().st_size > 10_000


def test_scaling_law_quick(tmp_path):
    _run("scaling_law.py", tmp_path)
    res = json.loads((tmp_path / "scaling_law.json").read_text())
    for dist in ("power", "exponential"):
        run = res["runs"][dist]
        weak, strong = run["represented"]  # gammas [+1, -1]
        assert min(strong) > 0.9 and max(weak) < 0.5  # negative decay represents (nearly) every feature
        assert run["fits"]["strong"]["exponent"] > 0 and run["loss"][1][-1] < run["loss"][1][0]
        lim = run["weak_limit"]["loss"]  # ideal weak superposition: more kept features, less loss
        assert all(a > b > 0 for a, b in zip(lim, lim[1:]))
    assert (tmp_path / "scaling_law.png").stat().st_size > 10_000


def _scaling_law_module():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import scaling_law

    return scaling_law


def test_weak_limit_loss_hand_case_and_monte_carlo():
    import numpy as np

    sl = _scaling_law_module()
    # by hand: p = (2/3, 1/3), a dropped feature costs (4/3) p - p^2: 4/9 - 1/9 = 1/3 for the second, 8/9 - 4/9 for the first
    assert sl.weak_limit_loss([2 / 3, 1 / 3], [1], 2) == pytest.approx([1 / 6])
    assert sl.weak_limit_loss([2 / 3, 1 / 3], [0, 2], 2) == pytest.approx([7 / 18, 0.0])
    # Monte Carlo: x_i = u_i v_i, u ~ Bernoulli(p), v ~ U(0, 2), the dropped features answered by their mean p_i
    rng = np.random.default_rng(0)
    p = np.array([0.5, 0.3, 0.2])
    x = (rng.random((400_000, 3)) < p) * rng.uniform(0, 2, (400_000, 3))
    mc = float(((x[:, 1:] - p[1:]) ** 2).sum(axis=1).mean() / 3)
    assert sl.weak_limit_loss(p, [1], 3)[0] == pytest.approx(mc, rel=0.01)


def test_tail_fall():
    sl = _scaling_law_module()
    curve = [1.0] * 13 + [0.5] + [0.4] * 5 + [0.25]  # 20 windows; the 14th ends at 70 % of the steps
    assert sl.tail_fall(curve) == pytest.approx(0.5)


def test_scaling_law_decay_sweep_quick(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "scaling_law.py"), "--quick", "--decay-sweep",
                        "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads((tmp_path / "decay_sweep.json").read_text())["rows"]
    for m in (4, 8):
        phi = [row["represented"] for row in rows if row["m"] == m]  # gammas +0.1, +0.3, +1, +3
        assert len(phi) == 4 and phi[0] >= phi[1] >= phi[2] >= phi[3] and phi[0] > phi[3] + 0.5  # more decay, fewer features
