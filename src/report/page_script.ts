/**
 * The report page's script, as text: it reads the chart specs from the page's JSON data block,
 * draws them with Chart.js (reference lines and error bars by a small plugin), wires the CSV/PNG/SVG
 * download links and sortable tables, then marks the page ready. It goes into the page as an
 * inline script allowed by its hash, so the CSP needs no `'unsafe-inline'`.
 *
 * @module
 */

/** The script text (plain browser JavaScript). */
export const PAGE_SCRIPT = `
"use strict";
const data = JSON.parse(document.getElementById("sb-data").textContent);
const palette = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
const dashes = [[], [6, 3], [2, 2], [8, 3, 2, 3]];
if (data.charts.length > 0) {
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 11;
}
function fmtTick(v, log) {
  const a = Math.abs(v);
  if (log) {
    const m = v / Math.pow(10, Math.floor(Math.log10(a)));
    if (![1, 2, 5].some((k) => Math.abs(m - k) < 1e-6)) return "";
  }
  if (a === 0) return "0";
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}
const overlay = {
  id: "sbOverlay",
  afterDatasetsDraw(chart, _args, opts) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    chart.data.datasets.forEach((d, j) => {
      const meta = chart.getDatasetMeta(j);
      if (meta.hidden) return;
      d.data.forEach((p, k) => {
        if (!p || typeof p !== "object" || p.low === undefined || p.high === undefined) return;
        const el = meta.data[k];
        if (!el) return;
        const y1 = scales.y.getPixelForValue(p.low), y2 = scales.y.getPixelForValue(p.high);
        ctx.strokeStyle = d.borderColor;
        ctx.lineWidth = 1.2;
        ctx.beginPath();
        ctx.moveTo(el.x, y1); ctx.lineTo(el.x, y2);
        ctx.moveTo(el.x - 3, y1); ctx.lineTo(el.x + 3, y1);
        ctx.moveTo(el.x - 3, y2); ctx.lineTo(el.x + 3, y2);
        ctx.stroke();
      });
    });
    (opts.refLines || []).forEach((r, i) => {
      const y = scales.y.getPixelForValue(r.y);
      if (!(y >= chartArea.top && y <= chartArea.bottom)) return;
      ctx.strokeStyle = "#555";
      ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(chartArea.left, y); ctx.lineTo(chartArea.right, y); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#333";
      // Alternate sides so that two close lines (dense and its gate) keep readable labels.
      ctx.textAlign = i % 2 === 0 ? "left" : "right";
      ctx.fillText(r.label, i % 2 === 0 ? chartArea.left + 4 : chartArea.right - 4, i % 2 === 0 ? y - 3 : y + 11);
    });
    ctx.restore();
  },
};
function axis(title, log, extra) {
  return Object.assign({
    type: log ? "logarithmic" : "linear",
    title: { display: !!title, text: title || "" },
    ticks: { callback: (v) => fmtTick(Number(v), log), autoSkip: true },
  }, extra || {});
}
function colour(j) { return palette[j % palette.length]; }
function build(s) {
  const plugins = { sbOverlay: { refLines: s.refLines || [] }, legend: { labels: { boxWidth: 18 } } };
  if (s.kind === "bar") {
    return {
      type: "bar",
      data: { labels: s.labels, datasets: s.datasets.map((d, j) => ({ label: d.label, data: d.data, backgroundColor: colour(j) })) },
      options: { responsive: false, plugins, scales: { x: { ticks: { autoSkip: false, maxRotation: 60 } }, y: axis(s.yTitle, s.logY) } },
    };
  }
  const datasets = s.datasets.map((d, j) => ({
    label: d.label,
    data: d.data.filter((p) => p !== null),
    showLine: s.kind === "line" || !!d.dashed,
    borderDash: d.dashed ? [6, 4] : dashes[Math.floor(j / palette.length) % dashes.length],
    borderColor: d.dashed ? "#999" : colour(j),
    backgroundColor: d.dashed ? "#999" : colour(j),
    pointRadius: d.dashed ? 0 : 3,
    borderWidth: 1.5,
  }));
  const x = s.kind === "ci"
    ? { type: "category", labels: s.labels, ticks: { autoSkip: false, maxRotation: 60 } }
    : axis(s.xTitle, s.logX);
  // Error bars are drawn by the overlay, outside Chart.js's own range: widen the y axis to hold them.
  const ends = s.datasets.flatMap((d) => d.data.filter((p) => p && typeof p === "object" && p.low !== undefined && p.high !== undefined).flatMap((p) => [p.low, p.high]));
  const range = ends.length > 0 ? { suggestedMin: Math.min(...ends), suggestedMax: Math.max(...ends) } : {};
  return { type: "scatter", data: { datasets }, options: { responsive: false, plugins, scales: { x, y: axis(s.yTitle, s.logY, range) } } };
}
function download(name, href) {
  const a = document.createElement("a");
  a.href = href; a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}
data.charts.forEach((s, i) => {
  const canvas = document.getElementById("chart-" + i);
  new Chart(canvas, Object.assign(build(s), { plugins: [overlay] }));
  const csv = document.getElementById("csv-" + i);
  if (csv) csv.addEventListener("click", (e) => {
    e.preventDefault();
    download(s.id + ".csv", URL.createObjectURL(new Blob([s.csv], { type: "text/csv" })));
  });
  const png = document.getElementById("png-" + i);
  if (png) png.addEventListener("click", (e) => { e.preventDefault(); download(s.id + ".png", canvas.toDataURL("image/png")); });
  const svg = document.getElementById("svg-" + i);
  if (svg) svg.addEventListener("click", (e) => {
    e.preventDefault();
    download(s.id + ".svg", URL.createObjectURL(new Blob([s.svg], { type: "image/svg+xml" })));
  });
});
for (const table of document.querySelectorAll("table.sortable")) {
  table.querySelectorAll("thead th").forEach((th, col) => {
    th.addEventListener("click", () => {
      const body = table.tBodies[0];
      const rows = [...body.rows].filter((r) => !r.classList.contains("detail"));
      const dir = th.dataset.dir === "asc" ? -1 : 1;
      th.dataset.dir = dir === 1 ? "asc" : "desc";
      const key = (r) => { const t = r.cells[col] ? r.cells[col].textContent : ""; const n = Number(t); return t !== "" && Number.isFinite(n) ? n : t; };
      rows.sort((a, b) => { const x = key(a), y = key(b); return (typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === "number" ? -1 : 1) * dir; });
      for (const r of rows) body.appendChild(r);
    });
  });
}
const filter = document.getElementById("filter");
if (filter) filter.addEventListener("input", () => {
  const q = filter.value.toLowerCase();
  for (const row of document.querySelectorAll("table.filterable tbody tr")) {
    row.hidden = q !== "" && !row.textContent.toLowerCase().includes(q);
  }
});
document.body.dataset.ready = "1";
`;
