/**
 * Scales the columns of a row-major weight in place (`scale_columns.wgsl`), with its CPU
 * reference: how an RMSNorm's weight is folded into the dense GEMV that reads the norm.
 *
 * @module
 */

import source from "./scale_columns.wgsl" with { type: "text" };
import { bindAll, createPipeline, grid, packUniform, runOnce, uniformBuffer } from "./host.ts";

/**
 * CPU reference: W[r][c] · s[c], with the product rounded to f16 when the weight is f16.
 *
 * @param w Row-major weight [rows, cols].
 * @param s Column scales [cols].
 * @param options The weight's precision.
 * @returns The scaled weight.
 */
export function scaleColumnsCpu(
  w: Float32Array,
  s: Float32Array,
  options: { dtype: "f32" | "f16" },
): Float32Array {
  const out = w.map((v, i) => v * s[i % s.length]!);
  return options.dtype === "f16" ? Float32Array.from(new Float16Array(out)) : out;
}

/**
 * Multiplies column c of a row-major weight buffer by s[c], in place, and waits.
 *
 * @param device The device.
 * @param weight The weight buffer ([rows, cols], f32 or f16 as the dense GEMV stores it).
 * @param options Shape (cols a multiple of 4), precision, the scales and a label.
 */
export async function scaleColumns(
  device: GPUDevice,
  weight: GPUBuffer,
  options: { label: string; rows: number; cols: number; dtype: "f32" | "f16"; scale: GPUBuffer },
): Promise<void> {
  if (options.cols % 4 !== 0) {
    throw new RangeError(`${options.label}: columns (${options.cols}) must be a multiple of 4`);
  }
  const f16 = options.dtype === "f16";
  const words = options.rows * options.cols / (f16 ? 2 : 1);
  const pipeline = await createPipeline(device, {
    label: `${options.label} scale columns`,
    code: source,
    constants: { WG: 256, F16: f16 ? 1 : 0 },
  });
  const params = uniformBuffer(
    device,
    `${options.label} scale columns params`,
    packUniform([{ u32: words }, { u32: options.cols }, { u32: 0 }, { u32: 0 }]),
  );
  const bindGroup = bindAll(device, pipeline, `${options.label} scale columns`, [
    weight,
    options.scale,
    params,
  ]);
  await runOnce(device, [{ pipeline, bindGroup, workgroups: grid(Math.ceil(words / 256)) }]);
  params.destroy();
}
