/**
 * Residual add and LayerNorm over a token sequence, optionally keeping only listed tokens (token
 * pruning): host for `seq_norm.wgsl` and the CPU reference.
 *
 * @module
 */

import seqNormSource from "./seq_norm.wgsl" with { type: "text" };
import type { TokenDispatch } from "./seq_attention.ts";
import { bindAll, createPipeline, packUniform, storageBuffer, uniformBuffer } from "./host.ts";

/** What one sequence norm computes. */
export interface SeqNormShape {
  /** Output rows (tokens after the optional gather). */
  rows: number;
  /** Width of a row. */
  width: number;
  /** LayerNorm epsilon. */
  eps: number;
}

/**
 * CPU reference: x_out[r] = x_in[src] + addend[src] (src = rows[r], or r), h[r] = LayerNorm(x_out[r]).
 *
 * @param xIn Residual stream in, [tokens, width].
 * @param shape Rows out, width, epsilon.
 * @param options LayerNorm weight and bias, the addend, the kept rows.
 * @returns The residual stream out and the normalised rows.
 */
export function seqNormCpu(
  xIn: Float32Array,
  shape: SeqNormShape,
  options: { weight: Float32Array; bias: Float32Array; addend?: Float32Array; rows?: Uint32Array },
): { xOut: Float32Array; h: Float32Array } {
  const n = shape.width;
  const xOut = new Float32Array(shape.rows * n);
  const h = new Float32Array(shape.rows * n);
  for (let r = 0; r < shape.rows; r++) {
    const src = options.rows ? options.rows[r]! : r;
    for (let j = 0; j < n; j++) {
      xOut[r * n + j] = xIn[src * n + j]! + (options.addend?.[src * n + j] ?? 0);
    }
    let mean = 0;
    for (let j = 0; j < n; j++) mean += xOut[r * n + j]!;
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) v += (xOut[r * n + j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / n + shape.eps);
    for (let j = 0; j < n; j++) {
      h[r * n + j] = (xOut[r * n + j]! - mean) * rstd * options.weight[j]! + options.bias[j]!;
    }
  }
  return { xOut, h };
}

/**
 * Creates a sequence norm over existing buffers (x_in and x_out must differ).
 *
 * @param device The device.
 * @param options Label, shape, LayerNorm weight and bias, and the buffers: `xIn`, `xOut`, `h`,
 *   optional `addend` (same layout as `xIn`) and `keep` (u32 indices of the kept tokens).
 * @returns The dispatch (one workgroup per output row; `setTokens` changes the rows).
 */
export async function createSeqNorm(
  device: GPUDevice,
  options: SeqNormShape & {
    label: string;
    weight: Float32Array;
    bias: Float32Array;
    xIn: GPUBuffer;
    xOut: GPUBuffer;
    h: GPUBuffer;
    addend?: GPUBuffer;
    keep?: GPUBuffer;
  },
): Promise<TokenDispatch> {
  const pipeline = await createPipeline(device, {
    label: `${options.label} seq-norm`,
    code: seqNormSource,
    constants: { ADD: options.addend ? 1 : 0, GATHER: options.keep ? 1 : 0 },
  });
  const unused = (what: string) => storageBuffer(device, `${options.label} ${what} (unused)`, 4);
  const words = (rows: number) =>
    packUniform([{ u32: rows }, { u32: options.width }, { f32: options.eps }, { u32: 0 }]);
  const dims = uniformBuffer(device, `${options.label} norm dims`, words(options.rows));
  const made = options.rows;
  const dispatch: TokenDispatch = {
    pipeline,
    bindGroup: bindAll(device, pipeline, `${options.label} norm`, [
      options.xIn,
      options.addend ?? unused("addend"),
      options.keep ?? unused("rows"),
      storageBuffer(device, `${options.label} norm w`, options.weight),
      storageBuffer(device, `${options.label} norm b`, options.bias),
      options.xOut,
      options.h,
      dims,
    ]),
    workgroups: [Math.max(1, options.rows), 1, 1],
    setTokens(rows) {
      if (!(rows >= 1 && rows <= made)) {
        throw new RangeError(`${options.label}: ${rows} rows (want 1 to ${made})`);
      }
      device.queue.writeBuffer(dims, 0, words(rows));
      dispatch.workgroups[0] = rows;
    },
  };
  return dispatch;
}
