"""Training events on constructed histories with known answers."""

import json

import numpy as np

from animsup.analysis import events as ev
from animsup.analysis import geometry


def square_to_pentagon(T=40, join_at=20, noise=0.0, seed=0):
    """Features 0-3 form a square; feature 4 grows from 0 to 1 around snapshot ``join_at`` while the
    others rearrange to a pentagon. Returns steps, W [T, 2, 5]."""
    rng = np.random.default_rng(seed)
    square = np.zeros((2, 5))
    square[:, :4] = geometry.polygon(4)
    pent = geometry.polygon(5)
    steps = np.arange(T) * 100
    Ws = []
    for t in range(T):
        a = np.clip((t - join_at + 3) / 6, 0, 1)  # 0 → 1 over 6 snapshots
        W = (1 - a) * square + a * pent
        W[:, 4] = a * pent[:, 4]
        Ws.append(W + rng.normal(0, noise, W.shape))
    return steps, np.array(Ws)


def flat_loss(steps):
    return np.asarray(steps, dtype=float), np.full(len(steps), 0.1)


def test_join_with_shape_change_is_one_event():
    steps, W = square_to_pentagon()
    events = ev.find_events(steps, W, *flat_loss(steps))
    assert [e.kind for e in events] == ["join"]
    (e,) = events
    assert e.features == (4,) and (e.shape_from, e.shape_to) == ("square", "pentagon")
    assert e.text == "feature 4 joins — square → pentagon"
    # its step is where feature 4's norm first rose above 0.5
    first_above = int(np.argmax(geometry.feature_norms(W)[:, 4] > 0.5))
    assert e.step == steps[first_above] == 2100


def test_noise_around_threshold_does_not_flicker():
    steps = np.arange(12) * 10
    W = np.zeros((12, 2, 3))
    W[:, 0, 0] = 1.0
    W[:, 1, 1] = [0.1, 0.3, 0.48, 0.52, 0.49, 0.53, 0.51, 0.6, 0.9, 1.0, 1.0, 1.0]
    events = ev.find_events(steps, W, *flat_loss(steps))
    joins = [e for e in events if e.kind == "join"]
    assert len(joins) == 1 and joins[0].features == (1,)
    assert joins[0].step == 30  # the first rise above 0.5 (0.52); 0.49 after it is no drop
    assert joins[0].text == "feature 1 joins — single → orthogonal pair"
    # a later collapse is a drop
    W[8:, 1, 1] = 0.1
    kinds = [(e.kind, e.step) for e in ev.find_events(steps, W, *flat_loss(steps))]
    assert kinds == [("join", 30), ("drop", 80)]


def test_noisy_square_to_pentagon_still_one_event():
    steps, W = square_to_pentagon(T=60, join_at=30, noise=0.02, seed=3)
    events = ev.find_events(steps, W, *flat_loss(steps))
    assert [(e.kind, e.shape_to) for e in events] == [("join", "pentagon")]


def test_short_lived_shape_is_ignored():
    steps = np.arange(10)
    W = np.tile(geometry.polygon(5)[None], (10, 1, 1))
    W[4, :, 0] = W[4, :, 1]  # one snapshot where vertex 0 sits on vertex 1 (stacked: a 4-gon)
    assert ev.find_events(steps, W, *flat_loss(steps)) == []


def plateau_curve(n=5000, drop_at=3000, seed=0, noise=0.03):
    rng = np.random.default_rng(seed)
    s = np.arange(n)
    base = 0.12 + 0.08 / (1 + np.exp((s - drop_at) / 30))
    return s, base * np.exp(rng.normal(0, noise, n))


def test_plateau_then_drop_found_once():
    s, y = plateau_curve()
    drops = ev.loss_drops(s, y)
    assert len(drops) == 1
    d = drops[0]
    assert abs(d.step - 3000) < 100
    assert 0.3 < d.value < 0.45  # 0.2 -> 0.12 is a 40% drop
    assert d.text.startswith("loss drops ") and "plateau" in d.text


def test_smooth_decay_and_noise_are_not_drops():
    s = np.arange(5000)
    assert ev.loss_drops(s, 0.3 * np.exp(-s / 1500) + 0.05) == []
    rng = np.random.default_rng(1)
    assert ev.loss_drops(s, 0.1 * np.exp(rng.normal(0, 0.05, len(s)))) == []


def test_two_drops_and_json():
    s, y = plateau_curve(n=8000, drop_at=2500)
    y2 = y * (0.7 + 0.3 / (1 + np.exp((s - 6000) / 20)))  # a second, 30% drop at step 6000
    drops = ev.loss_drops(s, y2)
    assert len(drops) == 2
    assert [abs(d.step - t) < 150 for d, t in zip(drops, (2500, 6000))] == [True, True]
    assert abs(drops[1].value - 0.3) < 0.05
    json.dumps([d.to_dict() for d in drops])


def test_describe_events():
    steps, W = square_to_pentagon()
    text = ev.describe_events(ev.find_events(steps, W, *flat_loss(steps)))
    assert text == "step 2,100: feature 4 joins — square → pentagon"


def test_events_cli(tmp_path, capsys):
    from animsup.cli import main
    from animsup.log.schema import make_header
    from animsup.log.writer import LogWriter

    steps, W = square_to_pentagon()
    header = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1], seed=[7],
                         importance=0.7 ** np.arange(5), config={})
    with LogWriter(tmp_path / "r.jsonl", header) as w:
        for s, Wt in zip(steps, W):
            w.snapshot(s, [0.1], Wt[None], np.zeros((1, 5)))
        w.end("completed", int(steps[-1]), 1.0)
    assert main(["events", str(tmp_path / "r.jsonl"), "--instance", "best"]) == 0
    out = capsys.readouterr().out
    assert "feature 4 joins — square → pentagon" in out and out.count("step ") == 1
    assert main(["events", str(tmp_path / "r.jsonl"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["instances"][0]["events"][0]["shape_to"] == "pentagon"
    assert main(["events", str(tmp_path / "r.jsonl"), "--instance", "3"]) == 2


def test_transient_shape_between_two_lasting_ones_dates_the_change_at_the_join():
    steps = np.arange(12) * 10
    W = np.zeros((12, 2, 2))
    W[:, 0, 0] = 1.0
    W[5, :, 1] = 0.8 * np.array([np.cos(np.pi / 4), np.sin(np.pi / 4)])  # one snapshot as a 45° "pair"
    W[6:, 1, 1] = 0.9  # then orthogonal
    events = ev.find_events(steps, W, *flat_loss(steps))
    assert [(e.step, e.text) for e in events] == [(50, "feature 1 joins — single → orthogonal pair")]


def test_feature_splitting_off_a_vertex_line_is_named():
    steps = np.arange(20) * 10
    W = np.zeros((20, 2, 5))
    W[:, :, :4] = geometry.polygon(4)
    W[:, :, 4] = 0.9 * np.array([np.cos(0.1), np.sin(0.1)])  # on feature 0's line: stacked on a square
    W[10:] = geometry.polygon(5)[None]  # then it takes its own direction
    events = ev.find_events(steps, W, *flat_loss(steps))
    assert [(e.step, e.kind, e.text) for e in events] == [
        (100, "shape", "feature 4 splits off — square + 1 stacked → pentagon")]
