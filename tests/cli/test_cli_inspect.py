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


def _sweep_log(path, k=6):
    """k instances in two groups of 1-S (0.1 and 0.05), losses known, two recorded curves:
    a per-instance test loss (instance i: 0.01·i at the last step) and one shared lr."""
    from animsup.log.recorder import Recorder

    rng = np.random.default_rng(0)
    with Recorder(path, n_features=5, n_hidden=2, n_instances=k, feature_probability=[0.1] * 3 + [0.05] * 3,
                  seed=list(range(10, 10 + k)), curves=["test_loss"]) as rec:
        for s in (0, 50, 100):
            rec.snapshot(s, W=rng.normal(size=(k, 2, 5)), b=np.zeros((k, 5)), loss=1.0 + np.arange(k)[::-1],
                         test_loss=0.01 * np.arange(k) + (100 - s), lr=1e-3 * (1 + s))
    return path


def test_inspect_sweep_prints_one_table_per_group(tmp_path, capsys):
    log = _sweep_log(tmp_path / "sweep.jsonl")
    assert main(["inspect", str(log)]) == 0
    out = capsys.readouterr().out
    assert not any(f"instance {i} (" in out for i in range(6))  # no per-instance blocks
    tables = [block for block in out.split("\n\n") if block.startswith("g")]
    assert [t.splitlines()[0].split(":")[0] for t in tables] == ["g0 1-S=0.1", "g1 1-S=0.05"]
    # losses 6,5,4 | 3,2,1: the best of each group is its last instance, starred, one row per instance
    assert "best 2" in tables[0] and "best 5" in tables[1]
    rows = [line.split() for t in tables for line in t.splitlines()[2:]]
    assert [r[0] for r in rows] == ["0", "1", "2*", "3", "4", "5*"]
    assert [r[1] for r in rows] == [str(10 + i) for i in range(6)]
    assert [float(r[-2]) for r in rows] == pytest.approx([0.01 * i for i in range(6)], abs=1e-6)  # test_loss at step 100
    assert [float(r[-1]) for r in rows] == pytest.approx([0.101] * 6)  # the shared lr at step 100
    assert "test_loss (3 points, per instance), lr (3 points, one for all)" in out


def test_inspect_all_and_instance_show_each_instance_with_its_curves(tmp_path, capsys):
    log = _sweep_log(tmp_path / "sweep.jsonl")
    assert main(["inspect", str(log), "--all"]) == 0
    out = capsys.readouterr().out
    assert all(f"instance {i} (g" in out for i in range(6))
    assert main(["inspect", str(log), "--instance", "4", "--at", "50"]) == 0
    out = capsys.readouterr().out
    assert "instance 4 (g1" in out and "instance 3 (" not in out
    assert "curves: test_loss 50.04, lr 0.051" in out  # the values at step 50, for instance 4


def test_inspect_json_reports_curves_at_the_step(tmp_path, capsys):
    log = _sweep_log(tmp_path / "sweep.jsonl")
    assert main(["inspect", str(log), "--json", "--at", "60", "--instance", "1", "3"]) == 0
    c = json.loads(capsys.readouterr().out)["curves"]
    assert c["test_loss"]["scope"] == "instance" and c["test_loss"]["step"] == 50
    assert c["test_loss"]["values"] == pytest.approx([50.01, 50.03])
    assert c["lr"] == {"points": 3, "scope": "aggregate", "step": 50, "values": [pytest.approx(0.051)]}


def test_inspect_of_a_large_model_is_not_named_and_reads_right(tmp_path, capsys):
    # issue 24: above geometry.NAME_ABOVE features no shape is named (the pairwise naming was n² memory and
    # gave "+ 3 11 features in 11 dimss"); the numbers are O(n·m): 3 dedicated axes of norm 1 (D = 1 each),
    # every other feature norm 0.1 along axis 3 (not represented)
    from animsup.log.recorder import write_arrays

    n, m = geometry.NAME_ABOVE + 52, 4
    W = np.zeros((m, n))
    W[3, :] = 0.1
    W[:, :3] = 0.0
    W[0, 0] = W[1, 1] = W[2, 2] = 1.0
    log = write_arrays(np.stack([W * 0.5, W])[:, None], str(tmp_path / "large.jsonl"), steps=[0, 10])
    assert main(["inspect", log]) == 0
    out = capsys.readouterr().out
    assert f"not named above {geometry.NAME_ABOVE:,} features, 3 of {n} features represented" in out
    assert f"φ½ {3 / n:.3f}" in out and "orthogonal groups" not in out and "dimss" not in out
    # Σ D_i: 3 dedicated (1 each) + the n - 3 features sharing axis 3 (together D = 1: ‖W_i‖² / Σ_j (Ŵ_i·W_j)²)
    assert "Σ D_i 4.0" in out
    assert main(["inspect", log, "--json"]) == 0
    geo = json.loads(capsys.readouterr().out)["instances"][0]["geometry"]
    assert geo["represented"] == [0, 1, 2] and geo["groups"] == [] and geo["faint"] == []
