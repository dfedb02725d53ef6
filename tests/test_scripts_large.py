"""scripts/large_view.py --quick (issue 24, large models): trains both regimes into one log of more than
512 features and draws its poster with the summary view; negative weight decay keeps more features."""

import os
import subprocess
import sys

import numpy as np

from animsup.analysis import large
from animsup.log.reader import read_log

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_large_view_quick(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "large_view.py"), "--quick", "--no-video",
                        "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    run = read_log(tmp_path / "large_view.jsonl")
    assert run.header.n_features > large.SUMMARY_ABOVE and run.header.n_instances == 2
    W = np.asarray(run.W[-1], np.float64)  # [k, m, n]; instance 0: γ = -1, instance 1: γ = +1
    phi = [large.feature_summary(W[i]).represented for i in range(2)]
    assert phi[0] > phi[1]  # Liu et al. Fig. 3b: growth (γ < 0) represents more features than decay (γ > 0)
    assert (tmp_path / "large_view.png").stat().st_size > 20_000
    # the script trained it: importance is known (plain MSE: every feature weighs 1), and γ tells the instances apart
    h = run.header
    assert not h.assumed("importance") and np.all(h.importance == 1.0)
    assert h.settings() == {"γ": [-1.0, 1.0]}
    assert h.instance_label(0) != h.instance_label(1) and "γ=-1" in h.instance_label(0)
    from animsup.rendering import plan as rp
    from animsup.rendering.config import RenderConfig

    scene = rp.build_plan(str(tmp_path / "large_view.jsonl"), RenderConfig(grid=True), video=True).scene
    assert "importance constant" in scene.title and "unknown" not in scene.title
    assert len({titles[0] for titles in scene.instance_labels}) == 2
