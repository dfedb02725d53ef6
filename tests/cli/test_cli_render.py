"""`animsup render` and `animsup demo` through animsup.cli.main, plus start-up and signals."""

import os
import signal
import subprocess
import sys
import time

import pytest

from animsup.cli import main


@pytest.fixture
def log(tmp_path, write_pentagon):
    path = tmp_path / "run.jsonl"
    write_pentagon(path, T=10)
    return path


def test_render_writes_every_output_and_reports_the_mapping(log, tmp_path, capsys):
    outs = [str(tmp_path / "r.mp4"), str(tmp_path / "r.png")]
    rc = main(["render", str(log), "--out", outs[0], "--out", outs[1], "--size", "320x180", "--frames", "15",
               "--time", "log", "--hold", "0"])
    out = capsys.readouterr().out
    assert rc == 0 and all(os.path.getsize(p) > 0 for p in outs)
    assert "15 frames" in out and "log in training step" in out and "wrote" in out


@pytest.mark.parametrize("args, msg", [
    (["--out", "{tmp}/x.avi"], "unknown output extension"),
    (["--out", "{log}"], "overwrite the input log"),
    (["--out", "{tmp}/x.mp4", "--instance", "3"], "instance 3 does not exist"),
    (["--out", "{tmp}/nope/x.mp4"], "does not exist"),
    (["--out", "{tmp}/x.mp4", "--size", "huge"], "--size"),
    (["--out", "{tmp}/x.mp4", "--fps", "10", "--frames", "3", "--duration", "2"], "at most two"),
    (["--out", "{tmp}/x.mp4", "--panels", "weights"], "unknown panel"),
    (["--out", "{tmp}/x.mp4", "--preset", "turbo"], "unknown --preset 'turbo'"),
])
def test_bad_arguments_are_one_line_exit_2(log, tmp_path, capsys, args, msg):
    args = [a.format(tmp=tmp_path, log=log) for a in args]
    rc = main(["render", str(log), *args])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and err.count("\n") == 1
    assert not (tmp_path / "x.mp4").exists()


def test_bad_log_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    rc = main(["render", str(bad), "--out", str(tmp_path / "x.mp4")])
    err = capsys.readouterr().err
    assert rc == 2 and "bad.jsonl" in err and err.count("\n") == 1


def test_help_is_fast_and_imports_neither_torch_nor_matplotlib_nor_numpy():
    """Building every command's parser (what `animsup render --help` does) stays pure Python:
    numpy alone costs ~0.1 s of the 0.5 s budget (a panel base class once imported it)."""
    code = ("import sys, animsup.cli as c; p = c.main_parser(); "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "False"]


def test_demo_trains_and_renders(tmp_path, capsys):
    pytest.importorskip("animsup.train.loop")
    prefix = tmp_path / "demo"
    rc = main(["demo", "--steps", "100", "--snapshots", "8", "--seeds", "2", "--batch-size", "64",
               "--size", "320x180", "--hold", "0.2",
               "--log", str(tmp_path / "demo.jsonl"), "--out-prefix", str(prefix), "--workers", "0"])
    out = capsys.readouterr().out
    assert rc == 0
    for ext in (".mp4", ".gif", ".png"):
        assert os.path.getsize(f"{prefix}{ext}") > 0
    assert "final losses" in out and "wrote" in out


def test_sigterm_leaves_no_partial_output_and_no_workers(tmp_path, write_pentagon):
    log = tmp_path / "long.jsonl"
    write_pentagon(log, T=400)
    out = tmp_path / "v.mp4"
    out.write_bytes(b"earlier")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, "-m", "animsup", "render", str(log), "--out", str(out), "--workers", "2",
                          "--size", "320x180", "--frames", "4000", "-q"], env=env, stderr=subprocess.PIPE, text=True)
    # wait until the temp output exists (workers started, frames flowing), then terminate
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(n.startswith(".v.mp4.") for n in os.listdir(tmp_path)):
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert out.read_bytes() == b"earlier"
    assert sorted(os.listdir(tmp_path)) == ["long.jsonl", "v.mp4"]
    children = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
    assert children == []
