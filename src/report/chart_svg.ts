/**
 * A chart as a standalone SVG file, drawn from the same {@linkcode ChartSpec} the page draws with
 * Chart.js: axes with the page's tick format, one colour (and dash pattern past ten) per series,
 * error bars, reference lines, the legend and the title. It is vector text a user can paste into a
 * paper; the page offers it as a download beside each chart, so it works from a file opened from
 * disk. Every label is escaped as XML text, so a string from a run folder stays text in the file.
 *
 * @module
 */

import type { ChartPoint, ChartSpec } from "./chart_spec.ts";

/** Options of {@linkcode chartSvg}. */
export interface ChartSvgOptions {
  /** Width in pixels (default 960, the page's canvas). */
  widthPx?: number;
  /** Height of the plot and axes in pixels, without title and legend (default 360). */
  plotHeightPx?: number;
}

const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
const DASHES = ["", "6 3", "2 2", "8 3 2 3"];
const FONT_PX = 11;
/** Average glyph width of the sans-serif font at 11 px, for layout without a text engine. */
const CHAR_PX = 6.2;

const XML: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

function xml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML[c]!);
}

function num(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/**
 * An axis tick's label, as the page prints it: at most three significant digits, exponents for
 * very large or small values, and on a log axis only the 1, 2 and 5 of each decade.
 *
 * @param v The tick value.
 * @param log Whether the axis is logarithmic.
 * @returns The label ("" for a log tick that is not 1, 2 or 5 times a power of ten).
 */
export function tickLabel(v: number, log: boolean): string {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (log) {
    const m = v / Math.pow(10, Math.floor(Math.log10(a)));
    if (![1, 2, 5].some((k) => Math.abs(m - k) < 1e-6)) return "";
  }
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

interface Scale {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function linearScale(lo: number, hi: number, fromZero: boolean): Scale {
  if (fromZero) {
    lo = Math.min(0, lo);
    hi = Math.max(0, hi);
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, 6);
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = min; v <= max + step * 1e-6; v += step) ticks.push(Number(v.toPrecision(12)));
  return { min, max, log: false, ticks };
}

function logScale(lo: number, hi: number): Scale {
  const min = Math.pow(10, Math.floor(Math.log10(lo)));
  let max = Math.pow(10, Math.ceil(Math.log10(hi)));
  if (max <= min) max = min * 10;
  const decades = Math.round(Math.log10(max / min));
  // Many decades: label the powers of ten only, so the labels never overlap.
  const steps = decades > 4 ? [1] : [1, 2, 5];
  const ticks: number[] = [];
  for (let d = min; d <= max * (1 + 1e-9); d *= 10) {
    for (const k of steps) {
      const v = Number((d * k).toPrecision(12));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return { min, max, log: true, ticks };
}

function scaleFor(values: number[], log: boolean, fromZero: boolean): Scale {
  const vs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (vs.length === 0) return linearScale(0, 1, false);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  return log ? logScale(lo, hi) : linearScale(lo, hi, fromZero);
}

function project(s: Scale, v: number, from: number, to: number): number {
  const f = s.log
    ? (Math.log10(v) - Math.log10(s.min)) / (Math.log10(s.max) - Math.log10(s.min))
    : (v - s.min) / (s.max - s.min);
  return from + f * (to - from);
}

function point(v: number | null | ChartPoint, i: number, labels: readonly string[]) {
  if (v === null) return null;
  if (typeof v === "number") return { x: labels[i] ?? i, y: v } as ChartPoint;
  return v;
}

/**
 * Draws a chart as a standalone SVG document.
 *
 * @example Usage
 * ```ts
 * import { chartSvg } from "./chart_svg.ts";
 * const svg = chartSvg({
 *   id: "demo",
 *   title: "speedup",
 *   kind: "line",
 *   datasets: [{ label: "TEAL", data: [{ x: 0.5, y: 1.2 }, { x: 0.8, y: 1.9 }] }],
 * });
 * console.log(svg.startsWith("<?xml")); // true
 * ```
 *
 * @param chart The chart.
 * @param options Size.
 * @returns The SVG file's text.
 */
export function chartSvg(chart: ChartSpec, options: ChartSvgOptions = {}): string {
  const width = options.widthPx ?? 960;
  const plotHeight = options.plotHeightPx ?? 360;
  const labels = chart.labels ?? [];
  const categorical = chart.kind === "bar" || chart.kind === "ci";
  const series = chart.datasets.map((d, j) => ({
    d,
    j,
    colour: d.dashed ? "#999" : PALETTE[j % PALETTE.length]!,
    dash: d.dashed ? "6 4" : DASHES[Math.floor(j / PALETTE.length) % DASHES.length]!,
    points: d.data.map((v, i) => point(v, i, labels)).filter((p): p is ChartPoint =>
      p !== null && Number.isFinite(p.y)
    ),
  }));
  const out: string[] = [];
  const text = (x: number, y: number, s: string, attrs = "") =>
    out.push(`<text x="${num(x)}" y="${num(y)}"${attrs}>${xml(s)}</text>`);

  // Title (wrapped), then the legend in rows, then the plot.
  const titleLines = wrap(chart.title, Math.floor((width - 20) / (CHAR_PX * 1.1)));
  let top = 8 + titleLines.length * 16;
  const legend: { x: number; y: number; s: (typeof series)[number] }[] = [];
  let lx = 60;
  let ly = top + 8;
  for (const s of series) {
    const w = 30 + s.d.label.length * CHAR_PX + 14;
    if (lx + w > width - 10 && lx > 60) {
      lx = 60;
      ly += 16;
    }
    legend.push({ x: lx, y: ly, s });
    lx += w;
  }
  top = (series.length > 0 ? ly + 14 : top) + 6;

  const ys = series.flatMap((s) =>
    s.points.flatMap((p) => [p.y, ...(p.low !== undefined ? [p.low] : []), p.high ?? p.y])
  );
  const yScale = scaleFor(ys, chart.logY ?? false, chart.kind === "bar");
  const xLabels = categorical ? labels : [];
  const longest = Math.max(0, ...xLabels.map((l) => l.length));
  const rotate = categorical && (longest * CHAR_PX > (width - 80) / Math.max(1, xLabels.length));
  const xLabelHeight = rotate ? Math.min(160, longest * CHAR_PX * 0.72 + 12) : 18;
  const left = 64;
  const right = width - 16;
  const bottom = top + plotHeight - xLabelHeight - (chart.xTitle ? 18 : 0);
  const height = top + plotHeight + 6;
  const py = (v: number) => project(yScale, v, bottom, top);

  // Axes and grid.
  out.push(
    `<rect x="${left}" y="${num(top)}" width="${right - left}" height="${
      num(bottom - top)
    }" fill="none" stroke="#ccc"/>`,
  );
  for (const t of yScale.ticks) {
    const y = py(t);
    out.push(`<line x1="${left}" x2="${right}" y1="${num(y)}" y2="${num(y)}" stroke="#eee"/>`);
    const l = tickLabel(t, yScale.log);
    if (l !== "") text(left - 6, y + 4, l, ` text-anchor="end"`);
  }
  if (chart.yTitle) {
    const cy = (top + bottom) / 2;
    text(14, cy, chart.yTitle, ` text-anchor="middle" transform="rotate(-90 14 ${num(cy)})"`);
  }
  let px: (p: ChartPoint, j: number) => number;
  if (categorical) {
    const band = (right - left) / Math.max(1, xLabels.length);
    const index = new Map(xLabels.map((l, i) => [l, i]));
    const bars = series.filter((s) => !s.d.dashed).length;
    px = (p, j) => {
      const i = typeof p.x === "number" ? p.x : index.get(p.x) ?? 0;
      // Bars side by side within a band; CI points spread a little so their bars do not overlap.
      const spread = chart.kind === "bar" ? 0.8 : 0.3;
      const off = bars > 1 ? ((j + 0.5) / bars - 0.5) * spread * band : 0;
      return left + (i + 0.5) * band + off;
    };
    xLabels.forEach((l, i) => {
      const x = left + (i + 0.5) * band;
      if (rotate) {
        text(
          x,
          bottom + 12,
          l,
          ` text-anchor="end" transform="rotate(-45 ${num(x)} ${num(bottom + 12)})"`,
        );
      } else text(x, bottom + 14, l, ` text-anchor="middle"`);
    });
    if (chart.kind === "bar") {
      const w = Math.max(1, (band * 0.8) / Math.max(1, bars) - 1);
      const base = py(yScale.log ? yScale.min : Math.max(yScale.min, 0));
      for (const s of series) {
        for (const p of s.points) {
          const x = px(p, s.j);
          const y = py(p.y);
          out.push(
            `<rect x="${num(x - w / 2)}" y="${num(Math.min(y, base))}" width="${num(w)}" height="${
              num(Math.abs(base - y))
            }" fill="${s.colour}"/>`,
          );
        }
      }
    }
  } else {
    const xScale = scaleFor(
      series.flatMap((s) => s.points.map((p) => Number(p.x))),
      chart.logX ?? false,
      false,
    );
    px = (p) => project(xScale, Number(p.x), left, right);
    for (const t of xScale.ticks) {
      const x = project(xScale, t, left, right);
      out.push(
        `<line x1="${num(x)}" x2="${num(x)}" y1="${num(top)}" y2="${num(bottom)}" stroke="#eee"/>`,
      );
      const l = tickLabel(t, xScale.log);
      if (l !== "") text(x, bottom + 14, l, ` text-anchor="middle"`);
    }
  }
  if (chart.xTitle) {
    text((left + right) / 2, top + plotHeight - 4, chart.xTitle, ` text-anchor="middle"`);
  }

  // Series: lines, points, error bars.
  if (chart.kind !== "bar") {
    for (const s of series) {
      const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
      if ((chart.kind === "line" || s.d.dashed) && s.points.length > 1) {
        const pts = s.points.map((p) => `${num(px(p, s.j))},${num(py(p.y))}`).join(" ");
        out.push(
          `<polyline points="${pts}" fill="none" stroke="${s.colour}" stroke-width="1.5"${dash}/>`,
        );
      }
      if (s.d.dashed) continue;
      for (const p of s.points) {
        const x = px(p, s.j);
        if (p.low !== undefined && p.high !== undefined) {
          const y1 = py(p.low);
          const y2 = py(p.high);
          out.push(
            `<path d="M${num(x)} ${num(y1)}V${num(y2)}M${num(x - 3)} ${num(y1)}H${num(x + 3)}M${
              num(x - 3)
            } ${num(y2)}H${num(x + 3)}" stroke="${s.colour}" stroke-width="1.2" fill="none"/>`,
          );
        }
        out.push(`<circle cx="${num(x)}" cy="${num(py(p.y))}" r="3" fill="${s.colour}"/>`);
      }
    }
  }
  (chart.refLines ?? []).forEach((r, i) => {
    const y = py(r.y);
    if (!(y >= top - 0.5 && y <= bottom + 0.5)) return;
    out.push(
      `<line x1="${left}" x2="${right}" y1="${num(y)}" y2="${
        num(y)
      }" stroke="#555" stroke-dasharray="4 4"/>`,
    );
    // Alternate sides so that two close lines (dense and its gate) keep readable labels.
    if (i % 2 === 0) text(left + 4, y - 3, r.label, ` fill="#333"`);
    else text(right - 4, y + 11, r.label, ` fill="#333" text-anchor="end"`);
  });

  const head = titleLines.map((l, i) =>
    `<text x="10" y="${20 + i * 16}" font-size="13" font-weight="600">${xml(l)}</text>`
  );
  const keys = legend.map(({ x, y, s }) => {
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : "";
    const width = chart.kind === "bar" ? 8 : 2;
    const key = chart.kind === "scatter" && !s.d.dashed
      ? `<circle cx="${num(x + 12)}" cy="${num(y)}" r="3.5" fill="${s.colour}"/>`
      : `<line x1="${num(x)}" x2="${num(x + 24)}" y1="${num(y)}" y2="${
        num(y)
      }" stroke="${s.colour}" stroke-width="${width}"${dash}/>`;
    return `${key}<text x="${num(x + 30)}" y="${num(y + 4)}">${xml(s.d.label)}</text>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${
      num(height)
    }" viewBox="0 0 ${width} ${
      num(height)
    }" font-family="Helvetica, Arial, sans-serif" font-size="${FONT_PX}" fill="#222">`,
    `<title>${xml(chart.title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...head,
    ...keys,
    ...out,
    `</svg>`,
    "",
  ].join("\n");
}

function wrap(s: string, chars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of s.split(/\s+/)) {
    if (line !== "" && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines.length === 0 ? [""] : lines;
}
