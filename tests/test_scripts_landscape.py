"""scripts/kgon_llc.py --quick (issue 23): it runs, writes its figure and numbers, and the k-gon
losses it finds are Chen et al. 2023's (Sec. 4) — those of the 4-gon family are exact from the
ansatz, an independent check of the loss normalisation (summed over features, high-sparsity law)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_kgon_llc_quick(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "kgon_llc.py"), "--quick", "--out", str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "kgon_llc.json").read_text())
    crit = {row["kgon"]: row for row in res["critical_points"]}
    for name, paper in (("4", 1 / 9), ("4+", 0.10417), ("4++", 0.09722)):
        assert abs(crit[name]["loss"] - paper) < 2e-5, (name, crit[name])
    assert abs(crit["5"]["loss"] - 0.06874) < 5e-4
    assert [row["kgon"] for row in res["llc"]] == ["5", "5+", "6"]
    assert len(res["sgd"]["loss_end"]) == res["sgd"]["seeds"]
    assert (tmp_path / "kgon_llc.png").stat().st_size > 10_000 and (tmp_path / "sgd.measure.json").exists()
