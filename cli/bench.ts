/**
 * `deno task bench`: runs suites and writes `results/<run-id>/` (results.csv, results.json,
 * run.json, cells.jsonl). The last line printed is `results: <run dir>`.
 *
 * Exit codes a script can trust: {@linkcode EXIT_OK} only when every requested cell completed;
 * {@linkcode EXIT_INCOMPLETE} when some errored or were skipped (the run is written and can be
 * resumed); {@linkcode EXIT_NOTHING_RAN} when the selection held no cell; 2 for bad arguments.
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
import { unmatchedFilterWarnings } from "../src/plan.ts";
import { createProgress, formatDuration } from "../src/progress.ts";
import { checkId, RunDir } from "../src/run_dir.ts";
import { parseRunRecord, type RunRecord } from "../src/run_record.ts";
import { cellFilter, type RunOptions, runSuites } from "../src/runner.ts";
import type { CellResult } from "../src/result.ts";
import { sha256File } from "../lib/sha256.ts";
import { selectSuites, SUITES } from "../suites/mod.ts";
import { getMethod, METHODS } from "../methods/mod.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import { oneLine } from "../lib/one_line.ts";
import { parseShard, type ShardSpec } from "../src/shard.ts";

/** Every requested cell completed. */
export const EXIT_OK = 0;
/** Bad arguments or an unusable run folder; nothing was measured. */
export const EXIT_USAGE = 2;
/** Some cells errored or were skipped; the run is written and `--resume` retries errored cells. */
export const EXIT_INCOMPLETE = 3;
/** The selection held no cell to run. */
export const EXIT_NOTHING_RAN = 4;

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
  --shard K/N     run shard K of N: a deterministic share of the cells, balanced by estimated
                  cost, the same on every machine (join the shards with \`deno task merge\`)
  --resume RUNID  complete the run DIR/RUNID as it was started (its own suites, targets,
                  variants and sparsities); finished cells are kept, errored cells retried
  --help          show this help

Exit codes: 0 every cell completed; 3 some cells errored or were skipped (see the status
and error columns of results.csv); 4 nothing to run; 2 bad arguments.

Suites: ${SUITES.map((s) => s.suite.id).join(", ")}
Methods: ${[...METHODS.keys()].join(", ")}`;

/** The bench's parsed command line. */
interface BenchArgs {
  suite: string[];
  target: string[];
  variant: string[];
  sparsity: string[];
  quick: boolean;
  full: boolean;
  out: string;
  resume?: string;
  shard?: string;
  help: boolean;
}

function parseBenchArgs(args: string[]): BenchArgs {
  const { values } = parseArgs({
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
      shard: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  return values as BenchArgs;
}

/** What a run's arguments select, normalised so two command lines can be compared. */
function selection(a: BenchArgs): string {
  const sorted = (xs: string[]) => [...xs].sort();
  return JSON.stringify({
    suite: a.suite,
    target: sorted(a.target),
    variant: sorted(a.variant),
    sparsity: sorted(a.sparsity.map((s) => String(Number(s)))),
    quick: a.quick || (a.suite.length === 0 && !a.full),
    shard: a.shard ?? null,
  });
}

function shapesRun(a: BenchArgs): boolean {
  return a.suite.length + a.target.length + a.variant.length + a.sparsity.length > 0 ||
    a.quick || a.full || a.shard !== undefined;
}

/**
 * The arguments a resume runs with: the run's own, read from its run.json. Arguments given now
 * that would change the run are refused (a resume completes a run; it does not extend it).
 */
async function resumeArgs(
  now: BenchArgs,
  id: string,
): Promise<{ args: BenchArgs; record: RunRecord }> {
  const path = `${now.out}/${id}/run.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new Error(
      `Cannot resume run ${id}: ${path} not found (list the runs with \`ls ${now.out}\`)`,
    );
  }
  const record = parseRunRecord(text, path);
  if (record.runId !== id) {
    throw new Error(
      `Cannot resume run ${id}: ${path} names run "${record.runId}"; restore it from a copy`,
    );
  }
  const own = record.commandLine.slice(3).filter((_, i, all) =>
    !["--out", "--resume"].includes(all[i]!) && !["--out", "--resume"].includes(all[i - 1]!)
  );
  const original = { ...parseBenchArgs(own), out: now.out, resume: id };
  if (shapesRun(now) && selection(now) !== selection(original)) {
    throw new Error(
      `--resume completes run ${id} as it was started (${
        own.join(" ") || "the embedded default"
      }); drop --suite/--target/--variant/--sparsity/--quick/--full, or start a new run with them`,
    );
  }
  return { args: original, record };
}

interface Selection {
  suites: ReturnType<typeof selectSuites>;
  shard?: ShardSpec;
  targets: TargetId[];
  sparsities: number[];
  quick: boolean;
}

function validate(a: BenchArgs): Selection {
  for (const s of a.suite) checkId("suite id", s);
  for (const v of a.variant) {
    checkId("variant id", v);
    if (!METHODS.has(v)) {
      throw new RangeError(`Unknown variant "${v}" (valid: ${[...METHODS.keys()].join(", ")})`);
    }
  }
  const sparsities = a.sparsity.map((v) => {
    const s = Number(v);
    if (v.trim() === "" || !Number.isFinite(s) || s < 0 || s >= 1) {
      throw new RangeError(`--sparsity "${v}" is not a number in [0, 1)`);
    }
    return s;
  });
  const targets = a.target.map((t) => {
    checkId("target id", t);
    if (!TARGET_IDS.includes(t as TargetId)) {
      throw new RangeError(`Unknown target "${t}" (valid: ${TARGET_IDS.join(", ")})`);
    }
    return t as TargetId;
  });
  if (a.resume !== undefined) checkId("run id", a.resume);
  return {
    ...(a.shard !== undefined ? { shard: parseShard(a.shard) } : {}),
    suites: selectSuites(a.suite),
    targets,
    sparsities,
    quick: a.quick || (a.suite.length === 0 && !a.full),
  };
}

/**
 * Parses the command line and runs the bench.
 *
 * @param args Command-line arguments.
 * @param io Replaces how models are read (tests inject damaged files through it).
 * @returns Exit code.
 */
export async function main(
  args: string[],
  io: Pick<Partial<RunOptions>, "readModel" | "dataset"> = {},
): Promise<number> {
  let given: BenchArgs;
  try {
    given = parseBenchArgs(args);
  } catch (e) {
    console.error(`Error: ${(e as Error).message} (see --help)`);
    return EXIT_USAGE;
  }
  if (given.help) {
    console.log(HELP);
    return EXIT_OK;
  }
  let sel: Selection;
  let runDir: RunDir;
  let previous: RunRecord | undefined;
  let effective = given;
  try {
    if (given.resume !== undefined) {
      checkId("run id", given.resume);
      ({ args: effective, record: previous } = await resumeArgs(given, given.resume));
    }
    sel = validate(effective);
    runDir = effective.resume !== undefined
      ? await RunDir.resume(effective.out, effective.resume)
      : await RunDir.createNew(effective.out);
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return EXIT_USAGE;
  }
  // The OS releases the run's lock when the process ends, however it ends.
  const onSignal = () => {
    console.error(`\ninterrupted: resume with \`deno task bench --resume ${runDir.id}\``);
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return await bench(effective, sel, runDir, { previous, io });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await runDir.close();
  }
}

async function bench(
  a: BenchArgs,
  sel: Selection,
  runDir: RunDir,
  context: {
    previous: RunRecord | undefined;
    io: Pick<Partial<RunOptions>, "readModel" | "dataset">;
  },
): Promise<number> {
  const previous = context.previous;
  for (const d of runDir.dropped) console.error(`warning: ${runDir.path}/cells.jsonl ${d}`);
  const options: RunOptions = {
    suites: sel.suites.map((s) => s.suite),
    targets: sel.targets,
    variants: a.variant,
    ...(sel.sparsities.length > 0 ? { sparsities: sel.sparsities } : {}),
    quick: sel.quick,
    ...(sel.shard ? { shard: sel.shard } : {}),
    runDir,
    progress: createProgress(),
    backend: (id) => createBackend(id),
    method: getMethod,
    readModel: context.io.readModel ?? ((path) => Deno.readFile(`${REPO_ROOT}${path}`)),
    ...(context.io.dataset ? { dataset: context.io.dataset } : {}),
  };
  for (const { suite } of sel.suites) {
    if (suite.kind !== "model") continue;
    for (const w of unmatchedFilterWarnings(suite, sel.quick, cellFilter(options))) {
      console.error(`warning: ${w}`);
    }
  }
  const started = new Date();
  const t0 = performance.now();
  const environment = await captureEnvironment(REPO_ROOT);
  const record: RunRecord = previous ?? {
    runId: runDir.id,
    status: "running",
    startedAt: started.toISOString(),
    wallMs: 0,
    commandLine: ["deno", "task", "bench", ...argsOf(a)],
    quick: sel.quick,
    ...(sel.shard ? { shard: sel.shard } : {}),
    environment,
    backends: {},
    suites: await suiteRecords(sel.suites),
    sessions: [],
  };
  const before = runDir.cells.length;
  if (!previous) await runDir.writeAtomic("run.json", JSON.stringify(record, null, 2) + "\n");
  const identities = await runSuites(options);
  options.progress.done();
  const cells = runDir.cells;
  const recorded = cells.length - before;
  if (recorded > 0 || !previous) {
    await runDir.writeAtomic("results.csv", toCsv(cells));
    await runDir.writeAtomic("results.json", JSON.stringify(cells, null, 1) + "\n");
    const wallMs = Math.round(performance.now() - t0);
    const session = {
      startedAt: started.toISOString(),
      wallMs,
      cells: recorded,
      git: environment.git,
    };
    const updated: RunRecord = {
      ...record,
      status: "finished",
      wallMs: record.wallMs + wallMs,
      backends: { ...record.backends, ...identities },
      sessions: [...(record.sessions ?? []), session],
    };
    await runDir.writeAtomic("run.json", JSON.stringify(updated, null, 2) + "\n");
  }
  let reportPath: string | undefined;
  if (cells.length > 0) {
    try {
      reportPath = await writeRunReport(runDir.path, { studies: STUDY_REPORTS });
    } catch (e) {
      console.error(
        `warning: no HTML report (${oneLine(e)}); run \`deno task report ${runDir.path}\` to retry`,
      );
    }
  }
  printSummary(cells, performance.now() - t0);
  if (reportPath) console.log(`report: ${reportPath}`);
  console.log(`results: ${runDir.path}`);
  return exitCode(cells, runDir);
}

function argsOf(a: BenchArgs): string[] {
  return [
    ...a.suite.flatMap((s) => ["--suite", s]),
    ...a.target.flatMap((t) => ["--target", t]),
    ...a.variant.flatMap((v) => ["--variant", v]),
    ...a.sparsity.flatMap((s) => ["--sparsity", s]),
    ...(a.quick ? ["--quick"] : []),
    ...(a.full ? ["--full"] : []),
    ...(a.shard !== undefined ? ["--shard", a.shard] : []),
  ];
}

async function suiteRecords(suites: Selection["suites"]): Promise<Record<string, unknown>[]> {
  return await Promise.all(suites.map(async (s) => ({
    id: s.suite.id,
    file: s.file,
    sha256: await sha256File(`${REPO_ROOT}${s.file}`),
    seed: s.suite.seed,
    ...(s.suite.kind === "model"
      ? { model: s.suite.model, dataset: s.suite.dataset, claims: s.suite.claims ?? [] }
      : {}),
    ...(s.suite.kind === "custom" && s.suite.files
      ? {
        files: await Promise.all(
          s.suite.files.map(async (f) => ({
            path: f,
            sha256: await sha256File(`${REPO_ROOT}${f}`),
          })),
        ),
      }
      : {}),
  })));
}

function printSummary(cells: readonly CellResult[], ms: number): void {
  const errored = cells.filter((c) => c.status === "errored").length;
  const skipped = cells.filter((c) => c.status === "skipped").length;
  console.log(
    `${cells.length} cells: ${
      cells.length - errored - skipped
    } completed, ${errored} errored, ${skipped} skipped in ${formatDuration(ms)}`,
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
}

function exitCode(cells: readonly CellResult[], runDir: RunDir): number {
  if (cells.length === 0) {
    console.error("nothing ran: the selection holds no cell (check --suite, --target, --variant)");
    return EXIT_NOTHING_RAN;
  }
  const errored = cells.filter((c) => c.status === "errored").length;
  const skipped = cells.filter((c) => c.status === "skipped").length;
  if (errored + skipped === 0) return EXIT_OK;
  console.error(
    `incomplete: ${errored} errored, ${skipped} skipped (the status and error columns of ${runDir.path}/results.csv say why); \`deno task bench --resume ${runDir.id}\` retries the errored cells`,
  );
  return EXIT_INCOMPLETE;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
