"""What animsup reports must not contradict what happened: resumed runs, diverging runs,
non-finite values in imported logs (issue 10, section 5)."""

import json
import warnings
from pathlib import Path

import pytest

from animsup import importers
from animsup.cli import main

C_LOG = Path(__file__).parents[1] / "data" / "c_log"
TINY = ["--backend", "numpy", "--batch-size", "16", "--snapshots", "5", "-q"]


def test_resumed_run_reports_its_new_total_and_this_sessions_rate(tmp_path, capsys):
    log = str(tmp_path / "r.jsonl")
    assert main(["train", "--steps", "40", "--out", log, *TINY]) == 0
    assert main(["train", "--resume", log, "--steps", "60"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("completed at step 60 of 60: 20 steps from step 40 in ")
    assert main(["inspect", log, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["steps"], r["planned_steps"], r["resumed_from"]) == (60, 60, [40])
    assert main(["inspect", log]) == 0
    text = capsys.readouterr().out
    assert "steps 60 of 60, resumed 1 time (last from step 40" in text and "of 40" not in text


def test_a_diverging_run_prints_one_clear_line_and_no_numpy_warnings(tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail the run
        rc = main(["train", "--optimizer", "sgd", "--lr", "1e6", "--steps", "200", "--out", str(tmp_path / "d.jsonl"),
                   *TINY])
    err = capsys.readouterr().err
    assert rc == 3 and err.count("\n") == 1 and "training diverged" in err and "overflow" not in err


@pytest.mark.parametrize("token,name", [("inf", "inf"), ("-inf", "-inf"), ("nan", "NaN")])
def test_c_log_importer_names_the_non_finite_value(tmp_path, token, name):
    text = (C_LOG / "nan.log").read_text().replace("L: nan", f"L: {token}")
    src = tmp_path / "x.log"
    src.write_text(text)
    res = importers.convert("c-log", src, tmp_path / "x.jsonl")
    assert res.status == "diverged" and any(n.startswith(f"{name} loss at run") for n in res.notes), res.notes


def test_c_log_importer_says_inf_for_an_infinite_weight(tmp_path):
    lines = (C_LOG / "small.log").read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("W: [")) + 1
    lines[at] = lines[at].replace("0.500", "inf", 1)
    src = tmp_path / "w.log"
    src.write_text("".join(lines))
    res = importers.convert("c-log", src, tmp_path / "w.jsonl")
    assert res.status == "diverged" and any(n.startswith("inf in the weights after run") for n in res.notes), res.notes


def test_one_run_report_for_inspect_and_summary(tmp_path):
    """`animsup inspect --json` and `animsup.summary` are the same report (analysis.report):
    the summary from a Run agrees with the streamed report on every fact a Run holds."""
    import numpy as np

    import animsup
    from animsup.analysis.report import report_log

    rng = np.random.default_rng(0)
    path = tmp_path / "r.jsonl"
    with animsup.Recorder(path, n_features=5, n_hidden=2, n_instances=3, feature_probability=[0.1, 0.1, 0.3]) as rec:
        for step in range(0, 100, 10):
            rec.loss(step, rng.random(3))
            rec.snapshot(step, W=rng.normal(size=(3, 2, 5)), loss=rng.random(3))
    streamed = report_log(path).to_dict()
    summary = animsup.summary(str(path))
    for key in ("version", "model", "n_features", "n_instances", "importance", "loss_scope", "status",
                "snapshots", "at_step", "steps", "groups", "instances"):
        assert summary[key] == streamed[key], key
    assert "model_label" in summary
    assert [g["best"] for g in summary["groups"]] == [g["best"] for g in streamed["groups"]]
    assert len(summary["groups"]) == 2
