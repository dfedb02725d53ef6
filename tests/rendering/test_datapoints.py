"""A finite-data run's training examples in the plane (animsup.rendering.datapoints, draw/datapoints.py):
the dots are h = W x of the frame's W (checked against a dense product at a snapshot), on the line for
n_hidden = 1, within the plane's axes, capped with the cap in the key; an older finite log without the
stored set and an n_hidden = 3 log render with a note."""

import numpy as np

from animsup.rendering import datapoints, draw
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig
from finite_logs import sparse_set, write_finite_log

CFG = RenderConfig(size="640x360", frames=3, hold=0)


def _frame_at(plan, step):
    return next(f for f in plan.frames() if f.step == step)


def test_dots_are_w_x_at_a_snapshot_and_inside_the_axes(tmp_path):
    sets = [sparse_set(10, 3, 0), sparse_set(10, 30, 1)]
    Ws = np.random.default_rng(5).normal(size=(3, 2, 2, 10)) * np.array([0.2, 0.4, 1.5])[:, None, None, None]
    log = write_finite_log(tmp_path / "f.jsonl", sets, Ws)
    for inst in (0, 1):
        plan = rp.build_plan(log, RenderConfig(size="640x360", frames=3, hold=0, instance=inst))
        d = draw.FrameDrawer(plan.scene)
        frame = _frame_at(plan, 20)  # the last snapshot
        d.draw(frame)
        dots = d.views[0].data.dots.get_offsets()
        np.testing.assert_allclose(dots, (Ws[2, inst].astype(np.float32) @ sets[inst]).T, rtol=1e-5, atol=1e-6)
        assert np.abs(dots).max() <= plan.scene.lim  # the plane widened to hold them
        key = [t.get_text() for t in d.views[0].ax.get_legend().get_texts()]
        short = d.views[0].small  # a small plane (this 640x360 frame) gets the short key on a background
        assert key == [("data " if short else "training examples ") + f"h = W x (T = {sets[inst].shape[1]})"]
        assert d.views[0].ax.get_legend().get_frame_on() == short


def test_on_the_line_for_n_hidden_1(tmp_path):
    x = sparse_set(8, 5, 0)
    Ws = np.random.default_rng(1).normal(size=(2, 1, 1, 8)) * 0.5
    plan = rp.build_plan(write_finite_log(tmp_path / "f.jsonl", [x], Ws, m=1), CFG)
    d = draw.FrameDrawer(plan.scene)
    d.draw(_frame_at(plan, 10))
    dots = d.views[0].data.dots.get_offsets()
    np.testing.assert_allclose(dots[:, 0], Ws[1, 0, 0].astype(np.float32) @ x, rtol=1e-5, atol=1e-6)
    assert not dots[:, 1].any()


def test_the_cap_is_said_in_the_key(tmp_path, monkeypatch):
    monkeypatch.setattr(datapoints, "MAX_DRAWN", 7)
    log = write_finite_log(tmp_path / "f.jsonl", [sparse_set(10, 40, 0)], np.ones((2, 1, 2, 10)) * 0.1)
    plan = rp.build_plan(log, CFG)
    p = plan.scene.datapoints[0]
    assert p.drawn == 7 and p.key == "training examples h = W x (T = 40; the first 7 drawn)"
    assert datapoints.key_text(20_000, 5_000, 1_000) == ("training examples h = W x (T = 20,000; the first 1,000 "
                                                         "drawn, 5,000 stored in the log)")


def test_older_finite_log_and_n_hidden_3_render_with_a_note(tmp_path):
    old = write_finite_log(tmp_path / "old.jsonl", [sparse_set(6, 3, 0)], np.ones((2, 1, 2, 6)) * 0.3, stored=False)
    plan = rp.build_plan(old, CFG)
    assert plan.scene.datapoints == {}
    assert any(n.startswith("the training examples are not drawn: this finite-data log does not store them")
               for n in plan.notes)
    d = draw.FrameDrawer(plan.scene)
    d.draw(_frame_at(plan, 10))
    assert d.views[0].data is None
    m3 = write_finite_log(tmp_path / "m3.jsonl", [sparse_set(6, 3, 0)], np.ones((2, 1, 3, 6)) * 0.3, m=3)
    notes = rp.build_plan(m3, CFG).notes
    assert "the training examples' hidden vectors h = W x are drawn only for n_hidden <= 2 (this log has n_hidden = 3)" \
        in notes


def test_grid_keys_stay_inside_their_panels_when_the_first_examples_are_drawn(tmp_path, monkeypatch):
    """A grid of capped sets (T = 1,600 with 1,000 drawn) once printed "data h = W x (T = 1,600; the first
    1,000 drawn)" across the neighbouring panels: the small key names the cap only (the title names T)."""
    monkeypatch.setattr(datapoints, "MAX_DRAWN", 7)
    sets = [sparse_set(10, t, i) for i, t in enumerate((1_600, 3_200, 5))]
    log = write_finite_log(tmp_path / "f.jsonl", sets, np.ones((2, 3, 2, 10)) * 0.1)
    plan = rp.build_plan(log, RenderConfig(size="960x540", frames=2, hold=0, grid=True))
    assert all(v.small for v in draw.FrameDrawer(plan.scene).views)  # grid panels: the short key
    d = draw.FrameDrawer(plan.scene)
    d.draw(_frame_at(plan, 10))
    renderer = d.fig.canvas.get_renderer()
    for view in d.views:
        legend = view.ax.get_legend()
        text = legend.get_texts()[0].get_text()
        assert text in ("data h = W x (first 7)", "data h = W x (T = 5)")
        box, panel = legend.get_window_extent(renderer), view.ax.get_window_extent(renderer)
        assert panel.x0 - 1 <= box.x0 and box.x1 <= panel.x1 + 1, text
    assert datapoints.short_key(1_600, 1_000) == "data h = W x (first 1,000)"
