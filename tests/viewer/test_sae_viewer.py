"""The SAE's decoder directions in the viewer (payload.py's _sae, viewer.js's SAE section): the
payload carries the render's chosen SAE per trained snapshot; the page draws at each snapshot
the SAE of the latest trained step <= it, for its instance only, with a key; n_hidden >= 3: the
render's note instead."""

import base64

import numpy as np

from animsup.log.sae_file import sidecar_path
from animsup.viewer import write_html
from animsup.viewer.payload import build_payload, plan_viewer
from browser import browser, open_page, state  # noqa: F401  (the fixture)
from viewer_logs import write_run


def _dirs(T, L=3, seed=0):
    """[T, 1, 1, L, 2] random unit directions."""
    d = np.random.default_rng(seed).normal(size=(T, 1, 1, L, 2))
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def test_payload_carries_the_chosen_sae(tmp_path, write_sae_file):
    log = tmp_path / "run.jsonl"
    write_run(log, T=6, k=2)
    dirs = _dirs(3)
    write_sae_file(sidecar_path(log), log, dirs, steps=[0, 20, 40], instance=1)
    p = build_payload(plan_viewer(log))
    sae = p["sae"]
    assert p["instances"][sae["column"]] == 1 and sae["steps"] == [0, 20, 40] and sae["n_latents"] == 3
    dec = np.frombuffer(base64.b64decode(sae["decoders"]), "<f4").reshape(3, 3, 2)
    np.testing.assert_array_equal(dec, dirs[:, 0, 0].astype(np.float32))
    assert sae["key"] == "SAE decoder (3 latents, l1=0.01)" and sae["when"] == "per snapshot" and sae["path"] == "run.sae.json"


def test_n_hidden_3_payload_has_the_note(tmp_path, write_sae_file):
    log = tmp_path / "run.jsonl"
    write_run(log, T=4, m=3)
    write_sae_file(sidecar_path(log), log, np.ones((1, 1, 1, 2, 3)) / np.sqrt(3), steps=[30])
    note = build_payload(plan_viewer(log))["sae"]["note"]
    assert note.startswith("the SAE decoder directions of run.sae.json are drawn only for n_hidden <= 2")


def test_animsup_view_rebuilds_when_the_sae_sidecar_appears(tmp_path, write_sae_file):
    import json

    from animsup.viewer.server import LogFollower

    log = tmp_path / "run.jsonl"
    write_run(log, T=4)
    follow = LogFollower(str(log))
    rev, body, _ = follow.payload()
    assert json.loads(body)["sae"] is None
    write_sae_file(sidecar_path(log), log, _dirs(1), steps=[30])
    rev2, body2, _ = follow.payload()
    assert rev2 != rev and json.loads(body2)["sae"]["steps"] == [30]


def test_page_draws_the_sae_of_the_latest_trained_snapshot(browser, tmp_path, write_sae_file):  # noqa: F811
    log = tmp_path / "run.jsonl"
    write_run(log, T=6, k=2)  # snapshots at steps 0, 10, ..., 50
    dirs = _dirs(2)
    write_sae_file(sidecar_path(log), log, dirs, steps=[0, 30], instance=1)
    out = tmp_path / "run.html"
    write_html(log, out)
    w = open_page(browser, out.as_uri())
    col = state(w, "S.d.sae.column")
    w.page.evaluate(f"window.animsupViewer.select({col})")
    for t, trained in ((0, 0), (2, 0), (3, 1), (5, 1)):  # steps 0, 20 -> step 0's SAE; 30, 50 -> step 30's
        w.page.evaluate(f"window.animsupViewer.setIndex({t})")
        w.page.wait_for_timeout(30)
        drawn = state(w, "S.drawnSae")
        assert drawn["step"] == [0, 30][trained] and drawn["instance"] == 1
        np.testing.assert_array_equal(np.array(drawn["tips"], np.float32), dirs[trained, 0, 0].astype(np.float32))
    w.page.evaluate(f"window.animsupViewer.select({1 - col})")  # the other instance: no SAE drawn
    w.page.wait_for_timeout(30)
    assert state(w, "S.drawnSae") is None
    assert "SAE decoder (3 latents, l1=0.01) of instance 1, per snapshot (from run.sae.json)" in w.page.inner_text("#plane-legend")
    assert w.errors == []
    w.page.close()
