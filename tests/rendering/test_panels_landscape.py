"""The llc panel (animsup.rendering.panels.landscape): it draws the sidecar's LLC where its axes say,
and a log without a measured LLC is one clear error."""

import numpy as np
import pytest

from animsup.errors import AnimsupError
from animsup.log.measurements import Measurements, write_measurements
from animsup.rendering import draw, frames as fr
from animsup.rendering import plan as rp
from animsup.rendering.panels import prepare_panels
from animsup.rendering.panels.landscape import llc_history

from snapshot_logs import write_snapshots

SIZE = (1280, 720)


_write = write_snapshots


def _px(ax, x, y):
    X, Y = ax.transData.transform((x, y))
    return int(round(X)), int(round(SIZE[1] - Y))


def _near(img, col, row, rgb, r=2, tol=60):
    patch = img[row - r:row + r + 1, col - r:col + r + 1, :3].reshape(-1, 3).astype(float)
    return np.abs(patch - np.asarray(rgb, dtype=float)[:3] * 255).sum(1).min() < tol


def _measured(tmp_path, T=12):
    Ws = np.zeros((T, 2, 2, 3), np.float32)
    Ws[:, :, 0, 0] = 1.0
    log = _write(tmp_path / "l.jsonl", Ws, [0.1, 0.1])
    steps = np.arange(T) * 10
    mean = np.stack([np.linspace(1.0, 3.0, T), np.full(T, 2.0)], 1)
    C = 2
    llc = {"settings": {"chains": C}, "mean": mean, "std": np.full((T, 2), 0.05), "chains": np.repeat(mean[:, :, None], C, 2),
           "init_loss": np.zeros((T, 2)), "diverged": np.zeros((T, 2)), "settled": np.ones((T, 2), bool),
           "trace": np.zeros((T, 2, 3))}
    write_measurements(log, Measurements(steps=steps, instances=(0, 1), llc=llc))
    return log, steps, mean


def test_llc_panel_draws_the_measured_curve(tmp_path):
    log, steps, mean = _measured(tmp_path)
    s = fr.scan_log(log)
    inst = rp.choose_instances(s, 0, grid=False)
    scene = fr.build_scene(s, inst, panels=("llc",), size=SIZE)
    scene.panel_data = prepare_panels(("llc",), log, inst)
    d = draw.FrameDrawer(scene)
    frame = next(fr.iter_frames(log, inst, np.array([5.0])))
    img = d.draw(frame).copy()
    panel = d.panels[-1]
    from matplotlib.colors import to_rgb

    color = to_rgb(d.ctx.instance_color(0))
    t = 8
    col, row = _px(panel.ax, steps[t], mean[t, 0])
    assert _near(img, col, row, color, r=3)
    # 1.0 below the line at the same step is background
    col2, row2 = _px(panel.ax, steps[t], mean[t, 0] - 1.0)
    assert not _near(img, col2, row2, color, r=1)


def test_llc_history_selects_the_shown_instances_and_needs_a_measurement(tmp_path):
    log, _, mean = _measured(tmp_path)
    h = llc_history(log, [1])
    assert h["mean"][:, 0] == pytest.approx(mean[:, 1])
    Ws = np.zeros((3, 1, 2, 3), np.float32)
    bare = _write(tmp_path / "bare.jsonl", Ws, [0.1])
    with pytest.raises(AnimsupError, match="animsup measure LOG --llc"):
        llc_history(bare, [0])


def test_llc_panel_says_when_the_shown_instance_was_not_measured(tmp_path):
    log, _, _ = _measured(tmp_path)
    llc_only_1 = Measurements(steps=np.arange(12) * 10, instances=(1,), llc={
        k: (v[:, 1:] if k != "settings" else v) for k, v in
        {"settings": {"chains": 2}, "mean": np.ones((12, 2)), "std": np.full((12, 2), 0.05),
         "chains": np.ones((12, 2, 2)), "init_loss": np.zeros((12, 2)), "diverged": np.zeros((12, 2)),
         "settled": np.ones((12, 2), bool), "trace": np.zeros((12, 2, 3))}.items()})
    write_measurements(log, llc_only_1)
    s = fr.scan_log(log)
    scene = fr.build_scene(s, [0], panels=("llc",), size=SIZE)
    scene.panel_data = prepare_panels(("llc",), log, [0])
    d = draw.FrameDrawer(scene)
    d.draw(next(fr.iter_frames(log, [0], np.array([5.0]))))
    texts = [t.get_text() for t in d.panels[-1].ax.texts]
    assert "instance #0 was not measured" in texts
    # the measured instance gets no note
    scene = fr.build_scene(s, [1], panels=("llc",), size=SIZE)
    scene.panel_data = prepare_panels(("llc",), log, [1])
    d = draw.FrameDrawer(scene)
    assert not any("not measured" in t.get_text() for t in d.panels[-1].ax.texts)
