/* homedata charts: the dashboard's own small SVG charts.

   Why hand-written and not Plotly.js: the page must stay under 900 KB over the wire on a first
   visit, and Plotly.js alone is about 1.1 MB brotli'd. The plotly package on the Python package
   index ships only that full bundle (the smaller partial bundles are distributed through npm,
   not through the index a Heroku Python build installs from), and committing a third party's
   minified code to this repository is against the project's rules. What the dashboard needs is
   small: line, scatter, bar, band and heatmap layers on a date or number axis, legends, hover
   values, drag-to-zoom on time series. This file draws exactly that, about 8 KB gzip'd.

   Usage: HomedataCharts.draw(container, spec); see `draw` for the spec. Times are milliseconds
   of the house's wall clock, handled as UTC so that no browser time zone shifts them.

   Accessibility: the <svg> has role="img", an aria-label and a <title> describing the chart; the
   page's own text in each chart container is the fallback when JavaScript is off. Styles are set
   through the CSSOM or SVG presentation attributes only, so the page's CSP needs no inline style.
*/
"use strict";

/* With JavaScript on, chart boxes keep their height while the data loads (see dashboard.css). */
document.documentElement.classList.add("js");

window.HomedataCharts = (function () {
  const NS = "http://www.w3.org/2000/svg";
  const H = 3600e3;
  const D = 24 * H;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad2 = (n) => String(n).padStart(2, "0");
  let measurer = null;

  function fontSize() {
    return window.matchMedia("(max-width: 700px)").matches ? 11 : 12;
  }

  function font() {
    return fontSize() + "px system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
  }

  function textWidth(text) {
    if (!measurer) measurer = document.createElement("canvas").getContext("2d");
    measurer.font = font();
    return measurer.measureText(String(text)).width;
  }

  function svg(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function label(parent, x, y, text, attrs) {
    const node = svg("text", Object.assign({ x: x, y: y, fill: "#444", "font-size": fontSize() }, attrs || {}), parent);
    node.textContent = text;
    return node;
  }

  function truncate(text, width) {
    text = String(text);
    if (textWidth(text) <= width) return text;
    while (text.length > 1 && textWidth(text + "…") > width) text = text.slice(0, -1);
    return text + "…";
  }

  /* --- times and numbers --- */

  const day = (s) => Date.parse(s + "T00:00:00Z");
  const time = (s) => Date.parse(s.length === 10 ? s + "T00:00:00Z" : s + "Z");

  function isoMinute(t) {
    const d = new Date(t);
    return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + "T" +
      pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds());
  }

  function dateText(t, withTime) {
    const d = new Date(t);
    const text = MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + ", " + d.getUTCFullYear();
    return withTime ? text + " " + pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) : text;
  }

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999);
  }

  function numberTicks(lo, hi, count, step) {
    step = step || niceStep(hi - lo, count);
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(9)));
    return out;
  }

  function numberText(v) {
    return String(Number(v.toFixed(6)));
  }

  /* One style per axis: "5k, 10k, 15k" when the largest tick reaches 10,000, else plain. */
  function tickFormat(ticks) {
    if (Math.max(0, ...ticks.map(Math.abs)) < 10000) return numberText;
    return (v) => (v === 0 ? "0" : Number((v / 1000).toFixed(3)) + "k");
  }

  /* Steps a date axis may use, finest first: [approximate ms, unit, how many units]. */
  const TIME_STEPS = [[H, "h", 1], [3 * H, "h", 3], [6 * H, "h", 6], [12 * H, "h", 12], [D, "d", 1],
    [2 * D, "d", 2], [7 * D, "w", 1], [14 * D, "w", 2], [31 * D, "m", 1], [61 * D, "m", 2], [92 * D, "m", 3],
    [183 * D, "m", 6], [366 * D, "y", 1], [731 * D, "y", 2], [1827 * D, "y", 5], [3653 * D, "y", 10]];

  function timeTicks(lo, hi, step) {
    const [, unit, n] = step;
    const out = [];
    if (unit === "h" || unit === "d" || unit === "w") {
      const size = n * (unit === "h" ? H : unit === "d" ? D : 7 * D);
      const offset = unit === "w" ? 4 * D : 0; /* 1970-01-01 was a Thursday: weeks start Monday */
      for (let t = Math.ceil((lo - offset) / size) * size + offset; t <= hi; t += size) out.push(t);
      return out;
    }
    const first = new Date(lo);
    let y = first.getUTCFullYear();
    let m = unit === "y" ? 0 : first.getUTCMonth();
    if (unit === "y") y = Math.ceil(y / n) * n;
    else m = Math.ceil(m / n) * n;
    for (;;) {
      const t = Date.UTC(y, m, 1);
      if (t > hi) break;
      if (t >= lo) out.push(t);
      if (unit === "y") y += n;
      else m += n;
    }
    return out;
  }

  /* A tick's label: the main line, and a second line (year, or date) shown where it changes. */
  function timeLabel(t, unit) {
    const d = new Date(t);
    const month = MONTHS[d.getUTCMonth()];
    if (unit === "y") return [String(d.getUTCFullYear()), ""];
    if (unit === "m") return [month, String(d.getUTCFullYear())];
    if (unit === "h") return [pad2(d.getUTCHours()) + ":00", month + " " + d.getUTCDate() + ", " + d.getUTCFullYear()];
    return [month + " " + d.getUTCDate(), String(d.getUTCFullYear())];
  }

  /* The finest step whose labels fit side by side in `width` pixels. */
  function fitTimeTicks(lo, hi, width) {
    for (const step of TIME_STEPS) {
      if ((hi - lo) / step[0] > 40) continue;
      const ticks = timeTicks(lo, hi, step);
      const widest = Math.max(0, ...ticks.map((t) => textWidth(timeLabel(t, step[1])[0])));
      if (ticks.length * (widest + 14) <= width) return { ticks: ticks, unit: step[1] };
    }
    const last = TIME_STEPS[TIME_STEPS.length - 1];
    return { ticks: timeTicks(lo, hi, last), unit: last[1] };
  }

  function fitNumberTicks(lo, hi, width, step) {
    if (step) return numberTicks(lo, hi, 0, step);
    for (let count = Math.max(2, Math.floor(width / 40)); count >= 2; count--) {
      const ticks = numberTicks(lo, hi, count);
      const widest = Math.max(0, ...ticks.map((v) => textWidth(numberText(v))));
      if (ticks.length * (widest + 14) <= width) return ticks;
    }
    return numberTicks(lo, hi, 2);
  }

  /* --- colours --- */

  /* Yellow (few) to dark red (many), as ColorBrewer's YlOrRd. */
  const HEAT = [[255, 255, 204], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];

  function heat(f) {
    f = Math.min(1, Math.max(0, f)) * (HEAT.length - 1);
    const i = Math.min(HEAT.length - 2, Math.floor(f));
    const a = HEAT[i], b = HEAT[i + 1], w = f - i;
    return "rgb(" + a.map((v, k) => Math.round(v + (b[k] - v) * w)).join(",") + ")";
  }

  /* --- layout --- */

  function extent(values, into) {
    for (const v of values) {
      if (v === null || v === undefined || Number.isNaN(v)) continue;
      if (v < into[0]) into[0] = v;
      if (v > into[1]) into[1] = v;
    }
    return into;
  }

  function xExtent(spec) {
    if (spec.range) return spec.range.slice();
    const e = [Infinity, -Infinity];
    for (const panel of spec.panels) {
      for (const layer of panel.layers) {
        if (layer.hidden) continue;
        if (layer.type === "cells") extent([layer.x[0], layer.x[layer.x.length - 1] + layer.cell], e);
        else if (layer.type === "bar") extent([layer.x[0] - layer.width / 2, layer.x[layer.x.length - 1] + layer.width / 2], e);
        else if (layer.type === "hbar") extent([0].concat(layer.values), e);
        else if (layer.type !== "rule") extent(layer.x, e);
      }
    }
    if (spec.x.pad) e[1] += (e[1] - e[0]) * spec.x.pad;
    if (spec.x.margin) { /* dots at the ends are drawn whole */
      const m = (e[1] - e[0]) * spec.x.margin;
      e[0] -= m;
      e[1] += m;
    }
    if (spec.x.min !== undefined) e[0] = spec.x.min;
    if (spec.x.max !== undefined) e[1] = spec.x.max;
    if (!(e[1] > e[0])) return [e[0] === Infinity ? 0 : e[0] - 1, e[0] === Infinity ? 1 : e[0] + 1];
    return e;
  }

  function yExtent(panel, lo, hi, xOf) {
    const e = [Infinity, -Infinity];
    for (const layer of panel.layers) {
      if (layer.hidden) continue;
      if (layer.type === "hbar") continue;
      else if (layer.type === "rule") extent([layer.y], e);
      else if (layer.type === "band") {
        extent(layer.lo.filter((_, i) => inside(xOf(layer, i), lo, hi)), e);
        extent(layer.hi.filter((_, i) => inside(xOf(layer, i), lo, hi)), e);
      } else if (layer.type === "bar") extent(stackTops(panel, layer).filter((_, i) => inside(layer.x[i], lo, hi)).concat([0]), e);
      else if (layer.y) extent(layer.y.filter((_, i) => inside(layer.x[i], lo, hi)), e);
    }
    if (panel.y.zero) extent([0], e);
    if (!(e[1] >= e[0])) return [0, 1];
    if (e[1] === e[0]) return [e[0] - 1, e[1] + 1];
    return e;
  }

  const inside = (v, lo, hi) => v >= lo && v <= hi;

  /* Stacked bars: each bar layer with `stack` sits on the ones before it in its panel. */
  function stackBase(panel, layer) {
    const base = new Array(layer.x.length).fill(0);
    if (!layer.stack) return base;
    for (const other of panel.layers) {
      if (other === layer) break;
      if (other.type === "bar" && other.stack === layer.stack && !other.hidden) other.y.forEach((v, i) => { base[i] += v || 0; });
    }
    return base;
  }

  function stackTops(panel, layer) {
    const base = stackBase(panel, layer);
    return layer.y.map((v, i) => base[i] + (v || 0));
  }

  /* --- drawing --- */

  function prepare(container) {
    if (container.chartParts) return container.chartParts;
    container.replaceChildren();
    container.classList.add("drawn");
    const legend = document.createElement("div");
    legend.className = "chart-legend";
    const holder = document.createElement("div");
    holder.className = "chart-area";
    const tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    holder.appendChild(tip);
    container.append(legend, holder);
    const parts = { legend: legend, holder: holder, tip: tip, width: 0 };
    container.chartParts = parts;
    new ResizeObserver(() => {
      const w = holder.clientWidth;
      if (container.chartSpec && Math.abs(w - parts.width) > 2) render(container);
    }).observe(holder);
    return parts;
  }

  /* spec: {label, x: {kind: "time"|"number", title, min, max, step}, range: [lo, hi] or null,
     panels: [{y: {title, zero, categories, format}, weight, layers: [...]}], shapes: [{x0, x1, color}],
     scale: {title, stops: [[value, label]], colour: f(value)} for a heatmap's key, zoom: f(range)}.
     Layers: line {x, y, color, name, width, dash, markers}; points {x, y, color, name, text, r};
     band {x, lo, hi, color}; bar {x, y, width, color, name, stack}; rule {y, color, dash, name};
     cells {x, cell, z (rows of values), color: f(v), hover: f(row, col)};
     hbar {values, colors, labels, hover: f(i)}. `format(v)` writes a layer's values in tooltips. */
  function draw(container, spec) {
    spec.panels = spec.panels || [{ y: spec.y || {}, layers: spec.layers || [] }];
    container.chartSpec = spec;
    container.chart = {
      layers: spec.panels.flatMap((p) => p.layers).map((l) => ({ type: l.type, name: l.name || "", color: l.color || "" })),
    };
    render(container);
  }

  function drawEmpty(container, text, ariaLabel) {
    draw(container, { label: ariaLabel + ": " + text, empty: text, x: { kind: "number" }, panels: [{ y: {}, layers: [] }] });
  }

  function render(container) {
    const spec = container.chartSpec;
    const parts = prepare(container);
    const fs = fontSize();
    drawLegend(container, spec, parts);
    const W = Math.max(120, parts.holder.clientWidth);
    const Ht = Math.max(120, parts.holder.clientHeight || 300);
    parts.width = W;
    const old = parts.holder.querySelector("svg");
    const root = svg("svg", { width: W, height: Ht, viewBox: "0 0 " + W + " " + Ht, role: "img", "aria-label": spec.label, "font-family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif" });
    svg("title", {}, root).textContent = spec.label;
    if (old) old.replaceWith(root);
    else parts.holder.prepend(root);
    if (spec.empty) {
      label(root, W / 2, Ht / 2, spec.empty, { "text-anchor": "middle", fill: "#666" });
      return;
    }
    const [lo, hi] = xExtent(spec);
    const isTime = spec.x.kind === "time";
    const xOf = (layer, i) => layer.x[i];

    /* y axes first: their labels set the left margin. */
    const axes = spec.panels.map((panel) => {
      if (panel.y.categories) {
        const cats = panel.y.categories;
        const widest = Math.min(W * 0.42, Math.max(...cats.map((c) => textWidth(c))));
        return { cats: cats, left: widest + 8 };
      }
      const e = yExtent(panel, lo, hi, xOf);
      const span = e[1] - e[0];
      if (!panel.y.zero || e[0] < 0) e[0] -= span * 0.04;
      e[1] += span * 0.04;
      return { extent: e, left: 0 };
    });
    const plotHeightGuess = (Ht - 40) / spec.panels.length;
    axes.forEach((axis, k) => {
      if (axis.cats) return;
      const step = niceStep(axis.extent[1] - axis.extent[0], Math.max(2, Math.floor(plotHeightGuess / 34)));
      axis.extent = [Math.floor(axis.extent[0] / step + 1e-9) * step, Math.ceil(axis.extent[1] / step - 1e-9) * step];
      if (spec.panels[k].y.zero && axis.extent[0] < 0 && yExtent(spec.panels[k], lo, hi, xOf)[0] >= 0) axis.extent[0] = 0;
      axis.ticks = numberTicks(axis.extent[0], axis.extent[1], 0, step);
      const fmt = spec.panels[k].y.tick || tickFormat(axis.ticks);
      axis.format = fmt;
      axis.left = Math.max(...axis.ticks.map((v) => textWidth(fmt(v)))) + 8 + (spec.panels[k].y.title ? fs + 6 : 0);
    });
    const left = Math.ceil(Math.max(...axes.map((a) => a.left)) + 4);
    const right = 10;
    const top = 6;
    const xTitle = spec.x.title ? fs + 6 : 0;
    const bottom = fs + 11 + (isTime ? fs + 2 : 0) + xTitle;
    const plotW = Math.max(40, W - left - right);
    const gap = 16;
    const weights = spec.panels.map((p) => p.weight || 1);
    const totalWeight = weights.reduce((a, b) => a + b, 0);
    const usable = Ht - top - bottom - gap * (spec.panels.length - 1);
    const xs = (v) => left + ((v - lo) / (hi - lo)) * plotW;
    const xInv = (px) => lo + ((px - left) / plotW) * (hi - lo);

    let y0 = top;
    const frames = spec.panels.map((panel, k) => {
      const h = (usable * weights[k]) / totalWeight;
      const frame = { top: y0, height: h, axis: axes[k], panel: panel };
      y0 += h + gap;
      return frame;
    });

    const clipId = "clip-" + container.id;
    const defs = svg("defs", {}, root);
    const grid = svg("g", { stroke: "#e6e9ee", "stroke-width": 1 }, root);
    const plots = svg("g", {}, root);

    /* x ticks: along the bottom of the last panel, with grid lines through every panel. */
    const last = frames[frames.length - 1];
    const xAxisY = last.top + last.height;
    const xLabels = svg("g", { "text-anchor": "middle" }, root);
    let xTicks;
    if (isTime) {
      const fitted = fitTimeTicks(lo, hi, plotW);
      let previous = "";
      xTicks = fitted.ticks;
      for (const t of fitted.ticks) {
        const [main, sub] = timeLabel(t, fitted.unit);
        const x = xs(t);
        const w = textWidth(main) / 2;
        label(xLabels, Math.min(Math.max(x, w + 1), W - w - 1), xAxisY + fs + 7, main);
        if (sub && sub !== previous) {
          const sw = textWidth(sub) / 2;
          label(xLabels, Math.min(Math.max(x, sw + 1), W - sw - 1), xAxisY + 2 * fs + 9, sub, { fill: "#666" });
          previous = sub;
        }
      }
    } else {
      xTicks = fitNumberTicks(lo, hi, plotW, spec.x.step).filter((v) => v >= lo && v <= hi);
      const xFormat = spec.x.tick || tickFormat(xTicks);
      for (const v of xTicks) {
        const text = xFormat(v);
        const w = textWidth(text) / 2;
        label(xLabels, Math.min(Math.max(xs(v), w + 1), W - w - 1), xAxisY + fs + 7, text);
      }
    }
    if (spec.x.title) label(root, left + plotW / 2, Ht - 4, spec.x.title, { "text-anchor": "middle", fill: "#555" });

    frames.forEach((frame, k) => {
      const { top: ft, height: fh, axis, panel } = frame;
      const id = clipId + "-" + k;
      svg("rect", { x: left, y: ft, width: plotW, height: fh }, svg("clipPath", { id: id }, defs));
      for (const t of xTicks) svg("line", { x1: xs(t), x2: xs(t), y1: ft, y2: ft + fh, stroke: "#f0f2f5" }, grid);
      let ys;
      if (axis.cats) {
        const band = fh / axis.cats.length;
        ys = (i) => ft + band * (i + 0.5);
        frame.band = band;
        axis.cats.forEach((c, i) => label(root, left - 6, ys(i) + fs * 0.35, truncate(c, left - 10), { "text-anchor": "end" }));
      } else {
        const [a, b] = axis.extent;
        ys = (v) => ft + fh - ((v - a) / (b - a)) * fh;
        for (const v of axis.ticks) {
          svg("line", { x1: left, x2: left + plotW, y1: ys(v), y2: ys(v) }, grid);
          label(root, left - 6, ys(v) + fs * 0.35, axis.format(v), { "text-anchor": "end" });
        }
        if (panel.y.title) {
          const cy = ft + fh / 2;
          label(root, fs, cy, truncate(panel.y.title, fh), { "text-anchor": "middle", fill: "#555", transform: "rotate(-90 " + fs + " " + cy + ")" });
        }
      }
      frame.ys = ys;
      svg("line", { x1: left, x2: left + plotW, y1: ft + fh, y2: ft + fh, stroke: "#9aa3ad" }, root);
      const g = svg("g", { "clip-path": "url(#" + id + ")" }, plots);
      if (k === 0) for (const s of spec.shapes || []) {
        svg("rect", { x: xs(s.x0), y: ft, width: Math.max(1, xs(s.x1) - xs(s.x0)), height: fh, fill: s.color }, g);
      }
      for (const layer of panel.layers) if (!layer.hidden) drawLayer(g, layer, panel, frame, xs, ys, left, plotW);
    });

    const geometry = { frames: frames, xs: xs, xInv: xInv, left: left, plotW: plotW, lo: lo, hi: hi, isTime: isTime, W: W, H: Ht };
    interact(container, root, spec, parts, geometry);
  }

  function path(xs, ys, x, y) {
    let d = "";
    let pen = false;
    for (let i = 0; i < x.length; i++) {
      if (y[i] === null || y[i] === undefined) { pen = false; continue; }
      d += (pen ? "L" : "M") + xs(x[i]).toFixed(1) + " " + ys(y[i]).toFixed(1);
      pen = true;
    }
    return d;
  }

  function drawLayer(g, layer, panel, frame, xs, ys, left, plotW) {
    const t = layer.type;
    if (t === "line") {
      svg("path", { d: path(xs, ys, layer.x, layer.y), fill: "none", stroke: layer.color, "stroke-width": layer.width || 1.3, "stroke-dasharray": layer.dash || "none", "stroke-linejoin": "round" }, g);
      if (layer.markers) layer.x.forEach((x, i) => { if (layer.y[i] !== null) svg("circle", { cx: xs(x), cy: ys(layer.y[i]), r: 2.5, fill: layer.color }, g); });
    } else if (t === "points") {
      const dots = svg("g", { fill: layer.color, "fill-opacity": layer.opacity || 0.55 }, g);
      layer.x.forEach((x, i) => svg("circle", { cx: xs(x).toFixed(1), cy: ys(layer.y[i]).toFixed(1), r: layer.r || 2.6 }, dots));
    } else if (t === "band") {
      let d = "";
      let run = [];
      const flush = () => {
        if (run.length) {
          d += "M" + run.map((i) => xs(layer.x[i]).toFixed(1) + " " + ys(layer.hi[i]).toFixed(1)).join("L") +
            "L" + run.slice().reverse().map((i) => xs(layer.x[i]).toFixed(1) + " " + ys(layer.lo[i]).toFixed(1)).join("L") + "Z";
        }
        run = [];
      };
      layer.x.forEach((_, i) => (layer.lo[i] === null || layer.hi[i] === null ? flush() : run.push(i)));
      flush();
      svg("path", { d: d, fill: layer.color, "fill-opacity": 0.18, stroke: "none" }, g);
    } else if (t === "bar") {
      const base = stackBase(panel, layer);
      const bars = svg("g", { fill: layer.color, "fill-opacity": layer.opacity || 1 }, g);
      const w = Math.max(0.6, xs(layer.width) - xs(0) - (xs(layer.width) - xs(0) > 4 ? 1 : 0));
      layer.x.forEach((x, i) => {
        const v = layer.y[i];
        if (!v) return;
        const yTop = ys(base[i] + v), yBottom = ys(base[i]);
        svg("rect", { x: (xs(x) - w / 2).toFixed(1), y: yTop.toFixed(1), width: w.toFixed(1), height: Math.max(0.5, yBottom - yTop).toFixed(1) }, bars);
      });
    } else if (t === "rule") {
      svg("line", { x1: left, x2: left + plotW, y1: ys(layer.y), y2: ys(layer.y), stroke: layer.color, "stroke-dasharray": layer.dash || "none" }, g);
    } else if (t === "cells") {
      const w = Math.max(1, xs(layer.cell) - xs(0));
      const gapX = w > 6 ? 1 : 0; /* narrow cells touch, or the gaps would be all one sees */
      const h = frame.band;
      layer.z.forEach((row, r) => row.forEach((v, c) => {
        if (v === null || v === undefined) return;
        svg("rect", { x: (xs(layer.x[c]) + gapX / 2).toFixed(2), y: (frame.ys(r) - h / 2 + 1).toFixed(1), width: (w - gapX + (gapX ? 0 : 0.3)).toFixed(2), height: Math.max(1, h - 2).toFixed(1), fill: layer.color(v) }, g);
      }));
    } else if (t === "hbar") {
      const h = frame.band * 0.7;
      layer.values.forEach((v, i) => svg("rect", { x: xs(0), y: (frame.ys(i) - h / 2).toFixed(1), width: Math.max(1, xs(v) - xs(0)).toFixed(1), height: h.toFixed(1), fill: layer.colors[i] }, g));
    }
  }

  function drawLegend(container, spec, parts) {
    const legend = parts.legend;
    legend.replaceChildren();
    const named = spec.panels.flatMap((p) => p.layers).filter((l) => l.name && l.legend !== false);
    for (const layer of named) {
      const item = document.createElement("button");
      item.type = "button";
      item.className = "legend-item" + (layer.hidden ? " off" : "");
      item.setAttribute("aria-pressed", layer.hidden ? "false" : "true");
      item.title = layer.hidden ? "Show " + layer.name : "Hide " + layer.name;
      const swatch = document.createElement("span");
      swatch.className = "swatch" + (layer.type === "line" || layer.type === "rule" ? " line" : "");
      if (layer.dash) swatch.style.background = "repeating-linear-gradient(90deg, " + layer.color + " 0 3px, transparent 3px 5px)";
      else swatch.style.backgroundColor = layer.color;
      item.append(swatch, layer.name);
      item.addEventListener("click", () => {
        layer.hidden = !layer.hidden;
        render(container);
      });
      legend.appendChild(item);
    }
    if (spec.scale) {
      const key = document.createElement("span");
      key.className = "legend-scale";
      key.append(spec.scale.title + ":");
      for (const [value, text] of spec.scale.stops) {
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.backgroundColor = spec.scale.colour(value);
        key.append(" ", swatch, text);
      }
      legend.appendChild(key);
    }
    if (spec.zoom && spec.range) {
      const reset = document.createElement("button");
      reset.type = "button";
      reset.className = "legend-item reset";
      reset.textContent = "Reset zoom";
      reset.addEventListener("click", () => spec.zoom(null));
      legend.appendChild(reset);
    }
    legend.hidden = !legend.childElementCount;
  }

  /* --- hover and zoom --- */

  function nearest(x, target) {
    let a = 0, b = x.length - 1;
    if (b < 0) return -1;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (x[m] < target) a = m;
      else b = m;
    }
    return Math.abs(x[a] - target) <= Math.abs(x[b] - target) ? a : b;
  }

  function tipRows(spec, geo, px, py) {
    const rows = [];
    let head = null;
    let guide = null;
    for (const frame of geo.frames) {
      if (py < frame.top - 8 || py > frame.top + frame.height + 8) continue;
      for (const layer of frame.panel.layers) {
        if (layer.hidden) continue;
        if (layer.type === "cells") {
          const c = nearest(layer.x.map((v) => v + layer.cell / 2), geo.xInv(px));
          const r = Math.floor((py - frame.top) / frame.band);
          if (c >= 0 && r >= 0 && r < layer.z.length && layer.z[r][c] !== null && layer.z[r][c] !== undefined) {
            return { head: layer.hover(r, c), rows: [] };
          }
          continue;
        }
        if (layer.type === "hbar") {
          const i = Math.floor((py - frame.top) / frame.band);
          if (i >= 0 && i < layer.values.length) return { head: layer.hover(i), rows: [] };
          continue;
        }
        if (layer.type === "points") {
          let best = -1, bestD = 400;
          layer.x.forEach((x, i) => {
            const d = (geo.xs(x) - px) ** 2 + (frame.ys(layer.y[i]) - py) ** 2;
            if (d < bestD) { bestD = d; best = i; }
          });
          if (best >= 0) return { head: layer.hover(best), rows: [], at: [geo.xs(layer.x[best]), frame.ys(layer.y[best])] };
          continue;
        }
        if (!layer.x || layer.hover === false || !layer.name) continue;
        const i = nearest(layer.x, geo.xInv(px));
        if (i < 0 || Math.abs(geo.xs(layer.x[i]) - px) > 30) continue;
        const v = layer.type === "band" ? null : layer.y[i];
        if (v === null || v === undefined) continue;
        if (head === null) {
          head = spec.x.kind === "time" ? dateText(layer.x[i], spec.x.hoverTime) : (spec.x.hoverText || String)(layer.x[i]);
          guide = geo.xs(layer.x[i]);
        }
        rows.push([layer.color, layer.name, (layer.format || ((n) => Number(n).toFixed(1)))(v, i)]);
      }
    }
    return head === null ? null : { head: head, rows: rows, guide: guide };
  }

  function interact(container, root, spec, parts, geo) {
    const tip = parts.tip;
    const f0 = geo.frames[0], fN = geo.frames[geo.frames.length - 1];
    const plotTop = f0.top, plotBottom = fN.top + fN.height;
    const overlay = svg("rect", { x: geo.left, y: plotTop, width: geo.plotW, height: plotBottom - plotTop, fill: "transparent" }, root);
    const guide = svg("line", { y1: plotTop, y2: plotBottom, stroke: "#888", "stroke-dasharray": "3 3", visibility: "hidden" }, root);
    const selection = svg("rect", { y: plotTop, height: plotBottom - plotTop, fill: "rgba(31,119,180,0.15)", stroke: "rgba(31,119,180,0.6)", visibility: "hidden" }, root);
    if (spec.zoom) overlay.classList.add("zoomable");
    let drag = null;

    const local = (ev) => {
      const box = root.getBoundingClientRect();
      return [ev.clientX - box.left, ev.clientY - box.top];
    };
    const hide = () => {
      tip.hidden = true;
      guide.setAttribute("visibility", "hidden");
    };
    const show = (px, py) => {
      const found = tipRows(spec, geo, px, py);
      if (!found) return hide();
      tip.replaceChildren();
      const head = document.createElement("div");
      head.className = "tip-head";
      head.textContent = found.head;
      tip.appendChild(head);
      for (const [colour, name, value] of found.rows) {
        const row = document.createElement("div");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.backgroundColor = colour;
        row.append(swatch, name + ": " + value);
        tip.appendChild(row);
      }
      tip.hidden = false;
      const w = tip.offsetWidth, h = tip.offsetHeight;
      const ax = found.guide !== undefined && found.guide !== null ? found.guide : px;
      let x = ax + 12;
      if (x + w > geo.W) x = Math.max(0, ax - w - 12);
      tip.style.left = x + "px";
      tip.style.top = Math.max(0, Math.min(py - h / 2, geo.H - h)) + "px";
      if (found.guide !== undefined && found.guide !== null) {
        guide.setAttribute("x1", found.guide);
        guide.setAttribute("x2", found.guide);
        guide.setAttribute("visibility", "visible");
      } else {
        guide.setAttribute("visibility", "hidden");
      }
    };

    overlay.addEventListener("pointermove", (ev) => {
      const [px, py] = local(ev);
      if (drag) {
        const a = Math.max(geo.left, Math.min(drag, px)), b = Math.min(geo.left + geo.plotW, Math.max(drag, px));
        selection.setAttribute("x", a);
        selection.setAttribute("width", b - a);
        selection.setAttribute("visibility", "visible");
        hide();
        return;
      }
      show(px, py);
    });
    overlay.addEventListener("pointerleave", () => { if (!drag) hide(); });
    overlay.addEventListener("pointerdown", (ev) => {
      const [px, py] = local(ev);
      show(px, py);
      if (!spec.zoom) return;
      drag = px;
      overlay.setPointerCapture(ev.pointerId);
    });
    overlay.addEventListener("pointerup", (ev) => {
      if (drag === null) return;
      const [px] = local(ev);
      const a = Math.min(drag, px), b = Math.max(drag, px);
      drag = null;
      selection.setAttribute("visibility", "hidden");
      if (b - a >= 6) {
        hide();
        spec.zoom([geo.xInv(Math.max(a, geo.left)), geo.xInv(Math.min(b, geo.left + geo.plotW))]);
      }
    });
    overlay.addEventListener("pointercancel", () => {
      drag = null;
      selection.setAttribute("visibility", "hidden");
    });
    if (spec.zoom) overlay.addEventListener("dblclick", () => spec.zoom(null));
  }

  return { draw: draw, drawEmpty: drawEmpty, day: day, time: time, isoMinute: isoMinute, dateText: dateText, heat: heat, D: D };
})();
