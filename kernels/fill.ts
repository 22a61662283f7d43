/**
 * Seeded random fills made on the GPU (`fill.wgsl`), for speed-only models whose weights are too
 * large to pass through the host, with the CPU reference of the same values.
 *
 * @module
 */

import fillSource from "./fill.wgsl" with { type: "text" };
import { bindAll, createPipeline, grid, packUniform, uniformBuffer } from "./host.ts";

/** What to fill: a logical [rows, cols] matrix (a vector is one row). */
export interface FillSpec {
  /** Rows of the logical matrix. */
  rows: number;
  /** Columns of the logical matrix. */
  cols: number;
  /** Seed. */
  seed: number;
  /** Half-width of the uniform distribution. */
  scale: number;
  /** Added to every value (1 with scale 0 gives a norm weight of ones). */
  offset?: number;
  /** Store as [cols, rows] (the transposed layout the input-sparse GEMVs read). */
  transposed?: boolean;
  /** Storage precision: f32, or f16 packed two per 32-bit word. */
  dtype?: "f32" | "f16";
}

function hash(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * CPU reference: the stored values (f16 ones rounded as the GPU packs them).
 *
 * @param spec What to fill.
 * @returns The values in storage order.
 */
export function fillCpu(spec: FillSpec): Float32Array {
  const n = spec.rows * spec.cols;
  const out = new Float32Array(n);
  const hs = hash(spec.seed);
  for (let i = 0; i < n; i++) {
    const logical = spec.transposed ? (i % spec.rows) * spec.cols + Math.floor(i / spec.rows) : i;
    const u = Math.fround((hash((logical ^ hs) >>> 0) >>> 8) * (2 / 16777216) - 1);
    out[i] = Math.fround((spec.offset ?? 0) + Math.fround(spec.scale * u));
  }
  return spec.dtype === "f16" ? Float32Array.from(new Float16Array(out)) : out;
}

/**
 * Bytes a fill of this spec occupies.
 *
 * @param spec What to fill.
 * @returns Bytes (f16: 2 per element, rounded up to whole words).
 */
export function fillBytes(spec: Pick<FillSpec, "rows" | "cols" | "dtype">): number {
  const n = spec.rows * spec.cols;
  return spec.dtype === "f16" ? Math.ceil(n / 2) * 4 : n * 4;
}

/**
 * Fills a buffer on the GPU (submitted, not awaited).
 *
 * @param device The device.
 * @param buffer A storage buffer of at least {@linkcode fillBytes} bytes.
 * @param spec What to fill.
 */
export async function fillRandom(
  device: GPUDevice,
  buffer: GPUBuffer,
  spec: FillSpec,
): Promise<void> {
  const f16 = spec.dtype === "f16";
  const words = fillBytes(spec) / 4;
  if (!Number.isSafeInteger(spec.rows * spec.cols) || spec.rows * spec.cols >= 2 ** 32) {
    throw new RangeError(`fill: ${spec.rows}x${spec.cols} has more than 2^32 elements`);
  }
  const pipeline = await createPipeline(device, {
    label: "fill",
    code: fillSource,
    constants: { F16: f16 ? 1 : 0, TRANSPOSED: spec.transposed ? 1 : 0 },
  });
  const params = uniformBuffer(
    device,
    "fill params",
    packUniform([
      { u32: words },
      { u32: spec.seed >>> 0 },
      { u32: spec.rows },
      { u32: spec.cols },
      { f32: spec.scale },
      { f32: spec.offset ?? 0 },
      { u32: 0 },
      { u32: 0 },
    ]),
  );
  const encoder = device.createCommandEncoder({ label: "fill" });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindAll(device, pipeline, "fill", [buffer, params]));
  pass.dispatchWorkgroups(...grid(Math.ceil(words / 256)));
  pass.end();
  device.queue.submit([encoder.finish()]);
  params.destroy();
}
