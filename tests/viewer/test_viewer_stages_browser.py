"""The viewer in a real browser (tests/viewer/browser.py) on a staged run with feature sets: the readout
names the current stage's 1 − S while scrubbing, the page draws the set colours, no errors."""

import numpy as np

from animsup.log.schema import make_header
from animsup.log.writer import LogWriter
from animsup.viewer import write_html
from animsup.viewer.payload import build_payload, plan_viewer
from browser import Watched, browser  # noqa: F401  (the fixture)


def _staged_sets_log(path, T=10, n=4):
    st = [{"start_step": 0, "feature_probability": [[1.0] * n], "note": ""},
          {"start_step": 50, "feature_probability": [[0.1] * n], "note": ""}]
    hdr = make_header(n_features=n, n_hidden=2, model="tied", feature_probability=[1.0], seed=[0],
                      importance=[1.0] * n, config={}, stages=st,
                      data={"kind": "uniform", "correlated_sets": [[0, 1]], "anticorrelated_sets": [[2, 3]]})
    rng = np.random.default_rng(0)
    with LogWriter(path, hdr, force=True) as w:
        for t in range(T):
            w.snapshot(t * 10, np.full(1, 0.01 / (t + 1)), rng.normal(0, 0.6, (1, 2, n)), np.zeros((1, n)))
        w.end("completed", (T - 1) * 10, 1.0)
    return path


def test_readout_names_the_stage_and_colours_follow_the_sets(browser, tmp_path):  # noqa: F811
    log = _staged_sets_log(tmp_path / "st.jsonl")
    out = tmp_path / "st.html"
    write_html(log, out)
    colors = build_payload(plan_viewer(log))["colors"][0]
    w = Watched(browser)
    w.page.goto(out.as_uri())
    w.page.wait_for_function("() => window.animsupViewer && window.animsupViewer.state.d !== null")
    for t, text in ((0, "1-S 1 (stage 1/2)"), (4, "1-S 1 (stage 1/2)"), (5, "1-S 0.1 (stage 2/2)"), (9, "1-S 0.1 (stage 2/2)")):
        w.page.locator("#scrubber").fill(str(t))
        assert w.page.locator("#readout-main").inner_text().rstrip().endswith(text), t
    page_colors = w.page.evaluate("window.animsupViewer.state.d.colors[0]")
    assert page_colors == colors and len(set(colors)) == 4
    assert w.errors == []
    w.page.close()
