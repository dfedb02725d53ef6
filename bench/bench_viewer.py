"""The viewer's budget: page size and scrubbing redraw time in headless Chromium.

    python bench/bench_viewer.py [--quick] [--chromium /usr/bin/chromium]

Writes a 16-instance, n=32, 200-snapshot log (synthetic, tests/viewer/viewer_logs.py), builds its
page, and scrubs it in headless Chromium: each scrub sets a snapshot and waits for uPlot's
draw hooks (the time from the scrub to the last canvas call; compositing is not included).
Baseline, measured in the same run: the video pipeline's time per frame for the same log
(animsup.render to MP4, 60 frames, drawing + encoding). Targets: page <= 5 MB, redraw < 50 ms.
Not part of the test suite (timing under load is noisy).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer scrubs")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from animsup import render
    from animsup.viewer import write_html
    from browser import FLAGS
    from viewer_logs import write_run

    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "big.jsonl")
        write_run(log, T=200, k=16, n=32, loss_rows=4)
        t0 = time.perf_counter()
        info = write_html(log, os.path.join(d, "big.html"))
        build = time.perf_counter() - t0
        res = render(log, os.path.join(d, "big.mp4"), grid=True, frames=60, hold=0, size="960x540")
        video_ms = 1000 * res.seconds / res.frames
        scrubs = 40 if args.quick else 200
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(os.path.join(d, "profile"), executable_path=args.chromium,
                                                        headless=True, args=FLAGS, viewport={"width": 1280, "height": 900})
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto("file://" + os.path.join(d, "big.html"))
            page.wait_for_function("() => window.animsupViewer && window.animsupViewer.state.d !== null")
            load = time.perf_counter() - t0
            times = np.array(page.evaluate(f"window.animsupViewer.timeScrub({scrubs})"))
            ctx.close()
    print(f"page: {info['bytes'] / 1e6:.2f} MB (target <= 5 MB), {info['snapshots']} snapshots, built in {build:.1f} s, "
          f"loaded in {load:.2f} s")
    print(f"scrub redraw over {scrubs} scrubs: median {np.median(times):.1f} ms, p95 {np.percentile(times, 95):.1f} ms, "
          f"max {times.max():.1f} ms (target < 50 ms)")
    print(f"baseline: the video pipeline, {video_ms:.1f} ms a frame (grid, 960x540, draw + encode)")
    ok = info["bytes"] <= 5_000_000 and times.max() < 50
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
