/* homedata dashboard: fetch each chart's data from the JSON API and draw it with charts.js
   (HomedataCharts, our own SVG charts; see that file for why it is not Plotly.js). */
"use strict";

(function () {
  const C = window.HomedataCharts;
  /* Rooms get their colour from the API (one per room, everywhere); doors and activity types
     use palettes that share no colour with the rooms'. */
  const DOOR_COLORS = ["#ff7f0e", "#7f7f7f", "#bcbd22", "#393b79"];
  const ACTIVITY_COLORS = ["#ff7f0e", "#bcbd22", "#7f7f7f", "#ffbb78", "#c49c94", "#dbdb8d", "#9edae5", "#393b79"];
  const compact = () => window.matchMedia("(max-width: 700px)").matches;
  const sampleFor = (chart) => document.querySelector('[data-sample-for="' + chart + '"]') !== null;
  /* The chart's accessible name: its card's title, "sample data" when it is, and what it shows. */
  function describe(id, chart, what) {
    const card = document.getElementById(id).closest(".card");
    const title = card ? card.querySelector("h2").textContent.trim() : id;
    return title + (sampleFor(chart) ? " (sample data)" : "") + ": " + what;
  }
  const span = (xs) => (xs.length ? C.dateText(xs[0]) + " to " + C.dateText(xs[xs.length - 1]) : "no data");
  const days = (list) => list.map(C.day);

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) {
      throw new Error((body.error && body.error.message) || response.statusText);
    }
    return body;
  }

  function showError(id, error) {
    const el = document.getElementById(id);
    if (el) {
      el.chartParts = el.chartSpec = null; /* a chart starts afresh after an error */
      el.textContent = "Could not load this chart: " + error.message;
      el.classList.add("failed");
    }
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  /* A cell is text, or {text, color} for a room name with its colour swatch. */
  function fillTable(id, rows) {
    const body = document.querySelector("#" + id + " tbody");
    if (!body) return;
    body.replaceChildren();
    for (const values of rows) {
      const tr = document.createElement("tr");
      values.forEach((v) => {
        if (v !== null && typeof v === "object") {
          const td = cell(tr, "");
          const swatch = document.createElement("span");
          swatch.className = "swatch";
          swatch.style.backgroundColor = v.color;
          td.append(swatch, v.text);
        } else {
          cell(tr, v);
        }
      });
      body.appendChild(tr);
    }
  }

  const fmt = (n, digits) => (n === null || n === undefined ? "—" : Number(n).toLocaleString(undefined, { maximumFractionDigits: digits || 0 }));
  const duration = (s) => (s >= 3600 ? (s / 3600).toFixed(1) + " h" : s >= 60 ? Math.round(s / 60) + " min" : s + " s");

  /* --- temperature and humidity over time, re-fetched at full resolution when zoomed --- */

  const seriesState = {};

  function seriesURL(measure, range, format) {
    const params = new URLSearchParams({ measure: measure });
    if (range) {
      params.set("start", C.isoMinute(range[0]));
      params.set("end", C.isoMinute(range[1]));
    }
    if (seriesState[measure] && seriesState[measure].raw) params.set("cleaned", "0");
    if (format) params.set("format", format);
    return "/api/series?" + params.toString();
  }

  function zoomSeries(measure, range) {
    const state = seriesState[measure];
    state.range = range;
    /* Show the chosen window at once from what is drawn, then fetch its finer readings. */
    if (state.spec) {
      state.spec.range = range;
      C.draw(document.getElementById("chart-" + measure), state.spec);
    }
    clearTimeout(state.timer);
    state.timer = setTimeout(() => run(() => drawSeries(measure, range), "note-" + measure), 120);
  }

  async function drawSeries(measure, range) {
    const id = "chart-" + measure;
    const state = seriesState[measure];
    const token = (state.token = (state.token || 0) + 1);
    const data = await getJSON(seriesURL(measure, range));
    if (token !== state.token) return; /* a newer zoom is on its way */
    const unit = data.unit;
    const layers = data.series.map((s) => ({
      type: "line", name: s.room, x: s.x, y: s.y, color: s.color, width: 1.2,
      format: (v) => v.toFixed(1) + " " + unit,
    }));
    const xs = data.series.flatMap((s) => (s.x.length ? [s.x[0], s.x[s.x.length - 1]] : [])).sort((a, b) => a - b);
    state.spec = {
      label: describe(id, measure, "line chart of " + data.series.map((s) => s.room).join(", ") + ", " + span(range || xs) + ", in " + unit + "."),
      x: { kind: "time", hoverTime: true },
      range: range,
      panels: [{ y: { title: unit }, layers: layers }],
      zoom: (r) => zoomSeries(measure, r),
    };
    if (!layers.length) C.drawEmpty(document.getElementById(id), "No " + measure + " readings", state.spec.label);
    else C.draw(document.getElementById(id), state.spec);
    const full = data.series.every((s) => s.resolution === "full");
    const shown = data.series.reduce((a, s) => a + s.points, 0);
    const raw = data.series.reduce((a, s) => a + s.raw_points, 0);
    setText(
      "note-" + measure,
      (full ? "Full 10-minute resolution: " : "Min/max per bucket (drag across the chart to zoom in for every reading): ") +
        fmt(shown) + " points drawn for " + fmt(raw) + " " + (data.cleaned ? "cleaned" : "raw") + " readings.",
    );
    const link = document.querySelector('a[data-csv="' + measure + '"]');
    if (link) link.href = seriesURL(measure, range, "csv");
  }

  /* --- daily low/mean/high --- */

  async function drawDaily() {
    const room = document.getElementById("daily-room").value || "";
    const data = await getJSON("/api/daily?room=" + encodeURIComponent(room));
    document.getElementById("daily-csv").href = "/api/daily?room=" + encodeURIComponent(room) + "&format=csv";
    const el = document.getElementById("chart-daily");
    if (!data.days.length) return C.drawEmpty(el, "No readings", describe("chart-daily", "daily", "no readings"));
    const x = days(data.days);
    const unit = data.unit;
    const f = (v) => v.toFixed(1) + " " + unit;
    C.draw(el, {
      label: describe("chart-daily", "daily", "band of daily low to high with the daily mean for " + data.room + ", " + span(x) + "."),
      x: { kind: "time" },
      panels: [{
        y: { title: unit },
        layers: [
          { type: "band", x: x, lo: data.low, hi: data.high, color: data.color },
          { type: "line", name: "daily high", x: x, y: data.high, color: data.color, width: 0.6, dash: "2 2", format: f },
          { type: "line", name: data.room + " mean", x: x, y: data.mean, color: data.color, width: 1.5, format: f },
          { type: "line", name: "daily low", x: x, y: data.low, color: data.color, width: 0.6, dash: "2 2", format: f },
        ],
      }],
    });
  }

  /* --- indoor vs outdoor --- */

  async function drawOutdoor() {
    const room = document.getElementById("outdoor-room").value || "";
    const data = await getJSON("/api/indoor-outdoor?room=" + encodeURIComponent(room));
    document.getElementById("outdoor-csv").href = "/api/indoor-outdoor?room=" + encodeURIComponent(room) + "&format=csv";
    const el = document.getElementById("chart-outdoor");
    const what = "scatter of indoor daily mean against outdoor daily average for " + data.room;
    if (!data.days.length) {
      setText("note-outdoor", "");
      return C.drawEmpty(el, "No days with both indoor and outdoor readings", describe("chart-outdoor", "outdoor", what));
    }
    const layers = [{
      type: "points", name: data.room, legend: false, x: data.outdoor, y: data.indoor, color: data.color,
      hover: (i) => data.days[i] + ": outdoor " + data.outdoor[i].toFixed(0) + " °F, indoor " + data.indoor[i].toFixed(1) + " °F",
    }];
    if (data.slope !== null) {
      const xs = [Math.min(...data.outdoor), Math.max(...data.outdoor)];
      layers.push({ type: "line", name: "least squares", x: xs, y: xs.map((v) => data.slope * v + data.intercept), color: "#111", dash: "5 4", hover: false });
    }
    C.draw(el, {
      label: describe("chart-outdoor", "outdoor", what + " over " + fmt(data.n) + " days" + (data.r === null ? "." : ", r = " + data.r.toFixed(2) + ".")),
      x: { kind: "number", margin: 0.02, title: compact() ? "outdoor daily avg (NOAA, °F)" : "outdoor daily average (NOAA TAVG, °F)" },
      panels: [{ y: { title: "indoor daily mean °F" }, layers: layers }],
    });
    setText("note-outdoor", data.r === null
      ? "Not enough overlapping days for a correlation."
      : (sampleFor("outdoor") ? "Sample data, not the real house: " : "") +
        data.room + ": r = " + data.r.toFixed(2) + " over " + fmt(data.n) + " days; indoor moves " + data.slope.toFixed(2) + " °F per outdoor °F.");
  }

  /* --- doors --- */

  async function drawDoors() {
    const data = await getJSON("/api/doors");
    const hm = data.heatmap;
    const most = Math.max(1, ...hm.openings.flat());
    const colour = (v) => (v ? C.heat(v / most) : "#f7f7f2");
    C.draw(document.getElementById("chart-doors-heatmap"), {
      label: describe("chart-doors-heatmap", "doors-heatmap", "heatmap of door openings by weekday (rows) and hour of day (columns), up to " + most + " openings in one cell."),
      x: { kind: "number", title: "hour of day", step: 3, min: -0.5, max: 23.5 },
      panels: [{
        y: { categories: hm.weekdays },
        layers: [{ type: "cells", x: hm.hours.map((h) => h - 0.5), cell: 1, z: hm.openings, color: colour,
          hover: (r, c) => hm.weekdays[r] + " " + String(hm.hours[c]).padStart(2, "0") + ":00: " + hm.openings[r][c] + " openings" }],
      }],
      scale: { title: "openings", stops: [0, 0.25, 0.5, 0.75, 1].map((f) => [Math.round(f * most), String(Math.round(f * most))]), colour: colour },
    });
    const longest = data.longest;
    /* On a phone: "Front 05-12 19:55" (no year, first word of the name) so labels fit. */
    const labels = longest.map((d) => compact()
      ? d.door.split(" ")[0] + " " + d.opened.replace("T", " ").slice(5, 16)
      : d.door + " " + d.opened.replace("T", " ").slice(0, 16));
    const el = document.getElementById("chart-doors-longest");
    if (!longest.length) C.drawEmpty(el, "No door openings", describe("chart-doors-longest", "doors-longest", "no openings"));
    else C.draw(el, {
      label: describe("chart-doors-longest", "doors-longest", "horizontal bars of the " + longest.length + " longest door openings, the longest " + duration(longest[0].seconds) + "."),
      x: { kind: "number", title: "minutes open", min: 0, pad: 0.04 },
      panels: [{
        y: { categories: labels },
        layers: [{ type: "hbar", values: longest.map((d) => d.seconds / 60), colors: longest.map((d) => DOOR_COLORS[d.door_id % DOOR_COLORS.length]),
          hover: (i) => longest[i].door + " opened " + longest[i].opened.replace("T", " ") + ", open " + duration(longest[i].seconds) }],
      }],
    });
    fillTable("doors-table", data.doors.map((d) => [{ text: d.name, color: DOOR_COLORS[d.door_id % DOOR_COLORS.length] }, fmt(d.openings), fmt(d.per_day, 1), d.median_seconds === null ? "—" : duration(d.median_seconds), fmt(d.unclosed)]));
  }

  /* --- air quality --- */

  async function drawAir() {
    const data = await getJSON("/api/air-quality");
    const p = data.profile;
    const ppb = (v) => v.toFixed(0) + " ppb";
    const hourText = (h) => String(Math.round(h)).padStart(2, "0") + ":00";
    C.draw(document.getElementById("chart-air-profile"), {
      label: describe("chart-air-profile", "air-profile", "bars of the 90th percentile and a line of the median tVOC per hour of day, in ppb."),
      x: { kind: "number", title: "hour of day", step: 3, min: -0.5, max: 23.5, hoverText: hourText },
      panels: [{
        y: { title: "ppb", zero: true },
        layers: [
          { type: "bar", name: "90th percentile", x: p.hours, y: p.p90, width: 0.8, color: "rgba(255,127,14,0.35)", format: ppb },
          { type: "line", name: "median", x: p.hours, y: p.median, color: "#ff7f0e", markers: true, format: ppb },
        ],
      }],
    });
    const x = days(data.daily.days);
    const el = document.getElementById("chart-air-daily");
    if (!x.length) C.drawEmpty(el, "No air-quality readings", describe("chart-air-daily", "air-daily", "no readings"));
    else C.draw(el, {
      label: describe("chart-air-daily", "air-daily", "line of the daily median tVOC, " + span(x) + ", with " + data.elevations.length + " multi-day elevations shaded and the threshold of " + fmt(data.threshold) + " ppb."),
      x: { kind: "time" },
      shapes: data.elevations.map((e) => ({ x0: C.day(e.first_day), x1: C.day(e.last_day) + C.D, color: "rgba(214,39,40,0.15)" })),
      panels: [{
        y: { title: "ppb", zero: true },
        layers: [
          { type: "line", name: "daily median", x: x, y: data.daily.median, color: "#ff7f0e", format: ppb },
          { type: "rule", name: "threshold", y: data.threshold, color: "#d62728", dash: "3 3" },
        ],
      }],
    });
    const events = data.elevations.map((e) => e.first_day + (e.days > 1 ? " to " + e.last_day : "") + " (" + e.days + " days, median up to " + fmt(e.peak_median) + " ppb)");
    setText("note-air", (events.length ? "Multi-day elevations (shaded): " + events.join("; ") + ". " : "No multi-day elevation. ") +
      fmt(data.warm_up_dropped) + " warm-up readings ignored; threshold " + fmt(data.threshold) + " ppb.");
  }

  /* --- sensor health and cleaning --- */

  const ISSUES = [["zero_dropout", "zero drop-outs"], ["out_of_range", "out of range"], ["spike", "spikes"], ["oscillation", "oscillation"]];

  async function drawHealth() {
    const measure = document.getElementById("health-measure").value;
    document.getElementById("health-csv").href = "/api/sensor-health?measure=" + measure + "&format=csv";
    const data = await getJSON("/api/sensor-health?measure=" + measure);
    /* One row per room, one column per week; colour is the flagged readings on a log scale. */
    const weeks = Array.from(new Set(data.rooms.flatMap((r) => r.weeks))).sort();
    const z = [], info = [];
    for (const room of data.rooms) {
      const at = new Map(room.weeks.map((w, i) => [w, i]));
      const row = [], text = [];
      for (const week of weeks) {
        const i = at.get(week);
        if (i === undefined) { row.push(null); text.push(""); continue; }
        const counts = ISSUES.map(([k]) => room.weekly[k][i]);
        row.push(Math.log10(1 + counts.reduce((a, b) => a + b, 0)));
        text.push(ISSUES.map(([, name], j) => name + " " + counts[j]).join(", "));
      }
      z.push(row);
      info.push(text);
    }
    const colour = (v) => C.heat(v / 3);
    const el = document.getElementById("chart-health");
    if (!weeks.length) C.drawEmpty(el, "No " + measure + " readings", describe("chart-health", "health", "no readings"));
    else C.draw(el, {
      label: describe("chart-health", "health", "heatmap of flagged " + measure + " readings per week (columns) and room (rows), " + weeks[0] + " to " + weeks[weeks.length - 1] + "."),
      x: { kind: "time" },
      panels: [{
        y: { categories: data.rooms.map((r) => r.room) },
        layers: [{ type: "cells", x: weeks.map(C.day), cell: 7 * C.D, z: z, color: colour,
          hover: (r, c) => data.rooms[r].room + ", week of " + weeks[c] + ": " + info[r][c] }],
      }],
      scale: { title: "flagged per week", stops: [[0, "0"], [1, "10"], [2, "100"], [3, "1000+"]], colour: colour },
    });
    fillTable("health-table", data.rooms.map((r) => [
      { text: r.room, color: r.color }, (r.coverage * 100).toFixed(1) + " %", fmt(r.issues.zero_dropout), fmt(r.issues.out_of_range), fmt(r.issues.spike),
      r.oscillating_days.length ? fmt(r.issues.oscillation) + " (" + r.oscillating_days.length + " days from " + r.oscillating_days[0] + ")" : "0",
      fmt(r.gaps), r.longest_gaps.length ? r.longest_gaps[0].hours + " h from " + r.longest_gaps[0].from.replace("T", " ").slice(0, 16) : "—",
    ]));
  }

  async function drawCleaning() {
    const [temp, humid] = await Promise.all([getJSON("/api/cleaning"), getJSON("/api/cleaning?measure=humidity")]);
    const rows = [];
    for (const data of [temp, humid]) {
      for (const r of data.rooms) {
        const example = ISSUES.map(([k]) => r.examples[k][0] && k.replace("_", " ") + " " + r.examples[k][0].value + " at " + r.examples[k][0].time.replace("T", " ")).filter(Boolean)[0] || "—";
        rows.push([{ text: r.room, color: r.color }, data.measure, fmt(r.readings), fmt(r.removed) + " (" + (100 * r.removed / Math.max(r.readings, 1)).toFixed(2) + " %)",
          fmt(r.counts.zero_dropout), fmt(r.counts.out_of_range), fmt(r.counts.oscillation), fmt(r.counts.spike), example]);
      }
    }
    fillTable("cleaning-table", rows);
    const t = temp.rules, h = humid.rules;
    setText("cleaning-rules", "Rules: plausible temperature " + t.low + "…" + t.high + " °F and humidity " + h.low + "…" + h.high +
      " %RH (HOMEDATA_TEMPERATURE_RANGE / HOMEDATA_HUMIDITY_RANGE); a spike is more than " + t.spike + " °F or " + h.spike +
      " %RH from the median of its neighbours; a 0 is a drop-out when its neighbours are not near 0; oscillation is a run of readings zig-zagging by at least " +
      t.oscillation_step + " °F; silences over " + t.gap_minutes + " minutes are outages (lines break there).");
  }

  /* --- workouts --- */

  async function drawWorkouts() {
    const user = document.getElementById("workout-user");
    const query = user && user.value ? "?user=" + encodeURIComponent(user.value) : "";
    const data = await getJSON("/api/workouts" + query);
    document.getElementById("workout-csv").href = "/api/workouts" + (query ? query + "&" : "?") + "format=csv";
    const el = document.getElementById("chart-workouts");
    if (!data.days.length) {
      setText("note-workouts", "");
      return C.drawEmpty(el, "No workouts", describe("chart-workouts", "workouts", "no workouts"));
    }
    /* Top: steps per day with a 7-day mean; bottom: active minutes per day, stacked by type. */
    const x = days(data.days);
    const week = data.steps.map((_, i) => {
      const part = data.steps.slice(Math.max(0, i - 6), i + 1);
      return part.reduce((a, b) => a + b, 0) / part.length;
    });
    const steps = (v) => fmt(v) + " steps";
    const minutes = (v) => v.toFixed(0) + " min";
    C.draw(el, {
      label: describe("chart-workouts", "workouts", "bars of steps per day with a 7-day mean, and below them active minutes per day stacked by " +
        data.types.map((t) => t.label).join(", ") + ", for " + data.user + ", " + span(x) + "."),
      x: { kind: "time" },
      panels: [
        { y: { title: "steps", zero: true }, layers: [
          { type: "bar", name: "steps", x: x, y: data.steps, width: C.D, color: "rgba(90,100,112,0.4)", format: steps },
          { type: "line", name: "steps, 7-day mean", x: x, y: week, color: "#111", width: 1.5, format: steps },
        ] },
        { y: { title: "minutes", zero: true }, layers: data.types.map((t, i) => ({
          type: "bar", name: t.label + " (min)", x: x, y: t.minutes, width: C.D, stack: "active",
          color: ACTIVITY_COLORS[i % ACTIVITY_COLORS.length], format: minutes,
        })) },
      ],
    });
    setText("note-workouts", data.not_counted.length
      ? "Not counted as active: " + data.not_counted.map((t) => t.label + " " + fmt(t.total_minutes / 60, 1) + " h").join(", ") + "."
      : "Every activity type counts as active.");
  }

  /* --- wiring --- */

  function run(fn, errorTarget) {
    return fn().catch((e) => showError(errorTarget, e));
  }

  function start() {
    if (!C) return;
    for (const measure of ["temperature", "humidity"]) {
      seriesState[measure] = { range: null, raw: false };
      setText("note-" + measure, "Loading…");
      run(() => drawSeries(measure, null), "note-" + measure);
    }
    document.querySelectorAll(".raw-toggle").forEach((box) => {
      box.addEventListener("change", () => {
        const m = box.dataset.chart;
        seriesState[m].raw = box.checked;
        run(() => drawSeries(m, seriesState[m].range), "note-" + m);
      });
    });
    run(drawDaily, "chart-daily");
    run(drawOutdoor, "chart-outdoor");
    run(drawDoors, "chart-doors-heatmap");
    run(drawAir, "chart-air-profile");
    run(drawHealth, "chart-health");
    run(drawCleaning, "cleaning-rules");
    run(drawWorkouts, "chart-workouts");
    document.getElementById("daily-room").addEventListener("change", () => run(drawDaily, "chart-daily"));
    document.getElementById("outdoor-room").addEventListener("change", () => run(drawOutdoor, "chart-outdoor"));
    document.getElementById("health-measure").addEventListener("change", () => run(drawHealth, "chart-health"));
    const user = document.getElementById("workout-user");
    if (user) user.addEventListener("change", () => run(drawWorkouts, "chart-workouts"));
  }

  document.addEventListener("DOMContentLoaded", start);
})();
