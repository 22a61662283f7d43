/**
 * `decode`: batch-1 autoregressive decoding on the project's WGSL kernels, dense and with
 * activation sparsity in every projection (inputs of q/k/v, o, gate/up, down). On GPUs: LLaMA-7B
 * and LLaMA-13B shapes in f16 with seeded random weights made on the GPU (speed only), at a
 * 512-position context; TEAL's magnitude rule on every projection input with constant thresholds
 * calibrated on the GPU on the model's own activations, and with thresholds found every token to
 * drop exactly the target fraction. Realised sparsity is counted by the kernels. On CPU adapters: a small
 * LLaMA-architecture shape. Each sparse cell is timed interleaved with the dense decoder (same
 * weights, same context), GPU timestamps where the adapter has them; bytes per token against the
 * compute-shader copy ceiling measured in the same run.
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import { acquireGpu, type GpuContext } from "../kernels/gpu_device.ts";
import { type Ceiling, measureCopyCeiling } from "../kernels/copy.ts";
import { createDispatchSampler } from "../kernels/gpu_timing.ts";
import { bootstrapRatioCi, summarize } from "../src/stats.ts";
import { createDecoder, type Decoder, type DecoderOptions } from "../src/decode/engine.ts";
import { type GpuWeights, syntheticWeights } from "../src/decode/weights.ts";
import { shapeByName } from "../src/decode/synthetic.ts";
import {
  type DecoderSpec,
  linearShapes,
  PROJECTIONS,
  stepBytes,
  uniformPlan,
} from "../src/decode/spec.ts";
import { calibrateOnGpu, planFor } from "../src/decode/calibrate.ts";
import { importDecoder, type ImportedDecoder } from "../src/decode/onnx_import.ts";
import { uploadWeights } from "../src/decode/weights.ts";
import { agreementOf, evaluateWindows, type WindowEvaluation } from "../src/decode/evaluate.ts";
import { decodeModel, encodeModel } from "../src/onnx/model.ts";
import { maskedDecoderGraph } from "./_decode_masked.ts";
import { loadDataset } from "../datasets/mod.ts";
import type { TextDataset } from "../datasets/types.ts";
import { repoPath } from "../lib/repo_root.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { createBackend } from "../src/backends/mod.ts";
import { wallClock } from "../src/timing.ts";
import { datasetPin, MODELS } from "./_pins.ts";
import {
  attentionLabel,
  chooseAttention,
  chooseDenseKernel,
  chooseGemvTuning,
  chooseSkipTuning,
  skipLaunchLabel,
} from "../src/decode/launch.ts";
import { gemvTuningLabel } from "../kernels/tuning.ts";
import { recordedLaunch } from "../src/decode/recorded_launch.ts";
import { fillCaches, WRAP_WINDOW } from "../src/decode/measure.ts";

const CONTEXT_GPU = 512;
const DATASET_HASH = datasetPin("english-text", 1, 1).hash;
const CONTEXT_CPU = 64;

/** A trained zoo LM decoded by the engine, dense or with a method's plan. */
interface ZooJob {
  zoo: "lmChar" | "lmCharSwiglu";
  method: string;
  sparsity: number;
}

const ZOO_METHODS: Record<ZooJob["zoo"], string[]> = {
  lmChar: ["dense", "teal", "wina", "topk", "stat-topk"],
  lmCharSwiglu: ["dense", "teal", "wina", "cats", "topk", "stat-topk"],
};

function zooJobs(): ZooJob[] {
  return (["lmChar", "lmCharSwiglu"] as const).flatMap((zoo) =>
    ZOO_METHODS[zoo].map((method) => ({ zoo, method, sparsity: method === "dense" ? 0 : 0.5 }))
  );
}

function zooKey(j: ZooJob): string {
  return `zoo/${MODELS[j.zoo].id}/${j.method}${j.sparsity ? `/s${j.sparsity}` : ""}`;
}

interface Job {
  shape: string;
  dtype: "f32" | "f16";
  sparsity: number;
  /**
   * `calibrated`: TEAL's constant per-projection thresholds, calibrated on the GPU on the model's
   * own activations at the timed context (as the PyTorch peer does); `per-token`: thresholds
   * found every token to drop exactly the target fraction (the selection costs a dispatch each).
   */
  thresholds?: "calibrated" | "per-token";
}

function jobs(gpu: GpuContext, quick: boolean): Job[] {
  if (gpu.facts.isFallbackAdapter) {
    return [
      { shape: "llama-tiny", dtype: "f32", sparsity: 0 },
      { shape: "llama-tiny", dtype: "f32", sparsity: 0.5, thresholds: "calibrated" },
      { shape: "llama-tiny", dtype: "f32", sparsity: 0.5, thresholds: "per-token" },
    ];
  }
  const dtype = gpu.hasF16 ? "f16" as const : "f32" as const;
  const out: Job[] = [];
  const add = (shape: string, sparsities: number[]) => {
    out.push({ shape, dtype, sparsity: 0 });
    for (const s of sparsities) out.push({ shape, dtype, sparsity: s, thresholds: "calibrated" });
    out.push({ shape, dtype, sparsity: 0.5, thresholds: "per-token" });
  };
  // The 2-layer slice at 7B width, dense: the engine's side of the ORT-web peer's decode step.
  out.push({ shape: SLICE_SHAPE, dtype, sparsity: 0 });
  add("llama-7b", quick ? [0.5] : [0.4, 0.5, 0.7]);
  add("llama-13b", quick ? [0.5] : [0.4, 0.5]);
  return out;
}

/** What the run keeps between cells: the ceiling, and one shape's weights and dense decoder. */
const run: {
  ceiling?: Ceiling;
  shape?: string;
  weights?: GpuWeights;
  dense?: Decoder;
  launch?: Pick<
    DecoderOptions,
    "gemvTuning" | "skipTuning" | "skipTuningResidual" | "skipTunings" | "denseKernel" | "attention"
  >;
  launchLabels?: { gemv: string; skip: string; attention: string; source: string; dense?: string };
} = {};

async function prepare(gpu: GpuContext, job: Job, ctx: CustomSuiteContext) {
  const { device } = gpu;
  run.ceiling ??= await measureCopyCeiling(
    device,
    gpu.facts.isFallbackAdapter ? 64 << 20 : 1 << 30,
  );
  const key = `${job.shape}/${job.dtype}`;
  if (run.shape !== key) {
    run.dense?.destroy();
    run.weights?.destroy();
    delete run.dense;
    delete run.weights;
    await device.queue.onSubmittedWorkDone();
    ctx.progress(`decode: generating ${key} weights on the GPU`);
    const spec = shapeByName(job.shape);
    run.weights = await syntheticWeights(device, spec, {
      dtype: job.dtype,
      layouts: ["row", "transposed"],
      seed: 1,
    });
    run.shape = key;
    const base = {
      maxContext: contextOf(gpu) + WRAP_WINDOW,
      hasF16: gpu.hasF16,
      adapter: gpu.facts,
    };
    run.launch = {};
    run.launchLabels = {
      gemv: "default",
      skip: "default",
      attention: "default",
      source: "default",
    };
    if (!gpu.facts.isFallbackAdapter) {
      // Launch shapes recorded for this adapter and shape (`recorded_launch.ts`), so that two
      // runs decode with the same kernels; what is not recorded is chosen here by timing whole
      // steps, and recorded with the cells either way.
      const recorded = recordedLaunch(gpu.facts, spec, { dtype: job.dtype });
      const timing = { ...base, context: contextOf(gpu), timestamps: gpu.hasTimestamps };
      const sources: string[] = [];
      const from = (part: string, held: boolean) =>
        sources.push(`${part} ${held ? `recorded (${recorded!.source})` : "timed trials"}`);
      if (!recorded) {
        ctx.progress(`decode: timing ${key} launch shapes (none recorded for this adapter)`);
      }
      const gemvTuning = recorded?.gemv ??
        (await chooseGemvTuning(device, run.weights, timing)).tuning;
      from("gemv", recorded !== undefined);
      const attention = recorded?.attention ??
        (await chooseAttention(device, run.weights, { ...timing, gemvTuning })).tuning;
      from("attention", recorded?.attention !== undefined);
      let skip = recorded?.skip;
      if (!skip) {
        const plan = await calibrateOnGpu(device, run.weights, {
          ...base,
          gemvTuning,
          attention,
          sparsity: 0.5,
          context: contextOf(gpu),
        });
        skip = (await chooseSkipTuning(device, run.weights, plan, {
          ...timing,
          gemvTuning,
          attention,
        })).tuning;
      }
      from("skip", recorded?.skip !== undefined);
      run.launch = {
        gemvTuning,
        attention,
        skipTuning: skip.main,
        skipTuningResidual: skip.residual,
        ...(skip.perProjection ? { skipTunings: skip.perProjection } : {}),
      };
      run.launchLabels = {
        gemv: gemvTuningLabel(gemvTuning),
        skip: skipLaunchLabel(skip),
        attention: attentionLabel(attention),
        source: sources.join("; "),
      };
    }
    // The dense baseline is the faster dense form on this adapter (recorded with each cell).
    const dk = await chooseDenseKernel(device, run.weights, {
      ...base,
      ...run.launch,
      context: contextOf(gpu),
      timestamps: gpu.hasTimestamps,
    });
    run.launch = { ...run.launch, denseKernel: dk.kernel };
    run.launchLabels = { ...run.launchLabels, dense: dk.kernel };
    run.dense = await createDecoder(device, run.weights, { ...base, ...run.launch });
    await fillCaches(device, run.dense, 100);
  }
  return { weights: run.weights!, dense: run.dense! };
}

function contextOf(gpu: GpuContext): number {
  return gpu.facts.isFallbackAdapter ? CONTEXT_CPU : CONTEXT_GPU;
}

function setContext(d: Decoder, context: number): void {
  d.setState({ pos: context, wrapStart: context, wrapEnd: context + WRAP_WINDOW, prompt: 0 });
}

async function measure(job: Job, ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
  const gpu = await acquireGpu();
  const { device } = gpu;
  const { weights, dense } = await prepare(gpu, job, ctx);
  const spec: DecoderSpec = weights.spec;
  const context = contextOf(gpu);
  const timestamps = gpu.hasTimestamps;
  const rounds = ctx.quick ? 5 : 9;
  let variant = dense;
  const options = {
    maxContext: context + WRAP_WINDOW,
    hasF16: gpu.hasF16,
    adapter: gpu.facts,
    ...run.launch,
  };
  if (job.sparsity > 0) {
    const plan = job.thresholds === "per-token"
      ? uniformPlan(spec, "teal", { kind: "fraction", sparsity: job.sparsity })
      : await calibrateOnGpu(device, weights, { ...options, sparsity: job.sparsity, context });
    variant = await createDecoder(device, weights, { ...options, plan });
    await fillCaches(device, variant, 100);
  }
  // Two decoders alternate; each resets its own state buffer, so each keeps its own context.
  setContext(dense, context);
  setContext(variant, context);
  const dSampler = await createDispatchSampler(device, [dense.step], { targetMs: 100, timestamps });
  const vSampler = variant === dense
    ? dSampler
    : await createDispatchSampler(device, [variant.step], { targetMs: 100, timestamps });
  const dMs: number[] = [];
  const vMs: number[] = [];
  let source = "";
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [dSampler, vSampler] : [vSampler, dSampler];
    for (const s of order) {
      const got = await s.sample();
      source = got.source;
      (s === dSampler ? dMs : vMs).push(got.ms);
      if (variant === dense) break;
    }
  }
  const ms = summarize(vMs.length ? vMs : dMs);
  // Realised sparsity, counted by the kernels over a fresh batch of tokens at the same context.
  const probeTokens = WRAP_WINDOW;
  setContext(variant, context);
  variant.resetCounts();
  await variant.run(probeTokens);
  const density = await variant.readDensity(probeTokens);
  const bytes = variant.bytesPerToken(context, (l, p) => density[l]![p]);
  const shapes = linearShapes(spec).block;
  let kept = 0;
  let all = 0;
  density.forEach((d) =>
    PROJECTIONS.forEach((p) => {
      kept += d[p] * shapes[p].k * shapes[p].n;
      all += shapes[p].k * shapes[p].n;
    })
  );
  const ci = variant === dense ? undefined : bootstrapRatioCi(dMs, vMs, { seed: 1 });
  const result: Partial<CellResult> = {
    model: spec.id,
    method: job.sparsity > 0 ? "teal" : "dense",
    params: job.thresholds ? JSON.stringify({ thresholds: job.thresholds }) : "{}",
    sparsity_target: job.sparsity > 0 ? job.sparsity : null,
    sparsity_realized: job.sparsity > 0 ? 1 - kept / all : null,
    weight_bytes_effective: bytes,
    time_median_ms: ms.medianMs,
    time_p10_ms: ms.p10Ms,
    time_p90_ms: ms.p90Ms,
    time_mad_ms: ms.madMs,
    runs: ms.count,
    outliers: ms.outliers,
    speedup: ci?.estimate ?? null,
    speedup_ci_low: ci?.low ?? null,
    speedup_ci_high: ci?.high ?? null,
    samples_ms: vMs.length ? vMs : dMs,
    dense_samples_ms: dMs,
    extra: {
      shape: job.shape,
      dtype: job.dtype,
      weights: "synthetic (speed only)",
      context,
      ms_per_token: ms.medianMs,
      tokens_per_s: 1000 / ms.medianMs,
      weight_bytes_per_token: bytes,
      dispatches_per_token: variant.dispatchesPerToken,
      // The KV cache's element type (f16 with f16 weights); its bytes are in weight_bytes_per_token.
      kv_dtype: variant.kvDtype,
      roofline_pct: (bytes / (ms.medianMs * 1e6)) / run.ceiling!.gbPerS * 100,
      gb_per_s: bytes / (ms.medianMs * 1e6),
      copy_ceiling_gbps: run.ceiling!.gbPerS,
      dense_ms_per_token: summarize(dMs).medianMs,
      timing: source,
      gemv_tuning: run.launchLabels?.gemv ?? "default",
      dense_kernel: run.launchLabels?.dense ?? "gemv",
      skip_tuning: job.sparsity > 0 ? run.launchLabels?.skip ?? "default" : "",
      attention_tuning: run.launchLabels?.attention ?? "default",
      launch_source: run.launchLabels?.source ?? "default",
    },
  };
  if (variant !== dense) variant.destroy();
  return result;
}

const EVAL_WINDOW = 128;

/** What the run keeps for the zoo model being measured. */
const zooRun: {
  id?: string;
  imported?: ImportedDecoder;
  weights?: GpuWeights;
  dense?: Decoder;
  denseKernel?: "gemv" | "skip";
  denseEval?: WindowEvaluation;
  windows?: Uint32Array[];
  calibration?: number[][];
} = {};

async function prepareZoo(gpu: GpuContext, j: ZooJob, ctx: CustomSuiteContext) {
  const pin = MODELS[j.zoo];
  if (zooRun.id !== pin.id) {
    zooRun.dense?.destroy();
    zooRun.weights?.destroy();
    const bytes = await Deno.readFile(repoPath(pin.path));
    const got = await sha256Hex(bytes);
    if (got !== pin.sha256) {
      throw new Error(
        `${pin.path}: sha256 ${got} is not the pinned ${pin.sha256}; restore the file`,
      );
    }
    const imported = importDecoder(decodeModel(bytes), { id: pin.id });
    const weights = uploadWeights(gpu.device, imported.spec, imported.weights, {
      dtype: "f32",
      layouts: ["row", "transposed"],
    });
    const text = (await loadDataset("english-text")) as TextDataset;
    const ev = text.splits.evaluation.ids;
    const n = Math.min(ctx.quick ? 8 : 64, Math.floor((ev.length - 1) / EVAL_WINDOW));
    zooRun.windows = Array.from(
      { length: n },
      (_, w) => Uint32Array.from(ev.subarray(w * EVAL_WINDOW, w * EVAL_WINDOW + EVAL_WINDOW + 1)),
    );
    const cal = text.splits.calibration.ids;
    zooRun.calibration = Array.from(
      { length: ctx.quick ? 4 : 8 },
      (_, w) => Array.from(cal.subarray(w * 64, w * 64 + 64)),
    );
    zooRun.id = pin.id;
    zooRun.imported = imported;
    zooRun.weights = weights;
    const base = { withNll: true, hasF16: gpu.hasF16, adapter: gpu.facts };
    // The dense baseline is the faster dense form on this adapter (recorded with each cell).
    zooRun.denseKernel = (await chooseDenseKernel(gpu.device, weights, {
      ...base,
      context: 64,
      timestamps: gpu.hasTimestamps,
    })).kernel;
    zooRun.dense = await createDecoder(gpu.device, weights, {
      ...base,
      denseKernel: zooRun.denseKernel,
    });
    ctx.progress(`decode: ${pin.id} dense over ${n} evaluation windows`);
    zooRun.denseEval = await evaluateWindows(gpu.device, zooRun.dense, zooRun.windows);
  }
  return zooRun as Required<typeof zooRun>;
}

async function measureZoo(j: ZooJob, ctx: CustomSuiteContext): Promise<Partial<CellResult>> {
  const gpu = await acquireGpu();
  const { device } = gpu;
  const z = await prepareZoo(gpu, j, ctx);
  const spec = z.imported.spec;
  const plan = planFor(j.method, j.sparsity, {
    spec,
    host: z.imported.weights,
    gpu: z.weights,
  }, z.calibration);
  const variant = j.method === "dense" ? z.dense : await createDecoder(device, z.weights, {
    plan,
    withNll: true,
    hasF16: gpu.hasF16,
    adapter: gpu.facts,
  });
  const evalV = variant === z.dense
    ? z.denseEval
    : await evaluateWindows(device, variant, z.windows);
  // Realised sparsity over the evaluation windows, counted by the kernels.
  variant.resetCounts();
  await evaluateWindows(device, variant, z.windows.slice(0, 2));
  const density = await variant.readDensity(2 * EVAL_WINDOW);
  // Timing at a 64-position context of real activations (the caches hold the last window).
  const context = 64;
  const timestamps = gpu.hasTimestamps;
  setContext(z.dense, context);
  setContext(variant, context);
  const dS = await createDispatchSampler(device, [z.dense.step], { targetMs: 100, timestamps });
  const vS = variant === z.dense
    ? dS
    : await createDispatchSampler(device, [variant.step], { targetMs: 100, timestamps });
  const dMs: number[] = [];
  const vMs: number[] = [];
  let source = "";
  for (let r = 0; r < (ctx.quick ? 5 : 9); r++) {
    for (const smp of r % 2 === 0 ? [dS, vS] : [vS, dS]) {
      const got = await smp.sample();
      source = got.source;
      (smp === dS ? dMs : vMs).push(got.ms);
      if (variant === z.dense) break;
    }
  }
  const ms = summarize(vMs.length ? vMs : dMs);
  const ci = variant === z.dense ? undefined : bootstrapRatioCi(dMs, vMs, { seed: 1 });
  const shapes = linearShapes(spec).block;
  let kept = 0;
  let all = 0;
  density.forEach((d) =>
    PROJECTIONS.forEach((p) => {
      kept += d[p] * shapes[p].k * shapes[p].n;
      all += shapes[p].k * shapes[p].n;
    })
  );
  const bytes = variant.bytesPerToken(context, (l, p) => density[l]![p]);
  const pin = MODELS[j.zoo];
  const result: Partial<CellResult> = {
    model: pin.id,
    model_sha256: pin.sha256,
    dataset: "english-text",
    dataset_hash: DATASET_HASH,
    method: j.method,
    params: "{}",
    sparsity_target: j.sparsity || null,
    sparsity_realized: j.method === "dense" ? null : 1 - kept / all,
    weight_bytes_effective: bytes,
    time_median_ms: ms.medianMs,
    time_p10_ms: ms.p10Ms,
    time_p90_ms: ms.p90Ms,
    time_mad_ms: ms.madMs,
    runs: ms.count,
    outliers: ms.outliers,
    speedup: ci?.estimate ?? null,
    speedup_ci_low: ci?.low ?? null,
    speedup_ci_high: ci?.high ?? null,
    metric: "bpc",
    accuracy: evalV.bpc,
    accuracy_dense: z.denseEval.bpc,
    agreement: agreementOf(evalV.predictions, z.denseEval.predictions),
    gate: evalV.bpc <= z.denseEval.bpc / 0.99 ? "pass" : "fail",
    eval_samples: z.windows.length,
    samples_ms: vMs.length ? vMs : dMs,
    dense_samples_ms: dMs,
    extra: {
      shape: pin.id,
      dtype: "f32",
      weights: "trained",
      context,
      ms_per_token: ms.medianMs,
      tokens_per_s: 1000 / ms.medianMs,
      weight_bytes_per_token: bytes,
      dispatches_per_token: variant.dispatchesPerToken,
      // The KV cache's element type (f16 with f16 weights); its bytes are in weight_bytes_per_token.
      kv_dtype: variant.kvDtype,
      roofline_pct: (bytes / (ms.medianMs * 1e6)) / (await ceilingOf(gpu)).gbPerS * 100,
      gb_per_s: bytes / (ms.medianMs * 1e6),
      copy_ceiling_gbps: (await ceilingOf(gpu)).gbPerS,
      dense_ms_per_token: summarize(dMs).medianMs,
      timing: source,
      eval_positions: evalV.positions,
      dense_kernel: z.denseKernel,
    },
  };
  if (variant !== z.dense) variant.destroy();
  return result;
}

async function ceilingOf(gpu: GpuContext): Promise<Ceiling> {
  run.ceiling ??= await measureCopyCeiling(
    gpu.device,
    gpu.facts.isFallbackAdapter ? 64 << 20 : 1 << 30,
  );
  return run.ceiling;
}

/** The slice at 7B width that the engine and ORT-web both decode (`models/export_llama_slice.py`). */
const SLICE_SHAPE = "llama-7b-2l";

/** Where `models/export_llama_slice.py` writes the slice's decode step in `dtype`. */
function slicePath(dtype: "f16" | "f32"): string {
  return `.cache/${SLICE_SHAPE}-${dtype}-decode.onnx`;
}

/**
 * ORT running the decode step of a 2-layer slice at LLaMA-7B width (seeded random weights, speed
 * only), whose graph holds its 512-position KV cache as constants, so no cache crosses from the
 * host per token; outputs stay on the GPU (`ort-webgpu` keeps them there). The graph is written
 * by `models/export_llama_slice.py` where torch is installed; without it the cell is skipped,
 * naming the command.
 */
async function measureSlicePeer(
  target: string,
  gpu: GpuContext,
  ctx: CustomSuiteContext,
): Promise<Partial<CellResult>> {
  const dtype = gpu.hasF16 ? "f16" as const : "f32" as const;
  const path = slicePath(dtype);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(repoPath(path));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return {
      status: "skipped",
      error:
        `${path} is missing: write it with \`python3 models/export_llama_slice.py --dtype ${dtype}\` (needs torch and onnx), then rerun`,
    };
  }
  // The copy ceiling before ORT loads 1.3 GB: measured after it, on the H200, it read 1688
  // instead of 4194 GB/s.
  const ceiling = await ceilingOf(gpu);
  const spec = shapeByName(SLICE_SHAPE);
  const ids = { type: "int64" as const, data: BigInt64Array.of(7n), dims: [1, 1] };
  const feeds = { ids };
  ctx.progress(`decode: loading ${path} (${(bytes.length / 1e6).toFixed(0)} MB) on ${target}`);
  const backend = await createBackend(target);
  const model = await backend.load(bytes, { label: SLICE_SHAPE, feeds });
  const logits = (await model.run(feeds)).logits;
  if (!logits || logits.data.length !== spec.vocab) {
    await model.release();
    throw new Error(
      `${path}: expected logits of ${spec.vocab} values; rewrite it with models/export_llama_slice.py`,
    );
  }
  const sampler = model.sampler(feeds, `${SLICE_SHAPE} ${target}`);
  for (let i = 0; i < 3; i++) await sampler.sample(wallClock);
  const ms: number[] = [];
  for (let i = 0; i < (ctx.quick ? 9 : 21); i++) ms.push(await sampler.sample(wallClock));
  const sync = await model.syncLatencyMs(feeds);
  const coldMs = model.coldMs;
  await model.release();
  const t = summarize(ms);
  const sha = await sha256Hex(bytes);
  const elementBytes = dtype === "f16" ? 2 : 4;
  const bytesPerToken = stepBytes(spec, CONTEXT_GPU, {
    weightBytes: elementBytes,
    kvBytes: elementBytes,
  });
  return {
    model: SLICE_SHAPE,
    model_sha256: sha,
    method: "dense",
    params: JSON.stringify({ graph: "models/export_llama_slice.py", file: path }),
    weight_bytes_effective: bytesPerToken,
    time_median_ms: t.medianMs,
    time_p10_ms: t.p10Ms,
    time_p90_ms: t.p90Ms,
    time_mad_ms: t.madMs,
    runs: t.count,
    outliers: t.outliers,
    cold_ms: coldMs,
    sync_latency_ms: sync,
    samples_ms: ms,
    extra: {
      shape: SLICE_SHAPE,
      dtype,
      weights: "synthetic (speed only)",
      context: CONTEXT_GPU,
      ms_per_token: t.medianMs,
      tokens_per_s: 1000 / t.medianMs,
      weight_bytes_per_token: bytesPerToken,
      roofline_pct: bytesPerToken / (t.medianMs * 1e6) / ceiling.gbPerS * 100,
      copy_ceiling_gbps: ceiling.gbPerS,
      timing: "wall-slope",
    },
  };
}

/** The sparsity of the masked ORT peer rows (the zoo rows' TEAL sparsity). */
const PEER_SPARSITY = 0.5;

/**
 * ORT running the decode-step graph of lm-char (`models/lm-char-decode.onnx`) for one token over
 * a 64-position KV cache (the engine's zoo rows time the same context): the peer a user has today.
 * With `masked`, the graph carries TEAL's thresholds as masks (`_decode_masked.ts`; the engine's
 * calibration on lm-char, whose weights the decode graph shares), timed interleaved with the
 * dense graph: what masking buys on ORT.
 */
async function measurePeer(
  target: string,
  ctx: CustomSuiteContext,
  options: { masked?: boolean } = {},
): Promise<Partial<CellResult>> {
  const pin = MODELS.lmCharDecode;
  const denseBytes = await Deno.readFile(repoPath(pin.path));
  const got = await sha256Hex(denseBytes);
  if (got !== pin.sha256) {
    throw new Error(`${pin.path}: sha256 ${got} is not the pinned ${pin.sha256}; restore the file`);
  }
  let bytes: Uint8Array = denseBytes;
  if (options.masked) {
    const gpu = await acquireGpu();
    const z = await prepareZoo(
      gpu,
      { zoo: "lmChar", method: "teal", sparsity: PEER_SPARSITY },
      ctx,
    );
    const plan = planFor("teal", PEER_SPARSITY, {
      spec: z.imported.spec,
      host: z.imported.weights,
      gpu: z.weights,
    }, z.calibration);
    bytes = encodeModel(maskedDecoderGraph(decodeModel(denseBytes), plan));
  }
  const past = 64;
  const cache = () => ({
    type: "float32" as const,
    data: Float32Array.from({ length: 4 * 4 * past * 48 }, (_, i) => Math.sin(i) * 0.5),
    dims: [4, 1, 4, past, 48],
  });
  const feeds = {
    ids: { type: "int64" as const, data: BigInt64Array.of(40n), dims: [1, 1] },
    past_keys: cache(),
    past_values: cache(),
  };
  const backend = await createBackend(target);
  const model = await backend.load(bytes, { label: pin.id, feeds });
  const sampler = model.sampler(feeds, `${pin.id} ${target}`);
  const dense = options.masked
    ? await backend.load(denseBytes, { label: `${pin.id} dense`, feeds })
    : undefined;
  const denseSampler = dense?.sampler(feeds, `${pin.id} ${target} dense`);
  for (let i = 0; i < 3; i++) {
    await sampler.sample(wallClock);
    await denseSampler?.sample(wallClock);
  }
  const ms: number[] = [];
  const denseMs: number[] = [];
  for (let i = 0; i < (ctx.quick ? 9 : 21); i++) {
    // Interleaved, so drifts of the machine fall on both.
    if (denseSampler && i % 2 === 1) denseMs.push(await denseSampler.sample(wallClock));
    ms.push(await sampler.sample(wallClock));
    if (denseSampler && i % 2 === 0) denseMs.push(await denseSampler.sample(wallClock));
  }
  const sync = await model.syncLatencyMs(feeds);
  await model.release();
  await dense?.release();
  const t = summarize(ms);
  const ci = denseSampler ? bootstrapRatioCi(denseMs, ms, { seed: 1 }) : undefined;
  return {
    model: pin.id,
    model_sha256: pin.sha256,
    method: options.masked ? "teal" : "dense",
    ...(options.masked
      ? {
        params: JSON.stringify({ form: "masked graph" }),
        sparsity_target: PEER_SPARSITY,
        speedup: summarize(denseMs).medianMs / t.medianMs,
        speedup_ci_low: ci!.low,
        speedup_ci_high: ci!.high,
        dense_paired_median_ms: summarize(denseMs).medianMs,
        dense_samples_ms: denseMs,
      }
      : {}),
    time_median_ms: t.medianMs,
    time_p10_ms: t.p10Ms,
    time_p90_ms: t.p90Ms,
    time_mad_ms: t.madMs,
    runs: t.count,
    outliers: t.outliers,
    cold_ms: model.coldMs,
    sync_latency_ms: sync,
    samples_ms: ms,
    extra: {
      shape: "lm-char",
      dtype: "f32",
      weights: "trained",
      context: past,
      ms_per_token: t.medianMs,
      tokens_per_s: 1000 / t.medianMs,
      timing: target === "ort-webgpu" ? "wall-slope" : "wall",
    },
  };
}
function keyOf(j: Job): string {
  return `${j.shape}/${j.dtype}/s${j.sparsity}${j.thresholds ? `/${j.thresholds}` : ""}`;
}

/** A planned cell and the sparsity it runs at (0 for dense), for `--variant` and `--sparsity`. */
type PlannedCell = CustomCell & { sparsity: number };

async function allCells(ctx: CustomSuiteContext): Promise<PlannedCell[]> {
  // The ORT peers run the zoo LM's decode-step graph (one token over a KV cache), dense and
  // with TEAL's masks (which need the engine's calibration, so the wgsl target's adapter).
  const peers: PlannedCell[] = (["ort-node", "ort-webgpu"] as const)
    .filter((t) => ctx.targets.includes(t))
    .flatMap((t) => [
      {
        key: `peer/${t}/lm-char-decode`,
        target: t,
        method: "dense",
        sparsity: 0,
        label: `lm-char decode step on ${t}`,
      },
      ...(ctx.targets.includes("wgsl")
        ? [{
          key: `peer/${t}/lm-char-decode/teal/s${PEER_SPARSITY}`,
          target: t,
          method: "teal",
          sparsity: PEER_SPARSITY,
          label: `lm-char decode step on ${t}, TEAL ${PEER_SPARSITY} masked`,
        }]
        : []),
    ]);
  // Planning ORT-node's cells alone needs no GPU.
  const gpu = ctx.targets.some((t) => t === "wgsl" || t === "ort-webgpu")
    ? await acquireGpu()
    : undefined;
  // The 7B-width slice only where a GPU can hold it (1.3 GB of f16 weights), and last: ORT's
  // session of it must not share the GPU with any other cell's measurement.
  const slice: PlannedCell[] = ctx.targets.includes("ort-webgpu") && gpu &&
      !gpu.facts.isFallbackAdapter
    ? [{
      key: `peer/ort-webgpu/${SLICE_SHAPE}`,
      target: "ort-webgpu",
      method: "dense",
      sparsity: 0,
      label: `${SLICE_SHAPE} decode step on ort-webgpu`,
    }]
    : [];
  if (!gpu || !ctx.targets.includes("wgsl")) return [...peers, ...slice];
  const zoo = zooJobs().map((j) => ({
    key: zooKey(j),
    target: "wgsl",
    method: j.method,
    sparsity: j.sparsity,
    label: `${MODELS[j.zoo].id} ${j.method}${j.sparsity ? ` ${j.sparsity}` : ""}`,
  }));
  // The ORT peers after the engine's cells: in one H200 run the first engine cell after ORT's
  // sessions read 0.260 ms/token where the same decoder read 0.17 ms in every later cell.
  return [
    ...zoo,
    ...jobs(gpu, ctx.quick).map((j) => ({
      key: keyOf(j),
      target: "wgsl",
      method: j.sparsity > 0 ? "teal" : "dense",
      sparsity: j.sparsity,
      label: `${j.shape} ${j.dtype} ${
        j.sparsity > 0 ? `teal ${j.sparsity} (${j.thresholds} thresholds)` : "dense"
      }`,
    })),
    ...peers,
    ...slice,
  ];
}

export default defineSuite({
  kind: "custom",
  id: "decode",
  title: "Batch-1 decoding on WGSL: dense vs activation-sparse projections (TEAL), LLaMA shapes",
  description:
    "Whole-model token-by-token decoding on the project's kernels, tokens chained on the GPU; LLaMA-7B/13B shapes with seeded weights generated on the GPU (speed only), thresholds set per token to the target fraction in every projection; ms/token, bytes/token vs the copy ceiling, dispatches/token, speedup over the interleaved dense decoder with a bootstrap CI.",
  targets: ["wgsl", "ort-node", "ort-webgpu"],
  inDefault: false,
  seed: 1,
  files: [
    "src/decode/engine.ts",
    "src/decode/weights.ts",
    "kernels/skip_gemv.wgsl",
    "kernels/attention.wgsl",
  ],
  methods: ["dense"],
  async plan(ctx): Promise<CustomCell[]> {
    // `--variant` and `--sparsity` keep their cells; the dense rows (baselines) always run.
    const methods = ctx.methods?.length ? ctx.methods : undefined;
    const sparsities = ctx.sparsities?.length ? ctx.sparsities : undefined;
    return (await allCells(ctx)).filter((c) =>
      c.method === "dense" ||
      ((!methods || methods.includes(c.method)) &&
        (!sparsities || sparsities.includes(c.sparsity)))
    ).map(({ sparsity: _, ...cell }) => cell);
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    if (cell.key === `peer/ort-webgpu/${SLICE_SHAPE}`) {
      return await measureSlicePeer(cell.target, await acquireGpu(), ctx);
    }
    // ORT-node's dense peer needs no GPU (the masked one calibrates on the engine's).
    if (cell.key.startsWith("peer/")) {
      return await measurePeer(cell.target, ctx, { masked: cell.key.includes("/teal/") });
    }
    const gpu = await acquireGpu();
    const zj = zooJobs().find((j) => zooKey(j) === cell.key);
    if (zj) return await measureZoo(zj, ctx);
    const job = jobs(gpu, ctx.quick).find((j) => keyOf(j) === cell.key);
    if (!job) throw new Error(`Unknown decode cell ${cell.key}`);
    return await measure(job, ctx);
  },
});
