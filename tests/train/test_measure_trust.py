"""The measurements sidecar says which run it belongs to (issue 23): a sidecar of another run, an
older, corrupt or hand-edited one is never read as the run's (readers skip it with one note, the
panels that need it fail with one line); a second `measure` keeps or names what it replaces; the
Recorder's unstated facts are assumptions, not an unknown law; the Python API writes the sidecar."""

import json

import numpy as np
import orjson
import pytest

import animsup
from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.log.measurements import read_for_log, read_measurements, require_for_log, sidecar_path
from animsup.log.sae_file import header_digest
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.rendering.config import RenderConfig
from animsup.rendering.plan import build_plan

FAST = {"chains": 2, "draws": 8, "batch_size": 16}
CLI_FAST = ["--chains", "2", "--draws", "8", "--batch-size", "16"]


def _log(path, *, T=4, K=2, p=0.3, steps=None):
    n, m = 3, 2
    rng = np.random.default_rng(0)
    hdr = make_header(n_features=n, n_hidden=m, model="tied", feature_probability=[p] * K, seed=list(range(K)),
                      importance=np.ones(n).tolist(), config={"loss_reduction": "mean"})
    with LogWriter(path, hdr, force=True) as w:
        for t, s in enumerate(steps or [t * 10 for t in range(T)]):
            w.snapshot(s, np.full(K, 0.1), rng.normal(size=(K, m, n)).astype(np.float32), np.zeros((K, n), np.float32))
        w.end("completed", (steps or [(T - 1) * 10])[-1], 1.0)
    return str(path)


def _edit(log, **changes):
    path = sidecar_path(log)
    d = orjson.loads(open(path, "rb").read())
    d.update(changes)
    open(path, "wb").write(orjson.dumps(d))


def test_the_sidecar_records_its_run_and_another_runs_is_skipped_with_a_note(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl")
    animsup.measure(log, FAST)  # the API writes the sidecar
    d = orjson.loads(open(sidecar_path(log), "rb").read())
    assert d["version"] == 2 and d["log"] == "a.jsonl"
    assert d["header_sha256"] == header_digest(animsup.read_log(log).header.raw)
    assert read_for_log(log)[0] is not None
    _log(tmp_path / "a.jsonl", K=3, p=0.5)  # retrained with --force: the old sidecar stays beside it
    m, note = read_for_log(log)
    assert m is None and "another run" in note and "animsup measure" in note and "--llc" in note
    assert main(["events", log]) == 0
    out, err = capsys.readouterr()
    assert "LLC" not in out and err.count("\n") == 1 and "note:" in err and "another run" in err
    assert main(["inspect", log, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "measurements" not in report and "another run" in report["measurements_note"]
    assert main(["render", log, "--panels", "llc", "--out", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--panels llc" in err and "another run" in err and "animsup measure" in err
    plan = build_plan(log, RenderConfig(), video=False, poster=True)
    assert sum("another run" in n for n in plan.notes) == 1


def test_an_older_a_corrupt_and_a_hand_edited_sidecar_are_not_the_runs(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl")
    animsup.measure(log, FAST)
    _edit(log, steps=[0, 10, 20, 99999])  # a step the log has no snapshot at
    assert "no snapshot at step 99,999" in read_for_log(log, animsup.read_log(log).steps)[1]
    with pytest.raises(AnimsupError, match="no snapshot at step 99,999"):
        require_for_log(log, "--panels llc")
    _edit(log, steps=[0, 10, 20, 30], version=1)  # written before the sidecar recorded its run
    assert read_measurements(log).header_sha256 == ""
    assert "older animsup" in read_for_log(log)[1]
    open(sidecar_path(log), "w").write('{"schema": "animsup.me')  # truncated
    m, note = read_for_log(log)
    assert m is None and "not a valid measurements file" in note and "animsup measure" in note
    assert main(["events", log]) == 0 and main(["inspect", log]) == 0
    assert capsys.readouterr().err.count("not a valid measurements file") == 2


def test_an_sae_sidecar_of_another_run_beside_the_log_is_a_note_not_an_error(tmp_path, capsys):
    log = _log(tmp_path / "q.jsonl")
    open(tmp_path / "q.sae.json", "w").write("{}")
    plan = build_plan(log, RenderConfig(), video=False, poster=True)
    assert any("q.sae.json skipped" in n and "--sae none" in n and "animsup sae" in n for n in plan.notes)
    with pytest.raises(AnimsupError):  # named with --sae: still refused
        build_plan(log, RenderConfig(sae=str(tmp_path / "q.sae.json")), video=False, poster=True)


def test_a_second_measure_merges_the_same_snapshots_and_names_what_it_replaces(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl")
    assert main(["measure", log, "--llc", "--hessian", *CLI_FAST]) == 0
    capsys.readouterr()
    assert main(["measure", log, "--pca"]) == 0  # the same snapshots: merged
    assert "kept the earlier llc, hessian" in capsys.readouterr().out
    m = read_measurements(log)
    assert m.llc is not None and m.hessian is not None and m.pca is not None
    assert main(["measure", log, "--llc", "--snapshots", "30", *CLI_FAST]) == 0  # other snapshots: replaced, said
    out = capsys.readouterr().out
    assert sum("replaced the earlier" in line for line in out.splitlines()) == 1
    assert "hessian, pca" in out and "other snapshots" in out
    assert read_measurements(log).steps.tolist() == [30]


def test_api_write_false_and_snapshots_count_versus_step(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl")
    animsup.measure(log, FAST, write=False)
    assert read_measurements(log) is None
    assert main(["measure", log, "--pca", "--snapshots", "40", "--count"]) == 0
    out = capsys.readouterr().out
    assert "the log has 4 snapshots; measured 4" in out
    assert main(["measure", log, "--snapshots", "5", "--pca"]) == 2  # a step, not a count
    assert "add --count" in capsys.readouterr().err


def test_a_recorder_log_without_importance_or_data_is_measured_with_stated_assumptions(tmp_path, capsys):
    path = str(tmp_path / "r.jsonl")
    rng = np.random.default_rng(0)
    with animsup.Recorder(path, n_features=3, n_hidden=2, n_instances=1, feature_probability=0.2) as rec:
        for t in range(3):
            rec.snapshot(t, W=rng.normal(size=(1, 2, 3)), b=np.zeros((1, 3)), loss=[0.1])
    run = animsup.read_log(path)
    assert run.header.data.get("assumed") is True and run.header.data["kind"] == "uniform"
    m = animsup.measure(path, FAST, write=False)  # was refused: "1 - S was not given"
    assumed = m.llc["settings"]["assumed"]
    assert any("importance 1" in a for a in assumed) and any("uniform" in a for a in assumed)
    assert main(["measure", path, "--llc", *CLI_FAST]) == 0
    assert sum("assumed" in line for line in capsys.readouterr().out.splitlines()) == 1
    with animsup.Recorder(str(tmp_path / "s.jsonl"), n_features=3, n_hidden=2, n_instances=1) as rec:
        rec.snapshot(0, W=rng.normal(size=(1, 2, 3)), b=np.zeros((1, 3)), loss=[0.1])
    with pytest.raises(AnimsupError, match=r"unknown \(1 - S was not given when it was recorded"):
        animsup.measure(str(tmp_path / "s.jsonl"), FAST, write=False)


def test_measure_data_records_the_file_name_and_shape_and_refuses_a_text_file(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl")
    np.save(tmp_path / "X\x1b.npy", np.eye(3, dtype=np.float32).repeat(4, 0))
    assert main(["measure", log, "--llc", "--data", str(tmp_path / "X\x1b.npy"), *CLI_FAST]) == 0
    s = read_measurements(log).llc["settings"]
    assert s["data_shape"] == [12, 3] and s["data_file"].endswith("X\\x1b.npy") and "\x1b" not in s["data"]
    (tmp_path / "t.npy").write_text("1 2 3\n")
    capsys.readouterr()
    assert main(["measure", log, "--llc", "--data", str(tmp_path / "t.npy")]) == 2
    err = capsys.readouterr().err
    assert "not a .npy array of numbers" in err and "allow_pickle" not in err


def test_a_page_render_says_why_a_sidecar_was_skipped_and_no_frame_notes(tmp_path, capsys):
    """`render LOG --out page.html` writes the page and prints the log's notes (a corrupt sidecar
    skipped), not the video's timing notes (a page has no frames)."""
    log = _log(tmp_path / "r.jsonl")
    with open(sidecar_path(log), "w") as f:
        f.write("garbage")
    assert main(["render", str(log), "--out", str(tmp_path / "p.html")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "p.html").exists()
    notes = [ln for ln in out.splitlines() if ln.startswith("note:")]
    assert len(notes) == 1 and "skipped" in notes[0] and "animsup measure" in notes[0]
    assert "interpolate" not in out and "log time" not in out
