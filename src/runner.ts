/**
 * The runner: plans the cells of the selected suites and runs them, recording every cell as soon
 * as it is finished. Model suites run as the pipeline of `run_model_suite.ts`; custom suites
 * (kernels, SDR, AP) plan and run their own cells. A cell that throws is recorded as `errored`
 * and the run goes on.
 *
 * @module
 */

import type { Backend, TargetId } from "./backend.ts";
import type { Dataset, DatasetSource } from "../datasets/types.ts";
import type { SparsityMethod } from "./method.ts";
import {
  type CellFilter,
  cellKey,
  planModelSuite,
  selectTargets,
  timingPolicy,
  unitKey,
} from "./plan.ts";
import { assignShards, type ShardSpec, type WorkUnit } from "./shard.ts";
import type { Progress } from "./run_progress.ts";
import { type CellResult, emptyCell } from "./result.ts";
import type { RunSink } from "./run_sink.ts";
import { runModelSuite } from "./run_model_suite.ts";
import type { CustomCell, CustomSuite, CustomSuiteContext, Suite } from "./suite.ts";
import { type Clock, wallClock } from "./timing.ts";
import { oneLine } from "../lib/one_line.ts";
import { type BackendIdentities, TargetPool } from "./steps/target_pool.ts";

export type { BackendIdentities };

/** Everything a run needs; tests replace the I/O parts with fakes. */
export interface RunOptions {
  /** Suites to run. */
  suites: readonly Suite[];
  /** Targets to keep (default: each suite's own). */
  targets?: readonly TargetId[];
  /** Method ids to keep besides dense (default: all). */
  variants?: readonly string[];
  /** Grid sparsities to keep (default: all); variants without a sparsity target always run. */
  sparsities?: readonly number[];
  /** The embedded default's smaller sizes. */
  quick: boolean;
  /** Where finished cells go: the run folder (`RunDir`), or memory in a browser page. */
  runDir: RunSink;
  /** Progress display. */
  progress: Progress;
  /** Creates a backend (the real ones: `createBackend` of `src/backends/mod.ts`). */
  backend: (id: TargetId) => Promise<Backend>;
  /**
   * Looks up a sparsity method by id (the registry: `getMethod` of `methods/mod.ts`); the engine
   * imports no method itself. Throws for an unknown id.
   */
  method: (id: string) => SparsityMethod;
  /**
   * Loads a dataset, a user dataset from its source (in Deno: `loadDataset` of `datasets/mod.ts`;
   * the engine imports no loader, so a browser page can hand it datasets fetched from a server).
   */
  dataset: (id: Dataset["id"], source?: DatasetSource) => Promise<Dataset>;
  /** Reads a model file, path relative to the repository (default: from disk). */
  readModel: (path: string) => Promise<Uint8Array>;
  /** Clock for timing (tests pass a fake). */
  clock?: Clock;
  /** Runs only this share of the cells (see `src/shard.ts`); all of them when absent. */
  shard?: ShardSpec;
  /** The CPU target that runs calibration captures (default ort-node; a browser has ort-wasm). */
  calibrationTarget?: TargetId;
}

/**
 * Plans the cells of every suite, so progress knows the total before anything runs.
 *
 * @param options Run options.
 * @returns Number of cells still to run.
 */
export async function countPendingCells(options: RunOptions): Promise<number> {
  const filter = await runFilter(options);
  let n = 0;
  for (const suite of options.suites) {
    if (suite.kind === "model") {
      const { targets, variants } = planModelSuite(suite, options.quick, filter);
      for (const t of targets) {
        for (const v of variants) if (!options.runDir.isFinished(cellKey(suite.id, t, v))) n++;
      }
    } else {
      const cells = await customCells(suite, options, filter);
      n += cells.filter((c) => !options.runDir.isFinished(`${suite.id}|${c.key}`)).length;
    }
  }
  return n;
}

/**
 * The run's work units with their estimated costs, for sharding: a model suite's variant costs
 * its evaluation samples (at ~1 ms each) plus the timing budget of each of its targets; a custom
 * cell costs one second.
 *
 * @param options Run options.
 * @returns Units in plan order.
 */
export async function workUnits(options: RunOptions): Promise<WorkUnit[]> {
  const units: WorkUnit[] = [];
  const filter = cellFilter(options);
  for (const suite of options.suites) {
    if (suite.kind === "model") {
      const { targets, variants } = planModelSuite(suite, options.quick, filter);
      const evalS = ((options.quick ? suite.quick?.evaluationSamples : undefined) ??
        suite.dataset.evaluation.samples) / 1000;
      const timingS = targets.reduce((sum, t) => {
        const p = timingPolicy(suite, t, options.quick);
        return sum + (p.minTimeMs + p.maxTimeMs) / 2000;
      }, 0);
      for (const v of variants) units.push({ key: unitKey(suite.id, v), costS: evalS + timingS });
    } else {
      for (const c of await planCustom(suite, options)) {
        units.push({ key: unitKey(suite.id, c.key), costS: 1 });
      }
    }
  }
  return units;
}

/** The run's filter, with the shard's share when the run is sharded. */
async function runFilter(options: RunOptions): Promise<CellFilter> {
  const filter = cellFilter(options);
  if (!options.shard) return filter;
  const owner = assignShards(await workUnits(options), options.shard.count);
  const me = options.shard.index;
  return { ...filter, keep: (unit) => owner.get(unit) === me };
}

/** The cell a custom suite's failed plan is recorded as, so the failure is data, not a crash. */
const PLAN_CELL = "plan";

async function planCustom(suite: CustomSuite, options: RunOptions): Promise<CustomCell[]> {
  try {
    return await suite.plan(customContext(suite, options));
  } catch (e) {
    const target = suite.targets[0] ?? "";
    return [
      {
        key: PLAN_CELL,
        target,
        method: PLAN_CELL,
        label: "planning",
        failed: oneLine(e),
      } as CustomCell & { failed: string },
    ];
  }
}

async function customCells(
  suite: CustomSuite,
  options: RunOptions,
  filter: CellFilter,
): Promise<CustomCell[]> {
  const cells = await planCustom(suite, options);
  const keep = filter.keep;
  return keep ? cells.filter((c) => keep(unitKey(suite.id, c.key))) : cells;
}

/**
 * The cell filter of a run's options.
 *
 * @param options Run options.
 * @returns The filter.
 */
export function cellFilter(options: RunOptions): CellFilter {
  return {
    ...(options.targets ? { targets: options.targets } : {}),
    ...(options.variants ? { methods: options.variants } : {}),
    ...(options.sparsities ? { sparsities: options.sparsities } : {}),
  };
}

/**
 * Runs every selected suite, recording cells into the run folder as they finish.
 *
 * @param options Run options.
 * @returns The identities of the backends used.
 */
export async function runSuites(options: RunOptions): Promise<BackendIdentities> {
  const identities: BackendIdentities = {};
  const pool = new TargetPool(options.backend, identities);
  const filter = await runFilter(options);
  options.progress.setTotal(await countPendingCells(options));
  for (const suite of options.suites) {
    if (suite.kind === "model") {
      await runModelSuite(suite, {
        quick: options.quick,
        filter,
        runDir: options.runDir,
        progress: options.progress,
        targets: pool,
        backend: options.backend,
        method: options.method,
        dataset: options.dataset,
        ...(options.calibrationTarget ? { calibrationTarget: options.calibrationTarget } : {}),
        readModel: options.readModel,
        clock: options.clock ?? wallClock,
      });
    } else await runCustomSuite(suite, options, { pool, filter });
  }
  return identities;
}

function customContext(suite: CustomSuite, options: RunOptions): CustomSuiteContext {
  return {
    quick: options.quick,
    targets: selectTargets(suite.targets, options.targets),
    progress: (m: string) => options.progress.status(m),
    finished: options.runDir.cells,
    backend: options.backend,
    ...(options.sparsities ? { sparsities: options.sparsities } : {}),
    ...(options.variants ? { methods: options.variants } : {}),
  };
}

async function runCustomSuite(
  suite: CustomSuite,
  options: RunOptions,
  run: { pool: TargetPool; filter: CellFilter },
): Promise<void> {
  const ctx = customContext(suite, options);
  // Probing records the identities; an unavailable target shows up in the cells that need it.
  const devices = new Map<string, string>();
  for (const t of ctx.targets) devices.set(t, (await run.pool.get(t)).identity?.device ?? "");
  for (const cell of await customCells(suite, options, run.filter)) {
    const key = `${suite.id}|${cell.key}`;
    if (options.runDir.isFinished(key)) continue;
    options.progress.status(`${suite.id}: ${cell.label}`);
    const base = emptyCell({
      key,
      suite: suite.id,
      model: "",
      model_sha256: "",
      dataset: "",
      dataset_hash: "",
      target: cell.target,
      device: devices.get(cell.target) ?? "",
      method: cell.method,
      params: "{}",
      sparsity_target: null,
      metric: "",
    });
    let result: CellResult;
    try {
      const failed = (cell as { failed?: string }).failed;
      if (failed !== undefined) throw new Error(`Cannot plan suite ${suite.id}: ${failed}`);
      const got = await suite.runCell(cell, ctx);
      result = {
        ...base,
        ...got,
        key,
        suite: suite.id,
        extra: { ...base.extra, ...(got.extra ?? {}) },
      };
    } catch (e) {
      result = { ...base, status: "errored", error: oneLine(e) };
      options.progress.log(`error: ${suite.id} ${cell.label}: ${result.error}`);
    }
    await options.runDir.record(result);
    options.progress.tick(`${suite.id} ${cell.label}`);
  }
}
