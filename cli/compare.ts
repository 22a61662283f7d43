/**
 * `deno task compare <run dir> <run dir>...`: one report with each cell side by side per device,
 * the time ratio between devices and the significance of the difference; refuses runs that are
 * not comparable (different suite files, models or data).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { compareRuns } from "../src/report/compare.ts";
import { renderCompareReport } from "../src/report/compare_report.ts";
import { readRun } from "../src/report/run_data.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
// @ts-types="npm:@types/papaparse@5.5.2"
import Papa from "papaparse";
import { REPO_ROOT } from "../lib/repo_root.ts";

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
      options: { out: { type: "string" }, help: { type: "boolean", default: false } },
      allowPositionals: true,
    });
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length < 2) {
    console.log(
      "Usage: deno task compare <run dir> <run dir>... [--out DIR]\n\nWrites DIR/index.html and DIR/compare.csv (default DIR: reports/compare-<ids>, or reports/published/compare-<ids> when every run is published).",
    );
    return parsed.values.help ? 0 : 2;
  }
  try {
    const runs = await Promise.all(parsed.positionals.map((d) => readRun(d)));
    const compared = compareRuns(runs);
    const published = parsed.positionals.every((d) => /(^|\/)results\/published\//.test(d));
    const dir = parsed.values.out ??
      `${REPO_ROOT}reports/${published ? "published/" : ""}compare-${
        runs.map((r) => r.id).join("-vs-")
      }`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/index.html`,
      await renderCompareReport(runs, compared, { studies: STUDY_REPORTS }),
    );
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
    const data = compared.map((
      c,
    ) => [
      c.suite,
      c.target,
      c.method,
      c.params,
      c.sparsity ?? "",
      ...runs.flatMap((
        _,
        j,
      ) => [
        c.devices[j] ?? "",
        c.timesMs[j] ?? "",
        c.ratios[j] ?? "",
        c.pValues[j] ?? "",
        c.speedups[j] ?? "",
      ]),
    ]);
    await Deno.writeTextFile(
      `${dir}/compare.csv`,
      Papa.unparse({ fields, data }, { newline: "\n" }) + "\n",
    );
    console.log(`${compared.length} cells compared`);
    console.log(`report: ${dir}/index.html`);
    return 0;
  } catch (e) {
    console.error(`Error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
