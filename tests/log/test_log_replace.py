"""``LogWriter(force=True)``: replace-then-delete, regular files only, modes kept.

The old log stays, whole and locked against other writers, until the new log has its first
snapshot; a new run that fails (or closes) before that leaves the old log exactly as it was.
"""

from __future__ import annotations

import os
import socket
import stat

import numpy as np
import pytest

from animsup.errors import AnimsupError
from animsup.log.reader import read_log
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def _header(n_features=3):
    return make_header(n_features=n_features, n_hidden=2, model="tied", feature_probability=[1.0, 0.5], seed=[0, 1],
                       importance=[1.0] * n_features, config={"steps": 10})


def _snap(w, step, value=0.0, n_features=3):
    w.snapshot(step, [1.0, 1.0], np.full((2, 2, n_features), value), np.zeros((2, n_features)))


def _old_log(path):
    with LogWriter(path, _header()) as w:
        for s in (0, 1, 2):
            _snap(w, s, value=s)
        w.end("completed", 2, 1.0)
    return path.read_bytes()


def _temps(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_old_log_stays_until_the_first_snapshot(tmp_path):
    p = tmp_path / "run.jsonl"
    before = _old_log(p)
    w = LogWriter(p, _header(4), force=True)
    assert w.replacing and p.read_bytes() == before  # the header went to a temp beside it
    assert len(_temps(tmp_path)) == 1
    # while it is being replaced, the old log is locked: nobody else replaces or appends to it
    for kw in ({"force": True}, {"append": True}):
        with pytest.raises(AnimsupError, match="being written by another animsup process"):
            LogWriter(p, _header(), **kw)
    _snap(w, 0, n_features=4)
    assert not w.replacing and read_log(p).W.shape[-1] == 4  # replaced at the first snapshot ...
    _snap(w, 5, n_features=4)  # ... and followed live from then on
    w.close()
    assert list(read_log(p).steps) == [0, 5] and _temps(tmp_path) == []


def test_failure_before_the_first_snapshot_keeps_the_old_log(tmp_path):
    p = tmp_path / "run.jsonl"
    before = _old_log(p)
    with pytest.raises(RuntimeError):
        with LogWriter(p, _header(4), force=True):
            raise RuntimeError("the first step failed")
    assert p.read_bytes() == before and _temps(tmp_path) == []
    LogWriter(p, _header(4), force=True).close()  # closed without a snapshot: no run, nothing replaced
    assert p.read_bytes() == before and _temps(tmp_path) == []


def test_on_replace_runs_only_when_the_old_log_is_gone(tmp_path):
    p = tmp_path / "run.jsonl"
    _old_log(p)
    calls = []
    w = LogWriter(p, _header(), force=True, on_replace=lambda: calls.append(p.read_bytes().count(b"\n")))
    assert calls == []
    _snap(w, 0)
    assert calls == [2]  # called after the rename: the file at p is the new log (header + snapshot)
    w.close()
    LogWriter(p, _header(), force=True, on_replace=lambda: calls.append("x")).close()
    assert calls == [2]  # a replacement that never happened removes nothing


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_replacing_keeps_the_mode(tmp_path, mode):
    p = tmp_path / "run.jsonl"
    _old_log(p)
    os.chmod(p, mode)
    with LogWriter(p, _header(), force=True) as w:
        _snap(w, 0)
    assert stat.S_IMODE(os.stat(p).st_mode) == mode


def test_new_log_gets_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        with LogWriter(tmp_path / "a.jsonl", _header()) as w:
            _snap(w, 0)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.jsonl").st_mode) == 0o640


def _fifo(tmp_path):
    path = tmp_path / "pipe.jsonl"
    os.mkfifo(path)
    return path


def _socket(tmp_path):
    path = tmp_path / "s.jsonl"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    return path


@pytest.mark.parametrize("make", [_fifo, _socket], ids=["fifo", "socket"])
@pytest.mark.parametrize("kw", [{}, {"force": True}, {"append": True}], ids=["plain", "force", "append"])
def test_only_regular_files_are_written(tmp_path, make, kw):
    path = make(tmp_path)
    with pytest.raises(AnimsupError, match="not a regular log file"):
        LogWriter(path, _header(), **kw)  # (a FIFO would block here forever)
    assert not stat.S_ISREG(os.stat(path).st_mode)  # still there, untouched
    assert _temps(tmp_path) == []


def test_device_is_refused_before_anything_happens(tmp_path, monkeypatch):
    def never(*a, **kw):  # a regression must fail this test, not delete the machine's /dev/null
        raise AssertionError("tried to remove or replace a device")

    monkeypatch.setattr(os, "unlink", never)
    monkeypatch.setattr(os, "replace", never)
    with pytest.raises(AnimsupError, match="is a device"):
        LogWriter(os.devnull, _header(), force=True)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
