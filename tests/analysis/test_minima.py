"""Local-minima study on constructed logs with known outcomes, and one tiny real training run."""

import csv
import json
import sys
import types

import numpy as np
import pytest

from animsup.analysis import geometry, minima
from animsup.cli import main
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter

N = 8
LOSSES = [0.099, 0.097, 0.105, 0.098, 0.107]  # instance 2 and 4 end as hexagons


def final_W(kind):
    W = np.zeros((2, N))
    if kind == "pentagon":
        W[:, :5] = geometry.polygon(5, 1.1)
        W[:, 6] = 0.35 * geometry.polygon(5, 1.0)[:, 1]  # a faint feature on vertex 1's line
    else:
        W[:, [0, 1, 2, 3, 5, 7]] = geometry.polygon(6, 1.0)
    return W


def study_log(path):
    kinds = ["hexagon" if i in (2, 4) else "pentagon" for i in range(5)]
    header = make_header(n_features=N, n_hidden=2, model="tied", feature_probability=[0.1] * 5, seed=list(range(5)),
                         importance=0.9 ** np.arange(N), config={"optimizer": "sgd", "steps": 100})
    with LogWriter(path, header) as w:
        # noisy per-step losses whose last-5% mean is LOSSES; the very last value is misleading
        rng = np.random.default_rng(0)
        curve = np.array(LOSSES) * (1 + 0.02 * rng.standard_normal((101, 5)))
        curve[95:] = LOSSES
        curve[100] = [0.2, 0.01, 0.2, 0.2, 0.2]
        curve[95:100] += (np.array(LOSSES) - (curve[95:].mean(axis=0))) * 6 / 5
        w.losses(0, 1, curve)
        W = np.stack([final_W(k) for k in kinds])
        w.snapshot(0, curve[0], 0.01 * W, np.zeros((5, N)))
        w.snapshot(100, curve[100], W, np.zeros((5, N)))
        w.end("completed", 100, 1.0)
    return path, curve[95:].mean(axis=0)


def test_outcomes_and_classes(tmp_path):
    log, tail = study_log(tmp_path / "s.jsonl")
    outcomes = minima.analyse_logs([log])
    np.testing.assert_allclose([o.final_loss for o in outcomes], tail, rtol=1e-5)
    assert [o.outcome for o in outcomes] == ["pentagon {0-4}", "pentagon {0-4}", "hexagon {0-3,5,7}",
                                            "pentagon {0-4}", "hexagon {0-3,5,7}"]
    assert outcomes[0].faint == (6,) and outcomes[0].weak == ()  # norm 0.35: not represented, listed
    classes = minima.summarize(outcomes)
    assert [(c.name, c.count) for c in classes] == [("pentagon {0-4}", 3), ("hexagon {0-3,5,7}", 2)]
    pent, hexa = tail[[0, 1, 3]].mean(), tail[[2, 4]].mean()
    assert classes[0].best and classes[1].gap == pytest.approx(hexa / pent - 1, rel=1e-5)
    assert classes[1].min_loss == pytest.approx(tail[[2, 4]].min(), rel=1e-6)
    assert classes[0].ids == (1, 3, 0)  # sorted by loss
    text = minima.format_summary(classes, 5)
    assert "best" in text and f"+{100 * (hexa / pent - 1):.1f}%" in text


def test_compact_set():
    assert minima.compact_set([0, 1, 2, 3, 5, 7, 8]) == "{0-3,5,7,8}"
    assert minima.compact_set([]) == "{}"


def test_cli_on_logs_writes_table_and_gallery(tmp_path, capsys):
    log, tail = study_log(tmp_path / "s.jsonl")
    out = tmp_path / "study"
    assert main(["minima", str(log), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pentagon {0-4}" in printed and "hexagon" in printed
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [int(r["id"]) for r in rows] == list(np.argsort(tail))  # sorted by final loss
    assert {r["id"]: r["suboptimal"] for r in rows} == {"0": "False", "1": "False", "3": "False",
                                                       "2": "True", "4": "True"}
    doc = json.loads((out / "results.json").read_text())
    assert doc["classes"][1]["outcome"] == "hexagon {0-3,5,7}" and doc["shapes"][0]["outcome"] == "pentagon"
    from PIL import Image

    img = Image.open(out / "gallery.png")
    assert img.size[0] > 200 and img.size[1] > 100


def test_cli_render_calls_the_renderer_for_the_worst(tmp_path, capsys, monkeypatch):
    calls = []

    def fake_render(log, out, **options):
        calls.append((str(log), options["instance"]))
        open(out, "wb").write(b"video")

    monkeypatch.setitem(sys.modules, "animsup.rendering.video", types.SimpleNamespace(render=fake_render))
    log, _ = study_log(tmp_path / "s.jsonl")
    assert main(["minima", str(log), "--out", str(tmp_path / "o"), "--render", "1", "--render-instances", "0"]) == 0
    assert calls == [(str(log), 0), (str(log), 4)]  # the chosen one, then the worst
    assert (tmp_path / "o" / "instance004_hexagon.mp4").exists()
    assert main(["minima", str(log), "--out", str(tmp_path / "o"), "--render-instances", "9"]) == 2
    # a bad id fails before any table is written, and before training
    assert main(["minima", str(log), "--out", str(tmp_path / "bad"), "--render-instances", "9"]) == 2
    assert not (tmp_path / "bad" / "results.csv").exists()
    train = ["minima", "--out", str(tmp_path / "t"), "--seeds", "3", "--steps", "30", "--render-instances", "3", "-q"]
    assert main(train) == 2 and not (tmp_path / "t" / "run").exists()
    assert "no instance 3 (ids are 0..2)" in capsys.readouterr().err


def test_cli_trains_a_batched_study(tmp_path, capsys):
    out = tmp_path / "t"
    args = ["minima", "--out", str(out), "--n-features", "5", "--n-hidden", "2", "--seeds", "3",
            "--feature-probability", "0.1", "--steps", "30", "--batch-size", "64", "--snapshots", "5", "-q"]
    assert main(args) == 0
    doc = json.loads((out / "results.json").read_text())
    assert len(doc["instances"]) == 3 and sorted(r["seed"] for r in doc["instances"]) == [0, 1, 2]
    assert (out / "run" / "sweep.jsonl").exists() and (out / "gallery.png").exists()  # the study's sweep folder
    assert main(args) == 2  # run/ exists: analyse it or --force
    assert "animsup minima" in capsys.readouterr().err


def square_log(path, *, importance, config, losses):
    """Instances that all end as the same square, with these final losses."""
    k = len(losses)
    header = make_header(n_features=4, n_hidden=2, model="tied", feature_probability=[0.1] * k, seed=list(range(k)),
                         importance=importance, config=config)
    W = np.zeros((2, 4))
    W[:, [0, 2, 1, 3]] = geometry.polygon(4)
    with LogWriter(path, header) as w:
        w.losses(0, 1, np.tile(losses, (11, 1)))
        w.snapshot(10, losses, np.stack([W] * k), np.zeros((k, 4)))
        w.end("completed", 10, 1.0)
    return path


def test_runs_that_are_not_comparable_are_never_pooled(tmp_path, capsys):
    """A notebook-style log (importance 0.9^i, mean loss, adamw) and a seed-002-style log
    (importance 0.7^i, half-sum, sgd lr 1) that end in the same square: two groups, never one class."""
    a = square_log(tmp_path / "a.jsonl", importance=0.9 ** np.arange(4),
                   config={"optimizer": "adamw", "lr": 0.001, "loss_reduction": "mean"}, losses=[0.010, 0.011])
    b = square_log(tmp_path / "b.jsonl", importance=0.7 ** np.arange(4),
                   config={"optimizer": "sgd", "lr": 1.0, "loss_reduction": "half-sum"}, losses=[0.025, 0.020])
    same = square_log(tmp_path / "c.jsonl", importance=0.9 ** np.arange(4),
                      config={"optimizer": "adamw", "lr": 0.001, "loss_reduction": "mean"}, losses=[0.012])
    outcomes = minima.analyse_logs([a, b, same])
    assert [o.group for o in outcomes] == ["g0", "g0", "g1", "g1", "g0"]  # c pools with a
    np.testing.assert_allclose([o.gap for o in outcomes], [0, 0.1, 0.25, 0, 0.2], atol=1e-6)
    classes = minima.summarize(outcomes)
    assert [(c.group, c.name, c.count) for c in classes] == [("g0", "square {0-3}", 3), ("g1", "square {0-3}", 2)]
    assert all(c.best for c in classes)  # no +28% "gap" between the two squares
    out = tmp_path / "study"
    assert main(["minima", str(a), str(b), str(same), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("the inputs hold 2 groups of comparable instances (they differ in importance, "
                              "loss reduction, optimizer, lr)")
    assert "g0: importance 0.9^i, loss mean, optimizer adamw, lr 0.001 (3 instances)" in printed
    assert "g1: importance 0.7^i, loss half-sum, optimizer sgd, lr 1.0 (2 instances)" in printed
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["id"], r["group"], round(float(r["gap"]), 6)) for r in rows] == [
        ("0", "g0", 0.0), ("1", "g0", 0.1), ("4", "g0", 0.2), ("3", "g1", 0.0), ("2", "g1", 0.25)]
    doc = json.loads((out / "results.json").read_text())
    assert [g["ids"] for g in doc["groups"]] == [[0, 1, 4], [2, 3]]
    assert {r["suboptimal"] for r in rows} == {"False"}  # each square is the best of its own group
