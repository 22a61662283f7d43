/**
 * `deno task compare <run dir> <run dir>...`: one report with each cell side by side per device,
 * the time ratio between devices and the significance of the difference; refuses runs that are
 * not comparable (different suite files, models or data). Writes are atomic, and a published
 * comparison is replaced only with `--force`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { codeDifferences, compareRuns, formatP } from "../src/report/compare.ts";
import { renderCompareReport } from "../src/report/compare_report.ts";
import { readRun } from "../src/report/run_data.ts";
import { isPublishedPath } from "../src/report/run_report.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
// @ts-types="npm:@types/papaparse@5.5.2"
import Papa from "papaparse";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { writeFileAtomic } from "../lib/atomic_write.ts";
import { oneLine } from "../lib/one_line.ts";

const HELP =
  `Usage: deno task compare <run dir> <run dir>... [--out DIR] [--force] [--allow-different-code]

Writes DIR/index.html and DIR/compare.csv (default DIR: reports/compare-<ids>, or
reports/published/compare-<ids> when every run is published): per cell the time ratio and the
speedup ratio between machines with bootstrap intervals, and accuracy side by side.
Runs of different code (git commit, uncommitted changes, suite or source hashes) are refused
unless --allow-different-code is given; the page then lists the differences.
A comparison under reports/published/ is replaced only with --force.`;

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
        "allow-different-code": { type: "boolean", default: false },
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
    const allowDifferentCode = parsed.values["allow-different-code"];
    const compared = compareRuns(runs, { allowDifferentCode });
    const differences = codeDifferences(runs);
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
    const html = await renderCompareReport(runs, compared, {
      studies: STUDY_REPORTS,
      codeDifferences: differences,
    });
    const ci = (i: { low: number; high: number } | null | undefined, k: "low" | "high") =>
      i ? i[k] : "";
    const fields = [
      "suite",
      "target",
      "method",
      "params",
      "sparsity",
      "shape",
      ...runs.flatMap((r, j) => [
        `${r.id}_device`,
        `${r.id}_ms`,
        ...(j > 0
          ? [`${r.id}_time_ratio`, `${r.id}_time_ratio_low`, `${r.id}_time_ratio_high`, `${r.id}_p`]
          : []),
        `${r.id}_speedup`,
        ...(j > 0
          ? [
            `${r.id}_speedup_ratio`,
            `${r.id}_speedup_ratio_low`,
            `${r.id}_speedup_ratio_high`,
            `${r.id}_speedup_ratio_p`,
          ]
          : []),
        `${r.id}_accuracy`,
      ]),
    ];
    const data = compared.map((c) => [
      c.suite,
      c.target,
      c.method,
      c.params,
      c.sparsity ?? "",
      c.shape,
      ...runs.flatMap((_, j) => [
        c.devices[j] ?? "",
        c.timesMs[j] ?? "",
        ...(j > 0
          ? [
            c.ratios[j] ?? "",
            ci(c.ratioCis[j], "low"),
            ci(c.ratioCis[j], "high"),
            formatP(c.pValues[j] ?? null),
          ]
          : []),
        c.speedups[j] ?? "",
        ...(j > 0
          ? [
            c.speedupRatios[j]?.estimate ?? "",
            ci(c.speedupRatios[j], "low"),
            ci(c.speedupRatios[j], "high"),
            formatP(c.speedupRatioPs[j] ?? null),
          ]
          : []),
        c.accuracies[j] ?? "",
      ]),
    ]);
    await Deno.mkdir(dir, { recursive: true });
    await writeFileAtomic(
      `${dir}/compare.csv`,
      Papa.unparse({ fields, data }, { newline: "\n" }) + "\n",
    );
    await writeFileAtomic(`${dir}/index.html`, html);
    if (differences.length > 0) {
      console.error(`warning: compared runs of different code: ${differences.join("; ")}`);
    }
    console.log(`${compared.length} cells compared`);
    console.log(`report: ${dir}/index.html`);
    return 0;
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
