"""Every broken log in tests/data/bad/ gets its expected outcome, from the library and from
every command that reads a log: one line on stderr naming file, line and problem, exit 2,
never a traceback, never a partial output file. See tests/data/bad/cases.json."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from animsup.cli import main
from animsup.errors import LogFormatError, LogWarning
from animsup.log.reader import open_log, read_header, read_log

BAD = Path(__file__).parents[1] / "data" / "bad"
CASES = json.loads((BAD / "cases.json").read_text())
ROOT = Path(__file__).resolve().parents[2]

# cases whose message comes from the command rather than the reader (e.g. "no snapshots")
COMMAND_WORDED = {"header_only.jsonl", "header_only_no_newline.jsonl"}


def _ids(cases):
    return [c["file"] for c in cases]


def _check_error(err: LogFormatError, case: dict) -> None:
    assert case["message"] in err.reason, (str(err), case)
    assert err.line == case["line"], (str(err), case)
    assert err.path.endswith(case["file"])
    assert "\n" not in str(err) and len(str(err)) < 400


# --------------------------------------------------------------------------- the library


def test_manifest_covers_every_file():
    files = {p.name for p in BAD.iterdir() if p.name not in ("cases.json", "make_corpus.py")}
    assert files == {c["file"] for c in CASES}
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_read_log(case):
    path = BAD / case["file"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case["outcome"] == "error":
            with pytest.raises(LogFormatError) as info:
                read_log(path)
            _check_error(info.value, case)
            return
        run = read_log(path)
    got = [str(w.message) for w in caught if issubclass(w.category, LogWarning)]
    assert len(run.steps) == case["snapshots"]
    if case["outcome"] == "warning":
        assert len(got) == 1 and case["message"] in got[0] and f":{case['line']}:" in got[0]
    else:
        assert got == []


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_streaming_reader_agrees(case):
    """open_log streams the same outcome: errors surface at the same line."""
    path = BAD / case["file"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogWarning)
        try:
            with open_log(path) as r:
                n = sum(1 for _ in r.snapshots())
        except LogFormatError as e:
            assert case["outcome"] == "error"
            _check_error(e, case)
            return
    if case["file"] in COMMAND_WORDED:
        assert n == 0
    else:
        assert case["outcome"] != "error" and n == case["snapshots"]


@pytest.mark.parametrize("case", [c for c in CASES if c["outcome"] == "error" and (c["line"] == 1 or "line 1" in c["message"])],
                         ids=str)
def test_read_header_rejects_bad_headers(case):
    with pytest.raises(LogFormatError) as info:
        read_header(BAD / case["file"])
    _check_error(info.value, case)


# --------------------------------------------------------------------------- the commands


def _have(command: str) -> bool:
    from animsup.cli import COMMANDS

    return importlib.util.find_spec(f"animsup.cli.{COMMANDS[command]}") is not None


def _argv(command: str, log: Path, out_dir: Path) -> list[str]:
    if command == "render":
        # the fixtures hold two sparsities (two groups): a bare "best" would be ambiguous
        return ["render", str(log), "--out", str(out_dir / "r.png"), "--workers", "1", "--instance", "0"]
    if command == "minima":
        return ["minima", str(log), "--out", str(out_dir / "study"), "--quiet"]
    return [command, str(log)]


READERS = [c for c in ("inspect", "events", "render", "minima") if _have(c)]
# commands whose successful runs are slow (they draw): tried on the error cases and a few good ones
SLOW = {"render", "minima"}
SLOW_OK = {"truncated_last_line.jsonl", "compressed.jsonl.gz", "no_end_record.jsonl"}


PAIRS = [(cmd, c) for c in CASES for cmd in READERS
         if cmd not in SLOW or c["outcome"] == "error" or c["file"] in SLOW_OK]


@pytest.mark.parametrize("command,case", PAIRS, ids=[f"{cmd}-{c['file']}" for cmd, c in PAIRS])
def test_command_on_bad_log(command, case, tmp_path, capsys):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        rc = main(_argv(command, BAD / case["file"], out_dir))
    cap = capsys.readouterr()
    if case["outcome"] != "error":
        assert rc == 0, cap.err
        return
    assert rc == 2, (rc, cap.err)
    assert "Traceback" not in cap.err and "internal error" not in cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    assert lines[0].startswith("animsup: error: ") and case["file"] in lines[0]
    if case["file"] not in COMMAND_WORDED:
        assert case["message"] in lines[0]
        if case["line"] is not None:
            assert f"{case['file']}:{case['line']}: " in lines[0]
    assert cap.out == ""
    assert [p for p in out_dir.rglob("*") if not p.is_dir()] == [], "a failed command left files behind"


SUBPROCESS_CASES = ["binary_garbage.jsonl", "W_null.jsonl", "steps_duplicated.jsonl", "gzip_truncated.jsonl.gz"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_real_process_one_line_exit_2(name):
    case = next(c for c in CASES if c["file"] == name)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("ANIMSUP_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-m", "animsup", "inspect", str(BAD / name)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    where = f"{name}:{case['line']}: " if case["line"] else f"{name}: "
    assert where in lines[0] and case["message"] in lines[0]


def test_real_process_warns_on_truncated_log():
    p = subprocess.run(
        [sys.executable, "-m", "animsup", "inspect", str(BAD / "truncated_last_line.jsonl")],
        capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=ROOT, timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip().splitlines() == [
        f"animsup: warning: {BAD / 'truncated_last_line.jsonl'}:7: last line is incomplete "
        "(truncated or still being written); ignored it"
    ]
    assert "unfinished" in p.stdout


@pytest.mark.parametrize("command", READERS)
def test_command_on_missing_file_and_folder(command, tmp_path, capsys):
    for target, msg in [(tmp_path / "nope.jsonl", "no such file"), (tmp_path, "is a folder")]:
        assert main(_argv(command, target, tmp_path)) == 2
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["inspect"], ["events"], ["render", "--out", "{out}/r.png"], ["measure", "--llc"],
                                  ["sae"], ["view", "--port", "0"], ["export", "--to", "safetensors", "--out", "{out}/e"]],
                         ids=lambda a: a[0])
@pytest.mark.parametrize("text", [b"my notes\nmore notes\n", b"one line, no newline", b"step,loss\r\n0,1.5\r\n"],
                         ids=["lines", "no-newline", "csv"])
def test_every_reader_says_a_text_file_is_not_an_animsup_log(argv, text, tmp_path, capsys):
    """A text file given as a log: one line from one place (animsup.log.files.not_a_log), never a JSON parser's words."""
    notes = tmp_path / "notes.txt"
    notes.write_bytes(text)
    args = [argv[0], str(notes), *(a.format(out=tmp_path) for a in argv[1:])]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"animsup: error: {notes}: not an animsup log (line 1 is not JSON)"]
