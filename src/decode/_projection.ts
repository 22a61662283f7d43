/**
 * One projection of a decoder block (q/k/v, o, up/gate or down) as dispatches: the dense GEMV over
 * row-major weights, or the input-sparse GEMV over transposed weights with its rule's threshold
 * (a constant, or a threshold kernel just before), with the norm fused around it where the
 * decoder asks. The one place that chooses a projection's kernel.
 *
 * @module
 */

import type { Dispatch } from "../../kernels/host.ts";
import { createGemv } from "../../kernels/gemv.ts";
import type { GemvTuning } from "../../kernels/tuning.ts";
import { createSkipGemv, type SkipGemvTuning, type SkipRule } from "../../kernels/skip_gemv.ts";
import { createThreshold } from "../../kernels/threshold.ts";
import type { GpuLinear, GpuNorm } from "./weights.ts";
import { type DecoderSpec, hasConstantThreshold, type ProjectionRule } from "./spec.ts";

/** What every projection of one decoder shares. */
export interface ProjectionContext {
  /** The device. */
  device: GPUDevice;
  /** The model. */
  spec: DecoderSpec;
  /** The residual stream [d] (f32), which fused residual projections add into. */
  stream: GPUBuffer;
  /** Thresholds on the GPU, one f32 per slot. */
  thresholds: GPUBuffer;
  /** Their host copy: a constant threshold is written at its slot (uploaded by the caller). */
  thresholdsHost: Float32Array;
  /** Kept-input counters, one u32 per slot. */
  counts: GPUBuffer;
  /** Dense GEMV launch shape. */
  gemvTuning: Partial<GemvTuning>;
  /** Threads of the one-workgroup threshold kernels. */
  workgroupSize: number;
  /** Whether the adapter is a CPU (one threshold copy instead of eight). */
  cpu: boolean;
  /** The dense projections' kernel (`skip`: the input-sparse GEMV keeping every row). */
  denseKernel?: "gemv" | "skip";
}

/** The norm fused around a projection's GEMV. */
export interface FusedNorm {
  /** The norm the GEMV applies to the stream it reads. */
  normIn?: GpuNorm;
  /** Σx² per tile of that stream, where the GEMV that wrote it left them. */
  sumsq?: { buffer: GPUBuffer; tiles: number };
  /** The output is added, with this bias, into the stream. */
  residual?: { bias: GPUBuffer };
}

/** A projection ready to dispatch. */
export interface Projection {
  /** Its dispatches, in order (a threshold kernel, then the GEMV). */
  dispatches: Dispatch[];
  /** The output: y [n], split-K partials [splits, n], or the stream (residual). */
  out: GPUBuffer;
  /** Rows of `out` that the reader sums (1 for y or the stream). */
  splits: number;
  /** The kernel chosen. */
  kind: "gemv" | "skip_gemv";
  /** With a fused residual over the whole stream: its per-tile Σx² for the next fused norm. */
  sumsq?: { buffer: GPUBuffer; tiles: number };
}

/**
 * Whether a projection runs the dense GEMV: its rule is dense, it has row-major weights, and the
 * decoder does not ask for the input-sparse kernel for dense projections.
 *
 * @param rule The projection's rule.
 * @param lin Its weights.
 * @param options The decoder's dense kernel.
 * @returns True for the dense GEMV.
 */
export function usesDenseGemv(
  rule: ProjectionRule | undefined,
  lin: GpuLinear,
  options: { denseKernel?: "gemv" | "skip" } = {},
): boolean {
  return (!rule || rule.kind === "dense") && lin.row !== undefined &&
    options.denseKernel !== "skip";
}

/**
 * Creates one projection's dispatches.
 *
 * @param ctx What the decoder's projections share.
 * @param options Label, weights, input, rule, threshold slot, sparse launch shape, fused norm.
 * @returns The projection.
 * @throws {Error} When the rule needs a layout the weights lack, or cannot take a fused norm.
 */
export async function createProjection(
  ctx: ProjectionContext,
  options: FusedNorm & {
    name: string;
    lin: GpuLinear;
    input: GPUBuffer;
    rule: ProjectionRule | undefined;
    slot: number;
    tuning: SkipGemvTuning;
  },
): Promise<Projection> {
  const { device, spec, thresholds, counts, cpu } = ctx;
  const { name, lin, input, rule, slot, tuning } = options;
  const x = ctx.stream;
  const wg = ctx.workgroupSize;
  const fused: FusedNorm = options;
  const gemvTuning = ctx.gemvTuning;
  if (usesDenseGemv(rule, lin, ctx)) {
    const g = await createGemv(device, {
      label: name,
      rows: lin.n,
      cols: lin.k,
      weight: new Float32Array(0),
      weightBuffer: lin.row!,
      precision: lin.dtype,
      input,
      ...(fused.normIn ? { normIn: { eps: spec.eps } } : {}),
      ...(fused.residual ? { residual: { into: x }, biasBuffer: fused.residual.bias } : {}),
      ...gemvTuning,
    });
    return {
      dispatches: [g.dispatch],
      out: g.y,
      splits: 1,
      kind: "gemv",
    };
  }
  if (fused.normIn && !hasConstantThreshold(rule)) {
    throw new Error(
      `${name}: a fused norm needs a constant threshold, not the ${rule!.kind} rule`,
    );
  }
  if (!lin.transposed) {
    throw new Error(
      `${name}: the plan makes its input sparse but the weights were built without the transposed layout`,
    );
  }
  const pre: Dispatch[] = [];
  let skip: SkipRule = { kind: "magnitude" };
  let t = -1;
  const r = rule ?? { kind: "dense" as const };
  switch (r.kind) {
    case "dense":
      break;
    case "magnitude":
      skip = { kind: "magnitude", ...(r.scale ? { scale: r.scale } : {}) };
      t = r.threshold;
      break;
    case "value":
      skip = { kind: "value" };
      t = r.threshold;
      break;
    case "gate":
      // glu zeroed the gated-off neurons; skip exactly those zeros.
      t = 0;
      break;
    case "fraction":
      skip = { kind: "magnitude", ...(r.scale ? { scale: r.scale } : {}) };
      pre.push(
        await createThreshold(device, {
          label: name,
          n: lin.k,
          rule: {
            kind: "fraction",
            drop: Math.round(r.sparsity * lin.k),
            ...(r.scale ? { scale: r.scale } : {}),
          },
          x: input,
          thresholds,
          slot,
          workgroupSize: wg,
          copies: cpu ? 1 : 8,
        }),
      );
      break;
    case "predicted":
      throw new Error(`${name}: the predicted rule belongs on up (it runs the whole FFN)`);
    case "stat-topk":
      skip = { kind: "value" };
      pre.push(
        await createThreshold(device, {
          label: name,
          n: lin.k,
          rule: { kind: "stat", z: r.z },
          x: input,
          thresholds,
          slot,
          workgroupSize: wg,
          copies: cpu ? 1 : 8,
        }),
      );
      break;
  }
  ctx.thresholdsHost[slot] = t;
  const g = await createSkipGemv(device, {
    label: name,
    k: lin.k,
    n: lin.n,
    dtype: lin.dtype,
    weightT: lin.transposed,
    x: input,
    rule: skip,
    thresholds,
    slot,
    counts,
    ...tuning,
    ...(fused.normIn
      ? {
        normIn: {
          eps: spec.eps,
          gain: fused.normIn.w,
          ...(fused.sumsq ? { sumsq: fused.sumsq } : {}),
        },
      }
      : {}),
    ...(fused.residual ? { residual: { into: x, bias: fused.residual.bias } } : {}),
  });
  return {
    dispatches: [...pre, g.dispatch],
    out: fused.residual ? x : g.partials,
    splits: fused.residual ? 1 : g.splits,
    ...(g.sumsq && lin.n === spec.d ? { sumsq: g.sumsq } : {}),
    kind: "skip_gemv",
  };
}
