"""Faults, with real processes: signals, SIGKILL, a full disk, two writers, killed renders.

Training runs use the numpy backend and tiny models so each process starts in well under a
second; a run is long (millions of steps) and is stopped once its log shows snapshots.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from animsup.cli import main
from animsup.errors import LogWarning
from animsup.log.reader import read_log

ROOT = Path(__file__).resolve().parent.parent
ENV = {k: v for k, v in os.environ.items() if k != "ANIMSUP_DEBUG"} | {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
LONG_RUN = ["--backend", "numpy", "--n-features", "5", "--n-hidden", "2", "-p", "0.1", "0.5", "--seeds", "2",
            "--steps", "5000000", "--batch-size", "256", "--every", "200", "--loss-every", "20", "--quiet"]


def _animsup(*args, **kw) -> subprocess.Popen:
    kw.setdefault("env", ENV)
    return subprocess.Popen([sys.executable, "-m", "animsup", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _snapshot_lines(path: Path) -> int:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    return sum(1 for line in data.split(b"\n")[:-1] if line.startswith(b'{"type":"snapshot"'))


def _wait_for_snapshots(path: Path, n: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    t0 = time.monotonic()
    while _snapshot_lines(path) < n:
        if proc.poll() is not None:
            raise AssertionError(f"trainer exited early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError(f"no {n} snapshots in {path} after {timeout} s")
        time.sleep(0.02)


def _read_clean(path):
    """read_log, failing on any LogWarning (a truncated line)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", LogWarning)
        return read_log(path)


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_train_signal_leaves_valid_interrupted_log(tmp_path, sig):
    log = tmp_path / "run.jsonl"
    p = _animsup("train", *LONG_RUN, "--out", str(log))
    _wait_for_snapshots(log, 3, p)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted at step" in err and "--resume" in err and len(err.strip().splitlines()) == 1
    run = _read_clean(log)
    assert run.status == "interrupted"
    assert run.end["step"] == run.steps[-1]  # the step it stopped at was written as a snapshot
    assert len(run.steps) >= 3 and np.all(np.diff(run.steps) > 0)
    assert log.read_bytes().endswith(b"\n")


def test_train_sigkill_keeps_every_flushed_snapshot(tmp_path):
    log = tmp_path / "run.jsonl"
    p = _animsup("train", *LONG_RUN, "--out", str(log))
    _wait_for_snapshots(log, 4, p)
    p.kill()
    p.communicate(timeout=30)
    assert p.returncode == -signal.SIGKILL
    whole = _snapshot_lines(log)  # complete snapshot lines in the file
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        run = read_log(log)  # a possibly half-written last line is dropped with a warning
    assert len(run.steps) == whole >= 4
    assert run.status == "unfinished" and np.isfinite(run.W).all()


def _limit_file_size(nbytes: int):
    def preexec():  # in the child: writes past nbytes fail with EFBIG instead of killing it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return preexec


@pytest.mark.parametrize("checkpoint", [False, True], ids=["log", "checkpoint"])
def test_train_full_disk_stops_with_clear_error_and_readable_log(tmp_path, checkpoint):
    """A full disk, simulated by RLIMIT_FSIZE (works as root, no special mounts)."""
    log = tmp_path / "run.jsonl"
    extra = [] if checkpoint else ["--no-checkpoint"]
    p = _animsup("train", *LONG_RUN, *extra, "--out", str(log), preexec_fn=_limit_file_size(40_000))
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("animsup: error: ") and "Traceback" not in err
    assert "File too large" in err and "cannot write" in err
    assert "the log keeps every complete line" in err
    run = _read_clean(log)  # whole lines only: the failed line was cut back
    assert len(run.steps) >= 2 and run.status == "unfinished"
    assert log.stat().st_size <= 40_000


def test_two_trainers_on_one_path(tmp_path):
    log = tmp_path / "run.jsonl"
    first = _animsup("train", *LONG_RUN, "--out", str(log))
    try:
        _wait_for_snapshots(log, 2, first)
        # a second trainer (here in this process): with or without --force, or resuming: refused,
        # the log is locked by its writer
        for argv in (["train", *LONG_RUN, "--out", str(log)], ["train", *LONG_RUN, "--force", "--out", str(log)],
                     ["train", "--resume", str(log), "--quiet"]):
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                assert main(argv) == 2, err.getvalue()
            assert err.getvalue().count("\n") == 1 and "being written by another animsup process" in err.getvalue()
        assert first.poll() is None  # the first trainer carries on
        _read_live_log(log, tmp_path)
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    run = _read_clean(log)  # lines never interleaved: every line parses, steps increase
    assert run.status == "interrupted" and np.all(np.diff(run.steps) > 0)


def _read_live_log(log: Path, tmp_path: Path) -> None:
    """Every reading command works on a log that is still being written."""
    commands = [["inspect", str(log)], ["events", str(log)]]
    if (ROOT / "animsup" / "cli" / "render.py").exists():
        commands.append(["render", str(log), "--out", str(tmp_path / "live.png"), "--size", "320x240", "--quiet",
                         "--instance", "best:p=0.1"])  # two sparsities: name the group
    for argv in commands:
        err = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            warnings.simplefilter("ignore", LogWarning)  # the trainer may be mid-line
            assert main(argv) == 0, (argv, err.getvalue())
    if len(commands) == 3:
        assert (tmp_path / "live.png").stat().st_size > 0


def test_resume_after_sigkill_matches_an_uninterrupted_run(tmp_path):
    """Killed mid-run (maybe mid-line), resumed: the log equals one from a run never stopped."""
    args = ["--backend", "numpy", "--n-features", "5", "--n-hidden", "2", "-p", "0.1", "--seeds", "2",
            "--batch-size", "32", "--every", "500", "--quiet"]
    ref, log = tmp_path / "ref.jsonl", tmp_path / "run.jsonl"
    p = _animsup("train", *args, "--steps", "5000000", "--out", str(log))
    _wait_for_snapshots(log, 3, p)
    p.kill()
    p.communicate(timeout=30)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        killed_at = int(read_log(log).steps[-1])
    total = killed_at + 1000
    for argv in (["--resume", str(log), "--steps", str(total)], [*args, "--steps", str(total), "--out", str(ref)]):
        q = _animsup("train", *argv)
        out, err = q.communicate(timeout=120)
        assert q.returncode == 0, err
    # the killed run had planned 5,000,000 steps; the reference plans `total` from the start.
    # With a constant learning rate both follow the same trajectory, snapshot for snapshot.
    a, b = _read_clean(log), _read_clean(ref)
    assert a.status == b.status == "completed"
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.b, b.b)
    np.testing.assert_array_equal(a.loss_curve, b.loss_curve)


# --------------------------------------------------------------------------- rendering

needs_render = pytest.mark.skipif(
    not (ROOT / "animsup" / "cli" / "render.py").exists(), reason="animsup render not built yet"
)
EARLIER = b"an earlier good output"


@pytest.fixture(scope="module")
def long_log(tmp_path_factory):
    """400 snapshots: a render that takes seconds, so it can be stopped mid-way."""
    log = tmp_path_factory.mktemp("render") / "long.jsonl"
    p = _animsup("train", "--backend", "numpy", "-p", "0.1", "--steps", "4000", "--every", "10",
                 "--batch-size", "32", "--no-checkpoint", "--quiet", "--out", str(log))
    assert p.wait(timeout=120) == 0, p.stderr.read()
    return log


def _session_processes(sid: int) -> list[str]:
    """Live (non-zombie) processes in session ``sid``, from /proc (no psutil)."""
    alive = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, _ppid, _pgrp, session = stat[stat.rindex(")") + 2 :].split()[:4]
        if int(session) == sid and state != "Z":
            alive.append(f"{d} {comm} {state}")
    return alive


def _wait_until_gone(sid: int, timeout: float = 10.0) -> list[str]:
    t0 = time.monotonic()
    while (left := _session_processes(sid)) and time.monotonic() - t0 < timeout:
        time.sleep(0.1)
    return left


@needs_render
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_render_killed_midway_leaves_no_partial_file(long_log, tmp_path, sig):
    target = tmp_path / "run.mp4"
    target.write_bytes(EARLIER)
    workers = "0" if sig == signal.SIGTERM else "2"  # worker clean-up is the same path as for SIGINT
    p = _animsup("render", str(long_log), "--out", str(target), "--workers", workers, "--size", "320x240",
                 "--frames", "4000", "--quiet",  # long enough to be stopped mid-way even at 300+ frames/s
                 start_new_session=True)
    try:
        t0 = time.monotonic()  # wait until frames are being encoded into the hidden temp file
        while not any(f.name.startswith(".") and f.stat().st_size > 0 for f in tmp_path.iterdir()):
            assert p.poll() is None, p.communicate()
            assert time.monotonic() - t0 < 180, "the render never started encoding"
            time.sleep(0.05)
        if sig == signal.SIGINT:
            os.killpg(p.pid, sig)  # Ctrl-C in a terminal reaches the whole process group
        else:
            p.send_signal(sig)
        out, err = p.communicate(timeout=60)  # EOF on our pipes: every process holding them is gone
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    left = _wait_until_gone(p.pid)
    assert left == [], f"processes outlived the render: {left}"
    assert target.read_bytes() == EARLIER, "the earlier output was touched"
    visible = sorted(f.name for f in tmp_path.iterdir() if not f.name.startswith("."))
    assert visible == ["run.mp4"]
    if sig == signal.SIGKILL:
        assert p.returncode == -signal.SIGKILL  # may leave a hidden .run.mp4.*.tmp.mp4, never a partial target
    else:
        assert p.returncode == 130, err
        assert "Traceback" not in err and err.strip().splitlines() == ["animsup: interrupted"]
        assert sorted(f.name for f in tmp_path.iterdir()) == ["run.mp4"], "temp files left behind"


@needs_render
@pytest.mark.parametrize("ext", [".mp4", ".gif"])
def test_render_encoder_failure_leaves_no_partial_file(long_log, tmp_path, ext):
    """An ffmpeg that writes a partial file and fails: one-line error, the target untouched."""
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nfor a; do last="$a"; done\necho partial > "$last"\n'
                    'cat >/dev/null\necho "fake ffmpeg: encoder exploded" >&2\nexit 1\n')
    fake.chmod(0o755)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / f"run{ext}"
    target.write_bytes(EARLIER)
    os.environ["IMAGEIO_FFMPEG_EXE"] = str(fake)  # read by imageio_ffmpeg on every call
    try:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["render", str(long_log), "--out", str(target), "--frames", "12", "--size", "320x240",
                       "--workers", "0", "--quiet"])
    finally:
        del os.environ["IMAGEIO_FFMPEG_EXE"]
    err = err.getvalue()
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "encoder exploded" in lines[0] and "Traceback" not in err
    assert target.read_bytes() == EARLIER
    assert sorted(f.name for f in out_dir.iterdir()) == [target.name]


@needs_render
def test_render_missing_encoder_says_what_to_install(long_log, tmp_path, monkeypatch, capsys):
    from animsup.rendering import encode
    from animsup.cli import main

    monkeypatch.setattr(encode, "ffmpeg_exe", lambda: None)
    monkeypatch.setattr(encode, "_have_av", lambda: False)
    for ext, hint in [(".mp4", "pip install imageio-ffmpeg"), (".gif", "pip install imageio-ffmpeg")]:
        rc = main(["render", str(long_log), "--out", str(tmp_path / f"x{ext}"), "--frames", "5",
                   "--size", "320x240", "--workers", "0", "--quiet"])
        err = capsys.readouterr().err
        assert rc == 2 and hint in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
    # a broken IMAGEIO_FFMPEG_EXE is named, not a traceback
    monkeypatch.setattr(encode, "ffmpeg_exe", lambda: str(tmp_path / "no-ffmpeg"))
    for ext in (".mp4", ".gif"):
        rc = main(["render", str(long_log), "--out", str(tmp_path / f"x{ext}"), "--frames", "5",
                   "--size", "320x240", "--workers", "0", "--quiet"])
        err = capsys.readouterr().err
        assert rc == 2 and "cannot start ffmpeg" in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.filterwarnings("ignore::animsup.errors.LogWarning")
def test_resume_never_touches_a_log_being_written(tmp_path, capsys):
    """`train --resume` on a log whose writer is mid-line: refused, not a byte changed."""
    from animsup.log.writer import LogWriter

    log = tmp_path / "run.jsonl"
    assert main(["train", "--backend", "numpy", "--steps", "20", "--batch-size", "8", "--every", "5",
                 "--no-checkpoint", "--quiet", "--out", str(log)]) == 0
    with LogWriter(log, None, append=True) as live:  # stands in for a trainer that holds the log
        live._f.write(b'{"type": "snapshot", "step": 25, "lo')  # ... and is mid-line
        before = log.read_bytes()
        capsys.readouterr()
        assert main(["train", "--resume", str(log), "--steps", "40", "--quiet"]) == 2
        assert "being written by another animsup process" in capsys.readouterr().err
        assert log.read_bytes() == before


# --------------------------------------------------------------------------- replacing, signals, full disk (issue 27)

SHORT_RUN = ["--backend", "numpy", "--n-features", "5", "--n-hidden", "2", "-p", "0.1", "0.5", "--seeds", "2",
             "--steps", "200", "--batch-size", "64", "--every", "20", "--quiet"]


def _hidden(folder: Path) -> list[str]:
    return sorted(f.name for f in folder.iterdir() if f.name.startswith("."))


def test_train_force_that_fails_before_its_first_snapshot_keeps_the_old_run(tmp_path):
    """`train --out LOG --force` whose first write fails (a full disk): the completed old run and
    its checkpoint are still there, byte for byte; no temp file is left."""
    log = tmp_path / "run.jsonl"
    assert _animsup("train", *SHORT_RUN, "--out", str(log)).wait(timeout=60) == 0
    ckpt = Path(str(log) + ".ckpt")
    old_log, old_ckpt = log.read_bytes(), ckpt.read_bytes()
    header = len(old_log.split(b"\n")[0]) + 1
    # room for the new header, not for its first snapshot; the old files are larger than the limit
    p = _animsup("train", *SHORT_RUN, "--out", str(log), "--force", preexec_fn=_limit_file_size(header + 64))
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "was not replaced" in err, err
    assert log.read_bytes() == old_log and ckpt.read_bytes() == old_ckpt
    assert _hidden(tmp_path) == []
    # the same run without the limit replaces both (the checkpoint is the new run's)
    os.chmod(log, 0o600)
    assert _animsup("train", *SHORT_RUN, "--steps", "120", "--out", str(log), "--force").wait(timeout=60) == 0
    assert log.read_bytes() != old_log and ckpt.read_bytes() != old_ckpt
    assert read_log(log).steps[-1] == 120 and (os.stat(log).st_mode & 0o777) == 0o600  # mode kept
    assert _hidden(tmp_path) == []


def _big_c_log(path: Path, runs: int = 60_000, n: int = 40, m: int = 10) -> None:
    """A C-program log large enough that importing it takes a few seconds."""
    rng = np.random.default_rng(0)
    rows = lambda a: "\n".join(" ".join(f"{v:.3f}" for v in r) for r in a)  # noqa: E731
    block = (f"b: [\n{rows(rng.normal(size=(1, n)))}\n]\nW: [\n{rows(rng.normal(size=(m, n)))}\n]\n"
             f"grad w: [\n{rows(np.zeros((m, n)))}\n]\ngrad b: [\n{rows(np.zeros((1, n)))}\n]\n")
    with open(path, "w") as f:
        for r in range(runs):
            f.write(f"run: {r}\nL: {0.2 / (1 + r * 1e-4):.4f}\n")
            if r % 10 == 9:
                f.write(block)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_import_signal_removes_its_temp_file(tmp_path, sig):
    src, target = tmp_path / "in" / "c.log", tmp_path / "out" / "run.jsonl"
    src.parent.mkdir(), target.parent.mkdir()
    _big_c_log(src)
    target.write_bytes(EARLIER)
    p = _animsup("import", str(src), "--out", str(target), "--force")
    try:
        t0 = time.monotonic()  # wait until the converted log is being written into its hidden temp file
        while not any(f.name.startswith(".") and f.stat().st_size > 0 for f in target.parent.iterdir()):
            assert p.poll() is None, p.communicate()
            assert time.monotonic() - t0 < 60, "the import never started writing"
            time.sleep(0.02)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "animsup: interrupted", err
    assert target.read_bytes() == EARLIER
    assert sorted(f.name for f in target.parent.iterdir()) == ["run.jsonl"], "temp files left behind"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_minima_interrupted_while_training_exits_130(tmp_path, sig):
    out = tmp_path / "minima"
    p = _animsup("minima", "--out", str(out), *LONG_RUN)
    shard = out / "run" / "shards" / "shard-0000.jsonl"  # minima trains its seeds as a sweep (one shard here)
    _wait_for_snapshots(shard, 2, p)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "animsup: interrupted", err
    assert _read_clean(shard).status == "interrupted"


@needs_render
@pytest.mark.parametrize("ext", [".png", ".html", ".gif"])
def test_render_onto_a_full_disk_is_one_line(long_log, tmp_path, ext):
    """Every output format: a full disk (RLIMIT_FSIZE: EFBIG) is one line, exit 2, no temp file,
    the earlier output untouched."""
    target = tmp_path / f"run{ext}"
    target.write_bytes(EARLIER)
    p = _animsup("render", str(long_log), "--out", str(target), "--size", "320x240", "--frames", "20",
                 "--workers", "0", "--quiet", preexec_fn=_limit_file_size(4096))
    _, err = p.communicate(timeout=120)
    assert p.returncode == 2, err
    assert "Traceback" not in err and "internal error" not in err and len(err.strip().splitlines()) == 1, err
    assert "File too large" in err or "ffmpeg" in err, err
    assert target.read_bytes() == EARLIER
    assert sorted(f.name for f in tmp_path.iterdir()) == [target.name]
