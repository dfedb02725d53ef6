"""The terminal sink: nothing a log or checkpoint holds reaches the terminal raw.

Seeds, file names, array keys and labels with control characters (a screen clear, an OSC 52
clipboard write, BEL), a bidi override and newlines go through ``inspect``, ``events`` (text and
``--json``), ``import`` and the one-line errors and warnings; every line printed must be
printable text (``str.isprintable``), the strings shown escaped, and JSON still the same JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from animsup.cli import main

CLEAR, OSC52, RTL = "\x1b[2J", "\x1b]52;c;aGk=\x07", "\u202e"


def _printable(text: str) -> bool:
    return all(line.isprintable() for line in text.split("\n"))


def _run(capsys, argv):
    rc = main(argv)
    cap = capsys.readouterr()
    assert _printable(cap.out), repr(cap.out)
    assert _printable(cap.err), repr(cap.err)
    return rc, cap.out, cap.err


def test_inspect_and_events_show_seeds_escaped(tmp_path, capsys, write_hostile):
    log = tmp_path / "run.jsonl"
    write_hostile(log, seeds=[f"a{CLEAR}b{OSC52}", f"{RTL}evil\nfake line"])
    for command in ("inspect", "events"):
        rc, out, _ = _run(capsys, [command, str(log)])
        assert rc == 0
        assert "seed=a\\x1b[2Jb\\x1b]52;c;aGk=\\x07" in out
        assert "seed=\\u202eevil\\x0afake line" in out  # a newline in a seed makes no line of its own
        assert not any(line.startswith("fake line") for line in out.splitlines())


def test_json_outputs_stay_the_same_json(tmp_path, capsys, write_hostile):
    log = tmp_path / "run.jsonl"
    seeds = [f"a{CLEAR}b{OSC52}", f"{RTL}evil\x9b"]
    write_hostile(log, seeds=seeds)
    for argv in (["inspect", str(log), "--json"], ["events", str(log), "--json"]):
        rc, out, _ = _run(capsys, argv)
        assert rc == 0
        doc = json.loads(out)
        assert [row["seed"] for row in doc["instances"]] == seeds  # the exact strings, escaped as JSON escapes them


def test_errors_and_warnings_are_one_escaped_line(tmp_path, capsys, write_hostile):
    missing = tmp_path / f"no{CLEAR}such{RTL}.jsonl"
    rc, _, err = _run(capsys, ["inspect", str(missing)])
    assert rc == 2 and err.count("\n") == 1 and "no\\x1b[2Jsuch\\u202e.jsonl" in err

    log = tmp_path / f"cut{OSC52}.jsonl"
    write_hostile(log)
    with open(log, "ab") as f:
        f.write(b'{"type": "snapshot", "step": 999, "W": [[')  # a truncated last line: a warning naming the file
    p = subprocess.run([sys.executable, "-m", "animsup", "events", str(log)], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONWARNINGS="default"))  # a real process: its own warning display
    assert p.returncode == 0 and _printable(p.stdout) and _printable(p.stderr)
    assert p.stderr.startswith("animsup: warning: ") and "cut\\x1b]52;c;aGk=\\x07.jsonl" in p.stderr

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"type": "header", "schema": "animsup.run", "version": 1, "n_features": 2,
                               "n_hidden": 1, "n_instances": 1, "model": f"tied{CLEAR}\nnext line"}) + "\n")
    rc, _, err = _run(capsys, ["inspect", str(bad)])
    assert rc == 2 and err.count("\n") == 1 and err.startswith("animsup: error: ")


def test_import_notes_and_keys_are_escaped(tmp_path, capsys):
    key = f"W{CLEAR}{RTL}"
    src = tmp_path / "ck.npz"
    np.savez(src, **{key: np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32),
                     "b": np.zeros(5, np.float32), f"note{OSC52}": np.zeros(3)})
    rc, _, err = _run(capsys, ["import", str(src), "--out", str(tmp_path / "a.jsonl")])
    assert rc == 2 and "W\\x1b[2J\\u202e" in err  # the candidates it lists (arrays of 2+ axes only)
    rc, out, _ = _run(capsys, ["import", str(src), "--out", str(tmp_path / "b.jsonl"), "--w", key])
    assert rc == 0 and "\n  " in out  # a summary and its notes, printable (checked in _run)
    assert "note\\x1b]52;c;aGk=\\x07 [3]" in out  # the array left out, named in a note
