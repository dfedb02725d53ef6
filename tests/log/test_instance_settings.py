"""Instances that differ only in a named setting (a weight decay γ, a sweep's lr) are told apart:
the header's ``per_instance`` (``Recorder(per_instance=...)``) and a merged sweep's
``sweep.per_instance`` reach the one instance label (``Header.instance_label``), the render's
titles, ``animsup inspect`` / ``events`` and the groups of comparable instances."""

import json

import numpy as np
import pytest

from animsup.analysis import ranking
from animsup.cli import main
from animsup.log.reader import read_log
from animsup.log.recorder import Recorder
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig


def _two_gammas(path, per_instance={"γ": [-1.0, 1.0]}, seed=(0, 0)):
    """Two instances with the same 1 - S, importance and seed; only γ differs."""
    rng = np.random.default_rng(0)
    with Recorder(path, n_features=5, n_hidden=2, n_instances=2, feature_probability=0.1, importance=1.0,
                  seed=list(seed), per_instance=per_instance) as rec:
        for s in (0, 10):
            rec.snapshot(s, W=rng.normal(size=(2, 2, 5)), b=np.zeros((2, 5)), loss=[0.2, 0.1])
    return str(path)


def test_labels_of_instances_differing_only_in_gamma_differ(tmp_path, capsys):
    log = _two_gammas(tmp_path / "g.jsonl")
    h = read_log(log).header
    assert h.settings() == {"γ": [-1.0, 1.0]}
    assert h.instance_label(0) == "1-S=0.1 γ=-1 seed=0" and h.instance_label(1) == "1-S=0.1 γ=1 seed=0"
    scene = rp.build_plan(log, RenderConfig(grid=True), video=True).scene  # the video's and the viewer's titles
    assert sorted(t[0] for t in scene.instance_labels) == ["#0  1-S=0.1 γ=-1  seed 0", "#1  1-S=0.1 γ=1  seed 0"]
    one = rp.build_plan(log, RenderConfig(instance=1), video=True).scene
    assert "instance 1 (γ=1, seed 0)" in one.title
    assert main(["inspect", log]) == 0
    out = capsys.readouterr().out
    assert "1-S=0.1 γ=-1 seed=0" in out and "1-S=0.1 γ=1 seed=0" in out
    assert main(["events", log]) == 0
    assert "instance 1  1-S=0.1 γ=1 seed=0" in capsys.readouterr().out
    assert main(["inspect", log, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["instances"]
    assert [r["label"] for r in rows] == [h.instance_label(0), h.instance_label(1)]


def test_a_setting_splits_the_groups_of_comparable_instances(tmp_path):
    # instance 1 has the lower loss, but trained with another γ: it is no "best" of instance 0's problem
    h = read_log(_two_gammas(tmp_path / "g.jsonl")).header
    groups = ranking.groups(h)
    assert [g.instances for g in groups] == [(0,), (1,)]
    assert [g.label for g in groups] == ["1-S=0.1, γ=-1", "1-S=0.1, γ=1"]


def test_equal_settings_and_malformed_entries_are_left_out(tmp_path):
    h = read_log(_two_gammas(tmp_path / "same.jsonl", {"γ": [1.0, 1.0], "lr": [0.01, 0.02]}, seed=(0, 1))).header
    assert h.settings() == {"lr": [0.01, 0.02]}
    assert h.instance_label(1) == "1-S=0.1 lr=0.02 seed=1"
    # written by hand: a list of the wrong length, a nested value (readers never fail on it)
    hand = make_header(n_features=3, n_hidden=2, model="tied", feature_probability=[0.1, 0.1], seed=[0, 1],
                       importance=[1.0] * 3, config={}, per_instance={"a": [1], "b": [[1], [2]], "c": "xy"})
    with LogWriter(tmp_path / "hand.jsonl", hand, force=True) as w:
        w.snapshot(0, np.ones(2), np.zeros((2, 2, 3), np.float32), np.zeros((2, 3), np.float32))
        w.end("completed", 0, 0.0)
    h = read_log(tmp_path / "hand.jsonl").header
    assert h.settings() == {} and h.instance_label(1) == "1-S=0.1 seed=1"


def test_a_merged_sweeps_per_instance_settings_count_too():
    head = make_header(n_features=3, n_hidden=2, model="tied", feature_probability=[0.1, 0.1], seed=[0, 0],
                       importance=[1.0] * 3, config={}, sweep={"per_instance": {"lr": [0.001, 0.01]}})
    from animsup.log.schema import parse_header

    h = parse_header(head, "x.jsonl")
    assert h.settings_text(0) == "lr=0.001" and h.instance_label(1) == "1-S=0.1 lr=0.01 seed=0"


def test_the_recorder_refuses_per_instance_values_that_do_not_fit(tmp_path):
    with pytest.raises(ValueError, match="one value per instance"):
        Recorder(tmp_path / "a.jsonl", n_features=3, n_hidden=2, n_instances=2, per_instance={"γ": [1.0]})
    with pytest.raises(ValueError, match="numbers or strings"):
        Recorder(tmp_path / "b.jsonl", n_features=3, n_hidden=2, n_instances=2, per_instance={"γ": [[1], [2]]})
