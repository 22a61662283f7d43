/**
 * The kernels study's report: the input-sparse GEMVs' speedup over the dense GEMV against the
 * ideal 1/(1 − s), achieved bandwidth as a share of the copy ceiling, and findings that say how
 * close the dense GEMV runs to that ceiling and what sparsity buys.
 *
 * @module
 */

import type { CellResult } from "../src/result.ts";
import type { ChartSpec } from "../src/report/chart_spec.ts";
import { percentLabel } from "../src/report/labels.ts";
import type { Finding, StudyReport } from "../src/report/study.ts";
import { completed, maxBy } from "./_study_figures.ts";

const SPARSE = [
  "input-sparse",
  "input-sparse-indexed",
  "input-sparse-skip",
  "input-sparse-scan",
  "input-sparse-f16",
  "input-sparse-skip-f16",
  "input-sparse-scan-f16",
];
const DENSE_GEMV = "gemv";
const COPY = "copy";

function kernel(c: CellResult): string {
  return String(c.extra.kernel ?? c.method);
}

function charts(cells: readonly CellResult[]): ChartSpec[] {
  const suite = cells[0]?.suite ?? "";
  const sc = completed(cells);
  const out: ChartSpec[] = [];
  const kern = sc.filter((c) =>
    SPARSE.includes(kernel(c)) && c.sparsity_target !== null && c.speedup !== null
  );
  if (kern.length > 0) {
    const series = [...new Set(kern.map((c) => `${kernel(c)} ${c.extra.shape}`))];
    out.push({
      id: `${suite}-kernel-speedup`,
      title:
        `${suite}: input-sparse GEMV speedup over the dense GEMV vs sparsity (ideal 1/(1−s) dashed)`,
      kind: "line",
      datasets: [
        ...series.map((s) => ({
          label: s,
          data: kern.filter((c) => `${kernel(c)} ${c.extra.shape}` === s).map((c) => ({
            x: c.sparsity_target!,
            y: c.speedup!,
          })).sort((a, b) => a.x - b.x),
        })),
        {
          label: "ideal",
          data: [0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95].map((s) => ({ x: s, y: 1 / (1 - s) })),
          dashed: true,
        },
      ],
      xTitle: "sparsity",
      yTitle: "speedup (x)",
      logY: true,
      refLines: [{ y: 1, label: "1.0x (dense GEMV)" }],
    });
  }
  const bw = sc.filter((c) => typeof c.extra.pct_of_ceiling === "number" && kernel(c) !== COPY);
  if (bw.length > 0) {
    out.push({
      id: `${suite}-bandwidth`,
      title: `${suite}: achieved bandwidth, % of the compute-copy ceiling`,
      kind: "bar",
      labels: bw.map((c) =>
        `${kernel(c)} ${c.extra.shape ?? ""}${
          c.sparsity_target !== null ? ` ${percentLabel(c.sparsity_target)}` : ""
        }`
      ),
      datasets: [{ label: "% of ceiling", data: bw.map((c) => Number(c.extra.pct_of_ceiling)) }],
      yTitle: "% of ceiling",
    });
  }
  return out;
}

function span(lo: string, hi: string): string {
  return lo === hi ? lo : `${lo} to ${hi}`;
}

function findings(cells: readonly CellResult[]): Finding[] {
  const sc = completed(cells);
  const suite = cells[0]?.suite ?? "";
  const out: Finding[] = [];
  const copy = sc.find((c) => kernel(c) === COPY);
  const pct = (c: CellResult) =>
    typeof c.extra.pct_of_ceiling === "number" ? c.extra.pct_of_ceiling : null;
  const dense = sc.filter((c) => kernel(c) === DENSE_GEMV && pct(c) !== null);
  const best = maxBy(dense, pct);
  if (best) {
    const worst = dense.reduce((a, b) => (pct(b)! < pct(a)! ? b : a));
    const range = best === worst
      ? `${pct(best)} % of the copy ceiling at ${best.extra.shape}`
      : `${pct(best)} % of the copy ceiling at ${best.extra.shape} and ${
        pct(worst)
      } % at ${worst.extra.shape}`;
    out.push({
      text: `${suite} on ${best.device}: the dense GEMV reaches ${range}${
        copy ? ` (copy ceiling ${copy.extra.gb_per_s} GB/s)` : ""
      }.`,
    });
  }
  for (const k of SPARSE) {
    const ks = sc.filter((c) =>
      kernel(c) === k && c.speedup !== null && c.sparsity_target !== null
    );
    const top = Math.max(...ks.map((c) => c.sparsity_target!));
    const at = ks.filter((c) => c.sparsity_target === top);
    if (at.length === 0) continue;
    const b = at.reduce((a, c) => (c.speedup! > a.speedup! ? c : a));
    const w = at.reduce((a, c) => (c.speedup! < a.speedup! ? c : a));
    out.push({
      text: `${suite}: at ${percentLabel(top)} input sparsity the ${k} GEMV runs ${
        span(
          `${w.speedup!.toFixed(2)}x (${w.extra.shape})`,
          `${b.speedup!.toFixed(2)}x (${b.extra.shape})`,
        )
      } as fast as the dense GEMV, against an ideal ${(1 / (1 - top)).toFixed(1)}x.`,
    });
  }
  const ort = sc.filter((c) => typeof c.extra.wgsl_gemv_vs_ort === "number");
  if (ort.length > 0) {
    const r = ort.map((c) => Number(c.extra.wgsl_gemv_vs_ort));
    out.push({
      text: `${suite}: our dense WGSL GEMV is ${
        span(`${Math.min(...r).toFixed(1)}x`, `${Math.max(...r).toFixed(1)}x`)
      } faster than ORT-web's MatMul at the same shapes.`,
    });
  }
  return out;
}

/** The kernels study. */
export const kernelsReport: StudyReport = {
  name: "kernels",
  covers: (id) => id === "kernels",
  charts,
  findings,
  omitCharts: ["flops", "speedup", "accuracy", "density"],
  omitGenericFindings: true,
  label: (c) =>
    c.extra.shape
      ? `${kernel(c)} ${c.extra.shape}${
        c.sparsity_target !== null ? ` ${percentLabel(c.sparsity_target)}` : ""
      }`
      : undefined,
};
