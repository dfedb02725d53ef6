"""A page built from a hostile log works in a real browser (headless Chromium, tests/viewer/browser.py).

The log's seeds, ``model_label`` and ``model_formula`` and its file name hold ``<!--<script>``,
``</script><b>bold</b>``, U+2028/U+2029, ``$x^{$`` and control characters. Before, such a page
stayed blank: the HTML parser swallowed the viewer's scripts. Now the strings show as text,
no element is injected, and the page works: the chart draws, scrubbing shows each step's W.
"""

import os

import numpy as np

from animsup.log.reader import read_log
from animsup.viewer import write_html
from browser import Watched, browser, open_page, open_show_frame, state  # noqa: F401  (the fixture)






def test_hostile_strings_show_as_text_on_a_page_that_works(browser, tmp_path, write_hostile):  # noqa: F811
    label = "<!--<script> </script><b>bold</b> a\u2028b\u2029c $x^{$"
    log = tmp_path / "<!--<script>run.jsonl"
    write_hostile(log, seeds=["<!--<script>", "</script><b>bold</b>\u2028$x^{$"], model_label=label,
                  model_formula="</script><script>document.title='pwned'</script>")
    out = tmp_path / "page.html"
    write_html(log, out, instance=1)
    w = open_page(browser, out.as_uri())
    assert w.errors == []
    page = w.page
    # the strings are text: in the title, the file name and the instance label, and no element came from them
    # U+2028 and U+2029 arrive (they would end a JavaScript string literal), shown escaped as the video shows them
    assert state(w, "S.d.title").startswith(label.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    h1 = page.locator("h1").inner_text()
    assert "<!--<script> </script><b>bold</b>" in h1 and "$x^{$" in h1 and "document.title='pwned'" in h1
    assert page.locator("header .meta").inner_text().startswith("<!--<script>run.jsonl")
    assert "</script><b>bold</b>" in page.locator("#plane-title").inner_text()
    assert page.locator("b").count() == 0 and page.locator("script").count() == 5
    assert page.title().startswith("<!--<script>run.jsonl") and "pwned" not in page.title()
    # and the page works: the loss chart drew, scrubbing shows that step's weights
    assert page.locator("#loss canvas").count() >= 1 and state(w, "S.loss !== null")
    run = read_log(log)
    for t in (0, 5, len(run.steps) - 1):
        page.locator("#scrubber").fill(str(t))
        drawn = state(w, "S.drawn")
        assert drawn["step"] == run.steps[t]
        np.testing.assert_array_equal(np.array(drawn["tips"], np.float32), run.W[t, 1].T)
    assert w.errors == []
    folder = os.environ.get("ANIMSUP_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, "hostile.png"), full_page=True)
    page.close()


def test_show_frame_of_a_hostile_log_runs(browser, tmp_path, write_hostile):  # noqa: F811
    import animsup

    log = tmp_path / "run.jsonl"
    write_hostile(log)
    html = animsup.show(log, poster=False)._repr_html_()
    w, frame = open_show_frame(browser, html)
    assert frame.evaluate("window.animsupViewer.state.d.T") == 12
    assert "<!--<script>" in frame.locator("h1").inner_text()
    assert w.errors == []
    w.page.close()
