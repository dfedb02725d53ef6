"""A newcomer's findings on the drawn outputs (issue 21): poster-only summaries without video text,
a 12-instance grid whose key and titles tell every panel apart, no colour key without curves, the
LLC panel's step axis inside the frame, the filmstrip's step axis ending at the last step, and an
unfinished log said in the summary."""

import numpy as np
import pytest

from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig
from animsup.rendering.draw import FrameDrawer
from animsup.rendering.video import render


def write_sweep(path, *, T=6, loss=True, end=True, cut=False):
    """A 12-instance sweep as ``animsup sweep`` lays it out: 1-S in (0.05, 0.1, 1) x importance
    (0.7^i, 0.9^i) x seeds (0, 1), so two panels share 1-S and importance and differ only in seed."""
    probs, imps, seeds = [], [], []
    for p in (0.05, 0.1, 1.0):
        for r in (0.7, 0.9):
            for sd in (0, 1):
                probs.append(p), imps.append((r ** np.arange(5)).tolist()), seeds.append(sd)
    k = len(seeds)
    hdr = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=probs, seed=seeds,
                      importance=imps, config={}, loss_scope="instance" if loss else "none")
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            ang = 2 * np.pi * np.arange(5) / 5 + t / T + np.arange(k)[:, None]
            W = np.stack([np.cos(ang), np.sin(ang)], axis=1).astype(np.float32) * (0.2 + t / T)
            lo = (0.1 * np.exp(-t / 2) + 1e-3) * (1 + np.arange(k, dtype=np.float32)) if loss else None
            w.snapshot(t * 400, lo, W, np.zeros((k, 5), np.float32))
        if end:
            w.end("completed", (T - 1) * 400, 1.0)
    if cut:
        with open(path, "ab") as f:
            f.write(b'{"type":"snapshot","step":')
    return path


def drawn(log, **kw):
    plan = rp.build_plan(log, RenderConfig(**kw), video=True)
    d = FrameDrawer(plan.scene)
    img = d.draw(next(plan.frames([plan.n_frames - 1]))).copy()
    return d, img


# ---------------------------------------------------------------- 13: a poster alone

def test_a_poster_alone_says_nothing_about_video(tmp_path):
    log = write_sweep(tmp_path / "run.jsonl")
    text = render(log, tmp_path / "p.png", instance=0).summary()
    assert "frames/s" not in text and "poster only" in text and "video" not in text
    # a short log-spaced history: the note on the video's seconds only where there is a video
    steps = [0, 1, 3, 10, 30, 100, 300, 1000]
    hdr = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0], importance=1.0,
                      config={})
    short = tmp_path / "short.jsonl"
    with LogWriter(short, hdr, force=True) as w:
        for s in steps:
            w.snapshot(s, np.array([0.1], np.float32), np.ones((1, 2, 5), np.float32) * (1 + s / 1000),
                       np.zeros((1, 5), np.float32))
        w.end("completed", steps[-1], 1.0)
    poster = render(short, tmp_path / "s.png")
    assert not any("log-spaced" in n for n in poster.notes) and "frames/s" not in poster.summary()
    both = render(short, [tmp_path / "s.gif"], size="160x90")
    assert any("log-spaced snapshots: 6 s" in n for n in both.notes) and "frames/s" in both.summary()


# ---------------------------------------------------------------- 17: 12 instances in a grid

def test_a_twelve_instance_grid_labels_every_key_segment_and_names_seeds_in_every_title(
        tmp_path, text_layout_problems):
    log = write_sweep(tmp_path / "run.jsonl")
    d, img = drawn(log, grid=True)
    order = d.scene.instances
    keys = [t.get_text() for t in d.loss.key_ax.get_xticklabels()]
    assert keys == [f"#{i}" for i in order]  # every segment, in the panels' order
    titles = [v.ax.get_title() for v in d.views]
    assert all(f"seed {i % 2}" in t for i, t in zip(order, titles)), titles  # rows 1 and 2 too
    assert len(set(t.split(None, 1)[1] for t in titles)) == 12  # no two panels read the same
    assert text_layout_problems(d) == []


def test_a_key_too_narrow_for_every_id_says_how_its_labels_are_thinned():
    from animsup.rendering.draw.loss import key_label_stride

    assert key_label_stride(["#0", "#11"], 400, 7) == 1
    # 64 ids of 3 characters in 300 px: 4.7 px a segment; a label needs 3 * 0.62 * 10 + 5 = 23.6 px
    assert key_label_stride([f"#{i}" for i in range(64)], 300, 10) == 6


def test_a_crowded_key_states_its_stride(tmp_path, write_pentagon, text_layout_problems):
    log = tmp_path / "run.jsonl"
    write_pentagon(log, T=2, n=5, k=40)
    d, _ = drawn(log, grid=True)
    ticks = d.loss.key_ax.get_xticks()
    stride = int(ticks[1] - ticks[0])
    assert stride > 1 and np.all(np.diff(ticks) == stride)
    assert f"ids of every {stride}" in d.loss.key_ax.get_title(loc="left")
    assert text_layout_problems(d) == []


# ---------------------------------------------------------------- 18: no loss, no key

def test_no_colour_key_without_loss_curves(tmp_path):
    log = write_sweep(tmp_path / "run.jsonl", loss=False)
    d, _ = drawn(log, grid=True)
    texts = " ".join(t.get_text() for t in d.fig.findobj(lambda a: hasattr(a, "get_text")))
    assert d.loss.key_ax is None and "curve colour" not in texts and "no loss recorded" in texts


# ---------------------------------------------------------------- 19: see test_draw_layout.py (step panels)

# ---------------------------------------------------------------- 22: the filmstrip's step axis

def _log_spaced(path, last=2000, T=80):
    """One instance, T snapshots log-spaced over 0..last (train's default spacing), a loss record at each."""
    steps = np.unique(np.round(np.geomspace(1, last, T - 1)).astype(int))
    steps = np.concatenate([[0], steps])
    hdr = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0], importance=1.0,
                      config={})
    ang = 2 * np.pi * np.arange(5) / 5
    with LogWriter(path, hdr, force=True) as w:
        for s in steps:
            W = np.stack([np.cos(ang), np.sin(ang)])[None].astype(np.float32) * (0.2 + s / last)
            w.snapshot(int(s), np.array([0.1 / (1 + s)], np.float32), W, np.zeros((1, 5), np.float32))
        w.end("completed", last, 1.0)
    return path


@pytest.mark.parametrize("time", [None, "log"])
def test_the_filmstrips_step_axis_ends_at_the_last_step(tmp_path, time):
    from animsup.rendering.filmstrip import filmstrip_figure
    from animsup.rendering.frames import iter_frames

    log = _log_spaced(tmp_path / "run.jsonl")
    plan = rp.build_plan(log, RenderConfig(filmstrip=4, time=time), video=False)
    assert plan.scene.loss_xscale == "symlog"  # the video's axis is log here (most snapshots early)
    T = plan.summary.n_snapshots
    frames = list(iter_frames(plan.log, plan.instances, np.array([0.0, T // 2, T - 1], dtype=np.float64)))
    fig = filmstrip_figure(plan.scene, frames, [], log_x=time == "log")
    ax = next(a for a in fig.axes if a.get_xlabel().startswith("training step"))
    lo, hi = ax.get_xlim()
    # 1.5% of the span past step 2,000 (linear), 8% of it (log) — never the video's log margin on a linear axis
    assert hi == pytest.approx(2030.0 if time is None else 2160.0)
    img = tmp_path / "f.png"
    assert render(log, img, filmstrip=4, time=time).paths == [str(img)]


# ---------------------------------------------------------------- 11: an unfinished log

@pytest.mark.parametrize("cut", [False, True])
def test_an_unfinished_log_is_said_in_one_line_of_the_summary(tmp_path, cut):
    log = write_sweep(tmp_path / "run.jsonl", end=False, cut=cut)
    with pytest.warns(Warning) if cut else _no_warning():
        text = render(log, tmp_path / "p.png", instance=0).summary()
    lines = [ln for ln in text.splitlines() if ln.startswith("note:") and "unfinished" in ln]
    assert len(lines) == 1 and lines[0].startswith("note: the log is unfinished (no end record")
    assert "rendered what it holds (up to step 2,000)" in lines[0]
    assert ("last line is cut off" in lines[0]) == cut
    if not cut:  # a finished log: no such note
        done = render(write_sweep(tmp_path / "done.jsonl"), tmp_path / "d.png", instance=0).notes
        assert not any("unfinished" in n or "cut off" in n for n in done)


def _no_warning():
    import contextlib

    return contextlib.nullcontext()
