/**
 * `deno task bench`: runs suites and writes `results/<run-id>/` (results.csv, results.json,
 * run.json, cells.jsonl). The last line printed is `results: <run dir>`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { TARGET_IDS, type TargetId } from "../src/backend.ts";
import { createBackend } from "../src/backends/mod.ts";
import { captureEnvironment } from "../src/environment.ts";
import { toCsv } from "../src/export_csv.ts";
import { writeRunReport } from "../src/report/run_report.ts";
import { STUDY_REPORTS } from "../suites/reports.ts";
import { createProgress, formatDuration } from "../src/progress.ts";
import { checkId, newRunId, RunDir } from "../src/run_dir.ts";
import { type BackendIdentities, runSuites } from "../src/runner.ts";
import { sha256File } from "../lib/sha256.ts";
import { selectSuites, SUITES } from "../suites/mod.ts";
import { getMethod, METHODS } from "../methods/mod.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";

const HELP = `Usage: deno task bench [options]

Runs benchmark suites: dense vs sparse variants, accuracy and timing, on each target.
With no --suite, runs the embedded default (quick forms of the default suites).

Options:
  --suite ID      suite to run (repeatable; default: the embedded default)
  --target ID     target to time on (repeatable; default: each suite's targets)
                  targets: ${TARGET_IDS.join(", ")}
  --variant ID    method to run besides dense (repeatable; default: all of the suite's)
  --sparsity S    grid point to run, e.g. 0.5 (repeatable; default: the suite's whole grid;
                  variants without a sparsity target always run)
  --quick         smaller sample counts and grids (implied when no --suite is given)
  --full          with no --suite: run the default suites in full, not quick
  --out DIR       parent folder of run folders (default: results)
  --resume RUNID  complete an interrupted run in DIR/RUNID without redoing finished cells
  --help          show this help

Suites: ${SUITES.map((s) => s.suite.id).join(", ")}
Methods: ${[...METHODS.keys()].join(", ")}`;

/**
 * Parses the command line and runs the bench.
 *
 * @param args Command-line arguments.
 * @returns Exit code.
 */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        suite: { type: "string", multiple: true, default: [] },
        target: { type: "string", multiple: true, default: [] },
        variant: { type: "string", multiple: true, default: [] },
        sparsity: { type: "string", multiple: true, default: [] },
        quick: { type: "boolean", default: false },
        full: { type: "boolean", default: false },
        out: { type: "string", default: "results" },
        resume: { type: "string" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let suites;
  let targets: TargetId[];
  let sparsities: number[];
  try {
    for (const s of values.suite) checkId("suite id", s);
    for (const v of values.variant) {
      checkId("variant id", v);
      if (!METHODS.has(v)) {
        throw new RangeError(`Unknown variant "${v}" (valid: ${[...METHODS.keys()].join(", ")})`);
      }
    }
    sparsities = values.sparsity.map((v) => {
      const s = Number(v);
      if (v.trim() === "" || !Number.isFinite(s) || s < 0 || s >= 1) {
        throw new RangeError(`--sparsity "${v}" is not a number in [0, 1)`);
      }
      return s;
    });
    targets = values.target.map((t) => {
      checkId("target id", t);
      if (!TARGET_IDS.includes(t as TargetId)) {
        throw new RangeError(`Unknown target "${t}" (valid: ${TARGET_IDS.join(", ")})`);
      }
      return t as TargetId;
    });
    suites = selectSuites(values.suite);
    if (values.resume !== undefined) checkId("run id", values.resume);
  } catch (e) {
    console.error(`Error: ${(e as Error).message}`);
    return 2;
  }
  const quick = values.quick || (values.suite.length === 0 && !values.full);

  let runDir: RunDir;
  try {
    runDir = values.resume !== undefined
      ? await RunDir.resume(values.out, values.resume)
      : await RunDir.create(values.out, newRunId());
  } catch (e) {
    console.error(`Error: ${(e as Error).message}`);
    return 2;
  }

  const started = new Date();
  const t0 = performance.now();
  const suiteFiles = await Promise.all(suites.map(async (s) => ({
    id: s.suite.id,
    file: s.file,
    sha256: await sha256File(`${REPO_ROOT}${s.file}`),
    seed: s.suite.seed,
    ...(s.suite.kind === "model"
      ? { model: s.suite.model, dataset: s.suite.dataset, claims: s.suite.claims ?? [] }
      : {}),
  })));
  const environment = await captureEnvironment(REPO_ROOT);
  const runJson = (identities: BackendIdentities, status: string) =>
    JSON.stringify(
      {
        runId: runDir.id,
        status,
        startedAt: started.toISOString(),
        wallMs: Math.round(performance.now() - t0),
        commandLine: ["deno", "task", "bench", ...args],
        quick,
        environment,
        backends: identities,
        suites: suiteFiles,
      },
      null,
      2,
    ) + "\n";
  await runDir.writeAtomic("run.json", runJson({}, "running"));

  const progress = createProgress();
  const writeResults = async () => {
    const cells = runDir.cells;
    await runDir.writeAtomic("results.csv", toCsv(cells));
    await runDir.writeAtomic("results.json", JSON.stringify(cells, null, 1) + "\n");
  };
  const identities = await runSuites({
    suites: suites.map((s) => s.suite),
    targets,
    variants: values.variant,
    ...(sparsities.length > 0 ? { sparsities } : {}),
    quick,
    runDir,
    progress,
    backend: (id) => createBackend(id),
    method: getMethod,
    readModel: (path) => Deno.readFile(`${REPO_ROOT}${path}`),
  });
  progress.done();
  await writeResults();
  await runDir.writeAtomic("run.json", runJson(identities, "finished"));
  let reportPath: string | undefined;
  try {
    reportPath = await writeRunReport(runDir.path, { studies: STUDY_REPORTS });
  } catch (e) {
    console.error(
      `warning: no HTML report (${
        (e as Error).message
      }); run \`deno task report ${runDir.path}\` to retry`,
    );
  }
  const cells = runDir.cells;
  const errored = cells.filter((c) => c.status === "errored").length;
  const skipped = cells.filter((c) => c.status === "skipped").length;
  console.log(
    `${cells.length} cells: ${
      cells.length - errored - skipped
    } completed, ${errored} errored, ${skipped} skipped in ${
      formatDuration(performance.now() - t0)
    }`,
  );
  for (
    const c of cells.filter((c) =>
      c.method !== "dense" && c.speedup !== null && c.status === "completed"
    )
  ) {
    const parts = [`speedup ${c.speedup!.toFixed(2)}x`];
    if (c.speedup_ci_low !== null && c.speedup_ci_high !== null) {
      parts[0] += ` [${c.speedup_ci_low.toFixed(2)}, ${c.speedup_ci_high.toFixed(2)}]`;
    }
    if (c.accuracy !== null && c.accuracy_dense !== null) {
      parts.push(`${c.metric} ${c.accuracy.toFixed(4)} (dense ${c.accuracy_dense.toFixed(4)})`);
    }
    if (c.flops_reduction !== null) parts.push(`FLOPs ${c.flops_reduction.toFixed(2)}x fewer`);
    const shape = c.extra.shape ? ` ${c.extra.shape}` : "";
    const s = c.sparsity_target !== null ? `@${c.sparsity_target}` : "";
    console.log(`  ${c.suite} ${c.target} ${c.method}${s}${shape}: ${parts.join(", ")}`);
  }
  if (reportPath) console.log(`report: ${reportPath}`);
  console.log(`results: ${runDir.path}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
