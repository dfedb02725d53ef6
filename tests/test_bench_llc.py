"""bench/bench_llc.py (issue 23, item 5: animsup's LLC against devinterp): the shape picks, the
--quick run (skipped without devinterp) and the committed result's coverage."""

import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import bench_llc

    return bench_llc


def test_pick_shapes_takes_the_first_instance_of_each_shape():
    pick = _bench().pick_shapes
    shapes = ["pentagon", "pentagon", "square", "pentagon", "hexagon", "square"]
    assert pick(shapes, 0) == [0, 2, 4]
    assert pick(shapes, 2) == [0, 2]


def test_tms_settings_are_the_notebooks():
    """devinterp 1.3.2 examples/tms.ipynb: localization 1, nbeta = default_nbeta(200) = 200 / ln 200,
    5 chains × 100 draws, lr and batch from its sweep grid."""
    s = _bench().TMS_SETTINGS
    assert (s["localization"], s["chains"], s["draws"], s["burnin"]) == (1.0, 5, 100, 0)
    assert s["nbeta"] == pytest.approx(37.7478, abs=1e-4)   # 200 / 5.298317
    assert s["lr"] in (1e-5, 1e-4, 1e-3, 1e-2) and s["batch_size"] in (1, 10, 30, 100, 300)


def test_bench_llc_quick(tmp_path):
    pytest.importorskip("devinterp", reason="devinterp (in the [test] and [bench] extras) is the reference")
    out = tmp_path / "llc.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_llc.py"), "--quick", "--json", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    rows = res["agreement"]
    names = list(res["settings"])
    assert names == ["bench", "devinterp TMS example"]
    per_set = {n: [(r["instance"], r["shape"]) for r in rows if r["settings"] == n] for n in names}
    assert per_set[names[0]] == per_set[names[1]] and per_set[names[0]]          # same checkpoints in both sets
    assert len({s for _, s in per_set[names[0]]}) == len(per_set[names[0]])      # one per distinct shape
    for row in rows:
        assert math.isfinite(row["ours_mean"]) and math.isfinite(row["devinterp_mean"])
        assert row["feature_probability"] == res["densities"][row["instance"] // res["train"]["instances_per_group"]]
    sp = res["speed"]
    assert sp["models"] == res["train"]["instances_per_group"] * res["train"]["snapshots"]
    table = _bench().docs_table(out)
    assert "devinterp TMS example" in table and "γ = 1," in table and table.count("| yes |") + table.count("| no |") == len(rows)


def test_committed_result_covers_four_five_and_six_gons():
    """The issue asks for final 4-, 5- and 6-gons, each under both settings sets."""
    res = json.loads(open(os.path.join(ROOT, "docs", "results", "llc_devinterp.json"), encoding="utf-8").read())
    assert not res["quick"]
    for name in res["settings"]:
        shapes = " ".join(r["shape"] for r in res["agreement"] if r["settings"] == name)
        assert ("square" in shapes or "4-gon" in shapes) and ("pentagon" in shapes or "5-gon" in shapes), shapes
        assert "hexagon" in shapes or "6-gon" in shapes, shapes


def test_bench_llc_memory_quick_and_the_committed_result_is_flat(tmp_path):
    """bench/bench_llc_memory.py --quick runs and writes its rows; the committed full run (the docs'
    table) measured T = 5, 25 and 100 snapshots: once a chunk of models is full (T = 25 here) the
    peak RSS grows by under 25 % while the models grow 4x (T = 100): memory flat in the snapshots."""
    out = tmp_path / "mem.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_llc_memory.py"), "--quick", "--json", str(out)],
                       cwd=os.path.join(ROOT, "bench"), env={**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    quick = json.loads(out.read_text())
    assert [row["snapshots"] for row in quick["rows"]] == [2, 6] and quick["rows"][1]["models"] == 8 * 6
    full = json.loads(open(os.path.join(ROOT, "docs", "results", "llc_memory.json")).read())
    rows = {row["snapshots"]: row for row in full["rows"]}
    assert not full["quick"] and sorted(rows) == [5, 25, 100] and rows[100]["models"] == 20 * rows[5]["models"]
    assert rows[100]["peak_rss_mib"] < 1.25 * rows[25]["peak_rss_mib"]
