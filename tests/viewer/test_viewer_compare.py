"""Runs side by side as a page (``animsup render A B --out cmp.html``, issue 26): one panel per run,
one slider on the training step that moves every panel, a shared loss axis only when the losses
are comparable (and the page says so), per-feature norms of every run; ``--align log-time``."""

import numpy as np
import pytest

from animsup.cli import main
from animsup.errors import AnimsupError
from animsup.log.reader import read_log
from animsup.viewer.compare import compare_payload
from browser import Watched, browser  # noqa: F401  (the fixture)
from viewer_logs import write_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    a, b, c = d / "a.jsonl", d / "b.jsonl", d / "c.jsonl"
    write_run(a, T=12, k=2, n=6, step=10)  # steps 0..110
    write_run(b, T=6, k=1, n=6, step=25)  # steps 0..125: ends later, fewer snapshots
    write_run(c, T=6, k=1, n=8, m=3, step=20)  # another n: losses not comparable
    return a, b, c


def _open(browser, url):  # noqa: F811
    w = Watched(browser)
    w.page.goto(url)
    w.page.wait_for_function("() => window.animsupCompare !== undefined")
    return w


def test_the_page_moves_every_run_to_the_same_step(browser, runs, tmp_path):  # noqa: F811
    a, b, _ = runs
    out = tmp_path / "cmp.html"
    assert main(["render", str(a), str(b), "--out", str(out), "-q"]) == 0
    w = _open(browser, out.as_uri())
    assert w.page.locator(".panel").count() == 2 and w.errors == []
    assert w.requests == [out.as_uri()]  # offline: nothing fetched
    titles = w.page.locator(".run-title").all_inner_texts()
    assert titles[0].startswith("a.jsonl: ") and titles[1].startswith("b.jsonl: ")
    assert "losses comparable" in w.page.locator("#comparability").inner_text()
    logs = [read_log(a), read_log(b)]
    frames = w.page.evaluate("window.animsupCompare.data.frames")
    assert frames[0] == 0 and frames[-1] == 125 and len(frames) == 12  # earliest first .. latest last snapshot
    for f in (0, 5, 11):
        w.page.locator("#scrubber").fill(str(f))
        drawn = w.page.evaluate("window.animsupCompare.state.drawn")
        for r, run in enumerate(logs):
            t = int(np.argmin(np.abs(run.steps - frames[f])))  # the nearest snapshot (held after the run's end)
            sel = w.page.evaluate(f"window.animsupCompare.runs[{r}].instances[window.animsupCompare.runs[{r}].sel]")
            assert drawn[r]["step"] == run.steps[t] and drawn[r]["frameStep"] == frames[f]
            np.testing.assert_array_equal(np.array(drawn[r]["tips"], np.float32), run.W[t, sel].T)
        # the strip: ‖W_i‖ of each run's shown instance, and the largest difference between the runs
        norms = [np.sqrt((run.W[int(np.argmin(np.abs(run.steps - frames[f]))), 0].astype(np.float64) ** 2).sum(0))
                 for run in logs]
        got = w.page.evaluate("window.animsupCompare.state.norms")
        np.testing.assert_allclose(got["norms"], norms, rtol=1e-5)
        diff = np.max(norms, 0) - np.min(norms, 0)
        assert got["feature"] == int(np.argmax(diff)) and got["difference"] == pytest.approx(diff.max(), rel=1e-5)
    # one loss axis for both panels (the losses are comparable): the union of the runs' own ranges; one step range
    from animsup.viewer.payload import build_payload, plan_viewer

    own = [build_payload(plan_viewer(p)) for p in (a, b)]
    axes = w.page.evaluate("window.animsupCompare.axes()")
    assert axes[0] == axes[1]
    np.testing.assert_allclose(axes[0][2:], [min(o["loss_ylim"][0] for o in own), max(o["loss_ylim"][1] for o in own)])
    np.testing.assert_allclose(axes[0][:2], [min(o["loss_xlim"][0] for o in own), max(o["loss_xlim"][1] for o in own)])
    w.screenshot("compare-1280.png")
    w.page.close()


def test_not_comparable_losses_keep_their_own_axes_and_say_so(runs):
    a, _, c = runs
    data = compare_payload([a, c])
    assert data["comparable"] is False and data["loss_ylim"] is None and not data["same_n"]
    assert "NOT comparable" in data["note"] and "n=6 vs n=8" in data["note"]
    log_time = compare_payload([a, c], align="log-time")
    f = np.asarray(log_time["frames"])
    # evenly in log(1 + step): the steps' log-gaps are equal
    np.testing.assert_allclose(np.diff(np.log1p(f - f[0])), np.log1p(f[-1] - f[0]) / (len(f) - 1))
    assert log_time["align"] == "log-time" and log_time["loss_xscale"] == "asinh"
    with pytest.raises(AnimsupError, match="2 to 6 logs"):
        compare_payload([a])


def test_not_comparable_page_keeps_each_loss_axis_and_draws_the_heatmap(browser, runs, tmp_path):  # noqa: F811
    from animsup.viewer.compare import write_compare_html

    a, _, c = runs
    out = tmp_path / "cmp2.html"
    info = write_compare_html([a, c], out, align="log-time")
    assert "NOT comparable" in info["note"]
    w = _open(browser, out.as_uri())
    assert "NOT comparable" in w.page.locator("#comparability").inner_text()
    axes = w.page.evaluate("window.animsupCompare.axes()")
    assert axes[0][:2] == axes[1][:2] and axes[0][2:] != axes[1][2:]  # one step range, each its own loss range
    gram = np.array(w.page.evaluate("window.animsupCompare.state.drawn[1].gram")).reshape(8, 8)
    W = read_log(c).W[-1, 0].astype(np.float64)
    np.testing.assert_allclose(gram, W.T @ W, rtol=1e-5, atol=1e-6)
    assert "differ in n_features" in w.page.locator("body").inner_text() and w.errors == []
    w.screenshot("compare-not-comparable.png")
    w.page.close()
