"""Importing seed 002's C log: exact values from hand-made fixtures, broken variants, and
(where gcc exists) the real output of bench/c/seed002.c."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from animsup import importers
from animsup.cli import main
from animsup.errors import AnimsupError, LogFormatError
from animsup.log.reader import read_log

DATA = Path(__file__).parents[1] / "data" / "c_log"
ROOT = Path(__file__).parents[2]


def convert(name, tmp_path, **kw):
    out = tmp_path / f"{name}.jsonl"
    return importers.convert("c-log", DATA / f"{name}.log", out, **kw), out


def test_small_log_values(tmp_path):
    res, out = convert("small", tmp_path, importance=0.9, feature_probability=0.05, seed=3)
    assert (res.status, res.n_features, res.n_hidden, res.snapshots, res.loss_points) == ("completed", 3, 2, 2, 250)
    run = read_log(out)
    assert run.status == "completed" and run.end["step"] == 250
    np.testing.assert_array_equal(run.steps, [100, 200])  # after run 99's and run 199's updates
    np.testing.assert_allclose(run.W[0, 0], [[0.5, -0.25, 0.0], [0.125, 0.75, 0.0]])
    np.testing.assert_allclose(run.W[1, 0], [[1.0, -0.5, 0.25], [-0.125, 0.875, -0.375]])
    np.testing.assert_allclose(run.b[1, 0], [-0.05, 0.03, 0.0])
    # every run's loss, at step = run; a snapshot's loss is the next run's (its parameters' loss)
    np.testing.assert_array_equal(run.loss_steps, np.arange(250))
    np.testing.assert_allclose(run.loss_curve[:, 0], np.round(0.2 - 0.0004 * np.arange(250), 4), atol=1e-7)
    np.testing.assert_allclose(run.loss[:, 0], run.loss_curve[[100, 200], 0])
    h = run.header
    np.testing.assert_allclose(h.importance, [0.9 ** np.arange(3)], rtol=1e-6)
    np.testing.assert_allclose(h.feature_probability, [[0.05] * 3])
    assert h.seed == (3,)
    assert "assumed" in h.raw["importance_source"] and h.config["gradient"] == "blog"


def test_negative_zero(tmp_path):
    res, out = convert("negzero", tmp_path)
    assert read_log(out).W[0, 0, 1, 0] == 0.0


def test_malformed_names_the_line(tmp_path):
    with pytest.raises(LogFormatError) as e:
        convert("malformed", tmp_path)
    line = (DATA / "malformed.log").read_text().split("\n").index(" 0.500  x.250  0 ") + 1
    assert e.value.line == line and "'x.250' is not a number" in str(e.value)
    assert not (tmp_path / "malformed.jsonl").exists()  # nothing half-written


@pytest.mark.parametrize("name,runs", [("truncated", 200), ("cut_line", 150)])
def test_cut_off_imports_what_is_complete(tmp_path, name, runs):
    with pytest.warns(UserWarning, match="cut off"):
        res, out = convert(name, tmp_path)
    run = read_log(out)
    assert res.status == run.status == "interrupted"
    assert len(run.loss_steps) == runs and list(run.steps) == [100]  # the second group is incomplete


def test_nan_loss_is_diverged(tmp_path):
    res, out = convert("nan", tmp_path)
    run = read_log(out)
    assert run.status == "diverged" and run.end["step"] == 230
    assert len(run.loss_steps) == 230 and np.isfinite(run.loss_curve).all()


def test_errors(tmp_path):
    with pytest.raises(AnimsupError, match="unknown import format"):
        importers.convert("csv", DATA / "small.log", tmp_path / "x.jsonl")
    with pytest.raises(AnimsupError, match="does not take --bogus"):
        importers.convert("c-log", DATA / "small.log", tmp_path / "x.jsonl", bogus=1)
    short = tmp_path / "short.log"
    short.write_text("run: 0\nL: 0.1000\n")
    with pytest.raises(AnimsupError, match="N and M are unknown"):
        importers.convert("c-log", short, tmp_path / "y.jsonl")
    short.write_text("run: 0\nL: 0.1000\nrun: 2\nL: 0.1\n")
    with pytest.raises(LogFormatError, match="expected 'run: 1'"):
        importers.convert("c-log", short, tmp_path / "y.jsonl")


def test_cli_import_then_inspect(tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["import", "--format", "c-log", str(DATA / "small.log"), "--out", str(out)]) == 0
    assert "status completed" in capsys.readouterr().out
    assert main(["import", "--format", "c-log", str(DATA / "small.log"), "--out", str(out)]) == 2  # exists
    assert "--force" in capsys.readouterr().err
    assert main(["inspect", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["n_features"] == 3 and r["importance_text"] == "0.7^i"


@pytest.mark.skipif(shutil.which("gcc") is None or not (ROOT / "bench/c/seed002.c").exists(),
                    reason="needs gcc and bench/c/seed002.c")
def test_real_c_program_output(tmp_path):
    exe = tmp_path / "seed002"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(ROOT / "bench/c/seed002.c"), "-lm"], check=True)
    # N M BASE S_ RUNS ETA COUNT SEED BATCH
    text = subprocess.run([str(exe), "6", "2", "0.7", "0.1", "300", "1.0", "2000", "0", "64"],
                          check=True, capture_output=True, text=True).stdout
    src = tmp_path / "c.log"
    src.write_text(text)
    res = importers.convert("c-log", src, tmp_path / "c.jsonl")
    run = read_log(tmp_path / "c.jsonl")
    assert (res.status, run.header.n_features, run.header.n_hidden) == ("completed", 6, 2)
    assert list(run.steps) == [100, 200, 300] and len(run.loss_steps) == 300
    # the last W block, parsed independently
    lines = text.split("\n")
    k = len(lines) - 1 - lines[::-1].index("W: [")
    W = np.array([[float(t) for t in lines[k + 1 + r].split()] for r in range(2)])
    np.testing.assert_allclose(run.W[-1, 0], W, atol=1e-7)


def test_log_ending_right_after_a_block_group(tmp_path, monkeypatch):
    from animsup.importers import c_log

    monkeypatch.setattr(c_log, "LOSS_CHUNK", 7)  # losses already written out when the group ends the file
    lines = (DATA / "small.log").read_text().split("\n")
    end = lines.index("run: 200")
    src = tmp_path / "ends.log"
    src.write_text("\n".join(lines[:end]) + "\n")
    res = importers.convert("c-log", src, tmp_path / "e.jsonl")
    run = read_log(tmp_path / "e.jsonl")
    assert res.status == "completed" and list(run.steps) == [100, 200] and len(run.loss_steps) == 200
    # no next run: the last snapshot carries the last run's loss
    assert run.loss[-1, 0] == pytest.approx(round(0.2 - 0.0004 * 199, 4))


def test_a_registered_format_is_usable_from_the_command_line(tmp_path, monkeypatch, capsys):
    """A format added to importers.FORMATS (the one line docs/architecture.md asks for) works with
    `animsup import --format NAME` without touching the CLI; options it does not take are refused."""
    monkeypatch.setitem(importers.FORMATS, "c-log-copy", "c_log")
    ref, out = tmp_path / "ref.jsonl", tmp_path / "copy.jsonl"
    assert main(["import", "--format", "c-log", str(DATA / "small.log"), "--out", str(ref)]) == 0
    assert main(["import", "--format", "c-log-copy", str(DATA / "small.log"), "--out", str(out)]) == 0
    a, b = read_log(ref), read_log(out)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.loss, b.loss)
    capsys.readouterr()
    assert main(["import", "--format", "c-log-copy", str(DATA / "small.log"), "--out", str(tmp_path / "x.jsonl"),
                 "--w", "W"]) == 2
    assert "does not take --w" in capsys.readouterr().err
    assert main(["import", "--format", "nope", str(DATA / "small.log"), "--out", str(tmp_path / "y.jsonl")]) == 2
    assert "c-log-copy" in capsys.readouterr().err  # the known formats come from the registry
