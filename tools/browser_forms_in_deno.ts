/**
 * The Deno twin of a browser run: the page's suites in their browser forms (`web/browser_suites.ts`:
 * ort-wasm where a suite names ort-node, calibration on ort-wasm), on the page's targets, run by
 * Deno with the same engine and written as an ordinary run folder. `deno task bench` cannot ask
 * for these forms (its quick ViT/LM slices time ort-node), so this is how `deno task compare`
 * gets the same cells on both sides and shows what the browser sandbox costs cell by cell.
 *
 * Usage: `deno run -A tools/browser_forms_in_deno.ts [--suite ID]... [--variant ID]... [--out DIR]`
 * (default: every suite of the embedded default, all variants of its quick form, `results/`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadDataset } from "../datasets/mod.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { oneLine } from "../lib/one_line.ts";
import { getMethod } from "../methods/mod.ts";
import { createBackend } from "../src/backends/mod.ts";
import { captureEnvironment } from "../src/environment.ts";
import { toCsv } from "../src/export_csv.ts";
import { createProgress } from "../src/progress.ts";
import { writeRunReport } from "../src/report/run_report.ts";
import { RunDir } from "../src/run_dir.ts";
import { runSuites } from "../src/runner.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
import { SUITES } from "../suites/mod.ts";
import { suiteRecords } from "../cli/bench.ts";
import { BROWSER_SUITES, browserForm } from "../web/browser_suites.ts";
import { BROWSER_TARGETS } from "../web/page_backends.ts";

/**
 * Runs the twin and writes its folder.
 *
 * @param options `suites` (ids; empty: all of the page's), `variants` (empty: all), `out`.
 * @returns The run folder's path.
 * @throws {RangeError} For a suite the page does not run.
 */
export async function runBrowserFormsInDeno(
  options: { suites: readonly string[]; variants: readonly string[]; out: string },
): Promise<string> {
  const picked = options.suites.length === 0 ? [...BROWSER_SUITES] : options.suites.map((id) => {
    const s = BROWSER_SUITES.find((x) => x.id === id);
    if (!s) {
      throw new RangeError(
        `Suite ${id} is not one the page runs (these are: ${
          BROWSER_SUITES.map((x) => x.id).join(", ")
        })`,
      );
    }
    return s;
  });
  const forms = picked.map(browserForm);
  const started = new Date();
  const t0 = performance.now();
  const environment = await captureEnvironment(REPO_ROOT);
  const ids = new Set(picked.map((s) => s.id));
  const records = await suiteRecords(SUITES.filter((s) => ids.has(s.suite.id)));
  const dir = await RunDir.createNew(options.out);
  try {
    const progress = createProgress();
    const identities = await runSuites({
      suites: forms.map((f) => f.suite),
      targets: BROWSER_TARGETS,
      ...(options.variants.length > 0 ? { variants: options.variants } : {}),
      quick: true,
      runDir: dir,
      progress,
      backend: (id) => createBackend(id),
      calibrationTarget: "ort-wasm",
      method: getMethod,
      dataset: (id) => loadDataset(id),
      readModel: (path) => Deno.readFile(`${REPO_ROOT}${path}`),
    });
    progress.done();
    const cells = dir.cells;
    const wallMs = Math.round(performance.now() - t0);
    await dir.writeAtomic("results.csv", toCsv(cells));
    await dir.writeAtomic("results.json", JSON.stringify(cells, null, 1) + "\n");
    const record = {
      runId: dir.id,
      status: "finished",
      startedAt: started.toISOString(),
      wallMs,
      commandLine: ["deno", "run", "tools/browser_forms_in_deno.ts", ...Deno.args],
      quick: true,
      environment,
      backends: identities,
      suites: records,
      // What the browser forms run in place of what the suites name, as a page records it.
      browserForms: { substitutions: forms.flatMap((f) => f.substitutions) },
      sessions: [{
        startedAt: started.toISOString(),
        wallMs,
        cells: cells.length,
        git: environment.git,
      }],
    };
    await dir.writeAtomic("run.json", JSON.stringify(record, null, 2) + "\n");
  } finally {
    await dir.close();
  }
  try {
    console.log(`report: ${await writeRunReport(dir.path, { studies: STUDY_REPORTS })}`);
  } catch (e) {
    console.error(`warning: no HTML report (${oneLine(e)}); run \`deno task report ${dir.path}\``);
  }
  return dir.path;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      suite: { type: "string", multiple: true, default: [] },
      variant: { type: "string", multiple: true, default: [] },
      out: { type: "string", default: "results" },
    },
  });
  try {
    const path = await runBrowserFormsInDeno({
      suites: values.suite,
      variants: values.variant,
      out: values.out,
    });
    console.log(`results: ${path}`);
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    Deno.exit(2);
  }
}
