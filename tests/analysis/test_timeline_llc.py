"""LLC jumps are events of the run (issue 23): with a measurements sidecar holding an LLC, the one
event list (animsup.analysis.timeline.run_events) has them, so `animsup events`, `inspect --json`,
the render plan's captions and poster key, the viewer's events and the exporters all tell them;
without a sidecar nothing changes."""

import json

import numpy as np
import pytest

from animsup.analysis.timeline import as_tuples, run_events
from animsup.cli import main
from animsup.log.measurements import Measurements, sidecar_path, write_measurements
from animsup.log.recorder import write_arrays
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig

T = 40  # snapshots at steps 0, 10, ..., 390


def _log(path):
    """n=3, m=2, one instance: feature 0 joins at snapshot 10 (step 100); the loss sits at 0.5 and
    falls to 0.05 between steps 190 and 200 (a plateau ending in a drop)."""
    t = np.arange(T)
    W = np.zeros((T, 1, 2, 3), np.float32)
    W[:, 0, 0, 0] = np.where(t >= 10, 1.0, 0.1)
    W[:, 0, 1, 1] = 0.1
    loss = np.where(t < 20, 0.5, 0.05).astype(np.float32)[:, None]
    return write_arrays(W, path, steps=t * 10, loss=loss)


def _sidecar(log, mean=(1.0, 1.0, 1.0, 3.0, 3.0, 3.0), std=0.05, instance=0):
    """An LLC measured at steps 0, 100, 180, 210, 300, 390: by construction it jumps 1 -> 3 between
    steps 180 and 210, around the loss drop (190..200); the std is far below the jump."""
    steps = np.array([0, 100, 180, 210, 300, 390])
    n, C = len(steps), 4
    mean = np.asarray(mean, float)[:, None]
    llc = {"settings": {"chains": C}, "mean": mean, "std": np.full((n, 1), std), "chains": np.repeat(mean[..., None], C, -1),
           "init_loss": np.zeros((n, 1)), "diverged": np.zeros((n, 1)), "settled": np.ones((n, 1), bool),
           "trace": np.zeros((n, 1, 3))}
    write_measurements(log, Measurements(steps=steps, instances=(instance,), log="a.jsonl", llc=llc))


@pytest.fixture
def measured_log(tmp_path):
    log = _log(tmp_path / "a.jsonl")
    _sidecar(log)
    return log


def _jump(events):
    jumps = [e for e in events if e.kind == "llc_jump"]
    assert len(jumps) == 1, events
    return jumps[0]


def test_the_jump_is_an_event_lined_up_with_the_loss_drop(measured_log):
    evs = run_events(measured_log, 0)
    drop = [e for e in evs if e.kind == "loss_drop"]
    assert len(drop) == 1 and 190 <= drop[0].step <= 200  # the loss falls between these steps
    j = _jump(evs)
    assert (j.step_from, j.step, j.llc_from, j.llc_to) == (180, 210, 1.0, 3.0)
    assert j.loss_drop_step == drop[0].step and "LLC rises 1.00 → 3.00" in j.text
    assert [e.step for e in evs] == sorted(e.step for e in evs)
    assert any(e.kind == "join" and e.step == 100 for e in evs)  # the others are still there


def test_no_sidecar_or_none_leaves_the_events_unchanged(tmp_path, measured_log):
    plain = _log(tmp_path / "b.jsonl")
    without = as_tuples(run_events(plain, 0))
    assert without and all(k != "llc_jump" for _, k, _ in without)
    assert as_tuples(run_events(measured_log, 0, measurements=None)) == without  # same history, LLC not asked for
    with_jump = as_tuples(run_events(measured_log, 0))
    assert [e for e in with_jump if e[1] != "llc_jump"] == without


def test_a_flat_llc_or_an_unmeasured_instance_adds_nothing(tmp_path):
    log = _log(tmp_path / "a.jsonl")
    _sidecar(log, mean=(1.0, 1.02, 0.99, 1.01, 1.0, 1.0))  # changes within 20 %: no jump
    assert all(e.kind != "llc_jump" for e in run_events(log, 0))
    _sidecar(log, instance=7)  # a jump measured for another instance (of a bigger log the sidecar was for)
    assert all(e.kind != "llc_jump" for e in run_events(log, 0))


def test_every_output_tells_the_jump(measured_log, capsys):
    from animsup.exporters.common import instance_events
    from animsup.log.reader import read_log
    from animsup.viewer.payload import build_payload, plan_viewer

    found = as_tuples(run_events(measured_log, 0))
    jump = [e for e in found if e[1] == "llc_jump"]
    assert [s for s, _, _ in jump] == [210]
    assert main(["events", measured_log, "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)["instances"][0]["events"]
    assert [(e["step"], e["kind"], e["text"]) for e in cli] == found
    assert main(["events", measured_log]) == 0
    text = capsys.readouterr().out
    assert any("step 210" in line and "LLC rises" in line and "with the loss drop" in line for line in text.splitlines())
    assert main(["inspect", measured_log, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert [(j["instance"], j["step"], j["step_from"]) for j in rep["measurements"]["llc"]["jumps"]] == [(0, 210, 180)]
    plan = rp.build_plan(measured_log, RenderConfig(annotate=True, instance=0), video=True, poster=True)
    assert plan.events == found
    assert any("LLC rises" in c for c in plan.captions)
    first = next(k for k, c in enumerate(plan.captions) if "LLC rises" in c)
    assert plan.frame_steps[first] >= 210 and (first == 0 or plan.frame_steps[first - 1] < 210)  # told from its step on
    assert "step 210: LLC rises" in plan.poster_frame().caption  # the poster's key
    viewer = build_payload(plan_viewer(measured_log, instance=0))
    assert [tuple(e) for e in viewer["events"][0]] == found
    exported = instance_events(read_log(measured_log), [0])[0]
    assert as_tuples(exported) == found


def test_a_bad_sidecar_is_one_note_and_skipped(measured_log, capsys):
    with open(sidecar_path(measured_log), "w") as f:
        f.write("{not json")
    assert main(["events", measured_log]) == 0  # skipped with one note (issue 23): events still list the rest
    err = capsys.readouterr().err
    assert "measure.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
