"""Counts in user-facing messages agree with their nouns: "1 snapshot", "2 snapshots" (animsup.errors.plural)."""

import re

import numpy as np

from animsup.cli import main
from animsup.errors import plural
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter


def test_plural():
    assert plural(1, "snapshot") == "1 snapshot"
    assert [plural(n, "frame") for n in (0, 2, 1200)] == ["0 frames", "2 frames", "1,200 frames"]
    assert plural(1, "loss", "losses") == "1 loss" and plural(3, "loss", "losses") == "3 losses"


def test_a_one_snapshot_one_instance_log_reads_singular(tmp_path, capsys):
    log = tmp_path / "one.jsonl"
    a = 2 * np.pi * np.arange(5) / 5
    W = np.stack([np.cos(a), np.sin(a)]).astype(np.float32)[None]  # [1 instance, 2, 5]
    with LogWriter(log, make_header(n_features=5, n_hidden=2, model="tied", config={}, feature_probability=[0.1],
                                    seed=[0], importance=[1.0] * 5), force=True) as w:
        w.snapshot(1, np.full(1, 0.1), W, np.zeros((1, 5), np.float32))
        w.end("completed", 1, 0.1)
    assert main(["inspect", str(log)]) == 0
    out = capsys.readouterr().out
    assert "1 instance," in out and "1 snapshot" in out
    assert not re.search(r"\b1 (snapshots|instances|frames|steps)\b", out), out


def test_inspect_of_a_large_model_counts_one_group_and_one_step_in_the_singular(tmp_path, capsys):
    # a large model (more than SUMMARY_ABOVE features) whose features all share 4 dimensions: one orthogonal group
    from animsup.analysis import large
    from animsup.log.recorder import write_arrays

    n = large.SUMMARY_ABOVE + 8
    W = np.random.default_rng(0).normal(size=(1, 4, n)) / 2
    log = write_arrays(np.stack([W, W]), str(tmp_path / "large.jsonl"), steps=[0, 1], loss=[0.5, 0.4])
    assert main(["inspect", log]) == 0
    out = capsys.readouterr().out
    assert "1 orthogonal group;" in out, out
    assert not re.search(r"\b1 (orthogonal groups|points|steps|features)\b", out), out
