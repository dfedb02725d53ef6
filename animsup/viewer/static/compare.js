/* animsup: runs side by side (animsup render A.jsonl B.jsonl --out cmp.html).
 *
 * The data (#animsup-data) is made by animsup/viewer/compare.py: per run the viewer's payload
 * (animsup/viewer/payload.py), the training step of every slider position ("frames") and each
 * run's shown snapshot at each of them ("index"), the loss comparability sentence and the shared
 * loss axes. Every number shown is the library's; this script draws it. One slider moves every
 * panel to the same training step. Charts: uPlot (vendored, MIT). Nothing is fetched.
 */
(function () {
  "use strict";

  function f32(b64) {
    if (b64 == null) return null;
    const bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }
  function decode(p) {
    const d = Object.assign({}, p);
    for (const key of ["readout_loss", "W", "W_dec", "norms", "loss_step", "loss_raw", "loss_smooth"]) d[key] = f32(p[key]);
    d.T = p.steps.length; d.k = p.instances.length; d.m = p.n_hidden; d.n = p.n_features;
    d.loss_width = p.loss_width || d.k;
    d.sel = p.selected;
    return d;
  }

  const D = JSON.parse(document.getElementById("animsup-data").textContent);
  const runs = D.runs.map(decode);
  const S = { f: D.frames.length - 1, playing: false, drawn: [], norms: null };
  const RUN_COLORS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#bf3989"];
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of kids) e.append(c);
    return e;
  };
  const fmt = (x, p = 4) => (x == null || !isFinite(x)) ? "—" : (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(p));
  const fmtStep = (s) => Math.round(s).toLocaleString("en-US");
  const app = document.getElementById("app");
  const ui = { panels: [] };

  // ------------------------------------------------------------------ layout: one column per run while each gets >= 300 px
  function columns() {
    const avail = Math.max(280, app.clientWidth - 24);
    const cols = Math.max(1, Math.min(runs.length, Math.floor((avail + 12) / 312)));
    return { cols: cols, width: Math.floor((avail - 12 * (cols - 1)) / cols), avail: avail };
  }

  function buildDom() {
    app.textContent = "";
    const how = D.align === "log-time" ? "evenly in log(step)" : "evenly in step";
    app.append(el("header", {},
      el("h1", { text: `${runs.length} runs side by side, aligned on the training step` }),
      el("div", { class: "meta", text: `one slider moves every run to the same step (${D.frames.length.toLocaleString("en-US")} steps, ${how}); ` +
        "each run shows its snapshot nearest that step and holds its first / last snapshot outside its own run" })));
    ui.note = el("div", { id: "comparability", class: D.comparable ? "comparable" : "not-comparable", text: D.note });
    app.append(ui.note);
    ui.play = el("button", { id: "play", type: "button", text: "▶ play" });
    ui.slider = el("input", { id: "scrubber", type: "range", min: "0", max: String(D.frames.length - 1), step: "1", value: String(S.f), "aria-label": "training step" });
    ui.step = el("span", { id: "step", class: "readout" });
    app.append(el("div", { id: "controls" }, ui.play, ui.slider, ui.step));
    ui.grid = el("div", { id: "panels" });
    app.append(ui.grid);
    runs.forEach((d, r) => {
      const p = { title: el("h2", { class: "run-title", text: d.title }), readout: el("div", { class: "readout" }),
        shape: el("div", { class: "note" }), canvas: el("canvas", { class: "run-plane" }), loss: el("div", { class: "run-loss" }) };
      p.title.style.borderLeft = `4px solid ${RUN_COLORS[r % RUN_COLORS.length]}`;
      p.box = el("div", { class: "panel", "data-run": String(r) }, p.title, p.readout, p.shape, p.canvas, p.loss);
      ui.grid.append(p.box);
      ui.panels.push(p);
    });
    ui.stripTitle = el("h2");
    ui.strip = el("canvas", { id: "strip" });
    ui.diff = el("div", { id: "norm-diff", class: "note" });
    app.append(ui.stripTitle, ui.diff, ui.strip);
    ui.play.addEventListener("click", () => setPlaying(!S.playing));
    ui.slider.addEventListener("input", () => setFrame(+ui.slider.value));
    document.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight") { setFrame(S.f + (e.shiftKey ? 10 : 1)); e.preventDefault(); }
      else if (e.key === "ArrowLeft") { setFrame(S.f - (e.shiftKey ? 10 : 1)); e.preventDefault(); }
    });
  }

  // ------------------------------------------------------------------ sizes
  function size() {
    const L = columns();
    ui.grid.style.gridTemplateColumns = `repeat(${L.cols}, ${L.width}px)`;
    const side = Math.min(L.width, 440);
    runs.forEach((d, r) => {
      const c = ui.panels[r].canvas, dpr = devicePixelRatio || 1;
      c.style.width = c.style.height = side + "px";
      c.width = c.height = Math.round(side * dpr);
      if (ui.panels[r].chart) ui.panels[r].chart.setSize({ width: L.width, height: 190 });
    });
    const sw = L.avail, dpr = devicePixelRatio || 1;
    ui.strip.style.width = sw + "px"; ui.strip.style.height = "150px";
    ui.strip.width = Math.round(sw * dpr); ui.strip.height = Math.round(150 * dpr);
  }

  // ------------------------------------------------------------------ a run's picture at its snapshot t
  function drawPlane(r, t) {
    const d = runs[r], c = ui.panels[r].canvas, ctx = c.getContext("2d"), W = c.width, dpr = devicePixelRatio || 1;
    const i = d.sel, base = (t * d.k + i) * d.m * d.n;
    ctx.clearRect(0, 0, W, W);
    if (d.m >= 3) return drawGram(d, ctx, W, base);
    const h = W / 2, sc = (h - 8 * dpr) / d.lim, X = (v) => h + v * sc, Y = (v) => h - v * sc;
    ctx.strokeStyle = "#eaeef2"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(0, h); ctx.lineTo(W, h); ctx.moveTo(h, 0); ctx.lineTo(h, W); ctx.stroke();
    ctx.strokeStyle = "#d0d7de"; ctx.setLineDash([2 * dpr, 3 * dpr]);
    ctx.beginPath(); ctx.arc(h, h, sc, 0, 2 * Math.PI); ctx.stroke(); ctx.setLineDash([]);
    const tips = [];
    for (let j = d.n - 1; j >= 0; j--) {
      const x = d.W[base + j], y = d.W[base + d.n + j];
      tips[j] = [x, y];
      ctx.strokeStyle = ctx.fillStyle = d.colors[i][j];
      if (d.W_dec) {  // the decoder's column dashed with an open circle, as in the viewer and the video
        const px = X(d.W_dec[base + j]), py = Y(d.W_dec[base + d.n + j]);
        ctx.lineWidth = 1.5 * dpr; ctx.setLineDash([4 * dpr, 3 * dpr]);
        ctx.beginPath(); ctx.moveTo(h, h); ctx.lineTo(px, py); ctx.stroke(); ctx.setLineDash([]);
        ctx.beginPath(); ctx.arc(px, py, 4 * dpr, 0, 2 * Math.PI); ctx.stroke();
      }
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath(); ctx.moveTo(h, h); ctx.lineTo(X(x), Y(y)); ctx.stroke();
      ctx.beginPath(); ctx.arc(X(x), Y(y), 3.5 * dpr, 0, 2 * Math.PI); ctx.fill();
      if (d.n <= 40) {
        ctx.font = `${11 * dpr}px system-ui, sans-serif`; ctx.textAlign = "center"; ctx.textBaseline = "middle";
        const rr = Math.hypot(x, y) * sc || 1;
        ctx.fillText(String(j), X(x) + x * sc / rr * 10 * dpr, Y(y) - y * sc / rr * 10 * dpr);
      }
    }
    return { tips: tips };
  }

  // W_decᵀW (WᵀW when tied) on the run's fixed colour range, feature 0 top-left
  function drawGram(d, ctx, W, base) {
    const n = d.n, m = d.m, g = new Float64Array(n * n), Wd = d.W_dec || d.W;
    for (let a = 0; a < n; a++) for (let c = 0; c < n; c++) {
      let s = 0;
      for (let h = 0; h < m; h++) s += Wd[base + h * n + a] * d.W[base + h * n + c];
      g[a * n + c] = s;
    }
    const cell = W / n;
    for (let q = 0; q < n * n; q++) {
      ctx.fillStyle = d.heat[Math.round((Math.max(-1, Math.min(1, g[q] / d.gram_max)) + 1) / 2 * 255)];
      ctx.fillRect((q % n) * cell, Math.floor(q / n) * cell, Math.ceil(cell), Math.ceil(cell));
    }
    return { gram: Array.from(g) };
  }

  // ------------------------------------------------------------------ loss charts (shared step range; shared loss range when comparable)
  function makeCharts() {
    const L = columns();
    runs.forEach((d, r) => {
      const p = ui.panels[r];
      p.loss.textContent = "";
      p.chart = null;
      if (!d.has_loss) { p.loss.append(el("div", { class: "note", text: "no loss recorded in this log" })); return; }
      const distr = D.loss_xscale === "asinh" ? 4 : 1, xlim = D.loss_xlim || d.loss_xlim, ylim = D.loss_ylim || d.loss_ylim;
      const B = d.loss_step.length, col = d.loss_width === 1 ? 0 : d.sel, raw = [], sm = [];
      for (let q = 0; q < B; q++) {
        const a = d.loss_raw[q * d.loss_width + col], b = d.loss_smooth[q * d.loss_width + col];
        raw.push(a > 0 && isFinite(a) ? a : null); sm.push(b > 0 && isFinite(b) ? b : null);
      }
      p.chart = new uPlot({
        width: L.width, height: 190,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { x: { time: false, distr: distr, asinh: 1, auto: false, range: () => xlim }, y: { distr: 3, auto: false, range: () => ylim } },
        axes: [distr === 4
          ? { label: "training step (log)", size: 40, values: (u, vals) => vals.map((v) => v.toLocaleString("en-US")),
              splits: (u, ax, lo, hi) => [0].concat([...Array(12).keys()].map((e) => 10 ** e)).filter((v) => v >= lo && v <= hi) }
          : { label: "training step", size: 40 },
          { label: D.comparable ? "loss (log, shared axis)" : "loss (log, own axis)", size: 60 }],
        series: [{}, { label: d.loss_labels.raw, stroke: "#afb8c1", width: 1, points: { show: false } },
          { label: d.loss_labels.smooth, stroke: RUN_COLORS[r % RUN_COLORS.length], width: 2, points: { show: false } }],
        hooks: { draw: [(u) => drawCursor(u, r)] },
      }, [Array.from(d.loss_step), raw, sm], p.loss);
    });
  }

  function drawCursor(u, r) {
    const d = runs[r], ctx = u.ctx, dpr = devicePixelRatio || 1, t = D.index[r][S.f];
    const x = u.valToPos(D.frames[S.f], "x", true);
    ctx.save();
    ctx.strokeStyle = "#cf222e"; ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    const l = d.readout_loss[t * d.loss_width + (d.loss_width === 1 ? 0 : d.sel)];
    if (l > 0 && isFinite(l)) {
      ctx.fillStyle = "#cf222e";
      ctx.beginPath(); ctx.arc(u.valToPos(d.steps[t], "x", true), u.valToPos(l, "y", true), 4 * dpr, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
  }

  // ------------------------------------------------------------------ the strip: ‖W_i‖ of every run (runs sharing n_features)
  function drawStrip() {
    const c = ui.strip, ctx = c.getContext("2d"), dpr = devicePixelRatio || 1, Wc = c.width, Hc = c.height;
    ctx.clearRect(0, 0, Wc, Hc);
    if (!D.same_n) {
      ui.stripTitle.textContent = "the runs differ in n_features: no per-feature comparison";
      c.style.display = "none";
      return null;
    }
    ui.stripTitle.textContent = "per-feature norms ‖W_i‖ of every run at this step (rotation-invariant: a hidden space is only defined up to rotation)";
    const n = runs[0].n, K = runs.length, norms = runs.map((d, r) => {
      const t = D.index[r][S.f], out = [];
      for (let j = 0; j < n; j++) out.push(d.norms[(t * d.k + d.sel) * n + j]);
      return out;
    });
    const top = Math.max(...runs.map((d) => d.norm_max || 0), 1e-6) * 1.05;
    const left = 40 * dpr, bottom = Hc - 18 * dpr, plotH = bottom - 8 * dpr, slot = (Wc - left - 8 * dpr) / n, bw = slot * 0.8 / K;
    ctx.strokeStyle = "#8c959f"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(left, 8 * dpr); ctx.lineTo(left, bottom); ctx.lineTo(Wc - 8 * dpr, bottom); ctx.stroke();
    ctx.font = `${10 * dpr}px system-ui, sans-serif`; ctx.fillStyle = "#6e7781";
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    ctx.fillText(fmt(top, 2), left - 4 * dpr, 8 * dpr); ctx.fillText("0", left - 4 * dpr, bottom);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    const every = Math.max(1, Math.ceil(n / 40));
    for (let j = 0; j < n; j++) {
      norms.forEach((v, r) => {
        ctx.fillStyle = RUN_COLORS[r % RUN_COLORS.length];
        const hgt = Math.max(0, v[j]) / top * plotH;
        ctx.fillRect(left + j * slot + slot * 0.1 + r * bw, bottom - hgt, Math.max(1, bw - dpr), hgt);
      });
      if (j % every === 0) { ctx.fillStyle = "#6e7781"; ctx.fillText(String(j), left + (j + 0.5) * slot, bottom + 3 * dpr); }
    }
    let best = 0, bd = -1;
    for (let j = 0; j < n; j++) {
      const col = norms.map((v) => v[j]), dd = Math.max(...col) - Math.min(...col);
      if (dd > bd) { bd = dd; best = j; }
    }
    ui.diff.textContent = "";
    runs.forEach((d, r) => {
      const sw = el("span", { class: "swatch" });
      sw.style.borderTopColor = RUN_COLORS[r % RUN_COLORS.length]; sw.style.borderTopWidth = "6px";
      ui.diff.append(sw, ` ${d.path}   `);
    });
    ui.diff.append(`· largest difference: feature ${best}, ${fmt(bd, 3)}`);
    return { norms: norms, feature: best, difference: bd };
  }

  // ------------------------------------------------------------------ state
  function setFrame(f) {
    S.f = Math.max(0, Math.min(D.frames.length - 1, Math.round(f)));
    ui.slider.value = String(S.f);
    const step = D.frames[S.f];
    ui.step.textContent = `step ${fmtStep(step)}`;
    S.drawn = runs.map((d, r) => {
      const t = D.index[r][S.f], p = ui.panels[r], l = d.readout_loss[t * d.loss_width + (d.loss_width === 1 ? 0 : d.sel)];
      const where = d.steps[t] < step - 0.5 && t === d.T - 1 ? " (its last)" : d.steps[t] > step + 0.5 && t === 0 ? " (its first)" : "";
      p.readout.textContent = `snapshot at step ${fmtStep(d.steps[t])}${where} · ${t + 1} / ${d.T} · ${d.loss_labels.readout} ${fmt(l, 5)}`;
      const name = d.shape.length ? d.shape_names[d.shape[t][d.sel]] : "";
      p.shape.textContent = `instance ${d.instances[d.sel]} · ${d.labels[d.sel]}` + (d.m >= 3 ? ` · ${d.W_dec ? "W_decᵀW_enc" : "WᵀW"} ±${fmt(d.gram_max, 3)}` : "") +
        (d.W_dec && d.m < 3 ? " · solid ● encoder, dashed ○ decoder" : "") + (name ? ` · ${name}` : "");
      if (p.chart) p.chart.redraw(false, false);
      return Object.assign({ run: r, t: t, step: d.steps[t], frameStep: step }, drawPlane(r, t));
    });
    S.norms = drawStrip();
    alignRows();
  }

  // the panels' texts may wrap to different heights: give each text row the tallest panel's height,
  // so the pictures and the loss charts line up across the panels
  function alignRows() {
    for (const key of ["title", "readout", "shape"]) {
      ui.panels.forEach((p) => { p[key].style.minHeight = ""; });
      const h = Math.max(...ui.panels.map((p) => p[key].getBoundingClientRect().height));
      ui.panels.forEach((p) => { p[key].style.minHeight = h + "px"; });
    }
  }

  let raf = null, last = 0, carry = 0;
  function setPlaying(on) {
    S.playing = on;
    ui.play.textContent = on ? "❚❚ pause" : "▶ play";
    if (on && S.f >= D.frames.length - 1) setFrame(0);
    if (on && raf == null) { last = performance.now(); carry = 0; raf = requestAnimationFrame(tick); }
  }
  function tick(now) {
    raf = null;
    if (!S.playing) return;
    carry += (now - last) / 1000 * 30; last = now;
    if (carry >= 1) {
      const f = S.f + Math.floor(carry);
      carry -= Math.floor(carry);
      if (f >= D.frames.length) { setFrame(D.frames.length - 1); setPlaying(false); return; }
      setFrame(f);
    }
    raf = requestAnimationFrame(tick);
  }

  buildDom();
  size();
  makeCharts();
  setFrame(S.f);
  window.animsupCompare = { state: S, setFrame: setFrame, runs: runs, data: D,
    // each loss chart's [x min, x max, y min, y max] (null without a loss)
    axes: () => ui.panels.map((p) => p.chart && [p.chart.scales.x.min, p.chart.scales.x.max, p.chart.scales.y.min, p.chart.scales.y.max]) };
  let pending = false;
  window.addEventListener("resize", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; size(); setFrame(S.f); });
  });
})();
