"""Issue 23 (newcomer item 10): on a log-spaced run (the asinh step axis) the LLC chart and the
Hessian count chart label the same step ticks as the loss chart: 0 and powers of ten inside the
range, no stray "-1" left of 0 (uPlot's own asinh splits put one there)."""

import numpy as np

import animsup
from animsup.log.measurements import Measurements, write_measurements
from animsup.viewer import write_html
from browser import browser, open_page, state  # noqa: F401  (the fixture)
from viewer_logs import weights

N, M, K = 4, 2, 1
SNAPS = [0, 1, 2, 3, 5, 8, 13, 20, 50, 120, 300, 700, 1500]


def _log(path):
    T = len(SNAPS)
    with animsup.Recorder(path, n_features=N, n_hidden=M, n_instances=K) as rec:
        for t, s in enumerate(SNAPS):
            rec.snapshot(s, W=weights(t, T, n=N, m=M, k=K), loss=np.full(K, 0.1 / (t + 1)))
    T = len(SNAPS)
    ev = np.sort(np.random.default_rng(0).normal(size=(T, K, 6)), -1)[..., ::-1].copy()
    thr = np.full((T, K), 1e-3)
    llc = {"settings": {"chains": 2}, "mean": np.full((T, K), 1.0), "std": np.full((T, K), 0.1),
           "chains": np.ones((T, K, 2)), "init_loss": np.zeros((T, K)), "diverged": np.zeros((T, K)),
           "settled": np.ones((T, K), bool), "trace": np.zeros((T, K, 3))}
    hess = {"settings": {"method": "exact", "parameters": 6, "rel_tol": 1e-3}, "eigenvalues": ev,
            "degeneracy": np.zeros((T, K)), "threshold": thr}
    write_measurements(path, Measurements(steps=np.asarray(SNAPS), instances=(0,), llc=llc, hessian=hess))
    return path


def test_the_small_charts_step_ticks_are_the_loss_charts(browser, tmp_path):  # noqa: F811
    log = _log(tmp_path / "t.jsonl")
    write_html(log, tmp_path / "t.html")
    w = open_page(browser, (tmp_path / "t.html").as_uri())
    for width in (1024, 1440):
        w.page.set_viewport_size({"width": width, "height": 900})
        w.page.wait_for_timeout(200)
        assert state(w, "S.d.loss_xscale") == "asinh"
        loss = state(w, "S.loss.axes[0]._values")
        assert loss[:3] == ["0", "1", "10"]
        for chart in ("llcChart", "hessCount"):
            labels = state(w, f"S.{chart}.axes[0]._values")
            assert "-1" not in labels and labels == loss, (chart, labels)
    assert w.errors == []
    w.page.close()
