"""animsup.measure and the commands around it: shapes, the data law, the sidecar, `animsup measure`,
`inspect --json` and `events` reading it, bad input."""

import json

import numpy as np
import pytest

import animsup
from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.log.measurements import read_measurements, sidecar_path
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.train.measure import law_known, measure

FAST = {"chains": 2, "draws": 12, "batch_size": 16, "lr": 1e-3, "localization": 100.0}


def _log(path, *, T=4, K=2, model="tied", provenance=None):
    n, m = 3, 2
    rng = np.random.default_rng(0)
    hdr = make_header(n_features=n, n_hidden=m, model=model, feature_probability=[0.3] * K, seed=list(range(K)),
                      importance=np.ones(n).tolist(), config={"loss_reduction": "mean"}, provenance=provenance)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            w.snapshot(t * 10, np.full(K, 0.1), rng.normal(size=(K, m, n)).astype(np.float32), np.zeros((K, n), np.float32))
        w.end("completed", (T - 1) * 10, 1.0)
    return str(path)


def test_measure_returns_steps_and_llc_per_snapshot_and_instance(tmp_path):
    log = _log(tmp_path / "a.jsonl", T=4, K=2)
    m = animsup.measure(log, FAST, snapshots=[0, 30], hessian=True, pca=2)
    assert m.steps.tolist() == [0, 30] and m.llc_mean.shape == (2, 2) and m.llc_std.shape == (2, 2)
    assert np.isfinite(m.llc_mean).all() and m.llc["chains"].shape == (2, 2, 2)
    s = m.llc["settings"]
    assert s["lr"] == 1e-3 and s["localization"] == 100.0 and s["nbeta"] == pytest.approx(16 / np.log(16))
    assert s["chains"] == 2 and s["draws"] == 12 and s["batch_size"] == 16 and "law" in s["data"]
    assert m.hessian["eigenvalues"].shape == (2, 2, 3 * 2 + 3) and m.hessian["settings"]["method"] == "exact"
    assert m.pca["components"].shape == (2, 2, 2)
    assert animsup.measure(log, FAST, snapshots=2).steps.tolist() == [0, 30]   # a count: evenly spaced, ends included


def test_the_same_seed_gives_the_same_estimate_and_a_data_set_replaces_the_law(tmp_path):
    log = _log(tmp_path / "a.jsonl")
    a = measure(log, FAST, snapshots=[30])
    b = measure(log, FAST, snapshots=[30])
    np.testing.assert_array_equal(a.llc_mean, b.llc_mean)
    data = np.eye(3, dtype=np.float32).repeat(10, 0)
    c = measure(log, FAST, snapshots=[30], data=data)
    assert "data set [30, 3]" in c.llc["settings"]["data"]


def test_bad_input_is_one_clear_error(tmp_path):
    log = _log(tmp_path / "a.jsonl")
    with pytest.raises(AnimsupError, match="no snapshot at step 5"):
        measure(log, FAST, snapshots=[5])
    with pytest.raises(AnimsupError, match=r"data must have shape \[N, 3\]"):
        measure(log, FAST, data=np.zeros((4, 2)))
    with pytest.raises(AnimsupError, match="unknown llc setting"):
        measure(log, {"num_draws": 3})
    custom = _log(tmp_path / "c.jsonl", model="custom")
    with pytest.raises(AnimsupError, match="no forward pass"):
        measure(custom, FAST)


def test_an_imported_log_without_a_given_law_needs_data(tmp_path):
    log = _log(tmp_path / "i.jsonl", provenance={"source": "x.safetensors", "given": {}, "inferred": {"feature_probability": 1}})
    run = animsup.read_log(log)
    assert not law_known(run)
    with pytest.raises(AnimsupError, match=r"data law of this log is unknown \(1 - S was not given to the import\)"):
        measure(log, FAST)
    assert measure(log, FAST, snapshots=[30], data=np.eye(3, dtype=np.float32)).llc_mean.shape == (1, 2)


def test_cli_measure_writes_the_sidecar_that_inspect_and_events_read(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl", T=6)
    assert main(["measure", log, "--llc", "--hessian", "--chains", "2", "--draws", "12", "--batch-size", "16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sidecar"] == sidecar_path(log) and out["llc"]["settings"]["draws"] == 12
    m = read_measurements(log)
    assert m.llc_mean.shape == (6, 2) and m.hessian is not None
    assert main(["inspect", log, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["measurements"]["llc"]["last"] == pytest.approx(list(m.llc_mean[-1]))
    assert rep["measurements"]["hessian"]["settings"]["method"] == "exact"
    # events list an LLC jump written into the sidecar
    m.llc["mean"][:, 0] = [1, 1, 1, 5, 5, 5]
    m.llc["std"][:] = 0.1
    m.llc["settled"][:] = True  # (the jump rule takes settled estimates without diverged chains only)
    m.llc["diverged"][:] = 0
    from animsup.log.measurements import write_measurements

    write_measurements(log, m)
    assert main(["events", log, "--instance", "0", "--json"]) == 0
    evs = json.loads(capsys.readouterr().out)["instances"][0]["events"]
    assert [(e["kind"], e["step"], e["step_from"]) for e in evs if e["kind"] == "llc_jump"] == [("llc_jump", 30, 20)]


def test_cli_bad_input_exits_2(tmp_path, capsys):
    log = _log(tmp_path / "a.jsonl")
    assert main(["measure", log]) == 2
    assert "nothing to measure" in capsys.readouterr().err
    assert main(["measure", log, "--llc", "--chains", "0"]) == 2
    assert "chains" in capsys.readouterr().err
    assert main(["measure", log, "--llc", "--data", str(tmp_path / "missing.npy")]) == 2


def test_cli_snapshots_are_steps_and_count_only_with_count(tmp_path, capsys):
    """--snapshots S...: those steps; --snapshots N --count: N evenly spaced; the summary names the steps."""
    log = _log(tmp_path / "a.jsonl", T=6)  # steps 0, 10, ..., 50
    fast = ["--llc", "--chains", "2", "--draws", "12", "--batch-size", "16"]
    assert main(["measure", log, "--snapshots", "30", *fast]) == 0
    out = capsys.readouterr().out
    assert read_measurements(log).steps.tolist() == [30]
    assert out.startswith(f"measured 1 snapshot (step 30) x 2 instances -> {sidecar_path(log)}"), out
    # 3 evenly spaced of 6 snapshots: indices round(0, 2.5, 5) = 0, 2, 5 -> steps 0, 20, 50
    assert main(["measure", log, "--snapshots", "3", "--count", *fast]) == 0
    assert read_measurements(log).steps.tolist() == [0, 20, 50]
    assert "measured 3 snapshots (steps 0, 20, 50) x 2 instances" in capsys.readouterr().out
    assert main(["measure", log, "--snapshots", "3", *fast]) == 2  # a step the log does not have
    err = capsys.readouterr().err
    assert "no snapshot at step 3" in err and "--count" in err and len(err.strip().splitlines()) == 1


def test_measure_help_names_the_sidecar_as_written(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["measure", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "LOG.measure.json" not in text
    assert sidecar_path("runs/a.jsonl") == sidecar_path("runs/a.jsonl.gz") == "runs/a.measure.json"
    assert "runs/a.jsonl or runs/a.jsonl.gz -> runs/a.measure.json" in text
    snap = text.split("--snapshots S [S ...]")[-1].split("--count")[0]
    assert "step 5" in snap and "evenly spaced" not in snap  # a count only via --count
