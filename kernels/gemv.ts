/**
 * Dense GEMV, y = act(W x + b): host for `gemv.wgsl` with f32 weights (`gemv_weights_f32.wgsl`)
 * or f16 weights (`gemv_weights_f16.wgsl`, half the bytes, when the adapter has `shader-f16`),
 * plus the CPU reference. For decoding, RMSNorm can be fused around it: the input read raw with
 * the norm's weight folded into W (`kernels/scale_columns.ts`) and each dot scaled by the input's
 * 1/rms (`normIn`), and the output added into the residual stream (`residual`).
 *
 * @module
 */

import gemvSource from "./gemv.wgsl" with { type: "text" };
import weightsF32Source from "./gemv_weights_f32.wgsl" with { type: "text" };
import weightsF16Source from "./gemv_weights_f16.wgsl" with { type: "text" };
import {
  bindAll,
  createPipeline,
  type Dispatch,
  grid,
  packUniform,
  readBuffer,
  storageBuffer,
  uniformBuffer,
} from "./host.ts";
import { ACT_CODE, activateCpu, type Activation, withActivation } from "./activation.ts";
import type { GemvTuning } from "./tuning.ts";

/**
 * CPU reference: y = act(W x + b), W row-major [rows, cols], accumulated in double.
 *
 * @param w Weights.
 * @param x Input.
 * @param options Shape, bias, activation.
 * @returns y.
 */
export function gemvCpu(
  w: Float32Array,
  x: Float32Array,
  options: { rows: number; cols: number; bias?: Float32Array; act?: Activation },
): Float32Array {
  const y = new Float32Array(options.rows);
  for (let r = 0; r < options.rows; r++) {
    let s = 0;
    const off = r * options.cols;
    for (let c = 0; c < options.cols; c++) s += w[off + c]! * x[c]!;
    y[r] = activateCpu(options.act ?? "none", s + (options.bias?.[r] ?? 0));
  }
  return y;
}

/**
 * CPU reference of RMSNorm's scale: 1 / sqrt(mean(x²) + eps), accumulated in double.
 *
 * @param x The vector.
 * @param eps Epsilon.
 * @returns rstd.
 */
export function rmsScaleCpu(x: Float32Array, eps: number): number {
  let s = 0;
  for (const v of x) s += v * v;
  return 1 / Math.sqrt(s / x.length + eps);
}

/** Options of a dense GEMV instance; the launch shape defaults to 64 threads per row, 4 rows. */
export interface GemvOptions extends Partial<GemvTuning> {
  /** Label for GPU objects. */
  label: string;
  /** Output rows. */
  rows: number;
  /** Input columns. */
  cols: number;
  /** Weights [rows, cols] row-major. */
  weight: Float32Array;
  /** Bias [rows]. */
  bias?: Float32Array;
  /** Fused activation. */
  act?: Activation;
  /** Weight precision (f16 needs the shader-f16 feature). */
  precision?: "f32" | "f16";
  /**
   * A weight buffer made earlier by {@linkcode gemvWeightBuffer} for the same shape and
   * precision, so that tuning sweeps do not upload the weights again.
   */
  weightBuffer?: GPUBuffer;
  /** Input buffer to read instead of a new one (chaining kernels). */
  input?: GPUBuffer;
  /** Bias buffer [rows] to read instead of uploading `bias`. */
  biasBuffer?: GPUBuffer;
  /**
   * RMSNorm of the input fused in: each dot is multiplied by 1 / sqrt(mean(x²) + eps) of the
   * input, summed in the same loop. The norm's weight must already be folded into W's columns.
   */
  normIn?: { eps: number };
  /** Add the result into `into` (the residual stream, [rows]) instead of writing y. */
  residual?: { into: GPUBuffer };
}

/** A dense GEMV ready to dispatch. */
export interface GemvInstance {
  /** The dispatch. */
  dispatch: Dispatch;
  /** Input buffer (cols padded to a multiple of 4). */
  x: GPUBuffer;
  /** Output buffer [rows] (the residual stream with `residual`). */
  y: GPUBuffer;
  /** Bytes of weights read per run. */
  weightBytes: number;
  /** Writes the input vector. */
  writeInput(x: Float32Array): void;
  /** Reads the output. */
  read(): Promise<Float32Array>;
}

/**
 * Rounds weights to f16 and back, for the f16 kernel's CPU reference.
 *
 * @param w Weights.
 * @returns Weights as f16 would store them.
 */
export function roundToHalf(w: Float32Array): Float32Array {
  return Float32Array.from(new Float16Array(w));
}

/**
 * Pads each row of a row-major matrix to a multiple of 4 columns with zeros.
 *
 * @param m Matrix.
 * @param rows Rows.
 * @param cols Columns.
 * @returns The padded matrix and its column count.
 */
export function padColumns(
  m: Float32Array,
  rows: number,
  cols: number,
): { data: Float32Array; cols: number } {
  const padded = Math.ceil(cols / 4) * 4;
  if (padded === cols) return { data: m, cols };
  const out = new Float32Array(rows * padded);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols, (r + 1) * cols), r * padded);
  return { data: out, cols: padded };
}

/**
 * Uploads a GEMV's weights (columns padded to a multiple of 4; f16 when asked).
 *
 * @param device The device.
 * @param options Label, shape, weights and precision.
 * @returns The buffer, for {@linkcode GemvOptions.weightBuffer}.
 */
export function gemvWeightBuffer(
  device: GPUDevice,
  options: Pick<GemvOptions, "label" | "rows" | "cols" | "weight" | "precision">,
): GPUBuffer {
  const { data } = padColumns(options.weight, options.rows, options.cols);
  // Float16Array rounds to nearest even, as the GPU's f16 does; its bytes are the f16 weights.
  return options.precision === "f16"
    ? storageBuffer(device, `${options.label} W (f16)`, new Float16Array(data))
    : storageBuffer(device, `${options.label} W`, data);
}

/**
 * Creates a dense GEMV on the device.
 *
 * @param device The device.
 * @param options Shape, weights and tuning.
 * @returns The instance.
 */
export async function createGemv(device: GPUDevice, options: GemvOptions): Promise<GemvInstance> {
  const rowsPerWg = options.rowsPerWorkgroup ?? 4;
  const tx = options.threadsPerRow ?? 64;
  const rpt = options.rowsPerThread ?? 1;
  const unroll = options.unroll ?? 2;
  const ty = rowsPerWg / rpt;
  if (
    (tx & (tx - 1)) !== 0 || ![1, 2, 4].includes(rpt) || !Number.isInteger(ty) ||
    tx * ty > 512 || ![2, 4].includes(unroll)
  ) {
    throw new RangeError(
      `gemv ${options.label}: threadsPerRow must be a power of two, rowsPerThread 1, 2 or 4 dividing rowsPerWorkgroup, threads per workgroup ≤ 512, unroll 2 or 4`,
    );
  }
  const cols = Math.ceil(options.cols / 4) * 4;
  const f16 = options.precision === "f16";
  const wBuf = options.weightBuffer ?? gemvWeightBuffer(device, options);
  const x = options.input ?? storageBuffer(device, `${options.label} x`, cols * 4);
  if (options.residual && options.act && options.act !== "none") {
    throw new RangeError(`gemv ${options.label}: a residual GEMV takes no activation`);
  }
  const bias = options.biasBuffer ??
    storageBuffer(device, `${options.label} b`, options.bias ?? new Float32Array(1));
  const hasBias = options.bias !== undefined || options.biasBuffer !== undefined;
  const y = options.residual?.into ?? storageBuffer(device, `${options.label} y`, options.rows * 4);
  if (options.normIn && cols !== options.cols) {
    throw new RangeError(`gemv ${options.label}: a fused norm needs columns a multiple of 4`);
  }
  const workgroups = grid(Math.ceil(options.rows / rowsPerWg));
  const dims = uniformBuffer(
    device,
    `${options.label} dims`,
    packUniform([
      { u32: options.rows },
      { u32: cols },
      { u32: hasBias ? 1 : 0 },
      { f32: options.normIn?.eps ?? 0 },
    ]),
  );
  const pipeline = await createPipeline(device, {
    label: `${options.label} gemv${f16 ? "_f16" : ""}`,
    code: withActivation(gemvSource, f16 ? weightsF16Source : weightsF32Source),
    constants: {
      TX: tx,
      TY: ty,
      RPT: rpt,
      UNROLL: unroll,
      STAGGER: options.stagger ? 1 : 0,
      ACT: ACT_CODE[options.act ?? "none"],
      NORM_IN: options.normIn ? 1 : 0,
      RESID: options.residual ? 1 : 0,
    },
  });
  const bindGroup = bindAll(device, pipeline, options.label, [wBuf, x, bias, y, dims]);
  return {
    dispatch: { pipeline, bindGroup, workgroups },
    x,
    y,
    weightBytes: options.rows * options.cols * (f16 ? 2 : 4),
    writeInput(v: Float32Array) {
      const padded = new Float32Array(cols);
      padded.set(v.subarray(0, options.cols));
      device.queue.writeBuffer(x, 0, padded);
    },
    async read() {
      return new Float32Array(await readBuffer(device, y, options.rows * 4));
    },
  };
}
