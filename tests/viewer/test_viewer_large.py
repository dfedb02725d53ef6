"""The viewer's summary of a large model (animsup.viewer.large): the payload carries per-snapshot
summaries (no W) equal to direct numpy computations, is small, and the page draws its charts."""

import base64
import json

import numpy as np

from animsup.analysis import large
from animsup.log.recorder import write_arrays
from animsup.rendering.config import RenderConfig
from animsup.viewer import write_html
from animsup.viewer.payload import build_payload, plan_viewer
from browser import Watched, browser  # noqa: F401  (the fixture)


def _f32(s, shape):
    return np.frombuffer(base64.b64decode(s), "<f4").reshape(shape)


def _log(path, n=30, m=4, T=4, k=2):
    rng = np.random.default_rng(2)
    W = rng.normal(0, 0.5, (T, k, m, n)).astype(np.float32)
    write_arrays(W, path, loss=np.linspace(1, 0.1, T * k).reshape(T, k), feature_probability=[np.full(n, 0.1)] * k)
    return path, W.astype(np.float64)


def test_payload_summary_equals_numpy(tmp_path, monkeypatch):
    log, W = _log(tmp_path / "a.jsonl")
    T, k, m, n = W.shape
    assert "summary" not in build_payload(plan_viewer(log))  # 30 features: the full view
    monkeypatch.setattr(large, "SUMMARY_ABOVE", 29)
    p = build_payload(plan_viewer(log))
    assert p["W"] is None and p["norms"] is None and p["b"] is None
    s = p["summary"]
    B = len(s["rank_x"])
    rank = _f32(s["rank"], (T, k, 3, B))
    dims = _f32(s["dims_hist"], (T, k, large.HIST_BINS))
    scal = _f32(s["scalars"], (T, k, 5))
    edges = large.rank_edges(n)
    for t in range(T):
        for q, i in enumerate(p["instances"]):
            w = W[t, i]
            norms = np.linalg.norm(w, axis=0)
            np.testing.assert_allclose(rank[t, q, 1], [np.median(norms[a:b]) for a, b in zip(edges[:-1], edges[1:])],
                                       rtol=1e-5)
            D = norms**2 / (((w / norms).T @ w) ** 2).sum(1)
            np.testing.assert_array_equal(dims[t, q], np.histogram(D, bins=large.HIST_BINS, range=(0, 1))[0])
            np.testing.assert_allclose(scal[t, q, :3], [np.mean(norms > 0.5), D.mean(), D.sum()], rtol=1e-5)
            assert s["n_represented"][t][q] == int((norms > 0.5).sum())
    # the page's size does not grow with n × m: a few KB per snapshot
    assert len(json.dumps(s)) < 4 * 3000 * T


def test_page_draws_the_summary(browser, tmp_path):  # noqa: F811
    log, W = _log(tmp_path / "b.jsonl", k=1)
    out = tmp_path / "b.html"
    write_html(log, out, RenderConfig(view="summary"))
    w = Watched(browser)
    w.page.goto(out.as_uri())
    w.page.wait_for_function("() => window.animsupViewer && window.animsupViewer.state.d !== null")
    w.page.locator("#scrubber").fill("1")
    drawn = w.page.evaluate("window.animsupViewer.state.drawn")
    norms = np.linalg.norm(W[1, 0], axis=0)
    assert drawn["t"] == 1 and drawn["represented"] == int((norms > 0.5).sum())
    assert abs(drawn["summary"][0] - np.mean(norms > 0.5)) < 1e-6
    for cid in ("summary-rank", "summary-dims", "summary-overlap"):  # each chart has blue marks
        blue = w.page.evaluate(f"""(() => {{ const c = document.getElementById("{cid}");
            const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; let k = 0;
            for (let q = 0; q < px.length; q += 4) if (px[q + 2] > 150 && px[q] < 80 && px[q + 3] > 200) k++;
            return k; }})()""")
        assert blue > 20, cid
    assert not w.page.locator("#plane").is_visible()
    assert "φ½" in w.page.locator("#summary-numbers").inner_text()
    assert w.errors == []
    w.page.close()


def test_payload_names_each_instances_x_axis(tmp_path, monkeypatch):
    # equal 1 - S in every feature: the x axis is the feature index, not a frequency rank
    log, _ = _log(tmp_path / "a.jsonl")
    monkeypatch.setattr(large, "SUMMARY_ABOVE", 29)
    assert build_payload(plan_viewer(log))["summary"]["rank_label"] == [large.INDEX_LABEL] * 2


def test_the_loss_note_says_what_blue_is(tmp_path):
    # blue is the moving average only when there is one (smooth > 1); as logged, the note says so
    from animsup.rendering import plan as rp
    from animsup.viewer.payload import loss_labels

    log, _ = _log(tmp_path / "a.jsonl", T=12)
    for smooth in (1, 3):
        scene = rp.build_plan(log, RenderConfig(smooth=smooth), video=True).scene
        labels = loss_labels(scene, "instance")
        assert ("moving average" in labels["smooth"]) == (smooth > 1)
        assert ("its moving average" in labels["note"]) == (smooth > 1)
        assert ("as logged" in labels["note"]) == (smooth == 1)
