/* animsup viewer: scrub, play, hover and pick instances of one run log.
 *
 * The data (window element #animsup-data, or payload.json from `animsup view`) is made by
 * animsup/viewer/payload.py: every number shown here (norms, D_i, shape names, events,
 * fixed axes, the loss curve and its moving average) is computed by the animsup library;
 * this script only draws it. The one product computed here is WᵀW for the heatmap
 * (n_hidden >= 3), drawn with the video's fixed symmetric colour range.
 * Charts: uPlot (vendored, MIT). Nothing is fetched from any other host.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ data
  function f32(b64) {
    if (b64 == null) return null;
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  function decode(p) {
    const d = Object.assign({}, p);
    for (const key of ["readout_loss", "W", "W_dec", "b", "norms", "dims", "loss_step", "loss_raw", "loss_smooth"]) {
      d[key] = f32(p[key]);
    }
    d.curves = (p.curves || []).map((c) => Object.assign({}, c, { values: f32(c.values) }));
    d.loss_width = p.loss_width || p.instances.length;
    d.loss_labels = p.loss_labels || { readout: "loss", label: "loss", raw: "loss", smooth: `moving average (${p.smooth} points)`, note: "" };
    d.llc = p.llc ? Object.assign({}, p.llc, { mean: f32(p.llc.mean), std: f32(p.llc.std) }) : null;
    d.sae = p.sae ? Object.assign({}, p.sae, { decoders: f32(p.sae.decoders) }) : null;
    d.datapoints = decodeData(p.datapoints);
    d.T = p.steps.length;
    d.k = p.instances.length;
    d.m = p.n_hidden;
    d.n = p.n_features;
    return d;
  }

  // pinned: the user picked an instance or moved in time; a live page then keeps both across polls
  const S = { d: null, t: 0, sel: 0, playing: false, speed: 1, loop: true, hover: null, lastDrawMs: 0, drawn: null, pinned: false };
  const BASE_FPS = 30; // snapshots a second at speed 1 (the video's default frame rate)

  // W[t, i, h, j] of the current data (encoder / tied weights)
  function w(t, i, h, j) {
    const d = S.d;
    return d.W[((t * d.k + i) * d.m + h) * d.n + j];
  }
  function perFeature(arr, t, i, j) {
    const d = S.d;
    return arr[(t * d.k + i) * d.n + j];
  }

  // ------------------------------------------------------------------ DOM
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of kids) e.appendChild(c);
    return e;
  };
  const app = document.getElementById("app");
  const ui = {};

  function buildDom() {
    app.textContent = "";
    ui.title = el("h1");
    ui.meta = el("div", { class: "meta" });
    app.appendChild(el("header", {}, ui.title, ui.meta));
    ui.planeTitle = el("div", { id: "plane-title" });
    ui.shape = el("span", { id: "shape" });
    ui.legend = el("div", { id: "plane-legend", class: "note" });
    ui.plane = el("div", { id: "plane" });
    ui.hover = el("div", { id: "hover" });
    ui.bias = el("div", { id: "bias" });
    ui.left = el("div", { id: "left" }, ui.planeTitle, ui.legend, ui.plane, ui.hover, ui.bias);
    ui.readoutMain = el("div", { id: "readout-main" });
    ui.readoutLabel = el("div", { id: "readout-label", class: "note" });
    ui.readout = el("div", { id: "readout" }, ui.readoutMain, ui.readoutLabel);
    ui.loss = el("div", { id: "loss" });
    ui.lossNote = el("div", { class: "note" });
    ui.curvesTitle = el("h2", { id: "curves-title" });
    ui.curves = el("div", { id: "curves" });
    ui.llcTitle = el("h2", { id: "llc-title" });
    ui.llc = el("div", { id: "llc" });
    ui.llcNote = el("div", { id: "llc-note", class: "note" });
    ui.events = el("ul", { id: "events" });
    ui.right = el("div", { id: "right" }, ui.readout, ui.loss, ui.lossNote, ui.llcTitle, ui.llc, ui.llcNote, ui.curvesTitle, ui.curves,
      el("h2", { text: "events (click to jump)" }), ui.events);
    ui.main = el("div", { id: "main" }, ui.left, ui.right);
    app.appendChild(ui.main);
    ui.play = el("button", { id: "play", type: "button", text: "▶ play" });
    ui.slider = el("input", { id: "scrubber", type: "range", min: "0", max: "0", step: "1", value: "0", "aria-label": "snapshot" });
    ui.speed = el("select", { id: "speed", "aria-label": "speed" });
    for (const s of [0.25, 0.5, 1, 2, 4, 8]) {
      const o = el("option", { value: String(s), text: s + "×" });
      if (s === 1) o.selected = true;
      ui.speed.appendChild(o);
    }
    ui.loop = el("input", { id: "loop", type: "checkbox" });
    ui.loop.checked = true;
    ui.pos = el("span", { id: "pos", class: "note" });
    app.appendChild(el("div", { id: "controls" }, ui.play, ui.slider, el("label", {}, el("span", { text: "speed " }), ui.speed),
      el("label", {}, ui.loop, el("span", { text: " loop" })), ui.pos));
    ui.rule = el("div", { id: "rule", class: "note" });
    app.appendChild(ui.rule);
    ui.gridTitle = el("h2");
    ui.grid = el("div", { id: "grid" });
    app.appendChild(ui.gridTitle);
    app.appendChild(ui.grid);

    ui.play.addEventListener("click", () => { S.pinned = true; setPlaying(!S.playing); });
    ui.slider.addEventListener("input", () => { S.pinned = true; setIndex(+ui.slider.value); });
    ui.speed.addEventListener("change", () => { S.speed = +ui.speed.value; });
    ui.loop.addEventListener("change", () => { S.loop = ui.loop.checked; });
    document.addEventListener("keydown", onKey);
  }

  function onKey(e) {
    if (e.target && (e.target.tagName === "SELECT")) return;
    const big = e.shiftKey ? 10 : 1;
    if (["ArrowRight", "ArrowLeft", "Home", "End", " "].includes(e.key)) S.pinned = true;
    if (e.key === "ArrowRight") { setIndex(S.t + big); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { setIndex(S.t - big); e.preventDefault(); }
    else if (e.key === "Home") { setIndex(0); e.preventDefault(); }
    else if (e.key === "End") { setIndex(S.d.T - 1); e.preventDefault(); }
    else if (e.key === " " && e.target.tagName !== "BUTTON") { setPlaying(!S.playing); e.preventDefault(); }
  }

  // ------------------------------------------------------------------ formatting
  const fmt = (x, p = 4) => (x == null || !isFinite(x)) ? "—" : (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toPrecision(p));
  // the video's readout format (Python's "{:.3e}": 1.435e-03)
  const fmtE3 = (x) => {
    if (x == null || !isFinite(x)) return "—";
    const [mant, e] = x.toExponential(3).split("e");
    return `${mant}e${+e < 0 ? "-" : "+"}${String(Math.abs(+e)).padStart(2, "0")}`;
  };
  const fmtStep = (s) => Math.round(s).toLocaleString("en-US");

  // ------------------------------------------------------------------ the hidden plane (uPlot axes + draw hook)
  // The page's columns from the width available (no horizontal scroll from 800 px windows up; below
  // 640 px of content the columns stack): the plane/heatmap on the left, the charts on the right.
  const GAP = 12, HEAT_EXTRA = 96;  // the heatmap's norm bars and colour scale, right of its cells
  function layout() {
    const avail = Math.max(280, app.clientWidth - 24);  // #app's padding
    const two = avail >= 640;
    const left = two ? Math.round(Math.max(280, Math.min(560, avail * 0.44))) : Math.min(560, avail);
    return { two: two, left: left, right: two ? avail - left - GAP : avail };
  }
  function planeSize() {
    const L = layout(), heat = S.d && S.d.m >= 3;
    const width = L.left, cells = heat ? width - HEAT_EXTRA : width;
    // the x axis is 16 px taller than the y axis is wide: a square plot area (the heatmap: square cells)
    return { width: width, height: Math.round(cells) - 16 };
  }
  function applyLayout() {
    const L = layout();
    ui.main.classList.toggle("stacked", !L.two);
    ui.left.style.width = L.left + "px";
    ui.right.style.width = L.right + "px";
  }

  function makePlane() {
    const d = S.d, lim = d.lim, sz = planeSize();
    ui.plane.textContent = "";
    const heat = d.m >= 3;
    const range = heat ? [0, d.n] : [-lim, lim];
    const opts = {
      width: sz.width, height: sz.height,
      legend: { show: false },
      cursor: { show: true, x: false, y: false, points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: false, auto: false, range: () => range }, y: { auto: false, dir: heat ? -1 : 1, range: () => range } },
      // the heatmap: a tick at the centre of each labelled cell (feature j is the cell [j, j + 1])
      axes: heat
        ? [{ label: d.W_dec ? "feature j (encoder column)" : "feature j", size: 30, side: 2, splits: () => heatTicks(d.n),
             values: (u, v) => v.map((x) => String(Math.floor(x))), grid: { show: false } },
           { label: d.W_dec ? "feature i (decoder column)" : "feature i", size: 40, splits: () => heatTicks(d.n),
             values: (u, v) => v.map((x) => String(Math.floor(x))), grid: { show: false } }]
        : [{ label: "hidden dim 1", size: 34 }, { label: "hidden dim 2", size: 50 }],
      series: [{}, { show: false }],
      hooks: { draw: [heat ? drawHeat : drawArrows] },
    };
    if (heat) opts.padding = [10, HEAT_EXTRA, 0, 0];
    S.plane = new uPlot(opts, [[range[0], range[1]], [null, null]], ui.plane);
    S.heatTicks = heat ? heatTicks(d.n) : null;
    planeLegend();
    S.plane.over.addEventListener("mousemove", onPlaneMove);
    S.plane.over.addEventListener("mouseleave", () => { S.hover = null; showHover(); });
  }

  // ticks of the heatmap's feature axes: cell centres j + 0.5, every 1, 2, 5, 10... features (at most ~10)
  function heatTicks(n) {
    const every = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].find((q) => n / q <= 10) || 10000;
    const out = [];
    for (let j = 0; j < n; j += every) out.push(j + 0.5);
    return out;
  }

  // what the marks are: untied models draw two vectors per feature, the heatmap says what its cells are
  function planeLegend() {
    const d = S.d;
    ui.legend.textContent = "";
    const sw = (cls) => el("span", { class: "swatch " + cls });
    if (d.m >= 3) {
      ui.legend.append(d.W_dec ? "cells: W_decᵀW_enc (decoder column i · encoder column j)" : "cells: WᵀW (W_i · W_j)",
        " on a fixed colour scale ±" + fmt(d.gram_max, 3) + "; bars: ‖W_i‖" + (d.W_dec ? " of the encoder" : ""));
    } else if (d.W_dec) {
      ui.legend.append(sw("solid"), " ● encoder W_i (solid)   ", sw("dashed"), " ○ decoder W_dec,i (dashed)");
    }
    saeLegend();
    dataLegend();
  }

  function drawArrows(u) {
    const d = S.d, t = S.t, i = S.sel, ctx = u.ctx, dpr = devicePixelRatio || 1;
    const X = (v) => u.valToPos(v, "x", true), Y = (v) => u.valToPos(v, "y", true);
    const ox = X(0), oy = Y(0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    // polygon outline through the represented vertices (geometry.describe's angular order)
    const order = d.polygon.length ? d.polygon[t][i] : [];
    if (order.length >= 3) {
      ctx.beginPath();
      order.forEach((j, q) => { const x = X(w(t, i, 0, j)), y = Y(w(t, i, 1, j)); q ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.closePath();
      ctx.strokeStyle = "#8c959f"; ctx.lineWidth = 1.5 * dpr; ctx.setLineDash([5 * dpr, 4 * dpr]); ctx.stroke(); ctx.setLineDash([]);
    }
    // the unit circle (norm 1), as in the video
    ctx.beginPath(); ctx.arc(ox, oy, X(1) - ox, 0, 2 * Math.PI);
    ctx.strokeStyle = "#d0d7de"; ctx.lineWidth = 1 * dpr; ctx.setLineDash([2 * dpr, 3 * dpr]); ctx.stroke(); ctx.setLineDash([]);
    // untied models: each decoder row W_dec[:, j] dashed, with an open circle (the video's marks)
    if (d.W_dec) {
      const base = (t * d.k + i) * d.m * d.n;
      for (let j = 0; j < d.n; j++) {
        const px = X(d.W_dec[base + j]), py = Y(d.W_dec[base + d.n + j]);
        ctx.strokeStyle = d.colors[i][j]; ctx.lineWidth = 1.5 * dpr; ctx.setLineDash([4 * dpr, 3 * dpr]);
        ctx.beginPath(); ctx.moveTo(ox, oy); ctx.lineTo(px, py); ctx.stroke(); ctx.setLineDash([]);
        ctx.beginPath(); ctx.arc(px, py, 5 * dpr, 0, 2 * Math.PI); ctx.stroke();
      }
    }
    drawData(ctx, X, Y, dpr, false);
    const quiet = d.quiet_fraction * d.lim;
    const tips = [], dots = [], labelled = [];
    // least important first, so important features are drawn on top
    const imp = d.importance[i], idx = [...Array(d.n).keys()].sort((a, b) => imp[a] - imp[b] || b - a);
    for (const j of idx) {
      const x = w(t, i, 0, j), y = w(t, i, 1, j), px = X(x), py = Y(y);
      const norm = perFeature(d.norms, t, i, j);
      tips.push([j, x, y]);
      ctx.strokeStyle = ctx.fillStyle = d.colors[i][j];
      if (norm >= quiet) {
        ctx.lineWidth = 2 * dpr;
        ctx.beginPath(); ctx.moveTo(ox, oy); ctx.lineTo(px, py); ctx.stroke();
      }
      ctx.beginPath(); ctx.arc(px, py, (S.hover === j ? 6 : 4) * dpr, 0, 2 * Math.PI); ctx.fill();
      if (norm >= quiet) dots.push([px, py]);
      if (norm >= quiet && (d.n <= 40 || norm > d.threshold)) labelled.push([j, px, py, d.colors[i][j]]);
    }
    const labels = placeLabels(ctx, labelled, dots, ox, oy, u.bbox, dpr, imp);
    drawSae(ctx, X, Y, ox, oy, dpr);
    drawData(ctx, X, Y, dpr, true);
    ctx.restore();
    tips.sort((a, b) => a[0] - b[0]);
    S.drawn = { t: t, instance: d.instances[i], step: d.steps[t], tips: tips.map((q) => [q[1], q[2]]), labels: labels };
    drawn();
  }

  // Feature ids around their tips, never over each other or over a tip (the video's rule,
  // animsup/rendering/draw/labels.py): most important features first, each at the first free spot
  // of a list of candidates around its tip (outwards first, then turning either way, then further
  // out); a label with no free spot inside the plot is left out. labelled: [j, x, y, colour] (canvas px);
  // dots: the tips drawn, [x, y]. Returns the boxes drawn, {feature, x0, y0, x1, y1} in CSS px.
  const LABEL_CANDS = [].concat(...[1.0, 1.7, 2.5].map((dist) => [0, 0.45, -0.45, 0.9, -0.9, 1.5, -1.5, 2.2, -2.2]
    .map((da) => [da, dist])), [[2.7, 1.0], [-2.7, 1.0], [Math.PI, 1.0]]);
  function placeLabels(ctx, labelled, dots, ox, oy, bbox, dpr, imp) {
    const fs = 11 * dpr, h = fs, r = 4 * dpr + 1, base = 0.9 * fs, placed = [];
    const boxes = dots.map(([x, y]) => [x - r, y - r, x + r, y + r]);
    labelled.sort((a, b) => imp[b[0]] - imp[a[0]] || a[0] - b[0]);
    ctx.font = `${fs}px system-ui, sans-serif`;
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    for (const [j, px, py, colour] of labelled) {
      const text = String(j), wd = ctx.measureText(text).width;
      const a0 = Math.hypot(px - ox, py - oy) > 0 ? Math.atan2(py - oy, px - ox) : -Math.PI / 2;
      for (const [da, dist] of LABEL_CANDS) {
        const dx = Math.cos(a0 + da), dy = Math.sin(a0 + da);
        const cx = px + dx * (base * dist + wd / 2), cy = py + dy * (base * dist + h / 4);
        const b = [cx - wd / 2, cy - h / 2, cx + wd / 2, cy + h / 2];
        if (b[0] < bbox.left || b[2] > bbox.left + bbox.width || b[1] < bbox.top || b[3] > bbox.top + bbox.height) continue;
        if (boxes.some((o) => b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3])) continue;
        boxes.push(b);
        ctx.fillStyle = colour;
        ctx.fillText(text, cx, cy);
        placed.push({ feature: j, x0: b[0] / dpr, y0: b[1] / dpr, x1: b[2] / dpr, y1: b[3] / dpr });
        break;
      }
    }
    return placed;
  }

  // WᵀW (W_decᵀW for untied models) of instance i at snapshot t, as an n×n image in the
  // video's colour map and fixed range; one putImageData instead of n² rectangles
  function gramImage(t, i) {
    const d = S.d, n = d.n, m = d.m, Wd = d.W_dec, g = new Float64Array(n * n);
    const base = (t * d.k + i) * m * n;
    for (let a = 0; a < n; a++) for (let c = 0; c < n; c++) {
      let s = 0;
      for (let h = 0; h < m; h++) s += (Wd ? Wd[base + h * n + a] : d.W[base + h * n + a]) * d.W[base + h * n + c];
      g[a * n + c] = s;
    }
    if (!S.heatRGB) S.heatRGB = d.heat.map((h) => [1, 3, 5].map((q) => parseInt(h.slice(q, q + 2), 16)));
    if (!S.heatCanvas || S.heatCanvas.width !== n) {
      S.heatCanvas = document.createElement("canvas");
      S.heatCanvas.width = S.heatCanvas.height = n;
    }
    const hc = S.heatCanvas.getContext("2d"), img = hc.createImageData(n, n), px = img.data, gm = d.gram_max;
    for (let q = 0; q < n * n; q++) {
      const rgb = S.heatRGB[Math.round((Math.max(-1, Math.min(1, g[q] / gm)) + 1) / 2 * 255)];
      px[4 * q] = rgb[0]; px[4 * q + 1] = rgb[1]; px[4 * q + 2] = rgb[2]; px[4 * q + 3] = 255;
    }
    hc.putImageData(img, 0, 0);
    return { canvas: S.heatCanvas, gram: g };
  }

  function drawHeat(u) {
    const d = S.d, t = S.t, i = S.sel, n = d.n, ctx = u.ctx;
    const X = (v) => u.valToPos(v, "x", true), Y = (v) => u.valToPos(v, "y", true);
    const im = gramImage(t, i);
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(im.canvas, X(0), Y(0), X(n) - X(0), Y(n) - Y(0));
    ctx.restore();
    if (S.hover != null) {
      ctx.strokeStyle = "#1f2328"; ctx.lineWidth = 2;
      ctx.strokeRect(X(0), Y(S.hover), X(n) - X(0), Y(S.hover + 1) - Y(S.hover));
    }
    const bars = drawHeatSide(u, t, i);
    S.drawn = { t: t, instance: d.instances[i], step: d.steps[t], gram: Array.from(im.gram), normBars: bars };
    drawn();
  }

  // right of the cells: each feature's norm ‖W_i‖ as a bar on its row (fixed range: the log's largest
  // norm), then the colour scale of the cells with its range; returns the bars' lengths in px
  function drawHeatSide(u, t, i) {
    const d = S.d, n = d.n, ctx = u.ctx, dpr = devicePixelRatio || 1;
    const Y = (v) => u.valToPos(v, "y", true), top = Y(0), bottom = Y(n);
    const x0 = u.bbox.left + u.bbox.width + 8 * dpr, barW = 34 * dpr, nmax = d.norm_max || 1;
    const lens = [];
    ctx.save();
    ctx.font = `${10 * dpr}px system-ui, sans-serif`;
    ctx.fillStyle = "#6e7781"; ctx.textAlign = "left"; ctx.textBaseline = "bottom";
    ctx.fillText("‖W_i‖", x0, top - 1 * dpr);
    ctx.strokeStyle = "#d0d7de"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(x0, top); ctx.lineTo(x0, bottom); ctx.stroke();
    for (let j = 0; j < n; j++) {
      const y0 = Y(j), y1 = Y(j + 1), h = Math.max(1, (y1 - y0) * 0.7), len = Math.max(0, perFeature(d.norms, t, i, j)) / nmax * barW;
      lens.push(len / dpr);
      ctx.fillStyle = d.colors[i][j];
      ctx.fillRect(x0, (y0 + y1) / 2 - h / 2, len, h);
    }
    // the colour scale: +range at the top, 0 in the middle, -range at the bottom
    const cx = x0 + barW + 6 * dpr, cw = 10 * dpr, H = Math.max(1, Math.round(bottom - top));
    if (!S.heatRGB) S.heatRGB = d.heat.map((c) => [1, 3, 5].map((q) => parseInt(c.slice(q, q + 2), 16)));
    for (let r = 0; r < H; r++) {
      const c = S.heatRGB[Math.round((1 - r / Math.max(1, H - 1)) * 255)];
      ctx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
      ctx.fillRect(cx, top + r, cw, 1);
    }
    ctx.strokeStyle = "#8c959f"; ctx.strokeRect(cx, top, cw, H);
    ctx.fillStyle = "#1f2328"; ctx.textBaseline = "middle";
    const gm = fmt(d.gram_max, 2);
    ctx.fillText("+" + gm, cx + cw + 3 * dpr, top + 5 * dpr);
    ctx.fillText("0", cx + cw + 3 * dpr, (top + bottom) / 2);
    ctx.fillText("−" + gm, cx + cw + 3 * dpr, bottom - 5 * dpr);
    ctx.restore();
    S.colourScale = { top: top / dpr, bottom: bottom / dpr, x: cx / dpr, range: d.gram_max };
    return lens;
  }

  function onPlaneMove() {
    const u = S.plane, d = S.d, cx = u.cursor.left, cy = u.cursor.top;
    if (cx == null || cx < 0) return;
    let best = null;
    if (d.m >= 3) {
      const row = Math.floor(u.posToVal(cy, "y"));
      best = row >= 0 && row < d.n ? row : null;
    } else {
      let bd = 14 * 14;
      for (let j = 0; j < d.n; j++) {
        const dx = u.valToPos(w(S.t, S.sel, 0, j), "x") - cx, dy = u.valToPos(w(S.t, S.sel, 1, j), "y") - cy;
        const dd = dx * dx + dy * dy;
        if (dd < bd) { bd = dd; best = j; }
      }
    }
    if (best !== S.hover) { S.hover = best; draw(); }
  }

  function showHover() {
    const d = S.d, j = S.hover, t = S.t, i = S.sel;
    if (j == null) { ui.hover.textContent = d.m >= 3 ? "hover a row: feature i" : "hover a feature's tip"; return; }
    const bias = perFeature(d.b, t, i, j);
    ui.hover.textContent =
      `feature ${j}   norm ‖W_${j}‖ = ${fmt(perFeature(d.norms, t, i, j))}   D_${j} = ${fmt(perFeature(d.dims, t, i, j))}\n` +
      `importance ${fmt(d.importance[i][j])}   bias b_${j} = ${fmt(bias)}`;
    ui.hover.dataset.feature = String(j);
  }

  // a y axis's size (uPlot's `size`: tick marks, gap and tick labels; the axis label gets its own
  // labelSize beyond it) wide enough for its longest tick label, at least `least` px: the label never
  // overprints a tick label such as -0.001
  // tick labels of a log-scale value axis: uPlot's default (Intl, 3 decimals) printed every tick of a loss
  // below 5e-4 as "0"; plain decimals from 1e-3 to 1e4, else "2.5e-5" (two significant digits)
  function logTick(v) {
    if (v == null || !isFinite(v)) return "";
    const r = Number(v.toPrecision(2)), a = Math.abs(r);
    return (a !== 0 && (a < 1e-3 || a >= 1e4)) ? r.toExponential() : String(r);
  }
  const logTicks = (u, vals) => vals.map(logTick);

  function fitTicks(least) {
    return (u, values, axisIdx, cycle) => {
      const ax = u.axes[axisIdx];
      if (cycle > 1 && ax._size) return ax._size;  // settled: uPlot calls again while its layout converges
      let widest = 0;
      if (values && values.length) {
        u.ctx.save();
        u.ctx.font = ax.font[0];
        for (const v of values) widest = Math.max(widest, u.ctx.measureText(String(v)).width / (devicePixelRatio || 1));
        u.ctx.restore();
      }
      return Math.max(least, Math.ceil((ax.ticks && ax.ticks.show !== false ? ax.ticks.size : 0) + ax.gap + widest + 4));
    };
  }

  // ------------------------------------------------------------------ the bias panel (the video's --panels bias)
  function makeBias() {
    const d = S.d;
    ui.bias.textContent = "";
    const opts = {
      width: planeSize().width, height: 130,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, auto: false, range: () => [-0.5, d.n - 0.5] }, y: { auto: false, range: () => d.b_range } },
      axes: [{ label: "feature", size: 34, incrs: [1, 2, 5, 10, 20, 50, 100] }, { label: "bias b_i", size: fitTicks(50), space: 18 }],
      series: [{}, { show: false }],
      hooks: { draw: [drawBias] },
    };
    S.bias = new uPlot(opts, [[-0.5, d.n - 0.5], [null, null]], ui.bias);
  }

  function drawBias(u) {
    const d = S.d, t = S.t, i = S.sel, ctx = u.ctx;
    const y0 = u.valToPos(0, "y", true), half = Math.max(1, (u.valToPos(1, "x", true) - u.valToPos(0, "x", true)) * 0.38);
    const vals = [];
    for (let j = 0; j < d.n; j++) {
      const v = perFeature(d.b, t, i, j), x = u.valToPos(j, "x", true), y = u.valToPos(v, "y", true);
      vals.push(v);
      ctx.fillStyle = d.colors[i][j];
      ctx.fillRect(x - half, Math.min(y, y0), 2 * half, Math.abs(y - y0));
    }
    ctx.strokeStyle = "#8c959f"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(u.bbox.left, y0); ctx.lineTo(u.bbox.left + u.bbox.width, y0); ctx.stroke();
    S.drawnBias = vals;
    drawn();
  }

  // ------------------------------------------------------------------ the loss panel (uPlot)
  function lossWidth() { return Math.max(240, Math.min(900, layout().right - 4)); }

  function makeLoss() {
    const d = S.d;
    ui.loss.textContent = "";
    S.loss = null;
    if (!d.has_loss) {
      ui.lossNote.textContent = "no loss recorded in this log";
      return;
    }
    const distr = d.loss_xscale === "asinh" ? 4 : 1;
    const opts = {
      width: lossWidth(), height: 260,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: {
        x: { time: false, distr: distr, asinh: 1, auto: false, range: () => d.loss_xlim },
        y: { distr: 3, auto: false, range: () => d.loss_ylim },
      },
      axes: [
        distr === 4
          ? { label: "training step (log)", splits: (u, ax, lo, hi) => [0].concat([...Array(12).keys()].map((e) => 10 ** e)).filter((v) => v >= lo && v <= hi),
              values: (u, vals) => vals.map((v) => v.toLocaleString("en-US")) }
          : { label: "training step" },
        { label: "loss (log)", size: fitTicks(60), values: logTicks }],
      series: [{}, { label: d.loss_labels.raw, stroke: "#afb8c1", width: 1, points: { show: false } },
        { label: d.loss_labels.smooth, stroke: "#0969da", width: 2, points: { show: false } }],
      hooks: { draw: [drawLossCursor] },
    };
    S.loss = new uPlot(opts, lossData(), ui.loss);
    ui.lossNote.textContent = d.loss_labels.note || `loss from ${d.loss_source}; moving average over ${d.smooth} logged points (as in the video)`;
  }

  function lossData() {
    // loss_raw / loss_smooth are [B, loss_width]: a column per instance, or one (an aggregate loss) for all
    const d = S.d, B = d.loss_step.length, k = d.loss_width, i = k === 1 ? 0 : S.sel;
    const raw = new Array(B), sm = new Array(B);
    for (let q = 0; q < B; q++) {
      const r = d.loss_raw[q * k + i], s = d.loss_smooth[q * k + i];
      raw[q] = r > 0 && isFinite(r) ? r : null;
      sm[q] = s > 0 && isFinite(s) ? s : null;
    }
    return [Array.from(d.loss_step), raw, sm];
  }

  function drawLossCursor(u) {
    const d = S.d, ctx = u.ctx, dpr = devicePixelRatio || 1;
    const x = u.valToPos(d.steps[S.t], "x", true);
    ctx.save();
    // event ticks of the selected instance
    ctx.strokeStyle = "#d4a72c"; ctx.lineWidth = 1 * dpr;
    for (const ev of d.events[S.sel]) {
      const ex = u.valToPos(ev[0], "x", true);
      ctx.beginPath(); ctx.moveTo(ex, u.bbox.top + u.bbox.height - 8 * dpr); ctx.lineTo(ex, u.bbox.top + u.bbox.height); ctx.stroke();
    }
    ctx.strokeStyle = "#cf222e"; ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    const l = snapLoss(S.t, S.sel);
    if (l > 0 && isFinite(l)) {
      ctx.fillStyle = "#cf222e";
      ctx.beginPath(); ctx.arc(x, u.valToPos(l, "y", true), 4 * dpr, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.restore();
    drawn();
  }

  // the readout's loss at shown snapshot t for shown instance i: the video's readout quantity at that step
  // (payload readout_loss, [T, loss_width]: a column per instance, or one for all)
  function snapLoss(t, i) { const k = S.d.loss_width; return S.d.readout_loss[t * k + (k === 1 ? 0 : i)]; }

  // ------------------------------------------------------------------ recorded curves (log v2 "curve" records)
  const CURVE_COLORS = ["#8250df", "#1a7f37", "#bc4c00", "#0550ae", "#bf3989", "#4d2d00"];
  function makeCurves() {
    const d = S.d;
    ui.curves.textContent = "";
    S.curves = null;
    makeCurvesTitle();
    if (!d.curves.length) return;
    S.curves = smallChart(ui.curves, curvesData(), d.curves.map((c, q) => ({ label: c.name, stroke: CURVE_COLORS[q % CURVE_COLORS.length] })), "value");
  }

  // a small chart under the loss panel on its step axis, with the cursor: series [{label, stroke, dash?}]
  function smallChart(host, data, series, yName) {
    const d = S.d;
    let lo = Infinity, hi = -Infinity;
    for (const col of data.slice(1)) for (const v of col) if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const logY = lo > 0 && hi / lo > 20;
    const distr = d.loss_xscale === "asinh" ? 4 : 1;
    const opts = {
      width: lossWidth(), height: 170,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: Object.assign({ time: false, distr: distr, asinh: 1 }, d.loss_xlim[0] != null && d.loss_xlim[1] != null
        ? { auto: false, range: () => d.loss_xlim } : {}), y: logY ? { distr: 3 } : {} },
      axes: [stepAxis(distr, true), Object.assign({ label: logY ? yName + " (log)" : yName, size: fitTicks(60) },
        logY ? { values: logTicks } : {})],
      series: [{}].concat(series.map((c) => Object.assign({ width: 1.5, spanGaps: true, points: { show: data[0].length <= 60, size: 4 } }, c))),
      hooks: { draw: [drawCurvesCursor] },
    };
    return new uPlot(opts, data, host);
  }

  // ------------------------------------------------------------------ the LLC over training (animsup measure --llc sidecar)
  // the step axis of the small charts under the loss (LLC, Hessian, curves): on the asinh scale the loss
  // chart's ticks (0 and the powers of ten inside the range; uPlot's own asinh splits add a stray −1 and
  // minor ticks); ``labelled`` false: ticks without labels (a chart with another under it)
  function stepAxis(distr, labelled) {
    const ax = labelled ? { label: "training step" + (distr === 4 ? " (log)" : ""), size: 40 } : { size: 8, values: (u, v) => v.map(() => "") };
    if (distr !== 4) return ax;
    return Object.assign(ax, { splits: (u, i, lo, hi) => [0].concat([...Array(12).keys()].map((e) => 10 ** e)).filter((v) => v >= lo && v <= hi) },
      labelled ? { values: (u, vals) => vals.map((v) => v.toLocaleString("en-US")) } : {});
  }

  function makeLLC() {
    const d = S.d;
    ui.llc.textContent = "";
    S.llcChart = null;
    makeLLCTitle();
    if (!d.llc) return;
    const c = "#8250df";
    S.llcChart = smallChart(ui.llc, llcData(), [{ label: "LLC mean", stroke: c },
      { label: "mean + std", stroke: c, width: 1, dash: [4, 3], points: { show: false } },
      { label: "mean − std", stroke: c, width: 1, dash: [4, 3], points: { show: false } }], "LLC");
  }

  // the shown instance's LLC: mean, mean + std, mean − std at the measured steps (null where not measured)
  function llcData() {
    const L = S.d.llc, k = S.d.k, i = S.sel, T = L.steps.length;
    const mean = new Array(T), up = new Array(T), dn = new Array(T);
    for (let q = 0; q < T; q++) {
      const m = L.mean[q * k + i], s = L.std[q * k + i], ok = isFinite(m);
      mean[q] = ok ? m : null;
      up[q] = ok && isFinite(s) ? m + s : null;
      dn[q] = ok && isFinite(s) ? m - s : null;
    }
    return [L.steps.slice(), mean, up, dn];
  }

  function makeLLCTitle() {
    const d = S.d, L = d.llc;
    ui.llcTitle.textContent = L ? `learning coefficient (LLC) over training (instance ${d.instances[S.sel]})` : "";
    ui.llcNote.textContent = L ? `mean ± std over ${L.chains != null ? L.chains + " " : ""}SGLD chains` +
      (L.draws != null ? ` of ${L.draws} draws` : "") + ` at ${L.steps.length} snapshots, from animsup measure --llc (the log's .measure.json)` : "";
  }

  // ------------------------------------------------------------------ the Hessian spectrum over training (animsup measure --hessian sidecar)
  // payload "hessian" (animsup/viewer/payload.py _hessian, the video's hessian panel's series): per measured
  // step and shown instance the L largest eigenvalues, the lowest, the degeneracy threshold and the counts of
  // near-zero and negative eigenvalues. Two charts on the loss's step axis, each with the cursor: the eigenvalues
  // (asinh: linear within the threshold, so negative ones stay visible, marked) and the two counts under them.
  const HESS_COLORS = ["#0550ae", "#218bff", "#80ccff"], HESS_NEG = "#bc4c00", HESS_SIZE = [180, 150];
  function makeHessian() {
    if (!ui.hess) {  // its place: under the LLC chart
      ui.hessTitle = el("h2", { id: "hessian-title" });
      ui.hess = el("div", { id: "hessian" });
      ui.hessCount = el("div", { id: "hessian-count" });
      ui.hessNote = el("div", { id: "hessian-note", class: "note" });
      ui.llcNote.after(ui.hessTitle, ui.hess, ui.hessCount, ui.hessNote);
    }
    const p = S.d.hessian;
    ui.hess.textContent = ui.hessCount.textContent = "";
    S.hessChart = S.hessCount = null;
    S.hess = p ? Object.assign({}, p, { top: f32(p.top), lowest: f32(p.lowest), degeneracy: f32(p.degeneracy),
      negative: f32(p.negative), threshold: f32(p.threshold) }) : null;
    makeHessTitle();
    if (!S.hess) return;
    const H = S.hess, L = H.lines, data = hessData();
    const eig = [];
    for (let q = 0; q < L; q++) eig.push({ label: `λ${q + 1}`, stroke: HESS_COLORS[q % HESS_COLORS.length], width: 1.5 });
    eig.push({ label: H.exact ? "λ_min" : `λ${H.eigenvalues}`, stroke: "#6e7781", width: 1.2, dash: [4, 2] },
      { label: "λ < 0", stroke: HESS_NEG, width: 0, paths: () => null, points: { show: true, size: 6, fill: HESS_NEG } },
      { label: "± threshold", stroke: "#afb8c1", width: 1, dash: [2, 2] }, { label: "", stroke: "#afb8c1", width: 1, dash: [2, 2] });
    S.hessChart = hessPlot(ui.hess, data.eig, eig, { distr: 4, asinh: hessLinear(), auto: true }, "eigenvalue", false);
    const keys = S.hessChart.root.querySelectorAll(".u-legend .u-series");
    keys[keys.length - 1].style.display = "none";  // − threshold (the last series): "± threshold" keys both
    const stepped = uPlot.paths.stepped({ align: 1 });
    S.hessCount = hessPlot(ui.hessCount, data.count, [{ label: "# near zero", stroke: "#1f2328", width: 1.2, paths: stepped },
      { label: "# negative (below −threshold)", stroke: HESS_NEG, width: 1.2, paths: stepped }], { auto: false, range: hessCountRange }, "count", true);
  }

  function hessPlot(host, data, series, yScale, yName, stepLabel) {
    const d = S.d, distr = d.loss_xscale === "asinh" ? 4 : 1;
    const opts = {
      width: lossWidth(), height: HESS_SIZE[stepLabel ? 1 : 0],
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: Object.assign({ time: false, distr: distr, asinh: 1 }, d.loss_xlim[0] != null && d.loss_xlim[1] != null
        ? { auto: false, range: () => d.loss_xlim } : {}), y: yScale },
      axes: [stepAxis(distr, stepLabel),
        { label: yName, size: fitTicks(60), splits: yScale.distr === 4 ? hessTicks : hessCountTicks, filter: (u, v) => v }],
      series: [{}].concat(series.map((c) => Object.assign({ spanGaps: true, points: { show: false } }, c))),
      hooks: { draw: [drawCurvesCursor] },
    };
    return new uPlot(opts, data, host);
  }

  // the asinh scale's linear width: the selected instance's median degeneracy threshold
  function hessLinear() {
    const H = S.hess, k = S.d.k, v = [];
    for (let q = 0; q < H.steps.length; q++) { const x = H.threshold[q * k + S.sel]; if (x > 0) v.push(x); }
    v.sort((a, b) => a - b);
    return v.length ? v[v.length >> 1] : 1e-6;
  }
  // y ticks: 0 and at most 3 powers of ten each side beyond the linear width (the video's panel's rule)
  function hessTicks(u, axisIdx, lo, hi) {
    const lin = u.scales.y.asinh, out = [0];
    for (const [sign, top] of [[1, hi], [-1, -lo]]) {
      if (!(top > lin)) continue;
      const e0 = Math.ceil(Math.log10(lin)), e1 = Math.floor(Math.log10(top)), n = e1 - e0 + 1;
      const es = n > 3 ? [e0, e0 + Math.round((n - 1) / 2), e1] : Array.from({ length: Math.max(n, 0) }, (_, q) => e0 + q);
      for (const e of es) out.push(sign * Math.pow(10, e));
    }
    return out.sort((a, b) => a - b);
  }
  function hessCountRange(u) {
    let top = 1;
    for (const col of u.data.slice(1)) for (const v of col) if (v != null) top = Math.max(top, v);
    return [0, top + 0.5];
  }
  function hessCountTicks(u, axisIdx, lo, hi) { const top = Math.floor(hi); return top > 1 ? [0, Math.ceil(top / 2), top] : [0, 1]; }

  // the selected instance's columns: {eig: x, λ1..λL, the lowest, its negative points, +threshold, −threshold; count: x, near zero, negative}
  function hessData() {
    const H = S.hess, k = S.d.k, i = S.sel, T = H.steps.length, L = H.lines;
    const num = (v) => (isFinite(v) ? v : null);
    const cols = Array.from({ length: L + 6 }, () => new Array(T).fill(null));
    for (let q = 0; q < T; q++) {
      for (let l = 0; l < L; l++) cols[l][q] = num(H.top[(q * k + i) * L + l]);
      const low = num(H.lowest[q * k + i]), thr = num(H.threshold[q * k + i]);
      cols[L][q] = low;
      let neg = null;  // the lowest drawn eigenvalue when below −threshold (a saddle)
      for (const v of [low].concat(cols.slice(0, L).map((c) => c[q]))) if (v != null && thr != null && v < -thr && (neg == null || v < neg)) neg = v;
      cols[L + 1][q] = neg;
      cols[L + 2][q] = thr;
      cols[L + 3][q] = thr == null ? null : -thr;
      cols[L + 4][q] = num(H.degeneracy[q * k + i]);
      cols[L + 5][q] = num(H.negative[q * k + i]);
    }
    const x = H.steps.slice();
    return { eig: [x].concat(cols.slice(0, L + 4)), count: [x.slice(), cols[L + 4], cols[L + 5]] };
  }

  function makeHessTitle() {
    const d = S.d, H = S.hess;
    ui.hessTitle.textContent = H ? `Hessian eigenvalues over training (instance ${d.instances[S.sel]})` : "";
    if (!H) { ui.hessNote.textContent = ""; return; }
    const rule = (H.rel_tol != null ? `|λ| ≤ ${H.rel_tol}·max|λ|` : "|λ| ≤ threshold") + (H.exact ? "" : ` among the top ${H.eigenvalues}`);
    ui.hessNote.textContent = (H.exact ? `all ${H.eigenvalues} eigenvalues (exact)` : `the top ${H.eigenvalues} by |λ| (Lanczos)` +
      (H.parameters != null ? ` of ${H.parameters} parameters` : "")) + ` at ${H.steps.length} snapshots: the ${H.lines} largest and the lowest ` +
      `(dashed), negative ones marked; under them how many are near zero (${rule}: inside the dotted ± threshold) and how many ` +
      "negative (below −threshold). From animsup measure --hessian (the log's .measure.json).";
  }

  // the selected instance changed: its columns, its scale's linear width, its title
  function hessSelect() {
    if (!S.hessChart) return;
    const data = hessData();
    S.hessChart.scales.y.asinh = hessLinear();
    S.hessChart.setData(data.eig, true);
    S.hessCount.setData(data.count, true);
    makeHessTitle();
  }
  function hessRedraw() { for (const c of [S.hessChart, S.hessCount]) if (c) c.redraw(false, false); }
  function hessResize() {
    [S.hessChart, S.hessCount].forEach((c, q) => { if (c) c.setSize({ width: lossWidth(), height: HESS_SIZE[q] }); });
  }

  // every curve on the union of their steps (null where a curve has no point); the shown instance's column
  function curvesData() {
    const d = S.d, xs = new Set();
    for (const c of d.curves) for (const st of c.steps) xs.add(st);
    const x = Array.from(xs).sort((a, b) => a - b), at = new Map(x.map((v, q) => [v, q]));
    const cols = d.curves.map((c) => {
      const col = new Array(x.length).fill(null), j = c.width > 1 ? S.sel : 0;
      c.steps.forEach((st, q) => { const v = c.values[q * c.width + j]; col[at.get(st)] = isFinite(v) ? v : null; });
      return col;
    });
    return [x].concat(cols);
  }

  function drawCurvesCursor(u) {
    const ctx = u.ctx, dpr = devicePixelRatio || 1, x = u.valToPos(S.d.steps[S.t], "x", true);
    ctx.save();
    ctx.setLineDash([]);  // a dashed series (the LLC's ± std) leaves its dash on the context
    ctx.strokeStyle = "#cf222e"; ctx.lineWidth = 1.5 * dpr;
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    ctx.restore();
  }

  // ------------------------------------------------------------------ grid of instances
  function makeGrid() {
    const d = S.d;
    ui.grid.textContent = "";
    S.tiles = [];
    if (d.k <= 1) { ui.gridTitle.textContent = ""; return; }
    ui.gridTitle.textContent = `all ${d.k} instances (click one to show it above; they scrub together)`;
    const size = d.k > 36 ? 84 : 110;
    d.instances.forEach((inst, q) => {
      const c = el("canvas", { width: String(size), height: String(size) });
      const tile = el("div", { class: "tile", "data-instance": String(inst), title: d.labels[q] }, c, el("div", { text: `#${inst} ${d.labels[q].split("  ")[0]}` }));
      tile.addEventListener("click", () => { S.pinned = true; select(q); });
      ui.grid.appendChild(tile);
      S.tiles.push({ tile: tile, ctx: c.getContext("2d"), size: size });
    });
  }

  function drawTiles() {
    const d = S.d, t = S.t;
    S.tiles.forEach((tl, i) => {
      const ctx = tl.ctx, s = tl.size, h = s / 2, sc = h / d.lim;
      ctx.clearRect(0, 0, s, s);
      tl.tile.classList.toggle("selected", i === S.sel);
      if (d.m >= 3) {
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(gramImage(t, i).canvas, 0, 0, s, s);
        return;
      }
      ctx.strokeStyle = "#eaeef2"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(0, h); ctx.lineTo(s, h); ctx.moveTo(h, 0); ctx.lineTo(h, s); ctx.stroke();
      for (let j = d.n - 1; j >= 0; j--) {
        ctx.strokeStyle = d.colors[i][j]; ctx.lineWidth = 1.5;
        ctx.beginPath(); ctx.moveTo(h, h); ctx.lineTo(h + w(t, i, 0, j) * sc, h - w(t, i, 1, j) * sc); ctx.stroke();
      }
    });
  }

  function scheduleTiles() {
    if (S.tilesPending) return;
    S.tilesPending = true;
    setTimeout(() => { S.tilesPending = false; drawTiles(); }, 40);
  }

  function select(q) {
    S.sel = Math.max(0, Math.min(S.d.k - 1, q));
    S.hover = null;
    if (S.loss) S.loss.setData(lossData(), false);
    if (S.curves) { S.curves.setData(curvesData(), false); makeCurvesTitle(); }
    if (S.llcChart) { S.llcChart.setData(llcData(), false); makeLLCTitle(); }
    hessSelect();
    renderEvents();
    if (S.d.datapoints && S.d.m < 3) planeLegend();  // the data points' key names the selected instance's T
    draw();
  }
  function makeCurvesTitle() {
    const d = S.d;
    ui.curvesTitle.textContent = d.curves.length ? "recorded curves" + (d.curves.some((c) => c.width > 1) ? ` (instance ${d.instances[S.sel]})` : "") : "";
  }

  // ------------------------------------------------------------------ the SAE's decoder directions (animsup sae's
  // file; animsup/rendering/sae.py picks the SAE, payload.py's _sae sends it): thin dashed orange lines with
  // open diamonds, as in the video; at each snapshot the SAE of the latest trained step <= it
  const SAE_COLOR = "#e8590c";
  function saeIndex(step) {
    const st = S.d.sae.steps;
    let q = 0;
    for (let j = 0; j < st.length; j++) if (st[j] <= step) q = j;
    return q;
  }
  function drawSae(ctx, X, Y, ox, oy, dpr) {
    const d = S.d, A = d.sae;
    S.drawnSae = null;
    if (!A || !A.decoders || A.column !== S.sel) return;
    const q = saeIndex(d.steps[S.t]), L = A.n_latents, m = d.m, base = q * L * m, r = 4 * dpr, tips = [];
    ctx.strokeStyle = SAE_COLOR; ctx.lineWidth = 1.2 * dpr;
    for (let j = 0; j < L; j++) {
      const x = A.decoders[base + j * m], y = m >= 2 ? A.decoders[base + j * m + 1] : 0, px = X(x), py = Y(y);
      tips.push([x, y]);
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath(); ctx.moveTo(ox, oy); ctx.lineTo(px, py); ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(px, py - r); ctx.lineTo(px + r, py); ctx.lineTo(px, py + r); ctx.lineTo(px - r, py); ctx.closePath(); ctx.stroke();
    }
    S.drawnSae = { step: A.steps[q], instance: d.instances[A.column], tips: tips };
  }
  function saeLegend() {
    const d = S.d, A = d.sae;
    if (!A) return;
    const sep = ui.legend.textContent ? "   " : "";
    if (A.note) { ui.legend.append(el("span", { class: "note", text: (sep ? " · " : "") + A.note })); return; }
    const who = d.k > 1 ? ` of instance ${d.instances[A.column]}` : "";
    ui.legend.append(sep, el("span", { class: "swatch dashed", style: `border-top-color: ${SAE_COLOR}` }),
      el("span", { style: `color: ${SAE_COLOR}`, text: ` ◇ ${A.key}${who}, ${A.when} (from ${A.path})` }));
  }
  // ------------------------------------------------------------------ a finite-data run's training examples
  // (animsup/rendering/datapoints.py picks them, payload.py's _datapoints sends them sparse): h = W x of
  // each drawn example at the shown snapshot, small crimson dots (over the arrows when at most 100, else under), as in the video
  const DATA_COLOR = "#c2255c";
  function decodeData(p) {
    if (!p || !p.items) return p || null;
    return { items: p.items.map((it) => Object.assign({}, it, { example: f32(it.example), feature: f32(it.feature), value: f32(it.value) })) };
  }
  function dataItem() {
    const D = S.d.datapoints;
    return D && D.items ? D.items.find((it) => it.column === S.sel) || null : null;
  }
  function drawData(ctx, X, Y, dpr, top) {  // top: after the arrows (at most 100 dots), else before them
    const d = S.d, it = dataItem();
    if (!top) S.drawnData = null;
    if (!it || (it.drawn <= 100) !== top) return;
    const t = S.t, i = S.sel, h = new Float64Array(it.drawn * 2);
    for (let q = 0; q < it.value.length; q++) {
      const e = it.example[q], f = it.feature[q], v = it.value[q];
      h[2 * e] += w(t, i, 0, f) * v;
      if (d.m >= 2) h[2 * e + 1] += w(t, i, 1, f) * v;
    }
    ctx.fillStyle = DATA_COLOR; ctx.globalAlpha = it.drawn > 100 ? 0.75 : 0.95;
    for (let e = 0; e < it.drawn; e++) { ctx.beginPath(); ctx.arc(X(h[2 * e]), Y(h[2 * e + 1]), 2.5 * dpr, 0, 2 * Math.PI); ctx.fill(); }
    ctx.globalAlpha = 1;
    S.drawnData = { step: d.steps[t], instance: d.instances[i], points: Array.from(h) };
  }
  function dataLegend() {
    const D = S.d.datapoints, it = dataItem();
    if (!D) return;
    const sep = ui.legend.textContent ? "   " : "";
    if (D.note) { ui.legend.append(el("span", { class: "note", text: (sep ? " · " : "") + D.note })); return; }
    if (it) ui.legend.append(sep, el("span", { style: `color: ${DATA_COLOR}`, text: `● ${it.key}` }));
  }
  // ------------------------------------------------------------------ summary of a large model
  // payload "summary" (animsup/viewer/large.py; n > 512 features or view "summary"): no W on the page.
  // Per snapshot: ‖W_i‖ by frequency rank (log x; median line, min–max band per rank bin), the D_i and
  // overlap (max_j |Ŵ_i·Ŵ_j| of features with ‖W_i‖ > ½) histograms on a square-root y axis, and
  // φ½ / Σ D_i / the mean max overlap. Every number comes from animsup.analysis.large; plain canvases.
  const SUM_BLUE = "#1f77b4", SUM_TICKS = [0, 0.01, 0.1, 0.25, 0.5, 1];
  function makeSummary() {
    const d = S.d, p = d.summary, k = d.k, B = p.rank_x.length, H = p.bins;
    S.sum = { rank: f32(p.rank), dims: f32(p.dims_hist), over: f32(p.overlap_hist), scalars: f32(p.scalars), B: B, H: H };
    for (const e of [ui.plane, ui.bias, ui.hover]) e.style.display = "none";
    ui.legend.textContent = "summary of a large model (n = " + d.n.toLocaleString("en-US") + " features): " +
      "‖W_i‖ by " + (p.rank_label && p.rank_label.every((l) => l.startsWith("feature index")) ? "feature index" : "frequency rank") +
      ", the D_i and overlap histograms, φ½ = fraction of features with ‖W_i‖ > ½";
    if (!ui.summary) {
      ui.sumText = el("div", { id: "summary-numbers", class: "readout" });
      ui.sumRank = el("canvas", { id: "summary-rank" });
      ui.sumDims = el("canvas", { id: "summary-dims" });
      ui.sumOver = el("canvas", { id: "summary-overlap" });
      ui.summary = el("div", { id: "summary" }, ui.sumText, ui.sumRank, el("div", { class: "summary-row" }, ui.sumDims, ui.sumOver));
      ui.left.insertBefore(ui.summary, ui.hover);
    }
    ui.grid.textContent = "";
    ui.gridTitle.textContent = k > 1 ? "instances (click to show)" : "";
    S.sumTiles = [];
    if (k > 1) d.instances.forEach((inst, q) => {
      const tile = el("div", { class: "tile", "data-instance": String(inst), text: `#${inst} ${d.labels[q]}` });
      tile.style.padding = "2px 6px";
      tile.addEventListener("click", () => { S.pinned = true; select(q); });
      ui.grid.appendChild(tile);
      S.sumTiles.push(tile);
    });
  }
  function sumCanvas(c, w, h) {
    const dpr = devicePixelRatio || 1;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
      c.style.width = w + "px"; c.style.height = h + "px";
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    return ctx;
  }
  // an axes box: x and y map data to pixels; ticks [value, label] drawn outside, labels under / beside
  function sumAxes(ctx, box, xt, yt, xlabel, ylabel) {
    ctx.strokeStyle = "#d0d7de"; ctx.fillStyle = "#6e7781"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(box.x0, box.y0); ctx.lineTo(box.x0, box.y1); ctx.lineTo(box.x1, box.y1); ctx.stroke();
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const [v, lab] of xt) ctx.fillText(lab, box.x(v), box.y1 + 3);
    const room = 2 * Math.min((box.x0 + box.x1) / 2, ctx.canvas.width / (devicePixelRatio || 1) - (box.x0 + box.x1) / 2) - 4;
    const wide = ctx.measureText(xlabel).width;  // a label wider than the canvas: a smaller font, never clipped
    if (wide > room) ctx.font = `${Math.max(7, Math.floor(11 * room / wide))}px system-ui, sans-serif`;
    ctx.fillText(xlabel, (box.x0 + box.x1) / 2, box.y1 + 16);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const [v, lab] of yt) ctx.fillText(lab, box.x0 - 4, box.y(v));
    ctx.save(); ctx.translate(7, (box.y0 + box.y1) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center"; ctx.fillText(ylabel, 0, 0); ctx.restore();
  }
  function sumBox(x0, y0, x1, y1, xmap, ymap) {
    return { x0: x0, y0: y0, x1: x1, y1: y1, x: (v) => x0 + xmap(v) * (x1 - x0), y: (v) => y1 - ymap(v) * (y1 - y0) };
  }
  function drawSummary() {
    const d = S.d, p = d.summary, s = S.sum, t = S.t, i = S.sel, B = s.B, H = s.H, n = d.n;
    const at = (t * d.k + i);
    const ns = p.scalar_names.length, sc = s.scalars.subarray(at * ns, (at + 1) * ns), nrep = p.n_represented[t][i];
    const ovs = p.overlap_sampled ? p.overlap_sampled[t][i] : 0;  // overlaps of a sample of the represented features
    ui.sumText.textContent = `φ½ ${sc[0].toFixed(2)} (${nrep.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} with ‖W_i‖ > ½)   ` +
      `Σ D_i ${sc[2].toFixed(1)} of m = ${d.m}   mean D_i ${sc[1].toFixed(3)}   mean max overlap${ovs ? " (" + ovs.toLocaleString("en-US") + " sampled)" : ""} ${sc[3].toFixed(2)}   ` +
      `mean (Ŵ_i·Ŵ_j)² ${sc[4].toPrecision(3)} (1/m = ${(1 / d.m).toPrecision(3)})`;
    const W = layout().left, lx = Math.log10(Math.max(n, 2)), ymax = Math.max(d.norm_max || 1, 1.05);
    // norms by rank
    let ctx = sumCanvas(ui.sumRank, W, 230);
    let box = sumBox(50, 8, W - 24, 230 - 36, (v) => Math.log10(v) / lx, (v) => v / ymax);
    const xt = [];
    for (let e = 0; Math.pow(10, e) <= n; e++) xt.push([Math.pow(10, e), Math.pow(10, e).toLocaleString("en-US")]);
    const yt = (ymax > 1.6 ? [0, 0.5, 1, 1.5, 2, 2.5, 3] : [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]).filter((v) => v <= ymax).map((v) => [v, String(v)]);
    sumAxes(ctx, box, xt, yt, p.rank_label ? p.rank_label[i] : "feature rank by frequency (1 = most frequent)", "‖W_i‖");
    ctx.setLineDash([4, 3]); ctx.strokeStyle = "#d0d7de";
    ctx.beginPath(); ctx.moveTo(box.x0, box.y(p.half)); ctx.lineTo(box.x1, box.y(p.half)); ctx.stroke(); ctx.setLineDash([]);
    const r = s.rank.subarray(at * 3 * B, (at + 1) * 3 * B);
    ctx.fillStyle = "rgba(31,119,180,0.18)"; ctx.beginPath();
    for (let q = 0; q < B; q++) ctx.lineTo(box.x(p.rank_x[q]), box.y(r[2 * B + q]));
    for (let q = B - 1; q >= 0; q--) ctx.lineTo(box.x(p.rank_x[q]), box.y(r[q]));
    ctx.fill();
    ctx.strokeStyle = SUM_BLUE; ctx.lineWidth = 1.6; ctx.beginPath();
    for (let q = 0; q < B; q++) ctx.lineTo(box.x(p.rank_x[q]), box.y(r[B + q]));
    ctx.stroke();
    // the two histograms, side by side (fraction of features, square-root y)
    const hw = Math.floor((W - 8) / 2), total = [n, Math.max(nrep, 1)];
    [[ui.sumDims, s.dims, "D_i (feature dimensionality)"], [ui.sumOver, s.over, "max_j |Ŵ_i·Ŵ_j|, ‖W_i‖ > ½; dashed: κ"]].forEach(([c, arr, label], q) => {
      ctx = sumCanvas(c, hw, 170);
      box = sumBox(50, 8, hw - 12, 170 - 36, (v) => v, (v) => Math.sqrt(v));
      sumAxes(ctx, box, [0, 0.2, 0.4, 0.6, 0.8, 1].map((v) => [v, String(v)]), SUM_TICKS.map((v) => [v, String(v)]), label, "fraction");
      const h = arr.subarray(at * H, (at + 1) * H);
      ctx.fillStyle = SUM_BLUE;
      for (let b = 0; b < H; b++) {
        const f = h[b] / total[q];
        if (f > 0) ctx.fillRect(box.x((b + 0.1) / H), box.y(f), box.x((b + 0.9) / H) - box.x((b + 0.1) / H), box.y1 - box.y(f));
      }
      const kappa = p.welch[t][i];  // the Welch bound (Liu et al. Eq. 5): dashed, as in the video
      if (q === 1 && kappa > 0) {
        ctx.setLineDash([4, 3]); ctx.strokeStyle = "#cf222e";
        ctx.beginPath(); ctx.moveTo(box.x(kappa), box.y0); ctx.lineTo(box.x(kappa), box.y1); ctx.stroke(); ctx.setLineDash([]);
      }
    });
    S.sumTiles.forEach((tl, q) => tl.classList.toggle("selected", q === i));
    S.drawn = { t: t, instance: d.instances[i], step: d.steps[t], summary: Array.from(sc), represented: nrep };
  }

  // ------------------------------------------------------------------ events
  function renderEvents() {
    const d = S.d;
    ui.events.textContent = "";
    const evs = d.events[S.sel];
    if (!evs.length) { ui.events.appendChild(el("li", { class: "past", text: d.summary ? "events are not computed for a large model's summary (animsup events LOG)" : "no events found" })); return; }
    evs.forEach((ev, q) => {
      const li = el("li", { "data-step": String(ev[0]) }, el("span", { text: `${q + 1}. step ${fmtStep(ev[0])}: ${ev[2]} ` }), el("span", { class: "kind", text: ev[1] }));
      li.addEventListener("click", () => { S.pinned = true; setPlaying(false); setIndex(indexAtStep(ev[0])); });
      ui.events.appendChild(li);
    });
  }

  function indexAtStep(step) {
    const st = S.d.steps;
    let lo = 0, hi = st.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (st[mid] < step) lo = mid + 1; else hi = mid; }
    return lo;
  }

  function markEvents() {
    const step = S.d.steps[S.t];
    let cur = -1;
    const items = ui.events.children;
    for (let q = 0; q < items.length; q++) {
      const s = +items[q].dataset.step;
      if (!isNaN(s) && s <= step) cur = q;
    }
    for (let q = 0; q < items.length; q++) {
      const s = +items[q].dataset.step;
      items[q].classList.toggle("past", !isNaN(s) && s <= step && q !== cur);
      items[q].classList.toggle("current", q === cur);
    }
  }

  // ------------------------------------------------------------------ state changes
  // a staged run (payload "stages": [first step, 1-S text] per stage): the 1-S of the stage of `step`
  function stageText(d, step) {
    const st = d.stages || [];
    if (!st.length) return "";
    let j = 0;
    while (j + 1 < st.length && st[j + 1][0] <= step) j++;
    return `   1-S ${st[j][1]} (stage ${j + 1}/${st.length})`;
  }

  function draw() {
    S.t0 = performance.now();
    const d = S.d, t = S.t, i = S.sel;
    ui.slider.value = String(t);
    const name = d.shape.length ? d.shape_names[d.shape[t][i]] : "";
    const shape = d.summary ? `summary (n_features = ${d.n.toLocaleString("en-US")}, n_hidden = ${d.m})` : d.m >= 3 ? `${d.W_dec ? "W_decᵀW_enc" : "WᵀW"} (n_hidden = ${d.m})` + (name ? ` · ${name}` : "") : name;
    ui.planeTitle.textContent = `instance ${d.instances[i]} · ${d.labels[i]} · `;
    ui.planeTitle.appendChild(ui.shape);
    ui.shape.textContent = shape;
    const l = snapLoss(t, i);
    ui.readoutMain.textContent = `step ${fmtStep(d.steps[t])}   ${d.loss_labels.readout} ${fmtE3(l)}   snapshot ${t + 1} / ${d.T}` + stageText(d, d.steps[t]);
    ui.readoutLabel.textContent = d.has_loss ? `${d.loss_labels.readout}: ${d.loss_labels.label}, as in the video` : "";
    ui.readout.dataset.step = String(d.steps[t]);
    ui.pos.textContent = `${d.status === "unfinished" ? "running or unfinished" : "status: " + d.status}`;
    if (d.summary) drawSummary(); else { S.plane.redraw(false, false); S.bias.redraw(false, false); }  // summary: a large model
    if (S.loss) S.loss.redraw(false, false);
    if (S.curves) S.curves.redraw(false, false);
    if (S.llcChart) S.llcChart.redraw(false, false);
    hessRedraw();
    // big heatmap sweeps: the grid follows right after the main view (its n² · m work per tile
    // would hold up every scrub); otherwise it is drawn with it
    if (d.summary) { /* no tiles: drawSummary marks the selected instance */ }
    else if (S.d.m >= 3 && S.d.k * S.d.n * S.d.n * S.d.m > 2e6) scheduleTiles(); else drawTiles();
    markEvents();
    showHover();
    S.lastDrawMs = performance.now() - S.t0;  // the uPlot hooks add their share when they run
  }
  function drawn() { S.lastDrawMs = performance.now() - S.t0; }

  function setIndex(t) {
    const T = S.d.T;
    S.t = Math.max(0, Math.min(T - 1, Math.round(t)));
    draw();
  }

  let raf = null, lastTick = 0, carry = 0;
  function setPlaying(on) {
    S.playing = on;
    ui.play.textContent = on ? "❚❚ pause" : "▶ play";
    if (on && S.t >= S.d.T - 1) setIndex(0);
    if (on && raf == null) { lastTick = performance.now(); carry = 0; raf = requestAnimationFrame(tick); }
  }
  function tick(now) {
    raf = null;
    if (!S.playing) return;
    carry += (now - lastTick) / 1000 * BASE_FPS * S.speed;
    lastTick = now;
    if (carry >= 1) {
      const adv = Math.floor(carry);
      carry -= adv;
      let t = S.t + adv;
      if (t >= S.d.T) {
        if (S.loop) t = 0; else { t = S.d.T - 1; setIndex(t); setPlaying(false); return; }
      }
      setIndex(t);
    }
    raf = requestAnimationFrame(tick);
  }

  function header() {
    const d = S.d;
    ui.title.textContent = d.title;
    const st = el("span", { class: "status-" + d.status, id: "status", text: d.status });
    ui.meta.textContent = `${d.path} · ${d.n_snapshots_log.toLocaleString("en-US")} snapshot${d.n_snapshots_log === 1 ? "" : "s"} in the log · status: `;
    ui.meta.appendChild(st);
    if (d.end && d.end.step != null) ui.meta.appendChild(document.createTextNode(` at step ${fmtStep(d.end.step)}`));
    // a live page follows a log until its end record; then it only rechecks the file now and then
    if (d.live) ui.meta.appendChild(el("span", { id: "live", text: finished(d)
      ? ` · finished: the log has ended (rechecked every ${SLOW_POLL_S} s)` : " · live: following the log" }));
    ui.rule.textContent = `showing ${d.rule}`;
  }

  // a new payload (the first, or a live page's next poll): a page the user has not touched shows the
  // default instance and follows the log's end; once the user picked an instance or moved in time
  // (S.pinned) it keeps that instance (by its number: the grid's order may change as losses move) and
  // that step (the nearest shown snapshot: the subsampling may change), following the end only if it was there
  function load(payload, keep) {
    const prev = S.d, atEnd = prev && S.t >= prev.T - 1;
    const prevInstance = prev ? prev.instances[S.sel] : null, prevStep = prev ? prev.steps[S.t] : null;
    S.d = decode(payload);
    S.heatRGB = null;
    const d = S.d;
    ui.slider.max = String(d.T - 1);
    const kept = keep && S.pinned ? d.instances.indexOf(prevInstance) : -1;
    S.sel = kept >= 0 ? kept : d.selected;
    S.sel = Math.min(S.sel, d.k - 1);
    const rebuild = !prev || prev.lim !== d.lim || prev.k !== d.k || prev.m !== d.m || prev.gram_max !== d.gram_max ||
      prev.norm_max !== d.norm_max || JSON.stringify(prev.instances) !== JSON.stringify(d.instances);
    header();
    applyLayout();
    if (d.summary) makeSummary();  // a large model (the summary section)
    else if (rebuild || JSON.stringify(prev.b_range) !== JSON.stringify(d.b_range)) { makePlane(); makeBias(); makeGrid(); }
    if (!S.loss || rebuild || !prev || JSON.stringify(prev.loss_xlim) !== JSON.stringify(d.loss_xlim) ||
        JSON.stringify(prev.loss_ylim) !== JSON.stringify(d.loss_ylim) || prev.has_loss !== d.has_loss) makeLoss();
    else S.loss.setData(lossData(), false);
    makeCurves();
    makeLLC();
    makeHessian();
    renderEvents();
    S.t = !prev || atEnd ? d.T - 1 : nearestIndex(prevStep);  // a live page at the end follows the log
    draw();
  }

  function nearestIndex(step) {
    const st = S.d.steps, q = indexAtStep(step);
    return q > 0 && Math.abs(st[q - 1] - step) <= Math.abs(st[q] - step) ? q - 1 : q;
  }

  // ------------------------------------------------------------------ live mode (animsup view)
  const SLOW_POLL_S = 10;  // a finished log's page polls this often (a log could be rewritten in place)
  function finished(d) { return d.end != null; }
  let revision = null;
  async function poll() {
    try {
      const r = await fetch("payload.json" + (revision ? "?since=" + encodeURIComponent(revision) : ""), { cache: "no-store" });
      if (r.status === 200) {
        const p = await r.json();
        revision = p.revision;
        load(p, S.d != null);
      } else if (r.status === 204 && !S.d) {
        ui.title.textContent = "waiting for the first snapshot…";
      } else if (r.status >= 400) {
        ui.meta.textContent = "cannot show the log: " + (await r.text());
      }
    } catch (e) { /* the server stopped: keep showing what we have */ ui.pos.textContent = "server not reachable"; }
    setTimeout(poll, S.d && finished(S.d) ? SLOW_POLL_S * 1000 : 1000);
  }

  // ------------------------------------------------------------------ start
  buildDom();
  window.animsupViewer = {
    state: S,
    setIndex: setIndex,
    select: select,
    setPlaying: setPlaying,
    w: (t, i, h, j) => w(t, i, h, j),
    timeScrub: async (count) => {  // redraw cost (ms) of `count` scrubs spread over the run, hooks included
      const times = [];
      for (let q = 0; q < count; q++) {
        setIndex(Math.round(q * (S.d.T - 1) / Math.max(1, count - 1)));
        await new Promise((r) => setTimeout(r, 0));  // uPlot draws in a microtask after setIndex returns
        times.push(S.lastDrawMs);
      }
      return times;
    },
  };
  // inside a notebook's frame: tell the cell how tall the page is (animsup/viewer/notebook.py listens)
  if (window.parent !== window && typeof ResizeObserver !== "undefined") {
    new ResizeObserver(() => window.parent.postMessage({ animsupHeight: Math.ceil(document.body.getBoundingClientRect().height) }, "*"))
      .observe(document.body);
  }
  const inline = JSON.parse(document.getElementById("animsup-data").textContent);
  if (window.ANIMSUP_LIVE) poll();
  else if (inline) load(inline, false);
  // the charts follow the window (and a notebook cell's width)
  let resizePending = false;
  function resize() {
    resizePending = false;
    if (!S.d) return;
    applyLayout();
    if (S.plane && !S.d.summary) { const sz = planeSize(); S.plane.setSize(sz); S.bias.setSize({ width: sz.width, height: 130 }); }
    if (S.loss) S.loss.setSize({ width: lossWidth(), height: 260 });
    if (S.curves) S.curves.setSize({ width: lossWidth(), height: 170 });
    if (S.llcChart) S.llcChart.setSize({ width: lossWidth(), height: 170 });
    hessResize();
    draw();
  }
  window.addEventListener("resize", () => { if (!resizePending) { resizePending = true; requestAnimationFrame(resize); } });
})();
