/**
 * `decode`: batch-1 autoregressive decoding on the project's WGSL kernels, dense and with
 * activation sparsity in every projection (inputs of q/k/v, o, gate/up, down). On GPUs: LLaMA-7B
 * and LLaMA-13B shapes in f16 with seeded random weights made on the GPU (speed only: each
 * projection's threshold is set per token, on the GPU, to drop exactly the target fraction of its
 * inputs by magnitude, TEAL's criterion), at a 512-position context. On CPU adapters: a small
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
import { createDecoder, type Decoder } from "../src/decode/engine.ts";
import { type GpuWeights, syntheticWeights } from "../src/decode/weights.ts";
import { shapeByName } from "../src/decode/synthetic.ts";
import { type DecoderSpec, uniformPlan } from "../src/decode/spec.ts";
import { fillCaches, WRAP_WINDOW } from "../src/decode/measure.ts";

const CONTEXT_GPU = 512;
const CONTEXT_CPU = 64;

interface Job {
  shape: string;
  dtype: "f32" | "f16";
  sparsity: number;
}

function jobs(gpu: GpuContext, quick: boolean): Job[] {
  if (gpu.facts.isFallbackAdapter) {
    return [0, 0.5].map((sparsity) => ({ shape: "llama-tiny", dtype: "f32", sparsity }));
  }
  const dtype = gpu.hasF16 ? "f16" as const : "f32" as const;
  const out: Job[] = [];
  for (const s of [0, 0.4, 0.5, 0.7]) out.push({ shape: "llama-7b", dtype, sparsity: s });
  for (const s of quick ? [0, 0.5] : [0, 0.4, 0.5]) {
    out.push({ shape: "llama-13b", dtype, sparsity: s });
  }
  return out;
}

/** What the run keeps between cells: the ceiling, and one shape's weights and dense decoder. */
const run: {
  ceiling?: Ceiling;
  shape?: string;
  weights?: GpuWeights;
  dense?: Decoder;
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
    run.dense = await createDecoder(device, run.weights, {
      maxContext: contextOf(gpu) + WRAP_WINDOW,
      hasF16: gpu.hasF16,
      adapter: gpu.facts,
    });
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
  if (job.sparsity > 0) {
    variant = await createDecoder(device, weights, {
      plan: uniformPlan(spec, "teal", { kind: "fraction", sparsity: job.sparsity }),
      maxContext: context + WRAP_WINDOW,
      hasF16: gpu.hasF16,
      adapter: gpu.facts,
    });
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
  const bytes = variant.bytesPerToken(context);
  const ci = variant === dense ? undefined : bootstrapRatioCi(dMs, vMs, { seed: 1 });
  const result: Partial<CellResult> = {
    model: spec.id,
    method: job.sparsity > 0 ? "teal" : "dense",
    params: job.sparsity > 0 ? JSON.stringify({ thresholds: "per-token" }) : "{}",
    sparsity_target: job.sparsity > 0 ? job.sparsity : null,
    sparsity_realized: job.sparsity > 0 ? realized(spec, job.sparsity) : null,
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
      roofline_pct: (bytes / (ms.medianMs * 1e6)) / run.ceiling!.gbPerS * 100,
      gb_per_s: bytes / (ms.medianMs * 1e6),
      copy_ceiling_gbps: run.ceiling!.gbPerS,
      dense_ms_per_token: summarize(dMs).medianMs,
      timing: source,
    },
  };
  if (variant !== dense) variant.destroy();
  return result;
}

/** Realised sparsity of the per-token rule: the dropped count is rounded per projection. */
function realized(spec: DecoderSpec, s: number): number {
  const dims = [spec.d, spec.heads * spec.headDim, spec.d, spec.ff];
  const widths = [
    (spec.heads + 2 * spec.kvHeads) * spec.headDim,
    spec.d,
    2 * spec.ff,
    spec.d,
  ];
  let dropped = 0;
  let all = 0;
  dims.forEach((k, i) => {
    dropped += Math.round(s * k) * widths[i]!;
    all += k * widths[i]!;
  });
  return dropped / all;
}

function keyOf(j: Job): string {
  return `${j.shape}/${j.dtype}/s${j.sparsity}`;
}

export default defineSuite({
  kind: "custom",
  id: "decode",
  title: "Batch-1 decoding on WGSL: dense vs activation-sparse projections (TEAL), LLaMA shapes",
  description:
    "Whole-model token-by-token decoding on the project's kernels, tokens chained on the GPU; LLaMA-7B/13B shapes with seeded weights generated on the GPU (speed only), thresholds set per token to the target fraction in every projection; ms/token, bytes/token vs the copy ceiling, dispatches/token, speedup over the interleaved dense decoder with a bootstrap CI.",
  targets: ["wgsl"],
  inDefault: false,
  seed: 1,
  files: [
    "src/decode/engine.ts",
    "src/decode/weights.ts",
    "kernels/skip_gemv.wgsl",
    "kernels/attention.wgsl",
  ],
  async plan(ctx): Promise<CustomCell[]> {
    if (!ctx.targets.includes("wgsl")) return [];
    const gpu = await acquireGpu();
    return jobs(gpu, ctx.quick).map((j) => ({
      key: keyOf(j),
      target: "wgsl",
      method: j.sparsity > 0 ? "teal" : "dense",
      label: `${j.shape} ${j.dtype} ${j.sparsity > 0 ? `teal ${j.sparsity}` : "dense"}`,
    }));
  },
  async runCell(cell, ctx): Promise<Partial<CellResult>> {
    const gpu = await acquireGpu();
    const job = jobs(gpu, ctx.quick).find((j) => keyOf(j) === cell.key);
    if (!job) throw new Error(`Unknown decode cell ${cell.key}`);
    return await measure(job, ctx);
  },
});
