/**
 * Charts as plain data: the report embeds these specs as JSON and the page script turns them
 * into Chart.js charts, so no chart code runs at build time and no value becomes markup.
 *
 * @module
 */

/** A point of an x/y chart; `low`/`high` draw an error bar. */
export interface ChartPoint {
  /** x value (a number, or a category label on category charts). */
  x: number | string;
  /** y value. */
  y: number;
  /** Lower end of the error bar. */
  low?: number;
  /** Upper end of the error bar. */
  high?: number;
}

/** One series. */
export interface ChartDataset {
  /** Legend label. */
  label: string;
  /** Values (bar charts, one per label) or points (x/y charts). */
  data: (number | null | ChartPoint)[];
  /** Drawn dashed and without points (a reference curve such as the ideal speedup). */
  dashed?: boolean;
}

/** A horizontal reference line (1.0x, the dense accuracy, the quality gate). */
export interface ReferenceLine {
  /** Its y value. */
  y: number;
  /** Its label. */
  label: string;
}

/** A chart. */
export interface ChartSpec {
  /** Stable id (`<suite>-<kind>`), also the file name of its CSV/PNG/SVG downloads. */
  id: string;
  /** Caption. */
  title: string;
  /** `bar`: one value per label; `ci`: points with error bars over labels; `line`/`scatter`: x/y. */
  kind: "bar" | "ci" | "scatter" | "line";
  /** Category labels (bar, ci). */
  labels?: string[];
  /** Series. */
  datasets: ChartDataset[];
  /** x-axis title. */
  xTitle?: string;
  /** y-axis title. */
  yTitle?: string;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Logarithmic x axis. */
  logX?: boolean;
  /** Horizontal reference lines. */
  refLines?: ReferenceLine[];
}

/**
 * Whether a chart has anything to draw (a chart appears only if the suite has data for it).
 *
 * @param chart The chart.
 * @returns True when some series holds a finite value.
 */
export function chartHasData(chart: ChartSpec): boolean {
  return chart.datasets.some((d) =>
    !d.dashed &&
    d.data.some((v) =>
      v !== null && (typeof v === "number" ? Number.isFinite(v) : Number.isFinite(v.y))
    )
  );
}

/**
 * A chart's data as CSV (one row per point), for the page's download link.
 *
 * @param chart The chart.
 * @returns CSV text.
 */
export function chartCsv(chart: ChartSpec): string {
  const q = (v: unknown) => {
    const s = String(v ?? "");
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const rows = [["series", "x", "y", "low", "high"].join(",")];
  for (const d of chart.datasets) {
    d.data.forEach((v, i) => {
      if (v === null) return;
      const p = typeof v === "number" ? { x: chart.labels?.[i] ?? i, y: v } : v;
      rows.push(
        [d.label, p.x, p.y, "low" in p ? p.low : "", "high" in p ? p.high : ""].map(q).join(","),
      );
    });
  }
  return rows.join("\n") + "\n";
}
