/**
 * `deno task report <run dir>...` writes each run's HTML report; `--index` rebuilds
 * reports/index.html, the list of published runs (those committed under results/published/);
 * `--all` rebuilds every published run's report and the index. Published reports are replaced
 * only with `--force` (or `--all`, which rebuilds them from results/ on purpose).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isPublishedPath, writeRunReport } from "../src/report/run_report.ts";
import { readPublished, supersession, writeIndex } from "../src/report/index_page.ts";
import type { RunData } from "../src/report/run_data.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { oneLine } from "../lib/one_line.ts";

const HELP = `Usage: deno task report <run dir>... [--index] [--all] [--force]

Writes reports/<run-id>/index.html for each run (reports/published/<run-id>/ for runs under
results/published/, which must be given --force to be replaced).
  --index   rebuild reports/index.html from results/published/
  --all     rebuild every published run's report, then the index
  --force   replace published reports
  --previews  screenshot the top of each published report written into preview.png beside it
            (headless Chromium at /usr/bin/chromium; shown in the index)`;

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
        all: { type: "boolean", default: false },
        force: { type: "boolean", default: false },
        previews: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`Error: ${oneLine(e)} (see --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || (positionals.length === 0 && !values.index && !values.all)) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const studies = STUDY_REPORTS;
  const published = await readPublished();
  const readable = published.map((e) => e.run).filter((r): r is RunData => "cells" in r);
  const superseded = supersession(readable);
  const dirs = [
    ...positionals,
    ...(values.all ? published.map((e) => `${REPO_ROOT}results/published/${e.id}`) : []),
  ];
  let failed = 0;
  const written: string[] = [];
  for (const dir of dirs) {
    try {
      const id = dir.replace(/\/+$/, "").split("/").pop() ?? "";
      const by = superseded.get(id);
      const path = await writeRunReport(dir, {
        studies,
        force: values.force || values.all,
        ...(by ? { supersededBy: by } : {}),
      });
      console.log(`report: ${path}`);
      written.push(path);
    } catch (e) {
      console.error(`Error: ${oneLine(e)}`);
      failed++;
    }
  }
  const previewed = written.filter((p) => isPublishedPath(p));
  if (values.previews && previewed.length > 0) {
    try {
      const { writePreviews } = await import("../src/report/chromium.ts");
      const pairs = previewed.map((p) => [p, p.replace(/index\.html$/, "preview.png")] as const);
      const sizes = await writePreviews(pairs, { tempDir: `${REPO_ROOT}.cache/chromium` });
      console.log(
        `previews: ${sizes.length} written, largest ${Math.max(...sizes) >> 10} KiB`,
      );
    } catch (e) {
      console.error(`Error: no previews (${oneLine(e)})`);
      failed++;
    }
  }
  if (values.index || values.all) {
    try {
      console.log(`index: ${await writeIndex({ studies })}`);
    } catch (e) {
      console.error(`Error: ${oneLine(e)}`);
      return 1;
    }
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
