"""The viewer in a real browser (headless Debian chromium, see tests/viewer/browser.py): loads
offline with no errors and no requests, scrubbing shows the logged W, play advances, hover
names the feature, instances can be picked, events jump, the budget holds, the live view
follows a log being written, and show()'s notebook frame runs."""

import os
import threading

import numpy as np
import pytest

from animsup.analysis import geometry
from animsup.log.reader import read_log
from animsup.log.writer import LogWriter
from animsup.viewer import write_html
from browser import Watched, browser, open_page, open_show_frame, state  # noqa: F401  (the fixture)
from viewer_logs import append_snapshot, header, weights, write_run


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    log = d / "sweep.jsonl"
    write_run(log, T=30, k=4, n=6)
    out = d / "sweep.html"
    write_html(log, out)
    return log, out






def test_page_loads_offline_with_no_errors_and_no_requests(browser, sweep):  # noqa: F811
    log, out = sweep
    w = open_page(browser, out.as_uri())
    w.page.wait_for_timeout(200)
    assert w.errors == []
    assert w.requests == [out.as_uri()]  # the file itself and nothing else
    assert w.page.locator("#grid .tile").count() == 4
    w.page.close()


def test_scrubbing_shows_that_steps_weights(browser, sweep):  # noqa: F811
    log, out = sweep
    run = read_log(log)
    w = open_page(browser, out.as_uri())
    sel = state(w, "S.sel")
    for t in (0, 7, 29):
        w.page.locator("#scrubber").fill(str(t))
        drawn = state(w, "S.drawn")
        assert drawn["step"] == run.steps[t] and drawn["instance"] == sel
        np.testing.assert_array_equal(np.array(drawn["tips"], np.float32), run.W[t, sel].T)  # [n, 2] tips
        np.testing.assert_array_equal(np.array(state(w, "S.drawnBias"), np.float32), run.b[t, sel])  # the bias panel
        assert w.page.locator("#readout").inner_text().startswith(f"step {run.steps[t]:,} ")
    w.page.locator("#scrubber").focus()
    w.page.keyboard.press("ArrowLeft")
    assert state(w, "S.drawn.t") == 28
    assert w.errors == []
    w.page.close()


def test_play_advances_and_pause_stops(browser, sweep):  # noqa: F811
    log, out = sweep
    w = open_page(browser, out.as_uri())
    w.page.evaluate("window.animsupViewer.setIndex(0)")
    w.page.locator("#play").click()
    w.page.wait_for_function("() => window.animsupViewer.state.t >= 5")
    w.page.locator("#play").click()
    t = state(w, "S.t")
    w.page.wait_for_timeout(200)
    assert state(w, "S.t") == t and not state(w, "S.playing")
    w.page.close()


def test_loop_wraps_around_and_no_loop_stops_at_the_end(browser, sweep):  # noqa: F811
    log, out = sweep
    w = open_page(browser, out.as_uri())
    w.page.locator("#speed").select_option("8")
    w.page.evaluate("window.animsupViewer.setIndex(25)")
    w.page.locator("#play").click()
    w.page.wait_for_function("() => window.animsupViewer.state.t < 25")  # looped back to the start
    w.page.locator("#play").click()
    w.page.locator("#loop").uncheck()
    w.page.evaluate("window.animsupViewer.setIndex(25)")
    w.page.locator("#play").click()
    w.page.wait_for_function("() => !window.animsupViewer.state.playing")
    assert state(w, "S.t") == 29 and w.errors == []
    w.page.close()


def test_hover_shows_the_features_id_norm_and_dimensionality(browser, sweep):  # noqa: F811
    log, out = sweep
    run = read_log(log)
    w = open_page(browser, out.as_uri())
    t, sel, j = 29, state(w, "S.sel"), 2
    w.page.evaluate(f"window.animsupViewer.setIndex({t})")
    # the tip of feature j in page pixels, from the plot's own scales
    x, y = w.page.evaluate(f"""(() => {{
        const v = window.animsupViewer, u = v.state.plane, r = u.over.getBoundingClientRect();
        return [r.left + u.valToPos(v.w({t}, {sel}, 0, {j}), "x"), r.top + u.valToPos(v.w({t}, {sel}, 1, {j}), "y")];
    }})()""")
    w.page.mouse.move(x + 2, y + 1)
    w.page.wait_for_function("() => document.getElementById('hover').textContent.startsWith('feature')")
    text = w.page.locator("#hover").inner_text()
    W = run.W[t, sel].astype(np.float64)
    assert text.startswith(f"feature {j} ")
    assert f"= {geometry.feature_norms(W)[j]:.4g}" in text and f"D_{j} = {geometry.dimensionality(W)[j]:.4g}" in text
    assert f"bias b_{j} = {run.b[t, sel, j]:.4g}" in text
    import re

    assert float(re.search(r"importance (\S+)", text).group(1)) == pytest.approx(np.broadcast_to(run.header.importance, run.b.shape[1:])[sel, j], rel=1e-3)
    w.screenshot("viewer-hover.png")
    w.page.close()


def test_picking_an_instance_and_jumping_to_an_event(browser, sweep):  # noqa: F811
    log, out = sweep
    run = read_log(log)
    w = open_page(browser, out.as_uri())
    w.page.locator('#grid .tile[data-instance="3"]').click()
    assert state(w, "S.sel") == 3 and state(w, "S.drawn.instance") == 3
    assert w.page.locator("#plane-title").inner_text().startswith("instance 3 ")
    np.testing.assert_array_equal(np.array(state(w, "S.drawn.tips"), np.float32), run.W[-1, 3].T)
    events = w.page.locator("#events li[data-step]")
    assert events.count() >= 1
    step = int(events.first.get_attribute("data-step"))
    events.first.click()
    t = state(w, "S.t")
    assert run.steps[t] >= step and (t == 0 or run.steps[t - 1] < step)  # the first snapshot at or after it
    w.page.close()


def test_a_log_without_loss_shows_no_loss_panel(browser, tmp_path):  # noqa: F811
    from pathlib import Path

    out = tmp_path / "noloss.html"
    write_html(Path(__file__).parents[1] / "data" / "golden" / "hand_noloss_v2.jsonl", out)
    w = open_page(browser, out.as_uri())
    assert w.page.locator(".note", has_text="no loss recorded in this log").count() == 1
    assert w.page.locator("#loss canvas").count() == 0 and "loss —" in w.page.locator("#readout").inner_text()
    assert w.page.locator("#status").inner_text() == "failed" and w.errors == []
    w.page.close()


def test_heatmap_shows_wtw_for_five_hidden_dimensions(browser, tmp_path):  # noqa: F811
    log = tmp_path / "h.jsonl"
    write_run(log, T=8, n=20, m=5)
    out = tmp_path / "h.html"
    write_html(log, out)
    run = read_log(log)
    w = open_page(browser, out.as_uri())
    w.page.evaluate("window.animsupViewer.setIndex(4)")
    gram = np.array(state(w, "S.drawn.gram")).reshape(20, 20)
    Wt = run.W[4, 0].astype(np.float64)
    np.testing.assert_allclose(gram, Wt.T @ Wt, rtol=1e-5, atol=1e-6)
    assert "WᵀW" in w.page.locator("#plane-title").inner_text() and w.errors == []
    # the picture is that matrix: the pixel at the centre of cell (i, j) has the colour of its value
    i, j = 3, 7
    rgb, expected = w.page.evaluate(f"""(() => {{
        const S = window.animsupViewer.state, u = S.plane, d = S.d, dpr = devicePixelRatio || 1;
        const x = u.valToPos({j} + 0.5, "x", true), y = u.valToPos({i} + 0.5, "y", true);
        const px = Array.from(u.ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
        const v = Math.max(-1, Math.min(1, S.drawn.gram[{i} * d.n + {j}] / d.gram_max));
        return [px, d.heat[Math.round((v + 1) / 2 * 255)]];
    }})()""")
    assert "#%02x%02x%02x" % tuple(rgb) == expected
    # hovering a row names that feature
    box = w.page.evaluate(f"""(() => {{ const u = window.animsupViewer.state.plane, r = u.over.getBoundingClientRect();
        return [r.left + u.valToPos(5, "x"), r.top + u.valToPos({i} + 0.5, "y")]; }})()""")
    w.page.mouse.move(*box)
    w.page.wait_for_function(f"() => document.getElementById('hover').textContent.startsWith('feature {i} ')")
    w.screenshot("viewer-heatmap.png")
    w.page.close()


def test_budget_16_instances_32_features_200_snapshots(browser, tmp_path):  # noqa: F811
    log = tmp_path / "big.jsonl"
    write_run(log, T=200, k=16, n=32, loss_rows=4)
    out = tmp_path / "big.html"
    info = write_html(log, out)
    assert info["snapshots"] == 200 and os.path.getsize(out) <= 5_000_000
    w = open_page(browser, out.as_uri())
    # every snapshot is reachable and drawn from the log (the redraw time is measured in bench/bench_viewer.py)
    w.page.evaluate("window.animsupViewer.timeScrub(20)")
    assert state(w, "S.drawn.t") == 199 and len(state(w, "S.drawn.tips")) == 32
    assert w.page.locator("#grid .tile").count() == 16 and w.errors == []
    w.page.close()


def test_live_view_picks_up_appended_snapshots_and_the_end(browser, tmp_path):  # noqa: F811
    from animsup.viewer.server import make_server

    log = tmp_path / "live.jsonl"
    T = 12
    writer = LogWriter(log, header(k=2), force=True)  # the header only, as at the start of training
    server = make_server(log)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        w = Watched(browser)
        w.page.goto(server.url)
        w.page.wait_for_function("() => document.querySelector('h1').textContent.startsWith('waiting for the first')")
        for t in range(5):
            append_snapshot(writer, t, T, weights(t, T, k=2))
        w.page.wait_for_function("() => window.animsupViewer.state.d && window.animsupViewer.state.d.T === 5")
        assert w.page.locator("#status").inner_text() == "unfinished"
        for t in range(5, T):
            append_snapshot(writer, t, T, weights(t, T, k=2))
        w.page.wait_for_function(f"() => window.animsupViewer.state.d.T === {T}", timeout=5000)
        assert state(w, "S.t") == T - 1  # a page at the end follows the log
        np.testing.assert_array_equal(np.array(state(w, "S.drawn.tips"), np.float32),
                                      weights(T - 1, T, k=2)[state(w, "S.sel")].T)
        writer.end("completed", (T - 1) * 10, 1.0)
        w.page.wait_for_function("() => document.getElementById('status').textContent === 'completed'", timeout=5000)
        assert w.errors == [] and all(u.startswith(server.url) for u in w.requests)
        w.screenshot("viewer-live.png")
        w.page.close()
    finally:
        writer.close()
        server.shutdown()
        server.server_close()


def test_show_frame_runs_in_a_notebook_like_page(browser, tmp_path):  # noqa: F811
    import animsup

    log = tmp_path / "run.jsonl"
    write_run(log, T=6)
    html = animsup.show(log, poster=False)._repr_html_()
    w, frame = open_show_frame(browser, html)
    assert frame.evaluate("window.animsupViewer.state.d.T") == 6
    page_height = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    w.page.wait_for_function(f"() => Math.abs(document.querySelector('iframe.animsup-viewer').getBoundingClientRect().height - {page_height + 8}) < 2")
    box = w.page.locator("iframe.animsup-viewer").bounding_box()
    assert box["width"] == 900  # as wide as the cell, as tall as the page
    assert w.errors == [] and all(not u.startswith("http") for u in w.requests)
    w.page.close()
