"""The viewer in a real browser (issue 21): it fits 800..1280 px windows with no horizontal scroll
and its charts follow the window; the m >= 3 heatmap has centred ticks, norm bars, a colour scale
and the shape's name; untied models say which mark is the encoder and which the decoder; an
aggregate loss is drawn over the whole run; recorded curves appear, labelled; the live page keeps
the instance and step the user chose while the log grows."""

import threading

import numpy as np
import pytest

import animsup
from animsup.analysis import geometry
from animsup.log.reader import read_log
from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.viewer import write_html
from browser import Watched, browser, open_page, state  # noqa: F401  (the fixture)
from viewer_logs import weights, write_run


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    d = tmp_path_factory.mktemp("layout")
    out = {}
    for name, kw in {"m2": dict(T=12, k=4, n=6), "m3u": dict(T=8, k=2, n=8, m=3, model="untied"),
                     "m2u": dict(T=8, k=2, n=5, model="untied")}.items():
        write_run(d / f"{name}.jsonl", **kw)
        write_html(d / f"{name}.jsonl", d / f"{name}.html")
        out[name] = (d / f"{name}.jsonl", d / f"{name}.html")
    return out


@pytest.mark.parametrize("width", [800, 1024, 1280])
def test_the_page_fits_the_window_and_the_charts_follow_it(browser, pages, width):  # noqa: F811
    for name in ("m2", "m3u"):
        w = Watched(browser)
        w.page.set_viewport_size({"width": width, "height": 900})  # opened in a window of that width
        w.page.goto(pages[name][1].as_uri())
        w.page.wait_for_function("() => window.animsupViewer && window.animsupViewer.state.d !== null")
        assert w.page.evaluate("document.documentElement.scrollWidth") <= width
        # the loss chart, its last tick and the cursor are inside the window
        right = w.page.evaluate("document.querySelector('#loss .uplot').getBoundingClientRect().right")
        assert right <= width
        if width == 1280:  # wider window, wider chart
            w.page.set_viewport_size({"width": 1024, "height": 900})
            w.page.wait_for_function(f"() => document.querySelector('#loss .uplot').getBoundingClientRect().width < {right} - 100")
        w.screenshot(f"viewer-{name}-{width}.png")
        assert w.errors == []
        w.page.close()


def test_heatmap_ticks_norm_bars_colour_scale_and_shape_name(browser, pages):  # noqa: F811
    log, out = pages["m3u"]
    run = read_log(log)
    w = open_page(browser, out.as_uri())
    w.page.evaluate("window.animsupViewer.setIndex(5)")
    sel = state(w, "S.sel")
    # ticks at cell centres j + 0.5 (feature j is the cell [j, j+1]); none past the last feature
    ticks = state(w, "S.heatTicks")
    assert ticks == [j + 0.5 for j in range(8)]
    # norm bars: ‖W_j‖ of the logged encoder on the log's fixed range (34 px = the largest norm of the log)
    norms = np.sqrt((run.W[5, sel].astype(np.float64) ** 2).sum(0))
    top = max(np.sqrt((run.W[t, i].astype(np.float64) ** 2).sum(0)).max() for t in range(8) for i in range(2))
    np.testing.assert_allclose(state(w, "S.drawn.normBars"), norms / state(w, "S.d.norm_max") * 34, rtol=1e-4)
    assert state(w, "S.d.norm_max") >= top  # (the video's range: the largest norm, with a margin)
    # the colour scale: as tall as the cells, labelled with the fixed range
    scale = state(w, "S.colourScale")
    assert scale["range"] == state(w, "S.d.gram_max") > 0 and scale["bottom"] - scale["top"] > 100
    # the shape's name (analysis.geometry, what inspect says) and what the cells are for an untied model
    title = w.page.locator("#plane-title").inner_text()
    assert geometry.describe(run.W[5, sel]).label() in title and "W_decᵀW_enc" in title
    assert "decoder column i" in w.page.locator("#plane-legend").inner_text()
    assert w.errors == []
    w.page.close()


def test_untied_arrows_have_their_legend(browser, pages):  # noqa: F811
    w = open_page(browser, pages["m2u"][1].as_uri())
    legend = w.page.locator("#plane-legend").inner_text()
    assert "encoder W_i (solid)" in legend and "decoder W_dec,i (dashed)" in legend
    w2 = open_page(browser, pages["m2"][1].as_uri())  # a tied model: nothing to tell apart
    assert w2.page.locator("#plane-legend").inner_text() == ""
    w.page.close()
    w2.page.close()


def test_aggregate_loss_drawn_whole_and_recorded_curves_labelled(browser, tmp_path):  # noqa: F811
    log, out = tmp_path / "agg.jsonl", tmp_path / "agg.html"
    rng = np.random.default_rng(1)
    test_loss = []
    with animsup.Recorder(log, n_features=5, n_hidden=2, n_instances=3, feature_probability=0.1) as rec:
        W = rng.normal(0, 0.3, (3, 2, 5))
        for s in range(300):
            rec.loss(s, 0.1 * np.exp(-s / 100) + 1e-3)  # one number for all instances: loss_scope "aggregate"
            if s % 30 == 0:
                test_loss.append(0.2 * np.exp(-s / 120))
                rec.snapshot(s, W=W * (1 + s / 300), loss=0.1 * np.exp(-s / 100) + 1e-3, test_loss=test_loss[-1])
    write_html(log, out)
    run = read_log(log)
    assert run.loss_scope == "aggregate"
    w = open_page(browser, out.as_uri())
    for sel in (0, 2):  # every instance shows the whole aggregate curve (it used to stop at 1/K of it)
        w.page.evaluate(f"window.animsupViewer.select({sel})")
        xs, raw = state(w, "S.loss.data[0]"), state(w, "S.loss.data[1]")
        assert all(v is not None for v in raw) and xs[-1] > 290
        np.testing.assert_allclose(raw[-1], run.loss_curve[-1, 0], rtol=0.02)  # last bin ≈ the last logged loss
    # the readout says which loss it is: the video's label, the moving average, shared by all instances
    readout = w.page.locator("#readout").inner_text()
    assert "moving average of" in readout and "one loss for all instances" in readout
    # the recorded curve: its own chart, its name as the series label, the recorded values
    assert state(w, "S.curves.series[1].label") == "test_loss"
    assert state(w, "S.curves.data[0]") == list(range(0, 300, 30))
    np.testing.assert_allclose(state(w, "S.curves.data[1]"), test_loss, rtol=1e-6)
    assert "recorded curves" in w.page.locator("#curves-title").inner_text() and w.errors == []
    w.screenshot("viewer-aggregate-curves.png")
    w.page.close()


def _crossing(writer, t, k=3):
    """Snapshot t of three instances with the same 1-S whose losses cross at t = 4: the grid (ordered
    by 1-S, then final loss) reorders them while the log grows."""
    loss = np.array([1e-2, 2e-2, 3e-2], np.float32) if t < 4 else np.array([3e-2, 2e-2, 1e-3], np.float32)
    writer.losses(t * 10, 5, np.tile(loss, (2, 1)))
    writer.snapshot(t * 10, loss, weights(t, 12, k=k), np.zeros((k, 5), np.float32))


def test_live_view_keeps_the_chosen_instance_and_step_while_the_log_grows(browser, tmp_path):  # noqa: F811
    from animsup.viewer.server import make_server

    log = tmp_path / "live.jsonl"
    h = make_header(n_features=5, n_hidden=2, model="tied", feature_probability=[0.1] * 3, seed=[0, 1, 2],
                    importance=[1.0] * 5, config={})
    writer = LogWriter(log, h, force=True)
    for t in range(4):
        _crossing(writer, t)
    server = make_server(log)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        w = Watched(browser)
        w.page.goto(server.url)
        w.page.wait_for_function("() => window.animsupViewer.state.d && window.animsupViewer.state.d.T === 4")
        assert state(w, "S.d.instances[S.sel]") == 0  # the best so far
        # the user picks instance 0 in the grid and scrubs back to step 10
        w.page.locator("#grid .tile[data-instance='0']").click()
        w.page.locator("#scrubber").fill("1")
        assert state(w, "S.d.steps[S.t]") == 10
        for t in range(4, 9):  # the losses cross: the grid's order and the default instance change
            _crossing(writer, t)
        w.page.wait_for_function("() => window.animsupViewer.state.d.T === 9", timeout=5000)
        w.page.wait_for_timeout(1300)  # one more poll
        assert state(w, "S.d.instances") != [0, 1, 2] and state(w, "S.d.instances[S.d.selected]") == 2
        assert state(w, "S.d.instances[S.sel]") == 0 and state(w, "S.drawn.instance") == 0
        assert state(w, "S.d.steps[S.t]") == 10 and state(w, "S.drawn.step") == 10
        np.testing.assert_array_equal(np.array(state(w, "S.drawn.tips"), np.float32), weights(1, 12, k=3)[0].T)
        assert w.errors == []
        w.page.close()
    finally:
        writer.close()
        server.shutdown()
        server.server_close()
