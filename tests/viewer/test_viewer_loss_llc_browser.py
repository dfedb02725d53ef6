"""Issue 21 item 6 and issue 23, the viewer's side: its readout shows the video's loss (the moving
average, `Scene.readout_loss`, with the video's label), not a snapshot's one-batch loss; the LLC
over training from a log's `animsup measure --llc` sidecar is a small chart under the loss, absent
without a sidecar."""

import numpy as np
import pytest

import animsup
from animsup.log.measurements import Measurements, write_measurements
from animsup.log.reader import read_log
from animsup.rendering import plan as rp
from animsup.rendering.config import RenderConfig
from animsup.viewer import write_html
from animsup.viewer.payload import build_payload, plan_viewer
from browser import browser, open_page, state  # noqa: F401  (the fixture)
from test_viewer import f32
from viewer_logs import weights

N, M, SMOOTH = 5, 2, 15


def _noisy_log(path, k=1, T=12, every=40):
    """A loss logged every step, noisy (±40 % alternating around a decay), snapshots every ``every``
    steps whose own loss is that step's noisy one-batch value."""
    rng = np.random.default_rng(1)
    with animsup.Recorder(path, n_features=N, n_hidden=M, n_instances=k) as rec:
        for s in range(T * every):
            loss = (0.1 * np.exp(-s / 200) + 1e-3) * (1 + 0.4 * (-1) ** s + 0.1 * rng.normal(size=k)) * (1 + np.arange(k))
            rec.loss(s, loss)
            if s % every == 0:
                rec.snapshot(s, W=weights(s // every, T, n=N, m=M, k=k), loss=loss)
    return path


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    d = tmp_path_factory.mktemp("noisy")
    log = _noisy_log(d / "noisy.jsonl")
    out = d / "noisy.html"
    write_html(log, out, smooth=SMOOTH)
    return log, out


def test_the_payload_readout_is_the_videos_readout_at_each_snapshot(noisy):
    log, _ = noisy
    p = build_payload(plan_viewer(log, smooth=SMOOTH))
    # the video's scene, planned on its own (as `animsup render LOG --smooth 15` does)
    scene = rp.build_plan(log, RenderConfig(smooth=SMOOTH), video=True).scene
    steps = np.array(p["steps"])
    video = scene.readout_loss(steps)[:, 0]
    page = f32(p["readout_loss"])
    np.testing.assert_allclose(page, video, rtol=1e-6)
    assert p["loss_labels"]["label"] == scene.loss_label == f"loss (moving average of {SMOOTH} logged losses)"
    assert p["loss_labels"]["readout"] == scene.readout_name == "avg loss"
    # not the one-batch loss: the noise is ±40 %, the moving average's residue a few %
    batch = read_log(log).loss[:, 0]
    assert np.median(np.abs(page / batch - 1)) > 0.2


@pytest.mark.parametrize("t", [3, 9])
def test_the_page_readout_shows_the_videos_label_and_number(browser, noisy, t):  # noqa: F811
    log, out = noisy
    scene = rp.build_plan(log, RenderConfig(smooth=SMOOTH), video=True).scene
    w = open_page(browser, out.as_uri())
    w.page.evaluate(f"window.animsupViewer.setIndex({t})")
    step = state(w, "S.d.steps[S.t]")
    value = float(np.float32(scene.readout_loss([step])[0, 0]))  # the page carries float32
    text = w.page.locator("#readout").inner_text()
    assert f"avg loss {value:.3e}" in text, text  # the video's readout format ("{:.3e}")
    assert scene.loss_label in text and w.errors == []
    w.page.close()


def _llc_sidecar(log, instances, steps):
    rng = np.random.default_rng(0)
    T, K = len(steps), len(instances)
    mean = 2.0 + np.cumsum(rng.uniform(0, 0.5, (T, K)), axis=0)
    llc = {"settings": {"chains": 4, "draws": 50}, "mean": mean, "std": rng.uniform(0.05, 0.2, (T, K)),
           "chains": np.zeros((T, K, 4)), "init_loss": np.ones((T, K)), "diverged": np.zeros((T, K)),
           "settled": np.ones((T, K), bool), "trace": np.zeros((T, K, 3))}
    write_measurements(log, Measurements(steps=np.asarray(steps), instances=tuple(instances), llc=llc))
    return mean, llc["std"]


def test_the_llc_chart_shows_the_sidecars_curve_of_the_shown_instance(browser, tmp_path):  # noqa: F811
    log = _noisy_log(tmp_path / "llc.jsonl", k=3, T=8)
    steps = [0, 80, 160, 240, 280]  # 5 of the 8 snapshots, instances 0 and 2 measured
    mean, std = _llc_sidecar(log, (0, 2), steps)
    write_html(log, tmp_path / "llc.html")
    w = open_page(browser, (tmp_path / "llc.html").as_uri())
    order = state(w, "S.d.instances")
    for inst in (0, 2):
        w.page.evaluate(f"window.animsupViewer.select({order.index(inst)})")
        col = (0, 2).index(inst)
        assert state(w, "S.llcChart.data[0]") == steps  # one point per measured snapshot
        np.testing.assert_allclose(state(w, "S.llcChart.data[1]"), mean[:, col], rtol=1e-6)
        np.testing.assert_allclose(state(w, "S.llcChart.data[2]"), mean[:, col] + std[:, col], rtol=1e-5)
        np.testing.assert_allclose(state(w, "S.llcChart.data[3]"), mean[:, col] - std[:, col], rtol=1e-5)
        assert f"(instance {inst})" in w.page.locator("#llc-title").inner_text()
    w.page.evaluate(f"window.animsupViewer.select({order.index(1)})")  # not measured: no points
    assert state(w, "S.llcChart.data[1]") == [None] * 5
    assert "learning coefficient" in w.page.locator("#llc-title").inner_text()
    assert "4 SGLD chains of 50 draws at 5 snapshots" in w.page.locator("#llc-note").inner_text()
    assert w.page.locator("#llc canvas").count() == 1 and w.errors == []
    w.page.evaluate(f"window.animsupViewer.select({order.index(0)}); window.animsupViewer.setIndex(4)")
    w.screenshot("viewer-llc.png")
    w.page.close()


def test_no_sidecar_no_llc_chart(browser, noisy):  # noqa: F811
    log, out = noisy
    assert build_payload(plan_viewer(log))["llc"] is None
    w = open_page(browser, out.as_uri())
    assert state(w, "S.llcChart") is None and w.page.locator("#llc canvas").count() == 0
    assert w.page.locator("#llc-title").inner_text() == "" and w.errors == []
    w.page.close()


def test_the_live_viewer_picks_up_a_sidecar_written_while_it_runs(tmp_path):
    import json

    from animsup.viewer.server import LogFollower

    log = _noisy_log(tmp_path / "live.jsonl", k=1, T=4)
    follower = LogFollower(log)
    rev, body, _ = follower.payload()
    assert json.loads(body)["llc"] is None
    _llc_sidecar(log, (0,), [0, 40, 80])
    rev2, body2, _ = follower.payload()
    assert rev2 != rev and json.loads(body2)["llc"]["steps"] == [0, 40, 80]
