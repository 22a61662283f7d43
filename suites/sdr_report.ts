/**
 * The SDR study's report: the exact false-match probability per sweep beside the GPU
 * Monte-Carlo estimates and their 99 % intervals, and the sparse overlap kernel against the dense
 * one. The generic FLOPs/speedup/accuracy charts do not apply to its theory rows.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import type { ChartSpec } from "../src/report/chart_spec.ts";
import { speedupText } from "../src/report/findings.ts";
import type { Finding, StudyReport } from "../src/report/study.ts";
import { completed } from "./_study_figures.ts";

const THEORY = "theory";
const MONTE_CARLO = "monte-carlo";
const OVERLAP_SPARSE = "overlap-sparse";

function charts(cells: readonly CellResult[]): ChartSpec[] {
  const sc = completed(cells);
  const suite = sc[0]?.suite ?? "";
  const theory = sc.filter((c) => c.method === THEORY && c.extra.sweep !== undefined);
  const out: ChartSpec[] = [];
  for (const sweep of [...new Set(theory.map((c) => String(c.extra.sweep)))]) {
    const pts = theory.filter((c) => c.extra.sweep === sweep && Number(c.extra.p_theory) > 0);
    const mc = sc.filter((c) => c.method === MONTE_CARLO && c.extra.sweep === sweep);
    const xy = (c: CellResult, k: string) => ({ x: Number(c.extra.x), y: Number(c.extra[k]) });
    out.push({
      id: `${suite}-sdr-${sweep.replace(/[^A-Za-z0-9]+/g, "-")}`,
      title:
        `${suite}: false-match probability vs ${sweep} (exact; Monte-Carlo with 99 % interval)`,
      kind: "line",
      datasets: [
        { label: "exact", data: pts.map((c) => xy(c, "p_theory")).sort((a, b) => a.x - b.x) },
        {
          label: "Monte-Carlo (99 % interval)",
          data: mc.map((c) => ({
            ...xy(c, "p_mc"),
            low: Number(c.extra.ci_low),
            high: Number(c.extra.ci_high),
          })),
        },
      ],
      xTitle: sweep,
      yTitle: "P(false match)",
      logY: true,
      logX: sweep.startsWith("n"),
    });
  }
  return out;
}

function findings(cells: readonly CellResult[]): Finding[] {
  const sc = completed(cells);
  const suite = sc[0]?.suite ?? "";
  const out: Finding[] = [];
  const mc = sc.filter((c) => c.method === MONTE_CARLO);
  if (mc.length > 0) {
    const inside = mc.filter((c) => c.extra.theory_in_ci === "yes").length;
    out.push({
      text:
        `${suite}: the exact false-match probability lies inside the Monte-Carlo 99 % interval at ${inside} of ${mc.length} points.`,
    });
  }
  const sparse = sc.find((c) => c.method === OVERLAP_SPARSE && c.speedup !== null);
  if (sparse) {
    out.push({
      text: `${suite} on ${sparse.device}: the sparse overlap kernel runs ${
        speedupText(sparse)
      } the dense one (${sparse.extra.overlaps_per_us} overlaps per µs).`,
    });
  }
  return out;
}

/** The SDR study. */
export const sdrReport: StudyReport = {
  name: "SDR",
  covers: (id) => id === "sdr",
  charts,
  findings,
  omitCharts: ["flops", "speedup", "accuracy", "density"],
  omitGenericFindings: true,
};
