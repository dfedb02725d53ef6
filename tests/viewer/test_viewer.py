"""The viewer's data and page without a browser: what the page is built from, its budget,
the subsampling rule, the CLI's .html output, the live server's HTTP answers, show()."""

import base64
import json
import re
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from animsup.analysis import geometry
from animsup.cli import main
from animsup.log.reader import read_log
from animsup.viewer.payload import build_payload, plan_viewer, snapshot_limit, subsample
from viewer_logs import write_run


def f32(b64):
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def page_data(html):
    m = re.search(r'<script id="animsup-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_payload_carries_the_logged_weights_and_the_librarys_quantities(tmp_path):
    log = tmp_path / "run.jsonl"
    Ws = write_run(log, T=12, k=3)
    p = build_payload(plan_viewer(log))
    run = read_log(log)
    T, k, m, n = Ws.shape
    np.testing.assert_array_equal(f32(p["W"]).reshape(T, k, m, n), run.W)  # exactly the float32 in the log
    np.testing.assert_array_equal(f32(p["b"]).reshape(T, k, n), run.b)
    np.testing.assert_allclose(f32(p["dims"]).reshape(T, k, n), geometry.dimensionality(run.W.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(f32(p["norms"]).reshape(T, k, n), geometry.feature_norms(run.W.astype(np.float64)), rtol=1e-6)
    assert p["steps"] == run.steps.tolist()
    t, i = 11, 2
    assert p["shape_names"][p["shape"][t][i]] == geometry.describe(run.W[t, i]).label()
    assert p["polygon"][t][i] == list(geometry.describe(run.W[t, i]).order)
    assert p["instances"] == [0, 1, 2] and p["selected"] == 0  # best = lowest final loss (instance 0 here)
    assert p["status"] == "completed" and p["rule"] == "all 12 snapshots"


def test_subsampling_keeps_first_and_last_and_states_the_rule():
    idx, rule = subsample(100_000, 2000)
    assert len(idx) == 2000 and idx[0] == 0 and idx[-1] == 99_999 and np.all(np.diff(idx) > 0)
    assert "2,000 of 100,000 snapshots, evenly spaced" in rule
    assert subsample(50, 2000)[1] == "all 50 snapshots"
    # the budget: a 16-instance n=32 page keeps every one of 200 snapshots
    assert snapshot_limit(16, 2, 32, False) >= 200


def test_a_long_log_is_subsampled_on_the_page(tmp_path):
    log = tmp_path / "run.jsonl"
    write_run(log, T=40)
    plan = plan_viewer(log, max_snapshots=7)
    assert list(plan.snapshots) == [0, 6, 13, 20, 26, 32, 39]  # round(linspace(0, 39, 7)), halves to even
    p = build_payload(plan)
    assert len(p["steps"]) == 7 and "7 of 40 snapshots" in p["rule"]


def test_render_out_html_is_self_contained(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    write_run(log, T=10, k=4, n=6)
    out = tmp_path / "run.html"
    assert main(["render", str(log), "--out", str(out), "--instance", "2"]) == 0
    assert "4 instances" in capsys.readouterr().out
    html = out.read_text()
    # no reference to any other host: no src=/href= URLs, no fetch of a remote address
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert "default-src 'none'" in html  # the page's CSP forbids loading anything
    assert "uPlot" in html and "The MIT License" in html  # vendored chart library with its licence
    d = page_data(html)
    assert d["selected"] == 2 and d["n_features"] == 6


def test_render_html_errors_are_one_line(tmp_path, capsys):
    log = tmp_path / "run.jsonl"
    write_run(log, T=3)
    assert main(["render", str(log), "--out", str(tmp_path / "x.html"), "--instance", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "instance 5 does not exist" in err
    assert main(["render", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "x.html")]) == 2
    assert not (tmp_path / "x.html").exists()


def test_a_heatmap_log_and_an_untied_log_build(tmp_path):
    log = tmp_path / "h.jsonl"
    write_run(log, T=5, n=20, m=5)
    p = build_payload(plan_viewer(log))
    assert p["n_hidden"] == 5 and p["gram_max"] > 0 and p["polygon"] == []
    # the heatmap names the shape as analysis.geometry does (what `animsup inspect` prints)
    from animsup.analysis import geometry
    from animsup.log.reader import read_log

    run = read_log(log)
    assert [p["shape_names"][p["shape"][t][0]] for t in range(5)] == [geometry.describe(run.W[t, 0]).label()
                                                                     for t in range(5)]
    log2 = tmp_path / "u.jsonl"
    write_run(log2, T=5, model="untied")
    p2 = build_payload(plan_viewer(log2))
    assert p2["W_dec"] is not None


def test_a_log_without_loss_records_uses_the_snapshot_losses(tmp_path):
    log = tmp_path / "run.jsonl"
    write_run(log, T=8, loss_rows=0)
    p = build_payload(plan_viewer(log))
    assert p["loss_source"] == "snapshots" and p["has_loss"]


# ---------------------------------------------------------------- the live server


@pytest.fixture
def served(tmp_path):
    from animsup.viewer.server import make_server

    log = tmp_path / "run.jsonl"
    write_run(log, T=6, end=False)
    server = make_server(log)
    th = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    yield server, log
    server.shutdown()
    server.server_close()


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_server_serves_only_the_viewer_and_its_data_on_loopback(served):
    server, _ = served
    assert server.server_address[0] == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")
    code, body = get(server.url)
    assert code == 200 and b"animsup-data" in body
    code, body = get(server.url + "payload.json")
    data = json.loads(body)
    assert code == 200 and len(data["steps"]) == 6 and data["status"] == "unfinished"
    assert get(server.url + f"payload.json?since={data['revision']}")[0] == 204  # nothing new
    for path in ("run.jsonl", "../run.jsonl", "etc/passwd", "static/viewer.js"):
        assert get(server.url + path)[0] == 404
    assert get(server.url, {"Host": "evil.example:80"})[0] == 403  # DNS rebinding


def test_view_rejects_a_missing_log_and_a_file_that_is_no_log(tmp_path, capsys):
    assert main(["view", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    assert main(["view", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.txt" in err


# ---------------------------------------------------------------- notebooks


def test_show_displays_itself_as_a_sandboxed_frame_with_a_poster(tmp_path):
    import animsup

    log = tmp_path / "run.jsonl"
    write_run(log, T=6, k=2)
    v = animsup.show(read_log(log))
    bundle = v._repr_mimebundle_()
    assert re.match(r'<iframe id="animsup-\w+" class="animsup-viewer" sandbox="allow-scripts" style="width:100%',
                    bundle["text/html"])
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"  # fallback without HTML
    assert "&lt;noscript&gt;&lt;img" in bundle["text/html"]  # fallback without scripts
    with pytest.raises(animsup.errors.AnimsupError, match="no such file"):
        animsup.show(tmp_path / "missing.jsonl")


def test_show_takes_a_run_made_in_memory_and_a_run_of_chosen_instances(tmp_path):
    import animsup

    rng = np.random.default_rng(1)
    run = animsup.from_arrays(rng.normal(size=(5, 3, 2, 4)), loss=rng.random((5, 3)) + 1)  # no file behind it
    assert run.path == "<memory>"
    v = animsup.show(run, poster=False)
    assert v.summary.startswith("<memory>, 3 instances")
    log = tmp_path / "big.jsonl"
    write_run(log, T=6, k=4)
    part = read_log(log, instances=[1, 3])
    page = animsup.show(part, poster=False)
    assert page.summary.startswith("big.jsonl, 2 instances")  # the Run's instances, not the file's four
    assert [p.name for p in tmp_path.iterdir()] == ["big.jsonl"]  # nothing written beside the log
    assert "big.jsonl" in page.page and "run.jsonl" not in page.page  # its own name, not the temporary log's


def test_view_prints_its_loopback_url_and_stops_cleanly_on_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    log = tmp_path / "run.jsonl"
    write_run(log, T=4)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "animsup", "view", str(log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert get(url + "payload.json")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and out.strip() == "stopped" and err == ""


def test_an_imported_c_log_gets_a_page(tmp_path, capsys):
    from pathlib import Path

    log = tmp_path / "c.jsonl"
    small = Path(__file__).parents[1] / "data" / "c_log" / "small.log"
    assert main(["import", "--format", "c-log", str(small), "--out", str(log)]) == 0
    out = tmp_path / "c.html"
    assert main(["render", str(log), "--out", str(out)]) == 0
    d = page_data(out.read_text())
    run = read_log(log)
    assert d["steps"] == run.steps.tolist() and d["n_features"] == run.header.n_features
    np.testing.assert_array_equal(f32(d["W"]), run.W.ravel())


def test_render_writes_html_and_video_from_one_call(tmp_path):
    import animsup

    log = tmp_path / "run.jsonl"
    write_run(log, T=5, k=2)
    res = animsup.render(log, [tmp_path / "a.html", tmp_path / "a.png"], instance=1)
    assert res.paths == [str(tmp_path / "a.html"), str(tmp_path / "a.png")]
    assert page_data((tmp_path / "a.html").read_text())["selected"] == 1
    assert 'class="animsup-viewer"' in res._repr_html_()  # the result displays itself


def test_the_page_and_the_video_share_one_plan(tmp_path):
    """The page's fixed parts are the video's (plan.build_plan with the same options, grid)."""
    from animsup.rendering.plan import build_plan
    from animsup.rendering.config import RenderConfig

    log = tmp_path / "run.jsonl"
    write_run(log, T=9, k=3, loss_rows=4)
    p = build_payload(plan_viewer(log, RenderConfig(smooth=3, instance=1)))
    video = build_plan(str(log), RenderConfig(grid=True, smooth=3), video=True)
    sc = video.scene
    assert p["title"] == sc.title
    assert p["labels"] == [t[0].removeprefix(f"#{i}").strip() for i, t in zip(video.instances, sc.instance_labels)]
    assert p["lim"] == sc.lim and p["gram_max"] == sc.gram_max and p["b_range"] == list(sc.b_range)
    assert p["loss_xlim"] == list(sc.loss_xlim) and p["loss_ylim"] == list(sc.loss_ylim) and p["smooth"] == 3
    np.testing.assert_array_equal(f32(p["loss_smooth"]), sc.loss_smooth.astype(np.float32).ravel())
    assert p["instances"] == list(video.instances) and p["selected"] == list(video.instances).index(1)
    frame_steps = [int(s) for s in video.frame_steps]  # one frame per snapshot: the page's steps
    assert p["steps"] == frame_steps


GOLDEN = __import__("pathlib").Path(__file__).parents[1] / "data" / "golden"


def test_a_log_without_loss_and_an_aggregate_loss_log_get_pages(tmp_path):
    """Schema v2: loss_scope "none" (no loss panel, the first instance shown) and "aggregate"
    (one loss for all instances)."""
    p = build_payload(plan_viewer(GOLDEN / "hand_noloss_v2.jsonl"))
    assert not p["has_loss"] and np.isnan(f32(p["readout_loss"])).all() and p["selected"] == 0
    run = read_log(GOLDEN / "hand_noloss_v2.jsonl")
    np.testing.assert_array_equal(f32(p["W"]), run.W.ravel())
    np.testing.assert_array_equal(np.array(p["importance"]), run.header.importance)  # per instance in v2
    agg = build_payload(plan_viewer(GOLDEN / "hand_aggregate_v2.jsonl"))
    loss = f32(agg["readout_loss"])  # one column: the one loss, shown for every instance
    assert agg["has_loss"] and agg["loss_width"] == 1 and loss.shape == (len(agg["steps"]),) and np.isfinite(loss).all()


def test_the_page_follows_the_plans_instance_order(tmp_path, monkeypatch):
    from animsup.rendering import plan as rp

    log = tmp_path / "run.jsonl"
    write_run(log, T=4, k=3)
    order = rp.grid_order
    monkeypatch.setattr(rp, "grid_order", lambda s: order(s)[::-1])
    p = build_payload(plan_viewer(log))
    run = read_log(log)
    assert p["instances"] == [2, 1, 0]
    np.testing.assert_array_equal(f32(p["W"]).reshape(4, 3, 2, 5), run.W[:, [2, 1, 0]])
    np.testing.assert_array_equal(f32(p["b"]).reshape(4, 3, 5), run.b[:, [2, 1, 0]])


def test_the_rule_of_a_one_snapshot_log_is_not_plural():
    assert subsample(1, 100)[1] == "its one snapshot"
    assert subsample(30, 100)[1] == "all 30 snapshots"
