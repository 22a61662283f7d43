/**
 * The runner: plans the cells of the selected suites, checks the pins, prepares each variant
 * (calibration, graph rewrite), measures its accuracy and densities once, times it against the
 * dense model on every target, and records every cell as soon as it is finished. A cell that
 * throws is recorded as `errored` and the run goes on.
 *
 * @module
 */

import type { Backend, BackendIdentity, LoadedModel, TargetId, TensorMap } from "./backend.ts";
import { assertFinite } from "./backend.ts";
import type { Dataset } from "../datasets/types.ts";
import { loadDataset } from "../datasets/mod.ts";
import {
  addDensityProbes,
  agreement,
  captureCalibration,
  evaluate,
  type Evaluation,
  timingFeeds,
} from "./evaluate.ts";
import { effectiveFlops } from "./effective_flops.ts";
import type { Captured, KernelPlan, SparsityMethod, VariantPlan } from "./method.ts";
import { analyzeGraph, type Linear } from "./onnx/blocks.ts";
import { countFlops, type FlopCount } from "./onnx/flops.ts";
import { decodeModel, encodeModel, type ModelProto } from "./onnx/model.ts";
import { cloneModel } from "./onnx/rewriter.ts";
import { inferShapes, type ValueShape } from "./onnx/shapes.ts";
import type { Progress } from "./progress.ts";
import { type CellResult, emptyCell } from "./result.ts";
import { RunDir } from "./run_dir.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { bootstrapRatioCi, summarize } from "./stats.ts";
import type { CustomSuite, CustomSuiteContext, ModelSuite, Suite, VariantSpec } from "./suite.ts";
import {
  type Clock,
  measureInterleaved,
  type Sampler,
  type TimingPolicy,
  timingWarnings,
  wallClock,
} from "./timing.ts";
import { oneLine } from "../lib/one_line.ts";

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
  /** Where run folders go. */
  runDir: RunDir;
  /** Progress display. */
  progress: Progress;
  /** Creates a backend (the real ones: `createBackend` of `src/backends/mod.ts`). */
  backend: (id: TargetId) => Promise<Backend>;
  /**
   * Looks up a sparsity method by id (the registry: `getMethod` of `methods/mod.ts`); the engine
   * imports no method itself. Throws for an unknown id.
   */
  method: (id: string) => SparsityMethod;
  /** Loads a dataset (default: the real loaders). */
  dataset?: (id: Dataset["id"]) => Promise<Dataset>;
  /** Reads a model file, path relative to the repository (default: from disk). */
  readModel: (path: string) => Promise<Uint8Array>;
  /** Clock for timing (tests pass a fake). */
  clock?: Clock;
}

/** A variant after expansion of its sparsity grid. */
interface Variant {
  method: string;
  params: Record<string, number | string | boolean>;
  sparsity: number | null;
}

/**
 * The key of a model-suite cell.
 *
 * @param suite Suite id.
 * @param target Target id.
 * @param v Variant.
 * @returns The key.
 */
export function cellKey(
  suite: string,
  target: string,
  v: { method: string; params: Record<string, unknown>; sparsity: number | null },
): string {
  return `${suite}|${target}|${v.method}|${JSON.stringify(v.params)}|${v.sparsity ?? "-"}`;
}

/**
 * The variants of a suite after `--quick`, `--variant` and `--sparsity`, dense first.
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @param options `methods`: method ids to keep; `sparsities`: grid points to keep (variants
 *   without a sparsity target are kept).
 * @returns Variants.
 */
export function expandVariants(
  suite: ModelSuite,
  quick: boolean,
  options: { methods?: readonly string[]; sparsities?: readonly number[] } = {},
): Variant[] {
  const specs: VariantSpec[] = quick && suite.quick?.variants
    ? suite.quick.variants
    : suite.variants;
  const methods = options.methods ?? [];
  const sparsities = options.sparsities ?? [];
  const out: Variant[] = [{ method: "dense", params: {}, sparsity: null }];
  for (const spec of specs) {
    if (methods.length > 0 && !methods.includes(spec.method)) continue;
    const params = spec.params ?? {};
    if (spec.sparsity && spec.sparsity.length > 0) {
      for (const s of spec.sparsity) {
        if (sparsities.length > 0 && !sparsities.includes(s)) continue;
        out.push({ method: spec.method, params, sparsity: s });
      }
    } else out.push({ method: spec.method, params, sparsity: null });
  }
  return out;
}

function variantFilter(options: RunOptions) {
  return {
    ...(options.variants ? { methods: options.variants } : {}),
    ...(options.sparsities ? { sparsities: options.sparsities } : {}),
  };
}

/**
 * The timing policy of a suite on a target.
 *
 * @param suite The suite.
 * @param target The target.
 * @param quick Quick mode.
 * @returns The merged policy.
 */
export function timingPolicy(suite: ModelSuite, target: TargetId, quick: boolean): TimingPolicy {
  return {
    ...suite.timing,
    ...(suite.targetTiming?.[target] ?? {}),
    ...(quick ? suite.quick?.timing ?? {} : {}),
    ...(quick ? suite.quick?.targetTiming?.[target] ?? {} : {}),
  };
}

/** What the runner keeps per target while a suite runs. */
interface TargetState {
  backend?: Backend;
  identity?: BackendIdentity;
  unavailable?: string;
  dense?: LoadedModel;
  denseError?: string;
}

/** Identities of the backends a run used, by target. */
export type BackendIdentities = Partial<Record<TargetId, BackendIdentity>>;

/**
 * Plans the cells of every suite, so progress knows the total before anything runs.
 *
 * @param options Run options.
 * @returns Number of cells still to run.
 */
export async function countPendingCells(options: RunOptions): Promise<number> {
  let n = 0;
  for (const suite of options.suites) {
    if (suite.kind === "model") {
      for (const t of selectTargets(suiteTargets(suite, options.quick), options.targets)) {
        for (const v of expandVariants(suite, options.quick, variantFilter(options))) {
          if (!options.runDir.isFinished(cellKey(suite.id, t, v))) n++;
        }
      }
    } else {
      const cells = await suite.plan(customContext(suite, options));
      n += cells.filter((c) => !options.runDir.isFinished(`${suite.id}|${c.key}`)).length;
    }
  }
  return n;
}

/**
 * A model suite's targets, after `--quick`.
 *
 * @param suite The suite.
 * @param quick Quick mode.
 * @returns Targets.
 */
export function suiteTargets(suite: ModelSuite, quick: boolean): TargetId[] {
  return quick && suite.quick?.targets ? suite.quick.targets : suite.targets;
}

function selectTargets(own: readonly TargetId[], wanted?: readonly TargetId[]): TargetId[] {
  return wanted && wanted.length > 0 ? own.filter((t) => wanted.includes(t)) : [...own];
}

function customContext(suite: CustomSuite, options: RunOptions): CustomSuiteContext {
  return {
    quick: options.quick,
    targets: selectTargets(suite.targets, options.targets),
    progress: (m: string) => options.progress.status(m),
    finished: options.runDir.cells,
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
  options.progress.setTotal(await countPendingCells(options));
  for (const suite of options.suites) {
    if (suite.kind === "model") await runModelSuite(suite, options, identities);
    else await runCustomSuite(suite, options, identities);
  }
  return identities;
}

async function runCustomSuite(
  suite: CustomSuite,
  options: RunOptions,
  identities: BackendIdentities,
): Promise<void> {
  const ctx = customContext(suite, options);
  for (const t of ctx.targets) {
    if (identities[t]) continue;
    try {
      const b = await options.backend(t);
      if (!(await b.probe())) identities[t] = await b.identity();
    } catch {
      // An unavailable target shows up in the cells that needed it.
    }
  }
  for (const cell of await suite.plan(ctx)) {
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
      device: identities[cell.target as TargetId]?.device ?? "",
      method: cell.method,
      params: "{}",
      sparsity_target: null,
      metric: "",
    });
    let result: CellResult;
    try {
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

async function runModelSuite(
  suite: ModelSuite,
  options: RunOptions,
  identities: BackendIdentities,
): Promise<void> {
  const quick = options.quick;
  const targets = selectTargets(suiteTargets(suite, quick), options.targets);
  const variants = expandVariants(suite, quick, variantFilter(options));
  const pending = (v: Variant, t: TargetId) => !options.runDir.isFinished(cellKey(suite.id, t, v));
  if (!variants.some((v) => targets.some((t) => pending(v, t)))) return;
  const evalSamples = (quick ? suite.quick?.evaluationSamples : undefined) ??
    suite.dataset.evaluation.samples;
  const calSamples = (quick ? suite.quick?.calibrationSamples : undefined) ??
    suite.dataset.calibration.samples;

  const base = (t: TargetId, v: Variant, device: string): CellResult =>
    emptyCell({
      key: cellKey(suite.id, t, v),
      suite: suite.id,
      model: suite.model.id,
      model_sha256: suite.model.sha256,
      dataset: suite.dataset.id,
      dataset_hash: suite.dataset.hash,
      target: t,
      device,
      method: v.method,
      params: JSON.stringify(v.params),
      sparsity_target: v.sparsity,
      metric: suite.metric,
    });
  const failAll = async (message: string, only?: Variant) => {
    options.progress.log(`error: suite ${suite.id}: ${message}`);
    for (const v of only ? [only] : variants) {
      for (const t of targets) {
        if (!pending(v, t)) continue;
        await options.runDir.record({
          ...base(t, v, identities[t]?.device ?? ""),
          status: "errored",
          error: message,
        });
        options.progress.tick(`${suite.id} ${t} ${v.method}`);
      }
    }
  };

  // Pins first: nothing runs on a model or dataset that is not the one the suite names.
  options.progress.status(`${suite.id}: checking pins`);
  let modelBytes: Uint8Array;
  let dataset: Dataset;
  let dense: ModelProto;
  try {
    modelBytes = await options.readModel(suite.model.path);
    const actual = await sha256Hex(modelBytes);
    if (actual !== suite.model.sha256) {
      throw new Error(
        `Model file ${suite.model.path}: sha256 ${actual} does not match the pinned ${suite.model.sha256}`,
      );
    }
    dataset = await (options.dataset ?? ((id) => loadDataset(id)))(suite.dataset.id);
    if (dataset.package !== suite.dataset.package || dataset.version !== suite.dataset.version) {
      throw new Error(
        `Dataset ${suite.dataset.id}: loader reads ${dataset.package}@${dataset.version}, the suite pins ${suite.dataset.package}@${suite.dataset.version}`,
      );
    }
    if (dataset.hash !== suite.dataset.hash) {
      throw new Error(
        `Dataset ${suite.dataset.id}: content hash ${dataset.hash} does not match the pinned ${suite.dataset.hash}`,
      );
    }
    dense = decodeModel(modelBytes, { source: suite.model.path });
  } catch (e) {
    await failAll(oneLine(e));
    return;
  }

  const feeds = timingFeeds(suite.task, dataset);
  let shapes: Map<string, ValueShape>;
  let count: FlopCount;
  let linears: Linear[];
  try {
    options.progress.status(`${suite.id}: counting FLOPs`);
    shapes = await inferShapes(
      dense,
      Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims])),
    );
    count = countFlops(dense, shapes);
    linears = analyzeGraph(dense.graph!).linears;
  } catch (e) {
    await failAll(oneLine(e));
    return;
  }

  const states = new Map<TargetId, TargetState>();
  const stateOf = async (t: TargetId): Promise<TargetState> => {
    let s = states.get(t);
    if (s) return s;
    s = {};
    states.set(t, s);
    try {
      s.backend = await options.backend(t);
      const why = await s.backend.probe();
      if (why) s.unavailable = why;
      else {
        s.identity = await s.backend.identity();
        identities[t] = s.identity;
      }
    } catch (e) {
      s.unavailable = oneLine(e);
    }
    return s;
  };

  const accuracyTarget = suite.accuracyTarget ?? "ort-wasm";
  const accState = await stateOf(accuracyTarget);
  if (accState.unavailable || !accState.backend) {
    await failAll(`Accuracy target ${accuracyTarget} is unavailable: ${accState.unavailable}`);
    return;
  }
  const accBackend = accState.backend;
  const batch = suite.evalBatch ?? (suite.task.kind === "char-lm" ? 8 : 100);
  const evalOn = async (
    model: ModelProto,
    label: string,
    probes: string[],
  ): Promise<Evaluation> => {
    const loaded = await accBackend.load(encodeModel(model), { label, feeds });
    try {
      return await evaluate(loaded, suite.task, dataset, {
        samples: evalSamples,
        batch,
        probes,
        onBatch: (n) =>
          options.progress.status(`${suite.id}: evaluating ${label} (${n}/${evalSamples})`),
      });
    } finally {
      await loaded.release();
    }
  };

  // Dead-neuron rate (AP's DNR): the fraction of ReLU outputs that are zero, for every model with
  // ReLUs, dense and variants alike.
  const withDnrProbes = (model: ModelProto): { model: ModelProto; probes: Map<string, string> } => {
    const relus = (model.graph!.node ?? []).filter((n) => n.opType === "Relu").map((n) =>
      n.output![0]!
    );
    if (relus.length === 0) return { model, probes: new Map() };
    const copy = cloneModel(model);
    return { model: copy, probes: addDensityProbes(copy, relus) };
  };
  const dnrOf = (ev: Evaluation, probes: Map<string, string>): number | null => {
    if (probes.size === 0) return null;
    const d = [...probes.values()].map((p) => ev.probes[p]!);
    return 1 - d.reduce((a, b) => a + b, 0) / d.length;
  };
  const dnrLayers = (ev: Evaluation, probes: Map<string, string>): string =>
    JSON.stringify(
      Object.fromEntries([...probes].map(([v, p]) => [v, Number((1 - ev.probes[p]!).toFixed(4))])),
    );
  let denseEval: Evaluation;
  let denseDnr: number | null = null;
  let denseDnrLayers: string | null = null;
  try {
    const probed = withDnrProbes(dense);
    denseEval = await evalOn(probed.model, `${suite.model.id} (dense)`, [
      ...probed.probes.values(),
    ]);
    denseDnr = dnrOf(denseEval, probed.probes);
    denseDnrLayers = probed.probes.size ? dnrLayers(denseEval, probed.probes) : null;
  } catch (e) {
    await failAll(`Dense evaluation failed: ${oneLine(e)}`);
    return;
  }
  const cpu = await options.backend("ort-node");
  const capture = async (model: ModelProto, values: string[]): Promise<Map<string, Captured>> => {
    const probe = cloneModel(model);
    const outputs = new Set((probe.graph!.output ?? []).map((o) => o.name));
    for (const v of values) if (!outputs.has(v)) probe.graph!.output!.push({ name: v });
    const loaded = await cpu.load(encodeModel(probe), {
      label: `${suite.model.id} (calibration)`,
      feeds,
    });
    try {
      options.progress.status(`${suite.id}: calibrating on ${calSamples} samples`);
      return await captureCalibration(
        (f: TensorMap) => loaded.run(f),
        values,
        suite.task,
        dataset,
        {
          samples: calSamples,
          batch: suite.task.kind === "char-lm" ? 8 : 64,
        },
      );
    } finally {
      await loaded.release();
    }
  };

  for (const v of variants) {
    if (!targets.some((t) => pending(v, t))) continue;
    const label = v.sparsity === null ? v.method : `${v.method}@${v.sparsity}`;
    let plan: VariantPlan;
    let evaluation: Evaluation;
    let dnr: number | null = null;
    let dnrPerLayer: string | null = null;
    let flops: ReturnType<typeof effectiveFlops>;
    try {
      options.progress.status(`${suite.id}: preparing ${label}`);
      if (v.method === "dense") {
        plan = { model: dense, sparse: [], selection: [] };
        evaluation = denseEval;
        dnr = denseDnr;
        dnrPerLayer = denseDnrLayers;
        flops = effectiveFlops(count, shapes, linears, plan, new Map());
      } else {
        const method = options.method(v.method);
        if (method.needsSparsity && v.sparsity === null) {
          throw new RangeError(`Method ${v.method} needs a sparsity`);
        }
        plan = await method.prepare({
          model: cloneModel(dense),
          sparsity: v.sparsity,
          params: v.params,
          seed: suite.seed,
          capture,
          valueShape: (name) => shapes.get(name)?.dims,
        });
        const evalModel = cloneModel(plan.model);
        const probed = [
          ...plan.sparse.map((s) => s.densityOf),
          ...(plan.nodeScales ?? []).flatMap((s) => (s.probe ? [s.probe] : [])),
        ];
        const probeNames = addDensityProbes(evalModel, probed);
        const dnrProbed = withDnrProbes(evalModel);
        evaluation = await evalOn(dnrProbed.model, `${suite.model.id} ${label}`, [
          ...probeNames.values(),
          ...dnrProbed.probes.values(),
        ]);
        dnr = dnrOf(evaluation, dnrProbed.probes);
        dnrPerLayer = dnrProbed.probes.size ? dnrLayers(evaluation, dnrProbed.probes) : null;
        const densities = new Map(
          [...probeNames].map(([value, probe]) => [value, evaluation.probes[probe]!]),
        );
        flops = effectiveFlops(count, shapes, linears, plan, densities);
      }
    } catch (e) {
      await failAll(`${label}: ${oneLine(e)}`, v);
      continue;
    }
    const gate = suite.qualityGate ?? 0.99;
    const passes = suite.metric === "bpc"
      ? evaluation.metric <= denseEval.metric / gate
      : evaluation.metric >= denseEval.metric * gate;
    const timingBytes = v.method === "dense" ? modelBytes : encodeModel(plan.model);

    for (const t of targets) {
      if (!pending(v, t)) continue;
      const state = await stateOf(t);
      const cell = base(t, v, state.identity?.device ?? "");
      Object.assign(
        cell,
        {
          sparsity_realized: flops.sparsityRealized,
          flops_dense: flops.flopsDense,
          flops_effective: flops.flopsEffective,
          flops_reduction: flops.reduction,
          weight_bytes_effective: flops.weightBytesEffective,
          accuracy: evaluation.metric,
          accuracy_dense: denseEval.metric,
          agreement: agreement(evaluation.predictions, denseEval.predictions),
          gate: passes ? "pass" : "fail",
          eval_samples: evaluation.samples,
          layer_density: Object.keys(flops.layerDensity).length ? flops.layerDensity : null,
        } satisfies Partial<CellResult>,
      );
      if (plan.notes && Object.keys(plan.notes).length > 0) cell.notes = JSON.stringify(plan.notes);
      cell.extra = {
        ...(plan.extra ?? {}),
        ...(dnr !== null
          ? { dnr: Number(dnr.toFixed(5)), dnr_dense: Number(denseDnr!.toFixed(5)) }
          : {}),
        ...(dnrPerLayer ? { dnr_layers: dnrPerLayer } : {}),
      };
      try {
        if (state.unavailable || !state.backend) {
          cell.status = "skipped";
          cell.error = `target ${t} unavailable: ${state.unavailable}`;
        } else {
          options.progress.status(`${suite.id}: timing ${label} on ${t}`);
          await timeCell(cell, state, {
            suite,
            target: t,
            variantBytes: v.method === "dense" ? undefined : timingBytes,
            ...(plan.kernel ? { kernelPlan: plan.kernel } : {}),
            denseBytes: modelBytes,
            feeds,
            label,
            quick,
            clock: options.clock ?? wallClock,
          });
        }
      } catch (e) {
        cell.status = "errored";
        cell.error = oneLine(e);
        options.progress.log(`error: ${suite.id} ${t} ${label}: ${cell.error}`);
      }
      await options.runDir.record(cell);
      options.progress.tick(`${suite.id} ${t} ${label}`);
    }
  }
  for (const s of states.values()) await s.dense?.release();
}

async function timeCell(
  cell: CellResult,
  state: TargetState,
  o: {
    suite: ModelSuite;
    target: TargetId;
    variantBytes: Uint8Array | undefined;
    kernelPlan?: KernelPlan;
    denseBytes: Uint8Array;
    feeds: TensorMap;
    label: string;
    quick: boolean;
    clock: Clock;
  },
): Promise<void> {
  const backend = state.backend!;
  if (state.denseError) throw new Error(state.denseError);
  if (!state.dense) {
    try {
      state.dense = await backend.load(o.denseBytes, {
        label: `${o.suite.model.id} (dense)`,
        feeds: o.feeds,
        kernelPlan: { inputs: {}, gates: {} },
        dense: o.denseBytes,
      });
      assertFinite(await state.dense.run(o.feeds), `${o.suite.model.id} (dense) on ${o.target}`);
    } catch (e) {
      state.denseError = oneLine(e);
      throw e;
    }
  }
  const policy = timingPolicy(o.suite, o.target, o.quick);
  const denseSampler = state.dense.sampler(o.feeds, "dense");
  const warnings: string[] = [...state.dense.warnings];
  if (!o.variantBytes) {
    const { samples } = await measureInterleaved([denseSampler], policy, { clock: o.clock });
    fillTiming(cell, samples[0]!, state.dense.coldMs, await state.dense.syncLatencyMs(o.feeds));
    cell.speedup = 1;
    cell.dense_samples_ms = samples[0]!;
    warnings.push(...timingWarnings(samples[0]!, policy).map((w) => w.message));
  } else {
    const variant = await backend.load(o.variantBytes, {
      label: `${o.suite.model.id} ${o.label}`,
      feeds: o.feeds,
      ...(o.kernelPlan ? { kernelPlan: o.kernelPlan } : {}),
      dense: o.denseBytes,
    });
    try {
      assertFinite(await variant.run(o.feeds), `${o.suite.model.id} ${o.label} on ${o.target}`);
      warnings.push(...variant.warnings);
      const subjects: Sampler[] = [denseSampler, variant.sampler(o.feeds, o.label)];
      const { samples } = await measureInterleaved(subjects, policy, { clock: o.clock });
      const [denseTimes, variantTimes] = samples as [number[], number[]];
      fillTiming(cell, variantTimes, variant.coldMs, await variant.syncLatencyMs(o.feeds));
      const ci = bootstrapRatioCi(denseTimes, variantTimes, { seed: o.suite.seed });
      cell.speedup = ci.estimate;
      cell.speedup_ci_low = ci.low;
      cell.speedup_ci_high = ci.high;
      cell.dense_samples_ms = denseTimes;
      warnings.push(...timingWarnings(variantTimes, policy).map((w) => w.message));
    } finally {
      await variant.release();
    }
  }
  cell.warnings = [...new Set(warnings)].join(" | ");
}

function fillTiming(cell: CellResult, samples: number[], coldMs: number, syncMs: number): void {
  const s = summarize(samples);
  cell.time_median_ms = s.medianMs;
  cell.time_p10_ms = s.p10Ms;
  cell.time_p90_ms = s.p90Ms;
  cell.time_mad_ms = s.madMs;
  cell.runs = s.count;
  cell.outliers = s.outliers;
  cell.cold_ms = coldMs;
  cell.sync_latency_ms = syncMs;
  cell.samples_ms = samples;
}
