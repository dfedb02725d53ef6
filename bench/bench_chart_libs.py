"""Why the viewer vendors uPlot: size and redraw time of the same scrub with uPlot and Plotly.

    npm pack plotly.js-dist-min@4.1.2 && tar xzf plotly.js-dist-min-4.1.2.tgz
    python bench/bench_chart_libs.py --plotly package/plotly.min.js [--chromium /usr/bin/chromium]

One page per library draws what a viewer scrub changes: 32 arrows of one instance (n=32,
m=2) moving over 200 snapshots, and a loss panel (2 x 2,000 points, log y) with a cursor at
the snapshot's step. uPlot: the arrows and cursor drawn in its draw hook, ``redraw``.
Plotly: the arrows as one line trace and the cursor as a shape, ``Plotly.react`` (its
fastest full update). Each scrub is timed from the call until the library has drawn
(uPlot: its hook ran; Plotly: the promise resolved), in headless Chromium. Not part of the
test suite; the numbers are recorded in docs/viewer.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

COMMON = """
const T = 200, n = 32, B = 2000;
const W = DATA.W, steps = DATA.steps, ls = DATA.loss_step, raw = DATA.raw, sm = DATA.smooth;
function arrows(t) { const xs = [], ys = []; for (let j = 0; j < n; j++) { xs.push(0, W[t][0][j], null); ys.push(0, W[t][1][j], null); } return [xs, ys]; }
"""

UPLOT = COMMON + """
let cur = 0, t0 = 0, last = 0;
const hook = (u) => { const c = u.ctx, X = (v) => u.valToPos(v, "x", true), Y = (v) => u.valToPos(v, "y", true);
  for (let j = 0; j < n; j++) { c.beginPath(); c.moveTo(X(0), Y(0)); c.lineTo(X(W[cur][0][j]), Y(W[cur][1][j])); c.stroke(); }
  last = performance.now() - t0; };
const lossHook = (u) => { const c = u.ctx, x = u.valToPos(steps[cur], "x", true); c.beginPath(); c.moveTo(x, u.bbox.top);
  c.lineTo(x, u.bbox.top + u.bbox.height); c.stroke(); last = performance.now() - t0; };
const plane = new uPlot({ width: 500, height: 480, legend: { show: false }, scales: { x: { time: false, auto: false, range: [-1.5, 1.5] },
  y: { auto: false, range: [-1.5, 1.5] } }, series: [{}, { show: false }], hooks: { draw: [hook] } }, [[-1.5, 1.5], [null, null]], document.body);
const loss = new uPlot({ width: 700, height: 260, legend: { show: false }, scales: { x: { time: false }, y: { distr: 3 } },
  series: [{}, { stroke: "#aaa" }, { stroke: "#07c" }], hooks: { draw: [lossHook] } }, [ls, raw, sm], document.body);
window.scrub = async (t) => { t0 = performance.now(); cur = t; plane.redraw(false, false); loss.redraw(false, false);
  await new Promise((r) => setTimeout(r, 0)); return last; };
"""

PLOTLY = COMMON + """
const a = document.createElement("div"), b = document.createElement("div"); document.body.append(a, b);
const planeLayout = { width: 500, height: 480, xaxis: { range: [-1.5, 1.5] }, yaxis: { range: [-1.5, 1.5] }, showlegend: false };
const lossLayout = (t) => ({ width: 700, height: 260, yaxis: { type: "log" }, showlegend: false,
  shapes: [{ type: "line", x0: steps[t], x1: steps[t], yref: "paper", y0: 0, y1: 1 }] });
const cfg = { staticPlot: false, displayModeBar: false };
const lossData = [{ x: ls, y: raw, mode: "lines" }, { x: ls, y: sm, mode: "lines" }];
const plane = (t) => { const [xs, ys] = arrows(t); return [{ x: xs, y: ys, mode: "lines" }]; };
window.ready = Promise.all([Plotly.newPlot(a, plane(0), planeLayout, cfg), Plotly.newPlot(b, lossData, lossLayout(0), cfg)]);
window.scrub = async (t) => { const t0 = performance.now();
  await Promise.all([Plotly.react(a, plane(t), planeLayout, cfg), Plotly.react(b, lossData, lossLayout(t), cfg)]);
  return performance.now() - t0; };
"""


def page(lib_js: str, script: str, data: dict) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><script>{lib_js}</script>"
            f"<script>const DATA = {json.dumps(data)};</script><script>{script}</script></body></html>")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--plotly", required=True, help="path to plotly.min.js (npm pack plotly.js-dist-min)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--scrubs", type=int, default=100)
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from browser import FLAGS
    from viewer_logs import weights

    here = os.path.dirname(os.path.abspath(__file__))
    uplot_js = open(os.path.join(here, "..", "animsup", "viewer", "static", "uPlot.iife.min.js")).read()
    plotly_js = open(args.plotly).read()
    rng = np.random.default_rng(0)
    steps = np.linspace(0, 10_000, 200).round().tolist()
    ls = np.linspace(0, 10_000, 2000)
    raw = (0.1 * np.exp(-ls / 3000) + 1e-3) * np.exp(rng.normal(0, 0.2, 2000))
    data = {"W": [weights(t, 200, n=32)[0].tolist() for t in range(200)], "steps": steps, "loss_step": ls.tolist(),
            "raw": raw.tolist(), "smooth": np.convolve(raw, np.ones(40) / 40, mode="same").tolist()}
    results = {}
    with tempfile.TemporaryDirectory() as d, sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(os.path.join(d, "profile"), executable_path=args.chromium,
                                                    headless=True, args=FLAGS, viewport={"width": 1280, "height": 900})
        for name, js, script in (("uPlot", uplot_js, UPLOT), ("Plotly", plotly_js, PLOTLY)):
            path = os.path.join(d, name + ".html")
            with open(path, "w") as f:
                f.write(page(js, script, data))
            pg = ctx.new_page()
            pg.goto("file://" + path)
            pg.evaluate("window.ready || null")
            times = [pg.evaluate(f"window.scrub({q % 200})") for q in range(args.scrubs)][5:]  # skip warm-up
            results[name] = (len(js.encode()), np.array(times))
            pg.close()
        ctx.close()
    for name, (size, t) in results.items():
        print(f"{name:7s} library {size / 1e6:.2f} MB minified; scrub redraw median {np.median(t):.1f} ms, "
              f"p95 {np.percentile(t, 95):.1f} ms, max {t.max():.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
