"""Headless Chromium for the viewer tests: Debian's chromium driven by Playwright's Python
package (its own browser download is never used). Missing either: the tests skip, unless
ANIMSUP_REQUIRE_BROWSER=1 (set by .ci/run, which installs both), where they fail."""

import os
import shutil
import tempfile

import pytest

CHROMIUM = os.environ.get("ANIMSUP_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]  # containers often have a small /dev/shm


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    """A persistent Chromium context with a fresh profile (one per test module)."""
    why = _missing()
    if why:
        if os.environ.get("ANIMSUP_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests required but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="animsup-chromium-")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1280, "height": 900})
        try:
            yield ctx
        finally:
            ctx.close()
            shutil.rmtree(profile, ignore_errors=True)


class Watched:
    """A page with its console errors, page errors and requests recorded."""

    def __init__(self, ctx):
        self.page = ctx.new_page()
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def screenshot(self, name: str) -> None:
        """Save a screenshot for docs/viewer.md when ANIMSUP_SCREENSHOTS names a folder."""
        folder = os.environ.get("ANIMSUP_SCREENSHOTS")
        if folder:
            self.page.screenshot(path=os.path.join(folder, name), full_page=True)


def open_page(browser, url: str, width: int | None = None, height: int = 900) -> "Watched":
    """The viewer page at ``url`` in a fresh watched page (a ``width`` × ``height`` px window when
    given), once its data is loaded."""
    w = Watched(browser)
    if width is not None:
        w.page.set_viewport_size({"width": width, "height": height})
    w.page.goto(url)
    w.page.wait_for_function("() => window.animsupViewer && window.animsupViewer.state.d !== null")
    return w


def state(w: "Watched", expr: str):
    """``expr`` evaluated in the page with ``S`` the viewer's state."""
    return w.page.evaluate(f"(() => {{ const S = window.animsupViewer.state; return {expr}; }})()")


def open_show_frame(browser, html: str):
    """``animsup.show``'s HTML in a notebook-like page: (the watched page, the viewer's frame) once
    the viewer's data is loaded."""
    w = Watched(browser)
    w.page.set_content(f"<html><body><div style='width:900px'>{html}</div></body></html>")
    frame = w.page.frames[1]
    frame.wait_for_function("() => window.animsupViewer && window.animsupViewer.state.d !== null")
    return w, frame

