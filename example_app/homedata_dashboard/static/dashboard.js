/* homedata dashboard: fetch each chart's data from the JSON API and draw it with Plotly.js. */
"use strict";

(function () {
  /* Rooms get their colour from the API (one per room, everywhere); doors and activity types
     use palettes that share no colour with the rooms'. */
  const DOOR_COLORS = ["#ff7f0e", "#7f7f7f", "#bcbd22", "#393b79"];
  const ACTIVITY_COLORS = ["#ff7f0e", "#bcbd22", "#7f7f7f", "#ffbb78", "#c49c94", "#dbdb8d", "#9edae5", "#393b79"];
  const compact = () => window.matchMedia("(max-width: 700px)").matches;
  /* On a phone the toolbar would sit on the legend: drop it (pinch and drag still zoom). */
  const config = () => ({
    responsive: true,
    displaylogo: false,
    displayModeBar: compact() ? false : "hover",
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
  });
  const sampleFor = (chart) => document.querySelector('[data-sample-for="' + chart + '"]') !== null;

  function layout(extra) {
    const base = {
      /* On a laptop the legend sits below the (hover) toolbar's row, never under it. */
      margin: { l: 52, r: 16, t: compact() ? 36 : 60, b: 40 },
      font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: compact() ? 11 : 12 },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
      hoverlabel: { namelength: -1 },
    };
    return Object.assign(base, extra || {});
  }

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
      el.textContent = "Could not load this chart: " + error.message;
      el.classList.add("failed");
    }
  }

  /* A chart with nothing to draw still gets a plot, with the reason written in it. */
  function drawEmpty(id, text) {
    return Plotly.react(id, [], layout({
      xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [{ text: text, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }],
    }), config());
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
      params.set("start", range[0]);
      params.set("end", range[1]);
    }
    if (seriesState[measure] && seriesState[measure].raw) params.set("cleaned", "0");
    if (format) params.set("format", format);
    return "/api/series?" + params.toString();
  }

  async function drawSeries(measure, range) {
    const id = "chart-" + measure;
    const data = await getJSON(seriesURL(measure, range));
    const traces = data.series.map((s) => ({
      type: "scatter",
      mode: "lines",
      name: s.room,
      x: s.x,
      y: s.y,
      line: { width: 1.2, color: s.color },
      hovertemplate: "%{y:.1f} " + data.unit + "<extra>" + s.room + "</extra>",
      connectgaps: false,
    }));
    const xaxis = { type: "date" };
    if (range) xaxis.range = range;
    const lay = layout({ xaxis: xaxis, yaxis: { title: { text: data.unit } }, hovermode: "x unified", uirevision: measure });
    await Plotly.react(id, traces, lay, config());
    const full = data.series.every((s) => s.resolution === "full");
    const shown = data.series.reduce((a, s) => a + s.points, 0);
    const raw = data.series.reduce((a, s) => a + s.raw_points, 0);
    setText(
      "note-" + measure,
      (full ? "Full 10-minute resolution: " : "Min/max per bucket (zoom in for every reading): ") +
        fmt(shown) + " points drawn for " + fmt(raw) + " " + (data.cleaned ? "cleaned" : "raw") + " readings.",
    );
    const link = document.querySelector('a[data-csv="' + measure + '"]');
    if (link) link.href = seriesURL(measure, range, "csv");
    if (!seriesState[measure].bound) {
      seriesState[measure].bound = true;
      document.getElementById(id).on("plotly_relayout", (ev) => {
        if (ev["xaxis.range[0]"] !== undefined) {
          seriesState[measure].range = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
        } else if (Array.isArray(ev["xaxis.range"])) {
          seriesState[measure].range = ev["xaxis.range"].slice(0, 2);
        } else if (ev["xaxis.autorange"]) {
          seriesState[measure].range = null;
        } else {
          return;
        }
        clearTimeout(seriesState[measure].timer);
        seriesState[measure].timer = setTimeout(() => {
          drawSeries(measure, seriesState[measure].range).catch((e) => showError("note-" + measure, e));
        }, 150);
      });
    }
  }

  /* --- daily low/mean/high --- */

  async function drawDaily() {
    const room = document.getElementById("daily-room").value || "";
    const data = await getJSON("/api/daily?room=" + encodeURIComponent(room));
    document.getElementById("daily-csv").href = "/api/daily?room=" + encodeURIComponent(room) + "&format=csv";
    if (!data.days.length) return drawEmpty("chart-daily", "No readings");
    const traces = [
      { x: data.days, y: data.high, name: "high", mode: "lines", line: { width: 0.5, color: data.color, dash: "dot" }, hovertemplate: "high %{y:.1f}<extra></extra>" },
      { x: data.days, y: data.low, name: "low", mode: "lines", fill: "tonexty", fillcolor: data.color + "26", line: { width: 0.5, color: data.color, dash: "dot" }, hovertemplate: "low %{y:.1f}<extra></extra>" },
      { x: data.days, y: data.mean, name: data.room + " mean", mode: "lines", line: { width: 1.5, color: data.color }, hovertemplate: "mean %{y:.1f}<extra></extra>" },
    ];
    await Plotly.react("chart-daily", traces, layout({ xaxis: { type: "date" }, yaxis: { title: { text: data.unit } }, hovermode: "x unified" }), config());
  }

  /* --- indoor vs outdoor --- */

  async function drawOutdoor() {
    const room = document.getElementById("outdoor-room").value || "";
    const data = await getJSON("/api/indoor-outdoor?room=" + encodeURIComponent(room));
    document.getElementById("outdoor-csv").href = "/api/indoor-outdoor?room=" + encodeURIComponent(room) + "&format=csv";
    if (!data.days.length) return drawEmpty("chart-outdoor", "No days with both indoor and outdoor readings");
    const traces = [
      {
        x: data.outdoor, y: data.indoor, text: data.days, mode: "markers", type: "scatter", name: "days",
        marker: { size: 5, color: data.color, opacity: 0.55 },
        hovertemplate: "%{text}<br>outdoor %{x:.0f} °F<br>indoor %{y:.1f} °F<extra></extra>",
      },
    ];
    if (data.slope !== null && data.outdoor.length) {
      const xs = [Math.min(...data.outdoor), Math.max(...data.outdoor)];
      traces.push({ x: xs, y: xs.map((x) => data.slope * x + data.intercept), mode: "lines", name: "least squares", line: { color: "#111", dash: "dash" }, hoverinfo: "skip" });
    }
    await Plotly.react("chart-outdoor", traces, layout({
      xaxis: { title: { text: "outdoor daily average (NOAA TAVG, °F)" } },
      yaxis: { title: { text: "indoor daily mean °F" } },
      showlegend: false,
    }), config());
    setText("note-outdoor", data.r === null
      ? "Not enough overlapping days for a correlation."
      : (sampleFor("outdoor") ? "Sample data, not the real house: " : "") +
        data.room + ": r = " + data.r.toFixed(2) + " over " + fmt(data.n) + " days; indoor moves " + data.slope.toFixed(2) + " °F per outdoor °F.");
  }

  /* --- doors --- */

  async function drawDoors() {
    const data = await getJSON("/api/doors");
    await Plotly.react("chart-doors-heatmap", [{
      type: "heatmap", z: data.heatmap.openings, x: data.heatmap.hours, y: data.heatmap.weekdays,
      colorscale: "YlOrRd", reversescale: true, hovertemplate: "%{y} %{x}:00<br>%{z} openings<extra></extra>",
      colorbar: { thickness: 10 },
    }], layout({ xaxis: { title: { text: "hour of day" }, dtick: 3 }, yaxis: { autorange: "reversed" } }), config());
    const longest = data.longest.slice().reverse();
    await Plotly.react("chart-doors-longest", [{
      type: "bar", orientation: "h",
      x: longest.map((d) => d.seconds / 60),
      /* On a phone: "Front 05-12 19:55" (no year, first word of the name) so labels fit. */
      y: longest.map((d) => compact()
        ? d.door.split(" ")[0] + " " + d.opened.replace("T", " ").slice(5, 16)
        : d.door + " " + d.opened.replace("T", " ").slice(0, 16)),
      marker: { color: longest.map((d) => DOOR_COLORS[d.door_id % DOOR_COLORS.length]) },
      hovertemplate: "%{y}<br>open %{x:.1f} min<extra></extra>",
    }], layout({ margin: { l: 8, r: 16, t: compact() ? 8 : 30, b: 40 }, yaxis: { automargin: true }, xaxis: { title: { text: "minutes open" } } }), config());
    fillTable("doors-table", data.doors.map((d) => [d.name, fmt(d.openings), fmt(d.per_day, 1), d.median_seconds === null ? "—" : duration(d.median_seconds), fmt(d.unclosed)]));
  }

  /* --- air quality --- */

  async function drawAir() {
    const data = await getJSON("/api/air-quality");
    const p = data.profile;
    await Plotly.react("chart-air-profile", [
      { x: p.hours, y: p.p90, name: "90th percentile", type: "bar", marker: { color: "rgba(255,127,14,0.35)" }, hovertemplate: "%{x}:00 p90 %{y:.0f} ppb<extra></extra>" },
      { x: p.hours, y: p.median, name: "median", type: "scatter", mode: "lines+markers", line: { color: "#ff7f0e" }, hovertemplate: "%{x}:00 median %{y:.0f} ppb<extra></extra>" },
    ], layout({ barmode: "overlay", xaxis: { title: { text: "hour of day" }, dtick: 3 }, yaxis: { title: { text: "ppb" } } }), config());
    const shapes = data.elevations.map((e) => ({
      type: "rect", xref: "x", yref: "paper", x0: e.first_day, x1: e.last_day + "T23:59:59", y0: 0, y1: 1,
      fillcolor: "rgba(214,39,40,0.15)", line: { width: 0 },
    }));
    await Plotly.react("chart-air-daily", [
      { x: data.daily.days, y: data.daily.median, name: "daily median", mode: "lines", line: { color: "#ff7f0e" }, hovertemplate: "%{x}<br>median %{y:.0f} ppb<extra></extra>" },
      { x: [data.daily.days[0], data.daily.days[data.daily.days.length - 1]], y: [data.threshold, data.threshold], name: "threshold", mode: "lines", line: { dash: "dot", color: "#d62728", width: 1 }, hoverinfo: "skip" },
    ], layout({ shapes: shapes, xaxis: { type: "date" }, yaxis: { title: { text: "ppb" } } }), config());
    const events = data.elevations.map((e) => e.first_day + (e.days > 1 ? " to " + e.last_day : "") + " (" + e.days + " days, median up to " + fmt(e.peak_median) + " ppb)");
    setText("note-air", (events.length ? "Multi-day elevations: " + events.join("; ") + ". " : "No multi-day elevation. ") +
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
    const z = [], custom = [];
    for (const room of data.rooms) {
      const at = new Map(room.weeks.map((w, i) => [w, i]));
      const row = [], info = [];
      for (const week of weeks) {
        const i = at.get(week);
        if (i === undefined) { row.push(null); info.push(""); continue; }
        const counts = ISSUES.map(([k]) => room.weekly[k][i]);
        const total = counts.reduce((a, b) => a + b, 0);
        row.push(Math.log10(1 + total));
        info.push(ISSUES.map(([, label], j) => label + ": " + counts[j]).join("<br>"));
      }
      z.push(row);
      custom.push(info);
    }
    await Plotly.react("chart-health", [{
      type: "heatmap", x: weeks, y: data.rooms.map((r) => r.room), z: z, customdata: custom,
      colorscale: "YlOrRd", reversescale: true, zmin: 0, zmax: 3, xgap: 1, ygap: 2,
      hovertemplate: "%{y}, week of %{x}<br>%{customdata}<extra></extra>",
      colorbar: { thickness: 10, tickvals: [0, 1, 2, 3], ticktext: ["0", "10", "100", "1000+"], title: { text: "flagged" } },
    }], layout({ xaxis: { type: "date" }, yaxis: { automargin: true }, margin: { l: 8, r: 16, t: compact() ? 10 : 30, b: 40 } }), config());
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
    /* Top: steps per day with a 7-day mean; bottom: active minutes per day, stacked by type. */
    const week = data.steps.map((_, i) => {
      const part = data.steps.slice(Math.max(0, i - 6), i + 1);
      return part.reduce((a, b) => a + b, 0) / part.length;
    });
    const traces = [
      { type: "bar", x: data.days, y: data.steps, name: "steps", marker: { color: "rgba(90,100,112,0.35)" }, hovertemplate: "%{x}<br>%{y:,} steps<extra></extra>" },
      { type: "scatter", mode: "lines", x: data.days, y: week, name: "steps, 7-day mean", line: { color: "#111", width: 1.5 }, hovertemplate: "7-day mean %{y:,.0f}<extra></extra>" },
    ];
    data.types.forEach((t, i) => traces.push({
      type: "bar", x: data.days, y: t.minutes, name: t.label + " (min)", xaxis: "x", yaxis: "y2",
      marker: { color: ACTIVITY_COLORS[i % ACTIVITY_COLORS.length] }, hovertemplate: "%{x}<br>" + t.label + " %{y:.0f} min<extra></extra>",
    }));
    await Plotly.react("chart-workouts", traces, layout({
      barmode: "stack", bargap: 0.1,
      xaxis: { type: "date", anchor: "y2" },
      yaxis: { title: { text: "steps" }, domain: [0.56, 1] },
      yaxis2: { title: { text: "minutes" }, domain: [0, 0.46] },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
      margin: { l: 56, r: 16, t: compact() ? 40 : 60, b: 36 },
    }), config());
    setText("note-workouts", data.not_counted.length
      ? "Not counted as active: " + data.not_counted.map((t) => t.label + " " + fmt(t.total_minutes / 60, 1) + " h").join(", ") + "."
      : "Every activity type counts as active.");
  }

  /* --- wiring --- */

  function run(fn, errorTarget) {
    return fn().catch((e) => showError(errorTarget, e));
  }

  function start() {
    if (typeof Plotly === "undefined") return;
    for (const measure of ["temperature", "humidity"]) {
      seriesState[measure] = { range: null, raw: false, bound: false };
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
