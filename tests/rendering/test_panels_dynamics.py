"""The dimensionality panels (animsup.rendering.panels.dynamics): each panel draws what its data says,
checked on the pixels of a drawn frame against the panel's own axes transform."""

import numpy as np
import pytest

from animsup.rendering import draw, frames as fr
from animsup.rendering import plan as rp
from animsup.analysis import geometry
from animsup.rendering.panels import prepare_panels
from animsup.rendering.panels.dynamics import dimensionality_history
from animsup.log.reader import read_log
from snapshot_logs import write_snapshots

SIZE = (1280, 720)


_write = write_snapshots


def _drawn(log, panels, position, instance=0):
    s = fr.scan_log(log)
    inst = rp.choose_instances(s, instance, grid=False)
    scene = fr.build_scene(s, inst, panels=panels, size=SIZE)
    scene.panel_data = prepare_panels(panels, log, inst)
    frame = next(fr.iter_frames(log, inst, np.array([float(position)])))
    d = draw.FrameDrawer(scene)
    return d, d.draw(frame).copy(), frame


def _px(ax, x, y):
    """Display (x, y) of data (x, y) as image column, row."""
    X, Y = ax.transData.transform((x, y))
    return int(round(X)), int(round(SIZE[1] - Y))


def _near(img, col, row, rgb, r=2, tol=60):
    patch = img[row - r:row + r + 1, col - r:col + r + 1, :3].reshape(-1, 3).astype(float)
    return np.abs(patch - np.asarray(rgb, dtype=float)[:3] * 255).sum(1).min() < tol


def _pair_log(tmp_path, T=12):
    """m=3, n=4: feature 0 dedicated; features 1, 2 orthogonal, from snapshot 6 on antipodal
    (D: 1 → 1/2), feature 3 zero; norms 1, 0.6, 0.6, 0."""
    Ws = np.zeros((T, 1, 3, 4), np.float32)
    Ws[:, 0, 0, 0] = 1.0
    Ws[:, 0, 1, 1] = 0.6
    Ws[:6, 0, 2, 2] = 0.6
    Ws[6:, 0, 1, 2] = -0.6
    return _write(tmp_path / "pair.jsonl", Ws, [0.1]), Ws


def test_history_is_geometry_of_every_snapshot(tmp_path):
    log, Ws = _pair_log(tmp_path)
    h = dimensionality_history(log, [0], chunk=5)
    run = read_log(log)
    np.testing.assert_allclose(h["D"][:, 0], geometry.dimensionality(run.W[:, 0]), atol=1e-6)
    np.testing.assert_allclose(h["dstar"], geometry.dims_per_feature(run.W), rtol=1e-6)
    np.testing.assert_array_equal(h["steps"], run.steps)
    small = dimensionality_history(log, [0], chunk=5, max_values=10)   # over budget: the shown instance only
    assert small["D_instances"] == [0] and small["D"].shape == h["D"].shape


def test_norms_panel_bars_have_the_norms_height_and_the_superposition_colour(tmp_path):
    import matplotlib

    log, Ws = _pair_log(tmp_path)
    d, img, frame = _drawn(log, ("norms",), position=11)
    panel = d.panels[0]
    W = Ws[-1, 0]
    norms, sup = geometry.feature_norms(W), np.clip(geometry.interference(W), 0, 1)
    assert sup[1] == pytest.approx(0.36, abs=1e-3) and sup[0] == 0
    cmap = matplotlib.colormaps["viridis"]
    for i in range(3):
        col, top = _px(panel.ax, i, norms[i])
        _, base = _px(panel.ax, i, 0)
        mid = (top + base) // 2
        assert _near(img, col, mid, cmap(sup[i]), r=1, tol=40), (i, img[mid, col])
        above = img[top - 4, col, :3].astype(float)
        assert np.abs(above - np.asarray(cmap(sup[i])[:3]) * 255).sum() > 60   # the bar ends at the norm
    col, _ = _px(panel.ax, 3, 0.3)                                  # feature 3 is zero: no bar
    _, row = _px(panel.ax, 3, 0.3)
    assert not _near(img, col, row, cmap(0.0), r=1, tol=40)


def test_dim_time_panel_draws_each_feature_at_its_D_and_the_cursor_at_the_step(tmp_path):
    log, Ws = _pair_log(tmp_path)
    d, img, frame = _drawn(log, ("dim_time",), position=4)
    panel = d.panels[0]
    # late in the run (step 100): feature 0 at D = 1, features 1 and 2 at D = 1/2; early (step 20): all at 1
    col, row = _px(panel.ax, 100, 1.0)
    assert _near(img, col, row, d.colors[0])
    col, row = _px(panel.ax, 100, 0.5)
    assert _near(img, col, row, d.colors[1]) or _near(img, col, row, d.colors[2])
    col, row = _px(panel.ax, 20, 0.5)
    assert not (_near(img, col, row, d.colors[1]) or _near(img, col, row, d.colors[2]))
    # the cursor at the frame's step (40), not at step 100
    cursor = np.asarray(matplotlib_rgb(d.theme["cursor"]))
    col, row = _px(panel.ax, frame.step, 0.25)
    assert frame.step == 40 and _near(img, col, row, cursor, r=1)
    col, row = _px(panel.ax, 100, 0.25)
    assert not _near(img, col, row, cursor, r=1)


def matplotlib_rgb(c):
    from matplotlib.colors import to_rgb

    return to_rgb(c)


def test_scatter_and_dstar_panels_show_a_sweep_at_the_current_snapshot(tmp_path):
    # 3 instances (1-S = 1, 0.5, 0.1): dedicated features (D = 1), an antipodal pair (1/2), a triangle (2/3 in m=2)
    T = 6
    Ws = np.zeros((T, 3, 2, 3), np.float32)
    Ws[:, 0] = np.eye(2, 3)
    Ws[:, 1, 0, 0], Ws[:, 1, 0, 1], Ws[:, 1, 1, 2] = 1, -1, 1
    Ws[:, 2] = geometry.polygon(3)
    log = _write(tmp_path / "sweep.jsonl", Ws, [1.0, 0.5, 0.1])
    d, img, frame = _drawn(log, ("dim_scatter", "dims_per_feature"), position=5)
    scatter, dstar = d.panels
    assert scatter.sweep and dstar.sweep
    pts = scatter.points.get_offsets()
    D = geometry.dimensionality(Ws[-1]).ravel()
    np.testing.assert_allclose(pts[:, 1], D, atol=1e-6)
    np.testing.assert_allclose(np.sort(np.unique(np.round(D, 3))), [0, 0.5, 0.667, 1.0], atol=1e-3)
    # pixels: a point of the triangle instance at (10, 2/3) (jittered x), none at D = 0.9
    fg = matplotlib_rgb(d.theme["fg"])
    j = 2 * 3                                           # instance 2's first feature
    col, row = _px(scatter.ax, pts[j, 0], pts[j, 1])
    assert _near(img, col, row, fg, r=1, tol=200)
    col, row = _px(scatter.ax, 10, 0.9)
    assert not _near(img, col, row, fg, r=1, tol=200)
    # D* now against 1/(1-S): m / ||W||_F^2 per instance
    np.testing.assert_allclose(dstar.sweep_line.get_ydata(), geometry.dims_per_feature(Ws[-1]), rtol=1e-6)
    col, row = _px(dstar.ax2, 1 / 0.5, geometry.dims_per_feature(Ws[-1, 1]))
    assert _near(img, col, row, fg, r=2, tol=200)


@pytest.mark.parametrize("out", ["v.mp4", "v.gif", "v.png"])
def test_render_with_the_dimensionality_panels(tmp_path, out):
    from animsup.rendering.video import render

    log, _ = _pair_log(tmp_path, T=20)
    res = render(log, str(tmp_path / out), panels="dim_time,dim_scatter,dims_per_feature,norms", frames=12, workers=0)
    assert (tmp_path / out).stat().st_size > 1000 and res.frames >= 1


def test_cli_lists_and_accepts_the_panels(tmp_path, capsys):
    from animsup.cli import main

    log, _ = _pair_log(tmp_path)
    assert main(["render", log, "--panels", "dim_time,norms", "--out", str(tmp_path / "x.png")]) == 0
    assert main(["render", log, "--panels", "dim_timez", "--out", str(tmp_path / "y.png")]) == 2
    assert "dim_time" in capsys.readouterr().err
