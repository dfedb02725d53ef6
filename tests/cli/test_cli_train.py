import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from animsup.cli import main
from animsup.log.reader import read_log

TINY = ["--n-features", "5", "--n-hidden", "2", "--batch-size", "32", "--device", "cpu"]


def test_train_cli_writes_log_and_summary(tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    rc = main(["train", *TINY, "-p", "1.0", "0.1", "--seeds", "3", "--steps", "30", "--every", "10",
               "--importance", "0.7", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "completed at step 30" in text and str(out) in text and "best seed" in text
    run = read_log(out)
    assert run.header.n_instances == 6 and run.header.seed == (0, 1, 2, 0, 1, 2)
    assert run.header.config["importance"] == 0.7
    assert main(["train", *TINY, "--steps", "5", "--out", str(out)]) == 2  # exists, no --force
    assert "--force" in capsys.readouterr().err


def _wait_for_snapshots(proc, out, count, timeout=180):
    """Wait until the trainer has written ``count`` snapshots (start-up imports torch: slow on a loaded machine)."""
    deadline = time.time() + timeout
    while time.time() < deadline and (not out.exists() or out.read_bytes().count(b'"snapshot"') < count):
        if proc.poll() is not None:
            pytest.fail(f"the trainer exited early with code {proc.returncode}")
        time.sleep(0.05)
    if not out.exists() or out.read_bytes().count(b'"snapshot"') < count:
        proc.kill()
        proc.wait()
        pytest.fail(f"the trainer wrote no {count} snapshots within {timeout} s (machine overloaded?)")


def _rc(argv):
    try:
        return main(argv)
    except SystemExit as e:  # argparse's own errors (e.g. an unknown choice)
        return e.code


@pytest.mark.parametrize("args, words", [
    (["-p", "0"], "(0, 1]"),
    (["-p", "1.2"], "(0, 1]"),
    (["--n-hidden", "0"], "n-hidden"),
    (["--steps", "0"], "steps"),
    (["--model", "cubic"], "invalid choice"),
    (["--backend", "numpy", "--model", "untied"], "tied"),
    (["--seeds", "3", "--seed", "1"], "conflict"),
    (["--importance", "steep"], "importance"),
])
def test_bad_arguments_one_line_exit_2(tmp_path, capsys, args, words):
    rc = _rc(["train", *TINY, *args, "--out", str(tmp_path / "x.jsonl")])
    err = capsys.readouterr().err
    assert rc == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.jsonl").exists()


def test_diverged_cli_suggests_smaller_lr(tmp_path, capsys):
    rc = main(["train", *TINY, "--optimizer", "sgd", "--lr", "1e6", "--steps", "200", "--every", "50",
               "--out", str(tmp_path / "d.jsonl")])
    assert rc != 0
    assert "smaller --lr" in capsys.readouterr().err
    assert read_log(tmp_path / "d.jsonl").status == "diverged"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_leaves_valid_interrupted_log_and_resume_continues(tmp_path, sig):
    out = tmp_path / "s.jsonl"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "animsup", "train", *TINY, "--steps", "10000000", "--every", "50",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _wait_for_snapshots(proc, out, 2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert b"--resume" in err
    run = read_log(out)
    assert run.status == "interrupted" and run.end["step"] == run.steps[-1]
    stopped = int(run.steps[-1])
    rc = main(["train", "--resume", str(out), "--steps", str(stopped + 60), "--quiet"])
    assert rc == 0
    run2 = read_log(out)
    assert run2.status == "completed" and run2.steps[-1] == stopped + 60


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    out = tmp_path / "k.jsonl"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    args = [*TINY, "-p", "0.1", "--seeds", "2", "--every", "20", "--lr", "0.01"]
    proc = subprocess.Popen([sys.executable, "-m", "animsup", "train", *args, "--steps", "10000000", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _wait_for_snapshots(proc, out, 3)
    proc.kill()
    proc.wait(timeout=30)
    killed_at = int(read_log(out).steps[-1])
    total = killed_at + 100
    assert main(["train", "--resume", str(out), "--steps", str(total), "--quiet"]) == 0
    ref = tmp_path / "ref.jsonl"
    assert main(["train", *args, "--steps", str(total), "--out", str(ref), "--quiet"]) == 0
    a, b = read_log(ref), read_log(out)
    np.testing.assert_array_equal(a.W[-1], b.W[-1])
    np.testing.assert_array_equal(a.loss[-1], b.loss[-1])
    assert b.status == "completed"


def test_the_summary_names_each_groups_importance_when_instances_differ_in_it(tmp_path, capsys):
    """An importance grid (two bases): the table's rows would read alike without an importance column."""
    spec = tmp_path / "c.toml"
    spec.write_text("n-features = 5\nfeature-probability = [1.0, 0.1]\nimportance = [0.9, 0.7]\nseeds = 2\nsteps = 5\n")
    assert main(["train", "--config", str(spec), "--out", str(tmp_path / "r.jsonl")]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, x in enumerate(lines) if "best seed" in x)
    assert lines[head].split()[:2] == ["importance", "1-S"]
    assert [r.split()[:2] for r in lines[head + 1:head + 5]] == [["0.9^i", "1"], ["0.9^i", "0.1"], ["0.7^i", "1"], ["0.7^i", "0.1"]]
    assert main(["train", *TINY, "--steps", "5", "--out", str(tmp_path / "s.jsonl"), "--force"]) == 0
    assert "importance" not in capsys.readouterr().out.split("best seed")[0].splitlines()[-1]  # one importance: no column
