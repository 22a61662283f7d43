/**
 * `deno task report <run dir>...` writes each run's HTML report; `--index` rebuilds
 * reports/index.html, the list of published runs (those committed under results/published/).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { escapeHtml, readRun, writeRunReport } from "../src/report/html_report.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";

/**
 * Rebuilds reports/index.html from results/published/.
 *
 * @returns The path written.
 */
export async function writeIndex(): Promise<string> {
  const rows: string[] = [];
  const published = `${REPO_ROOT}results/published`;
  const entries: string[] = [];
  try {
    for await (const e of Deno.readDir(published)) if (e.isDirectory) entries.push(e.name);
  } catch {
    // No published runs yet.
  }
  for (const id of entries.sort()) {
    try {
      const run = await readRun(`${published}/${id}`);
      const b = (run.run.backends ?? {}) as Record<string, { device?: string }>;
      const devices = [...new Set(Object.values(b).map((x) => x.device))].join(" / ");
      const suites = [...new Set(run.cells.map((c) => c.suite))].join(", ");
      rows.push(
        `<tr><td><a href="published/${escapeHtml(id)}/index.html">${escapeHtml(id)}</a></td><td>${
          escapeHtml(suites)
        }</td><td>${escapeHtml(devices)}</td><td>${run.cells.length}</td><td>${
          escapeHtml(run.run.status)
        }</td></tr>`,
      );
    } catch (e) {
      rows.push(
        `<tr><td>${escapeHtml(id)}</td><td colspan="4">unreadable: ${
          escapeHtml((e as Error).message)
        }</td></tr>`,
      );
    }
  }
  const compares: string[] = [];
  try {
    for await (const e of Deno.readDir(`${REPO_ROOT}reports/published`)) {
      if (e.isDirectory && e.name.startsWith("compare-")) compares.push(e.name);
    }
  } catch {
    // None.
  }
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sparsebench: published runs</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:3px 8px}table{border-collapse:collapse}</style></head>
<body><h1>sparsebench: published runs</h1>
<p>Publishing a run means committing its folder under <code>results/published/</code>; this page is rebuilt by <code>deno task report --index</code>.</p>
<table><tr><th>run</th><th>suites</th><th>devices</th><th>cells</th><th>status</th></tr>
${rows.join("\n")}
</table>
<h2>Comparisons</h2><ul>${
      compares.sort().map((c) =>
        `<li><a href="published/${escapeHtml(c)}/index.html">${escapeHtml(c)}</a></li>`
      ).join("")
    }</ul>
</body></html>
`;
  const path = `${REPO_ROOT}reports/index.html`;
  await Deno.writeTextFile(path, html);
  return path;
}

/**
 * Runs the CLI.
 *
 * @param args Arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        index: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (parsed.values.help || (parsed.positionals.length === 0 && !parsed.values.index)) {
    console.log(
      "Usage: deno task report <run dir>... [--index]\n\nWrites reports/<run-id>/index.html for each run (reports/published/<run-id>/ for runs under results/published/); --index rebuilds reports/index.html.",
    );
    return parsed.values.help ? 0 : 2;
  }
  for (const dir of parsed.positionals) {
    try {
      console.log(`report: ${await writeRunReport(dir)}`);
    } catch (e) {
      console.error(`Error: ${(e as Error).message}`);
      return 1;
    }
  }
  if (parsed.values.index) console.log(`index: ${await writeIndex()}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
