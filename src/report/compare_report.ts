/**
 * The report comparing runs from different machines. It answers "is it faster there": findings
 * first (per suite and target, how much faster the other machine runs dense, and whether sparsity
 * pays off more or less there, each with its interval), then per suite and target the speedups on
 * each machine and their ratio, the cells side by side with accuracy, and each environment. When
 * runs of different code are compared on request, a banner lists the differences.
 *
 * @module
 */

import type { ChartSpec } from "./chart_spec.ts";
import { type ComparedCell, formatP } from "./compare.ts";
import { DENSE } from "./charts.ts";
import { html } from "./html.ts";
import { variantLabel } from "./labels.ts";
import { renderPage } from "./page.ts";
import type { RunData } from "./run_data.ts";
import { type Finding, studiesFor, type StudyReport } from "./study.ts";
import { environmentTable } from "./tables.ts";
import type { Interval } from "../stats.ts";

/** Options of {@linkcode renderCompareReport}. */
export interface CompareReportOptions {
  /** The studies (for labels). */
  studies?: readonly StudyReport[];
  /** How the runs' code differs, when compared with --allow-different-code. */
  codeDifferences?: readonly string[];
}

/**
 * The devices of a run, from its backends.
 *
 * @param r The run.
 * @returns E.g. "NVIDIA H200 / cpu".
 */
export function deviceOf(r: RunData): string {
  const b = r.run.backends !== null && typeof r.run.backends === "object"
    ? r.run.backends as Record<string, { device?: unknown }>
    : {};
  const fromBackends = Object.values(b).map((x) => String(x?.device ?? ""));
  // An interrupted run never wrote its backends: its cells still name their devices.
  const devices = fromBackends.length > 0 ? fromBackends : r.cells.map((c) => c.device);
  return [...new Set(devices)].filter(Boolean).join(" / ");
}

function ci(i: Interval | null): string {
  return i === null
    ? ""
    : `${i.estimate.toPrecision(3)} [${i.low.toPrecision(3)}, ${i.high.toPrecision(3)}]`;
}

function label(c: ComparedCell, studies: readonly StudyReport[]): string {
  const cell = c.cells.find((x) => x !== null)!;
  return variantLabel(cell, studiesFor(studies, c.suite));
}

/**
 * The comparison's findings: per suite, target and other machine, the dense time ratio and
 * how the variants' speedups move.
 *
 * @param runs The runs.
 * @param compared Their matched cells.
 * @param options Studies, code differences.
 * @returns The sentences.
 */
export function compareFindings(
  runs: readonly RunData[],
  compared: readonly ComparedCell[],
  options: CompareReportOptions = {},
): Finding[] {
  const out: Finding[] = [];
  const studies = options.studies ?? [];
  if ((options.codeDifferences ?? []).length > 0) {
    out.push({
      level: "warn",
      text: `These runs are of different code (compared with --allow-different-code): ${
        options.codeDifferences!.join("; ")
      }. A difference below may be the code change, not the hardware.`,
    });
  }
  const groups = [...new Set(compared.map((c) => `${c.suite}\u0000${c.target}`))];
  for (const g of groups) {
    const [suite, target] = g.split("\u0000") as [string, string];
    const gc = compared.filter((c) => c.suite === suite && c.target === target);
    for (let j = 1; j < runs.length; j++) {
      const other = `${runs[j]!.id} (${gc.find((c) => c.devices[j])?.devices[j] ?? "?"})`;
      const ref = `${runs[0]!.id} (${gc.find((c) => c.devices[0])?.devices[0] ?? "?"})`;
      const dense = gc.find((c) => c.method === DENSE && c.ratioCis[j]);
      const parts: string[] = [];
      if (dense) {
        const r = dense.ratioCis[j]!;
        parts.push(
          `dense takes ${r.estimate.toPrecision(3)}x the time [${r.low.toPrecision(3)}, ${
            r.high.toPrecision(3)
          }] (Mann–Whitney p ${formatP(dense.pValues[j]!)})`,
        );
      }
      const timed = gc.filter((c) => c.method !== DENSE && c.ratioCis[j]);
      if (timed.length > 0) {
        const est = timed.map((c) => c.ratioCis[j]!.estimate).sort((a, b) => a - b);
        const slower = timed.filter((c) => c.ratioCis[j]!.low > 1).length;
        const faster = timed.filter((c) => c.ratioCis[j]!.high < 1).length;
        const mid = est[Math.floor(est.length / 2)]!;
        parts.push(
          `${dense ? "the other " : ""}${timed.length} timed cells take ${
            est[0]!.toPrecision(3)
          }x to ${est[est.length - 1]!.toPrecision(3)}x the time (median ${
            mid.toPrecision(3)
          }x; ${slower} measurably slower, ${faster} measurably faster)`,
        );
      }
      const ratios = gc.filter((c) => c.speedupRatios[j]);
      if (ratios.length > 0) {
        const more = ratios.filter((c) => c.speedupRatios[j]!.low > 1);
        const less = ratios.filter((c) => c.speedupRatios[j]!.high < 1);
        const best = ratios.reduce((a, b) =>
          b.speedupRatios[j]!.estimate > a.speedupRatios[j]!.estimate ? b : a
        );
        parts.push(
          `of ${ratios.length} variants, sparsity pays off measurably more on ${
            runs[j]!.id
          } for ${more.length} and less for ${less.length} (speedup-ratio interval above or below 1); the largest ratio is ${
            label(best, studies)
          } at ${ci(best.speedupRatios[j]!)}`,
        );
      }
      const accDiff = gc.filter((c) =>
        c.accuracies[0] !== null && c.accuracies[j] !== null &&
        Math.abs(c.accuracies[0]! - c.accuracies[j]!) > 1e-9
      );
      if (gc.some((c) => c.accuracies[0] !== null)) {
        parts.push(
          accDiff.length === 0
            ? "accuracies are identical on both"
            : `${accDiff.length} cells differ in accuracy`,
        );
      }
      if (parts.length > 0) {
        out.push({ text: `${suite} on ${target}, ${other} against ${ref}: ${parts.join("; ")}.` });
      }
    }
  }
  return out;
}

/**
 * Renders the comparison of runs from different machines.
 *
 * @param runs The runs (the first is the reference).
 * @param compared Their matched cells.
 * @param options Studies, code differences.
 * @returns The HTML document.
 */
export async function renderCompareReport(
  runs: readonly RunData[],
  compared: readonly ComparedCell[],
  options: CompareReportOptions = {},
): Promise<string> {
  const studies = options.studies ?? [];
  const charts: ChartSpec[] = [];
  const groups = [...new Set(compared.map((c) => `${c.suite}\u0000${c.target}`))];
  for (const g of groups) {
    const [suite, target] = g.split("\u0000") as [string, string];
    const gc = compared.filter((c) => c.suite === suite && c.target === target);
    const variants = gc.filter((c) => c.method !== DENSE && c.speedups.some((s) => s !== null));
    if (variants.length > 0) {
      const labels = variants.map((c) => label(c, studies));
      charts.push({
        id: `cmp-${suite}-${target}-speedup`,
        title: `${suite} on ${target}: speedup over dense on each machine (95 % CI)`,
        kind: "ci",
        labels,
        datasets: runs.map((r, j) => ({
          label: `${r.id} (${deviceOf(r)})`,
          data: variants.map((c, k) => {
            const cell = c.cells[j];
            if (!cell || cell.speedup === null) return null;
            return {
              x: labels[k]!,
              y: cell.speedup,
              ...(cell.speedup_ci_low !== null ? { low: cell.speedup_ci_low } : {}),
              ...(cell.speedup_ci_high !== null ? { high: cell.speedup_ci_high } : {}),
            };
          }),
        })),
        yTitle: "speedup (x)",
        refLines: [{ y: 1, label: "1.0x (dense)" }],
      });
      const withRatio = variants.filter((c) => c.speedupRatios.some((r) => r !== null));
      if (withRatio.length > 0) {
        const rl = withRatio.map((c) => label(c, studies));
        charts.push({
          id: `cmp-${suite}-${target}-speedup-ratio`,
          title: `${suite} on ${target}: speedup on each machine / speedup on ${
            runs[0]!.id
          } (bootstrap 95 % CI; above 1: sparsity pays off more there)`,
          kind: "ci",
          labels: rl,
          datasets: runs.slice(1).map((r, jj) => ({
            label: r.id,
            data: withRatio.map((c, k) => {
              const i = c.speedupRatios[jj + 1];
              return i ? { x: rl[k]!, y: i.estimate, low: i.low, high: i.high } : null;
            }),
          })),
          yTitle: "speedup ratio",
          logY: true,
          refLines: [{ y: 1, label: "same speedup" }],
        });
      }
    }
    const timed = gc.filter((c) => c.timesMs.some((t) => t !== null));
    if (timed.length > 0) {
      const tl = timed.map((c) => label(c, studies));
      charts.push({
        id: `cmp-${suite}-${target}-time`,
        title: `${suite} on ${target}: median time per run on each machine (ms, log scale)`,
        kind: "bar",
        labels: tl,
        datasets: runs.map((r, j) => ({
          label: `${r.id} (${deviceOf(r)})`,
          data: timed.map((c) => c.timesMs[j] ?? null),
        })),
        yTitle: "ms",
        logY: true,
      });
    }
  }
  const fmt = (v: number | null | undefined) =>
    v === null || v === undefined ? "" : v.toPrecision(4);
  const head = [
    "suite",
    "target",
    "variant",
    ...runs.flatMap((r, j) => [
      `${r.id} ms`,
      ...(j > 0 ? [`time ratio [95 % CI]`, `p (times)`] : []),
      `speedup`,
      ...(j > 0 ? [`speedup ratio [95 % CI]`, `p (speedup)`] : []),
      `${r.id} accuracy`,
    ]),
  ];
  const rows = compared.map((c) =>
    html`<tr><td>${c.suite}</td><td>${c.target}</td><td>${label(c, studies)}</td>${
      runs.map((_, j) =>
        html`<td>${fmt(c.timesMs[j])}</td>${
          j > 0
            ? html`
              <td>${ci(c.ratioCis[j] ?? null)}</td>
              <td>${formatP(c.pValues[j] ?? null)}</td>
            `
            : ""
        }<td>${fmt(c.speedups[j])}</td>${
          j > 0
            ? html`
              <td>${ci(c.speedupRatios[j] ?? null)}</td>
              <td>${formatP(c.speedupRatioPs[j] ?? null)}</td>
            `
            : ""
        }<td>${fmt(c.accuracies[j])}</td>`
      )
    }</tr>\n`
  );
  return await renderPage({
    title: `sparsebench comparison: ${runs.map((r) => r.id).join(" vs ")}`,
    intro: html`<p>Machines: ${
      runs.map((r, i) => html`${i > 0 ? "; " : ""}<b>${r.id}</b>: ${deviceOf(r)}`)
    }. Time ratio = median time / median time on the first machine; speedup ratio = speedup over dense on that machine / speedup on the first, both with percentile-bootstrap 95 % intervals from the raw samples. p (times): two-sided Mann–Whitney U on the raw times; p (speedup): two-sided bootstrap p that the speedup ratio is 1. p-values below 1e-3 are printed as "&lt; 1e-3": the tests resolve no finer.</p>`,
    findings: compareFindings(runs, compared, options),
    charts,
    sections: [
      {
        title: "Cells side by side",
        body: html`
          <div class="scroll">
            <table class="sortable">
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
