/**
 * The report of one run: findings first, then the generic charts and each study's, the papers'
 * claims beside this run's measurements, each study's sections, for a browser run the browser and
 * its substitutions, the environment with its pins and every cell. It reads only what the run folder holds.
 *
 * @module
 */

import { writeFileAtomic } from "../../lib/atomic_write.ts";
import { REPO_ROOT } from "../../lib/repo_root.ts";
import { browserFindings, browserSections } from "./browser_section.ts";
import { chartsFor, DENSE } from "./charts.ts";
import { runFindings, runStatus, speedupText } from "./findings.ts";
import { variantLabel } from "./labels.ts";
import { html } from "./html.ts";
import { renderPage } from "./page.ts";
import { readRun, type RunData } from "./run_data.ts";
import { type RecordedClaim, type ReportSection, studiesFor, type StudyReport } from "./study.ts";
import { cellTable, environmentTable } from "./tables.ts";

/** Options of {@linkcode renderRunReport}. */
export interface RunReportOptions {
  /** The studies (suites/reports.ts); without them the report has only the generic parts. */
  studies?: readonly StudyReport[];
  /** The id of a later run that supersedes this one. */
  supersededBy?: string;
  /** Whether the run is published (a published run still "running" was interrupted). */
  published?: boolean;
}

/**
 * The papers' claims each suite recorded in run.json, beside what the covering studies measured.
 *
 * @param run The run.
 * @param studies The studies.
 * @returns One section per suite with claims.
 */
export function claimSections(run: RunData, studies: readonly StudyReport[]): ReportSection[] {
  const out: ReportSection[] = [];
  const suites = Array.isArray(run.run.suites) ? run.run.suites : [];
  for (const s of suites as { id?: unknown; claims?: unknown }[]) {
    if (!Array.isArray(s?.claims) || s.claims.length === 0) continue;
    const id = String(s.id);
    const cells = run.cells.filter((c) => c.suite === id);
    const covering = studiesFor(studies, id);
    const rows = (s.claims as RecordedClaim[]).map((c) => {
      const measured = covering.map((st) => st.measured?.(c, cells)).find((m) => m !== undefined);
      return html`
        <tr>
          <td>${c.label}</td>
          <td>${c.value} ${c.unit}</td>
          <td>${c.source}</td>
          <td>${measured ?? "not measured by this suite"}</td>
        </tr>
      `;
    });
    out.push({
      title: `${id}: claims beside measurements`,
      body: html`
        <div class="scroll">
          <table><tr><th>claim</th><th>value</th><th>source</th><th>measured here</th></tr>${rows}</table>
        </div>
      `,
    });
  }
  return out;
}

/**
 * One summary table per suite: each variant's FLOPs reduction, metric and gate, and its speedup
 * with interval on every target, in one row.
 *
 * @param run The run.
 * @param studies The studies (for labels).
 * @returns The sections.
 */
export function summarySections(run: RunData, studies: readonly StudyReport[]): ReportSection[] {
  const out: ReportSection[] = [];
  for (const suite of [...new Set(run.cells.map((c) => c.suite))]) {
    const sc = run.cells.filter((c) => c.suite === suite && c.status === "completed");
    const covering = studiesFor(studies, suite);
    const variants = sc.filter((c) =>
      c.method !== DENSE &&
      (c.speedup !== null || c.accuracy !== null || c.flops_reduction !== null)
    );
    if (variants.length === 0) continue;
    const targets = [...new Set(variants.filter((c) => c.speedup !== null).map((c) => c.target))];
    const labels = [...new Set(variants.map((c) => variantLabel(c, covering)))];
    const metric = variants.find((c) => c.metric)?.metric ?? "";
    // Columns no variant fills (FLOPs of a suite that does not count them, a gate it does not
    // apply) are left out, as in the all-cells table.
    const hasFlops = variants.some((c) => c.flops_reduction !== null);
    const hasGate = variants.some((c) => c.gate !== null);
    const rows = labels.map((l) => {
      const of = variants.filter((c) => variantLabel(c, covering) === l);
      const first = of[0]!;
      const acc = of.find((c) => c.accuracy !== null);
      return html`<tr><td>${l}</td>${
        hasFlops ? html`<td>${first.flops_reduction?.toFixed(2) ?? ""}</td>` : ""
      }<td>${acc?.accuracy?.toFixed(4) ?? ""}</td>${
        hasGate ? html`<td>${acc?.gate ?? ""}</td>` : ""
      }${
        targets.map((t) => {
          const c = of.find((x) => x.target === t && x.speedup !== null);
          return html`<td>${c ? speedupText(c) : ""}</td>`;
        })
      }</tr>`;
    });
    out.push({
      title: `${suite}: summary`,
      body: html`
        <div class="scroll">
          <table class="sortable">
            <thead>
              <tr><th>variant</th>${hasFlops ? html`<th>x fewer FLOPs</th>` : ""}<th>${metric ||
                "metric"}</th>${hasGate ? html`<th>gate</th>` : ""}${targets.map((t) =>
                  html`<th>speedup on ${t} [95 % CI]</th>`
                )}</tr>
            </thead>
            <tbody>${rows}</tbody>
          </table>
        </div>
      `,
    });
  }
  return out;
}

/**
 * Each covering study's sections, suite by suite.
 *
 * @param run The run.
 * @param studies The studies.
 * @returns The sections.
 */
export function studySections(run: RunData, studies: readonly StudyReport[]): ReportSection[] {
  const out: ReportSection[] = [];
  for (const suite of [...new Set(run.cells.map((c) => c.suite))]) {
    const cells = run.cells.filter((c) => c.suite === suite);
    for (const s of studiesFor(studies, suite)) out.push(...(s.sections?.(cells, run) ?? []));
  }
  return out;
}

/**
 * Renders the report of one run.
 *
 * @param run The run.
 * @param options Studies, superseding run, published.
 * @returns The HTML document.
 */
export async function renderRunReport(
  run: RunData,
  options: RunReportOptions = {},
): Promise<string> {
  const studies = options.studies ?? [];
  const counts = ["completed", "errored", "skipped"].map((s) =>
    `${run.cells.filter((c) => c.status === s).length} ${s}`
  ).join(", ");
  return await renderPage({
    title: `sparsebench run ${run.id}`,
    intro: html`<p>${run.cells.length} cells (${counts}); status ${
      runStatus(run, options.published)
    }. Speedups are dense time / variant time on the same target from interleaved runs; ORT runs masked graphs with dense matmuls, the wgsl target skips inactive weight rows.</p>`,
    // The browser banner stays out of runFindings, which also gives the index its headlines.
    findings: [...browserFindings(run.run), ...runFindings(run, options)],
    charts: chartsFor(run.cells, { studies }),
    sections: [
      ...summarySections(run, studies),
      ...claimSections(run, studies),
      ...studySections(run, studies),
      ...browserSections(run.run),
      { title: "Environment and pins", body: environmentTable(run.run) },
      { title: "All cells", body: cellTable(run.cells) },
    ],
  });
}

/** Options of {@linkcode writeRunReport}. */
export interface WriteRunReportOptions extends Omit<RunReportOptions, "published"> {
  /** Where reports go (default: the repository's `reports`). */
  reportsDir?: string;
  /** Replace a published report (refused without it). */
  force?: boolean;
}

/**
 * Whether a path lies under a `published/` folder of `results/` or `reports/`.
 *
 * @param path A path.
 * @returns True for published runs and reports.
 */
export function isPublishedPath(path: string): boolean {
  return /(^|\/)(results|reports)\/published(\/|$)/.test(path);
}

/**
 * Writes a run's report next to the others, atomically: `reports/<run-id>/index.html`, or
 * `reports/published/<run-id>/index.html` for a run under `results/published/`.
 *
 * @param runDir The run folder.
 * @param options Studies, `reportsDir`, `force`, `supersededBy`.
 * @returns The path written.
 * @throws {Error} When the report is published and `force` is not set.
 */
export async function writeRunReport(
  runDir: string,
  options: WriteRunReportOptions = {},
): Promise<string> {
  const run = await readRun(runDir);
  const base = options.reportsDir ?? `${REPO_ROOT}reports`;
  const published = isPublishedPath(runDir);
  const dir = `${base}${published ? "/published" : ""}/${run.id}`;
  const path = `${dir}/index.html`;
  if (published && !options.force && await exists(path)) {
    throw new Error(
      `Refusing to overwrite the published report ${path}: pass --force to rebuild it`,
    );
  }
  const page = await renderRunReport(run, { ...options, published });
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(path, page);
  return path;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
