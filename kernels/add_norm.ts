/**
 * Residual add + RMSNorm or LayerNorm of one vector (`add_norm.wgsl`), with its CPU reference.
 *
 * @module
 */

import source from "./add_norm.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  packUniform,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";

/** Normalisation kinds. */
export type NormKind = "rms" | "layer";

/**
 * CPU reference: x += Σ_s addend[s] + abias (in place, when given), returns norm(x).
 *
 * @param x Residual stream (updated in place when an addend is given).
 * @param options Norm kind, weights, eps and the optional addend.
 * @returns The normalised vector.
 */
export function addNormCpu(
  x: Float32Array,
  options: {
    kind: NormKind;
    weight: Float32Array;
    bias?: Float32Array;
    eps: number;
    addend?: Float32Array;
    splits?: number;
    addendBias?: Float32Array;
  },
): Float32Array {
  const n = x.length;
  if (options.addend) {
    const splits = options.splits ?? 1;
    for (let j = 0; j < n; j++) {
      let a = options.addendBias?.[j] ?? 0;
      for (let s = 0; s < splits; s++) a += options.addend[s * n + j]!;
      x[j] = Math.fround(x[j]! + a);
    }
  }
  let mean = 0;
  if (options.kind === "layer") {
    for (let j = 0; j < n; j++) mean += x[j]!;
    mean /= n;
  }
  let s2 = 0;
  for (let j = 0; j < n; j++) s2 += (x[j]! - mean) ** 2;
  const rstd = 1 / Math.sqrt(s2 / n + options.eps);
  return Float32Array.from(
    x,
    (v, j) =>
      (v - mean) * rstd * options.weight[j]! +
      (options.kind === "layer" ? options.bias?.[j] ?? 0 : 0),
  );
}

/** Options of {@linkcode createAddNorm}. */
export interface AddNormOptions {
  /** Label. */
  label: string;
  /** Vector length. */
  n: number;
  /** Norm kind. */
  kind: NormKind;
  /** Epsilon. */
  eps: number;
  /** Residual stream, read and written. */
  x: GPUBuffer;
  /** Norm weight [n]. */
  weight: GPUBuffer;
  /** Norm bias [n] (LayerNorm). */
  bias?: GPUBuffer;
  /** Split-K partials [splits, n] to add to x first (absent: normalise x as it is). */
  addend?: GPUBuffer;
  /** Number of partial rows in `addend` (default 1). */
  splits?: number;
  /** Bias of the projection that produced the addend [n]. */
  addendBias?: GPUBuffer;
  /** Output buffer (a new one when absent). */
  out?: GPUBuffer;
  /** Threads (default 256). */
  workgroupSize?: number;
  /**
   * Rows of a token sequence (prefill): a workgroup per row, x, h and the addend's [splits, n]
   * blocks row after row; default one.
   */
  rows?: number;
}

/**
 * Creates an add + norm step.
 *
 * @param device The device.
 * @param options Shape, kind and buffers.
 * @returns The dispatch and its output buffer.
 */
export async function createAddNorm(
  device: GPUDevice,
  options: AddNormOptions,
): Promise<{ dispatch: Dispatch; h: GPUBuffer }> {
  const pipeline = await createPipeline(device, {
    label: `${options.label} add_norm`,
    code: source,
    constants: {
      WG: options.workgroupSize ?? 256,
      LAYER: options.kind === "layer" ? 1 : 0,
      ADD: options.addend ? 1 : 0,
      SEQ: (options.rows ?? 1) > 1 ? 1 : 0,
    },
  });
  const rows = options.rows ?? 1;
  const zero = () => storageBuffer(device, `${options.label} zeros`, options.n * 4);
  const h = options.out ?? storageBuffer(device, `${options.label} h`, rows * options.n * 4);
  const params = uniformBuffer(
    device,
    `${options.label} params`,
    packUniform([
      { u32: options.n },
      { u32: options.splits ?? 1 },
      { f32: options.eps },
      { u32: 0 },
    ]),
  );
  const bindGroup = bindAll(device, pipeline, options.label, [
    options.x,
    options.addend ?? zero(),
    options.addendBias ?? zero(),
    options.weight,
    options.bias ?? zero(),
    h,
    params,
  ]);
  return { dispatch: { pipeline, bindGroup, workgroups: [1, rows, 1] }, h };
}
