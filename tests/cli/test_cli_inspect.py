"""`animsup inspect` on constructed logs with known geometry."""

import json

import numpy as np
import pytest

from animsup.analysis import geometry
from animsup.cli import main
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def write_log(path, *, end=True, steps=(0, 50, 100)):
    """Two instances that end as a pentagon (0) and a square (1); at step 0 both are tiny."""
    header = make_header(
        n_features=5, n_hidden=2, model="tied", feature_probability=[0.1, 0.1], seed=[0, 1],
        importance=0.9 ** np.arange(5), config={"steps": 100},
    )
    pent = geometry.polygon(5, 1.1)
    square = np.zeros((2, 5))
    square[:, [0, 2, 1, 3]] = geometry.polygon(4, 1.0)
    with LogWriter(path, header) as w:
        w.losses(0, 10, np.linspace(0.3, 0.1, 11)[:, None] * [1.0, 1.1])
        for s in steps:
            scale = s / steps[-1]
            W = np.stack([pent * scale, square * scale])
            w.snapshot(s, [0.3 - 0.2 * scale, 0.33 - 0.2 * scale], W, np.zeros((2, 5)))
        if end:
            w.end("completed", steps[-1], 1.5)
    return path


def test_inspect_json_reports_shapes(tmp_path, capsys):
    log = write_log(tmp_path / "r.jsonl")
    assert main(["inspect", str(log), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["status"] == "completed" and r["snapshots"] == 3 and r["steps"] == 100
    assert r["importance_text"] == "0.9^i"
    g0, g1 = (row["geometry"] for row in r["instances"])
    assert g0["shape"] == "pentagon" and g0["represented"] == [0, 1, 2, 3, 4]
    assert np.allclose(g0["dimensionality"], 0.4, atol=1e-5)
    assert g1["shape"] == "square" and g1["represented"] == [0, 1, 2, 3]
    assert r["instances"][1]["final_loss"] == pytest.approx(0.11, rel=1e-5)  # last 5% of 100 steps: step 100
    # one group (same 1-S and importance); instance 0 has the lower final loss
    assert [(g["group"], g["instances"], g["best"]) for g in r["groups"]] == [("g0", [0, 1], 0)]
    assert r["groups"][0]["final_loss"] == {"0": pytest.approx(0.1, rel=1e-5), "1": pytest.approx(0.11, rel=1e-5)}
    assert [row["best_in_group"] for row in r["instances"]] == [True, False]


def test_inspect_at_step_and_instance_selection(tmp_path, capsys):
    log = write_log(tmp_path / "r.jsonl")
    assert main(["inspect", str(log), "--json", "--at", "60", "--instance", "1", "--threshold", "0.4"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["at_step"] == 50 and [row["index"] for row in r["instances"]] == [1]
    assert r["instances"][0]["geometry"]["shape"] == "square"  # norm 0.5 > 0.4
    assert main(["inspect", str(log), "--json", "--at", "60"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["instances"][1]["geometry"]["shape"] == "not learned"  # norm 0.5 is not > 0.5


def test_inspect_text(tmp_path, capsys):
    log = write_log(tmp_path / "r.jsonl")
    assert main(["inspect", str(log)]) == 0
    out = capsys.readouterr().out
    assert "pentagon (regularity 1.00)" in out and "square" in out
    assert "status completed" in out and "3 snapshots" in out


def test_inspect_unfinished_and_truncated_log(tmp_path, capsys):
    log = write_log(tmp_path / "r.jsonl", end=False)
    with open(log, "ab") as f:
        f.write(b'{"type": "snapshot", "step": 150, "lo')  # a writer killed mid-line
    with pytest.warns(UserWarning, match="incomplete"):
        assert main(["inspect", str(log), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["status"] == "unfinished" and r["truncated"] and r["at_step"] == 100


def test_inspect_errors(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    log = write_log(tmp_path / "r.jsonl")
    assert main(["inspect", str(log), "--instance", "7"]) == 2
    assert main(["inspect", str(log), "--threshold", "-1"]) == 2
