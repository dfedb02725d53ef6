"""A finite-data run's training examples in the viewer (payload.py's _datapoints, viewer.js's data-point
section): the payload carries the drawn examples sparse (the same as the video's); the page draws
h = W x at each snapshot for the selected instance (checked against a dense product), with its key;
an older finite log: the render's note on the page."""

import base64

import numpy as np

from animsup.viewer import write_html
from animsup.viewer.payload import build_payload, plan_viewer
from browser import browser, open_page, state  # noqa: F401  (the fixture)
from finite_logs import sparse_set, write_finite_log


def _f32(s):
    return np.frombuffer(base64.b64decode(s), "<f4")


def test_payload_carries_the_sparse_sets_and_an_old_log_the_note(tmp_path):
    sets = [sparse_set(9, 3, 0), sparse_set(9, 20, 1)]
    log = write_finite_log(tmp_path / "f.jsonl", sets, np.ones((2, 2, 2, 9)) * 0.2)
    p = build_payload(plan_viewer(log))
    items = p["datapoints"]["items"]
    assert [it["key"] for it in items] == ["training examples h = W x (T = 3)", "training examples h = W x (T = 20)"]
    for it in items:
        x = np.zeros((9, it["drawn"]), np.float32)
        x[_f32(it["feature"]).astype(int), _f32(it["example"]).astype(int)] = _f32(it["value"])
        np.testing.assert_array_equal(x, sets[p["instances"][it["column"]]])
    old = write_finite_log(tmp_path / "old.jsonl", sets, np.ones((2, 2, 2, 9)) * 0.2, stored=False)
    assert build_payload(plan_viewer(old))["datapoints"]["note"].startswith("the training examples are not drawn")


def test_page_draws_w_x_of_the_selected_instance(browser, tmp_path):  # noqa: F811
    sets = [sparse_set(9, 3, 0), sparse_set(9, 20, 1)]
    Ws = np.random.default_rng(2).normal(size=(3, 2, 2, 9)).astype(np.float32) * 0.4
    log = write_finite_log(tmp_path / "f.jsonl", sets, Ws)
    out = tmp_path / "f.html"
    write_html(log, out)
    w = open_page(browser, out.as_uri())
    order = state(w, "S.d.instances")
    for col in (0, 1):
        w.page.evaluate(f"window.animsupViewer.select({col})")
        for t in (0, 2):
            w.page.evaluate(f"window.animsupViewer.setIndex({t})")
            w.page.wait_for_timeout(30)
            drawn = state(w, "S.drawnData")
            i = order[col]
            assert drawn["instance"] == i and drawn["step"] == 10 * t
            want = (Ws[t, i].astype(np.float64) @ sets[i]).T
            np.testing.assert_allclose(np.array(drawn["points"]).reshape(-1, 2), want, rtol=1e-5, atol=1e-6)
        T = sets[order[col]].shape[1]
        assert f"training examples h = W x (T = {T})" in w.page.inner_text("#plane-legend")
    assert w.errors == []
    w.page.close()
