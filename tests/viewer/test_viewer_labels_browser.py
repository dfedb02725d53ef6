"""The viewer's text in a real browser (issue 21, findings 20 and 21): the bias chart's axis label
clears its tick labels (small biases such as -0.001); feature ids of near-coincident tips do not
overprint each other; the live page of a finished log says it no longer follows the log."""

import threading

import numpy as np
import pytest

from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.viewer import write_html
from browser import Watched, browser, open_page, state  # noqa: F401  (the fixture)
from viewer_logs import write_run

# uPlot's own layout of its left y axis (uPlot 1.6 source, axes draw): the tick labels are
# right-aligned at _pos - ticks.size - gap, the axis label is drawn rotated with its bottom at
# _lpos - labelGap; every box in CSS px as (x0, y0, x1, y1)
BIAS_BOXES = """(() => {
  const u = window.animsupViewer.state.bias, ax = u.axes[1], r = devicePixelRatio || 1, ctx = u.ctx;
  const top = u.bbox.top / r, height = u.bbox.height / r;
  ctx.save();
  ctx.font = ax.labelFont[0];
  const lm = ctx.measureText(ax.label);
  const lw = lm.width / r, lh = (lm.fontBoundingBoxAscent + lm.fontBoundingBoxDescent) / r;
  const lx1 = ax._lpos - ax.labelGap;
  const label = [lx1 - lh, top + height / 2 - lw / 2, lx1, top + height / 2 + lw / 2];
  ctx.font = ax.font[0];
  const ticks = ax._values.map((text, q) => {
    const m = ctx.measureText(text), w = m.width / r, h = (m.fontBoundingBoxAscent + m.fontBoundingBoxDescent) / r;
    const x1 = ax._pos - ax.ticks.size - ax.gap, y = u.valToPos(ax._splits[q], "y");
    return { text: text, box: [x1 - w, top + y - h / 2, x1, top + y + h / 2] };
  });
  ctx.restore();
  return { label: label, ticks: ticks };
})()"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _log(path, W, b):
    """One snapshot of one tied instance: W (shape: [2, n]), b (shape: [n])."""
    n = W.shape[1]
    h = make_header(n_features=n, n_hidden=2, model="tied", feature_probability=[0.1], seed=[0],
                    importance=(0.9 ** np.arange(n)).tolist(), config={})
    with LogWriter(path, h, force=True) as w:
        w.snapshot(0, np.array([1e-2], np.float32), W[None].astype(np.float32), b[None].astype(np.float32))
        w.end("completed", 0, 1.0)


@pytest.fixture(scope="module")
def close_pair(tmp_path_factory):
    """Features 4 and 5 nearly on one tip (as an imported checkpoint's 5/4), 1 and 3 close too;
    biases of +-0.001 (the bias axis's widest tick labels)."""
    d = tmp_path_factory.mktemp("labels")
    ang = np.array([2.9, 4.2, 1.9, 4.35, 0.36, 0.40])
    r = np.array([1.2, 2.4, 0.5, 2.3, 0.9, 0.75])
    W = np.stack([r * np.cos(ang), r * np.sin(ang)])
    b = np.array([0.001, -0.001, 0.0005, 0.0, -0.0008, 0.001])
    _log(d / "close.jsonl", W, b)
    write_html(d / "close.jsonl", d / "close.html")
    return d / "close.html", W


@pytest.mark.parametrize("width", [1024, 1440])
def test_the_bias_axis_label_clears_its_tick_labels(browser, close_pair, width):  # noqa: F811
    w = open_page(browser, close_pair[0].as_uri(), width)
    boxes = w.page.evaluate(BIAS_BOXES)
    texts = [t["text"] for t in boxes["ticks"]]
    assert any(t.startswith(("-", "−")) and "0.001" in t for t in texts), texts  # the widest labels are drawn
    for t in boxes["ticks"]:
        assert not _overlap(boxes["label"], t["box"]), (t, boxes["label"])
    assert boxes["label"][0] >= 0  # and the label is inside the page
    w.screenshot(f"viewer-labels-{width}.png")
    assert w.errors == []
    w.page.close()


@pytest.mark.parametrize("width", [1024, 1440])
def test_near_coincident_feature_labels_do_not_overlap(browser, close_pair, width):  # noqa: F811
    w = open_page(browser, close_pair[0].as_uri(), width)
    labels = state(w, "S.drawn.labels")
    assert sorted(lab["feature"] for lab in labels) == list(range(6))  # every feature keeps its id
    boxes = [(lab["x0"], lab["y0"], lab["x1"], lab["y1"]) for lab in labels]
    for a in range(len(boxes)):
        for c in range(a + 1, len(boxes)):
            assert not _overlap(boxes[a], boxes[c]), (labels[a], labels[c])
    # each id stays near its own tip (within 3 label heights), and covers no tip's centre
    W = close_pair[1]
    tips = w.page.evaluate("""(W) => { const u = window.animsupViewer.state.plane, r = devicePixelRatio || 1;
        return W[0].map((x, j) => [u.bbox.left / r + u.valToPos(x, "x"), u.bbox.top / r + u.valToPos(W[1][j], "y")]); }""",
                           W.tolist())
    for lab in labels:
        cx, cy = (lab["x0"] + lab["x1"]) / 2, (lab["y0"] + lab["y1"]) / 2
        tx, ty = tips[lab["feature"]]
        assert np.hypot(cx - tx, cy - ty) < 3 * 11 + (lab["x1"] - lab["x0"])
        for x, y in tips:
            assert not (lab["x0"] < x < lab["x1"] and lab["y0"] < y < lab["y1"])
    # and each id is painted there, in its feature's colour (read back from the plane's canvas)
    painted = w.page.evaluate("""(labels) => { const S = window.animsupViewer.state, u = S.plane, r = devicePixelRatio || 1;
        const hex = (c) => [1, 3, 5].map((q) => parseInt(c.slice(q, q + 2), 16));
        return labels.map((lab) => {
          const x0 = Math.floor(lab.x0 * r), y0 = Math.floor(lab.y0 * r), w = Math.ceil((lab.x1 - lab.x0) * r), h = Math.ceil((lab.y1 - lab.y0) * r);
          const px = u.ctx.getImageData(x0, y0, w, h).data, c = hex(S.d.colors[S.sel][lab.feature]);
          let n = 0;
          for (let q = 0; q < px.length; q += 4) if (Math.abs(px[q] - c[0]) + Math.abs(px[q + 1] - c[1]) + Math.abs(px[q + 2] - c[2]) < 30) n++;
          return n; }); }""", labels)
    assert all(n >= 4 for n in painted), painted
    assert w.errors == []
    w.page.close()


def test_the_live_page_of_a_finished_log_does_not_say_following(browser, tmp_path):  # noqa: F811
    from animsup.viewer.server import make_server

    log = tmp_path / "done.jsonl"
    write_run(log, T=6)
    server = make_server(log)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        w = open_page(browser, server.url)
        meta = w.page.locator("header .meta").inner_text()
        assert "completed" in meta and "following" not in meta and "finished" in meta, meta
        polls = sum("payload.json" in u for u in w.requests)
        w.page.wait_for_timeout(2500)  # a following page polls every second; a finished one rarely
        assert sum("payload.json" in u for u in w.requests) == polls
        w.screenshot("viewer-live-finished.png")
        assert w.errors == []
        w.page.close()
    finally:
        server.shutdown()
        server.server_close()
