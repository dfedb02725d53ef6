"""Append paths never destroy a log: gzip and UTF-16/32 logs are refused (and UTF-16/32 read),
and a log another process is still writing is never touched."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.log.reader import read_log
from animsup.log.writer import LogWriter

GOLDEN = Path(__file__).parents[1] / "data" / "golden"


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _small_run(tmp_path) -> Path:
    log = tmp_path / "run.jsonl"
    assert main(["train", "--n-features", "3", "--n-hidden", "2", "--steps", "30", "--every", "10", "--out", str(log)]) == 0
    return log


def test_resume_of_a_gzip_log_refuses_in_one_line_and_keeps_it(tmp_path, capsys):
    log = _small_run(tmp_path)
    gz = tmp_path / "run.jsonl.gz"
    gz.write_bytes(gzip.compress(log.read_bytes()))
    before = _digest(gz)
    capsys.readouterr()
    assert main(["train", "--resume", str(gz), "--steps", "60"]) == 2
    err = capsys.readouterr().err.strip()
    assert "gzip-compressed log" in err and "\n" not in err
    assert _digest(gz) == before
    assert read_log(gz).steps[-1] == 30  # still the whole, readable log


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_logs_are_decoded_and_never_appended_to(tmp_path, encoding):
    src = GOLDEN / "hand_tied_v1.jsonl"
    text = src.read_bytes().decode("utf-8")
    p = tmp_path / "powershell.jsonl"
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[encoding]
    p.write_bytes(bom + text.encode(encoding))
    a, b = read_log(src), read_log(p)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.loss_curve, b.loss_curve)
    before = _digest(p)
    with pytest.raises(AnimsupError, match="UTF-(16|32) text file; animsup appends only to UTF-8"):
        LogWriter(p, None, append=True)
    assert _digest(p) == before


def test_a_log_another_process_is_writing_is_never_touched(tmp_path, capsys):
    log = _small_run(tmp_path)
    # another process holds the log open for writing (as a running trainer does)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from animsup.log.writer import LogWriter
        w = LogWriter({str(log)!r}, None, append=True)
        print("ready", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        before = _digest(log)
        with pytest.raises(AnimsupError, match="being written by another animsup process"):
            LogWriter(log, None, append=True)
        capsys.readouterr()
        assert main(["train", "--resume", str(log), "--steps", "60"]) == 2
        assert "being written by another animsup process" in capsys.readouterr().err
        assert main(["train", "--n-features", "3", "--out", str(log), "--force"]) == 2
        assert _digest(log) == before
        assert read_log(log).steps[-1] == 30  # readers still read it while it is held
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("ext", [".png", ".html"])
@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_replaced_outputs_keep_their_mode(tmp_path, capsys, ext, mode):
    """Replacing an output keeps the replaced file's permission bits (it used to widen 0600 to 0644);
    a new output gets 0666 & ~umask."""
    import os
    import stat

    log = _small_run(tmp_path)
    target = tmp_path / f"out{ext}"
    target.write_bytes(b"earlier")
    os.chmod(target, mode)
    args = ["render", str(log), "--out", str(target), "--size", "320x240", "--workers", "0", "--quiet"]
    assert main(args) == 0
    assert target.read_bytes() != b"earlier" and stat.S_IMODE(os.stat(target).st_mode) == mode
    old = os.umask(0o077)
    try:
        assert main([*args[:3], str(tmp_path / f"new{ext}"), *args[4:]]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / f"new{ext}").st_mode) == 0o600
