"""Issue 23, the viewer's side of the Hessian: the payload's "hessian" entry carries the sidecar's
spectrum (numbers only) in the page's instance order, and the page's Hessian charts draw the selected
instance's eigenvalues and counts, follow the instance picked and the step slider (the cursor), and
are absent without a measured Hessian."""

import numpy as np

import animsup
from animsup.log.measurements import Measurements, write_measurements
from animsup.viewer import write_html
from animsup.viewer.payload import build_payload, plan_viewer
from browser import browser, open_page, state  # noqa: F401  (the fixture)
from test_viewer import f32
from viewer_logs import weights

N, M, K, T = 4, 2, 3, 8
STEPS = [0, 20, 40, 60, 70]        # 5 of the 8 snapshots measured
MEASURED = (0, 2)                   # instance 1 not measured


def _log(path):
    with animsup.Recorder(path, n_features=N, n_hidden=M, n_instances=K) as rec:
        for t in range(T):
            rec.snapshot(t * 10, W=weights(t, T, n=N, m=M, k=K), loss=np.full(K, 0.1 / (t + 1)))
    return path


def _spectrum():
    """Eigenvalues [T', 2, E = 6] descending: two large, then small, the lowest negative early
    (a saddle) and near zero late; the threshold 1e-3 · max |λ|."""
    rng = np.random.default_rng(0)
    ev = np.sort(rng.uniform(0.01, 0.5, (len(STEPS), 2, 6)), axis=2)[:, :, ::-1].copy()
    ev[:, :, -1] = np.linspace(-0.05, 1e-6, len(STEPS))[:, None] * [1.0, 2.0]
    ev[:, :, -2] = -3e-5                                     # inside the band: near zero
    thr = 1e-3 * np.abs(ev).max(2)
    deg = (np.abs(ev) <= thr[..., None]).sum(2).astype(float)
    return ev, thr, deg


def _measured(tmp_path):
    log = _log(tmp_path / "h.jsonl")
    ev, thr, deg = _spectrum()
    hess = {"settings": {"method": "exact", "parameters": 6, "rel_tol": 1e-3, "threshold": "<b>not shown</b>"},
            "eigenvalues": ev, "degeneracy": deg, "threshold": thr}
    write_measurements(log, Measurements(steps=np.asarray(STEPS), instances=MEASURED, hessian=hess))
    return log, ev, thr, deg


def test_the_payload_entry_is_the_sidecars_spectrum_in_page_order(tmp_path):
    log, ev, thr, deg = _measured(tmp_path)
    p = build_payload(plan_viewer(log))
    h, order = p["hessian"], p["instances"]
    k = len(order)
    assert h["steps"] == STEPS and h["lines"] == 3 and h["eigenvalues"] == 6 and h["parameters"] == 6
    assert h["exact"] is True and h["rel_tol"] == 1e-3
    top = f32(h["top"]).reshape(len(STEPS), k, 3)
    for name, arr in (("lowest", ev[:, :, -1]), ("threshold", thr), ("degeneracy", deg)):
        got = f32(h[name]).reshape(len(STEPS), k)
        for q, inst in enumerate(order):
            if inst in MEASURED:
                np.testing.assert_allclose(got[:, q], arr[:, MEASURED.index(inst)], rtol=1e-6)
            else:
                assert np.isnan(got[:, q]).all()
    for q, inst in enumerate(order):
        if inst in MEASURED:
            np.testing.assert_allclose(top[:, q], ev[:, MEASURED.index(inst), :3], rtol=1e-6)
            neg = f32(h["negative"]).reshape(len(STEPS), k)[:, q]
            np.testing.assert_array_equal(neg, (ev[:, MEASURED.index(inst)] < -thr[:, MEASURED.index(inst), None]).sum(1))
    # numbers only: the sidecar's strings (its settings' text) never reach the page
    assert "not shown" not in str(h)


def test_no_hessian_no_entry(tmp_path):
    log = _log(tmp_path / "bare.jsonl")
    assert build_payload(plan_viewer(log))["hessian"] is None


def _cursor_red(w, chart, step):
    """Share of the chart's plot column at ``step`` in the cursor's red."""
    return w.page.evaluate(f"""(() => {{
      const u = window.animsupViewer.state.{chart}, x = Math.round(u.valToPos({step}, "x", true));
      const px = u.ctx.getImageData(x, u.bbox.top, 1, u.bbox.height).data;
      let red = 0;
      for (let q = 0; q < px.length; q += 4) if (px[q] > 180 && px[q + 1] < 90 && px[q + 2] < 90) red++;
      return red / (px.length / 4);
    }})()""")


def test_the_charts_draw_the_selected_instance_and_follow_the_slider(browser, tmp_path):  # noqa: F811
    log, ev, thr, deg = _measured(tmp_path)
    write_html(log, tmp_path / "h.html")
    w = open_page(browser, (tmp_path / "h.html").as_uri())
    order = state(w, "S.d.instances")
    for inst in MEASURED:
        w.page.evaluate(f"window.animsupViewer.select({order.index(inst)})")
        col = MEASURED.index(inst)
        e = ev[:, col]
        assert state(w, "S.hessChart.data[0]") == STEPS
        for q in range(3):
            np.testing.assert_allclose(state(w, f"S.hessChart.data[{q + 1}]"), e[:, q], rtol=1e-6)
        np.testing.assert_allclose(state(w, "S.hessChart.data[4]"), e[:, -1], rtol=1e-6)
        marked = state(w, "S.hessChart.data[5]")                    # the negative points: where λ_min < −threshold
        assert [v is not None for v in marked] == (e[:, -1] < -thr[:, col]).tolist()
        np.testing.assert_allclose(state(w, "S.hessChart.data[6]"), thr[:, col], rtol=1e-6)
        np.testing.assert_allclose(state(w, "S.hessCount.data[1]"), deg[:, col])
        np.testing.assert_allclose(state(w, "S.hessCount.data[2]"), (e < -thr[:, col, None]).sum(1))
        assert f"(instance {inst})" in w.page.locator("#hessian-title").inner_text()
    w.page.evaluate(f"window.animsupViewer.select({order.index(1)})")  # not measured: no points
    assert state(w, "S.hessChart.data[1]") == [None] * len(STEPS)
    assert "all 6 eigenvalues (exact)" in w.page.locator("#hessian-note").inner_text()
    assert "|λ| ≤ 0.001·max|λ|" in w.page.locator("#hessian-note").inner_text()
    assert w.page.locator("#hessian canvas").count() == 1 and w.page.locator("#hessian-count canvas").count() == 1
    # the cursor follows the step slider on both charts
    w.page.evaluate(f"window.animsupViewer.select({order.index(0)}); window.animsupViewer.setIndex(2)")
    w.page.wait_for_timeout(50)
    s2 = state(w, "S.d.steps[2]")
    assert _cursor_red(w, "hessChart", s2) > 0.5 and _cursor_red(w, "hessCount", s2) > 0.5
    w.page.evaluate("window.animsupViewer.setIndex(6)")
    w.page.wait_for_timeout(50)
    s6 = state(w, "S.d.steps[6]")
    assert _cursor_red(w, "hessChart", s6) > 0.5 and _cursor_red(w, "hessChart", s2) < 0.1
    assert w.errors == []
    w.screenshot("viewer-hessian.png")
    w.page.close()


def test_no_sidecar_no_hessian_chart(browser, tmp_path):  # noqa: F811
    log = _log(tmp_path / "bare.jsonl")
    write_html(log, tmp_path / "bare.html")
    w = open_page(browser, (tmp_path / "bare.html").as_uri())
    assert state(w, "S.hessChart") is None and w.page.locator("#hessian canvas").count() == 0
    assert w.page.locator("#hessian-title").inner_text() == "" and w.errors == []
    w.page.close()
