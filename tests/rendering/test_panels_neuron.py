"""The neuron model's view (animsup.rendering.panels.neuron): the bars are W's rows at the frame's step, on
the fixed range of the whole run, in the features' colours; every neuron-model log gets the panel."""

import numpy as np
import pytest

from animsup.rendering import draw
from animsup.rendering import plan as rp
from animsup.rendering.panels import default_panels
from animsup.rendering.panels.neuron import MIN_ROW_PX, ROW_FILL, layout, pool_blocks
from animsup.rendering.config import RenderConfig
from animsup.log.reader import read_header
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter

SIZE = (1280, 720)


def _neuron_log(path, Ws, model="neuron"):
    """Ws: (shape: [T, 1, m, n]), a snapshot every 10 steps."""
    T, K, m, n = Ws.shape
    hdr = make_header(n_features=n, n_hidden=m, model=model, feature_probability=[0.1], seed=[0],
                      importance=(0.7 ** np.arange(n)).tolist(), config={})
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            w.snapshot(t * 10, np.full(K, 0.1 / (t + 1)), Ws[t], np.zeros((K, n)))
        w.end("completed", (T - 1) * 10, 1.0)
    return str(path)


def _weights(T=8, m=3, n=6, seed=0):
    rng = np.random.default_rng(seed)
    Ws = rng.normal(0, 0.5, (T, 1, m, n)).astype(np.float32)
    Ws[-1, 0, 1, 2] = 2.0  # the run's largest |W|: sets the fixed range
    return Ws


def _drawn(log, position, size=SIZE):
    plan = rp.build_plan(log, RenderConfig(size=size), video=True)
    frame = next(plan.frames([position]))
    d = draw.FrameDrawer(plan.scene)
    return d, d.draw(frame).copy(), frame, plan


def test_neuron_logs_get_the_panel_and_others_do_not(tmp_path):
    Ws = _weights()
    neuron = _neuron_log(tmp_path / "n.jsonl", Ws)
    tied = _neuron_log(tmp_path / "t.jsonl", Ws, model="tied")
    assert default_panels(read_header(neuron)) == ("neurons",)
    assert default_panels(read_header(neuron), ("bias", "neurons")) == ("bias", "neurons")
    assert default_panels(read_header(tied), ("bias",)) == ("bias",)
    assert rp.build_plan(neuron, RenderConfig(), video=False).scene.panels == ("neurons",)
    assert "ReLU(WᵀReLU(Wx)+b)" in rp.build_plan(neuron, RenderConfig(), video=False).scene.title


def test_bars_are_the_rows_of_W_at_the_frame_on_the_runs_fixed_range(tmp_path):
    Ws = _weights()
    log = _neuron_log(tmp_path / "n.jsonl", Ws)
    d, img, frame, plan = _drawn(log, 3)
    (panel,) = d.panels
    assert plan.scene.w_max == pytest.approx(2.0)  # from the plan's first pass: the whole run, not this frame
    np.testing.assert_array_equal(frame.W[0], Ws[3, 0])
    verts = panel.bars.get_paths()
    m, n = Ws.shape[2:]
    assert len(verts) == m * n
    for j in range(m):
        x0, yc = panel._origin(j)
        for i in range(n):
            v = verts[j * n + i].vertices[:4]  # (a closed path repeats the first vertex)
            assert v[:, 1].min() == pytest.approx(min(yc, yc + Ws[3, 0, j, i] / 2.0 * ROW_FILL), rel=1e-6)
            assert v[:, 1].max() == pytest.approx(max(yc, yc + Ws[3, 0, j, i] / 2.0 * ROW_FILL), rel=1e-6)
            assert v[:, 0].mean() == pytest.approx(x0 + i)
    # on the pixels: the middle of each tall enough bar has its feature's colour
    ax = panel.ax
    for j in range(m):
        x0, yc = panel._origin(j)
        for i in range(n):
            w = Ws[3, 0, j, i] / 2.0 * ROW_FILL
            X, Y = ax.transData.transform((x0 + i, yc + w / 2))
            if abs(ax.transData.transform((0, w))[1] - ax.transData.transform((0, 0))[1]) < 6:
                continue
            px = img[int(round(SIZE[1] - Y)), int(round(X)), :3].astype(float)
            assert np.abs(px - d.colors[i, :3] * 255).max() < 12, (j, i)


def test_bars_move_with_the_frames(tmp_path):
    Ws = _weights()
    log = _neuron_log(tmp_path / "n.jsonl", Ws)
    plan = rp.build_plan(log, RenderConfig(), video=True)
    d = draw.FrameDrawer(plan.scene)
    tops = []
    for f in plan.frames([0, 7]):
        d.draw(f)
        tops.append(np.array([p.vertices[1, 1] for p in d.panels[0].bars.get_paths()]))
    assert not np.allclose(tops[0], tops[1])


def test_layout_and_pooling():
    assert layout(3, 6, 465, 280, 36)[:2] == (1, 3)
    cols, rows, block = layout(10, 20, 465, 280, 36)
    assert cols * rows >= 10 and block == 1
    assert layout(2, 400, 465, 280, 36)[2] > 1  # bars under 3 px: blocks of features
    w = np.array([[0.1, -0.9, 0.3, 0.2, 0.5]])
    vals, feat = pool_blocks(w, 2)
    np.testing.assert_allclose(vals, [[-0.9, 0.3, 0.5]])
    np.testing.assert_array_equal(feat, [[1, 2, 4]])


def test_many_features_aggregate_honestly_and_too_many_neurons_say_so(tmp_path, text_layout_problems):
    Ws = _weights(T=3, m=2, n=300)
    log = _neuron_log(tmp_path / "wide.jsonl", Ws)
    d, img, frame, _ = _drawn(log, 2)
    panel = d.panels[0]
    assert panel.block > 1 and f"largest |W| of {panel.block} features" in panel.ax.get_title(loc="left")
    vals, _ = panel.heights(frame.W[0])
    assert np.abs(vals).max() == pytest.approx(np.abs(frame.W[0]).max())  # no feature disappears
    assert not text_layout_problems(d)
    tall = _neuron_log(tmp_path / "tall.jsonl", _weights(T=2, m=64, n=4))
    d, _, _, _ = _drawn(tall, 1, size=(640, 360))
    panel = d.panels[0]
    assert panel.bars is None and panel.ax.bbox.height / panel.rows < MIN_ROW_PX
    assert any("do not fit" in t.get_text() for t in panel.ax.texts)


@pytest.mark.parametrize("m,n,options", [(2, 5, {}), (3, 6, {}), (10, 20, {}), (10, 20, {"dpi": 160}),
                                         (5, 10, {"grid": True}), (4, 8, {"theme": "dark", "panels": ("bias",)})])
def test_no_text_problems(tmp_path, text_layout_problems, m, n, options):
    K = 3 if options.get("grid") else 1
    Ws = np.concatenate([_weights(T=2, m=m, n=n, seed=s) for s in range(K)], axis=1)
    hdr = make_header(n_features=n, n_hidden=m, model="neuron", feature_probability=[0.1] * K, seed=list(range(K)),
                      importance=(0.7 ** np.arange(n)).tolist(), config={})
    with LogWriter(tmp_path / "n.jsonl", hdr, force=True) as w:
        for t in range(2):
            w.snapshot(t * 10, np.full(K, 0.1), Ws[t], np.zeros((K, n)))
    plan = rp.build_plan(str(tmp_path / "n.jsonl"), RenderConfig(**options), video=False)
    d = draw.FrameDrawer(plan.scene)
    d.draw(next(plan.frames()))
    assert not text_layout_problems(d)
    neurons = [p for p in d.panels if hasattr(p, "rows")][0]
    if options.get("grid"):
        assert f"of #{plan.instances[0]}" in neurons.ax.get_title(loc="left")
    assert neurons.bars is not None and neurons.cols * neurons.rows >= m


def test_mp4_gif_and_poster(tmp_path):
    from animsup.rendering.video import render

    log = _neuron_log(tmp_path / "n.jsonl", _weights(T=6))
    res = render(log, [str(tmp_path / "v.mp4"), str(tmp_path / "v.gif")], frames=6, hold=0, workers=0)
    assert res.frames == 6 and all((tmp_path / f).stat().st_size > 0 for f in ("v.mp4", "v.gif"))
    render(log, [str(tmp_path / "p.png")], workers=0)
    from PIL import Image

    img = np.asarray(Image.open(tmp_path / "p.png").convert("RGB"))
    assert img.shape == (720, 1280, 3)
