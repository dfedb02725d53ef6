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
    # the figure: no wide blank band between its rows (the key row is as tall as its longest key)
    from PIL import Image

    px = np.asarray(Image.open(tmp_path / "essential_dynamics.png").convert("L"))
    blank = (px > 245).all(axis=1)
    inked = np.flatnonzero(~blank)
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], blank[inked[0]:inked[-1]].astype(int), [0]]))))[::2]
    assert runs.max(initial=0) < 0.8 * 100, runs  # under 0.8 in at 100 dpi (the old layout left ~1.5 in)


def test_the_event_key_wraps_every_event_in_full():
    import os
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
    import essential_dynamics as ed

    text = "features 0, 1, 2, 3, 4 join — not learned → antipodal pair + 1 + 2 stacked, then a pentagon (regularity 0.98)"
    evs = [SimpleNamespace(step=259 * k, text=text) for k in range(1, 13)]
    lines = ed.key_lines(evs, limit=10, width=60)
    assert all(len(ln) <= 60 for ln in lines) and not any("…" in ln for ln in lines)
    first = " ".join(ln.strip() for ln in lines[:next(k for k, ln in enumerate(lines[1:], 1) if ln.startswith("2."))])
    assert first == f"1. step 259: {text}"  # the whole text, in order, continuation lines indented
    assert lines[-1] == "+3 more: animsup events LOG --instance N" and sum(ln[0].isdigit() for ln in lines) == 9
    assert ed.key_lines([]) == ["(no events)"]
