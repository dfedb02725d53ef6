"""Check that a rendered MP4 plays in a real browser (headless Chromium).

    python scripts/check_browser_playback.py outputs/demo.mp4 [--chromium /usr/bin/chromium]

Serves the video's folder on 127.0.0.1, opens a page that plays the video, draws the
current frame to a canvas and counts non-white pixels, and prints what the browser saw:
``OK w=1280 h=720 dur=7.67 t=... nonwhite=...``. Exit 0 if it played and the frame was not
blank, 1 otherwise. Needs Chromium (Debian: ``apt-get install chromium``); not part of the
test suite.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

PAGE = """<!doctype html><html><body>
<video id="v" src="{name}" muted playsinline></video>
<canvas id="c" width="{w}" height="{h}" style="display:none"></canvas><pre id="out">pending</pre>
<script>
const v = document.getElementById('v'), out = document.getElementById('out');
v.addEventListener('error', () => {{ out.textContent = 'ERROR media error ' + (v.error && v.error.code); }});
v.addEventListener('loadeddata', async () => {{
  try {{ await v.play(); }} catch (e) {{ out.textContent = 'ERROR play() ' + e; return; }}
  setTimeout(() => {{
    v.pause();
    const ctx = document.getElementById('c').getContext('2d');
    ctx.drawImage(v, 0, 0);
    const d = ctx.getImageData(0, 0, {w}, {h}).data;
    let nonwhite = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i+1] < 200 || d[i+2] < 200) nonwhite++;
    out.textContent = `OK w=${{v.videoWidth}} h=${{v.videoHeight}} dur=${{v.duration.toFixed(2)}} ` +
                      `t=${{v.currentTime.toFixed(2)}} nonwhite=${{nonwhite}}`;
  }}, 1500);
}});
</script></body></html>"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video")
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args(argv)
    if not args.chromium:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 2
    w, h = (int(v) for v in args.size.split("x"))
    folder, name = os.path.split(os.path.abspath(args.video))
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(folder, ".animsup-playback-check.html")
        with open(page, "w") as f:
            f.write(PAGE.format(name=name, w=w, h=h))
        handler = functools.partial(_QuietHandler, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/{os.path.basename(page)}"
            cmd = [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={tmp}", "--autoplay-policy=no-user-gesture-required",
                   "--virtual-time-budget=10000", "--dump-dom", url]  # fmt: skip
            dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
        finally:
            server.shutdown()
            os.unlink(page)
    m = re.search(r'<pre id="out">([^<]*)', dom)
    result = m.group(1) if m else "ERROR no result from the browser"
    print(result)
    nonwhite = re.search(r"nonwhite=(\d+)", result)
    return 0 if result.startswith("OK") and nonwhite and int(nonwhite.group(1)) > 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
