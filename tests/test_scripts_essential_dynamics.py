"""scripts/essential_dynamics.py --quick (issue 23, item 3): it runs, writes its figure and numbers;
every event of each seed is listed with the step `animsup events` gives it and sits on that seed's
PC curve; explained variance ratios are ratios; the LLC jumps come from the sidecar it wrote."""

import json

import numpy as np
from script_runs import run_quick


def test_essential_dynamics_quick(tmp_path):
    run_quick("essential_dynamics.py", tmp_path)
    res = json.loads((tmp_path / "essential_dynamics.json").read_text())
    assert (tmp_path / "essential_dynamics.png").stat().st_size > 20_000 and (tmp_path / "run.measure.json").exists()
    assert len(res["instances"]) == 3 and res["joint"]["instances"] == [0, 1, 2]
    from animsup.analysis.landscape import essential_dynamics
    from animsup.analysis.timeline import run_events
    from animsup.log.reader import read_log

    log = str(tmp_path / "run.jsonl")
    run = read_log(log)
    comps, _ = essential_dynamics(run.W, run.b)
    for row in res["instances"]:
        i = row["instance"]
        assert 0.99 < sum(row["explained"]) <= 1.0 + 1e-3 and row["explained"] == sorted(row["explained"], reverse=True)
        # the events are the one list `animsup events` prints (LLC jumps from the sidecar included)
        assert [(e["step"], e["kind"]) for e in row["events"]] == [(e.step, e.kind) for e in run_events(log, i)]
        for e in row["events"]:  # each marker lies between the PC points of the snapshots around its step
            t = int(np.searchsorted(run.steps, e["step"]))
            lo, hi = comps[i, max(t - 1, 0), :2], comps[i, min(t, len(run.steps) - 1), :2]
            assert np.all(np.minimum(lo, hi) - 1e-3 <= e["pc"]) and np.all(np.asarray(e["pc"]) <= np.maximum(lo, hi) + 1e-3)
    assert any(e["kind"] == "join" for row in res["instances"] for e in row["events"])  # trained from a small init
    assert sum(res["joint"]["explained"]) <= 1.0 + 1e-3
