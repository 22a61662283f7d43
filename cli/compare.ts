/**
 * `deno task compare <run dir> <run dir>...`: one report with each cell side by side per device,
 * the time ratio between devices and the significance of the difference; refuses runs that are
 * not comparable (different suite files, models or data). Writes are atomic, and a published
 * comparison is replaced only with `--force`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { compareRuns } from "../src/report/compare.ts";
import { renderCompareReport } from "../src/report/compare_report.ts";
import { readRun } from "../src/report/run_data.ts";
import { isPublishedPath } from "../src/report/run_report.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
// @ts-types="npm:@types/papaparse@5.5.2"
import Papa from "papaparse";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { writeFileAtomic } from "../lib/atomic_write.ts";
import { oneLine } from "../lib/one_line.ts";

const HELP = `Usage: deno task compare <run dir> <run dir>... [--out DIR] [--force]

Writes DIR/index.html and DIR/compare.csv (default DIR: reports/compare-<ids>, or
reports/published/compare-<ids> when every run is published). A comparison under
reports/published/ is replaced only with --force.`;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
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
        out: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`Error: ${oneLine(e)} (see --help)`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length < 2) {
    console.log(HELP);
    return parsed.values.help ? 0 : 2;
  }
  try {
    const runs = await Promise.all(parsed.positionals.map((d) => readRun(d)));
    const compared = compareRuns(runs);
    const published = parsed.positionals.every((d) => /(^|\/)results\/published\//.test(d));
    const dir = (parsed.values.out ??
      `${REPO_ROOT}reports/${published ? "published/" : ""}compare-${
        runs.map((r) => r.id).join("-vs-")
      }`).replace(/\/+$/, "");
    if (
      isPublishedPath(`${dir}/`) && !parsed.values.force &&
      (await exists(`${dir}/index.html`) || await exists(`${dir}/compare.csv`))
    ) {
      console.error(
        `Error: refusing to overwrite the published comparison ${dir}: pass --force to replace it`,
      );
      return 1;
    }
    const html = await renderCompareReport(runs, compared, { studies: STUDY_REPORTS });
    const fields = [
      "suite",
      "target",
      "method",
      "params",
      "sparsity",
      ...runs.flatMap((
        r,
      ) => [`${r.id}_device`, `${r.id}_ms`, `${r.id}_ratio`, `${r.id}_p`, `${r.id}_speedup`]),
    ];
    const data = compared.map((c) => [
      c.suite,
      c.target,
      c.method,
      c.params,
      c.sparsity ?? "",
      ...runs.flatMap((_, j) => [
        c.devices[j] ?? "",
        c.timesMs[j] ?? "",
        c.ratios[j] ?? "",
        c.pValues[j] ?? "",
        c.speedups[j] ?? "",
      ]),
    ]);
    await Deno.mkdir(dir, { recursive: true });
    await writeFileAtomic(
      `${dir}/compare.csv`,
      Papa.unparse({ fields, data }, { newline: "\n" }) + "\n",
    );
    await writeFileAtomic(`${dir}/index.html`, html);
    console.log(`${compared.length} cells compared`);
    console.log(`report: ${dir}/index.html`);
    return 0;
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
