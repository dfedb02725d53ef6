"""The HTML/JS sink: strings from a log (seeds, model_label, model_formula, the file name) cannot
leave the page's data — in the offline page, ``animsup view``'s ``payload.json`` and ``show()``.

The page carries its data in ``<script id="animsup-data" type="application/json">``. A ``<`` in
it could end that element (``</script>``) or, as ``<!--<script>``, put the HTML parser into its
"script data double escaped" state, which swallows the page's real scripts (the page went blank).
Checked here on the HTML text; tests/viewer/test_viewer_hostile_browser.py checks it in Chromium.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import urllib.request

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from animsup.viewer.page import page_html
from animsup.viewer.payload import build_payload, plan_viewer

DATA = re.compile(r'<script id="animsup-data" type="application/json">(.*?)</script>', re.S)
TMP = tempfile.mkdtemp(prefix="animsup-page-fuzz-")
EXAMPLES = settings(max_examples=int(os.environ.get("ANIMSUP_FUZZ_EXAMPLES", 40)) // 4 or 10, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
                    derandomize=os.environ.get("ANIMSUP_FUZZ_RANDOM") is None)
PIECES = st.text(st.characters(exclude_categories=("Cs",)), max_size=4) | st.sampled_from(
    ["<!--", "<script>", "</script>", "<", ">", "&", "\u2028", "\u2029", "$", "\x1b", "-->"])
TEXT = st.lists(PIECES, max_size=8).map("".join)


def _check_page(html: str, payload: dict) -> None:
    """The page has its template's scripts, and its data element holds the payload, with no '<'."""
    assert html.count("<script") == 5 and html.count("</script>") == 5
    found = DATA.findall(html)
    assert len(found) == 1 and "<" not in found[0] and "\u2028" not in found[0]
    assert json.loads(found[0]) == json.loads(json.dumps(payload, default=lambda a: a.tolist()))


@EXAMPLES
@given(seed=TEXT, label=TEXT, formula=TEXT)
def test_any_strings_in_the_log_stay_inside_the_pages_data(seed, label, formula, write_hostile):
    log = os.path.join(TMP, "run.jsonl")
    write_hostile(log, seeds=[seed, 1], model_label=label, model_formula=formula, T=3)
    payload = build_payload(plan_viewer(log))
    _check_page(page_html(payload), payload)


def test_the_known_attacks_and_the_file_name(tmp_path, write_hostile):
    log = tmp_path / "<!--<script>a.jsonl"
    write_hostile(log)
    payload = build_payload(plan_viewer(log))
    html = page_html(payload)
    _check_page(html, payload)
    title = re.search(r"<title>(.*)</title>", html).group(1)
    assert title.startswith("&lt;!--&lt;script&gt;a.jsonl")


def test_the_live_servers_payload_json_is_escaped_too(tmp_path, write_hostile):
    from animsup.viewer.server import make_server

    log = tmp_path / "<!--<script>.jsonl"
    write_hostile(log)
    server = make_server(log)
    th = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    try:
        with urllib.request.urlopen(server.url + "payload.json", timeout=10) as r:
            body = r.read().decode("utf-8")
        with urllib.request.urlopen(server.url, timeout=10) as r:
            page = r.read().decode("utf-8")
    finally:
        server.shutdown()
        server.server_close()
    assert "<" not in body and json.loads(body)["path"] == "<!--<script>.jsonl"
    assert "<title>&lt;!--&lt;script&gt;.jsonl" in page and page.count("<script") == 5


def test_show_builds_a_page_and_a_poster_from_a_hostile_log(tmp_path, write_hostile):
    import animsup

    log = tmp_path / "run.jsonl"
    write_hostile(log, seeds=["$x^{$", "$\\undefinedcmd$"])
    viewer = animsup.show(log)  # the poster is drawn with matplotlib: mathtext used to raise here
    assert viewer.poster and viewer.poster.startswith(b"\x89PNG")
    payload = build_payload(plan_viewer(log))
    _check_page(viewer.page, payload)
    frame = viewer._repr_html_()
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert "<" not in srcdoc  # the whole page, escaped as an attribute value
