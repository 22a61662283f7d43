/**
 * The index of published runs, `reports/index.html`: one row per run under
 * `results/published/` (date, commit, device, suites, status, headline finding, superseded-by,
 * a preview of its report), the latest run per suite and device, a filter box, and the published
 * comparisons. Static files only, so the `reports/` folder can be served as it is.
 *
 * @module
 */

import { writeFileAtomic } from "../../lib/atomic_write.ts";
import { REPO_ROOT } from "../../lib/repo_root.ts";
import { deviceOf } from "./compare_report.ts";
import { runFindings, runStatus } from "./findings.ts";
import { type Html, html } from "./html.ts";
import { renderPage } from "./page.ts";
import { readRun, type RunData } from "./run_data.ts";
import type { StudyReport } from "./study.ts";

/** A published run as the index lists it. */
export interface IndexEntry {
  /** Run id (its folder name). */
  id: string;
  /** The run, or the reason it could not be read. */
  run: RunData | { error: string };
}

function suitesOf(r: RunData): string[] {
  const s = Array.isArray(r.run.suites) ? r.run.suites as { id?: unknown }[] : [];
  const ids = s.map((x) => String(x?.id ?? "")).filter(Boolean);
  return ids.length > 0 ? ids : [...new Set(r.cells.map((c) => c.suite))];
}

function cellKeys(r: RunData): Set<string> {
  return new Set(r.cells.map((c) => c.key));
}

function startedOf(r: RunData): string {
  return typeof r.run.startedAt === "string" ? r.run.startedAt : "";
}

/**
 * Which runs a later one supersedes: a finished run on the same device(s) that covers every
 * cell (suite, target, variant, sparsity) of an earlier run replaces it; a quick run does not
 * replace a full grid.
 *
 * @param runs Readable published runs.
 * @returns Run id to the id of the latest run that supersedes it.
 */
export function supersession(runs: readonly RunData[]): Map<string, string> {
  const out = new Map<string, string>();
  const sorted = [...runs].sort((a, b) => startedOf(a).localeCompare(startedOf(b)));
  sorted.forEach((r, i) => {
    const suites = suitesOf(r);
    const cells = cellKeys(r);
    const later = sorted.slice(i + 1).filter((l) => {
      if (l.run.status !== "finished" || deviceOf(l) !== deviceOf(r)) return false;
      if (!suites.every((s) => suitesOf(l).includes(s))) return false;
      const has = cellKeys(l);
      return [...cells].every((k) => has.has(k));
    });
    if (later.length > 0) out.set(r.id, later[later.length - 1]!.id);
  });
  return out;
}

/**
 * Reads every run under `results/published/`.
 *
 * @param root The repository root (default: this checkout's).
 * @returns The entries, by id.
 */
export async function readPublished(root = REPO_ROOT): Promise<IndexEntry[]> {
  const dir = `${root}results/published`;
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) ids.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const out: IndexEntry[] = [];
  for (const id of ids.sort()) {
    try {
      out.push({ id, run: await readRun(`${dir}/${id}`) });
    } catch (e) {
      out.push({ id, run: { error: (e as Error).message } });
    }
  }
  return out;
}

/** Options of {@linkcode renderIndex}. */
export interface IndexOptions {
  /** The studies (for each run's headline finding). */
  studies?: readonly StudyReport[];
  /** Run ids whose report folder holds a `preview.png`. */
  previews?: ReadonlySet<string>;
  /** Published comparison folders (`compare-…`). */
  comparisons?: readonly string[];
}

function commitOf(r: RunData): string {
  const env = r.run.environment as { git?: { commit?: string; dirty?: boolean } } | undefined;
  const c = env?.git?.commit;
  if (!c) return "";
  return `${c === "unknown" ? c : c.slice(0, 7)}${env?.git?.dirty ? " dirty" : ""}`;
}

/**
 * Renders the index.
 *
 * @param entries The published runs.
 * @param options Studies, previews, comparisons.
 * @returns The HTML document.
 */
export async function renderIndex(
  entries: readonly IndexEntry[],
  options: IndexOptions = {},
): Promise<string> {
  const runs = entries.map((e) => e.run).filter((r): r is RunData => "cells" in r);
  const superseded = supersession(runs);
  const rows: Html[] = entries.map((e) => {
    if (!("cells" in e.run)) {
      return html`
        <tr>
          <td>${e.id}</td>
          <td colspan="8">unreadable: ${e.run.error}</td>
        </tr>
      `;
    }
    const r = e.run;
    const headline = runFindings(r, { studies: options.studies ?? [], published: true })
      .find((f) => f.level !== "warn")?.text ?? "";
    const status = runStatus(r, true);
    const by = superseded.get(r.id);
    const preview = options.previews?.has(r.id)
      ? html`
        <a
          href="published/${r.id}/index.html"><img src="published/${r
            .id}/preview.png" alt="preview of ${r.id}" width="240" loading="lazy"></a>
      `
      : html``;
    return html`
      <tr class="${status === "finished" ? "" : "warn-row"}">
        <td><a href="published/${r.id}/index.html">${r.id}</a></td>
        <td>${startedOf(r).slice(0, 16).replace("T", " ")}</td>
        <td>${commitOf(r)}</td>
        <td>${deviceOf(r)}</td>
        <td>${suitesOf(r).join(", ")}</td>
        <td>${status}</td>
        <td>${headline}</td>
        <td>${by ? html`<a href="published/${by}/index.html">${by}</a>` : ""}</td>
        <td>${preview}</td>
      </tr>
    `;
  });
  const latest = new Map<string, RunData>();
  for (const r of [...runs].sort((a, b) => startedOf(a).localeCompare(startedOf(b)))) {
    if (r.run.status !== "finished") continue;
    for (const s of suitesOf(r)) latest.set(`${s}\u0000${deviceOf(r)}`, r);
  }
  const latestRows = [...latest.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, r]) => {
    const [suite, device] = k.split("\u0000");
    return html`
      <tr>
        <td>${suite}</td>
        <td>${device}</td>
        <td><a href="published/${r.id}/index.html">${r.id}</a></td>
        <td>${startedOf(r).slice(0, 10)}</td>
      </tr>
    `;
  });
  return await renderPage({
    title: "sparsebench: published runs",
    intro:
      html`<p>Publishing a run means committing its folder under <code>results/published/</code>; this page and every report are rebuilt from those folders by <code>deno task report --all</code>. A run is marked superseded when a later finished run on the same device covers all its suites; a run whose run.json still says "running" is shown as interrupted.</p>
<p><label>Filter rows: <input id="filter" type="search" placeholder="suite, device, commit…"></label></p>`,
    charts: [],
    sections: [
      {
        title: "Latest run per suite and device",
        body: html`
          <div class="scroll">
            <table class="sortable filterable">
              <thead>
                <tr>
                  <th>suite</th>
                  <th>device</th>
                  <th>run</th>
                  <th>date</th>
                </tr>
              </thead>
              <tbody>${latestRows}</tbody>
            </table>
          </div>
        `,
      },
      {
        title: `All published runs (${entries.length})`,
        body: html`
          <div class="scroll">
            <table class="sortable filterable">
              <thead>
                <tr>
                  <th>run</th>
                  <th>date (UTC)</th>
                  <th>commit</th>
                  <th>device</th>
                  <th>suites</th>
                  <th>status</th>
                  <th>headline</th>
                  <th>superseded by</th>
                  <th>preview</th>
                </tr>
              </thead>
              <tbody>${rows}</tbody>
            </table>
          </div>
        `,
      },
      {
        title: "Comparisons",
        body: html`<ul>${
          (options.comparisons ?? []).map((c) =>
            html`<li><a href="published/${c}/index.html">${c}</a></li>`
          )
        }</ul>`,
      },
    ],
    imgSrc: "'self'",
  });
}

/**
 * Rebuilds `reports/index.html` from `results/published/`, atomically.
 *
 * @param options Studies; `root` (default: this checkout).
 * @returns The path written.
 */
export async function writeIndex(
  options: { studies?: readonly StudyReport[]; root?: string } = {},
): Promise<string> {
  const root = options.root ?? REPO_ROOT;
  const entries = await readPublished(root);
  const previews = new Set<string>();
  const comparisons: string[] = [];
  for (const e of entries) {
    if (
      await Deno.stat(`${root}reports/published/${e.id}/preview.png`).then(() => true, () => false)
    ) {
      previews.add(e.id);
    }
  }
  try {
    for await (const e of Deno.readDir(`${root}reports/published`)) {
      if (e.isDirectory && e.name.startsWith("compare-")) comparisons.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const page = await renderIndex(entries, {
    studies: options.studies ?? [],
    previews,
    comparisons: comparisons.sort(),
  });
  await Deno.mkdir(`${root}reports`, { recursive: true });
  const path = `${root}reports/index.html`;
  await writeFileAtomic(path, page);
  return path;
}
