/**
 * The report comparing runs from different machines: per suite the time and speedup of each
 * matched cell on each machine, the cells side by side, and each run's environment.
 *
 * @module
 */

import type { ChartSpec } from "./chart_spec.ts";
import type { ComparedCell } from "./compare.ts";
import { html } from "./html.ts";
import { renderPage } from "./page.ts";
import type { RunData } from "./run_data.ts";
import type { StudyReport } from "./study.ts";
import { environmentTable } from "./tables.ts";

/** Options of {@linkcode renderCompareReport}. */
export interface CompareReportOptions {
  /** The studies (for labels). */
  studies?: readonly StudyReport[];
}

/**
 * The devices of a run, from its backends.
 *
 * @param r The run.
 * @returns E.g. "NVIDIA H200 / cpu".
 */
export function deviceOf(r: RunData): string {
  const b = (r.run.backends ?? {}) as Record<string, { device?: string }>;
  return [...new Set(Object.values(b).map((x) => x?.device))].filter(Boolean).join(" / ");
}

/**
 * Renders the comparison of runs from different machines.
 *
 * @param runs The runs (the first is the reference).
 * @param compared Their matched cells.
 * @param _options Studies.
 * @returns The HTML document.
 */
export async function renderCompareReport(
  runs: readonly RunData[],
  compared: readonly ComparedCell[],
  _options: CompareReportOptions = {},
): Promise<string> {
  const labels = compared.map((c) =>
    `${c.suite} ${c.target} ${c.method}${c.sparsity !== null ? `@${c.sparsity}` : ""}`
  );
  const charts: ChartSpec[] = [];
  for (const suite of [...new Set(compared.map((c) => c.suite))]) {
    const idx = compared.map((c, i) => (c.suite === suite ? i : -1)).filter((i) => i >= 0);
    charts.push({
      id: `cmp-${suite}-time`,
      title: `${suite}: median time per run on each machine (ms, log scale)`,
      kind: "bar",
      labels: idx.map((i) => labels[i]!),
      datasets: runs.map((r, j) => ({
        label: `${r.id} (${deviceOf(r)})`,
        data: idx.map((i) => compared[i]!.timesMs[j] ?? null),
      })),
      yTitle: "ms",
      logY: true,
    });
    charts.push({
      id: `cmp-${suite}-speedup`,
      title: `${suite}: speedup over dense on each machine`,
      kind: "bar",
      labels: idx.map((i) => labels[i]!),
      datasets: runs.map((r, j) => ({
        label: r.id,
        data: idx.map((i) => compared[i]!.speedups[j] ?? null),
      })),
      yTitle: "speedup (x)",
    });
  }
  const fmt = (
    v: number | null | undefined,
  ) => (v === null || v === undefined ? "" : v.toPrecision(4));
  const head = ["cell", ...runs.flatMap((r) => [`${r.id} device`, `ms`, `ratio`, `p`, `speedup`])];
  const rows = compared.map((c, i) =>
    html`<tr><td>${labels[i]}</td>${
      runs.map((_, j) =>
        html`
          <td>${c.devices[j] ?? "—"}</td>
          <td>${fmt(c.timesMs[j])}</td>
          <td>${fmt(c.ratios[j])}</td>
          <td>${fmt(c.pValues[j])}</td>
          <td>${fmt(c.speedups[j])}</td>
        `
      )
    }</tr>\n`
  );
  return await renderPage({
    title: `sparsebench comparison: ${runs.map((r) => r.id).join(" vs ")}`,
    intro: html`<p>Machines: ${
      runs.map((r, i) => html`${i > 0 ? "; " : ""}<b>${r.id}</b>: ${deviceOf(r)}`)
    }. Ratio = time / time on the first machine; p = two-sided Mann–Whitney U on the raw timing samples (a difference with p &lt; 0.01 is unlikely to be noise).</p>`,
    charts,
    sections: [
      {
        title: "Cells side by side",
        body: html`
          <div class="scroll">
            <table>
              <thead>
                <tr>${head.map((h) => html`<th>${h}</th>`)}</tr>
              </thead>
              <tbody>${rows}</tbody>
            </table>
          </div>
        `,
      },
      ...runs.map((r) => ({ title: `Environment of ${r.id}`, body: environmentTable(r.run) })),
    ],
  });
}
