"""The hessian panel (animsup.rendering.panels.hessian): drawn from a real sidecar that
animsup.measure(..., hessian=...) wrote for a tiny trained log — the lines are the sidecar's
eigenvalues (read back from its JSON, not through the panel's reader), the counts are the sidecar's
degeneracy and the eigenvalues below −threshold, the cursor follows the frame; exact spectra and
Lanczos top-k; a log without a measured Hessian is one clear error (exit 2 from the CLI)."""

import json
import shutil

import numpy as np
import pytest

import animsup
from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.log.measurements import sidecar_path, write_measurements
from animsup.rendering import draw, frames as fr
from animsup.rendering.panels import PANELS, prepare_panels
from animsup.rendering.panels.hessian import hessian_history, symlog_ticks, threshold_text

SIZE = (1280, 720)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A 4 -> 2 tied model, 2 seeds, 300 steps from a small init (still at a saddle: negative
    eigenvalues), its exact Hessian (P = 8 + 4 = 12) at every snapshot in the sidecar."""
    import torch

    from animsup.train.config import TrainConfig
    from animsup.train.loop import train

    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("hessian")
    log = str(d / "tiny.jsonl")
    train(TrainConfig(n_features=4, n_hidden=2, feature_probability=[0.2], seeds=[0, 1], steps=300, snapshots=8,
                      init_scale=0.1, batch_size=64), log, force=True)
    m = animsup.measure(log, hessian={"samples": 256})
    write_measurements(log, m)
    with open(sidecar_path(log)) as f:
        side = json.load(f)
    return log, side


def _drawer(log, instance):
    s = fr.scan_log(log)
    scene = fr.build_scene(s, [instance], panels=("hessian",), size=SIZE)
    scene.panel_data = prepare_panels(("hessian",), log, [instance])
    return draw.FrameDrawer(scene)


def _frame(log, instance, position):
    """The frame at ``position`` (a snapshot index, fractional between snapshots)."""
    return next(fr.iter_frames(log, [instance], np.array([float(position)])))


def test_the_panel_is_registered():
    assert PANELS["hessian"] == "animsup.rendering.panels.hessian:HessianPanel"


@pytest.mark.parametrize("instance", [0, 1])
def test_the_lines_are_the_sidecars_eigenvalues_of_the_shown_instance(measured, instance):
    log, side = measured
    ev = np.array(side["hessian"]["eigenvalues"])[:, instance]          # [T, E] descending, from the file
    thr = np.array(side["hessian"]["threshold"])[:, instance]
    assert ev.shape[1] == 12 and (ev[:, -1] < -thr).any()               # a saddle: something to mark
    d = _drawer(log, instance)
    d.draw(_frame(log, instance, 3))
    p = d.panels[-1]
    steps = np.array(side["steps"], float)
    for q, line in enumerate(p.lines[:3]):                                # λ1, λ2, λ3
        np.testing.assert_array_equal(line.get_xdata(), steps)
        np.testing.assert_allclose(line.get_ydata(), ev[:, q], rtol=1e-12)
    np.testing.assert_allclose(p.lines[3].get_ydata(), ev[:, -1], rtol=1e-12)  # the lowest (exact: λ_min)
    counts = [ln for ln in p.ax.get_lines() if ln.get_drawstyle() == "steps-post"]
    np.testing.assert_allclose(counts[0].get_ydata(), np.array(side["hessian"]["degeneracy"])[:, instance])
    np.testing.assert_allclose(counts[1].get_ydata(), (ev < -thr[:, None]).sum(1))
    # the negative points are marked (▼) at exactly the steps where the lowest is below −threshold
    marks = [ln for ln in p.ax_ev.get_lines() if ln.get_marker() == "v"]
    assert sorted(x for ln in marks for x in ln.get_xdata()) == sorted(steps[ev[:, -1] < -thr].tolist())
    assert f"#{instance}" in p.ax_ev.get_title(loc="left") and "all 12 eigenvalues, exact" in p.ax_ev.get_title(loc="left")
    assert p.ax_ev.get_yscale() == "symlog"


def test_the_drawn_pixels_and_the_cursor(measured):
    log, side = measured
    d = _drawer(log, 0)
    p = d.panels[-1]
    steps = np.array(side["steps"], float)
    ev = np.array(side["hessian"]["eigenvalues"])[:, 0]
    f5, f7 = _frame(log, 0, 5), _frame(log, 0, 7)                         # snapshots 5 and 7
    assert (f5.step, f7.step) == (steps[5], steps[7])
    img = d.draw(f5).copy()
    from matplotlib.colors import to_rgb

    # λ1's line is in the instance's colour where the axes say, at a measured snapshot
    X, Y = p.ax_ev.transData.transform((steps[6], ev[6, 0]))
    col, row = int(round(X)), int(round(SIZE[1] - Y))
    patch = img[row - 2:row + 3, col - 2:col + 3, :3].reshape(-1, 3).astype(float)
    assert np.abs(patch - np.array(to_rgb(d.ctx.instance_color(0))) * 255).sum(1).min() < 60
    # the cursor: at the frame's step on both axes; a later frame moves it and changes only the
    # columns around the two cursor positions inside the panel
    assert [c.get_xdata()[0] for c in p.cursors] == [steps[5]] * 2
    img2 = d.draw(f7).copy()
    assert [c.get_xdata()[0] for c in p.cursors] == [steps[7]] * 2
    (x0, y0), (x1, y1) = p.ax.bbox.get_points()
    top = p.ax_ev.bbox.get_points()[1][1]
    rows = slice(int(SIZE[1] - top) + 1, int(SIZE[1] - y0) - 1)
    cols = slice(int(x0) + 1, int(x1) - 1)
    changed = int(x0) + 1 + np.flatnonzero((img[rows, cols] != img2[rows, cols]).any(axis=(0, 2)))
    xa = p.ax.transData.transform((steps[5], 0))[0]
    xb = p.ax.transData.transform((steps[7], 0))[0]
    assert len(changed) and all(min(abs(c - xa), abs(c - xb)) <= 3 for c in changed)
    assert any(abs(c - xa) <= 3 for c in changed) and any(abs(c - xb) <= 3 for c in changed)


def test_a_lanczos_top_k_sidecar(measured, tmp_path):
    log, _ = measured
    import shutil

    copy = str(tmp_path / "lz.jsonl")
    shutil.copy(log, copy)
    m = animsup.measure(copy, hessian={"samples": 256, "exact_max": 4, "k": 4})   # P = 12 > 4: Lanczos
    write_measurements(copy, m)
    h = hessian_history(copy, [1])
    assert not h["exact"] and h["eigenvalues"] == 4 and h["parameters"] == 12
    np.testing.assert_allclose(h["top"][:, 0], m.hessian["eigenvalues"][:, 1, :3])
    np.testing.assert_allclose(h["lowest"][:, 0], m.hessian["eigenvalues"][:, 1, 3])
    assert threshold_text(h) == "|λ| ≤ 0.001·max|λ| of the top 4"
    d = _drawer(copy, 1)
    d.draw(_frame(copy, 1, 2))
    p = d.panels[-1]
    assert "top 4 of 12 eigenvalues, Lanczos" in p.ax_ev.get_title(loc="left")
    assert [ln.get_label() for ln in p.lines] == ["λ1", "λ2", "λ3", "λ4"]


def test_an_unmeasured_instance_is_said(measured, tmp_path):
    log, side = measured
    h = hessian_history(log, [0, 5])
    assert np.isnan(h["top"][:, 1]).all() and np.isnan(h["degeneracy"][:, 1]).all()
    np.testing.assert_allclose(h["top"][:, 0], np.array(side["hessian"]["eigenvalues"])[:, 0, :3])


def test_no_hessian_is_one_clear_error(measured, tmp_path, capsys):
    log, _ = measured
    import shutil

    bare = str(tmp_path / "bare.jsonl")
    shutil.copy(log, bare)
    with pytest.raises(AnimsupError, match="animsup measure LOG --hessian"):
        hessian_history(bare, [0])
    # a sidecar with an LLC but no Hessian: the same
    m = animsup.measure(bare, {"chains": 2, "draws": 4, "batch_size": 8}, snapshots=2)
    write_measurements(bare, m)
    with pytest.raises(AnimsupError, match="has no measured Hessian"):
        hessian_history(bare, [0])
    assert main(["render", bare, "--out", str(tmp_path / "x.png"), "--panels", "hessian"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "animsup measure LOG --hessian" in err[0], err
    assert not (tmp_path / "x.png").exists()


def test_symlog_ticks_by_hand():
    # positive side: 10^-3 .. 10^0 is 4 decades, thinned to 3 (ends and the middle); negative: 10^-3, 10^-2
    assert symlog_ticks(-0.04, 1.5, 3e-4) == [-0.01, -0.001, 0.0, 0.001, 0.1, 1.0]
    assert symlog_ticks(0.0, 0.5, 1e-3) == [0.0, 0.001, 0.01, 0.1]
    assert symlog_ticks(-1e-5, 1e-5, 1e-3) == [0.0]


def test_an_unmeasured_instance_gets_a_note_and_no_spectrum_claim_in_the_title(measured, tmp_path):
    log, side = measured
    copy = str(tmp_path / "one.jsonl")
    shutil.copy(log, copy)
    keep = {k: (np.array(v)[:, 1:].tolist() if k not in ("settings",) and np.ndim(v) >= 2 else v)
            for k, v in side["hessian"].items()}
    with open(sidecar_path(copy), "w") as f:
        json.dump({**side, "log": side.get("log"), "instances": [1], "hessian": keep}, f)
    d = _drawer(copy, 0)
    d.draw(_frame(copy, 0, 3))
    p = d.panels[-1]
    title = p.ax_ev.get_title(loc="left")
    assert "#0 (not measured)" in title and "exact" not in title
    assert any(t.get_text() == "instance #0 was not measured" for t in p.ax_ev.texts)
