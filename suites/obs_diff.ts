/**
 * `obs-diff`: OBS-Diff (timestep-weighted OBS, group-wise sequential) on dit-mnist, a small
 * class-conditional diffusion transformer trained here, against the same OBS with uniform
 * timestep weights, magnitude and Wanda, unstructured (50 %, 70 %), 2:4 and structured (attention
 * heads, FFN neurons, sliced into smaller matrices).
 *
 * Per variant, on ort-node (the quality target): `gen` images sampled with deterministic DDIM
 * (`_ddim.ts`) from fixed noise and classes (image i has class i mod 10), then
 * - the Fréchet distance of their features to those of the first `ref` evaluation images, the
 *   features being mlp-relu-mnist's penultimate activations (the ReLU of its second hidden layer,
 *   512 wide, the input of its logits layer): "FID under mlp-relu-mnist fc2", not Inception FID;
 *   its noise is a bootstrap over the generated images with the same resample indices for every
 *   variant (`_fid.ts`), so variants are compared replicate by replicate;
 * - class consistency: the classifier's accuracy on the samples against their conditioning class;
 * - the per-image RMSE (pixels in [0, 1]) against the dense sampler's image from the same noise;
 * - FLOPs per image (denoiser FLOPs per call at batch 1 × steps; zeroed weights scale their
 *   layer's FLOPs, sliced models are counted as they are).
 * Per target: the denoiser's time per step at batch 1 and the whole sampler's time per image,
 * each interleaved with the dense model's, with bootstrap CIs of the speedup.
 *
 * Calibration runs the same sampler on its own noise and classes (`cal` images).
 *
 * @module
 */

import { defineSuite } from "../src/suite.ts";
import type { CustomCell, CustomSuiteContext } from "../src/suite.ts";
import type { CellResult } from "../src/result.ts";
import type { Backend, LoadedModel, TargetId, TensorMap } from "../src/backend.ts";
import { createBackend } from "../src/backends/mod.ts";
import type { Captured, VariantPlan } from "../src/method.ts";
import { analyzeGraph } from "../src/onnx/blocks.ts";
import { countFlops } from "../src/onnx/flops.ts";
import { decodeModel, encodeModel, type ModelProto } from "../src/onnx/model.ts";
import { cloneModel } from "../src/onnx/rewriter.ts";
import { inferShapes } from "../src/onnx/shapes.ts";
import { bootstrapRatioCi, summarize } from "../src/stats.ts";
import { measureInterleaved, type Sampler, type TimingPolicy } from "../src/timing.ts";
import { loadDataset } from "../datasets/mod.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { REPO_ROOT } from "../lib/repo_root.ts";
import {
  type DiffusionMethodContext,
  obsDiffMethod,
  transformerBlocks,
} from "../methods/obs_diff.ts";
import { ddimSample, denoiserFeeds, PIXELS, startNoise, toPixels } from "./_ddim.ts";
import {
  bootstrapIndices,
  featureStats,
  type FidReference,
  fidReference,
  fidWithBootstrap,
} from "./_fid.ts";
import { datasetPin, MODELS } from "./_pins.ts";

/** One variant: a scoring arm at a granularity. */
export interface DiffusionVariant {
  /** `dense`, `obs-log` (OBS-Diff), `obs-uniform`, `magnitude` or `wanda`. */
  arm: "dense" | "obs-log" | "obs-uniform" | "magnitude" | "wanda";
  /** The unit pruned. */
  granularity: "none" | "unstructured" | "2:4" | "heads" | "neurons";
  /** Sparsity (per layer, or fraction of heads / neurons per block). */
  sparsity: number;
}

/** Sizes of a run. */
export interface DiffusionConfig {
  /** Generated images per variant. */
  gen: number;
  /** Evaluation images of the reference statistics. */
  ref: number;
  /** Calibration images (trajectories). */
  cal: number;
  /** DDIM steps. */
  steps: number;
  /** Bootstrap replicates of the FID. */
  resamples: number;
  /** Block groups of the sequential calibration. */
  groups: number;
  /** Variants, dense first. */
  variants: DiffusionVariant[];
  /** Timing of the denoiser step. */
  stepTiming: TimingPolicy;
  /** Timing of the whole sampler per image. */
  samplerTiming: TimingPolicy;
}

/** The full run. */
export const FULL: DiffusionConfig = {
  gen: 500,
  ref: 2000,
  cal: 32,
  steps: 10,
  resamples: 16,
  groups: 2,
  // The weighting comparison first, the baselines after it.
  variants: [
    { arm: "dense", granularity: "none", sparsity: 0 },
    ...(["obs-log", "obs-uniform", "magnitude", "wanda"] as const).flatMap((arm) => [
      { arm, granularity: "unstructured" as const, sparsity: 0.5 },
      { arm, granularity: "unstructured" as const, sparsity: 0.7 },
      { arm, granularity: "2:4" as const, sparsity: 0.5 },
      ...(arm === "wanda" ? [] : [
        { arm, granularity: "heads" as const, sparsity: 0.25 },
        { arm, granularity: "neurons" as const, sparsity: 0.5 },
      ]),
    ]),
  ],
  stepTiming: { warmupRuns: 5, minRuns: 30, minTimeMs: 1000, maxRuns: 300, maxTimeMs: 6000 },
  samplerTiming: { warmupRuns: 2, minRuns: 10, minTimeMs: 1000, maxRuns: 60, maxTimeMs: 8000 },
};

/** The quick run (CI): a few images, three variants. */
export const QUICK: DiffusionConfig = {
  gen: 20,
  ref: 100,
  cal: 2,
  steps: 10,
  resamples: 4,
  groups: 2,
  variants: [
    { arm: "dense", granularity: "none", sparsity: 0 },
    { arm: "obs-log", granularity: "unstructured", sparsity: 0.5 },
    { arm: "obs-uniform", granularity: "heads", sparsity: 0.25 },
  ],
  stepTiming: { warmupRuns: 1, minRuns: 5, minTimeMs: 0, maxRuns: 5, maxTimeMs: 2000 },
  samplerTiming: { warmupRuns: 0, minRuns: 2, minTimeMs: 0, maxRuns: 2, maxTimeMs: 2000 },
};

const DIT = MODELS.ditMnist;
const CLASSIFIER = MODELS.mlpReluMnist;
const DATA = datasetPin("mnist", FULL.ref, 0);
/** Seeds of the evaluation noise, the calibration noise and the bootstrap. */
const SEEDS = { gen: 1601, cal: 1602, boot: 1603 } as const;
/** Images per ORT call while sampling. */
const BATCH = 100;

/**
 * A variant's key, as its cells carry it.
 *
 * @param v The variant.
 * @returns The key.
 */
export function variantKey(v: DiffusionVariant): string {
  return v.arm === "dense" ? "dense" : `${v.arm}/${v.granularity}/${v.sparsity}`;
}

function methodOf(v: DiffusionVariant): string {
  return v.arm === "dense" ? "dense" : v.arm.startsWith("obs-") ? "obs-diff" : v.arm;
}

function methodParams(v: DiffusionVariant, groups: number) {
  return {
    granularity: v.granularity as "unstructured" | "2:4" | "heads" | "neurons",
    weighting: v.arm === "obs-uniform" ? "uniform" : "log",
    score: v.arm.startsWith("obs-") ? "obs" : v.arm,
    groups,
  };
}

async function readPinned(pin: { id: string; path: string; sha256: string }): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(`${REPO_ROOT}${pin.path}`);
  } catch {
    throw new Error(`${pin.path} is missing; restore it from git (see models/${pin.id}.md)`);
  }
  const got = await sha256Hex(bytes);
  if (got !== pin.sha256) {
    throw new Error(
      `${pin.path} has sha256 ${got}, the suite pins ${pin.sha256}; restore the committed file`,
    );
  }
  return bytes;
}

/** The denoiser of a loaded model, for the sampler. */
function denoiserOf(m: LoadedModel) {
  return async (x: Float32Array, t: number, labels: readonly number[]) =>
    (await m.run(denoiserFeeds(x, t, labels))).eps!.data as Float32Array;
}

function labelsFor(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (from + i) % 10);
}

/** What every cell of a run shares: models, the reference, the dense samples. */
interface RunState {
  config: DiffusionConfig;
  node: Backend;
  dense: ModelProto;
  denseBytes: Uint8Array;
  classifier: LoadedModel;
  featureName: string;
  featureWidth: number;
  ref: FidReference;
  indices: number[][];
  densePixels?: Float32Array;
  densePredictions?: number[];
  denseQuality?: Quality;
  denseFlops: Map<string, number>;
  variants: Map<string, Prepared>;
}

/** A prepared variant and its quality figures. */
interface Prepared {
  bytes: Uint8Array;
  plan: VariantPlan | undefined;
  flopsPerCall: number;
  realized: number | null;
  quality: Quality;
}

interface Quality {
  fid: number;
  replicates: number[];
  classConsistency: number;
  agreement: number | null;
  rmseMean: number | null;
  rmseP90: number | null;
  pruneSeconds: number;
}

let state: RunState | undefined;

async function runState(config: DiffusionConfig): Promise<RunState> {
  if (state?.config === config) return state;
  if (state) await state.classifier.release();
  const denseBytes = await readPinned(DIT);
  const dense = decodeModel(denseBytes, { source: DIT.path });
  const node = await createBackend("ort-node");
  const clsModel = decodeModel(await readPinned(CLASSIFIER), { source: CLASSIFIER.path });
  const linears = analyzeGraph(clsModel.graph!).linears;
  const last = linears[linears.length - 1]!;
  clsModel.graph!.output!.push({ name: last.input });
  const classifier = await node.load(encodeModel(clsModel), {
    label: `${CLASSIFIER.id} (features)`,
    feeds: { input: { type: "float32", data: new Float32Array(PIXELS), dims: [1, PIXELS] } },
  });
  const mnist = await loadDataset("mnist");
  if (mnist.kind !== "image" || mnist.hash !== DATA.hash) {
    throw new Error(`mnist: decoded data does not match the pinned hash ${DATA.hash}`);
  }
  const refImages = mnist.splits.evaluation.images.subarray(0, config.ref * PIXELS);
  const refFeatures = (await classify(classifier, last.input, refImages)).features;
  const s: RunState = {
    config,
    node,
    dense,
    denseBytes,
    classifier,
    featureName: last.input,
    featureWidth: last.inFeatures,
    ref: fidReference(featureStats(refFeatures, last.inFeatures)),
    indices: bootstrapIndices(config.gen, config.resamples, SEEDS.boot),
    denseFlops: await nodeFlops(dense, undefined),
    variants: new Map(),
  };
  state = s;
  return s;
}

/** Classifier features and predictions of pixels [n, 784] in [0, 1]. */
async function classify(
  m: LoadedModel,
  feature: string,
  pixels: Float32Array,
): Promise<{ features: Float32Array; predictions: number[] }> {
  const n = pixels.length / PIXELS;
  const parts: Float32Array[] = [];
  const predictions: number[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const b = Math.min(BATCH, n - i);
    const out = await m.run({
      input: {
        type: "float32",
        data: pixels.slice(i * PIXELS, (i + b) * PIXELS),
        dims: [b, PIXELS],
      },
    });
    parts.push((out[feature]!.data as Float32Array).slice());
    const logits = out.logits!.data as Float32Array;
    for (let r = 0; r < b; r++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[r * 10 + c]! > logits[r * 10 + best]!) best = c;
      predictions.push(best);
    }
  }
  const width = parts[0]!.length / Math.min(BATCH, n);
  const features = new Float32Array(n * width);
  parts.forEach((p, k) => features.set(p, k * BATCH * width));
  return { features, predictions };
}

/** Denoiser FLOPs of one call at batch 1 by node, zeroed weights scaling their layer. */
async function nodeFlops(
  model: ModelProto,
  plan: VariantPlan | undefined,
): Promise<Map<string, number>> {
  const shapes = await inferShapes(model, { x_t: [1, 1, 28, 28], t: [1], class: [1] });
  const scale = new Map((plan?.nodeScales ?? []).map((s) => [s.node, s.constant]));
  return new Map(
    countFlops(model, shapes).nodes.filter((n) => n.kind === "matmul")
      .map((n) => [n.name, n.flops * (scale.get(n.name) ?? 1)]),
  );
}

function total(flops: Map<string, number>): number {
  return [...flops.values()].reduce((a, b) => a + b, 0);
}

/**
 * The sparsity realised over the layers a variant prunes (its block linears), weighted by their
 * FLOPs: 1 − their FLOPs in the variant / their dense FLOPs.
 */
function realizedSparsity(
  v: DiffusionVariant,
  dense: { model: ModelProto; flops: Map<string, number> },
  flops: Map<string, number>,
): number {
  const names = transformerBlocks(dense.model).flatMap((b) => {
    const a = b.attention;
    const attn = [a.q, a.k, a.v, a.out].map((l) => l.name);
    const ffn = [b.ffn.up.name, b.ffn.down.name];
    return v.granularity === "heads" ? attn : v.granularity === "neurons" ? ffn : [...attn, ...ffn];
  });
  let was = 0;
  let now = 0;
  for (const n of names) {
    was += dense.flops.get(n) ?? 0;
    now += flops.get(n) ?? 0;
  }
  return 1 - now / was;
}

/** Samples the evaluation images of a model on ort-node. */
async function sampleAll(s: RunState, bytes: Uint8Array, label: string): Promise<Float32Array> {
  const { gen, steps } = s.config;
  const noise = startNoise(gen, SEEDS.gen);
  const m = await s.node.load(bytes, {
    label,
    feeds: denoiserFeeds(noise.subarray(0, PIXELS), 999, [0]),
  });
  try {
    const out = new Float32Array(gen * PIXELS);
    for (let i = 0; i < gen; i += BATCH) {
      const b = Math.min(BATCH, gen - i);
      const x = await ddimSample(denoiserOf(m), noise.subarray(i * PIXELS, (i + b) * PIXELS), {
        labels: labelsFor(i, b),
        steps,
      });
      out.set(toPixels(x), i * PIXELS);
    }
    return out;
  } finally {
    await m.release();
  }
}

/** The calibration capture along the sampler's trajectory, on ort-node. */
function diffusionContext(s: RunState, v: DiffusionVariant): DiffusionMethodContext {
  const captureTrajectory = async (model: ModelProto, values: string[]) => {
    const probe = cloneModel(model);
    for (const name of values) probe.graph!.output!.push({ name });
    const { cal, steps } = s.config;
    const noise = startNoise(cal, SEEDS.cal);
    const labels = labelsFor(0, cal);
    const m = await s.node.load(encodeModel(probe), {
      label: `${DIT.id} (calibration)`,
      feeds: denoiserFeeds(noise, 999, labels),
    });
    const parts = new Map<string, Float32Array[]>(values.map((n) => [n, []]));
    const widths = new Map<string, number>();
    try {
      await ddimSample(
        async (x, t, l) => {
          const out = await m.run(denoiserFeeds(x, t, l));
          for (const name of values) {
            const got = out[name]!;
            parts.get(name)!.push((got.data as Float32Array).slice());
            widths.set(name, got.dims[got.dims.length - 1]!);
          }
          return out.eps!.data as Float32Array;
        },
        noise,
        { labels, steps },
      );
    } finally {
      await m.release();
    }
    const captured = new Map<string, Captured>();
    for (const [name, chunks] of parts) {
      const data = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.length;
      }
      captured.set(name, { data, width: widths.get(name)! });
    }
    return { values: captured, steps };
  };
  return {
    model: cloneModel(s.dense),
    sparsity: v.sparsity,
    params: methodParams(v, s.config.groups),
    seed: SEEDS.cal,
    capture: async (model, values) => (await captureTrajectory(model, values)).values,
    valueShape: () => undefined,
    captureTrajectory,
  };
}

async function quality(
  s: RunState,
  pixels: Float32Array,
  pruneSeconds: number,
): Promise<{ q: Quality; predictions: number[] }> {
  const { features, predictions } = await classify(s.classifier, s.featureName, pixels);
  const { fid, replicates } = fidWithBootstrap(features, s.featureWidth, {
    ref: s.ref,
    indices: s.indices,
  });
  const labels = labelsFor(0, s.config.gen);
  const consistent = predictions.filter((p, i) => p === labels[i]).length / predictions.length;
  let agreement: number | null = null;
  let rmseMean: number | null = null;
  let rmseP90: number | null = null;
  if (s.densePixels && s.densePredictions) {
    const dp = s.densePredictions;
    agreement = predictions.filter((p, i) => p === dp[i]).length / predictions.length;
    const rmse = Array.from({ length: s.config.gen }, (_, i) => {
      let e = 0;
      for (let j = i * PIXELS; j < (i + 1) * PIXELS; j++) {
        e += (pixels[j]! - s.densePixels![j]!) ** 2;
      }
      return Math.sqrt(e / PIXELS);
    });
    rmseMean = rmse.reduce((a, b) => a + b, 0) / rmse.length;
    rmseP90 = summarize(rmse).p90Ms;
  }
  return {
    q: {
      fid,
      replicates,
      classConsistency: consistent,
      agreement,
      rmseMean,
      rmseP90,
      pruneSeconds,
    },
    predictions,
  };
}

async function prepare(s: RunState, v: DiffusionVariant, ctx: CustomSuiteContext) {
  const key = variantKey(v);
  const have = s.variants.get(key);
  if (have) return have;
  if (!s.denseQuality && v.arm !== "dense") {
    await prepare(s, s.config.variants[0]!, ctx);
  }
  let bytes = s.denseBytes;
  let plan: VariantPlan | undefined;
  let model = s.dense;
  const t0 = performance.now();
  if (v.arm !== "dense") {
    ctx.progress(`obs-diff: pruning ${key}`);
    const mctx = diffusionContext(s, v);
    plan = await obsDiffMethod.prepare(mctx);
    model = plan.model;
    bytes = encodeModel(model);
  }
  const pruneSeconds = (performance.now() - t0) / 1000;
  ctx.progress(`obs-diff: sampling ${s.config.gen} images with ${key}`);
  const pixels = await sampleAll(s, bytes, `${DIT.id} ${key}`);
  const { q, predictions } = await quality(s, pixels, pruneSeconds);
  if (v.arm === "dense") {
    s.densePixels = pixels;
    s.densePredictions = predictions;
    s.denseQuality = q;
  }
  const flops = v.arm === "dense" ? s.denseFlops : await nodeFlops(model, plan);
  const prepared: Prepared = {
    bytes,
    plan,
    flopsPerCall: total(flops),
    realized: v.arm === "dense"
      ? null
      : realizedSparsity(v, { model: s.dense, flops: s.denseFlops }, flops),
    quality: q,
  };
  s.variants.set(key, prepared);
  return prepared;
}

/** Times samplers interleaved (the dense one first) and returns their samples. */
async function timeInterleaved(samplers: Sampler[], policy: TimingPolicy): Promise<number[][]> {
  return (await measureInterleaved(samplers, policy)).samples;
}

function samplerOf(m: LoadedModel, steps: number, label: string): Sampler {
  const noise = startNoise(1, SEEDS.gen);
  return {
    label,
    async sample(clock) {
      const t0 = clock.now();
      await ddimSample(denoiserOf(m), noise, { labels: [3], steps });
      return clock.now() - t0;
    },
  };
}

async function measureCell(
  v: DiffusionVariant,
  target: TargetId,
  ctx: CustomSuiteContext,
  config: DiffusionConfig,
): Promise<Partial<CellResult>> {
  const s = await runState(config);
  const p = await prepare(s, v, ctx);
  const dq = s.denseQuality!;
  ctx.progress(`obs-diff: timing ${variantKey(v)} on ${target}`);
  const backend = target === "ort-node" ? s.node : await createBackend(target);
  const feeds: TensorMap = denoiserFeeds(startNoise(1, SEEDS.gen), 500, [3]);
  const denseM = await backend.load(s.denseBytes, { label: `${DIT.id} dense`, feeds });
  const isDense = v.arm === "dense";
  const varM = isDense
    ? denseM
    : await backend.load(p.bytes, { label: `${DIT.id} ${variantKey(v)}`, feeds });
  try {
    const stepSamplers = [denseM.sampler(feeds, "dense step")];
    const fullSamplers = [samplerOf(denseM, config.steps, "dense sampler")];
    if (!isDense) {
      stepSamplers.push(varM.sampler(feeds, `${variantKey(v)} step`));
      fullSamplers.push(samplerOf(varM, config.steps, `${variantKey(v)} sampler`));
    }
    const step = await timeInterleaved(stepSamplers, config.stepTiming);
    const full = await timeInterleaved(fullSamplers, config.samplerTiming);
    const vStep = step[isDense ? 0 : 1]!;
    const vFull = full[isDense ? 0 : 1]!;
    const st = summarize(vStep);
    const ci = isDense ? undefined : bootstrapRatioCi(step[0]!, vStep, { seed: 1 });
    const fci = isDense ? undefined : bootstrapRatioCi(full[0]!, vFull, { seed: 1 });
    const q = p.quality;
    const reps = [...q.replicates].sort((a, b) => a - b);
    const mean = reps.reduce((a, b) => a + b, 0) / Math.max(1, reps.length);
    const se = Math.sqrt(
      reps.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, reps.length - 1),
    );
    const flopsImage = p.flopsPerCall * config.steps;
    const denseImage = total(s.denseFlops) * config.steps;
    const identity = await backend.identity();
    return {
      model: DIT.id,
      model_sha256: DIT.sha256,
      dataset: "mnist",
      dataset_hash: DATA.hash,
      device: identity.device,
      method: methodOf(v),
      params: isDense ? "{}" : JSON.stringify(methodParams(v, config.groups)),
      sparsity_target: isDense ? null : v.sparsity,
      sparsity_realized: p.realized,
      flops_dense: denseImage,
      flops_effective: flopsImage,
      flops_reduction: denseImage / flopsImage,
      time_median_ms: st.medianMs,
      time_p10_ms: st.p10Ms,
      time_p90_ms: st.p90Ms,
      time_mad_ms: st.madMs,
      runs: st.count,
      outliers: st.outliers,
      cold_ms: varM.coldMs,
      speedup: ci?.estimate ?? null,
      speedup_ci_low: ci?.low ?? null,
      speedup_ci_high: ci?.high ?? null,
      dense_paired_median_ms: summarize(step[0]!).medianMs,
      time_basis: isDense ? "alone" : "interleaved",
      metric: "class_consistency",
      accuracy: q.classConsistency,
      accuracy_dense: dq.classConsistency,
      agreement: q.agreement,
      eval_samples: config.gen,
      notes: p.plan?.notes ? JSON.stringify(p.plan.notes) : "",
      samples_ms: vStep,
      dense_samples_ms: step[0]!,
      extra: {
        arm: v.arm,
        granularity: v.granularity,
        fid: Number(q.fid.toFixed(3)),
        fid_dense: Number(dq.fid.toFixed(3)),
        fid_ci_low: reps.length ? Number(reps[Math.floor(0.025 * reps.length)]!.toFixed(3)) : null,
        fid_ci_high: reps.length
          ? Number(reps[Math.ceil(0.975 * reps.length) - 1]!.toFixed(3))
          : null,
        fid_bootstrap_se: Number(se.toFixed(3)),
        fid_replicates: JSON.stringify(q.replicates.map((r) => Number(r.toFixed(3)))),
        fid_features: `${CLASSIFIER.id} fc2 ReLU (${s.featureName}, ${s.featureWidth} wide)`,
        fid_ref_images: config.ref,
        image_rmse_mean: q.rmseMean === null ? null : Number(q.rmseMean.toFixed(5)),
        image_rmse_p90: q.rmseP90 === null ? null : Number(q.rmseP90.toFixed(5)),
        ddim_steps: config.steps,
        calibration_images: config.cal,
        prune_seconds: Number(q.pruneSeconds.toFixed(1)),
        sampler_median_ms: summarize(vFull).medianMs,
        sampler_dense_median_ms: summarize(full[0]!).medianMs,
        sampler_speedup: fci?.estimate ?? null,
        sampler_speedup_ci_low: fci?.low ?? null,
        sampler_speedup_ci_high: fci?.high ?? null,
        compression_ratio: p.plan?.extra?.compression_ratio ?? null,
      },
    };
  } finally {
    if (!isDense) await varM.release();
    await denseM.release();
  }
}

function configOf(ctx: CustomSuiteContext): DiffusionConfig {
  return ctx.quick ? QUICK : FULL;
}

export default defineSuite({
  kind: "custom",
  id: "obs-diff",
  title:
    "OBS-Diff on a diffusion transformer (dit-mnist): timestep-weighted vs uniform OBS, magnitude, Wanda",
  description:
    "dit-mnist sampled with 10-step DDIM; unstructured 50/70 %, 2:4, heads and FFN neurons (sliced); FID under mlp-relu-mnist fc2 features against 2,000 evaluation images with a bootstrap over 500 samples, class consistency, per-image RMSE vs the dense sampler, FLOPs per image, denoiser step and sampler time per image on ort-node and ort-wasm.",
  // ort-webgpu (`--target ort-webgpu`) runs dit-mnist correctly (a step's output within 1.2e-6 of
  // ort-node's) but on llvmpipe a load compiles for about 20 s and a step takes about 93 ms
  // (ort-node: 0.74 ms), so its 19 timing cells, two loads each, would add an estimated quarter of
  // an hour or more here.
  targets: ["ort-node", "ort-wasm"],
  inDefault: false,
  seed: SEEDS.gen,
  files: [
    DIT.path,
    CLASSIFIER.path,
    "models/train_dit.py",
    "methods/obs_diff.ts",
    "suites/_ddim.ts",
    "suites/_fid.ts",
  ],
  plan(ctx): Promise<CustomCell[]> {
    const config = configOf(ctx);
    const targets = ctx.quick ? ctx.targets.filter((t) => t === "ort-node") : ctx.targets;
    return Promise.resolve(config.variants.flatMap((v) =>
      targets.map((target) => ({
        key: `${variantKey(v)}/${target}`,
        target,
        method: methodOf(v),
        label: `${variantKey(v)} on ${target}`,
      }))
    ));
  },
  runCell(cell, ctx): Promise<Partial<CellResult>> {
    const config = configOf(ctx);
    const v = config.variants.find((x) => cell.key === `${variantKey(x)}/${cell.target}`);
    if (!v) throw new Error(`Unknown obs-diff cell ${cell.key}`);
    return measureCell(v, cell.target as TargetId, ctx, config);
  },
});
