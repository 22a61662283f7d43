/**
 * `deno task bench`: runs suites and writes `results/<run-id>/` (results.csv, results.json,
 * run.json, cells.jsonl). The last line printed is `results: <run dir>`. With `--model FILE.onnx`
 * it runs a suite built for that model (`src/user/user_suite.ts`), printing what it found first.
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
import { captureEnvironment, type Environment } from "../src/environment.ts";
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
import { loadDataset } from "../datasets/mod.ts";
import type { DatasetId, DatasetSource } from "../datasets/types.ts";
import { parseShapeFlags } from "./inspect.ts";
import { buildUserSuite } from "../src/user/user_suite.ts";
import { describeUserModel } from "../src/user/describe.ts";
import { planModelSuite } from "../src/plan.ts";
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
  --variant ID    method to run besides dense (repeatable; default: all of the suite's); a
                  custom suite's own too, e.g. --suite kernels --variant input-sparse-skip
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

Your own model (instead of --suite):
  --model FILE    an ONNX model anywhere on disk: prints its FLOPs, blocks and the plan, then
                  runs dense + every applicable activation and pruning method on ort-wasm and
                  ort-node (quick unless --full)
  --inputs SPEC   random or random:N (seeded random inputs: speed and agreement with dense)
  --data SPEC     a folder of .npy arrays named after the graph inputs (+ labels.npy), or a
                  dataset id (mnist, fashion-mnist, english-text, ocr-lines, ocr-pages)
  --shape N=AxB   shape of input N where it has dynamic dimensions (repeatable), e.g. x=1x3x48x320
  --output NAME   output to compare (default: the first)
  --normalize M,S images of --data DATASET_ID become (x - M) / S (default 0,1)
  \`deno task suite new --model FILE --data SPEC --id NAME\` pins the model and data in
  suites/user/NAME.ts, so the same cells rerun with --suite NAME.

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
  model?: string;
  data?: string;
  inputs?: string;
  shape: string[];
  output?: string;
  normalize?: string;
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
      model: { type: "string" },
      data: { type: "string" },
      inputs: { type: "string" },
      shape: { type: "string", multiple: true, default: [] },
      output: { type: "string" },
      normalize: { type: "string" },
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
    model: [a.model, a.data, a.inputs, sorted(a.shape), a.output, a.normalize],
  });
}

function shapesRun(a: BenchArgs): boolean {
  return a.suite.length + a.target.length + a.variant.length + a.sparsity.length > 0 ||
    a.quick || a.full || a.shard !== undefined || a.shape.length > 0 ||
    a.model !== undefined || a.data !== undefined || a.inputs !== undefined;
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
      }); drop --suite/--target/--variant/--sparsity/--quick/--full/--model, or start a new run with them`,
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

async function validate(a: BenchArgs): Promise<Selection> {
  for (const s of a.suite) checkId("suite id", s);
  // A custom suite's own methods (the kernels suite's kernels) are variants of that suite.
  const own = a.suite.length > 0
    ? selectSuites(a.suite).flatMap(({ suite: s }) => s.kind === "custom" ? s.methods ?? [] : [])
    : [];
  for (const v of a.variant) {
    checkId("variant id", v);
    if (!METHODS.has(v) && !own.includes(v)) {
      throw new RangeError(
        `Unknown variant "${v}" (valid: ${[...METHODS.keys(), ...own].join(", ")})`,
      );
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
  if (a.model === undefined && (a.data ?? a.inputs ?? a.output ?? a.normalize) !== undefined) {
    throw new RangeError("--data, --inputs, --output and --normalize go with --model FILE.onnx");
  }
  if (a.model !== undefined) {
    return {
      ...(a.shard !== undefined ? { shard: parseShard(a.shard) } : {}),
      ...await userSelection(a, targets, sparsities),
    };
  }
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
    sel = await validate(effective);
  } catch (e) {
    console.error(`Error: ${oneLine(e)}`);
    return EXIT_USAGE;
  }
  const started = new Date();
  const t0 = performance.now();
  const environment = await captureEnvironment(REPO_ROOT);
  const a = effective;
  const suites = previous ? [] : await suiteRecords(sel.suites);
  const fresh = (id: string): RunRecord => ({
    runId: id,
    status: "running",
    startedAt: started.toISOString(),
    wallMs: 0,
    commandLine: ["deno", "task", "bench", ...argsOf(a)],
    quick: sel.quick,
    ...(sel.shard ? { shard: sel.shard } : {}),
    environment,
    backends: {},
    suites,
    sessions: [],
  });
  try {
    // run.json goes in with the folder, so a run killed at any later point can be resumed.
    runDir = effective.resume !== undefined
      ? await RunDir.resume(effective.out, effective.resume)
      : await RunDir.createNew(effective.out, {
        files: (id) => ({ "run.json": JSON.stringify(fresh(id), null, 2) + "\n" }),
      });
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
    const record = previous ?? fresh(runDir.id);
    return await bench(effective, sel, runDir, {
      record,
      resumed: previous !== undefined,
      io,
      session: { started, t0, environment },
    });
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
    record: RunRecord;
    resumed: boolean;
    io: Pick<Partial<RunOptions>, "readModel" | "dataset">;
    session: { started: Date; t0: number; environment: Environment };
  },
): Promise<number> {
  const { record, resumed } = context;
  const { started, t0, environment } = context.session;
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
    readModel: context.io.readModel ?? readModelFile,
    // User datasets (npy folders, random inputs) are rebuilt from the source their suite pins.
    dataset: context.io.dataset ??
      ((id: DatasetId, source?: DatasetSource) => loadDataset(id, source ? { source } : {})),
  };
  for (const { suite } of sel.suites) {
    if (suite.kind !== "model") continue;
    for (const w of unmatchedFilterWarnings(suite, sel.quick, cellFilter(options))) {
      console.error(`warning: ${w}`);
    }
  }
  const before = runDir.cells.length;
  const identities = await runSuites(options);
  options.progress.done();
  const cells = runDir.cells;
  const recorded = cells.length - before;
  if (recorded > 0 || !resumed) {
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

/** Reads a pinned model file; a missing one gets the command that restores it. */
async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path.startsWith("/") ? path : `${REPO_ROOT}${path}`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error(
      path.startsWith("node_modules/")
        ? `Model file ${path} is missing: install the pinned npm packages with \`npx --yes deno@2.9.6 install\``
        : `Model file ${path} is missing: restore it (\`git checkout -- ${path}\`) or point the suite at it`,
    );
  }
}

function argsOf(a: BenchArgs): string[] {
  return [
    ...(a.model !== undefined ? ["--model", a.model] : []),
    ...(a.data !== undefined ? ["--data", a.data] : []),
    ...(a.inputs !== undefined ? ["--inputs", a.inputs] : []),
    ...a.shape.flatMap((s) => ["--shape", s]),
    ...(a.output !== undefined ? ["--output", a.output] : []),
    ...(a.normalize !== undefined ? ["--normalize", a.normalize] : []),
    ...a.suite.flatMap((s) => ["--suite", s]),
    ...a.target.flatMap((t) => ["--target", t]),
    ...a.variant.flatMap((v) => ["--variant", v]),
    ...a.sparsity.flatMap((s) => ["--sparsity", s]),
    ...(a.quick ? ["--quick"] : []),
    ...(a.full ? ["--full"] : []),
    ...(a.shard !== undefined ? ["--shard", a.shard] : []),
  ];
}

/**
 * The suite records of `run.json`: each suite's file and its hash, seed and pins.
 *
 * @param suites The suites.
 * @returns The records.
 */
export async function suiteRecords(
  suites: Selection["suites"],
): Promise<Record<string, unknown>[]> {
  return await Promise.all(suites.map(async (s) => ({
    id: s.suite.id,
    file: s.file,
    // A suite built from --model has no file: its pins (model, dataset and source) say it all.
    sha256: s.file ? await sha256File(`${REPO_ROOT}${s.file}`) : "",
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
    if (typeof c.extra.kl_mean === "number") parts.push(`KL ${c.extra.kl_mean.toPrecision(3)}`);
    if (typeof c.extra.rel_error === "number") {
      parts.push(`rel err ${c.extra.rel_error.toPrecision(3)}`);
    }
    if (c.gate) parts.push(`gate ${c.gate}`);
    if (c.flops_reduction !== null) parts.push(`FLOPs ${c.flops_reduction.toFixed(2)}x fewer`);
    const shape = c.extra.shape ? ` ${c.extra.shape}` : "";
    const params = c.params && c.params !== "{}" ? c.params : "";
    const s = `${params}${c.sparsity_target !== null ? `@${c.sparsity_target}` : ""}`;
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

/**
 * The selection of a `--model` run: a suite built for the model, after printing what was found
 * in it and what will run; a warning when no committed suite pins the model.
 */
async function userSelection(
  a: BenchArgs,
  targets: TargetId[],
  sparsities: number[],
): Promise<Selection> {
  if (a.suite.length > 0) throw new RangeError("--model and --suite exclude each other");
  if (a.data !== undefined && a.inputs !== undefined) {
    throw new RangeError("--data and --inputs exclude each other: give one");
  }
  if (a.inputs !== undefined && !/^random(:\d+)?$/.test(a.inputs)) {
    throw new RangeError(
      `--inputs "${a.inputs}": use random or random:N (or --data for real data)`,
    );
  }
  const data = a.data ?? a.inputs ?? "random";
  let normalize: { mean: number; std: number } | undefined;
  if (a.normalize !== undefined) {
    const [mean, std] = a.normalize.split(",").map(Number);
    if (!Number.isFinite(mean) || !(std! > 0)) {
      throw new RangeError(`--normalize "${a.normalize}": use MEAN,STD with STD > 0, e.g. 0.5,0.5`);
    }
    normalize = { mean: mean!, std: std! };
  }
  const built = await buildUserSuite({
    model: a.model!,
    data,
    shapes: parseShapeFlags(a.shape),
    ...(a.output !== undefined ? { output: a.output } : {}),
    ...(normalize ? { normalize } : {}),
  }, { root: REPO_ROOT, cwd: Deno.cwd() });
  const suite = built.suite;
  const quick = a.quick || !a.full;
  for (const line of built.findings) console.log(line);
  for (const line of await describeUserModel(suite, REPO_ROOT)) console.log(line);
  const plan = planModelSuite(suite, quick, {
    ...(targets.length ? { targets } : {}),
    ...(a.variant.length ? { methods: a.variant } : {}),
    ...(sparsities.length ? { sparsities } : {}),
  });
  console.log(
    `will run: ${plan.variants.length} variants (${
      plan.variants.map((v) => v.sparsity === null ? v.method : `${v.method}@${v.sparsity}`)
        .join(", ")
    }) x ${plan.targets.length} targets (${plan.targets.join(", ")}) = ${
      plan.variants.length * plan.targets.length
    } cells${quick ? " (quick)" : ""}`,
  );
  const pinned = SUITES.find((s) =>
    s.suite.kind === "model" && s.suite.model.sha256 === suite.model.sha256
  );
  if (pinned) console.log(`pinned by suite ${pinned.suite.id} (${pinned.file})`);
  else {
    console.error(
      `warning: model ${built.modelPath} is not pinned by any suite; \`deno task suite new --model ${a.model} --data ${data} --id NAME\` pins it so the same cells can be rerun`,
    );
  }
  return { suites: [{ suite, file: "" }], targets, sparsities, quick };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
